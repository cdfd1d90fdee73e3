//! What every service binary (signer, API, listener, reconciler) shares, so that each configures, logs,
//! starts and stops the same way: [`config::load`] (TOML file + environment), the [`chain_spec`] every service
//! reads, [`telemetry::init`] (every log line [`redact`]ed of URL credentials), anvil's well-known [`keys`] and
//! keystores whose errors name their file, [`shutdown_signal`], [`metrics::serve`] for services without an HTTP API
//! of their own, [`stall`] watching the runtime, and the [`work`] kit every background worker runs on.

#![warn(missing_docs)]

pub mod chain_spec;
pub mod config;
pub mod keys;
pub mod metrics;
pub mod redact;
pub mod serve;
pub mod stall;
pub mod telemetry;
pub mod work;

/// What stops a service: [`shutdown_signal`] in production, any future in tests.
pub type Shutdown = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The one shape of every service's `main` (signer, API, listener, reconciler): telemetry ([`telemetry::init`],
/// JSON lines unless `LOG_FORMAT=text`), then the configuration from `load` (a refusal ends the start with its
/// message), then `run` until Ctrl-C or SIGTERM. The error a service ends with is printed with its URLs redacted
/// ([`redact::text`]), as its log lines are.
pub async fn main<C, F>(load: impl FnOnce() -> eyre::Result<C>, run: impl FnOnce(C, Shutdown) -> F) -> eyre::Result<()>
where
    F: std::future::Future<Output = eyre::Result<()>>,
{
    telemetry::init(telemetry::format_from_env());
    let ended = match load() {
        Ok(config) => run(config, Box::pin(shutdown_signal())).await,
        Err(e) => Err(e),
    };
    ended.map_err(|e| eyre::eyre!("{}", redact::text(&format!("{e:#}"))))
}

/// The configuration file named by the first command-line argument (`usage` is the error when there is none).
/// `-h` or `--help` prints the usage and ends the process: it is no file name.
pub fn config_argument(usage: &str) -> eyre::Result<std::path::PathBuf> {
    match std::env::args_os().nth(1) {
        Some(arg) if arg == "-h" || arg == "--help" => {
            println!("usage: {usage}");
            std::process::exit(0)
        }
        Some(arg) => Ok(arg.into()),
        None => Err(eyre::eyre!("usage: {usage}")),
    }
}

/// Ctrl-C or SIGTERM (what `kill` and service managers send): servers stop accepting and finish the requests in
/// flight; the listener and reconciler stop between transactions.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
