//! One telemetry set-up for every service: `tracing` to stdout, `info` unless `RUST_LOG` says otherwise,
//! as JSON lines (for log shippers) or human-readable text. Every line passes through [`crate::redact::text`] on
//! its way out ([`Redacting`]): a URL with credentials (a provider's key in its path, a user and password) is never
//! logged, whichever code logged it — an error of an HTTP client quoting the URL it failed to reach included.

use std::io::Write;

use serde::Deserialize;
use tracing_subscriber::fmt::MakeWriter;

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

/// Installs the global subscriber (filter from `RUST_LOG`, default `info`), writing to stdout through
/// [`Redacting`]. Later calls are no-ops, so tests that start several services in one process may call it freely.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(Redacting(std::io::stdout));
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

/// A [`MakeWriter`] that redacts each log line ([`crate::redact::text`]) before the inner writer gets it.
#[derive(Clone, Debug)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactedLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine { line: Vec::new(), inner: self.0.make_writer() }
    }
}

/// One event's output, collected and written redacted when dropped (the formatter makes one writer per event).
#[derive(Debug)]
pub struct RedactedLine<W: Write> {
    line: Vec<u8>,
    inner: W,
}

impl<W: Write> Write for RedactedLine<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactedLine<W> {
    fn drop(&mut self) {
        let line = std::mem::take(&mut self.line);
        let _ = match std::str::from_utf8(&line) {
            Ok(text) if text.contains("://") => self.inner.write_all(crate::redact::text(text).as_bytes()),
            _ => self.inner.write_all(&line),
        };
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_log_line_carries_a_urls_credentials_json_or_text() {
        let key = "64a9df0874fb4a93b9d0a3849de012d3";
        let rpc_url = format!("https://user:pass@bsc.provider.io/v1/{key}");
        for json in [true, false] {
            let captured = Captured::default();
            let sink = captured.clone();
            let builder = tracing_subscriber::fmt().with_writer(Redacting(move || sink.clone())).with_ansi(false);
            let log = || {
                tracing::info!(rpc_url = %rpc_url, "following the chain");
                tracing::error!(error = %format!("error sending request for url ({rpc_url})"), "rpc failed");
                tracing::warn!("preflight: {rpc_url} could not be read");
            };
            if json {
                tracing::subscriber::with_default(builder.json().finish(), log);
            } else {
                tracing::subscriber::with_default(builder.finish(), log);
            }
            let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            assert_eq!(out.lines().count(), 3, "{out}");
            assert!(!out.contains(key) && !out.contains("user:pass"), "{out}");
            assert_eq!(out.matches("https://***@bsc.provider.io/v1/***").count(), 3, "{out}");
        }
    }
}
