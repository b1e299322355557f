//! The API's errors as HTTP answers: always `{"error": {"code": "…", "message": "…"}}` with the
//! status that fits, so a client can branch on `code` and show `message` to a person.
//!
//! Messages never carry internal detail (SQL, host names, Redis replies, tokens): that goes to
//! the log. [`recover`] turns every warp rejection into the same shape, so no request ever gets
//! warp's plain-text default.

use std::convert::Infallible;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

/// One error answer. Also a warp rejection, so a filter can refuse a request with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable, machine-readable: `unauthorized`, `rate_limited`, `unknown_language`, …
    pub code: &'static str,
    /// For a person; says what to do about it.
    pub message: String,
    /// `Retry-After`, in seconds (429, 503).
    pub retry_after: Option<u64>,
    /// `Allow`, for 405.
    pub allow: Option<&'static str>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "nothing here: check the path and the id",
        )
    }

    pub fn method_not_allowed(allow: &'static str) -> Problem {
        Problem {
            allow: Some(allow),
            ..Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("this path answers {allow} only"),
            )
        }
    }

    /// PostgreSQL did not answer. The pool reconnects by itself, so "try again" is honest.
    pub fn database_unavailable() -> Problem {
        Problem {
            retry_after: Some(5),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the service cannot reach its database right now; try again in a few seconds",
            )
        }
    }

    /// Redis did not take the job; nothing was kept, so the client may simply retry.
    pub fn queue_unavailable() -> Problem {
        Problem {
            retry_after: Some(5),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_unavailable",
                "the service cannot queue checks right now; nothing was saved, try again in a few seconds",
            )
        }
    }
}

impl warp::reject::Reject for Problem {}

impl Reply for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut res = warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        let headers = res.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"devmentor\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        res
    }
}

/// Turns any rejection into a JSON error; meant for `.recover(api::recover)` at the top of
/// the route tree, after other routes (admin panel, webhook) are joined to [`super::filters`]
/// with `.or`, so their rejections get the same shape.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(from_rejection(&rejection).into_response())
}

fn from_rejection(r: &Rejection) -> Problem {
    use warp::reject::{LengthRequired, MethodNotAllowed, PayloadTooLarge, UnsupportedMediaType};
    if r.is_not_found() {
        return Problem::not_found();
    }
    if let Some(p) = r.find::<Problem>() {
        return p.clone();
    }
    if r.find::<MethodNotAllowed>().is_some() {
        return Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not answer that method",
        );
    }
    if r.find::<warp::reject::InvalidQuery>().is_some() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "the query string cannot be read",
        );
    }
    if r.find::<PayloadTooLarge>().is_some() {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        );
    }
    if r.find::<LengthRequired>().is_some() {
        return Problem::new(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send a Content-Length header",
        );
    }
    if r.find::<UnsupportedMediaType>().is_some() {
        return Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "this content type is not accepted here",
        );
    }
    if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        return Problem::new(StatusCode::BAD_REQUEST, "malformed_body", e.to_string());
    }
    if r.find::<warp::reject::MissingHeader>().is_some() || r.find::<warp::reject::InvalidHeader>().is_some() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "bad_header",
            "a required header is missing or unreadable",
        );
    }
    tracing::error!(rejection = ?r, "unhandled rejection in the HTTP API");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the service failed to answer this request",
    )
}
