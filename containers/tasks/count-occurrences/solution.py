n = int(input())
numbers = list(map(int, input().split()))
x = int(input())
count = 0
for value in numbers:
    if value == x:
        count += 1
print(count)
