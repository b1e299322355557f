def average(numbers):
    return sum(numbers) / len(numbers)


n = int(input())
numbers = list(map(int, input().split()))
print(f"{average(numbers):.2f}")
