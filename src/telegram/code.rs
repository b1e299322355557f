//! Code in: a ```lang fence, plain text, or a document; and which language it is.

use crate::sandbox::Languages;

#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub code: String,
    /// The language named by the fence tag or the file extension (a language pack name).
    pub language: Option<String>,
    /// A fence tag or extension that names no language we run (to say so).
    pub unknown_tag: Option<String>,
}

/// Code from a message's text: the first fenced block when there is one (its tag picks the
/// language), else the whole text.
pub fn from_text(text: &str, languages: &Languages) -> Incoming {
    let Some(start) = text.find("```") else {
        return Incoming {
            code: text.trim_matches('\n').to_string(),
            language: None,
            unknown_tag: None,
        };
    };
    let after = &text[start + 3..];
    let (first_line, rest) = after.split_once('\n').unwrap_or((after, ""));
    let tag = first_line.trim();
    // "```print(1)```" on one line: no tag, the line is code.
    let (tag, body) = if tag.contains(char::is_whitespace) || tag.contains("```") || rest.is_empty() {
        ("", after)
    } else {
        (tag, rest)
    };
    let body = match body.find("```") {
        Some(end) => &body[..end],
        None => body,
    };
    let (language, unknown_tag) = resolve(tag, languages);
    Incoming {
        code: body.trim_matches('\n').to_string(),
        language,
        unknown_tag,
    }
}

/// Code from a document: the language from the file name's extension.
pub fn from_document(file_name: &str, text: String, languages: &Languages) -> Incoming {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let language = languages.by_extension(&ext).map(|p| p.name.clone());
    let unknown_tag = (language.is_none() && !ext.is_empty()).then(|| format!(".{ext}"));
    Incoming {
        code: text,
        language,
        unknown_tag,
    }
}

fn resolve(tag: &str, languages: &Languages) -> (Option<String>, Option<String>) {
    if tag.is_empty() {
        return (None, None);
    }
    match languages.find(&tag.to_ascii_lowercase()) {
        Some(p) => (Some(p.name.clone()), None),
        None => (None, Some(tag.chars().take(32).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::language::default_limits;

    fn langs() -> Languages {
        Languages::builtin(default_limits(10, 65536))
    }

    #[test]
    fn fences_pick_the_language() {
        let l = langs();
        let i = from_text("look:\n```js\nconsole.log(1)\n```\nthanks", &l);
        assert_eq!(i.code, "console.log(1)");
        assert_eq!(i.language.as_deref(), Some("javascript"));
        let i = from_text("```python\nprint(1)\nprint(2)\n```", &l);
        assert_eq!(i.code, "print(1)\nprint(2)");
        assert_eq!(i.language.as_deref(), Some("python"));
        let i = from_text("```\nx = 1\n```", &l);
        assert_eq!((i.code.as_str(), i.language), ("x = 1", None));
        let i = from_text("```brainfuck\n+++\n```", &l);
        assert_eq!(i.unknown_tag.as_deref(), Some("brainfuck"));
        let i = from_text("```print(1)```", &l);
        assert_eq!(i.code, "print(1)");
        let i = from_text("print('hi')\n", &l);
        assert_eq!((i.code.as_str(), i.language), ("print('hi')", None));
    }

    #[test]
    fn documents_by_extension() {
        let l = langs();
        assert_eq!(
            from_document("a.py", "x".into(), &l).language.as_deref(),
            Some("python")
        );
        assert_eq!(
            from_document("Main.JAVA", "x".into(), &l).language.as_deref(),
            Some("java")
        );
        let i = from_document("notes.docx", "x".into(), &l);
        assert_eq!((i.language, i.unknown_tag.as_deref()), (None, Some(".docx")));
        assert_eq!(from_document("README", "x".into(), &l).unknown_tag, None);
    }
}
