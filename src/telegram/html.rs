//! Telegram's HTML subset, checked before a broadcast goes out: only the tags Telegram knows,
//! properly nested, `<a>` only with an http(s) or tg link, and the text within Telegram's 4,096
//! characters. What passes renders in a browser the way Telegram shows it.

use super::render::visible_len;

const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "blockquote",
    "tg-spoiler",
];

/// Why the text is not valid Telegram HTML (or too long), if it is not.
pub fn check(text: &str) -> Result<(), String> {
    check_markup(text)?;
    let n = visible_len(text);
    if n > super::render::TELEGRAM_TEXT_LIMIT {
        return Err(format!("{n} characters: Telegram allows 4096 in one message"));
    }
    Ok(())
}

/// Why the text is not valid Telegram HTML, if it is not, whatever its length (an FAQ answer
/// may take several messages).
pub fn check_markup(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("empty".into());
    }
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['<', '&']) {
        let after = &rest[i..];
        if after.starts_with('&') {
            let end = after.find(';').filter(|e| *e <= 10).ok_or("a bare & (write &amp;)")?;
            let entity = &after[1..end];
            let known = matches!(entity, "lt" | "gt" | "amp" | "quot")
                || entity
                    .strip_prefix('#')
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty());
            if !known {
                return Err(format!("unknown entity &{entity};"));
            }
            rest = &after[end + 1..];
            continue;
        }
        let end = after.find('>').ok_or("a tag is not closed with >")?;
        let inner = &after[1..end];
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
        } else {
            let mut parts = inner.splitn(2, char::is_whitespace);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            if !TAGS.contains(&name.as_str()) {
                return Err(format!("<{name}> is not allowed by Telegram"));
            }
            let attrs = parts.next().unwrap_or("").trim();
            match name.as_str() {
                "a" => {
                    let href = attrs
                        .strip_prefix("href=\"")
                        .and_then(|h| h.strip_suffix('"'))
                        .ok_or("<a> needs href=\"…\"")?;
                    if !(href.starts_with("https://") || href.starts_with("http://") || href.starts_with("tg://")) {
                        return Err("links must start with https://, http:// or tg://".into());
                    }
                }
                "pre" | "code" | "blockquote"
                    if attrs.is_empty() || attrs.starts_with("class=\"language-") || attrs == "expandable" => {}
                _ if attrs.is_empty() => {}
                _ => return Err(format!("<{name}> takes no attributes here")),
            }
            stack.push(name);
        }
        rest = &after[end + 1..];
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> is never closed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn telegram_html_is_checked() {
        assert!(check("<b>Hi</b> <i>all</i> &amp; <a href=\"https://x.org\">link</a>").is_ok());
        assert!(check("").is_err());
        assert!(check("<script>x</script>").unwrap_err().contains("not allowed"));
        assert!(check("<b>open").unwrap_err().contains("never closed"));
        assert!(check("<b><i>x</b></i>").is_err());
        assert!(check("<a href=\"javascript:alert(1)\">x</a>").is_err());
        assert!(check("a & b").is_err());
        assert!(check(&"x".repeat(5000)).unwrap_err().contains("4096"));
        assert!(
            check(&format!("<b>{}</b>", "x".repeat(4096))).is_ok(),
            "tags do not count"
        );
    }
}
