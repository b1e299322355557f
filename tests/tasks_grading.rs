//! Grading against the real Docker engine: every starter task's reference solutions pass every
//! test; each kind of failure gets its own per-test verdict in an interpreted (Python) and a
//! compiled (C++) language; a hidden test's data never appears in a result.

mod common;

use common::{finish, sandbox};
use devmentor::sandbox::Sandbox;
use devmentor::tasks::catalogue::{self, Loaded};
use devmentor::tasks::grade::{grade, Submission};
use devmentor::tasks::{SubmissionVerdict, TestVerdict};

async fn graded(sb: &Sandbox, l: &Loaded, language: &str, code: &str) -> devmentor::tasks::Graded {
    let s = Submission {
        task: &l.task,
        tests: &l.tests,
        language,
        code,
        locale: devmentor::registry::Locale::Ru,
        id: None,
    };
    grade(sb, None, &s, 4, |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("{}: grading did not run: {e}", l.task.slug))
}

fn sum_of_two() -> Loaded {
    catalogue::builtin()
        .unwrap()
        .into_iter()
        .find(|l| l.task.slug == "sum-of-two")
        .expect("sum-of-two is in the starter set")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_starter_reference_solution_passes_every_test() {
    let (sb, _) = sandbox(|_| {}).await;
    let set = catalogue::builtin().unwrap();
    assert!(set.len() >= 20, "the starter set has {} tasks", set.len());
    for l in &set {
        assert!(l.tests.len() >= 5, "{}: {} tests", l.task.slug, l.tests.len());
        assert!(l.tests.iter().any(|t| t.hidden), "{}: no hidden test", l.task.slug);
        for language in ["python", "cpp"] {
            let code = l
                .task
                .solutions
                .get(language)
                .unwrap_or_else(|| panic!("{}: no {language} reference", l.task.slug));
            let g = graded(&sb, l, language, code).await;
            assert_eq!(
                g.verdict,
                SubmissionVerdict::Accepted,
                "{} in {language}: {g:#?}",
                l.task.slug
            );
            assert_eq!((g.passed, g.total), (l.tests.len() as i32, l.tests.len() as i32));
        }
    }
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_failure_has_its_verdict_and_hidden_tests_carry_no_data() {
    let (sb, _) = sandbox(|_| {}).await;
    let mut l = sum_of_two();
    let first_hidden = l.tests.iter().position(|t| t.hidden).unwrap();
    let cases: &[(&str, &str, SubmissionVerdict)] = &[
        // Python: wrong (int overflow cannot happen; a difference instead of a sum).
        (
            "python",
            "a, b = map(int, input().split())\nprint(a - b)\n",
            SubmissionVerdict::WrongAnswer,
        ),
        (
            "python",
            "a, b = map(int, input().split())\nprint(a / 0)\n",
            SubmissionVerdict::RuntimeError,
        ),
        ("python", "while True:\n    pass\n", SubmissionVerdict::Timeout),
        (
            "python",
            "x = bytearray(2_000_000_000)\n",
            SubmissionVerdict::MemoryLimit,
        ),
        // C++: `int` overflows on the big tests only (a hidden test fails).
        (
            "cpp",
            "#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n",
            SubmissionVerdict::WrongAnswer,
        ),
        (
            "cpp",
            "#include <iostream>\nint main(){ return undeclared; }\n",
            SubmissionVerdict::CompileError,
        ),
        (
            "cpp",
            "#include <cstdlib>\nint main(){ std::abort(); }\n",
            SubmissionVerdict::RuntimeError,
        ),
        ("cpp", "int main(){ for(;;){} }\n", SubmissionVerdict::Timeout),
    ];
    for (language, code, want) in cases {
        let g = graded(&sb, &l, language, code).await;
        assert_eq!(g.verdict, *want, "{language}: {code}\n{g:#?}");
        if *want == SubmissionVerdict::CompileError {
            assert!(g.tests.is_empty() && g.compile_output.as_deref().is_some_and(|o| o.contains("undeclared")));
            continue;
        }
        let failed = g.first_failure().expect("a failing test");
        assert_eq!(failed.verdict.map(SubmissionVerdict::from), Some(*want));
        // Stopped at the first failure (the task says so).
        assert_eq!(g.tests.last().map(|t| t.n), Some(failed.n), "{g:#?}");
        if !failed.hidden {
            assert!(failed.stdin.is_some() && failed.expected.is_some() && failed.actual.is_some());
        }
    }
    // The `int` program passes the small visible tests and fails a hidden one: the hidden
    // failure carries its number and verdict only.
    let g = graded(&sb, &l, "cpp", cases[4].1).await;
    let f = g.first_failure().unwrap();
    assert!(f.hidden && f.verdict == Some(TestVerdict::WrongAnswer), "{g:#?}");
    assert!(f.stdin.is_none() && f.expected.is_none() && f.actual.is_none() && f.stderr.is_none());
    let json = serde_json::to_string(&g).unwrap();
    // (Hidden answers long enough not to occur by chance in a result, like 10^18-sized sums.)
    for t in l.tests.iter().filter(|t| t.hidden && t.expected.trim().len() >= 6) {
        assert!(
            !json.contains(t.expected.trim()),
            "hidden expected output leaked: {json}"
        );
        assert!(!json.contains(t.stdin.trim()), "hidden input leaked: {json}");
    }
    // A program that prints another test's expected output cannot pass: each test is its own run.
    let peeking = format!("print({:?})\n", l.tests[first_hidden].expected.trim());
    let g = graded(&sb, &l, "python", &peeking).await;
    assert_eq!(g.verdict, SubmissionVerdict::WrongAnswer);

    // Run them all when the task says so: every test has a verdict.
    l.task.stop_at_first_failure = false;
    let g = graded(&sb, &l, "python", cases[0].1).await;
    assert_eq!(g.tests.len(), l.tests.len());
    // A huge output is a wrong answer with `truncated`, never a crash.
    let g = graded(&sb, &l, "python", "print('9' * 10_000_000)\n").await;
    assert_eq!(g.verdict, SubmissionVerdict::WrongAnswer, "{g:#?}");
    assert!(g.tests[0].truncated);
    finish(sb).await;
}
