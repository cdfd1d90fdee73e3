//! Running the listener service: connect and migrate, serve metrics, follow every configured chain (each behind
//! its advisory lock, so a second instance stands by) until a shutdown signal or a chain stops. The preflight's
//! checks run beside it and only log what they find: the listener never refuses to start on a finding — after a
//! compromise, a restart must not switch the ledger's following off; the reconciler pages the findings.

use std::{future::Future, sync::Arc, time::Duration};

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use ledger::ChainLedger;
use sqlx::PgPool;

use crate::{
    ChainFollower, FollowerConfig,
    config::{ChainConfig, ListenerConfig},
    metrics::ListenerMetrics,
    service::{ChainListener, acquire_chain_lock},
};

/// Runs until `shutdown` completes (`Ok`) or a chain stops by halting or a fatal error (`Err`).
pub async fn run(config: ListenerConfig, shutdown: impl Future<Output = ()>) -> eyre::Result<()> {
    let pool = PgPool::connect(&config.database_url).await?;
    ledger::db::migrate(&pool).await?;
    let specs: Vec<_> = config.chains.iter().map(|c| c.spec.clone()).collect();
    for spec in &specs {
        let rpc_url = spec.shown_rpc_url().unwrap_or_default();
        let previous: Vec<String> = spec.previous.iter().map(|p| p.settlement.to_string()).collect();
        tracing::info!(
            chain_id = spec.chain_id,
            rpc_url,
            settlement = %spec.settlement,
            start_block = spec.start_block,
            ?previous,
            "following chain"
        );
    }
    tokio::spawn(async move {
        preflight::at_start_watching("listener", &specs, |_| preflight::Expectations::default(), None).await;
    });

    let mut chains = tokio::task::JoinSet::new();
    let metrics = Arc::new(ListenerMetrics::default());
    if let Some(address) = config.metrics_address {
        let socket = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(%address, "serving metrics");
        let ids = config.chains.iter().map(|c| c.spec.chain_id).collect();
        let (pool, metrics) = (pool.clone(), metrics.clone());
        chains.spawn(async move { Ok::<(), eyre::Report>(crate::metrics::serve(socket, pool, ids, metrics).await?) });
    }
    for chain in config.chains {
        chains.spawn(follow(pool.clone(), chain, metrics.clone()));
    }
    tokio::select! {
        () = shutdown => {}
        Some(ended) = chains.join_next() => {
            // A chain only ends by halting or a fatal error: say so and exit non-zero.
            ended??;
        }
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(chain_id = chain.spec.chain_id))]
async fn follow(pool: PgPool, chain: ChainConfig, metrics: Arc<ListenerMetrics>) -> eyre::Result<()> {
    let spec = &chain.spec;
    let _lock = acquire_chain_lock(&pool, spec.chain_id, Duration::from_secs(5)).await?;
    tracing::info!("active listener for chain");
    // On a TRON chain with an API key, every request carries it.
    let http = spec.http_client(Duration::from_secs(chain.tuning.rpc_timeout_secs))?;
    // On TRON the endpoint whose `latest` is solidified (or the full node, read by the `finalized` tag).
    let (rpc_url, tron) = spec.final_rpc_url("listener")?;
    let provider = ProviderBuilder::new().connect_reqwest(http, rpc_url.parse()?).erased();
    let mut follower_config = FollowerConfig {
        max_range: chain.tuning.max_log_range,
        ..FollowerConfig::new(spec.chain_id, spec.settlement, spec.confirmations)
            .with_previous(spec.previous.iter().map(|p| p.settlement).collect())
    };
    if let Some(finality) = tron {
        follower_config = follower_config.on_tron(finality);
    }
    let mut contracts = spec.contracts();
    let desks = sales_desks(&provider, &contracts).await?;
    contracts.extend(desks.iter().copied());
    let follower_config = follower_config.with_sales_desks(desks.iter().map(|(d, _)| *d).collect());
    let follower = ChainFollower::new(provider, follower_config);
    let ledger = ChainLedger::open(pool, spec.chain_id).await?;
    let mut listener =
        ChainListener::new(follower, ledger, spec.first_block()).with_contracts(contracts).with_metrics(metrics);
    listener.run(chain.poll_interval(), std::future::pending()).await?;
    Ok(())
}

/// The sales desk of each Settlement (its `salesDesk`, created with it, so deployed at its block). A Settlement
/// deployed before desks existed has none: the call fails and it is followed alone. A desk read as the zero address
/// is refused (no contract emits from it).
pub async fn sales_desks(provider: &DynProvider, settlements: &[(Address, u64)]) -> eyre::Result<Vec<(Address, u64)>> {
    let mut desks = Vec::new();
    for &(settlement, block) in settlements {
        match abi::Settlement::new(settlement, provider).salesDesk().call().await {
            Ok(desk) if desk != Address::ZERO => {
                tracing::info!(%settlement, %desk, "following the Settlement's sales desk");
                desks.push((desk, block));
            }
            Ok(_) => eyre::bail!("Settlement {settlement} names no sales desk"),
            // The node answered: the contract has no `salesDesk` (it reverted, or returned nothing to decode).
            Err(
                e @ (alloy::contract::Error::TransportError(alloy::transports::RpcError::ErrorResp(_))
                | alloy::contract::Error::AbiError(_)
                | alloy::contract::Error::ZeroData(..)),
            ) => {
                tracing::warn!(%settlement, error = %e, "the Settlement has no sales desk: following it alone")
            }
            // No answer: starting without the desk would miss its sales for good.
            Err(e) => eyre::bail!("reading the sales desk of {settlement}: {e}"),
        }
    }
    Ok(desks)
}
