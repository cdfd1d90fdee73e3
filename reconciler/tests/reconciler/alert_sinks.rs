//! Both sinks POST what the real receivers accept, over HTTP on loopback: Alertmanager's webhook body and
//! PagerDuty Events v2, trigger then resolve under one dedup key.

use anvil_tests::webhook::WebhookInbox;
use reconciler::alerts::{Alert, AlertSink, AlertmanagerWebhook, PagerDuty, Severity, Transition};

/// A loopback receiver answering `status` to every POST.
async fn receiver(status: u16) -> eyre::Result<(String, WebhookInbox)> {
    let inbox = WebhookInbox::start().await?;
    inbox.set_status(status);
    Ok((inbox.url.clone(), inbox))
}

fn custody_alert() -> Alert {
    Alert::new(
        "custody",
        &["31337", "0x0000000000000000000000000000000000000000"],
        Severity::Critical,
        "custody balance differs from ledger",
    )
    .detail("chain_id", 31337)
    .detail("asset", "0x0000000000000000000000000000000000000000")
    .detail("variance", "1000000000000000000")
}

#[tokio::test]
async fn alertmanager_and_pagerduty_receive_trigger_then_resolve_under_one_key() -> eyre::Result<()> {
    let (base, inbox) = receiver(202).await?;
    let sinks = [
        AlertSink::Alertmanager(AlertmanagerWebhook { url: format!("{base}/am"), receiver: "oncall".into() }),
        AlertSink::PagerDuty(PagerDuty {
            url: format!("{base}/pd"),
            routing_key: "R0UT1NG".into(),
            source: "referral-devnet".into(),
        }),
    ];
    let client = reqwest::Client::new();
    let alert = custody_alert().with_runbook(Some("https://runbooks.example/ops/runbooks/"));
    for sink in &sinks {
        sink.send(&client, &alert, Transition::Fire, "2026-11-22T08:00:00Z").await?;
        sink.send(&client, &alert, Transition::Resolve, "2026-11-22T08:05:00Z").await?;
    }

    let got = inbox.received();
    assert_eq!(got.len(), 4);
    let (am_fire, am_resolve) = (&got[0].1, &got[1].1);
    assert_eq!(got[0].0, "am");
    assert_eq!(am_fire["version"], "4");
    assert_eq!(am_fire["status"], "firing");
    assert_eq!(am_fire["receiver"], "oncall");
    assert_eq!(am_fire["alerts"][0]["labels"]["alertname"], "referral_custody");
    assert_eq!(am_fire["alerts"][0]["labels"]["severity"], "critical");
    assert_eq!(am_fire["alerts"][0]["labels"]["chain_id"], "31337");
    assert!(
        am_fire["alerts"][0]["annotations"]["description"].as_str().unwrap().contains("variance=1000000000000000000")
    );
    // The page links what to do: the runbook of the Prometheus alert watching the same condition.
    let runbook = "https://runbooks.example/ops/runbooks/CustodyVariance.md";
    assert_eq!(am_fire["alerts"][0]["annotations"]["runbook_url"], runbook);
    assert_eq!(am_fire["commonAnnotations"]["runbook_url"], runbook);
    assert_eq!(am_resolve["status"], "resolved");
    assert_eq!(am_resolve["alerts"][0]["endsAt"], "2026-11-22T08:05:00Z");
    assert_eq!(am_fire["alerts"][0]["fingerprint"], am_resolve["alerts"][0]["fingerprint"]);

    let (pd_trigger, pd_resolve) = (&got[2].1, &got[3].1);
    assert_eq!(got[2].0, "pd");
    assert_eq!(pd_trigger["event_action"], "trigger");
    assert_eq!(pd_trigger["routing_key"], "R0UT1NG");
    assert_eq!(pd_trigger["payload"]["severity"], "critical");
    assert_eq!(pd_trigger["payload"]["source"], "referral-devnet");
    assert_eq!(pd_trigger["payload"]["custom_details"]["variance"], "1000000000000000000");
    assert_eq!(pd_trigger["links"], serde_json::json!([{ "href": runbook, "text": "Runbook" }]));
    assert_eq!(pd_resolve["event_action"], "resolve");
    assert_eq!(pd_trigger["dedup_key"], pd_resolve["dedup_key"]);
    assert_eq!(pd_trigger["dedup_key"], alert.dedup_key);
    Ok(())
}

#[tokio::test]
async fn a_sink_that_refuses_is_reported_not_ignored() -> eyre::Result<()> {
    let (base, _inbox) = receiver(503).await?;
    let sink =
        AlertSink::PagerDuty(PagerDuty { url: format!("{base}/pd"), routing_key: "k".into(), source: "s".into() });
    let err = sink
        .send(&reqwest::Client::new(), &custody_alert(), Transition::Fire, "2026-11-22T08:00:00Z")
        .await
        .unwrap_err();
    assert!(err.reason.contains("503"), "{err}");
    Ok(())
}
