#include <iomanip>
#include <iostream>
#include <vector>
using namespace std;

double average(const vector<int>& numbers) {
    long long sum = 0;
    for (int x : numbers) {
        sum += x;
    }
    return static_cast<double>(sum) / numbers.size();
}

int main() {
    int n;
    cin >> n;
    vector<int> numbers(n);
    for (int& x : numbers) {
        cin >> x;
    }
    cout << fixed << setprecision(2) << average(numbers) << "\n";
    return 0;
}
