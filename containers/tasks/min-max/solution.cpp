#include <iostream>
#include <vector>
using namespace std;

int main() {
    int n;
    cin >> n;
    vector<long long> numbers(n);
    for (long long& x : numbers) {
        cin >> x;
    }
    long long smallest = numbers[0];
    long long largest = numbers[0];
    for (long long x : numbers) {
        if (x < smallest) {
            smallest = x;
        }
        if (x > largest) {
            largest = x;
        }
    }
    cout << smallest << " " << largest << "\n";
    return 0;
}
