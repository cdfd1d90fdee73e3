//! `listener <config.toml>`: follows every configured chain into the ledger; a second instance stands by.

use std::{path::PathBuf, time::Duration};

use alloy::providers::{Provider, ProviderBuilder};
use backend::ledger::ChainLedger;
use listener::{
    ChainFollower, FollowerConfig,
    config::{ChainConfig, ListenerConfig},
    service::{ChainListener, acquire_chain_lock},
};
use sqlx::PgPool;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).json().init();
    let path: PathBuf = std::env::args().nth(1).ok_or_else(|| eyre::eyre!("usage: listener <config.toml>"))?.into();
    let config = ListenerConfig::load(&path)?;
    let pool = PgPool::connect(&config.database_url).await?;
    backend::db::migrate(&pool).await?;

    let mut chains = tokio::task::JoinSet::new();
    if let Some(address) = config.metrics_address {
        let socket = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(%address, "serving metrics");
        let ids = config.chains.iter().map(|c| c.chain_id).collect();
        let pool = pool.clone();
        chains.spawn(async move { Ok::<(), eyre::Report>(listener::metrics::serve(socket, pool, ids).await?) });
    }
    for chain in config.chains {
        chains.spawn(follow(pool.clone(), chain));
    }
    tokio::select! {
        () = backend::startup::shutdown_signal() => {}
        Some(ended) = chains.join_next() => {
            // A chain only ends by halting or a fatal error: say so and exit non-zero.
            ended??;
        }
    }
    Ok(())
}

async fn follow(pool: PgPool, chain: ChainConfig) -> eyre::Result<()> {
    let _lock = acquire_chain_lock(&pool, chain.chain_id, Duration::from_secs(5)).await?;
    tracing::info!(chain_id = chain.chain_id, "active listener for chain");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(chain.rpc_timeout_secs)).build()?;
    let provider = ProviderBuilder::new().connect_reqwest(http, chain.rpc_url.parse()?).erased();
    let follower_config = FollowerConfig {
        max_range: chain.max_log_range,
        ..FollowerConfig::new(chain.chain_id, chain.contract, chain.confirmations)
    };
    let follower = ChainFollower::new(provider, follower_config);
    let ledger = ChainLedger::open(pool, chain.chain_id).await?;
    let mut listener = ChainListener::new(follower, ledger, chain.start_block);
    listener.run(chain.poll_interval(), std::future::pending()).await?;
    Ok(())
}
