//! TypeScript: tsc's diagnostics, or Node's report of the compiled program's uncaught error.
//!
//! With `--pretty false` tsc prints one diagnostic per line, `main.ts(3,7): error TS2322: Type
//! 'string' is not assignable to type 'number'.`, followed by indented elaborations of the
//! message; a diagnostic about the options has no location (`error TS2688: …`). The error type is
//! the TS code, so an entry is chosen by the diagnostic's number, not its wording; the message
//! is the first line of the text (the elaborations explain *which* part did not fit). tsc's own
//! "Did you mean 'length'?" is split off as the suggestion by the common code.
//!
//! At run time the program is build/main.js, but the pack runs Node with source maps, so the
//! report names `/sandbox/main.ts:L` and quotes the TypeScript line: JavaScript's extractor reads
//! it as it is, with the student's own file name.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn extract(output: &str, file_name: &str) -> Option<ExtractedError> {
    diagnostic(output, file_name).or_else(|| super::javascript(output, file_name))
}

/// The first error tsc reports in the student's file, else the first one without a location.
fn diagnostic(output: &str, file_name: &str) -> Option<ExtractedError> {
    static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:(?P<file>[^\s(][^(\n]*)\((?P<line>\d+),\d+\): )?error (?P<code>TS\d+): (?P<msg>.*)$")
            .expect("static regex")
    });
    let mut unplaced = None;
    for c in DIAGNOSTIC.captures_iter(output) {
        let error = ExtractedError {
            error_type: c["code"].to_string(),
            message: c["msg"].trim_end().to_string(),
            line: c.name("line").and_then(|l| l.as_str().parse().ok()),
            ..Default::default()
        };
        match c.name("file").map(|f| f.as_str()) {
            Some(f) if f == file_name || f.ends_with(&format!("/{file_name}")) => return Some(error),
            // A library's declaration file: never the student's line.
            Some(_) => {}
            None => {
                unplaced.get_or_insert(error);
            }
        }
    }
    unplaced
}

#[cfg(test)]
mod tests {
    use super::super::extract as extract_any;

    fn extract(output: &str, code: &str) -> super::ExtractedError {
        extract_any("typescript", output, None, code, "main.ts").expect("an error")
    }

    // Captured from the sandbox (devmentor/typescript: tsc 4.9.5, Node.js 20.19).
    #[test]
    fn the_first_diagnostic_in_main_ts_with_its_code() {
        let code = "let count: number = 0;\ncount = \"one\";\nconsole.log(count.toFixed(2));\n";
        let e = extract(
            "main.ts(2,1): error TS2322: Type 'string' is not assignable to type 'number'.\nmain.ts(3,19): error TS2339: Property 'x' does not exist on type 'number'.\n",
            code,
        );
        assert_eq!(e.error_type, "TS2322");
        assert_eq!(e.message, "Type 'string' is not assignable to type 'number'.");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.source_line.as_deref(), Some("count = \"one\";"));
    }

    #[test]
    fn elaborations_stay_out_and_suggestions_are_split_off() {
        let e = extract(
            "main.ts(2,18): error TS2551: Property 'lenght' does not exist on type 'string'. Did you mean 'length'?\n",
            "const word = \"hi\";\nconsole.log(word.lenght);\n",
        );
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.suggestion.as_deref()),
            (
                "TS2551",
                "Property 'lenght' does not exist on type 'string'",
                Some("length")
            )
        );
        let e = extract(
            "main.ts(3,7): error TS2741: Property 'age' is missing in type '{ name: string; }' but required in type 'User'.\n  main.ts(1,32): 'age' is declared here.\n",
            "",
        );
        assert_eq!((e.error_type.as_str(), e.line), ("TS2741", Some(3)));
        assert!(e.message.ends_with("required in type 'User'."), "{}", e.message);
    }

    #[test]
    fn library_and_option_diagnostics_are_never_the_students_line() {
        let e = extract(
            "../usr/share/nodejs/@types/node/globals.d.ts(6,76): error TS2792: Cannot find module 'undici-types'.\nerror TS2688: Cannot find type definition file for 'node'.\n",
            "",
        );
        assert_eq!((e.error_type.as_str(), e.line), ("TS2688", None));
    }

    #[test]
    fn a_runtime_error_is_reported_at_the_typescript_line() {
        let stderr = "/sandbox/main.ts:3\n  return \"Hi \" + u.name.toUpperCase();\n                   ^\n\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at greet (/sandbox/main.ts:3:20)\n    at Object.<anonymous> (/sandbox/main.ts:7:13)\n    at Module._compile (node:internal/modules/cjs/loader:1529:14)\n\nNode.js v20.19.2\n";
        let code = "interface User { name: string }\nfunction greet(u: User): string {\n  return \"Hi \" + u.name.toUpperCase();\n}\n";
        let e = extract(stderr, code);
        assert_eq!(e.error_type, "TypeError");
        assert_eq!(e.message, "Cannot read properties of undefined (reading 'name')");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.source_line.as_deref(), Some("return \"Hi \" + u.name.toUpperCase();"));
    }
}
