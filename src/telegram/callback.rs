//! Inline-button callback data: short (Telegram allows 64 bytes), versionless, parsed strictly.

use crate::registry::Locale;

#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// 🔁 run check N again.
    Rerun(i64),
    /// 🧠 explain check N's error with the AI.
    Explain(i64),
    /// 📄 the full output of check N as a document.
    FullOutput(i64),
    /// ⌨️ run check N's code again with input the student types next.
    Input(i64),
    /// 👍 (true) / 👎 (false) on check N's explanation.
    Vote(i64, bool),
    /// 🕘 history page N (0 = newest).
    History(i64),
    /// The programming language for future code (and for code waiting for one).
    Language(String),
    /// The interface language.
    Locale(Locale),
    /// An unknown user asks for access.
    RequestAccess,
}

impl Callback {
    pub fn encode(&self) -> String {
        match self {
            Callback::Rerun(id) => format!("r:{id}"),
            Callback::Explain(id) => format!("x:{id}"),
            Callback::FullOutput(id) => format!("f:{id}"),
            Callback::Input(id) => format!("i:{id}"),
            Callback::Vote(id, up) => format!("v:{id}:{}", if *up { 1 } else { 0 }),
            Callback::History(page) => format!("h:{page}"),
            Callback::Language(name) => format!("l:{name}"),
            Callback::Locale(l) => format!("s:{}", l.as_str()),
            Callback::RequestAccess => "a".into(),
        }
    }

    pub fn parse(data: &str) -> Option<Callback> {
        if data.len() > 64 {
            return None;
        }
        let (kind, arg) = data.split_once(':').unwrap_or((data, ""));
        let id = || arg.parse::<i64>().ok().filter(|n| *n >= 0);
        Some(match kind {
            "r" => Callback::Rerun(id()?),
            "x" => Callback::Explain(id()?),
            "f" => Callback::FullOutput(id()?),
            "i" => Callback::Input(id()?),
            "h" => Callback::History(id()?),
            "v" => {
                let (n, up) = arg.split_once(':')?;
                let up = match up {
                    "1" => true,
                    "0" => false,
                    _ => return None,
                };
                Callback::Vote(n.parse().ok().filter(|n: &i64| *n >= 0)?, up)
            }
            "l" if !arg.is_empty() && arg.len() <= 32 => Callback::Language(arg.to_string()),
            "s" => Callback::Locale(Locale::parse(arg)?),
            "a" if arg.is_empty() => Callback::RequestAccess,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        for c in [
            Callback::Rerun(i64::MAX),
            Callback::Explain(1),
            Callback::FullOutput(2),
            Callback::Input(3),
            Callback::Vote(4, true),
            Callback::Vote(4, false),
            Callback::History(0),
            Callback::Language("javascript".into()),
            Callback::Locale(Locale::En),
            Callback::RequestAccess,
        ] {
            let s = c.encode();
            assert!(s.len() <= 64, "{s}");
            assert_eq!(Callback::parse(&s), Some(c));
        }
        for bad in ["", "r:", "r:-1", "r:x", "v:1:2", "q:1", "s:de", "a:1", &"l:".repeat(40)] {
            assert_eq!(Callback::parse(bad), None, "{bad}");
        }
    }
}
