//! The request id: one per request, taken from the proxy's `X-Request-Id` when it sends a
//! sensible one, otherwise a new UUID. It is returned in the `X-Request-Id` response
//! header, carried by the tracing span every log line of the request is written in, and
//! quoted on every 5xx page and API error (see [`reference`]), so that a person who reports
//! "it went wrong" gives the operator the one string that finds the log lines.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
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
    let api = super::access::is_api(req.uri().path());
    let started = std::time::Instant::now();
    // A handler that panics still answers: a 500 that quotes the id, like any server error
    // (otherwise the connection would just close).
    let run = std::panic::AssertUnwindSafe(next.run(req)).catch_unwind();
    let answer = REQUEST_ID
        .scope(id.clone(), run)
        .instrument(span.clone())
        .await;
    let mut res = match answer {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            span.in_scope(|| tracing::error!(panic = %what, "the handler panicked"));
            REQUEST_ID.sync_scope(id.clone(), || {
                let message = "Something went wrong on our side. Try again; if it keeps happening, tell your administrator.";
                if api {
                    super::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
                        .into_response()
                } else {
                    super::pages::message_page(StatusCode::INTERNAL_SERVER_ERROR, message)
                }
            })
        }
    };
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

    async fn panics() -> &'static str {
        panic!("a bug")
    }

    /// A panicking handler answers 500 with the id to quote, as a page or as the API's
    /// error envelope.
    #[tokio::test]
    async fn a_panicking_handler_still_answers_with_the_reference() {
        use tower::ServiceExt;
        let router = axum::Router::new()
            .route("/boom", axum::routing::get(panics))
            .route("/api/v1/boom", axum::routing::get(panics))
            .layer(axum::middleware::from_fn(assign));
        for (path, json) in [("/boom", false), ("/api/v1/boom", true)] {
            let res = router
                .clone()
                .oneshot(
                    Request::get(path)
                        .header(HEADER, "proxy-7")
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(res.headers()[HEADER], "proxy-7");
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(body.contains("Quote this reference: proxy-7."), "{body}");
            assert_eq!(body.starts_with("{\"errors\""), json, "{body}");
        }
    }

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
