#include <iostream>
#include <vector>
using namespace std;

int main() {
    int n;
    cin >> n;
    vector<long long> numbers(n);
    for (long long& value : numbers) {
        cin >> value;
    }
    long long x;
    cin >> x;
    int count = 0;
    for (long long value : numbers) {
        if (value == x) {
            count++;
        }
    }
    cout << count << "\n";
    return 0;
}
