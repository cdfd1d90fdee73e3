//! The reconciler between its scheduled runs: a queued reconcile request (as the API writes it) is answered by
//! the running service with the id of the run it made; the preflight's first findings, come after the first run,
//! are paged at once; two reconciler instances delivering the same outbox never send a message twice, nor a key's
//! messages out of order.

use std::time::Duration;

use anvil_tests::webhook::WebhookInbox;
use ledger::db::ScratchDatabase;
use reconciler::{
    alerts::{Alert, AlertSink, AlertmanagerWebhook, Severity},
    service::Reconciler,
};
use serde_json::Value;
use sqlx::types::Json as SqlJson;

#[tokio::test]
async fn a_reconcile_request_is_answered_by_the_running_service_with_its_run_id() -> eyre::Result<()> {
    let db = ScratchDatabase::create("reconcile_on_demand").await?;
    let pool = db.pool.clone();
    let reconciler = Reconciler::new(pool.clone(), vec![], vec![], 10);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Scheduled runs an hour apart: only the request can cause a second run while the test waits.
    let service = tokio::spawn(async move {
        reconciler
            .run(Duration::from_secs(3_600), Duration::from_millis(50), async {
                stopped.await.ok();
            })
            .await;
    });
    let started = std::time::Instant::now();
    let scheduled = loop {
        let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM reconciler_runs WHERE finished_at IS NOT NULL")
            .fetch_one(&pool)
            .await?;
        if runs > 0 || started.elapsed() > Duration::from_secs(20) {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(scheduled, 1, "the first scheduled run happens at start");

    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO ops_requests (kind, requested_by) VALUES ('reconcile', 'ops'), ('reconcile', 'ops') RETURNING id",
    )
    .fetch_all(&pool)
    .await?;
    let replay: i64 = sqlx::query_scalar(
        "INSERT INTO ops_requests (kind, chain_id, from_block, to_block, requested_by)
         VALUES ('replay', 56, 1, 2, 'ops') RETURNING id",
    )
    .fetch_one(&pool)
    .await?;
    let mut answered = Vec::new();
    for _ in 0..100 {
        answered = sqlx::query_as::<_, (String, Option<SqlJson<Value>>)>(
            "SELECT status, result FROM ops_requests WHERE id = ANY($1) ORDER BY id",
        )
        .bind(&ids)
        .fetch_all(&pool)
        .await?;
        if answered.iter().all(|(status, _)| status == "done") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).ok();
    service.await?;

    assert!(answered.iter().all(|(status, _)| status == "done"), "{answered:?}");
    let run_ids: Vec<i64> =
        answered.iter().map(|(_, r)| r.as_ref().unwrap().0["run_id"].as_i64().expect("run id")).collect();
    assert_eq!(run_ids[0], run_ids[1], "one run answers every request queued at the time");
    let latest: i64 = sqlx::query_scalar("SELECT max(id) FROM reconciler_runs").fetch_one(&pool).await?;
    assert_eq!(run_ids[0], latest);
    assert_eq!(latest, 2, "exactly one run beyond the scheduled one");
    let finished: bool = sqlx::query_scalar(
        "SELECT r.finished_at >= q.requested_at AND q.finished_at IS NOT NULL
         FROM reconciler_runs r, ops_requests q WHERE r.id = $1 AND q.id = $2",
    )
    .bind(latest)
    .bind(ids[0])
    .fetch_one(&pool)
    .await?;
    assert!(finished, "the run was made for the request, after it");
    let replay_status: String =
        sqlx::query_scalar("SELECT status FROM ops_requests WHERE id = $1").bind(replay).fetch_one(&pool).await?;
    assert_eq!(replay_status, "queued", "replays are the listener's");
    Ok(())
}

#[tokio::test]
async fn the_preflights_first_finding_is_paged_at_once_not_a_run_later() -> eyre::Result<()> {
    let db = ScratchDatabase::create("reconcile_first_preflight").await?;
    let pool = db.pool.clone();
    let inbox = WebhookInbox::start().await?;
    let sink =
        AlertSink::Alertmanager(AlertmanagerWebhook { url: format!("{}/am", inbox.url), receiver: "oncall".into() });
    let findings = reconciler::preflight_watch::PreflightFindings::default();
    let reconciler = Reconciler::new(pool.clone(), vec![], vec![sink], 10).with_preflight(findings.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Scheduled runs an hour apart: before the fix the finding waited for the second.
    let service = tokio::spawn(async move {
        reconciler
            .run(Duration::from_secs(3_600), Duration::from_secs(3_600), async {
                stopped.await.ok();
            })
            .await;
    });
    let started = std::time::Instant::now();
    let finished_runs = async || -> eyre::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM reconciler_runs WHERE finished_at IS NOT NULL")
            .fetch_one(&pool)
            .await?)
    };
    while finished_runs().await? == 0 {
        eyre::ensure!(started.elapsed() < Duration::from_secs(20), "no first run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(inbox.received().is_empty(), "nothing to page before the checks have run");

    // The checks, slower than the first run, find the admin a key on mainnet.
    let message = "the contract's admin 0x00 is a key, not a contract, on mainnet chain 56";
    findings.set(vec![preflight::Finding::new(56, "admin", preflight::Level::Fail, message)]);
    let paged = loop {
        let paged: Vec<Value> = inbox.received().into_iter().map(|(_, body)| body).collect();
        if !paged.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break paged;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.send(()).ok();
    service.await?;
    assert_eq!(paged.len(), 1, "{paged:?}");
    let alert = &paged[0]["alerts"][0];
    assert_eq!(alert["labels"]["dedup_key"], "preflight:56:admin", "{alert}");
    assert_eq!(alert["status"], "firing", "{alert}");
    assert_eq!(finished_runs().await?, 2, "one run for the findings, the next an hour away");
    Ok(())
}

/// Receiver that takes a moment per message, so two senders really overlap.
async fn slow_receiver() -> eyre::Result<(String, WebhookInbox)> {
    let inbox = WebhookInbox::start_with_delay(Duration::from_millis(15)).await?;
    Ok((inbox.url.clone(), inbox))
}

#[tokio::test]
async fn two_reconcilers_delivering_one_outbox_send_each_message_once_and_in_order() -> eyre::Result<()> {
    let db = ScratchDatabase::create("reconcile_outbox").await?;
    let pool = db.pool.clone();
    let (url, inbox) = slow_receiver().await?;
    let sink = AlertSink::Alertmanager(AlertmanagerWebhook { url: format!("{url}/am"), receiver: "oncall".into() });
    // Ten keys, each fired, resolved and fired again, interleaved across keys in id order.
    const KEYS: usize = 10;
    for round in 0..3 {
        for key in 0..KEYS {
            let alert = Alert::new(
                "custody",
                &["56", &format!("k{key:02}")],
                Severity::Critical,
                format!("[msg {round}-{key:02}]"),
            );
            let transition = if round == 1 { "resolve" } else { "fire" };
            sqlx::query("INSERT INTO reconciler_outbox (sink, dedup_key, transition, alert) VALUES ($1, $2, $3, $4)")
                .bind(sink.id())
                .bind(&alert.dedup_key)
                .bind(transition)
                .bind(SqlJson(&alert))
                .execute(&pool)
                .await?;
        }
    }
    let first = Reconciler::new(pool.clone(), vec![], vec![sink.clone()], 10);
    let second = Reconciler::new(pool.clone(), vec![], vec![sink], 10);
    let (a, b) = tokio::join!(first.deliver(), second.deliver());
    let ((sent_a, owed_a), (sent_b, owed_b)) = (a?, b?);
    assert!(sent_a > 0 && sent_b > 0, "both instances took part ({sent_a}, {sent_b})");
    assert_eq!(sent_a + sent_b, 3 * KEYS);
    assert_eq!((owed_a, owed_b), (0, 0));

    let got: Vec<String> = inbox.received().into_iter().map(|(_, body)| body.to_string()).collect();
    assert_eq!(got.len(), 3 * KEYS, "each message received once");
    for key in 0..KEYS {
        let order: Vec<usize> = (0..3)
            .map(|round| {
                let marker = format!("[msg {round}-{key:02}]");
                let at: Vec<usize> =
                    got.iter().enumerate().filter(|(_, m)| m.contains(&marker)).map(|(i, _)| i).collect();
                assert_eq!(at.len(), 1, "{marker} received {} times", at.len());
                at[0]
            })
            .collect();
        assert!(order[0] < order[1] && order[1] < order[2], "key {key} out of order: {order:?}");
    }
    let unsent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reconciler_outbox WHERE sent_at IS NULL OR attempts <> 1")
            .fetch_one(&pool)
            .await?;
    assert_eq!(unsent, 0, "every row sent, each on its first attempt");
    Ok(())
}
