//! What every service binary (signer, API, listener, reconciler) shares, so that each configures, logs,
//! starts and stops the same way: [`config::load`] (TOML file + environment), the [`chain_spec`] every service reads, [`telemetry::init`], [`shutdown_signal`], and
//! [`metrics::serve`] for services without an HTTP API of their own, and [`stall`] watching the runtime.

#![warn(missing_docs)]

pub mod chain_spec;
pub mod config;
pub mod metrics;
pub mod serve;
pub mod stall;
pub mod telemetry;

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
