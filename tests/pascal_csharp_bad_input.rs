//! The bad input for Pascal and C#, as a student sends it: a Pascal program without its
//! final `end.` (cut short, or ending in `end;`) and a C# program without `Main`. Each gets the
//! compile-error verdict, the compiler's words, an explanation from the registry in Russian at
//! the line to look at, and the sandbox is left with no container behind.

mod common;

use common::{finish, sandbox};
use devmentor::analyzer::Analyzer;
use devmentor::check::{run_check, CheckRequest};
use devmentor::registry::{catalogue, Locale};
use devmentor::sandbox::Verdict;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pascal_without_end_and_csharp_without_main_are_explained() {
    let analyzer = Analyzer::new(catalogue::builtin().expect("catalogue"), None, None);
    let (sb, limits) = sandbox(|_| {}).await;
    let cases = [
        (
            "pascal",
            "program Hello;\nbegin\n  writeln('Hello');\n",
            "Unexpected end of file",
            "pascal-unexpected-end-of-file",
            3,
            "writeln('Hello');",
        ),
        (
            "pascal",
            "program Hello;\nbegin\n  writeln('Hello');\nend;\n",
            "\".\" expected but \";\" found",
            "pascal-final-dot-expected",
            4,
            "end;",
        ),
        (
            "csharp",
            "using System;\n\nclass Program\n{\n    static void Greet() { Console.WriteLine(\"hi\"); }\n}\n",
            "error CS5001",
            "csharp-no-main",
            3,
            "class Program",
        ),
    ];
    for (language, code, compiler_says, slug, line, source_line) in cases {
        let request = CheckRequest {
            language: language.into(),
            code: code.into(),
            stdin: vec![],
            locale: Locale::Ru,
            check_id: None,
        };
        let r = run_check(&sb, Some(&analyzer), &request, &limits)
            .await
            .expect("the check runs");
        assert_eq!(r.verdict, Verdict::CompileError, "{language}: {r:?}");
        assert!(r.stdout.is_empty(), "{language}: nothing ran");
        assert!(r.stderr.contains(compiler_says), "{language}: {:?}", r.stderr);
        let x = r.explanation.unwrap_or_else(|| panic!("{language}: no explanation"));
        assert_eq!(x.source, "registry");
        assert_eq!(x.slug.as_deref(), Some(slug), "{language}: {}", x.title);
        assert_eq!(x.line, Some(line), "{slug}");
        assert_eq!(x.source_line.as_deref(), Some(source_line), "{slug}");
        assert!(
            x.title.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я')),
            "{slug}: a Russian title, got {}",
            x.title
        );
    }
    finish(sb).await;
}
