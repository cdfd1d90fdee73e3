//! One telemetry set-up for every service: `tracing` to stdout, `info` unless `RUST_LOG` says otherwise,
//! as JSON lines (for log shippers) or human-readable text.

use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// Installs the global subscriber (filter from `RUST_LOG`, default `info`). Later calls are no-ops, so tests
/// that start several services in one process may call it freely.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The format named by `LOG_FORMAT` (`json` or `text`), JSON when unset or unknown.
pub fn format_from_env() -> LogFormat {
    match std::env::var("LOG_FORMAT").as_deref() {
        Ok("text") => LogFormat::Text,
        _ => LogFormat::Json,
    }
}
