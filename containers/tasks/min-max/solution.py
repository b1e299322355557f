n = int(input())
numbers = list(map(int, input().split()))
smallest = numbers[0]
largest = numbers[0]
for x in numbers:
    if x < smallest:
        smallest = x
    if x > largest:
        largest = x
print(smallest, largest)
