//! Every language against the real Docker engine: hello world, a runtime error with its exit
//! code, a compile error for the compiled ones, and stdin echoed back.

mod common;

use common::{check, finish, sandbox};
use devmentor::sandbox::Verdict;

struct Programs {
    lang: &'static str,
    hello: &'static str,
    /// Fails at run time with exit code `fail_code`.
    fail: &'static str,
    fail_code: i64,
    /// Text the failure prints on stderr.
    fail_stderr: &'static str,
    /// Echoes each line of stdin prefixed with "echo: ".
    echo: &'static str,
    /// Does not compile; `None` for interpreted languages.
    broken: Option<(&'static str, &'static str)>,
}

const PROGRAMS: &[Programs] = &[
    Programs {
        lang: "python",
        hello: "print('Hello, world!')\n",
        fail: "numbers = []\nprint(numbers[3])\n",
        fail_code: 1,
        fail_stderr: "IndexError: list index out of range",
        echo: "import sys\nfor line in sys.stdin:\n    print('echo: ' + line.rstrip('\\n'))\n",
        broken: None,
    },
    Programs {
        lang: "javascript",
        hello: "console.log('Hello, world!');\n",
        fail: "const user = undefined;\nconsole.log(user.name);\n",
        fail_code: 1,
        fail_stderr: "TypeError: Cannot read properties of undefined",
        echo: "const input = require('fs').readFileSync(0, 'utf8');\nfor (const line of input.split('\\n')) { if (line) console.log('echo: ' + line); }\n",
        broken: None,
    },
    Programs {
        lang: "c",
        hello: "#include <stdio.h>\nint main(void) { printf(\"Hello, world!\\n\"); return 0; }\n",
        fail: "#include <stdio.h>\nint main(void) { fprintf(stderr, \"bad input\\n\"); return 3; }\n",
        fail_code: 3,
        fail_stderr: "bad input",
        echo: "#include <stdio.h>\nint main(void) { char b[256]; while (fgets(b, sizeof b, stdin)) printf(\"echo: %s\", b); return 0; }\n",
        broken: Some(("#include <stdio.h>\nint main(void) { printf(\"hi\\n\") return 0; }\n", "error: expected")),
    },
    Programs {
        lang: "cpp",
        hello: "#include <iostream>\nint main() { std::cout << \"Hello, world!\" << std::endl; }\n",
        fail: "#include <vector>\n#include <iostream>\nint main() { std::vector<int> v; return v.at(2); }\n",
        fail_code: 134,
        fail_stderr: "std::out_of_range",
        echo: "#include <iostream>\n#include <string>\nint main() { std::string l; while (std::getline(std::cin, l)) std::cout << \"echo: \" << l << '\\n'; }\n",
        broken: Some(("#include <iostream>\nint main() { std::cout << undeclared_name; }\n", "was not declared in this scope")),
    },
    Programs {
        lang: "java",
        hello: "public class Main { public static void main(String[] args) { System.out.println(\"Hello, world!\"); } }\n",
        fail: "public class Main { public static void main(String[] args) { int[] a = new int[2]; System.out.println(a[5]); } }\n",
        fail_code: 1,
        fail_stderr: "ArrayIndexOutOfBoundsException",
        echo: "import java.util.Scanner;\npublic class Echo { public static void main(String[] args) { Scanner s = new Scanner(System.in); while (s.hasNextLine()) System.out.println(\"echo: \" + s.nextLine()); } }\n",
        broken: Some(("public class Main { public static void main(String[] args) { int x = \"text\"; } }\n", "incompatible types")),
    },
    Programs {
        lang: "go",
        hello: "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"Hello, world!\") }\n",
        fail: "package main\n\nimport \"os\"\n\nfunc main() { os.Stderr.WriteString(\"bad input\\n\"); os.Exit(4) }\n",
        fail_code: 4,
        fail_stderr: "bad input",
        echo: "package main\n\nimport (\n\t\"bufio\"\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\ts := bufio.NewScanner(os.Stdin)\n\tfor s.Scan() {\n\t\tfmt.Println(\"echo: \" + s.Text())\n\t}\n}\n",
        broken: Some(("package main\n\nfunc main() { x := 1 }\n", "not used")),
    },
    Programs {
        lang: "rust",
        hello: "fn main() { println!(\"Hello, world!\"); }\n",
        fail: "fn main() { let v: Vec<i32> = Vec::new(); println!(\"{}\", v[7]); }\n",
        fail_code: 101,
        fail_stderr: "index out of bounds",
        echo: "use std::io::BufRead;\nfn main() { for line in std::io::stdin().lock().lines() { println!(\"echo: {}\", line.unwrap()); } }\n",
        broken: Some(("fn main() { let x: i32 = \"text\"; }\n", "mismatched types")),
    },
    Programs {
        lang: "typescript",
        hello: "const greeting: string = \"Hello, world!\";\nconsole.log(greeting);\n",
        fail: "const user: { name: string } | null = JSON.parse(\"null\");\nconsole.log(user!.name);\n",
        fail_code: 1,
        fail_stderr: "TypeError: Cannot read properties of null",
        echo: "import * as fs from \"fs\";\nconst input: string = fs.readFileSync(0, \"utf8\");\nfor (const line of input.split(\"\\n\")) {\n  if (line) console.log(\"echo: \" + line);\n}\n",
        broken: Some(("let count: number = \"five\";\nconsole.log(count);\n", "error TS2322")),
    },
    // SQL has no program output of its own: a SELECT prints a table. The hello and echo scripts
    // switch the shell to plain lines (`.mode list`, `.headers off`) to print exactly what the
    // other languages print. Its stdin is data: `.import /dev/stdin input` makes each line a row
    // of a table the script then queries, which is how a script reads what the student typed.
    Programs {
        lang: "sql",
        hello: ".mode list\n.headers off\nSELECT 'Hello, world!';\n",
        fail: "CREATE TABLE users(id INTEGER PRIMARY KEY);\nINSERT INTO users VALUES (1);\nINSERT INTO users VALUES (1);\n",
        fail_code: 1,
        fail_stderr: "UNIQUE constraint failed: users.id",
        echo: "CREATE TABLE input(line TEXT);\n.import /dev/stdin input\n.mode list\n.headers off\nSELECT 'echo: ' || line FROM input;\n",
        broken: None,
    },
    Programs {
        lang: "pascal",
        hello: "program Hello;\nbegin\n  writeln('Hello, world!');\nend.\n",
        fail: "program Fail;\nvar a, b: integer;\nbegin\n  a := 1; b := 0;\n  writeln(a div b);\nend.\n",
        fail_code: 200,
        fail_stderr: "Runtime error 200",
        echo: "program Echo;\nvar s: string;\nbegin\n  while not eof do\n  begin\n    readln(s);\n    writeln('echo: ', s);\n  end;\nend.\n",
        broken: Some(("program Broken;\nbegin\n  writeln(total);\nend.\n", "Identifier not found \"total\"")),
    },
    Programs {
        lang: "csharp",
        hello: "using System;\nclass Program { static void Main() { Console.WriteLine(\"Hello, world!\"); } }\n",
        fail: "using System;\nclass Program { static void Main() { int[] a = new int[2]; Console.WriteLine(a[5]); } }\n",
        fail_code: 1,
        fail_stderr: "System.IndexOutOfRangeException",
        echo: "using System;\nclass Program { static void Main() { string l; while ((l = Console.ReadLine()) != null) Console.WriteLine(\"echo: \" + l); } }\n",
        broken: Some(("class Program { static void Main() { int x = \"text\"; } }\n", "error CS0029")),
    },
    Programs {
        lang: "php",
        hello: "<?php\necho \"Hello, world!\\n\";\n",
        fail: "<?php\n$scores = [];\necho array_sum($scores) / count($scores);\n",
        fail_code: 255,
        fail_stderr: "Uncaught DivisionByZeroError: Division by zero",
        echo: "<?php\nwhile (($line = fgets(STDIN)) !== false) {\n    echo 'echo: ', rtrim($line, \"\\n\"), \"\\n\";\n}\n",
        broken: None,
    },
    Programs {
        lang: "ruby",
        hello: "puts 'Hello, world!'\n",
        fail: "scores = []\nputs scores.sum / scores.size\n",
        fail_code: 1,
        fail_stderr: "divided by 0 (ZeroDivisionError)",
        echo: "$stdin.each_line { |line| puts \"echo: #{line.chomp}\" }\n",
        broken: None,
    },
    Programs {
        lang: "bash",
        hello: "echo 'Hello, world!'\n",
        fail: "echo 'bad input' >&2\nexit 3\n",
        fail_code: 3,
        fail_stderr: "bad input",
        echo: "while IFS= read -r line; do\n  echo \"echo: $line\"\ndone\n",
        broken: None,
    },
];

async fn language_suite(lang: &str) {
    let p = PROGRAMS
        .iter()
        .find(|p| p.lang == lang)
        .expect("programs for the language");
    let (sb, limits) = sandbox(|_| {}).await;

    let r = check(&sb, &limits, lang, p.hello, "").await;
    assert_eq!(r.verdict, Verdict::Ok, "{lang} hello: {r:?}");
    assert_eq!(r.stdout, "Hello, world!\n", "{lang} hello");
    assert_eq!(r.exit_code, Some(0));
    assert!(!r.truncated);

    let r = check(&sb, &limits, lang, p.fail, "").await;
    assert_eq!(r.verdict, Verdict::RuntimeError, "{lang} failure: {r:?}");
    assert_eq!(r.exit_code, Some(p.fail_code), "{lang} failure exit code: {r:?}");
    assert!(
        r.stderr.contains(p.fail_stderr),
        "{lang} failure stderr: {:?}",
        r.stderr
    );

    let r = check(&sb, &limits, lang, p.echo, "first line\nвторая строка\n").await;
    assert_eq!(r.verdict, Verdict::Ok, "{lang} echo: {r:?}");
    assert_eq!(r.stdout, "echo: first line\necho: вторая строка\n", "{lang} echo");

    if let Some((broken, message)) = p.broken {
        let r = check(&sb, &limits, lang, broken, "").await;
        assert_eq!(r.verdict, Verdict::CompileError, "{lang} compile error: {r:?}");
        assert!(r.stderr.contains(message), "{lang} compiler message: {:?}", r.stderr);
        assert_ne!(r.exit_code, Some(0));
        assert!(r.stdout.is_empty());
    }
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python() {
    language_suite("python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript() {
    language_suite("javascript").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c() {
    language_suite("c").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpp() {
    language_suite("cpp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java() {
    language_suite("java").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go() {
    language_suite("go").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust() {
    language_suite("rust").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pascal() {
    language_suite("pascal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csharp() {
    language_suite("csharp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript() {
    language_suite("typescript").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql() {
    language_suite("sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php() {
    language_suite("php").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruby() {
    language_suite("ruby").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bash() {
    language_suite("bash").await;
}

/// A check explained by the built-in catalogue, as the bot would show it.
async fn explained(lang: &str, code: &str) -> devmentor::check::CheckResult {
    let analyzer = devmentor::analyzer::Analyzer::new(
        devmentor::registry::catalogue::builtin().expect("catalogue"),
        None,
        None,
    );
    let (sb, limits) = sandbox(|_| {}).await;
    let request = devmentor::check::CheckRequest {
        language: lang.into(),
        code: code.as_bytes().to_vec(),
        stdin: Vec::new(),
        locale: devmentor::registry::Locale::En,
        check_id: None,
    };
    let r = devmentor::check::run_check(&sb, Some(&analyzer), &request, &limits)
        .await
        .unwrap_or_else(|e| panic!("{lang}: the check did not run: {e}"));
    finish(sb).await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typescript_file_with_only_type_errors_is_a_compile_error_explained() {
    // Valid JavaScript, so tsc would still emit it: the type errors alone must stop the run.
    let code = "function total(prices: number[]): number {\n  return prices.reduce((a, b) => a + b, 0);\n}\nconsole.log(\"ran\");\nconsole.log(total([\"10\", \"20\"]));\n";
    let r = explained("typescript", code).await;
    assert_eq!(r.verdict, Verdict::CompileError, "{r:?}");
    assert!(r.stdout.is_empty(), "nothing ran: {:?}", r.stdout);
    assert!(r.stderr.contains("main.ts(5,"), "tsc's own message: {:?}", r.stderr);
    let x = r.explanation.as_ref().expect("an explanation");
    assert_eq!(x.source, "registry", "{x:?}");
    assert_eq!(x.slug.as_deref(), Some("typescript-type-not-assignable"), "{x:?}");
    assert_eq!((x.error_type.as_str(), x.line), ("TS2322", Some(5)), "{x:?}");
    assert!(x.title.contains("string") && x.title.contains("number"), "{}", x.title);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sql_script_with_a_syntax_error_halfway_shows_what_ran_before_it() {
    let code = "CREATE TABLE pets(name TEXT, age INTEGER);\nINSERT INTO pets VALUES ('Rex', 3), ('Tom', 5);\nSELECT name, age FROM pets ORDER BY age;\nSELECT name,\n  age,\nFROM pets;\nSELECT 'never printed';\n";
    let r = explained("sql", code).await;
    assert_eq!(r.verdict, Verdict::RuntimeError, "{r:?}");
    assert_ne!(r.exit_code, Some(0));
    assert_eq!(
        r.stdout, "+------+-----+\n| name | age |\n+------+-----+\n| Rex  | 3   |\n| Tom  | 5   |\n+------+-----+\n",
        "the statements before the error ran, and their table is shown"
    );
    assert!(!r.stdout.contains("never printed"), "the script stops at the error");
    assert!(r.stderr.contains("near line 4"), "{:?}", r.stderr);
    let x = r.explanation.as_ref().expect("an explanation");
    assert_eq!(x.slug.as_deref(), Some("sql-comma-before-from"), "{x:?}");
    assert_eq!(
        x.line,
        Some(6),
        "the line the caret points at, not the statement's first: {x:?}"
    );
    assert_eq!(x.source_line.as_deref(), Some("FROM pets;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segfault_is_reported_with_its_signal() {
    let (sb, limits) = sandbox(|_| {}).await;
    let r = check(
        &sb,
        &limits,
        "c",
        "int main(void) { int *p = 0; *p = 1; return 0; }\n",
        "",
    )
    .await;
    assert_eq!(r.verdict, Verdict::RuntimeError, "{r:?}");
    assert_eq!(r.signal.as_deref(), Some("SIGSEGV"), "{r:?}");
    assert_eq!(r.exit_code, Some(139));
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_output_is_replaced_not_fatal() {
    let (sb, limits) = sandbox(|_| {}).await;
    let r = check(
        &sb,
        &limits,
        "python",
        "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\n",
        "",
    )
    .await;
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert_eq!(r.stdout, "ok \u{fffd}\u{fffd} end\n");
    finish(sb).await;
}

/// Bash scripts that never end on their own (one `exec`s itself forever, one keeps reading a
/// stdin that is already closed) get the time-limit verdict, bash's own explanation of it, and
/// leave no container behind; a PHP warning alone fails the run and is explained at its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bash_scripts_and_php_warnings_are_explained() {
    let analyzer = devmentor::analyzer::Analyzer::new(
        devmentor::registry::catalogue::builtin().expect("catalogue"),
        None,
        None,
    );
    let (sb, limits) = sandbox(|c| c.exec_timeout_seconds = 3).await;
    let run = |lang: &str, code: &str, stdin: &str| devmentor::check::CheckRequest {
        language: lang.into(),
        code: code.as_bytes().to_vec(),
        stdin: stdin.as_bytes().to_vec(),
        locale: devmentor::registry::Locale::Ru,
        check_id: None,
    };
    let scripts = [
        (
            "echo \"round ${ROUND:-0}\"\nexport ROUND=$(( ${ROUND:-0} + 1 ))\nexec bash \"$0\"\n",
            "",
        ),
        (
            "total=0\nwhile true; do\n  read -r n\n  total=$((total + n))\ndone\necho \"$total\"\n",
            "1\n2\n",
        ),
    ];
    for (code, stdin) in scripts {
        let r = devmentor::check::run_check(&sb, Some(&analyzer), &run("bash", code, stdin), &limits)
            .await
            .expect("the check runs");
        assert_eq!(r.verdict, Verdict::Timeout, "{code}: {r:?}");
        let x = r.explanation.as_ref().expect("an explanation");
        assert_eq!(x.slug.as_deref(), Some("bash-timeout"), "{x:?}");
        assert!(x.title.contains("3 с"), "{}", x.title);
    }
    let code = "<?php\n$price = 10;\necho \"Total: \", $prise * 2, \"\\n\";\necho \"done\\n\";\n";
    let r = devmentor::check::run_check(&sb, Some(&analyzer), &run("php", code, ""), &limits)
        .await
        .expect("the check runs");
    assert_eq!(r.verdict, Verdict::RuntimeError, "{r:?}");
    assert_eq!(r.exit_code, Some(1), "a run that warned ends with 1: {r:?}");
    assert_eq!(
        r.stdout, "Total: 0\ndone\n",
        "PHP went on after the warning, as it does"
    );
    let x = r.explanation.as_ref().expect("an explanation");
    assert_eq!(x.slug.as_deref(), Some("php-undefined-variable"), "{x:?}");
    assert_eq!(x.line, Some(3));
    let code = "<?php\necho \"before\\n\";\nexit(4);\n";
    let r = devmentor::check::run_check(&sb, Some(&analyzer), &run("php", code, ""), &limits)
        .await
        .expect("the check runs");
    assert_eq!(
        r.exit_code,
        Some(4),
        "a program's own exit code is reported as it is: {r:?}"
    );
    finish(sb).await;
}
