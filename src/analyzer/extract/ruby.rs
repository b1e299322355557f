//! Ruby's report of an uncaught exception or a syntax error.
//!
//! An exception: `main.rb:2:in '<main>': undefined method 'chomp' for nil (NoMethodError)`,
//! the class in parentheses at the end of the message's first line, then the rest of the message
//! (error_highlight's `^^^^` and did_you_mean's `Did you mean?  name`) and `\tfrom main.rb:N:in …`
//! frames. A syntax error: `main.rb:4: syntax error, unexpected 'end' …`, after the outline
//! syntax_suggest prints. Ruby 3.3 quotes names with a backtick and an apostrophe (`` `x' ``),
//! 3.4 with two apostrophes (`'x'`); patterns in the catalogue accept both.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn extract(output: &str, file_name: &str) -> Option<ExtractedError> {
    syntax_error(output, file_name).or_else(|| exception(output, file_name))
}

fn ours(file: &str, file_name: &str) -> bool {
    file == file_name || file.ends_with(&format!("/{file_name}"))
}

fn syntax_error(output: &str, file_name: &str) -> Option<ExtractedError> {
    // 3.3's parse.y: `main.rb:4: syntax error, unexpected …`; 3.4's prism: `main.rb:4: syntax
    // errors found (SyntaxError)` with the errors listed below as `> 4 | …` and `^ message`.
    static SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?P<file>[^\s:][^:\n]*):(?P<line>\d+): (?P<msg>syntax errors?\b.*?)(?: \(SyntaxError\))?$")
            .expect("static regex")
    });
    let c = SYNTAX.captures_iter(output).find(|c| ours(&c["file"], file_name))?;
    Some(ExtractedError {
        error_type: "SyntaxError".into(),
        message: c["msg"].to_string(),
        line: c["line"].parse().ok(),
        ..Default::default()
    })
}

fn exception(output: &str, file_name: &str) -> Option<ExtractedError> {
    // The header's location is where the exception was raised: `main.rb:2:in '<main>': `, or a
    // core file (`<internal:kernel>:…`); the first frame in the student's file is their line.
    static HEADER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?P<file>\S+?):(?P<line>\d+):in [`'][^']*': (?P<rest>.*)$").expect("static regex")
    });
    static CLASS_AT_END: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?P<msg>.*?) ?\((?P<type>[A-Z][\w:]*)\)$").expect("static regex"));
    static FRAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+from (?P<file>\S+?):(?P<line>\d+):").expect("static regex"));
    static DID_YOU_MEAN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*Did you mean\?\s+(?P<s>\S.*?)\s*$").expect("static regex"));
    let lines: Vec<&str> = output.lines().collect();
    let (start, header) = lines
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, l)| HEADER.captures(l).map(|c| (i, c)))?;
    // The message may span lines: the class is on its first line, unless the message itself has
    // several (a custom `raise "a\nb"`), then it closes the last one before the frames.
    let mut body = vec![&header["rest"]];
    let mut error = None;
    let mut suggestion = None;
    let mut line = ours(&header["file"], file_name)
        .then(|| header["line"].parse().ok())
        .flatten();
    for (i, l) in lines[start..].iter().enumerate() {
        if i > 0 {
            if let Some(f) = FRAME.captures(l) {
                if line.is_none() && ours(&f["file"], file_name) {
                    line = f["line"].parse().ok();
                }
                continue;
            }
            if let Some(s) = DID_YOU_MEAN.captures(l) {
                suggestion.get_or_insert_with(|| s["s"].to_string());
            }
            if error.is_none() {
                body.push(l);
            }
        }
        if error.is_none() {
            if let Some(c) = CLASS_AT_END.captures(body.last().copied().unwrap_or_default()) {
                let text = if body.len() == 1 {
                    c["msg"].to_string()
                } else {
                    format!("{}\n{}", body[..body.len() - 1].join("\n"), &c["msg"])
                };
                error = Some((c["type"].to_string(), text));
            }
        }
    }
    let (full_type, message) = error?;
    Some(ExtractedError {
        error_type: full_type.rsplit("::").next().unwrap_or(&full_type).to_string(),
        // The first line is the message; what follows it is error_highlight's drawing.
        message: message.lines().next().unwrap_or("").to_string(),
        line,
        suggestion,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    // Output captured from devmentor/ruby (Ruby 3.3, Debian 13).
    use super::super::extract;

    fn ruby(stderr: &str) -> super::ExtractedError {
        extract("ruby", stderr, None, "", "main.rb").expect("an error")
    }

    #[test]
    fn exceptions_with_error_highlight_and_did_you_mean() {
        let e = ruby("main.rb:1:in `<main>': undefined method `chomp' for nil (NoMethodError)\n\nname = gets.chomp\n           ^^^^^^\n");
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("NoMethodError", "undefined method `chomp' for nil", Some(1))
        );
        let e = ruby("main.rb:3:in `<main>': undefined local variable or method `totl' for main (NameError)\n\nputs totl\n     ^^^^\nDid you mean?  total\n");
        assert_eq!(e.error_type, "NameError");
        assert_eq!(e.message, "undefined local variable or method `totl' for main");
        assert_eq!((e.line, e.suggestion.as_deref()), (Some(3), Some("total")));
        // Ruby 3.4's quoting.
        let e = ruby("main.rb:2:in 'Integer#/': divided by 0 (ZeroDivisionError)\n\tfrom main.rb:2:in '<main>'\n");
        assert_eq!((e.error_type.as_str(), e.line), ("ZeroDivisionError", Some(2)));
    }

    #[test]
    fn the_line_is_the_first_frame_in_the_students_file() {
        let e = ruby("<internal:kernel>:307:in `Integer': invalid value for Integer(): \"12a\" (ArgumentError)\n\tfrom main.rb:1:in `<main>'\n");
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("ArgumentError", "invalid value for Integer(): \"12a\"", Some(1))
        );
        let e = ruby("main.rb:2:in `countdown': stack level too deep (SystemStackError)\n\tfrom main.rb:2:in `countdown'\n\t ... 10908 levels...\n\tfrom main.rb:4:in `<main>'\n");
        assert_eq!((e.error_type.as_str(), e.line), ("SystemStackError", Some(2)));
        let e = ruby("/usr/lib/ruby/3.3.0/json/common.rb:219:in `parse': unexpected token at 'x' (JSON::ParserError)\n\tfrom /usr/lib/ruby/3.3.0/json/common.rb:219:in `parse'\n\tfrom main.rb:2:in `<main>'\n");
        assert_eq!((e.error_type.as_str(), e.line), ("ParserError", Some(2)));
    }

    #[test]
    fn syntax_errors_after_syntax_suggest() {
        let e = ruby("main.rb: --> main.rb\nUnmatched keyword, missing `end' ?\n> 1  def square(x)\n> 4  puts square(4)\nmain.rb:4: syntax error, unexpected end-of-input, expecting `end' or dummy end (SyntaxError)\nputs square(4)\n              ^\n");
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            (
                "SyntaxError",
                "syntax error, unexpected end-of-input, expecting `end' or dummy end",
                Some(4)
            )
        );
        assert_eq!(extract("ruby", "plain text\n", None, "", "main.rb"), None);
    }
}
