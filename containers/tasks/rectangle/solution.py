a, b = map(int, input().split())
print(a * b)
print(2 * (a + b))
