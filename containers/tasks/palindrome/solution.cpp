#include <iostream>
#include <string>
using namespace std;

int main() {
    string word;
    cin >> word;
    bool palindrome = true;
    int n = word.size();
    for (int i = 0; i < n / 2; i++) {
        if (word[i] != word[n - 1 - i]) {
            palindrome = false;
            break;
        }
    }
    cout << (palindrome ? "YES" : "NO") << "\n";
    return 0;
}
