n = int(input())
numbers = list(map(int, input().split()))
largest = max(numbers)
second = None
for x in numbers:
    if x < largest and (second is None or x > second):
        second = x
print(second)
