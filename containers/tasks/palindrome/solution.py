word = input().strip()
if word == word[::-1]:
    print("YES")
else:
    print("NO")
