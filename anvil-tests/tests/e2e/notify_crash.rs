//! Issue 49's crash test: the API, the listener and the notifier are killed with SIGKILL at random points (a seeded
//! generator, the seed printed) while members register, rewards are credited and a payout batch is built, signed,
//! sent and executed. Afterwards every notification the ledger calls for exists once — a payment applied per
//! payment, a reward credited per member and block with the ledger's sum, a payout sent and paid per recipient —
//! and each reached the operator's webhook endpoint and the member's mailbox (the real Postfix of
//! `scripts/mail.sh`) under its own id and no other: a copy repeated after a crash carries the same `webhook-id` or
//! Message-ID, every body is signed as the Standard Webhooks specification says (checked here by an
//! implementation of its own), and no delivery is left pending or dead.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET},
    loopback::{Answer, LoopbackServer},
    mail::{header, link, mailbox, smtp_port},
    services::{BackendChain, Service, WorkDir, ledger_database, start_backend_configured, start_signer, wait_healthy},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{BNB, CHAIN, LIMIT, start_listener};

const SERVICE_START: Duration = Duration::from_secs(60);
/// Members registering (each under the one before: every registration credits several uplines in its block).
const MEMBERS: usize = 5;

/// One webhook request as received: its `webhook-id`, `webhook-timestamp`, `webhook-signature` and body.
#[derive(Clone, Debug)]
struct Hook {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// The operator's endpoint on loopback: keeps every request, answers 204 half a second later (a delivery is in
/// flight that long), and tells `arrived` of each request it holds.
struct Endpoint {
    server: LoopbackServer,
    got: Arc<Mutex<Vec<Hook>>>,
    /// Requests received and not yet answered.
    in_flight: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
}

async fn webhook_endpoint() -> eyre::Result<Endpoint> {
    let (got, in_flight, arrived) =
        (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let state = (got.clone(), in_flight.clone(), arrived.clone());
    let server = LoopbackServer::start(move |req| {
        let (got, in_flight, arrived) = state.clone();
        async move {
            let field = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let hook = Hook {
                id: field("webhook-id"),
                timestamp: field("webhook-timestamp"),
                signature: field("webhook-signature"),
                body: String::from_utf8_lossy(&req.body).into_owned(),
            };
            got.lock().expect("endpoint lock").push(hook);
            in_flight.fetch_add(1, Ordering::SeqCst);
            arrived.notify_one();
            tokio::time::sleep(Duration::from_millis(500)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Answer::text(204, "")
        }
    })
    .await?;
    Ok(Endpoint { server, got, in_flight, arrived })
}

/// Whether one of the signatures in `hook` is `v1,` base64(HMAC-SHA256(key, "id.timestamp.body")) under
/// `secret` (`whsec_` and the key in base64), as the Standard Webhooks specification defines it.
fn signed_by(secret: &str, hook: &Hook) -> bool {
    let Some(key) = secret.strip_prefix("whsec_") else { return false };
    let Ok(key) = base64::engine::general_purpose::STANDARD.decode(key) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{}.{}.{}", hook.id, hook.timestamp, hook.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    hook.signature.split(' ').any(|s| s == expected)
}

/// `call` until it succeeds: the API may be down (killed) or answer a request it could not finish; gives up with
/// the last error after [`LIMIT`].
async fn through_crashes<T, F, Fut>(what: &str, mut call: F) -> eyre::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = eyre::Result<T>>,
{
    let until = tokio::time::Instant::now() + LIMIT;
    loop {
        match call().await {
            Ok(found) => return Ok(found),
            Err(e) if tokio::time::Instant::now() >= until => return Err(e.wrap_err(format!("{what}: gave up"))),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The services the chaos kills, each with its health URL when it has one.
struct Victim {
    service: Service,
    health: Option<String>,
    kills: usize,
}

/// Kills one of `victims` (chosen by `rng`) with SIGKILL every 0.3–1.5 s and starts it again after up to 0.4 s
/// (waiting for its health when it has one), until `stop`; and once, the notifier (the last victim) while a webhook
/// it sent is in flight at `endpoint` — received there, not yet answered. Returns the victims, all running, and
/// whether that kill happened.
async fn chaos(
    mut victims: Vec<Victim>,
    endpoint: (Arc<AtomicUsize>, Arc<Notify>),
    stop: Arc<AtomicBool>,
    mut rng: StdRng,
) -> eyre::Result<(Vec<Victim>, bool)> {
    let (in_flight, arrived) = endpoint;
    let mut mid_delivery = false;
    while !stop.load(Ordering::SeqCst) {
        let pause = Duration::from_millis(rng.gen_range(300..1500));
        let index = tokio::select! {
            _ = tokio::time::sleep(pause) => rng.gen_range(0..victims.len()),
            _ = arrived.notified(), if !mid_delivery => {
                if in_flight.load(Ordering::SeqCst) == 0 {
                    continue;
                }
                mid_delivery = true;
                victims.len() - 1
            }
        };
        let victim = &mut victims[index];
        victim.service.kill9()?;
        victim.kills += 1;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..400))).await;
        victim.service.restart()?;
        if let Some(url) = &victim.health {
            wait_healthy(url, &mut victim.service, SERVICE_START).await?;
        }
    }
    Ok((victims, mid_delivery))
}

/// The Message-IDs' local parts (before `@`) of the messages in `address`'s mailbox that are not its confirmation,
/// each with how many copies arrived.
fn notification_mails(address: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for message in mailbox(address) {
        let id = header(&message, "Message-ID").unwrap_or_default();
        let local = id.trim_matches(['<', '>']).split('@').next().unwrap_or_default().to_owned();
        if !message.contains("#email-confirm=") {
            *ids.entry(local).or_insert(0) += 1;
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_listener_and_notifier_killed_9_at_random_lose_and_double_no_notification() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("notify-crash")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let endpoint = webhook_endpoint().await?;
    // The key sealing addresses and secrets: random for this run. Short leases (timeouts + 30 s) bound how long a
    // delivery held by a killed notifier waits.
    let key = alloy::hex::encode_prefixed(rand::random::<[u8; 32]>());
    let extra = format!(
        r#"[payouts.worker]
interval_secs = 1
idle_secs = 3
[notifications]
key = "{key}"
public_url = "https://app.test:8443"
interval_ms = 100
[notifications.smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
from = "Referral Crash Test <notices@operator.test>"
timeout_secs = 3
[notifications.webhooks]
allow_local = true
timeout_secs = 2
"#,
        port = smtp_port()
    );
    let (backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &extra).await?;
    let config = dir.path.join("backend.toml");
    let operator = alloy::hex::encode_prefixed(chain.admin.to_bytes());
    let chains = format!(r#"[{{ chain_id = {CHAIN}, operator_key = "{operator}", insecure_operator_key = true }}]"#);
    let notifier = Service::start(
        &dir,
        "notifier",
        "referral-notifier",
        &[],
        &[("APP_CONFIG", config.to_str().expect("utf-8 path")), ("APP_CHAINS", &chains)],
    )?;
    let listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url.clone());

    // Before the chaos: the operator's endpoint for every kind, and each member's e-mail address confirmed from the
    // link in the message the notifier delivered.
    let admin = api.sign_in(&chain.admin).await?;
    let created = api
        .post(
            "/v1/admin/webhooks",
            Some(&admin),
            json!({ "url": format!("{}/hook", endpoint.server.url()), "description": "crash test" }),
        )
        .await?
        .ok("create the endpoint")?;
    let whsec = created["secret"].as_str().expect("secret").to_owned();
    let wallets: Vec<PrivateKeySigner> = (0..MEMBERS).map(|_| PrivateKeySigner::random()).collect();
    let run = format!("{}-{}", std::process::id(), rand::random::<u32>());
    let email = |w: &PrivateKeySigner| format!("crash-{run}-{}@members.test", &alloy::hex::encode(w.address())[..8]);
    for wallet in &wallets {
        chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
        let token = api.sign_in(wallet).await?;
        let body = json!({ "email": email(wallet), "language": "en", "kinds": ledger::notify::KINDS });
        let asked = api.request(reqwest::Method::PUT, "/v1/users/email", Some(&token), Some(body)).await?;
        assert_eq!(asked.status, 202, "{}", asked.body);
        let confirmation =
            wait_for("the confirmation e-mail", LIMIT, || async { Ok(mailbox(&email(wallet)).into_iter().next()) })
                .await?;
        let token = link(&confirmation, "#email-confirm=");
        api.post("/v1/public/email/confirm", None, json!({ "token": token })).await?.ok("confirm")?;
    }

    // The chaos: one of the three killed at a random moment, again and again, while money flows.
    let seed: u64 = std::env::var("NOTIFY_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("notify_crash: seed {seed} (NOTIFY_CRASH_SEED={seed} repeats this run's kills)");
    let stop = Arc::new(AtomicBool::new(false));
    let victims = vec![
        Victim { service: backend, health: Some(format!("{api_url}/health")), kills: 0 },
        Victim { service: listener, health: None, kills: 0 },
        Victim { service: notifier, health: None, kills: 0 },
    ];
    let watch = (endpoint.in_flight.clone(), endpoint.arrived.clone());
    let chaos = tokio::spawn(chaos(victims, watch, stop.clone(), StdRng::seed_from_u64(seed)));

    // Registrations, each under the one before; the test's own record of who paid in which block.
    let mut paid: BTreeSet<(Address, u64)> = BTreeSet::new();
    let mut sponsor = chain.admin.address();
    for wallet in &wallets {
        let payment = through_crashes("a registration payload", || async {
            let token = api.sign_in(wallet).await?;
            api.register_payload(&token, NATIVE_ASSET, sponsor).await
        })
        .await?;
        let block = pay(&wallet_provider(&chain.rpc_url(), wallet)?, &payment).await?;
        paid.insert((wallet.address(), block));
        wait_for("the registration in the ledger", LIMIT, || async {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE asset_id = $1 AND address = $2")
                .bind(NATIVE_ASSET)
                .bind(wallet.address().as_slice())
                .fetch_one(&db.pool)
                .await?;
            Ok((n == 1).then_some(()))
        })
        .await?;
        sponsor = wallet.address();
    }

    // A payout batch: built and signed through the API (again after a crash: the ledger says where it stands), sent
    // by the API's payout worker, executed and settled by the listener.
    let latest = || async {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT id, status FROM payout_batches WHERE asset_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(NATIVE_ASSET)
                .fetch_optional(&db.pool)
                .await?;
        eyre::Ok(row)
    };
    let batch = wait_for("the payout batch executed", LIMIT * 2, || async {
        match latest().await? {
            Some((id, status)) if status == "executed" => return Ok(Some(id)),
            Some((id, status)) if status == "building" => {
                let admin = api.sign_in(&chain.admin).await;
                if let Ok(admin) = admin {
                    let _ = api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await;
                }
            }
            Some((_, status)) if status == "signed" || status == "submitted" => {}
            Some((id, status)) => eyre::bail!("batch {id} is {status}"),
            None => {
                if let Ok(admin) = api.sign_in(&chain.admin).await {
                    let body = json!({ "asset_id": NATIVE_ASSET });
                    let _ = api.post("/v1/admin/payouts/batches", Some(&admin), body).await;
                }
            }
        }
        Ok(None)
    })
    .await?;

    stop.store(true, Ordering::SeqCst);
    let (mut victims, mid_delivery) = chaos.await??;
    assert!(mid_delivery, "the notifier was killed once with a webhook in flight");
    let kills: Vec<String> = victims.iter().map(|v| format!("{} {}", v.service.name, v.kills)).collect();
    println!("notify_crash: killed {}", kills.join(", "));
    for v in &mut victims {
        let state = v.service.state();
        assert_eq!(state, "running", "{} after the chaos:\n{}", v.service.name, v.service.log_tail(30));
    }
    assert!(victims.iter().all(|v| v.kills > 0), "each service killed at least once: {kills:?}");

    // Quiet: the listener through the batch's execution, every notification fanned out, no delivery pending.
    let executed: i64 = sqlx::query_scalar("SELECT executed_block FROM payout_batches WHERE id = $1")
        .bind(batch)
        .fetch_one(&db.pool)
        .await?;
    wait_for("every delivery final", LIMIT * 2, || async {
        let open: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM notifications WHERE fanned_out_at IS NULL)
                  + (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')
                  + (SELECT count(*) FROM email_deliveries WHERE status = 'pending')",
        )
        .fetch_one(&db.pool)
        .await?;
        Ok((open == 0).then_some(()))
    })
    .await?;
    assert!(executed > 0);

    // What the ledger calls for, from the test's own record and the ledger's tables.
    let rows: Vec<(String, String, Option<Vec<u8>>, Value)> =
        sqlx::query_as("SELECT id, kind, address, data FROM notifications ORDER BY seq").fetch_all(&db.pool).await?;
    let of_kind = |kind: &'static str| rows.iter().filter(move |r| r.1 == kind);
    let applied: BTreeSet<(Address, u64)> = of_kind("payment.applied")
        .map(|r| (Address::from_slice(r.2.as_deref().expect("address")), r.3["block_number"].as_u64().expect("block")))
        .collect();
    assert_eq!(applied, paid, "one payment.applied per payment made");
    assert_eq!(of_kind("payment.applied").count(), paid.len());

    let rewards: Vec<(Vec<u8>, String, i64)> = sqlx::query_as(
        "SELECT u.address, sum(r.amount)::text, count(DISTINCT e.block_number)
           FROM rewards r JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
           JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq
          WHERE r.asset_id = $1 GROUP BY u.address",
    )
    .bind(NATIVE_ASSET)
    .fetch_all(&db.pool)
    .await?;
    assert!(!rewards.is_empty());
    for (who, sum, blocks) in &rewards {
        let theirs: Vec<&Value> =
            of_kind("reward.credited").filter(|r| r.2.as_ref() == Some(who)).map(|r| &r.3).collect();
        let total: U256 =
            theirs.iter().map(|d| d["amount"].as_str().expect("amount").parse::<U256>().expect("dec")).sum();
        assert_eq!(
            (theirs.len() as i64, total.to_string()),
            (*blocks, sum.clone()),
            "rewards of 0x{}",
            alloy::hex::encode(who)
        );
    }
    assert_eq!(of_kind("reward.credited").count() as i64, rewards.iter().map(|r| r.2).sum::<i64>());

    let items: Vec<(Vec<u8>, String)> = sqlx::query_as(
        "SELECT u.address, i.amount::text FROM payout_batch_items i JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
          WHERE i.batch_id = $1",
    )
    .bind(batch)
    .fetch_all(&db.pool)
    .await?;
    assert!(items.len() >= 2, "{items:?}");
    for kind in ["payout.sent", "payout.paid"] {
        let told: BTreeSet<(Vec<u8>, String)> = of_kind(kind)
            .map(|r| (r.2.clone().expect("address"), r.3["net"].as_str().expect("net").to_owned()))
            .collect();
        assert_eq!(told, items.iter().cloned().collect(), "one {kind} per recipient with the net sent");
        assert_eq!(of_kind(kind).count(), items.len());
    }
    let accounted = paid.len() + of_kind("reward.credited").count() + 2 * items.len();
    let kinds: BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(rows.len(), accounted, "no notification the ledger does not call for: {kinds:?}");

    // Every notification at the endpoint under its own id, signed; a copy repeated after a crash is the same.
    let got = endpoint.got.lock().expect("endpoint lock").clone();
    let mut by_id: BTreeMap<String, Vec<&Hook>> = BTreeMap::new();
    for hook in &got {
        assert!(signed_by(&whsec, hook), "signature of {hook:?}");
        by_id.entry(hook.id.clone()).or_default().push(hook);
    }
    let ids: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(by_id.keys().cloned().collect::<BTreeSet<_>>(), ids, "each notification at the endpoint, by its id");
    for (id, copies) in &by_id {
        let data: BTreeSet<String> =
            copies.iter().map(|h| serde_json::from_str::<Value>(&h.body).expect("JSON")["data"].to_string()).collect();
        assert_eq!(data.len(), 1, "the copies of {id} say the same");
    }

    // Every member's notification in their mailbox under its own Message-ID.
    let mut repeated = 0;
    for wallet in &wallets {
        let hex = alloy::hex::encode(wallet.address());
        let want: BTreeSet<String> = rows
            .iter()
            .filter(|r| r.2.as_deref() == Some(wallet.address().as_slice()))
            .map(|r| format!("{}.{hex}", r.0.replace(':', ".")))
            .collect();
        let mails = notification_mails(&email(wallet));
        assert_eq!(mails.keys().cloned().collect::<BTreeSet<_>>(), want, "the e-mails of {}", email(wallet));
        repeated += mails.values().map(|n| n - 1).sum::<usize>();
    }
    let dead: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered')
              + (SELECT count(*) FROM email_deliveries WHERE status <> 'sent')",
    )
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(dead, 0, "every delivery done");
    assert!(got.len() > by_id.len(), "the webhook in flight when the notifier died was sent again, under its id");
    println!(
        "notify_crash: {} notifications, {} webhook requests ({} repeated after a crash), {} e-mails repeated",
        rows.len(),
        got.len(),
        got.len() - by_id.len(),
        repeated
    );
    Ok(())
}
