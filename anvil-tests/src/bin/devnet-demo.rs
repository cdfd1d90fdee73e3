//! Demo data for the local devnet (`scripts/devnet.sh`), through the real flow:
//!
//! * `devnet-demo generation-params <chain.json> <file>`: writes the parameters of the devnet's generation-plan asset
//!   (asset 4) to `file`, for `referral-asset create --params` (the devnet creates its assets with `referral-asset`,
//!   as an operator does): PLAN-GENERATION.md's defaults at 6 decimals but for `week_origin`, so that its current week
//!   ends five minutes after now.
//! * `devnet-demo users <api-url> <rpc-url> <chain.json>`: anvil's accounts 2–9 sign in, ask the API for
//!   register (and retopup) payloads and send their own transactions — accounts 2–5 in the native coin, 6–9 in
//!   test USDT (approve first) — then waits until the listener has applied every one and prints the result.
//! * `devnet-demo tron-users <api-url> <tron-http-url> <tron-chain.json>`: anvil's accounts 2–5 as TRON wallets
//!   (`T…` addresses) sign in the TRON way, ask the API for register payloads in USDT on the TRON chain (2 and 3
//!   also for a retopup), and pay them as a TronLink user's browser does: TronWeb builds the approve and the call
//!   through the TRON node's HTTP API, signs and broadcasts them (`scripts/tron/tronlink-pay.mjs`, run from the
//!   current directory, the repository); then waits until the listener has applied each (once solidified) and
//!   prints their standing.
//! * `devnet-demo generation <api-url> <rpc-url> <chain.json>`: the generation-plan asset (asset 4, PLAN-GENERATION.md,
//!   on the deployment's second test token): anvil's accounts 2–6 buy packages through the API and their own
//!   wallets in rounds — PLAN-GENERATION.md §7's example, so that account 2 reaches its cap — then account 6 gives
//!   account 2 a second leg and account 2 buys again; anvil's clock is moved on to the week's end (the asset's weeks
//!   are set up to end minutes after the devnet starts), and the demo waits until the listener's confirmed head
//!   closes the week and a rank bonus is credited, and prints every standing.
//! * `devnet-demo binary-params <chain.json> <file>`: writes the parameters of the devnet's binary-plan asset (asset
//!   5, BUSDT) to `file`: PLAN-BINARY.md's defaults at 6 decimals but for weekly periods, the current one ending ten
//!   minutes after now (after the generation asset's week), and a 5 % withdrawal fee.
//! * `devnet-demo binary <api-url> <rpc-url> <chain.json>`: the binary-plan asset: account 2 joins under genesis
//!   with the smallest package (so it is no active buyer), accounts 3 and 4 join under it with 1 000 each (placed
//!   left, then right: the weaker leg) and account 5 with 500 (placed in account 2's left leg, under 3); anvil's clock
//!   is moved on to the period's end, and the demo waits until the listener's confirmed head closes it: account 2 is
//!   paid its 10 pairs (the limit), the last 5 with 20 % reserved, and its left leg carries 500 on.
//! * `devnet-demo reconciled <api-url> <chain.json> <asset-id>`: asks the reconciler to run now (as an admin) and
//!   waits until that run shows the asset's custody and ledger agree (variance 0).
//! * `devnet-demo staff <api-url>`: the admin (anvil's account 0, seeded with every staff role from the configuration)
//!   grants `finance` to anvil's account 10 and `approver` to accounts 11 and 12 (backend/STAFF.md §2): the devnet's
//!   staff wallets, derived from anvil's mnemonic and holding no coin (they only sign). The first two apply at once
//!   (nobody but the admin holds `approver` yet); the third is approved by account 11, a second person. A devnet
//!   started again on its database finds them granted already.
//! * `devnet-demo payout <api-url> <asset-id>`: finance (account 10) builds a payout batch of the asset's pending
//!   rewards and proposes it, the approver (account 11) approves it, each signing in its own wallet; finance has it
//!   signed — the signer checks both signatures against its `[policy.approvals]` — and sent through the API, and the
//!   demo waits until it is settled.
//! * `devnet-demo solvency-proofs <api-url> <chain.json> <tron-chain.json> <dir>`: waits until every asset has an
//!   epoch of the proof of solvency committed as of the ledger's block when it started (so the demo's last steps are
//!   in it), then the genesis user and anvil's accounts 2–9 (2–5 as TRON wallets on the TRON chain) sign in and
//!   download their proofs from the API into `dir`, one file per user and asset (`scripts/devnet.sh verify-proofs`
//!   then verifies each with `solvency-verify`).
//!
//! anvil's well-known keys only; never for a real chain.

use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use anvil_tests::{
    api::{ApiClient, pay, sign_staff_approval, tronlink_pay, wait_for, wallet_provider},
    devchain::{
        BINARY_ASSET, Deployment, GENERATION_ASSET, NATIVE_ASSET, TRON_USDT_ASSET, USDT_ASSET, anvil_account,
        binary_deployment_asset, generation_deployment_asset,
    },
};
use serde_json::json;

/// (account, asset, sponsor account; 0 = the genesis user): the first round sponsored by genesis, the
/// second by users of the first, so the tree has two levels in each asset.
const REGISTRATIONS: [[(u32, i32, u32); 4]; 2] = [
    [(2, NATIVE_ASSET, 0), (3, NATIVE_ASSET, 0), (6, USDT_ASSET, 0), (7, USDT_ASSET, 0)],
    [(4, NATIVE_ASSET, 2), (5, NATIVE_ASSET, 2), (8, USDT_ASSET, 6), (9, USDT_ASSET, 6)],
];
/// Accounts that also pay a retopup, with the asset.
const RETOPUPS: [(u32, i32); 2] = [(2, NATIVE_ASSET), (6, USDT_ASSET)];
/// How long the listener may take to apply a round (confirmations × block time, with a wide margin).
const APPLY_LIMIT: Duration = Duration::from_secs(90);

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["generation-params", chain, file] => generation_params(&read_deployment(chain)?, file),
        ["users", api, rpc, chain] => users(api, rpc, &read_deployment(chain)?).await,
        ["tron-users", api, http, chain] => tron_users(api, http, &read_deployment(chain)?).await,
        ["payout", api, asset] => payout(api, asset.parse()?).await,
        ["staff", api] => staff(api).await,
        ["generation", api, rpc, chain] => generation(api, rpc, &read_deployment(chain)?).await,
        ["binary-params", chain, file] => binary_params(&read_deployment(chain)?, file),
        ["binary", api, rpc, chain] => binary(api, rpc, &read_deployment(chain)?).await,
        ["reconciled", api, chain, asset] => reconciled(api, &read_deployment(chain)?, asset.parse()?).await,
        ["solvency-proofs", api, chain, tron, dir] => solvency_proofs(api, chain, tron, dir).await,
        _ => eyre::bail!(
            "usage: devnet-demo generation-params <chain.json> <file> | users <api-url> <rpc-url> <chain.json> | \
             tron-users <api-url> <tron-http-url> <tron-chain.json> | \
             payout <api-url> <asset-id> | staff <api-url> | generation <api-url> <rpc-url> <chain.json> | \
             binary-params <chain.json> <file> | binary <api-url> <rpc-url> <chain.json> | \
             reconciled <api-url> <chain.json> <asset-id> | \
             solvency-proofs <api-url> <chain.json> <tron-chain.json> <dir>"
        ),
    }
}

fn read_deployment(path: &str) -> eyre::Result<Deployment> {
    let text = std::fs::read_to_string(path).map_err(|e| eyre::eyre!("reading {path}: {e}"))?;
    Ok(serde_json::from_str(&text)?)
}

fn generation_params(deployment: &Deployment, file: &str) -> eyre::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let asset = generation_deployment_asset(deployment, now)
        .ok_or_else(|| eyre::eyre!("the deployment has no generation token"))?;
    write_params_file(ledger::plan::PlanKind::Generation, &asset.params, asset.decimals, file)
}

fn binary_params(deployment: &Deployment, file: &str) -> eyre::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let asset =
        binary_deployment_asset(deployment, now).ok_or_else(|| eyre::eyre!("the deployment has no binary token"))?;
    write_params_file(ledger::plan::PlanKind::Binary, &asset.params, asset.decimals, file)
}

/// `params` as the operator's parameter file (backend/PLAN-PARAMS.md): every amount in the token's own units.
fn write_params_file(
    plan: ledger::plan::PlanKind,
    params: &impl serde::Serialize,
    decimals: u8,
    file: &str,
) -> eyre::Result<()> {
    let stored = serde_json::to_value(params)?;
    let mut units = ledger::plan::params_of(plan).to_token_units(u32::from(decimals), &stored)?;
    units["amounts_in"] = "token".into();
    std::fs::write(file, serde_json::to_string_pretty(&units)?)?;
    Ok(())
}

struct DemoUser {
    account: u32,
    wallet: PrivateKeySigner,
    token: String,
}

async fn users(api_url: &str, rpc: &str, deployment: &Deployment) -> eyre::Result<()> {
    let api = ApiClient::new(api_url);
    let mut users = Vec::new();
    for account in 2..=9 {
        let wallet = anvil_account(account)?;
        let token = api.sign_in(&wallet).await?;
        users.push(DemoUser { account, wallet, token });
    }
    let user = |account: u32| users.iter().find(|u| u.account == account).expect("demo account");
    let address = |account: u32| if account == 0 { deployment.admin } else { user(account).wallet.address() };

    for (round, registrations) in REGISTRATIONS.iter().enumerate() {
        for &(account, asset, sponsor) in registrations {
            let u = user(account);
            if api.standing(&u.token, asset).await?.is_some() {
                continue; // registered by an earlier run
            }
            let payment = api.register_payload(&u.token, asset, address(sponsor)).await?;
            let block = pay(&wallet_provider(rpc, &u.wallet)?, &payment).await?;
            println!("account {account}: registered in asset {asset} under {} (block {block})", address(sponsor));
        }
        if round == 1 {
            for &(account, asset) in &RETOPUPS {
                let u = user(account);
                let standing = api.standing(&u.token, asset).await?;
                if standing.is_some_and(|s| s["retopups"].as_i64() > Some(0)) {
                    continue;
                }
                let payment = api.retopup_payload(&u.token, asset).await?;
                let block = pay(&wallet_provider(rpc, &u.wallet)?, &payment).await?;
                println!("account {account}: retopup in asset {asset} (block {block})");
            }
        }
        // The next round's sponsors must be in the ledger: wait for the listener.
        for &(account, asset, _) in registrations {
            let u = user(account);
            let retopups = i64::from(round == 1 && RETOPUPS.contains(&(account, asset)));
            wait_applied(&api, u, asset, retopups, &format!("account {account} in asset {asset}")).await?;
        }
    }

    println!(
        "\n{:<9} {:<44} {:<6} {:>7} {:>26} {:>26}",
        "account", "address", "asset", "user_no", "paid in", "pending"
    );
    for u in &users {
        let me = api.get("/v1/users/me", Some(&u.token)).await?.ok("GET /v1/users/me")?;
        for s in me["assets"].as_array().into_iter().flatten() {
            println!(
                "{:<9} {:<44} {:<6} {:>7} {:>26} {:>26}",
                u.account,
                u.wallet.address(),
                s["symbol"].as_str().unwrap_or("?"),
                s["user_no"],
                s["balances"]["paid_in"].as_str().unwrap_or("?"),
                s["balances"]["pending"].as_str().unwrap_or("?"),
            );
        }
    }
    println!("genesis (and admin): {}", deployment.admin);
    Ok(())
}

async fn solvency_proofs(api_url: &str, chain: &str, tron: &str, dir: &str) -> eyre::Result<()> {
    let (evm, tron) = (read_deployment(chain)?, read_deployment(tron)?);
    let api = ApiClient::new(api_url);
    // A fresh epoch of every asset: as of the ledger's confirmed block now, or later.
    let overview = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
    let assets = overview["assets"].as_array().cloned().unwrap_or_default();
    for asset in &assets {
        let (id, from) = (asset["asset_id"].as_i64().unwrap_or(0), asset["confirmed_block"].as_u64().unwrap_or(0));
        wait_for(
            &format!("asset {id}: an epoch committed as of block {from} or later"),
            Duration::from_secs(300),
            || async {
                let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
                let now = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == id).cloned());
                Ok(now.filter(|a| a["latest"]["as_of_block"].as_u64().is_some_and(|b| b >= from)).map(|_| ()))
            },
        )
        .await?;
    }
    let mut written = 0;
    for account in [0, 2, 3, 4, 5, 6, 7, 8, 9] {
        let wallet = anvil_account(account)?;
        for (deployment, on_tron) in [(&evm, false), (&tron, true)] {
            if on_tron && !(account == 0 || (2..=5).contains(&account)) {
                continue;
            }
            let token = if on_tron { api.sign_in_tron(&wallet).await? } else { api.sign_in(&wallet).await? };
            for asset in assets.iter().filter(|a| a["chain_id"].as_u64() == Some(deployment.chain_id)) {
                let id = asset["asset_id"].as_i64().unwrap_or(0);
                let answer = api.get(&format!("/v1/users/solvency-proof?asset_id={id}"), Some(&token)).await?;
                if answer.code() == "not_in_epoch" {
                    continue;
                }
                let proof = answer.ok("GET /v1/users/solvency-proof")?;
                let symbol = asset["symbol"].as_str().unwrap_or("asset").to_lowercase();
                let name = if on_tron {
                    format!("{symbol}-tron-{id}-account{account}.json")
                } else {
                    format!("{symbol}-{id}-account{account}.json")
                };
                std::fs::write(std::path::Path::new(dir).join(&name), proof.to_string())?;
                println!("{name}: epoch {}, value {}", proof["epoch"], proof["value"]["human"]);
                written += 1;
            }
        }
    }
    eyre::ensure!(written > 0, "no proof downloaded");
    Ok(())
}

/// The devnet's staff wallets (anvil's mnemonic, accounts past the ten anvil funds) and their roles: the signer's
/// `[policy.approvals]` (scripts/devnet.sh) lists 10 among its proposers and 11 and 12 as its approvers.
const STAFF: [(u32, &str); 3] = [(10, "finance"), (11, "approver"), (12, "approver")];
/// The staff wallet that proposes the demo's payouts, and the one that approves them.
const FINANCE: u32 = 10;
const APPROVER: u32 = 11;

async fn staff(api_url: &str) -> eyre::Result<()> {
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&anvil_account(0)?).await?;
    for (account, role) in STAFF {
        let wallet = anvil_account(account)?.address().to_checksum(None);
        let reason = format!("devnet staff: anvil account {account}");
        let body = json!({ "action": "grant", "wallet": wallet, "role": role, "reason": reason });
        let answer = api.post("/v1/admin/staff/changes", Some(&admin), body).await?;
        if answer.status == 409 && answer.code() == "no_change" {
            println!("staff: account {account} ({wallet}) holds {role} already");
            continue;
        }
        let mut change = answer.ok("POST /v1/admin/staff/changes")?;
        if change["status"] == "proposed" {
            // An approver other than the admin exists by now: it approves the change, as a second person.
            let approver = api.sign_in(&anvil_account(APPROVER)?).await?;
            let path = format!("/v1/admin/staff/changes/{}/approve", change["id"]);
            change = api.post(&path, Some(&approver), json!({})).await?.ok("approve the staff change")?;
        }
        eyre::ensure!(change["status"] == "applied", "granting {role} to account {account} did not apply: {change}");
        println!("staff: account {account} ({wallet}) is {role}");
    }
    Ok(())
}

/// Finance (anvil 10) builds a payout batch of the asset's pending rewards and proposes it, signing the proposal in
/// its wallet; the approver (anvil 11) approves it with its own wallet's signature; finance has it signed (the
/// signer checks both signatures itself) and sent, and the demo waits until the listener has settled it.
async fn payout(api_url: &str, asset_id: i32) -> eyre::Result<()> {
    let api = ApiClient::new(api_url);
    let finance_key = anvil_account(FINANCE)?;
    let approver_key = anvil_account(APPROVER)?;
    let finance = api.sign_in(&finance_key).await?;
    let approver = api.sign_in(&approver_key).await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&finance), json!({ "asset_id": asset_id })).await?;
    if built.status == 409 && built.code() == "nothing_payable" {
        println!("asset {asset_id}: no pending rewards to pay");
        return Ok(());
    }
    let built = built.ok("POST /v1/admin/payouts/batches")?;
    let id = built["id"].as_i64().ok_or_else(|| eyre::eyre!("batch answer has no id"))?;
    let body = json!({ "kind": "payout_batch", "subject": id });
    let proposal = api.post("/v1/admin/authorisations", Some(&finance), body).await?.ok("propose")?;
    let signatures = format!("/v1/admin/authorisations/{}/signatures", proposal["id"]);
    for (key, token, action) in [(&finance_key, &finance, "propose"), (&approver_key, &approver, "approve")] {
        let signature = sign_staff_approval(key, &proposal["typed_data"][action])?;
        let body = json!({ "action": action, "signature": signature });
        api.post(&signatures, Some(token), body).await?.ok(action)?;
    }
    let path = format!("/v1/admin/payouts/batches/{id}");
    api.post(&format!("{path}/sign"), Some(&finance), json!({})).await?.ok("sign")?;
    let sent = api.post(&format!("{path}/submit"), Some(&finance), json!({})).await?.ok("submit")?;
    let settled = wait_for("the listener to settle the batch", APPLY_LIMIT, || async {
        let view = api.get(&path, Some(&finance)).await?.ok("GET batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    println!(
        "asset {asset_id}: payout batch {id} ({} entries, {}) proposed by account {FINANCE}, approved by account \
         {APPROVER}, executed in block {} (tx {})",
        settled["entry_count"],
        settled["total"]["human"].as_str().unwrap_or("?"),
        settled["executed_block"],
        sent["tx_hash"].as_str().unwrap_or("?")
    );
    Ok(())
}

/// TRON rounds (account, sponsor account; 0 = genesis) in USDT on the TRON chain: 2 under genesis; 3 and 4 under
/// 2; 5 under 3. Each round's sponsors are applied by the listener before it starts.
const TRON_REGISTRATIONS: [&[(u32, u32)]; 3] = [&[(2, 0)], &[(3, 2), (4, 2)], &[(5, 3)]];
/// TRON accounts that also pay a retopup (in the last round).
const TRON_RETOPUPS: [u32; 2] = [2, 3];

/// TRON wallets sign in the TRON way, register (and retopup) in USDT on the TRON chain, paying through TronWeb as
/// TronLink users; prints their `T…` addresses and standing.
async fn tron_users(api_url: &str, tron_http: &str, deployment: &Deployment) -> eyre::Result<()> {
    let api = ApiClient::new(api_url);
    let root = std::env::current_dir()?;
    let mut users = Vec::new();
    for account in 2..=5 {
        let wallet = anvil_account(account)?;
        let token = api.sign_in_tron(&wallet).await?;
        users.push(DemoUser { account, wallet, token });
    }
    let user = |account: u32| users.iter().find(|u| u.account == account).expect("demo account");
    let last = TRON_REGISTRATIONS.len() - 1;
    for (round, registrations) in TRON_REGISTRATIONS.iter().enumerate() {
        let mut expected = Vec::new();
        for &(account, sponsor) in registrations.iter() {
            let u = user(account);
            expected.push((account, 0));
            if api.standing(&u.token, TRON_USDT_ASSET).await?.is_some() {
                continue; // registered by an earlier run
            }
            let sponsor = if sponsor == 0 { deployment.admin } else { user(sponsor).wallet.address() };
            let payment = api.register_payload_tron(&u.token, TRON_USDT_ASSET, sponsor).await?;
            let paid = tronlink_pay(&root, tron_http, &u.wallet, &payment["tron"]).await?;
            println!(
                "account {account} ({}): registered in USDT on TRON under {} through TronWeb ({})",
                abi::tron::to_base58(u.wallet.address()),
                abi::tron::to_base58(sponsor),
                describe(&paid)
            );
        }
        if round == last {
            for account in TRON_RETOPUPS {
                let u = user(account);
                expected.push((account, 1));
                let standing = api.standing(&u.token, TRON_USDT_ASSET).await?;
                if standing.is_some_and(|s| s["retopups"].as_i64() > Some(0)) {
                    continue;
                }
                let payment = api.retopup_payload(&u.token, TRON_USDT_ASSET).await?;
                let paid = tronlink_pay(&root, tron_http, &u.wallet, &payment["tron"]).await?;
                println!(
                    "account {account} ({}): retopup in USDT on TRON through TronWeb ({})",
                    abi::tron::to_base58(u.wallet.address()),
                    describe(&paid)
                );
            }
        }
        // The next round's sponsors must be in the ledger: the listener applies them once solidified.
        for (account, retopups) in expected {
            let u = user(account);
            wait_applied(&api, u, TRON_USDT_ASSET, retopups, &format!("TRON account {account}")).await?;
        }
    }

    println!(
        "\n{:<9} {:<36} {:>7} {:>9} {:>16} {:>16}",
        "account", "TRON address", "user_no", "retopups", "paid in", "pending"
    );
    for u in &users {
        let s = api.standing(&u.token, TRON_USDT_ASSET).await?.ok_or_else(|| eyre::eyre!("account {}", u.account))?;
        println!(
            "{:<9} {:<36} {:>7} {:>9} {:>16} {:>16}",
            u.account,
            abi::tron::to_base58(u.wallet.address()),
            s["user_no"].to_string(),
            s["retopups"].to_string(),
            s["balances"]["paid_in"].as_str().unwrap_or("?"),
            s["balances"]["pending"].as_str().unwrap_or("?"),
        );
    }
    println!("TRON genesis (and admin): {}", abi::tron::to_base58(deployment.admin));
    Ok(())
}

/// Waits until the listener has applied `u`'s registration in `asset` and at least `retopups` of its retopups.
async fn wait_applied(api: &ApiClient, u: &DemoUser, asset: i32, retopups: i64, who: &str) -> eyre::Result<()> {
    wait_for(&format!("the listener to apply {who}"), APPLY_LIMIT, || async {
        let standing = api.standing(&u.token, asset).await?;
        Ok(standing.filter(|s| s["retopups"].as_i64() >= Some(retopups)))
    })
    .await?;
    Ok(())
}

/// The transactions a TronWeb payment sent: `approve 1a2b… in block 7, register 3c4d… in block 8`.
fn describe(paid: &serde_json::Value) -> String {
    let sent = paid["sent"].as_array().cloned().unwrap_or_default();
    let one = |t: &serde_json::Value| {
        let txid = t["txid"].as_str().unwrap_or("?");
        format!("{} {}… in block {}", t["what"].as_str().unwrap_or("?"), &txid[..txid.len().min(12)], t["block"])
    };
    sent.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// One base unit of GUSDT's 6 decimals per millionth: whole GUSDT.
const GUSDT: u128 = 1_000_000;

/// The generation demo's rounds: (account, what; 0 = genesis as sponsor). Rounds 1–4 are PLAN-GENERATION.md §7
/// (A = 2, B = 3, C = 4, D = 5), C's two purchases in rounds of their own: account 2 reaches its cap of 3 × 100.
/// Round 6 gives account 2 a second leg of 5000 (Connector's thresholds are 5000 / 5000; account 2, at its cap,
/// earns nothing from it); round 7 raises its cap by buying 1000, so the week's Connector bonus is credited.
enum Buy {
    Register { sponsor: u32, package: u128 },
    Purchase { package: u128 },
}

const GENERATION_ROUNDS: [&[(u32, Buy)]; 7] = [
    &[(2, Buy::Register { sponsor: 0, package: 100 })],
    &[(3, Buy::Register { sponsor: 2, package: 500 })],
    &[(4, Buy::Register { sponsor: 3, package: 1000 }), (5, Buy::Register { sponsor: 0, package: 100 })],
    // A wallet's next payment waits until its last one is applied (one outstanding payload per wallet).
    &[(4, Buy::Purchase { package: 1000 })],
    &[(4, Buy::Purchase { package: 5000 })],
    &[(6, Buy::Register { sponsor: 2, package: 5000 })],
    &[(2, Buy::Purchase { package: 1000 })],
];

async fn generation(api_url: &str, rpc: &str, deployment: &Deployment) -> eyre::Result<()> {
    use alloy::providers::Provider;
    eyre::ensure!(deployment.generation_token.is_some(), "the deployment has no generation token");
    let api = ApiClient::new(api_url);
    let mut users = Vec::new();
    for account in 2..=6 {
        let wallet = anvil_account(account)?;
        let token = api.sign_in(&wallet).await?;
        users.push(DemoUser { account, wallet, token });
    }
    let user = |account: u32| users.iter().find(|u| u.account == account).expect("demo account");
    let address = |account: u32| if account == 0 { deployment.admin } else { user(account).wallet.address() };
    let standing = |u: &DemoUser| {
        let api = &api;
        let token = u.token.clone();
        async move {
            let a = api.get(&format!("/v1/users/generation?asset_id={GENERATION_ASSET}"), Some(&token)).await?;
            Ok::<_, eyre::Report>((a.status == 200).then_some(a.body))
        }
    };
    // Purchases each account has made by the end of each round (an earlier run's are not made again).
    let mut purchases = std::collections::BTreeMap::<u32, i64>::new();
    for (round, buys) in GENERATION_ROUNDS.iter().enumerate() {
        let mut waits = Vec::new();
        for (account, buy) in buys.iter() {
            let u = user(*account);
            let seen = api.standing(&u.token, GENERATION_ASSET).await?;
            let payment = match buy {
                Buy::Register { sponsor, package } => {
                    waits.push((*account, 0));
                    if seen.is_some() {
                        continue;
                    }
                    api.register_package(&u.token, GENERATION_ASSET, address(*sponsor), package * GUSDT).await?
                }
                Buy::Purchase { package } => {
                    let n = purchases.entry(*account).or_default();
                    *n += 1;
                    waits.push((*account, *n));
                    if seen.is_some_and(|s| s["retopups"].as_i64() >= Some(*n)) {
                        continue;
                    }
                    api.buy_package(&u.token, GENERATION_ASSET, package * GUSDT).await?
                }
            };
            let block = pay(&wallet_provider(rpc, &u.wallet)?, &payment).await?;
            println!(
                "round {}: account {account} paid {} in asset {GENERATION_ASSET} (block {block})",
                round + 1,
                payment["amount"]["human"].as_str().unwrap_or("?")
            );
        }
        for (account, retopups) in waits {
            wait_applied(&api, user(account), GENERATION_ASSET, retopups, &format!("GUSDT account {account}")).await?;
        }
        if round == 4 {
            let a = standing(user(2)).await?.ok_or_else(|| eyre::eyre!("account 2 has no standing"))?;
            eyre::ensure!(a["room"]["base"] == "0", "account 2 should be at its cap after §7: {a}");
            println!("account 2 is at its cap: earned {} of {}", a["earned"]["human"], a["cap"]["human"]);
        }
    }

    // A week later by anvil's clock: the listener's confirmed head closes the week with no event.
    let admin = api.sign_in(&anvil_account(0)?).await?;
    let closed = || async {
        let weeks = api.get(&format!("/v1/admin/weeks?asset_id={GENERATION_ASSET}"), Some(&admin)).await?;
        let weeks = weeks.ok("GET /v1/admin/weeks")?;
        Ok::<_, eyre::Report>(weeks["weeks"].as_array().cloned().unwrap_or_default())
    };
    if closed().await?.is_empty() {
        // The asset's weeks were set up to end minutes after the devnet started: move anvil's clock to that end.
        let plan = api.get("/v1/public/plan", None).await?.ok("GET /v1/public/plan")?;
        let origin = plan["generation"]
            .as_array()
            .and_then(|g| g.iter().find(|p| p["asset_id"] == GENERATION_ASSET))
            .and_then(|p| p["week_origin"].as_u64())
            .ok_or_else(|| eyre::eyre!("asset {GENERATION_ASSET} is not in /v1/public/plan"))?;
        let provider = wallet_provider(rpc, &anvil_account(0)?)?;
        let latest = provider.get_block_by_number(Default::default()).await?.ok_or_else(|| eyre::eyre!("no block"))?;
        let now = latest.header.timestamp;
        let end = origin + (now.saturating_sub(origin) / 604_800 + 1) * 604_800;
        let _: serde_json::Value = provider.raw_request("evm_setNextBlockTimestamp".into(), (end,)).await?;
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await?;
        println!("anvil's clock moved {} s on, to the week's end", end - now);
    }
    let weeks = wait_for("the listener to close the week", APPLY_LIMIT, || async {
        let weeks = closed().await?;
        Ok((!weeks.is_empty()).then_some(weeks))
    })
    .await?;
    let w = &weeks[0];
    println!(
        "week {} closed at block {}: ranked {}, bonuses {}, company {}, credited {}",
        w["week"],
        w["closing_block"],
        w["ranked"],
        w["bonuses"]["human"].as_str().unwrap_or("?"),
        w["company_before"]["human"].as_str().unwrap_or("?"),
        w["credited"]["human"].as_str().unwrap_or("?")
    );
    println!(
        "\n{:<9} {:<44} {:>12} {:>12} {:>12} {:>12} {:>6} {:>6}",
        "account", "address", "paid in", "cap", "earned", "room", "rank", "bonus"
    );
    for u in &users {
        let Some(s) = standing(u).await? else { continue };
        let human = |k: &str| s[k]["human"].as_str().unwrap_or("-").to_owned();
        println!(
            "{:<9} {:<44} {:>12} {:>12} {:>12} {:>12} {:>6} {:>6}",
            u.account,
            u.wallet.address(),
            human("paid_in"),
            human("cap"),
            human("earned"),
            human("room"),
            s["rank_name"].as_str().unwrap_or("-"),
            s["bonuses"].as_array().map_or(0, Vec::len)
        );
    }
    Ok(())
}

/// BUSDT's base unit (6 decimals).
const BUSDT: u128 = 1_000_000;

/// The binary demo's rounds, one payment each (placement depends on the order they are applied in).
const BINARY_ROUNDS: [(u32, Buy); 4] = [
    (2, Buy::Register { sponsor: 0, package: 100 }),
    (3, Buy::Register { sponsor: 2, package: 1000 }),
    (4, Buy::Register { sponsor: 2, package: 1000 }),
    (5, Buy::Register { sponsor: 2, package: 500 }),
];

async fn binary(api_url: &str, rpc: &str, deployment: &Deployment) -> eyre::Result<()> {
    use alloy::providers::Provider;
    eyre::ensure!(deployment.binary_token.is_some(), "the deployment has no binary token");
    let api = ApiClient::new(api_url);
    let mut users = Vec::new();
    for account in 2..=5 {
        let wallet = anvil_account(account)?;
        let token = api.sign_in(&wallet).await?;
        users.push(DemoUser { account, wallet, token });
    }
    let user = |account: u32| users.iter().find(|u| u.account == account).expect("demo account");
    let address = |account: u32| if account == 0 { deployment.admin } else { user(account).wallet.address() };
    let standing = |u: &DemoUser| {
        let api = &api;
        let token = u.token.clone();
        async move {
            let a = api.get(&format!("/v1/users/binary?asset_id={BINARY_ASSET}"), Some(&token)).await?;
            Ok::<_, eyre::Report>((a.status == 200).then_some(a.body))
        }
    };
    for (round, (account, buy)) in BINARY_ROUNDS.iter().enumerate() {
        let u = user(*account);
        let Buy::Register { sponsor, package } = buy else { eyre::bail!("the binary demo only registers") };
        if api.standing(&u.token, BINARY_ASSET).await?.is_none() {
            let payment = api.register_package(&u.token, BINARY_ASSET, address(*sponsor), package * BUSDT).await?;
            let block = pay(&wallet_provider(rpc, &u.wallet)?, &payment).await?;
            println!(
                "round {}: account {account} joined under account {sponsor} with {} in asset {BINARY_ASSET} (block {block})",
                round + 1,
                payment["amount"]["human"].as_str().unwrap_or("?")
            );
        }
        wait_applied(&api, u, BINARY_ASSET, 0, &format!("BUSDT account {account}")).await?;
    }

    // The period's end by anvil's clock: the listener's confirmed head closes it with no event.
    let two = user(2);
    let closed = || async {
        let s = standing(two).await?.ok_or_else(|| eyre::eyre!("account 2 has no binary standing"))?;
        Ok::<_, eyre::Report>((!s["closes"].as_array().is_none_or(Vec::is_empty)).then_some(s))
    };
    if closed().await?.is_none() {
        let plan = api.get("/v1/public/plan", None).await?.ok("GET /v1/public/plan")?;
        let origin = plan["binary"]
            .as_array()
            .and_then(|b| b.iter().find(|p| p["asset_id"] == BINARY_ASSET))
            .and_then(|p| p["week_origin"].as_u64())
            .ok_or_else(|| eyre::eyre!("asset {BINARY_ASSET} is not in /v1/public/plan"))?;
        let provider = wallet_provider(rpc, &anvil_account(0)?)?;
        let latest = provider.get_block_by_number(Default::default()).await?.ok_or_else(|| eyre::eyre!("no block"))?;
        let now = latest.header.timestamp;
        let week = ledger::plan::binary::WEEK_SECS;
        let end = origin + (now.saturating_sub(origin) / week + 1) * week;
        let _: serde_json::Value = provider.raw_request("evm_setNextBlockTimestamp".into(), (end,)).await?;
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await?;
        println!("anvil's clock moved {} s on, to the binary period's end", end - now);
    }
    let s = wait_for("the listener to close the binary period", APPLY_LIMIT, closed).await?;
    let line = &s["closes"][0];
    println!(
        "period {} closed: account 2 matched {} pairs, paid {}, bonus {} of which {} reserved (not an active buyer: {} \
         more to pay in), {} {}",
        line["period"],
        line["pairs"].as_str().unwrap_or("?"),
        line["paid"],
        line["bonus"]["human"].as_str().unwrap_or("?"),
        line["reserved"]["human"].as_str().unwrap_or("?"),
        s["to_active_buyer"]["human"].as_str().unwrap_or("?"),
        line["rest"]["human"].as_str().unwrap_or("?"),
        line["rest_status"].as_str().unwrap_or("?"),
    );
    eyre::ensure!(
        line["paid"] == 10 && s["reserved"]["base"] != "0",
        "account 2 should be paid 10 pairs, part reserved: {s}"
    );
    println!(
        "\n{:<9} {:<44} {:>10} {:>10} {:>10} {:>10} {:>10} {:>6} {:>10}",
        "account", "address", "paid in", "left leg", "right leg", "l. carry", "r. carry", "pairs", "reserved"
    );
    for u in &users {
        let Some(s) = standing(u).await? else { continue };
        let human = |k: &str| s[k]["human"].as_str().unwrap_or("-").to_owned();
        println!(
            "{:<9} {:<44} {:>10} {:>10} {:>10} {:>10} {:>10} {:>6} {:>10}",
            u.account,
            u.wallet.address(),
            human("paid_in"),
            human("left_leg"),
            human("right_leg"),
            human("left_carry"),
            human("right_carry"),
            s["pairs_lifetime"],
            human("reserved")
        );
    }
    Ok(())
}

/// Asks the reconciler to run now and waits until the run shows the asset's custody and ledger agree.
async fn reconciled(api_url: &str, deployment: &Deployment, asset_id: i32) -> eyre::Result<()> {
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&anvil_account(0)?).await?;
    let token = match asset_id {
        BINARY_ASSET => deployment.binary_token,
        GENERATION_ASSET => deployment.generation_token,
        USDT_ASSET => Some(deployment.usdt),
        _ => None,
    }
    .ok_or_else(|| eyre::eyre!("asset {asset_id} has no token in this deployment"))?;
    let asked = api.post("/v1/admin/monitoring/reconcile", Some(&admin), json!({})).await?.ok("POST reconcile")?;
    let path = format!("/v1/admin/monitoring/requests/{}", asked["id"]);
    let done = wait_for("the reconciler to run", APPLY_LIMIT, || async {
        let r = api.get(&path, Some(&admin)).await?.ok("GET request")?;
        eyre::ensure!(r["status"] != "failed", "the reconcile request failed: {r}");
        Ok((r["status"] == "done").then_some(r))
    })
    .await?;
    let run = &done["result"]["run_id"];
    let view = api.get(&format!("/v1/admin/monitoring/reconciliation?run_id={run}"), Some(&admin)).await?;
    let view = view.ok("GET reconciliation")?;
    let token = format!("{token:#x}");
    let result = view["results"]
        .as_array()
        .and_then(|r| r.iter().find(|a| a["token"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(&token))))
        .ok_or_else(|| eyre::eyre!("run {run} has no result for asset {asset_id}: {view}"))?;
    eyre::ensure!(result["variance"] == "0", "asset {asset_id}: custody and ledger disagree in run {run}: {result}");
    println!(
        "asset {asset_id}: reconciled in run {run} at block {}: custody {}, variance 0, solvency margin {}",
        result["block_number"],
        result["onchain_balance"].as_str().unwrap_or("?"),
        result["solvency_margin"].as_str().unwrap_or("?")
    );
    Ok(())
}
