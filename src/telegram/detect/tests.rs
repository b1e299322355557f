//! The detector against real beginner snippets in every language the product runs, chat text
//! that must not become a check, and broken programs that must still be programs.

use super::*;

/// (language pack, a beginner's program in it).
const PROGRAMS: &[(&str, &str)] = &[
    ("python", "name = input()\nprint('Hello, ' + name)"),
    ("python", "for i in range(10):\n    if i % 2 == 0:\n        print(i)"),
    ("python", "def square(x):\n    return x * x\n\nprint(square(5))"),
    ("python", "#!/usr/bin/env python3\nimport sys\nprint(sys.argv)"),
    ("python", "a = int(input())\nb = int(input())\nprint(a + b)"),
    ("c", "#include <stdio.h>\n\nint main() {\n    int a, b;\n    scanf(\"%d %d\", &a, &b);\n    printf(\"%d\\n\", a + b);\n    return 0;\n}"),
    ("c", "#include <stdio.h>\nint main(void)\n{\n  printf(\"Hello world\");\n}"),
    ("cpp", "#include <iostream>\nusing namespace std;\n\nint main() {\n    int n;\n    cin >> n;\n    cout << n * 2 << endl;\n}"),
    ("cpp", "#include <bits/stdc++.h>\nint main() {\n    std::vector<int> v = {3, 1, 2};\n    std::sort(v.begin(), v.end());\n    printf(\"%d\\n\", v[0]);\n}"),
    ("java", "public class Main {\n    public static void main(String[] args) {\n        System.out.println(\"Hello\");\n    }\n}"),
    ("java", "import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner sc = new Scanner(System.in);\n        int n = sc.nextInt();\n        System.out.println(n * n);\n    }\n}"),
    ("csharp", "using System;\n\nclass Program\n{\n    static void Main(string[] args)\n    {\n        Console.WriteLine(\"Привет\");\n    }\n}"),
    ("csharp", "int x = int.Parse(Console.ReadLine());\nConsole.WriteLine(x + 1);"),
    ("go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n    fmt.Println(\"hi\")\n}"),
    ("go", "package main\nimport \"fmt\"\nfunc main() {\n\tvar n int\n\tfmt.Scan(&n)\n\tfmt.Println(n * 2)\n}"),
    ("rust", "fn main() {\n    let mut total = 0;\n    for i in 1..=10 {\n        total += i;\n    }\n    println!(\"{}\", total);\n}"),
    ("rust", "fn main() {\n    println!(\"Hello, world!\");\n}"),
    ("javascript", "const name = 'Ann';\nconsole.log(`Hello, ${name}`);"),
    ("javascript", "function sum(a, b) {\n  return a + b;\n}\nconsole.log(sum(2, 3));"),
    ("javascript", "#!/usr/bin/env node\nconsole.log(process.argv.length)"),
    ("typescript", "let count: number = 5;\nconsole.log(count * 2);"),
    ("typescript", "function greet(name: string): string {\n  return 'Hi ' + name;\n}\nconsole.log(greet('Bob'));"),
    ("php", "<?php\n$name = \"World\";\necho \"Hello, $name!\\n\";"),
    ("php", "<?php\nfor ($i = 0; $i < 3; $i++) {\n    echo $i;\n}"),
    ("ruby", "puts \"Hello\"\nname = gets.chomp\nputs \"Hi, #{name}\""),
    ("ruby", "[1, 2, 3].each do |x|\n  puts x * 2\nend"),
    ("ruby", "def hello(name)\n  puts \"Hello #{name}\"\nend\n\nhello('Ann')"),
    ("bash", "#!/bin/bash\necho \"Hello\""),
    ("bash", "for i in 1 2 3; do\n  echo $i\ndone"),
    ("bash", "read -p \"Name: \" name\nif [ -z \"$name\" ]; then\n  echo empty\nfi"),
    ("pascal", "program Hello;\nbegin\n  writeln('Hello, world!');\nend."),
    ("pascal", "var a, b: integer;\nbegin\n  readln(a, b);\n  writeln(a + b);\nend."),
    ("sql", "CREATE TABLE users (id INTEGER, name TEXT);\nINSERT INTO users VALUES (1, 'Ann');\nSELECT * FROM users;"),
    ("sql", "select name, count(*) from orders group by name;"),
];

/// Chat that must never become a check.
const CHAT: &[&str] = &[
    "привет, как дела?",
    "Привет! Помоги, пожалуйста, у меня не работает программа",
    "что такое переменная?",
    "спасибо",
    "ок",
    "hello, how are you?",
    "Can you explain what a loop is?",
    "thanks a lot!",
    "Почему мой код выдаёт ошибку, если я всё сделал как в учебнике?",
    "I don't understand the homework (task 3), help me please",
    "42",
];

/// Broken beginner programs: still programs (the run explains the error).
const BROKEN: &[(&str, Option<&str>)] = &[
    ("print('hello'", Some("python")),
    ("for i in range(10)\n    print(i)", Some("python")),
    ("if x = 5:\n    print(x)", Some("python")),
    ("x = 10\ny = x +\nprint(y)", None),
    ("#include <stdio.h>\nint main() {\n    printf(\"hi\")\n}", Some("c")),
    ("public class Main {\n    public static void main(String[] args) {\n        System.out.println(\"x\")\n    }\n}", Some("java")),
];

#[test]
fn every_signal_pattern_compiles() {
    assert_eq!(COMPILED.len(), SIGNALS.len());
}

#[test]
fn beginner_programs_are_recognised_in_every_language() {
    let mut wrong = Vec::new();
    for (want, code) in PROGRAMS {
        let g = detect(code);
        if !g.is_code || g.language != Some(want) {
            wrong.push(format!("{want}: got {g:?} for\n{code}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    // Every language the product runs is in the table.
    let dirs = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/containers")).unwrap();
    for d in dirs.flatten() {
        if d.path().join("language.toml").exists() {
            let name = d.file_name().to_string_lossy().to_string();
            assert!(PROGRAMS.iter().any(|(l, _)| *l == name), "no snippet for {name}");
        }
    }
}

#[test]
fn chat_is_not_code() {
    for text in CHAT {
        let g = detect(text);
        assert!(!g.is_code, "{text:?} was taken for code: {g:?}");
    }
}

#[test]
fn broken_programs_are_still_programs() {
    for (code, language) in BROKEN {
        let g = detect(code);
        assert!(g.is_code, "{code:?} was taken for chat");
        if let Some(l) = language {
            assert_eq!(g.language, Some(*l), "{code:?}");
        }
    }
}

#[test]
fn a_short_statement_is_code_without_a_language_guess() {
    let g = detect("x = 5");
    assert!(g.is_code);
    assert_eq!(g.language, None, "too little to name a language");
}

#[test]
fn programs_that_read_input() {
    assert!(reads_input("c", "int n; scanf(\"%d\", &n);"));
    assert!(reads_input("cpp", "cin >> n;"));
    assert!(reads_input("python", "n = int(input())"));
    assert!(reads_input("java", "Scanner sc = new Scanner(System.in);"));
    assert!(reads_input("go", "fmt.Scan(&n)"));
    assert!(reads_input("pascal", "readln(a);"));
    assert!(!reads_input("c", "#include <stdio.h>\nint main() { printf(\"hi\"); }"));
    assert!(!reads_input("python", "print('hello')"));
}
