#include <cctype>
#include <iostream>
#include <string>
using namespace std;

int main() {
    string text;
    getline(cin, text);
    const string vowels = "aeiou";
    int count = 0;
    for (char ch : text) {
        char lower = tolower(static_cast<unsigned char>(ch));
        if (vowels.find(lower) != string::npos) {
            count++;
        }
    }
    cout << count << "\n";
    return 0;
}
