//! Payout batches within the signer's policy, with every service a real process: the builder asks the signer for
//! the asset's policy at every build, so every batch it builds is signed. A user owed 3.5× the per-entry cap is
//! paid in full over successive batches while every other user is paid in the first; single rewards above the cap
//! are paid in parts; the per-batch total and the rolling daily outflow cap each cut a batch, and once the daily
//! room is gone the build answers when it returns and builds nothing. After every batch, what each recipient
//! received on-chain equals what the batch says to the wei, and the reconciler finds custody and ledger equal;
//! at the end, the ledger's paid sums equal the on-chain transfers and every reward is settled.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, wait_for},
    devchain::{DevChain, NATIVE_ASSET},
    services::{
        NativeCaps, WorkDir, ledger_database, start_backend, start_signer_with, wait_healthy, wait_listener_through,
        write_signer_config,
    },
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{BNB, CHAIN, LIMIT, start_listener};

fn base(v: &Value) -> u128 {
    v["base"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn address(v: &Value) -> Address {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an address: {v}"))
}

/// Payable amount per wallet of the native asset, from the admin's pending view.
async fn pending(api: &ApiClient, admin: &str) -> eyre::Result<BTreeMap<Address, u128>> {
    let page = api.get(&format!("/v1/admin/payouts/pending?asset_id={NATIVE_ASSET}&limit=100"), Some(admin)).await?;
    let items = page.ok("pending")?["items"].as_array().cloned().unwrap_or_default();
    Ok(items.iter().map(|i| (address(&i["address"]), base(&i["amount"]))).collect())
}

/// Everything a test needs to pay one batch and check it.
struct Payouts<'a> {
    chain: &'a DevChain,
    api: &'a ApiClient,
    admin: &'a str,
    pool: &'a PgPool,
    /// What each wallet received on-chain from payout batches, summed over the test.
    received: BTreeMap<Address, u128>,
    /// Signed outflows so far (the signer's rolling window holds all of them: the test is shorter than a day).
    signed_total: u128,
}

impl Payouts<'_> {
    /// Builds a batch: the answer (201) or the refusal, as the API gave it.
    async fn build(&self) -> eyre::Result<anvil_tests::api::Answer> {
        self.api.post("/v1/admin/payouts/batches", Some(self.admin), json!({ "asset_id": NATIVE_ASSET })).await
    }

    /// Signs (the signer must accept what was built), submits and waits until the listener settled `built`;
    /// checks every recipient's on-chain receipt against the entry to the wei and a reconciliation with variance
    /// 0 at or after the executing block. Returns the entries as (wallet, amount, owed, limited_by).
    async fn pay(&mut self, built: &Value) -> eyre::Result<Vec<(Address, u128, u128, Option<String>)>> {
        let id = built["id"].as_i64().expect("batch id");
        let entries: Vec<(Address, u128, u128, Option<String>)> = built["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                (
                    address(&e["address"]),
                    base(&e["amount"]),
                    base(&e["owed"]),
                    e["limited_by"].as_str().map(str::to_owned),
                )
            })
            .collect();
        let total: u128 = entries.iter().map(|e| e.1).sum();
        assert_eq!(total, base(&built["total"]), "batch {id}: the entries sum to the total");
        let signed =
            self.api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(self.admin), json!({})).await?;
        let signed = signed.ok(&format!("batch {id} is signed: the builder kept to the signer's policy"))?;
        assert_eq!(signed["status"], "signed");
        self.signed_total += total;
        let mut before = Vec::new();
        for (who, ..) in &entries {
            before.push(self.chain.provider.get_balance(*who).await?);
        }
        let sent =
            self.api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(self.admin), json!({})).await?;
        let sent = sent.ok("submit")?;
        let tx: B256 = sent["tx_hash"].as_str().expect("tx hash").parse()?;
        let executed = wait_for(&format!("batch {id} settled by the listener"), LIMIT, || async {
            let view = self.api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(self.admin)).await?.ok("batch")?;
            Ok((view["status"] == "executed").then_some(view))
        })
        .await?;
        let receipt = self.chain.provider.get_transaction_receipt(tx).await?.expect("mined");
        assert!(receipt.status());
        let gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        for ((who, amount, ..), before) in entries.iter().zip(before) {
            let after = self.chain.provider.get_balance(*who).await?;
            // The operator (the contract admin, also genesis here) paid the batch's gas.
            let fee = if *who == receipt.from { gas } else { U256::ZERO };
            let got = after + fee - before;
            assert_eq!(got, U256::from(*amount), "batch {id}: {who} received its entry on-chain, to the wei");
            *self.received.entry(*who).or_default() += amount;
        }
        assert!(executed["entries"].as_array().is_some_and(|e| e.iter().all(|e| e["outcome"] == "paid")));
        let block = receipt.block_number.expect("mined") as i64;
        let (at, variance) = wait_for(&format!("a reconciliation after batch {id}"), LIMIT, || async {
            let row: Option<(i64, String)> = sqlx::query_as(
                "SELECT block_number, variance::text FROM reconciler_results
                 WHERE token = $1 AND block_number >= $2 ORDER BY run_id DESC LIMIT 1",
            )
            .bind(Address::ZERO.as_slice())
            .bind(block)
            .fetch_optional(self.pool)
            .await?;
            Ok(row)
        })
        .await?;
        assert_eq!(
            variance, "0",
            "after batch {id} (block {block}), reconciled at block {at}: custody equals the ledger"
        );
        Ok(entries)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_keep_to_the_signers_caps_and_pay_every_user_in_full_over_successive_batches() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("payout-caps")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let g = chain.admin.address();

    // Genesis G sponsors A (DIRECT 18), B (G's pool entry), H (DIRECT 18), I (pool entry under G's own node:
    // POOL_L1 10) and J (DIRECT 18); A sponsors C (DIRECT 18 to A).
    let wallets: BTreeMap<&str, PrivateKeySigner> =
        ["A", "B", "C", "H", "I", "J", "M", "N", "O"].into_iter().map(|n| (n, PrivateKeySigner::random())).collect();
    for w in wallets.values() {
        chain.provider.anvil_set_balance(w.address(), U256::from(100 * BNB)).await?;
    }
    let mut nonce = 0;
    let mut register = async |user: &str, sponsor: Address| -> eyre::Result<u64> {
        nonce += 1;
        chain.register_native(&wallets[user], sponsor, U256::from(20 * BNB), nonce).await
    };
    let who = |n: &str| wallets[n].address();
    for (user, sponsor) in [("A", g), ("B", g), ("C", who("A")), ("H", g), ("I", g), ("J", g)] {
        register(user, sponsor).await?;
    }
    let last = chain.provider.get_block_number().await?;

    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    wait_listener_through(&db.pool, CHAIN, last, LIMIT, &mut listener).await?;
    let _reconciler = crate::start_reconciler(&dir, &chain, &url)?;

    // Phase 1: the per-entry cap is 2/7 of what G is owed (G is owed 3.5× the cap); everyone else is owed less.
    let owed_first = {
        let (_signer, signer_url, _) = start_signer_with(&dir, &chain, &secret, &NativeCaps::default()).await?;
        let (_backend, api_url) = start_backend(&dir, &chain, &url, &signer_url, &secret).await?;
        let api = ApiClient::new(api_url);
        let admin = api.sign_in(&chain.admin).await?;
        pending(&api, &admin).await?
    };
    let g_owed = owed_first[&g];
    assert_eq!(g_owed, 64 * BNB, "G: three DIRECT rewards and one POOL_L1 ({owed_first:?})");
    assert_eq!(owed_first.get(&who("A")), Some(&(18 * BNB)));
    let cap = g_owed * 2 / 7;
    assert!(owed_first.iter().all(|(w, o)| *w == g || *o <= cap), "only G is owed more than the cap");
    let phase1 = NativeCaps { per_entry_cap: cap.to_string(), ..NativeCaps::default() };
    let (mut signer, signer_url, signer_port) = start_signer_with(&dir, &chain, &secret, &phase1).await?;
    let (_backend, api_url) = start_backend(&dir, &chain, &url, &signer_url, &secret).await?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    let mut payouts =
        Payouts { chain: &chain, api: &api, admin: &admin, pool: &db.pool, received: BTreeMap::new(), signed_total: 0 };

    let mut g_paid = Vec::new();
    loop {
        let built = payouts.build().await?;
        if built.status == 409 {
            assert_eq!(built.code(), "nothing_payable", "{}", built.body);
            break;
        }
        let built = built.ok("build")?;
        assert_eq!(base(&built["limits"]["max_entry"]), cap, "the builder applies the signer's per-entry cap");
        let entries = payouts.pay(&built).await?;
        let first = g_paid.is_empty();
        for (wallet, amount, owed, limited_by) in entries {
            if wallet == g {
                g_paid.push(amount);
                let partial = owed > cap;
                assert_eq!(amount, owed.min(cap));
                assert_eq!(limited_by.as_deref(), partial.then_some("per_entry_cap"));
            } else {
                assert!(first, "every other user is paid in the first batch");
                assert_eq!((amount, limited_by), (owed_first[&wallet], None), "{wallet} is paid in full at once");
            }
        }
    }
    assert_eq!(g_paid, vec![cap, cap, cap, g_owed - 3 * cap], "G is paid the cap three times, then the rest");
    assert_eq!(payouts.received, owed_first, "everyone received on-chain exactly what they were owed");

    // Phase 2: the operator tightens the policy; the builder follows the signer, with no copy to update. Entries
    // of at most 5 BNB (below a single DIRECT reward of 18), batches of at most 12 BNB, and a rolling daily room
    // for two more full batches and 7 BNB.
    let daily = payouts.signed_total + 12 * BNB + 12 * BNB + 7 * BNB;
    let phase2 = NativeCaps {
        per_entry_cap: (5 * BNB).to_string(),
        per_batch_cap: (12 * BNB).to_string(),
        daily_outflow_cap: daily.to_string(),
    };
    write_signer_config(&dir, &chain, &secret, signer_port, &phase2)?;
    signer.restart()?;
    wait_healthy(&format!("{signer_url}/health"), &mut signer, LIMIT).await?;
    // B, C and H each earn one DIRECT reward of 18 BNB.
    for (user, sponsor) in [("M", who("B")), ("N", who("C")), ("O", who("H"))] {
        register(user, sponsor).await?;
    }
    let last = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, CHAIN, last, LIMIT, &mut listener).await?;
    let owed_second = pending(&api, &admin).await?;
    let (b, c, h) = (who("B"), who("C"), who("H"));
    assert_eq!(owed_second, BTreeMap::from([(b, 18 * BNB), (c, 18 * BNB), (h, 18 * BNB)]));
    let entry = |e: &(Address, u128, u128, Option<String>)| (e.0, e.1, e.3.clone());
    let cut = |s: &str| Some(s.to_owned());

    // Two batches at the per-batch cap: B and C get the entry cap, H what is left of the batch total.
    for _ in 0..2 {
        let built = payouts.build().await?.ok("build")?;
        assert_eq!(base(&built["total"]), 12 * BNB, "the batch total reaches the per-batch cap");
        let paid: Vec<_> = payouts.pay(&built).await?.iter().map(entry).collect();
        assert_eq!(
            paid,
            [(b, 5 * BNB, cut("per_entry_cap")), (c, 5 * BNB, cut("per_entry_cap")), (h, 2 * BNB, cut("batch_total"))]
        );
    }
    // The daily room is 7 BNB now: B gets the entry cap, C the rest of the room, H is left out, with the reason.
    let built = payouts.build().await?.ok("build")?;
    assert_eq!(base(&built["limits"]["daily_room"]), 7 * BNB, "{built}");
    assert_eq!(
        built["left_out"],
        json!([{ "address": h.to_checksum(None), "reason": "daily_outflow_cap",
        "owed": { "base": (14 * BNB).to_string(), "human": "14 BNB" } }])
    );
    let paid: Vec<_> = payouts.pay(&built).await?.iter().map(entry).collect();
    assert_eq!(paid, [(b, 5 * BNB, cut("per_entry_cap")), (c, 2 * BNB, cut("daily_outflow_cap"))]);

    // No room left: the build says so and when room returns, and builds nothing.
    let batches_before: i64 = sqlx::query_scalar("SELECT count(*) FROM payout_batches").fetch_one(&db.pool).await?;
    let refused = payouts.build().await?;
    assert_eq!((refused.status, refused.code()), (409, "daily_outflow_cap_reached"), "{}", refused.body);
    let retry = refused.retry_after.expect("Retry-After");
    assert!((1..=86_400).contains(&retry), "room returns within a day: {retry}");
    let message = refused.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("room returns at"), "{message}");
    let batches_after: i64 = sqlx::query_scalar("SELECT count(*) FROM payout_batches").fetch_one(&db.pool).await?;
    assert_eq!(batches_after, batches_before, "nothing is half-built");
    assert_eq!(pending(&api, &admin).await?, BTreeMap::from([(b, 3 * BNB), (c, 6 * BNB), (h, 14 * BNB)]));

    // Phase 3: the operator raises the daily cap; successive batches pay the rest, still within the entry and batch
    // caps, until nothing is owed.
    let phase3 = NativeCaps { daily_outflow_cap: (1_000_000 * BNB).to_string(), ..phase2 };
    write_signer_config(&dir, &chain, &secret, signer_port, &phase3)?;
    signer.restart()?;
    wait_healthy(&format!("{signer_url}/health"), &mut signer, LIMIT).await?;
    loop {
        let built = payouts.build().await?;
        if built.status == 409 {
            assert_eq!(built.code(), "nothing_payable", "{}", built.body);
            break;
        }
        let built = built.ok("build")?;
        assert!(base(&built["total"]) <= 12 * BNB);
        for (_, amount, ..) in payouts.pay(&built).await? {
            assert!(amount <= 5 * BNB, "no entry above the per-entry cap");
        }
    }
    for w in [b, c, h] {
        assert_eq!(payouts.received[&w] - owed_first.get(&w).copied().unwrap_or(0), 18 * BNB, "{w} paid in full");
    }

    // The ledger's paid sums equal the on-chain transfers to the wei, and every reward is settled whole.
    let ledger: Vec<(Vec<u8>, String, String, i64)> = sqlx::query_as(
        "SELECT u.address, sum(r.paid)::text, b.settled::text, count(*) FILTER (WHERE r.status <> 'settled')
         FROM rewards r JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         JOIN user_balances b ON b.asset_id = r.asset_id AND b.user_no = r.beneficiary_no
         WHERE r.asset_id = $1 AND r.status <> 'reserved' GROUP BY u.address, b.settled",
    )
    .bind(NATIVE_ASSET)
    .fetch_all(&db.pool)
    .await?;
    let ledger: BTreeMap<Address, (u128, u128, i64)> = ledger
        .into_iter()
        .map(|(a, paid, settled, open)| {
            (Address::from_slice(&a), (paid.parse().unwrap(), settled.parse().unwrap(), open))
        })
        .collect();
    let expected: BTreeMap<Address, (u128, u128, i64)> =
        payouts.received.iter().map(|(w, got)| (*w, (*got, *got, 0))).collect();
    assert_eq!(ledger, expected, "paid parts = settled balance = on-chain transfers, every reward settled");
    let unsigned: i64 = sqlx::query_scalar("SELECT count(*) FROM payout_batches WHERE status <> 'executed'")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(unsigned, 0, "every batch built was signed and executed");
    Ok(())
}
