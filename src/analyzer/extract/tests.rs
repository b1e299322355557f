use super::*;

#[test]
fn python_report_wins_and_suggestions_are_kept_apart() {
    let stderr = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nNameError: name 'mesage' is not defined. Did you mean: 'message'?\n\u{2}DMERR {\"type\": \"NameError\", \"message\": \"name 'mesage' is not defined. Did you mean: 'message'?\", \"line\": 2, \"offset\": null}\n";
    let (clean, report) = split_python_report(stderr);
    assert!(!clean.contains("DMERR"));
    let e = extract(
        "python",
        &clean,
        report.as_deref(),
        "message = 1\nprint(mesage)\n",
        "main.py",
    )
    .unwrap();
    assert_eq!(e.error_type, "NameError");
    assert_eq!(e.message, "name 'mesage' is not defined");
    assert_eq!(e.suggestion.as_deref(), Some("message"));
    let (m, s) = split_suggestion("‘cout’ was not declared in this scope; did you mean ‘count’?");
    assert_eq!(
        (m.as_str(), s.as_deref()),
        ("‘cout’ was not declared in this scope", Some("count"))
    );
    let (m, s) = split_suggestion("name 'math' is not defined. Did you forget to import 'math'?");
    assert_eq!(
        (m.as_str(), s.as_deref()),
        ("name 'math' is not defined", Some("import 'math"))
    );
    assert_eq!(e.line, Some(2));
    assert_eq!(e.source_line.as_deref(), Some("print(mesage)"));
}

#[test]
fn python_text_fallback_handles_chains_warnings_and_library_frames() {
    let stderr = "/sandbox/main.py:1: SyntaxWarning: \"is\" with a literal. Did you mean \"==\"?\n\
Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 3, in <module>\n    d['x']\nKeyError: 'x'\n\n\
During handling of the above exception, another exception occurred:\n\n\
Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 5, in <module>\n    json.loads('{')\n  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads\n\
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
    let e = extract("python", stderr, None, "", "main.py").unwrap();
    assert_eq!(e.error_type, "JSONDecodeError");
    assert_eq!(e.line, Some(5), "the student's line, not the library's");
    assert_eq!(e.message, "Expecting value: line 1 column 1 (char 0)");
    let e = extract(
        "python",
        "  File \"/sandbox/main.py\", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n",
        None,
        "def f(:\n",
        "main.py",
    )
    .unwrap();
    assert_eq!((e.error_type.as_str(), e.line), ("SyntaxError", Some(1)));
    let e = extract(
        "python",
        "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\nZeroDivisionError\n",
        None,
        "",
        "main.py",
    )
    .unwrap();
    assert_eq!((e.error_type.as_str(), e.message.as_str()), ("ZeroDivisionError", ""));
}

#[test]
fn an_error_in_library_frames_only_has_no_line_of_ours() {
    let stderr = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/runpy.py\", line 198, in _run_module_as_main\n  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\njson.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
    let e = extract("python", stderr, None, "print(1)\n", "main.py").unwrap();
    assert_eq!(e.error_type, "JSONDecodeError");
    assert_eq!(
        e.line, None,
        "a library's line number is never reported as the student's"
    );
    assert_eq!(e.source_line, None);
    let e = extract("javascript", "node:internal/modules/cjs/loader:1080\n  throw err;\n  ^\n\nError: Cannot find module 'lodash'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)\n", None, "", "main.js").unwrap();
    assert_eq!((e.error_type.as_str(), e.line), ("Error", None));
}

#[test]
fn javascript_errors() {
    let stderr = "/sandbox/main.js:2\nconsole.log(user.name);\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at Object.<anonymous> (/sandbox/main.js:2:18)\n    at Module._compile (node:internal/modules/cjs/loader:1256:14)\n\nNode.js v18.19.0\n";
    let e = extract(
        "javascript",
        stderr,
        None,
        "const user = undefined;\nconsole.log(user.name);\n",
        "main.js",
    )
    .unwrap();
    assert_eq!(e.error_type, "TypeError");
    assert_eq!(e.message, "Cannot read properties of undefined (reading 'name')");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.source_line.as_deref(), Some("console.log(user.name);"));
}

#[test]
fn gcc_compile_link_and_runtime() {
    let e = extract(
        "c",
        "main.c: In function ‘main’:\nmain.c:2:32: error: expected ‘;’ before ‘return’\n",
        None,
        "",
        "main.c",
    )
    .unwrap();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str(), e.line),
        ("CompileError", "expected ‘;’ before ‘return’", Some(2))
    );
    let e = extract("c", "/usr/bin/ld: /tmp/ccX.o: in function `main':\nmain.c:(.text+0x5): undefined reference to `foo'\ncollect2: error: ld returned 1 exit status\n", None, "", "main.c").unwrap();
    assert_eq!(e.error_type, "LinkError");
    assert!(e.message.starts_with("undefined reference to `foo'"), "{}", e.message);
    let e = extract("cpp", "terminate called after throwing an instance of 'std::out_of_range'\n  what():  vector::_M_range_check: __n (which is 2) >= this->size() (which is 0)\n", None, "", "main.cpp").unwrap();
    assert_eq!(e.error_type, "std::out_of_range");
    assert!(e.message.starts_with("vector::_M_range_check"));
    let e = extract(
        "c",
        "main: main.c:4: main: Assertion `x > 0' failed.\n",
        None,
        "",
        "main.c",
    )
    .unwrap();
    assert_eq!((e.error_type.as_str(), e.line), ("SIGABRT", Some(4)));
}

#[test]
fn java_go_rust() {
    let e = extract(
        "java",
        "Main.java:3: error: ';' expected\n        int x = 5\n                 ^\n1 error\n",
        None,
        "",
        "Main.java",
    )
    .unwrap();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str(), e.line),
        ("CompileError", "';' expected", Some(3))
    );
    let e = extract("java", "Exception in thread \"main\" java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 2\n\tat Main.main(Main.java:4)\n", None, "", "Main.java").unwrap();
    assert_eq!(
        (e.error_type.as_str(), e.line),
        ("ArrayIndexOutOfBoundsException", Some(4))
    );
    let e = extract(
        "go",
        "# command-line-arguments\n./main.go:3:15: x declared but not used\n",
        None,
        "",
        "main.go",
    )
    .unwrap();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str(), e.line),
        ("CompileError", "x declared but not used", Some(3))
    );
    let e = extract("go", "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/sandbox/main.go:8 +0x1d\nexit status 2\n", None, "", "main.go").unwrap();
    assert_eq!((e.error_type.as_str(), e.line), ("panic", Some(8)));
    assert_eq!(e.message, "runtime error: index out of range [5] with length 3");
    let e = extract(
        "rust",
        "error[E0308]: mismatched types\n --> main.rs:1:26\n  |\n1 | fn main() { let x: i32 = \"text\"; }\n",
        None,
        "",
        "main.rs",
    )
    .unwrap();
    assert_eq!(
        (e.error_type.as_str(), e.message.as_str(), e.line),
        ("E0308", "mismatched types", Some(1))
    );
    let e = extract("rust", "thread 'main' panicked at 'index out of bounds: the len is 0 but the index is 7', main.rs:1:53\nnote: run with `RUST_BACKTRACE=1`\n", None, "", "main.rs").unwrap();
    assert_eq!((e.error_type.as_str(), e.line), ("panic", Some(1)));
    assert_eq!(e.message, "index out of bounds: the len is 0 but the index is 7");
    let e = extract(
        "rust",
        "thread 'main' (3429) panicked at main.rs:2:5:\nattempt to subtract with overflow\n",
        None,
        "",
        "main.rs",
    )
    .unwrap();
    assert_eq!(
        (e.message.as_str(), e.line),
        ("attempt to subtract with overflow", Some(2))
    );
}

#[test]
fn nothing_recognisable_and_huge_inputs_are_bounded() {
    assert_eq!(extract("python", "just some text\n", None, "", "main.py"), None);
    let huge = format!(
        "{}\nTraceback (most recent call last):\n  File \"/sandbox/main.py\", line 9, in <module>\nValueError: {}\n",
        "x".repeat(5_000_000),
        "y".repeat(10_000)
    );
    let t = std::time::Instant::now();
    let e = extract("python", &huge, None, "", "main.py").unwrap();
    assert_eq!(e.error_type, "ValueError");
    assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS);
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(extract("python", "\u{fffd}\u{fffd}", None, "", "main.py"), None);
}

/// The line each language's tools print to say what went wrong, as the card quotes it.
#[test]
fn the_decisive_line_of_each_language() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "python",
            "main.py",
            "print(10 / 0)\n",
            "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    print(10 / 0)\n          ~~~^~~\nZeroDivisionError: division by zero\n",
            "ZeroDivisionError: division by zero",
        ),
        (
            "python",
            "main.py",
            "raise ValueError(\"bad age\")\n",
            "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    raise ValueError(\"bad age\")\nValueError: bad age\n",
            "ValueError: bad age",
        ),
        (
            "python",
            "main.py",
            "print('hi'\n",
            "  File \"/sandbox/main.py\", line 1\n    print('hi'\n         ^\nSyntaxError: '(' was never closed\n",
            "SyntaxError: '(' was never closed",
        ),
        (
            "java",
            "Main.java",
            "",
            "Exception in thread \"main\" java.lang.ArithmeticException: / by zero\n\tat Main.main(Main.java:3)\n",
            "Exception in thread \"main\" java.lang.ArithmeticException: / by zero",
        ),
        (
            "java",
            "Main.java",
            "",
            "Main.java:3: error: ';' expected\n        int x = 5\n                 ^\n1 error\n",
            "Main.java:3: error: ';' expected",
        ),
        (
            "c",
            "main.c",
            "",
            "main.c: In function ‘main’:\nmain.c:3:5: error: ‘y’ undeclared (first use in this function)\n    3 |     y = 2;\n      |     ^\nmain.c:3:5: note: each undeclared identifier is reported only once\n",
            "main.c:3:5: error: ‘y’ undeclared (first use in this function)",
        ),
        (
            "cpp",
            "main.cpp",
            "",
            "main.cpp: In function ‘int main()’:\nmain.cpp:4:5: error: ‘cout’ was not declared in this scope\n    4 |     cout << 1;\n",
            "main.cpp:4:5: error: ‘cout’ was not declared in this scope",
        ),
        (
            "rust",
            "main.rs",
            "",
            "error[E0308]: mismatched types\n --> main.rs:2:18\n  |\n2 |     let x: i32 = \"text\";\n  |            ---   ^^^^^^ expected `i32`, found `&str`\n",
            "error[E0308]: mismatched types",
        ),
        (
            "go",
            "main.go",
            "",
            "panic: runtime error: integer divide by zero\n\ngoroutine 1 [running]:\nmain.main()\n\t/sandbox/main.go:6 +0x1d\n",
            "panic: runtime error: integer divide by zero",
        ),
        (
            "go",
            "main.go",
            "",
            "# command-line-arguments\n./main.go:3:5: declared and not used: x\n",
            "./main.go:3:5: declared and not used: x",
        ),
        (
            "javascript",
            "main.js",
            "",
            "/sandbox/main.js:2\nconsole.log(user.name);\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at Object.<anonymous> (/sandbox/main.js:2:18)\n\nNode.js v20.19.2\n",
            "TypeError: Cannot read properties of undefined (reading 'name')",
        ),
        (
            "javascript",
            "main.js",
            "",
            "/sandbox/main.js:1\nthrow new Error(\"boom\");\n^\n\nError: boom\n    at Object.<anonymous> (/sandbox/main.js:1:7)\n",
            "Error: boom",
        ),
        (
            "ruby",
            "main.rb",
            "",
            "main.rb:1:in `/': divided by 0 (ZeroDivisionError)\n\tfrom main.rb:1:in `<main>'\n",
            "main.rb:1:in `/': divided by 0 (ZeroDivisionError)",
        ),
        (
            "php",
            "main.php",
            "",
            "PHP Fatal error:  Uncaught DivisionByZeroError: Division by zero in /sandbox/main.php:2\nStack trace:\n#0 {main}\n  thrown in /sandbox/main.php on line 2\n",
            "PHP Fatal error:  Uncaught DivisionByZeroError: Division by zero in /sandbox/main.php:2",
        ),
        (
            "bash",
            "main.sh",
            "",
            "main.sh: line 2: foo: command not found\n",
            "main.sh: line 2: foo: command not found",
        ),
    ];
    for (language, file, code, stderr, want) in cases {
        let e = extract(language, stderr, None, code, file).unwrap_or_else(|| panic!("{language}: {stderr}"));
        assert_eq!(e.quote.as_deref(), Some(*want), "{language}: {stderr}");
    }
}

/// Which errors mean the program never started: the language refused to read it.
#[test]
fn a_source_the_language_refused_never_started() {
    let cases: &[(&str, &str, &str, bool)] = &[
        (
            "python",
            "main.py",
            "  File \"/sandbox/main.py\", line 1\n    print('hi'\n         ^\nSyntaxError: '(' was never closed\n",
            true,
        ),
        (
            "python",
            "main.py",
            "  File \"/sandbox/main.py\", line 2\n    print(1)\nIndentationError: unexpected indent\n",
            true,
        ),
        (
            "python",
            "main.py",
            "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    eval('1 +')\n  File \"<string>\", line 1\n    1 +\n       ^\nSyntaxError: invalid syntax\n",
            false,
        ),
        (
            "python",
            "main.py",
            "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\nZeroDivisionError: division by zero\n",
            false,
        ),
        (
            "javascript",
            "main.js",
            "/sandbox/main.js:1\nlet x = ;\n        ^\n\nSyntaxError: Unexpected token ';'\n    at internalCompileFunction (node:internal/vm:76:18)\n    at wrapSafe (node:internal/modules/cjs/loader:1283:20)\n",
            true,
        ),
        (
            "javascript",
            "main.js",
            "undefined:1\n{\n \n\nSyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at Object.<anonymous> (/sandbox/main.js:1:6)\n",
            false,
        ),
        (
            "php",
            "main.php",
            "PHP Parse error:  syntax error, unexpected token \"echo\" in /sandbox/main.php on line 3\n",
            true,
        ),
        (
            "ruby",
            "main.rb",
            "main.rb:2: syntax error, unexpected end-of-input (SyntaxError)\n",
            true,
        ),
        (
            "bash",
            "main.sh",
            "main.sh: line 3: syntax error near unexpected token `fi'\n",
            false,
        ),
    ];
    for (language, file, stderr, want) in cases {
        let e = extract(language, stderr, None, "", file).unwrap_or_else(|| panic!("{language}: {stderr}"));
        assert_eq!(e.before_start, *want, "{language}: {stderr}");
    }
}
