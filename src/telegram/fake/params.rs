//! How a Bot API call's parameters come off the wire: JSON, a urlencoded form, or multipart
//! (teloxide sends documents that way), all read into one JSON object so the method handlers
//! need not care which the client chose.

use bytes::{Buf, Bytes};
use futures_util::TryStreamExt;
use serde_json::{json, Value};

/// The parameters of a call: JSON, a urlencoded form, or multipart (a document arrives as
/// `{"file_name", "bytes"}` under its field name).
pub(super) async fn read(
    ctype: Option<&str>,
    body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin + Send + 'static,
) -> Value {
    let ctype = ctype.unwrap_or("");
    if ctype.starts_with("multipart/form-data") {
        let boundary = ctype
            .split("boundary=")
            .nth(1)
            .unwrap_or("")
            .trim_matches('"')
            .to_string();
        let bytes = collect(body).await;
        return parse_multipart(&bytes, &boundary);
    }
    let bytes = collect(body).await;
    if ctype.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&bytes);
        let mut m = serde_json::Map::new();
        for (k, v) in pairs {
            m.insert(k, serde_json::from_str(&v).unwrap_or(Value::String(v)));
        }
        return Value::Object(m);
    }
    serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}))
}

async fn collect(
    body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin + Send + 'static,
) -> Vec<u8> {
    body.map_ok(|mut b| b.copy_to_bytes(b.remaining()))
        .try_fold(Vec::new(), |mut acc, b: Bytes| async move {
            acc.extend_from_slice(&b);
            Ok(acc)
        })
        .await
        .unwrap_or_default()
}

fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_multipart(body: &[u8], boundary: &str) -> Value {
    let mut m = serde_json::Map::new();
    if boundary.is_empty() {
        return Value::Object(m);
    }
    let delim = format!("--{boundary}");
    let parts = split_bytes(body, delim.as_bytes());
    for part in parts {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(sep) = find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..sep]).to_string();
        let mut content = &part[sep + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let disp = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or("");
        let name = attr(disp, "name").unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        match attr(disp, "filename") {
            Some(file_name) => {
                m.insert(name, json!({"file_name": file_name, "bytes": content}));
            }
            None => {
                let v = String::from_utf8_lossy(content).to_string();
                m.insert(name, serde_json::from_str(&v).unwrap_or(Value::String(v)));
            }
        }
    }
    // teloxide sends files as separate parts referenced by "attach://<part name>".
    let refs: Vec<(String, String)> = m
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_string())))
        .collect();
    for (field, part) in refs {
        if let Some(file) = m.remove(&part) {
            m.insert(field, file);
        }
    }
    Value::Object(m)
}

fn attr(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(body: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = find(rest, delim) {
        out.push(&rest[..i]);
        rest = &rest[i + delim.len()..];
    }
    out.push(rest);
    out.into_iter().skip(1).filter(|p| !p.starts_with(b"--")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XX\r\nContent-Disposition: form-data; name=\"document\"; filename=\"out.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n";
        let v = parse_multipart(body, "XX");
        assert_eq!(v["chat_id"], json!(42));
        assert_eq!(v["document"]["file_name"], json!("out.txt"));
        assert_eq!(v["document"]["bytes"], json!(b"hello".to_vec()));
    }

    #[test]
    fn urlencoded_values_are_decoded() {
        let pairs = serde_urlencoded_pairs(b"a=1&text=hi+there%21");
        assert_eq!(
            pairs,
            vec![("a".into(), "1".into()), ("text".into(), "hi there!".into())]
        );
    }
}
