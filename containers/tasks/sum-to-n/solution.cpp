#include <iostream>
using namespace std;

int main() {
    int n;
    cin >> n;
    long long total = 0;
    for (int i = 1; i <= n; i++) {
        total += i;
    }
    cout << total << "\n";
    return 0;
}
