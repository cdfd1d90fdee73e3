//! Builds the service from `Settings` and binds it; tests call `run` with port 0.

use std::{future::Future, net::SocketAddr, sync::Arc};

use eyre::WrapErr;

use crate::{
    auth::Authenticator,
    config::{KeySettings, Settings},
    http::{AppState, router},
    key::{self, KeySource, pkcs11::KeyMetrics},
    metrics::Metrics,
    policy::Policy,
    signing::SigningService,
    store::Store,
};

/// Loads the key, opens the store, binds; returns the bound address and the server to await.
pub async fn run(settings: Settings) -> eyre::Result<(SocketAddr, impl Future<Output = std::io::Result<()>> + Send)> {
    run_until(settings, std::future::pending()).await
}

/// Serves until `shutdown` completes (the service's `main`, through [`service_kit::main`]).
pub async fn serve(settings: Settings, shutdown: service_kit::Shutdown) -> eyre::Result<()> {
    let (_, server) = run_until(settings, shutdown).await?;
    Ok(server.await?)
}

/// Like `run`, but the server stops (and closes the store) when `shutdown` completes.
pub async fn run_until(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> eyre::Result<(SocketAddr, impl Future<Output = std::io::Result<()>> + Send)> {
    // First, before the key is decrypted: a caller with a short secret stops the start at once, by name.
    let auth = Authenticator::new(settings.callers.clone(), settings.auth_window_secs)?;
    let policy = Policy::try_from(settings.policy.clone())?;
    if policy.approvals().is_none() {
        tracing::warn!(
            "no [policy.approvals]: payout batches, treasury transfers and refunds are signed on the caller's word \
             alone, without a proposer's and an approver's wallet signatures (development only)"
        );
    }
    let key_metrics = KeyMetrics::default();
    let mut keys = vec![load_key(&settings.key, &key_metrics).await?];
    if let Some(next) = &settings.next_key {
        // A rotation: which key signs for a contract is its signer(), read on the signer's own node of its chain.
        if let Some((target, _)) = policy.targets().into_iter().find(|(_, node)| !node) {
            eyre::bail!(
                "[key.next]: the signer signs for each contract with the key its signer() names, read on its own \
                 node of the chain, and chain {} has no [policy.chains.node]",
                target.chain_id
            );
        }
        keys.push(load_key(next, &key_metrics).await.map_err(|e| eyre::eyre!("[key.next]: {e:#}"))?);
    }
    let store = Store::open(&settings.store_path)
        .await
        .wrap_err_with(|| format!("opening the store {}", settings.store_path.display()))?;

    // Replays of requests that obtained a signature shortly before a restart are still refused.
    let recent = crate::http::unix_now().saturating_sub(2 * settings.auth_window_secs);
    for (mac, signed_at) in store.request_macs_since(recent).await? {
        auth.mark_seen(&mac, signed_at);
    }

    // Every key held is exported, 1 only while its token cannot sign (a keystore or development key never is).
    for key in &keys {
        let address = format!("{:#x}", key.address().await?);
        key_metrics.unavailable.get_or_create(&key::pkcs11::KeyLabels { address }).set(0);
    }
    let metrics = Arc::new(Metrics::new(store.commit_histogram(), store.sync_histogram(), key_metrics));
    let service = Arc::new(SigningService::with_keys(policy, store, keys).await?);
    if service.addresses().len() > 1 {
        tracing::warn!(
            keys = ?service.addresses(),
            "a rotation of the contract's signer is under way: each contract is signed for with the key its signer() names"
        );
    }
    let state = AppState { service: service.clone(), auth: Arc::new(auth), metrics };

    if !settings.bind.ip().is_loopback() {
        tracing::warn!(bind = %settings.bind, "the signer is listening beyond loopback");
    }
    let listener =
        tokio::net::TcpListener::bind(settings.bind).await.wrap_err_with(|| format!("binding {}", settings.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, signer = %service.address(), "signer listening");

    let limits = settings.limits;
    let stopped = service.stopped();
    // A request (body included) that takes longer than the limit is answered 408 and its connection closed.
    let app = router(state).layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout(),
    ));
    let per_connection = move |peer: SocketAddr| {
        let app = app.clone();
        tower::ServiceBuilder::new()
            .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                request
            })
            .service(app)
    };
    let grace = std::time::Duration::from_secs(limits.shutdown_grace_secs);
    let server = async move {
        let served = service_kit::serve::serve(listener, limits, per_connection, shutdown).await;
        // The last handles of the service went with the server's connections: the writer ends, closing the store
        // and the key's token sessions; the server is done only then, so that nothing of the signer still runs when
        // its process ends (a token session closed under SoftHSM2's teardown at exit crashed it: issue 64).
        if tokio::time::timeout(grace, stopped).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "the signer's writer had not stopped at the end of the grace period"
            );
        }
        served
    };
    Ok((address, server))
}

/// The key `settings` names, loaded and checked (a token's key: its library, token, PIN, key and address), its
/// failures counted in `metrics`.
async fn load_key(settings: &KeySettings, metrics: &KeyMetrics) -> eyre::Result<Arc<dyn KeySource>> {
    Ok(match settings {
        KeySettings::Keystore { path, passphrase } => Arc::new(key::from_keystore(path, passphrase).await?),
        KeySettings::InsecureDevKey(hex) => Arc::new(key::insecure_dev_key(hex)?),
        KeySettings::Pkcs11(spec) => Arc::new(key::pkcs11::HsmKey::open(spec.clone(), metrics.clone()).await?),
    })
}
