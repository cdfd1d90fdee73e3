//! The reconciler binary pages (Alertmanager webhook, received here on loopback) with the exact variance when
//! custody and ledger disagree — test USDT sent straight to the contract, native coin appearing outside the
//! protocol, a ledger row changed by SQL — and resolves each alert once the cause is cleared.

use std::time::Duration;

use abi::TestUSDT;
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolValue,
};
use anvil_tests::{
    api::wait_for,
    devchain::DevChain,
    services::{Service, WorkDir, ledger_database, wait_listener_through},
    webhook::WebhookInbox,
};
use serde_json::Value;
use sqlx::PgPool;

use crate::{BNB, CHAIN, LIMIT, USDT, registration_stream, start_listener};

/// An Alertmanager-webhook receiver on loopback that keeps every body it is sent.
struct WebhookSink {
    url: String,
    inbox: WebhookInbox,
}

impl WebhookSink {
    async fn start() -> eyre::Result<Self> {
        let inbox = WebhookInbox::start().await?;
        Ok(Self { url: format!("{}/hook", inbox.url), inbox })
    }

    /// Messages so far as (status, dedup_key, description).
    fn messages(&self) -> Vec<(String, String, String)> {
        self.inbox
            .received()
            .iter()
            .flat_map(|(_, body)| body["alerts"].as_array().cloned().unwrap_or_default())
            .map(|a| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                (text(&a["status"]), text(&a["labels"]["dedup_key"]), text(&a["annotations"]["description"]))
            })
            .collect()
    }

    /// Waits for a `status` message about `dedup_key` after the first `after` messages; returns its position
    /// and description.
    async fn wait(&self, status: &str, dedup_key: &str, after: usize) -> eyre::Result<(usize, String)> {
        let what = format!("a {status} alert {dedup_key}");
        wait_for(&what, LIMIT, || async {
            Ok(self
                .messages()
                .into_iter()
                .enumerate()
                .skip(after)
                .find(|(_, (s, k, _))| s == status && k == dedup_key)
                .map(|(i, (_, _, description))| (i, description)))
        })
        .await
    }
}

/// The `variance=` figure of an alert description (details joined as `key=value`).
fn variance(description: &str) -> &str {
    description.split(' ').find_map(|kv| kv.strip_prefix("variance=")).unwrap_or("<none>")
}

fn custody_key(token: Address) -> String {
    format!("custody:{CHAIN}:{token}")
}

/// Waits until a reconciler run at or after `block` found both assets balanced.
async fn wait_balanced(pool: &PgPool, block: u64) -> eyre::Result<()> {
    wait_for("a balanced reconciliation", LIMIT, || async {
        let balanced: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reconciler_results WHERE block_number >= $1 AND variance = 0 AND run_id =
                 (SELECT max(run_id) FROM reconciler_results)",
        )
        .bind(block as i64)
        .fetch_one(pool)
        .await?;
        Ok((balanced == 2).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_pages_the_exact_variance_and_resolves_when_cleared() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("reconciler-variance")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let sink = WebhookSink::start().await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let spec = dir.write("reconciler-chains.toml", &crate::reconciler_spec(&chain))?;
    let reconciler = format!(
        "database_url = \"{url}\"\ninterval_secs = 1\nmax_lag_blocks = 50\nchain_spec = \"{}\"\n\n\
         [[sinks]]\nkind = \"alertmanager\"\nurl = \"{}\"\nreceiver = \"e2e\"\n",
        spec.display(),
        sink.url
    );
    let reconciler = dir.write("reconciler.toml", &reconciler)?;
    let mut reconciler =
        Service::start(&dir, "reconciler", "reconciler", &[reconciler.to_str().expect("utf-8 path")], &[])?;

    let sent = registration_stream(&chain, 4, Duration::ZERO, 1).await?;
    wait_listener_through(&db.pool, CHAIN, sent.last_block, LIMIT, &mut listener).await?;
    wait_balanced(&db.pool, sent.last_block).await?;
    assert!(sink.messages().is_empty(), "nothing paged while balanced: {:?}", sink.messages());

    // 1. Test USDT sent to the contract with a plain transfer: custody holds 1.234567 USDT the ledger never saw.
    let stray = U256::from(1_234_567u64);
    let outsider = PrivateKeySigner::random();
    chain.provider.anvil_set_balance(outsider.address(), U256::from(BNB)).await?;
    let usdt_admin = TestUSDT::new(chain.usdt, &chain.provider);
    usdt_admin.mint(outsider.address(), U256::from(10 * USDT)).send().await?.get_receipt().await?;
    let usdt_outsider = TestUSDT::new(chain.usdt, DevChain::provider_for(&chain.anvil, &outsider));
    usdt_outsider.transfer(chain.settlement, stray).send().await?.get_receipt().await?;
    let key = custody_key(chain.usdt);
    let (fired, description) = sink.wait("firing", &key, 0).await?;
    assert_eq!(variance(&description), "1234567", "{description}");
    // Cleared outside the protocol too: the token's balance slot (OpenZeppelin ERC20: mapping at slot 0).
    let slot = U256::from_be_bytes(keccak256((chain.settlement, U256::ZERO).abi_encode()).0);
    let held = usdt_admin.balanceOf(chain.settlement).call().await?;
    assert_eq!(chain.provider.get_storage_at(chain.usdt, slot).await?, held, "the balance slot is where it is assumed");
    chain.provider.anvil_set_storage_at(chain.usdt, slot, B256::from(held - stray)).await?;
    let (resolved, _) = sink.wait("resolved", &key, fired).await?;

    // 2. Native coin appearing in custody outside the protocol (as a selfdestructing sender would leave it).
    let native_key = custody_key(Address::ZERO);
    let before = chain.provider.get_balance(chain.settlement).await?;
    chain.provider.anvil_set_balance(chain.settlement, before + U256::from(777u64)).await?;
    let (fired, description) = sink.wait("firing", &native_key, resolved).await?;
    assert_eq!(variance(&description), "777", "{description}");
    chain.provider.anvil_set_balance(chain.settlement, before).await?;
    let (resolved, _) = sink.wait("resolved", &native_key, fired).await?;

    // 3. A ledger row tampered with: one registration's amount raised by 5 wei in chain_events.
    let tamper = |delta: i64| {
        sqlx::query(
            "UPDATE chain_events SET payload = jsonb_set(payload, '{amount}',
                 to_jsonb((uint_text_to_numeric(payload->>'amount') + $1)::text))
             WHERE (chain_id, block_number, log_index) = (SELECT chain_id, block_number, log_index FROM chain_events
                 WHERE name = 'Registered' AND lower(payload->>'token') = $2 ORDER BY block_number LIMIT 1)",
        )
        .bind(delta)
        .bind(format!("0x{}", alloy::hex::encode(Address::ZERO)))
    };
    // Past the ledger's write guards (migration 0025), as only a superuser can: the reconciler must still see it.
    let pool = &db.pool;
    let tampered = |delta: i64| async move {
        let mut tx = ledger::db::unguarded(pool).await?;
        let rows = tamper(delta).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        eyre::Ok(rows)
    };
    assert_eq!(tampered(5).await?, 1);
    let (fired, description) = sink.wait("firing", &native_key, resolved).await?;
    assert_eq!(variance(&description), "-5", "the ledger claims 5 wei more than custody holds: {description}");
    assert_eq!(tampered(-5).await?, 1);
    sink.wait("resolved", &native_key, fired).await?;

    let head = chain.provider.get_block_number().await?;
    wait_balanced(&db.pool, head).await?;
    let state = reconciler.state();
    assert_eq!(state, "running", "the reconciler:\n{}", reconciler.log_tail(20));
    Ok(())
}
