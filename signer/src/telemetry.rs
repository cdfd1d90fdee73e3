//! Tracing set-up, once per process: the workspace's one telemetry init (JSON lines unless `LOG_FORMAT=text`,
//! filtered by `RUST_LOG`, default `info`).

/// Installs the global tracing subscriber; later calls do nothing.
pub fn init() {
    service_kit::telemetry::init(service_kit::telemetry::format_from_env());
}
