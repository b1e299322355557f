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
    long long largest = numbers[0];
    for (long long x : numbers) {
        if (x > largest) {
            largest = x;
        }
    }
    bool found = false;
    long long second = 0;
    for (long long x : numbers) {
        if (x < largest && (!found || x > second)) {
            second = x;
            found = true;
        }
    }
    cout << second << "\n";
    return 0;
}
