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
    /// 📚 the task list.
    Tasks,
    /// Task N's card.
    Task(i64),
    /// ✍️ send a solution to task N (task mode).
    Solve(i64),
    /// 💡 hint number K (0-based) for submission N.
    Hint(i64, i64),
    /// "Which language?" answered: run the program of message N in this language (only it).
    RunAs(i32, String),
    /// Make this language the default for code that does not say its own.
    MakeDefault(String),
    /// 📖 the catalogue's example (wrong and right) for check N's error.
    Example(i64),
    /// ⏹ stop check N while it runs.
    Stop(i64),
    /// 📋 check N's card again (from `/history`).
    Card(i64),
    /// FAQ entry N's answer.
    Faq(i64),
    /// FAQ question list page N (0 = first).
    FaqPage(i64),
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
            Callback::Tasks => "T".into(),
            Callback::Task(id) => format!("t:{id}"),
            Callback::Solve(id) => format!("o:{id}"),
            Callback::Hint(id, k) => format!("n:{id}:{k}"),
            Callback::RunAs(mid, name) => format!("p:{mid}:{name}"),
            Callback::MakeDefault(name) => format!("d:{name}"),
            Callback::Example(id) => format!("e:{id}"),
            Callback::Stop(id) => format!("c:{id}"),
            Callback::Card(id) => format!("k:{id}"),
            Callback::Faq(id) => format!("A:{id}"),
            Callback::FaqPage(page) => format!("Q:{page}"),
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
            "T" if arg.is_empty() => Callback::Tasks,
            "t" => Callback::Task(id()?),
            "o" => Callback::Solve(id()?),
            "c" => Callback::Stop(id()?),
            "k" => Callback::Card(id()?),
            "A" => Callback::Faq(id()?),
            "Q" => Callback::FaqPage(id()?),
            "n" => {
                let (n, k) = arg.split_once(':')?;
                let n = n.parse().ok().filter(|n: &i64| *n >= 0)?;
                Callback::Hint(n, k.parse().ok().filter(|k: &i64| (0..100).contains(k))?)
            }
            "p" => {
                let (mid, name) = arg.split_once(':')?;
                let mid = mid.parse().ok().filter(|n: &i32| *n >= 0)?;
                if name.is_empty() || name.len() > 32 {
                    return None;
                }
                Callback::RunAs(mid, name.to_string())
            }
            "d" if !arg.is_empty() && arg.len() <= 32 => Callback::MakeDefault(arg.to_string()),
            "e" => Callback::Example(id()?),
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
            Callback::Tasks,
            Callback::Task(7),
            Callback::Solve(7),
            Callback::Hint(i64::MAX, 99),
            Callback::RunAs(i32::MAX, "typescript".into()),
            Callback::MakeDefault("cpp".into()),
            Callback::Example(8),
            Callback::Stop(i64::MAX),
            Callback::Card(5),
            Callback::Faq(6),
            Callback::FaqPage(0),
        ] {
            let s = c.encode();
            assert!(s.len() <= 64, "{s}");
            assert_eq!(Callback::parse(&s), Some(c));
        }
        for bad in [
            "",
            "r:",
            "r:-1",
            "c:",
            "k:x",
            "q:-2",
            "Q:",
            "r:x",
            "v:1:2",
            "q:1",
            "s:de",
            "a:1",
            &"l:".repeat(40),
            "p:1",
            "p:x:c",
            "p:1:",
            "d:",
        ] {
            assert_eq!(Callback::parse(bad), None, "{bad}");
        }
    }
}
