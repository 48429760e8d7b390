//! Log lines: human-readable by default, or one JSON object a line (`--log-format json`,
//! `CREDENCE_LOG_FORMAT=json`) for a log collector. Inside a request every line carries the
//! request's span, with its `request_id` (see [`crate::web::request_id`]).

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The subscriber that writes Credence's logs in `format` to `writer`, keeping the lines
/// `filter` lets through. The binary installs it once; tests install it around a block.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        // The request's span (with `request_id`) is in `span`, every open span in `spans`.
        LogFormat::Json => Box::new(logs.json().with_current_span(true).finish()),
        LogFormat::Text => Box::new(logs.finish()),
    }
}
