//! Mono's messages: the C# compiler's `main.cs(L,C): error CSnnnn: …` and an unhandled
//! exception's report.
//!
//! mcs prints `main.cs(4,27): error CS0103: The name `y' does not exist in the current context`;
//! the first error wins (warnings before it are not errors), its code is the error type, as
//! rustc's codes are. mcs quotes names with a backtick and an apostrophe (`` `y' ``), Roslyn's
//! csc with two apostrophes: the catalogue's patterns accept both. `error CS5001` (no `Main`)
//! has no location; it is shown at the class that should hold `Main`. mcs says CS1525 "Unexpected
//! symbol" where Roslyn says CS1002 "; expected"; like fpc's, its location is moved to the line
//! that lacks the `;` (or, for a missing `}`, from past the end to the last line).
//!
//! `mono --debug` (see containers/csharp/language.toml) reports an uncaught exception as
//! `Unhandled Exception:`, then `System.NullReferenceException: Object reference not set …`
//! (possibly more lines of message, such as `Parameter name: s`), then frames
//! `  at Program.Main () [0x0000d] in /sandbox/main.cs:6`; frames inside the class library say
//! `in <6a1f…>:0` and are skipped. It prints the same again after `[ERROR] FATAL UNHANDLED
//! EXCEPTION:`, which is the fallback. A stack overflow is `StackOverflowException`, bare.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn extract(output: &str, code: &str, file_name: &str) -> Option<ExtractedError> {
    compile_error(output, code, file_name).or_else(|| exception(output, file_name))
}

fn compile_error(output: &str, code: &str, file_name: &str) -> Option<ExtractedError> {
    let located = Regex::new(&format!(
        r"(?m)^(?:\./)?{}\((?P<line>\d+),\d+\): error (?P<code>CS\d{{4}}): (?P<msg>.*)$",
        regex::escape(file_name)
    ))
    .ok()?;
    static UNLOCATED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^error (?P<code>CS\d{4}): (?P<msg>.*)$").expect("static regex"));
    static CLASS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:(?:public|internal|static|sealed|partial|abstract)\s+)*class\s+\w").expect("static regex")
    });
    // Whichever comes first in the output is the first error.
    let first = [located.captures(output), UNLOCATED.captures(output)]
        .into_iter()
        .flatten()
        .min_by_key(|c| c.get(0).map(|m| m.start()).unwrap_or(usize::MAX))?;
    let error_type = first["code"].to_string();
    let message = first["msg"].trim_end().to_string();
    let mut line = match first.name("line") {
        Some(l) => l.as_str().parse().ok(),
        None if error_type == "CS5001" => code.lines().position(|l| CLASS.is_match(l)).map(|i| i as u32 + 1),
        None => None,
    };
    if error_type == "CS1525" {
        line = line.map(|n| unexpected_symbol_line(n, &message, code));
    }
    Some(ExtractedError {
        error_type,
        message,
        line,
        ..Default::default()
    })
}

/// CS1525 is mcs's word for a missing `;` (Roslyn's CS1002): "Unexpected symbol `Console'" at
/// the first token of the next line, so the line before is the one that lacks it; and a missing
/// `}` is an unexpected end of file reported past the last line, so the last line is shown.
fn unexpected_symbol_line(line: u32, message: &str, code: &str) -> u32 {
    static SYMBOL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^Unexpected symbol [`'‘](?P<s>[^`'’]+)['’]").expect("static regex"));
    let lines: Vec<&str> = code.lines().collect();
    let last_code_line = |upto: usize| {
        (1..=upto.min(lines.len()))
            .rev()
            .find(|&n| !lines[n - 1].trim().is_empty())
            .map(|n| n as u32)
    };
    let Some(symbol) = SYMBOL.captures(message).map(|c| c["s"].to_string()) else {
        return line;
    };
    let at = line as usize;
    if symbol == "end-of-file" {
        let past_the_end = at > lines.len() || lines[at.saturating_sub(1)].trim().is_empty();
        return if past_the_end {
            last_code_line(at).unwrap_or(line)
        } else {
            line
        };
    }
    match lines.get(at.saturating_sub(1)) {
        Some(text) if text.trim_start().starts_with(symbol.as_str()) => last_code_line(at - 1).unwrap_or(line),
        _ => line,
    }
}

fn exception(output: &str, file_name: &str) -> Option<ExtractedError> {
    static HEADER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:Unhandled Exception:\n|\[ERROR\] FATAL UNHANDLED EXCEPTION: )(?P<type>[A-Za-z_][\w.`+]*)(?::[ \t]?(?P<msg>[^\n]*))?$")
            .expect("static regex")
    });
    let c = HEADER.captures(output)?;
    let full = &c["type"];
    let after = &output[c.get(0)?.end()..];
    // The message goes on until the first frame.
    let mut message = c
        .name("msg")
        .map(|m| m.as_str().trim_end().to_string())
        .unwrap_or_default();
    for l in after.lines().skip(1) {
        if l.starts_with("  at ") || l.starts_with("[ERROR]") || l.trim().is_empty() {
            break;
        }
        message.push('\n');
        message.push_str(l.trim_end());
    }
    let frame = Regex::new(&format!(r" in (?:\S*/)?{}:(\d+)", regex::escape(file_name))).ok()?;
    Some(ExtractedError {
        error_type: full.rsplit('.').next().unwrap_or(full).to_string(),
        message,
        line: frame.captures(after).and_then(|m| m[1].parse().ok()),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::extract;

    // Captured from devmentor/csharp (Mono 6.12, Debian 13) in the sandbox.
    #[test]
    fn compile_errors_by_code() {
        let out = "main.cs(4,27): error CS0103: The name `y' does not exist in the current context\nCompilation failed: 1 error(s), 0 warnings\n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("CS0103", "The name `y' does not exist in the current context", Some(4))
        );
        let out = "main.cs(5,13): warning CS0665: Assignment in conditional expression is always constant. Did you mean to use `==' instead ?\nmain.cs(5,13): error CS0029: Cannot implicitly convert type `int' to `bool'\nCompilation failed: 1 error(s), 1 warnings\n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("CS0029", Some(5)));
        assert_eq!(e.message, "Cannot implicitly convert type `int' to `bool'");
    }

    #[test]
    fn a_missing_semicolon_or_brace_is_shown_where_it_is_missing() {
        let code = "class Program {\n    static void Main() {\n        int x = 5\n        System.Console.WriteLine(x);\n    }\n}\n";
        let out =
            "main.cs(4,8): error CS1525: Unexpected symbol `System'\nCompilation failed: 1 error(s), 0 warnings\n";
        let e = extract("csharp", out, None, code, "main.cs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("CS1525", Some(3)));
        assert_eq!(e.source_line.as_deref(), Some("int x = 5"));
        let code = "class Program {\n    static void Main() {\n        int x = 5\n    }\n}\n";
        let out = "main.cs(4,4): error CS1525: Unexpected symbol `}', expecting `,' or `;'\n";
        let e = extract("csharp", out, None, code, "main.cs").unwrap();
        assert_eq!(e.line, Some(3));
        let code = "class Program {\n    static void Main() {\n        if (true) {\n    }\n}\n\n";
        let out = "main.cs(7,246): error CS1525: Unexpected symbol `end-of-file'\n";
        let e = extract("csharp", out, None, code, "main.cs").unwrap();
        assert_eq!((e.line, e.source_line.as_deref()), (Some(5), Some("}")));
        // A symbol in mid-line stays where it is.
        let code = "class P {\n  static void Main() { for (int i = 0; i < 3 i++) { } }\n}\n";
        let out = "main.cs(2,30): error CS1525: Unexpected symbol `i'\n";
        let e = extract("csharp", out, None, code, "main.cs").unwrap();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn a_missing_main_is_shown_at_the_class() {
        let code = "using System;\n\nclass Program {\n    static void Hello() { }\n}\n";
        let out = "error CS5001: Program `main.exe' does not contain a static `Main' method suitable for an entry point\nCompilation failed: 1 error(s), 0 warnings\n";
        let e = extract("csharp", out, None, code, "main.cs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("CS5001", Some(3)));
        assert_eq!(e.source_line.as_deref(), Some("class Program {"));
    }

    #[test]
    fn exceptions_at_the_students_line() {
        let out = "\nUnhandled Exception:\nSystem.FormatException: Input string was not in a correct format.\n  at System.Number.ThrowOverflowOrFormatException (System.Boolean overflow, System.String overflowResourceKey) [0x00020] in <8611ac11d22247aabb4fd94490032492>:0 \n  at System.Int32.Parse (System.String s) [0x00019] in <8611ac11d22247aabb4fd94490032492>:0 \n  at Program.Main () [0x00006] in /sandbox/main.cs:4 \n[ERROR] FATAL UNHANDLED EXCEPTION: System.FormatException: Input string was not in a correct format.\n  at Program.Main () [0x00006] in /sandbox/main.cs:4 \n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("FormatException", "Input string was not in a correct format.", Some(4))
        );
        let out = "\nUnhandled Exception:\nSystem.ArgumentNullException: Value cannot be null.\nParameter name: s\n  at System.Int32.Parse (System.String s) [0x00006] in <8611ac11d22247aabb4fd94490032492>:0 \n  at Program.Main () [0x00006] in /sandbox/main.cs:4 \n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!(e.error_type, "ArgumentNullException");
        assert_eq!(e.message, "Value cannot be null.\nParameter name: s");
        let out = "\nUnhandled Exception:\nSystem.Collections.Generic.KeyNotFoundException: The given key 'b' was not present in the dictionary.\n  at System.Collections.Generic.Dictionary`2[TKey,TValue].get_Item (TKey key) [0x00021] in <8611ac11d22247aabb4fd94490032492>:0 \n  at Program.Main () [0x00019] in /sandbox/main.cs:7 \n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("KeyNotFoundException", Some(7)));
        let out = "\nUnhandled Exception:\nStackOverflowException\n  at Program.F (System.Int32 n) [0x00004] in /sandbox/main.cs:3 \n  at Program.F (System.Int32 n) [0x00004] in /sandbox/main.cs:3 \n";
        let e = extract("csharp", out, None, "", "main.cs").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("StackOverflowException", "", Some(3))
        );
        assert_eq!(extract("csharp", "Killed\n", None, "", "main.cs"), None);
        // A stack overflow's 1,000 frames run past the scan window: the header at the top counts.
        let frame = "  at School.Homework.Calculator.ComputeRecursively (System.Int64 number, System.String label) [0x00006] in /sandbox/main.cs:4 \n";
        let out = format!(
            "\nUnhandled Exception:\nStackOverflowException\n[ERROR] FATAL UNHANDLED EXCEPTION: System.StackOverflowException: The requested operation caused a stack overflow.\n{}",
            frame.repeat(1000)
        );
        let e = extract("csharp", &out, None, "", "main.cs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("StackOverflowException", Some(4)));
    }
}
