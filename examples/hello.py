name = "world"
print(f"Hello, {name}!")
