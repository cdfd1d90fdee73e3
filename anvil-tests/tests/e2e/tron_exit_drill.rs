//! The members' exit end to end on the TRON stand-in (contracts/EXIT.md, issue 46), every service a process, as
//! `exit_drill` does on anvil: the contracts created the TRON way through the TRON test node; members register in
//! TRON USDT; the API's solvency worker commits a root holding them all (sent through TRON's gRPC); each member's
//! proof of it is downloaded; a payout batch pays one member after that commitment (sent through TRON's gRPC by the
//! backend); then the operator walks away — the API, the listener and the signer are killed — the chain's clock
//! moves past `exitAfter` and far enough on for a solidified block to show it, an outside wallet opens the exit with
//! `solvency-verify open --tron-grpc`, reading only through TRON's Solidity JSON-RPC (its `eth_call`, `eth_getLogs`
//! and `eth_getTransactionByHash`: the batch since the commitment is folded from its TRON transaction's calldata), and
//! every member claims with `solvency-verify exit --tron-grpc` and their proof alone during the claim window (the
//! outside wallet sends each claim; contracts/EXIT.md §13): their leaf's reserved + held + pending + batched less what
//! the batch after the commitment paid them. Once the window has closed the same command pays each claim its share of
//! custody, in USDT, once; nothing else moves the token.
//! The chain's clock then runs a day ahead of this machine's: the CLI's TRON transactions expire by the chain's head
//! block, as java-tron builds them, not by the local clock.

use std::collections::BTreeMap;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use abi::{Settlement, SettlementExit, TestUSDT};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use anvil_tests::{
    api::{ApiClient, wait_for},
    devchain::{DevChain, USDT_ASSET},
    services::{
        BackendChain, Service, TronEndpoints, WorkDir, chain_spec, ledger_database, listener_config, service_binary,
        start_backend_configured, start_signer, wait_listener_through,
    },
    tron_rpc::{TronFaults, TronRpc},
};
use serde_json::{Value, json};
use tron_devnode::{Params, SOLIDIFY_DEPTH};

use crate::{LIMIT, USDT};

/// The salts' key of this test (a test value, not a secret of any deployment).
const SALT_KEY: &str = "0x4444444444444444444444444444444444444444444444444444444444444444";
/// Confirmed (solidified) blocks between commitments: far more than the test mines between the commitment it waits
/// for and the operator's departure, so that the batch stays after the latest commitment.
const INTERVAL: u64 = 200;
/// The environment variable the outside wallet's key is given in.
const KEY_VAR: &str = "TRON_EXIT_DRILL_KEY";

/// Milliseconds between the [`Miner`]'s blocks.
const PACE_MS: u64 = 150;

/// A block every [`PACE_MS`] while it runs (TRON makes one every 3 s): what the CLI waits for to see its transactions
/// solidified. Stops when dropped.
struct Miner {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<eyre::Result<()>>>,
}

impl Miner {
    fn start(provider: DynProvider) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                while !stop.load(Ordering::Relaxed) {
                    provider.anvil_mine(Some(1), None).await?;
                    tokio::time::sleep(std::time::Duration::from_millis(PACE_MS)).await;
                }
                Ok(())
            }
        });
        Self { stop, task: Some(task) }
    }

    /// Stops mining; an error if mining failed meanwhile.
    async fn stop(mut self) -> eyre::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn usdt_of(chain: &DevChain, who: Address) -> eyre::Result<U256> {
    Ok(TestUSDT::new(chain.usdt, &chain.provider).balanceOf(who).call().await?)
}

/// Runs `solvency-verify` with `args`, the outside wallet's key in its environment: (exit code, what it printed).
/// Asynchronously, so that the miner goes on while it waits for its transactions to be solidified.
async fn cli(key: &str, args: &[&str]) -> eyre::Result<(i32, String)> {
    let out = tokio::process::Command::new(service_binary("solvency-verify")?)
        .args(args)
        .env(KEY_VAR, key)
        .kill_on_drop(true)
        .output()
        .await?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(anvil_tests::process::code_and_text(out.status, text))
}

/// A member's amount of the `balances` of its proof.
/// The exit contract at `exits`, read through anvil itself (the TRON stand-in's chain).
fn on_chain_exit(chain: &DevChain, exits: Address) -> SettlementExit::SettlementExitInstance<DynProvider> {
    SettlementExit::new(exits, chain.provider.clone())
}

fn part(proof: &Value, k: &str) -> U256 {
    proof["balances"][k].as_str().unwrap_or("0").parse::<U256>().unwrap_or_default()
}

/// A 0x or TRON `T…` address, as the API shows one.
fn address_of(text: &str) -> eyre::Result<Address> {
    text.parse::<Address>().or_else(|_| abi::tron::from_base58(text)).map_err(|e| eyre::eyre!("{text}: {e}"))
}

/// Builds, signs and submits a USDT batch paying 5 USDT of one pending reward; its entries (recipient → amount) and
/// its TRON transaction's id. The backend sends it through the TRON node's gRPC, which executes it at once.
async fn pay_out(api: &ApiClient, admin: &str) -> eyre::Result<(BTreeMap<Address, U256>, B256)> {
    // One entry, paid in part: the others stay owed, so that their exits pay their pending rewards in full, and the
    // one paid exits with the rest.
    let request = json!({ "asset_id": USDT_ASSET, "max_entries": 1, "max_total": (5 * USDT).to_string() });
    let built = api.post("/v1/admin/payouts/batches", Some(admin), request).await?;
    let id = built.ok("POST /v1/admin/payouts/batches")?["id"].as_i64().expect("batch id");
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(admin), json!({})).await?.ok("sign")?;
    let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(admin)).await?.ok("batch")?;
    let mut entries = BTreeMap::new();
    for e in view["entries"].as_array().cloned().unwrap_or_default() {
        let to = address_of(e["address"].as_str().expect("address"))?;
        let amount: U256 = e["amount"]["base"].as_str().expect("amount").parse()?;
        *entries.entry(to).or_default() += amount;
    }
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(admin), json!({})).await?;
    let sent = sent.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    Ok((entries, sent["tx_hash"].as_str().expect("the TRON transaction id").parse()?))
}

/// The Settlement's refusal of a call, by its error's name.
fn refusal<T>(outcome: Result<T, alloy::contract::Error>) -> String {
    match outcome {
        Ok(_) => "accepted".to_owned(),
        Err(e) => e
            .as_decoded_interface_error::<Settlement::SettlementErrors>()
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|| e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_tron_the_operator_walks_away_and_every_member_exits_through_the_cli_and_trons_json_rpc() -> eyre::Result<()>
{
    let (chain, node) = DevChain::start_tron_through_node(Params::default()).await?;
    let chain_id = chain.deployment().chain_id;
    let dir = WorkDir::new("tron-exit-drill")?;
    let rpc = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    // One chain spec for every service: the listener reads the Solidity node's JSON-RPC, the API sends payouts and
    // commitments through the node's gRPC.
    let tron = TronEndpoints {
        grpc_url: Some(&node.grpc_url),
        solidity_grpc_url: Some(&node.solidity_grpc_url),
        solidity_rpc_url: &rpc.solidity_url,
    };
    let spec = chain_spec(chain_id, chain.settlement, &chain.rpc_url(), 0, chain.deploy_block, Some(tron));
    let spec = dir.write("chains.toml", &spec)?;
    let config = listener_config(&url, &spec, chain_id, "poll_interval_ms = 100");
    let path = dir.write("listener.toml", &config)?;
    let mut listener = Service::start(&dir, "listener", "listener", &[path.to_str().expect("utf-8")], &[])?;

    // G (the admin, genesis) ← A ← B, A ← C, B ← D, in USDT: A's first referral pays A, B's pays B (PLAN.md §2).
    let genesis = chain.admin.address();
    let (a, b, c, d) = (chain.account(2), chain.account(3), chain.account(4), chain.account(5));
    let tree = [(&a, genesis), (&b, a.address()), (&c, a.address()), (&d, b.address())];
    let mut last = 0;
    for (i, (user, sponsor)) in tree.into_iter().enumerate() {
        last = chain.register_usdt(user, sponsor, U256::from(20 * USDT), 100 + i as u64).await?;
    }
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    let solid = chain.provider.get_block_number().await? - SOLIDIFY_DEPTH;
    wait_listener_through(&db.pool, chain_id, solid, LIMIT, &mut listener).await?;

    // The API with its solvency worker: the first epoch holds every member.
    let solvency = format!(
        "[solvency]\nsalt_key = \"{SALT_KEY}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {chain_id}\ninterval_blocks = {INTERVAL}\npayout_gap_blocks = {INTERVAL}\n"
    );
    let backend_chain = BackendChain { spec: Some(spec.clone()), tuning: "", env: &[] };
    let (backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, backend_chain, &solvency).await?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;

    // Blocks come as the test asks for them: the commitment is sent through the node (a block of its own), then
    // solidified and applied by the listener.
    let latest = wait_for("a commitment as of the last registration", LIMIT, || async {
        chain.provider.anvil_mine(Some(2), None).await?;
        let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == USDT_ASSET).cloned());
        Ok(asset
            .and_then(|x| x["latest"].as_object().cloned())
            .filter(|l| l.get("as_of_block").and_then(Value::as_u64).is_some_and(|block| block >= last)))
    })
    .await?;
    let epoch = latest["epoch"].as_u64().expect("epoch");
    let members = [(&chain.admin, "G"), (&a, "A"), (&b, "B"), (&c, "C"), (&d, "D")];
    let mut proofs = Vec::new();
    for (wallet, name) in members {
        let token = api.sign_in_tron(wallet).await?;
        let path = format!("/v1/users/solvency-proof?asset_id={USDT_ASSET}&epoch={epoch}&download=true");
        let answer = api.get(&path, Some(&token)).await?;
        if answer.status == 404 && name == "G" {
            continue; // genesis may hold no leaf of its own
        }
        let proof = answer.ok("GET /v1/users/solvency-proof")?;
        let file = dir.write(&format!("proof-{name}.json"), &proof.to_string())?;
        proofs.push((wallet.address(), name, proof, file));
    }

    // After the commitment, a batch pays one member's reward through the node; the operator walks away once the
    // chain executed it, before any further commitment (no block is mined meanwhile).
    let (paid, batch_tx) = pay_out(&api, &admin).await?;
    assert!(!paid.is_empty());
    let on_chain = Settlement::new(chain.settlement, &chain.provider);
    wait_for("the batch executed on chain", LIMIT, || async {
        Ok((on_chain.batchesSinceCommitment(chain.usdt).call().await?.lastBatchBlock > U256::ZERO).then_some(()))
    })
    .await?;
    drop(backend);
    listener.kill9()?;
    drop(signer);
    assert_eq!(on_chain.latestLiabilities(chain.usdt).call().await?.epoch, epoch, "no commitment after the batch");
    assert!(!ApiClient::new(api.base.clone()).healthy().await, "the API is gone");

    // What the outside wallet runs: TRON's Solidity JSON-RPC to read, the node's gRPC to send, T… addresses.
    let outsider = chain.account(9);
    let key = alloy::hex::encode_prefixed(outsider.to_bytes());
    let contract = abi::tron::to_base58(chain.settlement);
    let token = abi::tron::to_base58(chain.usdt);
    let reads = ["--rpc", rpc.solidity_url.as_str(), "--contract", contract.as_str()];
    let sends = ["--tron-grpc", node.grpc_url.as_str(), "--private-key-env", KEY_VAR];
    let open: Vec<&str> = ["open", "--token", token.as_str()].into_iter().chain(reads).chain(sends).collect();

    // Before exitAfter: nobody can open.
    let (code, out) = cli(&key, &open).await?;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not open"), "{out}");

    // A day (the development exitAfter) and a minute later, once a solidified block shows it, an outside wallet opens
    // the exit and folds the batch, each through the node, each waited for until the Solidity node shows it.
    let exit_after: u64 = on_chain.exitAfter().call().await?.try_into()?;
    chain.provider.anvil_increase_time(exit_after + 60).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    let custody_before = usdt_of(&chain, chain.settlement).await?;
    let claimable = on_chain.totalClaimable(chain.usdt).call().await?;
    let miner = Miner::start(chain.provider.clone());
    let (code, out) = cli(&key, &open).await?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("fold the 1 payout batch"), "the CLI folded the batch since the commitment: {out}");
    let exits = on_chain.exits().call().await?;
    let opening = SettlementExit::new(exits, &chain.provider).opening(chain.usdt).call().await?;
    assert!(opening.open);
    assert_eq!(U256::from(opening.custody), custody_before - claimable, "the custody not claimable went to the exits");
    assert_eq!(opening.batchesToFold, B256::ZERO, "the batch since the commitment is folded");
    assert_eq!(usdt_of(&chain, exits).await?, U256::from(opening.custody));

    // What the fold read, as java-tron serves it: the batch's log names its TRON transaction id (the one the backend
    // got from the node), and eth_getTransactionByHash of that id gives the TriggerSmartContract's data as `input`.
    let solidity = ProviderBuilder::new().connect_http(rpc.solidity_url.parse()?).erased();
    let filter = Filter::new()
        .address(chain.settlement)
        .event_signature(Settlement::PayoutBatchExecuted::SIGNATURE_HASH)
        .from_block(chain.deploy_block);
    let logs = solidity.get_logs(&filter).await?;
    assert_eq!(logs.iter().map(|l| l.transaction_hash).collect::<Vec<_>>(), vec![Some(batch_tx)], "one batch");
    let sent = solidity.get_transaction_by_hash(batch_tx).await?.expect("known by its TRON id");
    let call = Settlement::executePayoutBatchCall::abi_decode(alloy::consensus::Transaction::input(&sent))?;
    let entries: Vec<(Address, U256)> = call.batch.payouts.iter().map(|p| (p.recipient, p.amount)).collect();
    assert_eq!(entries, paid.clone().into_iter().collect::<Vec<_>>(), "its calldata is the batch paid");

    // Every member claims with their proof during the claim window (contracts/EXIT.md §13); the outside wallet sends
    // each claim, and nothing is paid yet.
    let seen = SettlementExit::new(exits, &solidity);
    let (mut claims, mut subtracted_any) = (Vec::new(), false);
    for (member, name, proof, file) in &proofs {
        let entitlement =
            part(proof, "reserved") + part(proof, "held") + part(proof, "pending") + part(proof, "batched");
        let subtracted = paid.get(member).copied().unwrap_or_default();
        let due = entitlement.saturating_sub(subtracted);
        let before = usdt_of(&chain, *member).await?;
        let exit: Vec<String> = ["exit", file.to_str().expect("utf-8 path")]
            .into_iter()
            .chain(reads)
            .chain(sends)
            .map(str::to_owned)
            .collect();
        let args: Vec<&str> = exit.iter().map(String::as_str).collect();
        let (code, out) = cli(&key, &args).await?;
        let preview =
            format!("entitled to {entitlement} (reserved + held + pending + batched), less {subtracted} paid");
        assert!(out.contains(&preview), "{name}: the contract's preview subtracts what the batch paid: {out}");
        println!("{name}: {}", out.lines().find(|l| l.contains("entitled to")).unwrap_or_default());
        if due.is_zero() {
            assert_eq!(code, 1, "{name}: nothing to claim: {out}");
            continue;
        }
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("CLAIMED"), "{name}: {out}");
        assert_eq!(usdt_of(&chain, *member).await?, before, "{name}: a claim pays nothing yet");
        subtracted_any |= !subtracted.is_zero();
        // As soon as the Solidity node shows the claim, a second run says so and sends nothing.
        wait_for("the claim solidified", LIMIT, || async {
            Ok((seen.claimOf(chain.usdt, *member).call().await?.due == due).then_some(()))
        })
        .await?;
        let (code, again) = cli(&key, &args).await?;
        assert_eq!(code, 0, "{name}'s second run: {again}");
        assert!(again.contains("CLAIMED already"), "{again}");
        claims.push((*member, *name, exit, due));
    }
    assert!(claims.len() >= 2 && subtracted_any, "members claimed ({}), one of them with less the batch", claims.len());
    let proven: U256 = claims.iter().map(|c| c.3).sum();
    let window = on_chain_exit(&chain, exits).claimWindow(chain.usdt).call().await?;
    assert_eq!(window.proven, proven, "the claims' sum");

    // Once the window has closed (on the chain's clock, seen by a solidified block), each claim is paid the same share
    // of custody, once.
    let now = chain.provider.get_block_by_number(Default::default()).await?.expect("head").header.timestamp;
    chain.provider.anvil_increase_time(window.end.saturating_sub(now) + 60).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    wait_for("the claim window closed, solidified", LIMIT, || async {
        Ok(seen.claimWindow(chain.usdt).call().await?.closed.then_some(()))
    })
    .await?;
    let custody = U256::from(opening.custody);
    let mut paid_out = U256::ZERO;
    for (member, name, exit, due) in &claims {
        let expected = if custody >= proven { *due } else { *due * custody / proven };
        let before = usdt_of(&chain, *member).await?;
        let args: Vec<&str> = exit.iter().map(String::as_str).collect();
        let (code, out) = cli(&key, &args).await?;
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("EXITED"), "{out}");
        let received = usdt_of(&chain, *member).await? - before;
        assert_eq!(received, expected, "{name} receives its claim's share: {out}");
        paid_out += received;
        wait_for("the payout solidified", LIMIT, || async {
            Ok(seen.claimOf(chain.usdt, *member).call().await?.paid.then_some(()))
        })
        .await?;
        let (code, out) = cli(&key, &args).await?;
        assert_eq!(code, 1, "{name}'s second payout: {out}");
        assert!(out.contains("paid"), "{out}");
        assert_eq!(usdt_of(&chain, *member).await? - before, expected, "{name} paid once");
    }
    miner.stop().await?;
    // What no claim needs is what returnSurplus would send the admin.
    let surplus = custody - custody.min(proven);
    assert_eq!(on_chain_exit(&chain, exits).claimWindow(chain.usdt).call().await?.surplus, surplus);
    let returned = on_chain_exit(&chain, exits).returnSurplus(chain.usdt).from(outsider.address()).call().await?;
    assert_eq!(returned, surplus, "returnSurplus would send exactly the surplus");

    // Nothing else moves the token: what the exits hold is the custody less what they paid, the Settlement holds only
    // what is claimable, and a payout batch or a treasury transfer is refused, whoever signs them.
    assert_eq!(usdt_of(&chain, exits).await?, U256::from(opening.custody) - paid_out);
    assert_eq!(usdt_of(&chain, chain.settlement).await?, on_chain.totalClaimable(chain.usdt).call().await?);
    let batch = Settlement::PayoutBatch {
        token: chain.usdt,
        payouts: vec![Settlement::Payout { recipient: a.address(), amount: U256::from(1) }],
        total: U256::from(1),
        nonce: U256::from(999_999),
        deadline: U256::MAX,
    };
    let refused = refusal(on_chain.executePayoutBatch(batch, Bytes::new()).from(genesis).call().await);
    assert!(refused.contains("ExitOpen"), "a payout batch after the opening: {refused}");
    let transfer = Settlement::TreasuryTransfer {
        token: chain.usdt,
        to: genesis,
        amount: U256::from(1),
        nonce: U256::from(1),
        deadline: U256::MAX,
    };
    let refused = refusal(on_chain.transferTreasury(transfer, Bytes::new()).from(genesis).call().await);
    assert!(refused.contains("ExitOpen"), "a treasury transfer after the opening: {refused}");
    Ok(())
}
