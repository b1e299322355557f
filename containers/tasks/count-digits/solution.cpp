#include <iostream>
using namespace std;

int main() {
    long long n;
    cin >> n;
    if (n < 0) {
        n = -n;
    }
    int count = 1;
    while (n >= 10) {
        n /= 10;
        count++;
    }
    cout << count << "\n";
    return 0;
}
