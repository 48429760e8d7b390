//! `/metrics`: Prometheus text exposition format, version 0.0.4, written by hand.
//!
//! - `credence_http_request_duration_seconds`: a histogram of the time to the response's
//!   head, by route *template* (`/learners/{learner}`, never the path with its ids, so no
//!   personal data and a bounded number of series), method and status class (`2xx`...).
//! - `credence_jobs`: jobs in the queue by status; `credence_job_oldest_queued_age_seconds`:
//!   how long the oldest queued job has waited (0 when none waits). From one query at
//!   scrape time.
//! - `credence_db_pool_connections`, `credence_db_pool_idle_connections`: this server's
//!   database pool.
//!
//! The figures are this process's: with several servers, scrape each one.

use crate::app::App;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The upper bounds of the latency histogram's buckets, in seconds (`+Inf` is added).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One series of the latency histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Route template, method, status class.
type SeriesKey = (String, &'static str, &'static str);

/// The request counters of one router (one server). Cheap to share.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<SeriesKey, Histogram>>,
}

impl Metrics {
    /// Count one answered request.
    fn observe(&self, route: String, method: &'static str, class: &'static str, seconds: f64) {
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        let h = requests.entry((route, method, class)).or_default();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum += seconds;
    }
}

/// Methods are labelled by name only when they are ones the router serves, so a client
/// cannot make new series by inventing methods.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The middleware: time every request by its matched route template. Requests no route
/// matched are counted under `unmatched`, so that raw paths never become labels.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    metrics.observe(
        route,
        method,
        status_class(res.status().as_u16()),
        started.elapsed().as_secs_f64(),
    );
    res
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The job statuses, always all written so every series exists from the start.
const JOB_STATUSES: [&str; 4] = ["queued", "running", "done", "dead"];

/// `GET /metrics`.
pub async fn render(metrics: Arc<Metrics>, app: App) -> Response {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_requests(&mut out, &metrics);
    let _ = write_jobs(&mut out, &app).await;
    let _ = write_pool(&mut out, &app);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn write_requests(out: &mut String, metrics: &Metrics) -> std::fmt::Result {
    let series = metrics
        .requests
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    writeln!(
        out,
        "# HELP credence_http_request_duration_seconds Time from a request's arrival to its response head, by route template, method and status class."
    )?;
    writeln!(
        out,
        "# TYPE credence_http_request_duration_seconds histogram"
    )?;
    for ((route, method, class), h) in &series {
        let labels = format!(
            "route=\"{}\",method=\"{method}\",status=\"{class}\"",
            label(route)
        );
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            writeln!(
                out,
                "credence_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
            )?;
        }
        writeln!(
            out,
            "credence_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        )?;
        writeln!(
            out,
            "credence_http_request_duration_seconds_sum{{{labels}}} {}",
            h.sum
        )?;
        writeln!(
            out,
            "credence_http_request_duration_seconds_count{{{labels}}} {}",
            h.count
        )?;
    }
    Ok(())
}

async fn write_jobs(out: &mut String, app: &App) -> std::fmt::Result {
    let counts = match app.store.job_counts().await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: could not count the jobs");
            writeln!(
                out,
                "# The job queue could not be read: see the server's log."
            )?;
            return Ok(());
        }
    };
    writeln!(out, "# HELP credence_jobs Jobs in the queue, by status.")?;
    writeln!(out, "# TYPE credence_jobs gauge")?;
    for status in JOB_STATUSES {
        let n = counts
            .iter()
            .find(|(s, _, _)| s == status)
            .map_or(0, |(_, n, _)| *n);
        writeln!(out, "credence_jobs{{status=\"{status}\"}} {n}")?;
    }
    let oldest = counts
        .iter()
        .find(|(s, _, _)| s == "queued")
        .and_then(|(_, _, at)| at.as_deref())
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map_or(0.0, |at| {
            (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
                .num_milliseconds()
                .max(0) as f64
                / 1000.0
        });
    writeln!(
        out,
        "# HELP credence_job_oldest_queued_age_seconds How long the oldest queued job has waited (0 when none waits)."
    )?;
    writeln!(out, "# TYPE credence_job_oldest_queued_age_seconds gauge")?;
    writeln!(out, "credence_job_oldest_queued_age_seconds {oldest}")?;
    Ok(())
}

fn write_pool(out: &mut String, app: &App) -> std::fmt::Result {
    let pool = app.store.pool();
    writeln!(
        out,
        "# HELP credence_db_pool_connections Connections this server's database pool holds."
    )?;
    writeln!(out, "# TYPE credence_db_pool_connections gauge")?;
    writeln!(out, "credence_db_pool_connections {}", pool.size())?;
    writeln!(
        out,
        "# HELP credence_db_pool_idle_connections Of those, connections not in use."
    )?;
    writeln!(out, "# TYPE credence_db_pool_idle_connections gauge")?;
    writeln!(out, "credence_db_pool_idle_connections {}", pool.num_idle())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_counts_in_its_bucket_and_every_one_above() {
        let m = Metrics::default();
        m.observe("/learners/{learner}".into(), "GET", "2xx", 0.03);
        m.observe("/learners/{learner}".into(), "GET", "2xx", 20.0);
        let mut out = String::new();
        write_requests(&mut out, &m).unwrap();
        let line = |le: &str| {
            format!(
                "credence_http_request_duration_seconds_bucket{{route=\"/learners/{{learner}}\",method=\"GET\",status=\"2xx\",le=\"{le}\"}}"
            )
        };
        assert!(out.contains(&format!("{} 0\n", line("0.025"))), "{out}");
        assert!(out.contains(&format!("{} 1\n", line("0.05"))), "{out}");
        assert!(out.contains(&format!("{} 1\n", line("10"))), "{out}");
        assert!(out.contains(&format!("{} 2\n", line("+Inf"))), "{out}");
        assert!(
            out.contains("_count{route=\"/learners/{learner}\",method=\"GET\",status=\"2xx\"} 2\n")
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
