#include <iostream>
#include <sstream>
#include <string>
using namespace std;

int main() {
    string line;
    getline(cin, line);
    istringstream words(line);
    string word;
    int count = 0;
    while (words >> word) {
        count++;
    }
    cout << count << "\n";
    return 0;
}
