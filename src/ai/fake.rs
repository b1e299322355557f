//! A fake OpenAI-compatible server for tests: real HTTP/1.1 on loopback, the real
//! `POST …/chat/completions` shape, and the failure modes the client must survive.
//!
//! Deliberately tiny (one request per connection, `Connection: close`), so a test can see
//! exactly what the client sent and make the server misbehave on cue.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, PartialEq)]
pub enum FakeMode {
    /// A good answer in the requested language.
    Normal,
    /// A first answer with a code block, a clean one when asked to rewrite.
    CodeThenClean,
    /// Code every time.
    AlwaysCode,
    /// Answers after a delay.
    Slow(Duration),
    /// `429` with `retry-after` for the first `times` requests, then normal.
    RateLimited { times: u32, retry_after: String },
    /// `500` for the first `times` requests, then normal.
    ServerError { times: u32 },
    /// A body that is not JSON.
    Malformed,
    /// `finish_reason: "length"` with empty content.
    LengthEmpty,
    /// `401` as for a wrong key.
    Unauthorized,
    /// Groq's answer for a retired model.
    Decommissioned,
}

#[derive(Clone)]
pub struct FakeOpenAi {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

struct State {
    mode: FakeMode,
    requests: Vec<Value>,
    headers: Vec<String>,
    served: u32,
}

impl FakeOpenAi {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start(mode: FakeMode) -> std::io::Result<FakeOpenAi> {
        Self::start_on(([127, 0, 0, 1], 0).into(), mode).await
    }

    /// Starts the server on `addr` (e.g. every interface, for clients inside containers).
    pub async fn start_on(addr: std::net::SocketAddr, mode: FakeMode) -> std::io::Result<FakeOpenAi> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            mode,
            requests: Vec::new(),
            headers: Vec::new(),
            served: 0,
        }));
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, st).await;
                });
            }
        });
        Ok(FakeOpenAi { addr, state })
    }

    /// What to put in `AI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/openai/v1", self.addr)
    }

    pub fn set_mode(&self, mode: FakeMode) {
        let mut s = self.lock();
        s.mode = mode;
        s.served = 0;
    }

    /// Request bodies received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.lock().requests.clone()
    }

    /// Raw request heads received so far (request line and headers).
    pub fn heads(&self) -> Vec<String> {
        self.lock().headers.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    let (mode, served) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.requests.push(body.clone());
        s.headers.push(head.clone());
        s.served += 1;
        (s.mode.clone(), s.served)
    };
    let ok_path = head.starts_with("POST ") && head.lines().next().is_some_and(|l| l.contains("/chat/completions"));
    let models = head.starts_with("GET ") && head.lines().next().is_some_and(|l| l.contains("/models"));
    let (status, extra, payload) = if models {
        // `GET /models`, as `devmentor doctor` uses it to try the key.
        match mode {
            FakeMode::Unauthorized => (
                401,
                String::new(),
                json!({"error": {"message": "Invalid API Key", "code": "invalid_api_key"}}).to_string(),
            ),
            _ => (
                200,
                String::new(),
                json!({"object": "list", "data": [{"id": "openai/gpt-oss-20b", "object": "model"},
                                                 {"id": "llama-3.1-8b-instant", "object": "model"}]})
                .to_string(),
            ),
        }
    } else if !ok_path {
        (
            404,
            String::new(),
            json!({"error": {"message": "not found"}}).to_string(),
        )
    } else {
        respond(&mode, served, &body).await
    };
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{payload}",
        payload.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

async fn respond(mode: &FakeMode, served: u32, body: &Value) -> (u16, String, String) {
    let completion = |content: &str, finish: &str| {
        json!({
            "id": format!("chatcmpl-fake-{served}"),
            "object": "chat.completion",
            "model": body.get("model").cloned().unwrap_or(Value::Null),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 90, "total_tokens": 210}
        })
        .to_string()
    };
    let good = answer_for(body);
    match mode {
        FakeMode::Normal => (200, String::new(), completion(&good, "stop")),
        FakeMode::CodeThenClean => {
            let asked_rewrite = body.get("messages").and_then(|m| m.as_array()).is_some_and(|m| m.len() > 2);
            if asked_rewrite {
                (200, String::new(), completion(&good, "stop"))
            } else {
                (200, String::new(), completion(&format!("{good}\n```python\nprint(fixed)\n```"), "stop"))
            }
        }
        FakeMode::AlwaysCode => (200, String::new(), completion("Do this:\n```\nx = 1\n```", "stop")),
        FakeMode::Slow(d) => {
            tokio::time::sleep(*d).await;
            (200, String::new(), completion(&good, "stop"))
        }
        FakeMode::RateLimited { times, retry_after } if served <= *times => (
            429,
            format!("retry-after: {retry_after}\r\n"),
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}).to_string(),
        ),
        FakeMode::ServerError { times } if served <= *times => {
            (500, String::new(), json!({"error": {"message": "internal error"}}).to_string())
        }
        FakeMode::RateLimited { .. } | FakeMode::ServerError { .. } => (200, String::new(), completion(&good, "stop")),
        FakeMode::Malformed => (200, String::new(), "{\"choices\": [ this is not json".to_string()),
        FakeMode::LengthEmpty => (200, String::new(), completion("", "length")),
        FakeMode::Unauthorized => (
            401,
            String::new(),
            json!({"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}}).to_string(),
        ),
        FakeMode::Decommissioned => (
            400,
            String::new(),
            json!({"error": {"message": "The model `llama3-8b-8192` has been decommissioned and is no longer supported.", "type": "invalid_request_error", "code": "model_decommissioned"}}).to_string(),
        ),
    }
}

/// A plausible mentor answer that quotes the error it was given, in the requested language.
fn answer_for(body: &Value) -> String {
    let messages = body
        .get("messages")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    let system = messages
        .first()
        .and_then(|m| m.get("content"))
        .and_then(|c| c.as_str())
        .unwrap_or("");
    let user = messages
        .get(1)
        .and_then(|m| m.get("content"))
        .and_then(|c| c.as_str())
        .unwrap_or("");
    let field = |name: &str| {
        user.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("?")
            .to_string()
    };
    let (kind, line) = (field("Error type:"), field("Line:"));
    if system.contains("Answer in Russian") {
        format!(
            "Ошибка {kind} возникла в строке {line}. Это значит, что программа попыталась сделать то, что в этот момент \
             невозможно. Посмотри внимательно на эту строку и на значения переменных перед ней: возможно, одна из них \
             пустая или имеет не тот тип, который ты ожидал. Подумай, откуда берётся каждое значение, и проверь это \
             с помощью временного вывода на экран. Такие ошибки часто появляются, когда данные приходят не в том виде, \
             в каком мы их ждём, поэтому начни с проверки входных данных."
        )
    } else {
        format!(
            "The error {kind} happened on line {line}. It means the program tried to do something that was not possible \
             at that moment. Look closely at that line and at the values of the variables right before it: one of them \
             may be empty or of a different type than you expected. Think about where each value comes from and check it \
             with a temporary print. Errors like this often appear when data does not arrive in the shape we expect, \
             so start by checking the input."
        )
    }
}
