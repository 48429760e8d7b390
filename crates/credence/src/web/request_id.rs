//! The request id: one per request, taken from the proxy's `X-Request-Id` when it sends a
//! sensible one, otherwise a new UUID. It is returned in the `X-Request-Id` response
//! header, carried by the tracing span every log line of the request is written in, and
//! quoted on every 5xx page and API error (see [`reference`]), so that a person who reports
//! "it went wrong" gives the operator the one string that finds the log lines.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header the id comes in (from a proxy) and goes out in.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request this task is answering.
    static REQUEST_ID: String;
}

/// Whether a proxy's id is one we repeat in headers and logs: 1 to 128 letters, digits,
/// `-`, `_`, `.` or `:`. Anything else (too long, spaces, control characters) is replaced.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The id of the request being answered, when there is one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// What a person quotes when something went wrong: the request's id, or outside a request
/// (the command line) a new id, which the caller logs with the error.
pub fn reference() -> String {
    current().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The middleware: give the request its id, run it inside a span carrying the id, and
/// return the id in the response header.
pub async fn assign(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    // At error level so the span is on whenever an error is logged (the default filter is
    // `warn`): every line the request writes carries its id.
    let span = tracing::error_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = %route,
    );
    let started = std::time::Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            millis = started.elapsed().as_millis() as u64,
            "answered"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sensible_ids_from_a_proxy_are_kept() {
        for good in [
            "abc",
            "6f1c9a2e-4b1d-4c7a-9a53-0d9c1f2b3e4d",
            "nginx.1:42_x",
        ] {
            assert!(acceptable(good), "{good}");
        }
        let long = "a".repeat(129);
        for bad in ["", "two words", "<script>", "line\nbreak", long.as_str()] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
