//! Hostile input, timed: every route and every field of the OpenAPI document, at its largest accepted length and
//! past it, must be answered (4xx past it) within a bound while `/health` keeps answering. The routes and fields
//! come from the served document, so a route added later is covered without touching this file.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, notifications, spawn_app, spawn_app_configured};

/// The longest a refusal of an oversized field may take (a quadratic parser of 60 kB takes about a second).
const ANSWER_BOUND: Duration = Duration::from_millis(500);
/// `/health` answers within this while the suite runs (most probes; none may take a whole stall).
const HEALTH_BOUND: Duration = Duration::from_millis(100);

/// A string of `n` base58 characters that starts like a TRON address: the worst input for an address parser.
fn base58(n: usize) -> String {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut s = String::with_capacity(n);
    s.push('T');
    for i in 1..n {
        s.push(alphabet[(i * 7 + i / 3) % alphabet.len()] as char);
    }
    s
}

/// `/health` probed every 20 ms from its own connection until stopped; each answer's time is kept.
struct HealthProbe {
    times: Arc<Mutex<Vec<Duration>>>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HealthProbe {
    fn start(base: &str) -> Self {
        let url = format!("{base}/health");
        let times = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let kept = times.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
            while !*stopped.borrow() {
                let started = Instant::now();
                let ok = client.get(&url).send().await.map(|r| r.status().as_u16() == 200).unwrap_or(false);
                let took = if ok { started.elapsed() } else { Duration::MAX };
                kept.lock().unwrap().push(took);
                let _ = tokio::time::timeout(Duration::from_millis(20), stopped.changed()).await;
            }
        });
        Self { times, stop, task }
    }

    /// Stops probing; asserts /health always answered, 95 % of the time within [`HEALTH_BOUND`], never a second.
    async fn check(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap();
        let mut times = self.times.lock().unwrap().clone();
        assert!(!times.is_empty(), "no health probe ran");
        times.sort();
        let p95 = times[times.len() * 95 / 100];
        let worst = *times.last().unwrap();
        eprintln!("/health while hostile requests ran: {} probes, p95 {p95:?}, worst {worst:?}", times.len());
        assert!(worst < Duration::from_secs(1), "/health stalled: worst {worst:?} of {} probes", times.len());
        assert!(p95 < HEALTH_BOUND, "/health p95 {p95:?} over {HEALTH_BOUND:?} ({} probes)", times.len());
    }
}

/// One hostile request and what it must get.
struct Probe {
    method: String,
    path: String,
    body: Option<String>,
    /// What the field was: for the failure message.
    what: String,
    /// The answer must be a 4xx (past a limit), or anything but a 5xx (at the limit).
    must_refuse: bool,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

fn is_string(schema: &Value) -> bool {
    match &schema["type"] {
        Value::String(t) => t == "string",
        Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// A plausible value for a field of `schema` (not under test), so that the field under test is the one parsed.
fn filler(doc: &Value, schema: &Value, address: &str) -> Value {
    let schema = resolve(doc, schema);
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(one) = schema["oneOf"].as_array().and_then(|o| o.first()) {
        return filler(doc, one, address);
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_owned(),
        _ => "object".to_owned(),
    };
    match kind.as_str() {
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "string" => json!(address),
        "array" => json!([]),
        _ => json!({}),
    }
}

/// Every probe of the document: per body field, query and path parameter, the largest accepted length and two
/// past it (a little, and 60 kB); per body, 2 MB.
fn probes(doc: &Value, address: &str) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let params: Vec<&Value> = op["parameters"].as_array().map(|p| p.iter().collect()).unwrap_or_default();
            // The plain request: path parameters filled, required query parameters filled.
            let fill_path = |over: Option<(&str, &str)>| {
                let mut path = template.clone();
                for p in params.iter().filter(|p| p["in"] == "path") {
                    let name = p["name"].as_str().unwrap();
                    let value = match over {
                        Some((n, v)) if n == name => v.to_owned(),
                        _ if is_string(resolve(doc, &p["schema"])) => address.to_owned(),
                        _ => "1".to_owned(),
                    };
                    path = path.replace(&format!("{{{name}}}"), &value);
                }
                path
            };
            let query = |over: Option<(&str, &str)>| {
                let mut pairs = Vec::new();
                for p in params.iter().filter(|p| p["in"] == "query") {
                    let name = p["name"].as_str().unwrap();
                    match over {
                        Some((n, v)) if n == name => pairs.push(format!("{name}={v}")),
                        _ if p["required"] == true => {
                            let v = filler(doc, &p["schema"], address);
                            pairs.push(format!("{name}={}", v.as_str().map(str::to_owned).unwrap_or(v.to_string())));
                        }
                        _ => {}
                    }
                }
                if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
            };
            let body_schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
            let body_schema = resolve(doc, &body_schema).clone();
            let properties = body_schema["properties"].as_object().cloned().unwrap_or_default();
            let base_body: Option<Map<String, Value>> = op["requestBody"]
                .is_object()
                .then(|| properties.iter().map(|(k, s)| (k.clone(), filler(doc, s, address))).collect());
            let plain_body = base_body.as_ref().map(|b| Value::Object(b.clone()).to_string());
            let mut push = |path: String, body: Option<String>, what: String, must_refuse: bool| {
                probes.push(Probe { method: method.to_uppercase(), path, body, what, must_refuse });
            };
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let schema = resolve(doc, &p["schema"]);
                if !is_string(schema) {
                    continue;
                }
                let max = schema["maxLength"].as_u64().unwrap_or(abi::limits::ADDRESS_MAX_LEN as u64) as usize;
                for (len, refuse) in [(max, false), (max + 1, true), (30_000, true)] {
                    let value = base58(len);
                    let (path, q) = if p["in"] == "path" {
                        (fill_path(Some((name, &value))), query(None))
                    } else {
                        (fill_path(None), query(Some((name, &value))))
                    };
                    push(format!("{path}{q}"), plain_body.clone(), format!("{method} {template} {name}×{len}"), refuse);
                }
            }
            let Some(base_body) = base_body else { continue };
            let path = format!("{}{}", fill_path(None), query(None));
            for (field, schema) in &properties {
                let schema = resolve(doc, schema);
                if !is_string(schema) {
                    continue;
                }
                let max = schema["maxLength"].as_u64().unwrap_or(abi::limits::ADDRESS_MAX_LEN as u64) as usize;
                for (len, refuse) in [(max, false), (max + 1, true), (60_000, true), (2_000_000, true)] {
                    let mut body = base_body.clone();
                    body.insert(field.clone(), json!(base58(len)));
                    let what = format!("{method} {template} .{field}×{len}");
                    push(path.clone(), Some(Value::Object(body).to_string()), what, refuse);
                }
            }
            push(
                path,
                Some(format!("{{\"x\": \"{}\"}}", base58(2_000_000))),
                format!("{method} {template} 2 MB"),
                true,
            );
        }
    }
    probes
}

async fn send(app: &TestApp, token: &str, probe: &Probe) -> (u16, Duration) {
    let url = format!("{}{}", app.base, probe.path);
    let mut req = app.client.request(probe.method.parse().unwrap(), url).bearer_auth(token);
    if let Some(body) = &probe.body {
        req = req.header("content-type", "application/json").body(body.clone());
    }
    let started = Instant::now();
    let status = match tokio::time::timeout(Duration::from_secs(20), req.send()).await {
        Ok(Ok(res)) => {
            let status = res.status().as_u16();
            let _ = res.bytes().await;
            status
        }
        // A connection the server closed (a request head or body past its limits) is a refusal too.
        Ok(Err(e)) if e.is_request() || e.is_body() || e.is_connect() => 400,
        Ok(Err(e)) => panic!("{}: {e}", probe.what),
        Err(_) => panic!("{}: no answer in 20 s", probe.what),
    };
    (status, started.elapsed())
}

#[tokio::test]
async fn every_field_of_every_route_is_bounded_in_time_while_health_answers() {
    // With `[notifications]`, as a live deployment has it: the e-mail and webhook routes reach their handlers (without
    // it they answer 503 before looking at what they were sent). Public endpoints only, as outside the devnet.
    let app =
        spawn_app_configured("redis://127.0.0.1:6379", |s| s.notifications = Some(notifications(false, 3600))).await;
    let doc = app.get("/api-docs/openapi.json", None).await.body;
    // The admin may call every route; a registered admin makes the user routes reach their handlers.
    let token = app.admin_token().await;
    let address = app.admin.address().to_checksum(None);
    let probes = probes(&doc, &address);
    assert!(probes.len() > 80, "the document yielded only {} probes", probes.len());
    let health = HealthProbe::start(&app.base);
    let mut slow = Vec::new();
    let mut slowest = Duration::ZERO;
    for probe in &probes {
        let (status, took) = send(&app, &token, probe).await;
        assert!(status < 500, "{}: answered {status}", probe.what);
        if probe.must_refuse {
            assert!((400..500).contains(&status), "{}: answered {status}, not a refusal", probe.what);
        }
        slowest = slowest.max(took);
        if took > ANSWER_BOUND {
            slow.push(format!("{} took {took:?}", probe.what));
        }
    }
    health.check().await;
    eprintln!("{} hostile probes, the slowest answered in {slowest:?}", probes.len());
    assert!(slow.is_empty(), "answers slower than {ANSWER_BOUND:?}: {slow:#?}");
}

#[tokio::test]
async fn a_two_megabyte_address_in_every_address_field_is_refused_in_milliseconds() {
    let app = spawn_app().await;
    let token = app.user_token().await;
    let admin = app.admin_token().await;
    let huge = base58(2_000_000);
    let health = HealthProbe::start(&app.base);
    let cases: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("POST", "/v1/users/register".into(), Some(json!({ "asset_id": 1, "sponsor": huge })), &token),
        ("POST", "/v1/auth/nonce".into(), Some(json!({ "address": huge, "chain": "tron" })), &token),
        (
            "POST",
            "/v1/admin/treasury/transfers".into(),
            Some(json!({ "asset_id": 1, "to": huge, "amount": "1" })),
            &admin,
        ),
        ("POST", "/v1/admin/pool/placements".into(), Some(json!({ "asset_id": 1, "user": huge, "level": 1 })), &admin),
        ("GET", format!("/v1/pool/nodes?asset_id=1&level=1&owner={huge}"), None, &token),
        ("GET", format!("/v1/admin/payouts/pending?asset_id=1&user={huge}"), None, &admin),
        ("POST", format!("/v1/admin/users/{huge}/freeze"), None, &admin),
    ];
    for (method, path, body, bearer) in cases {
        let shown = &path[..path.find('?').unwrap_or(path.len()).min(40)];
        let started = Instant::now();
        let status = match body {
            Some(body) => {
                let url = format!("{}{path}", app.base);
                let req = app.client.request(method.parse().unwrap(), url).bearer_auth(bearer).json(&body);
                match req.send().await {
                    Ok(res) => res.status().as_u16(),
                    // The server may close the connection on a body past its limit before the client sent it all.
                    Err(e) if e.is_request() || e.is_body() => 413,
                    Err(e) => panic!("{method} {shown}: {e}"),
                }
            }
            // An HTTP client refuses to send a 2 MB URL: the request line is written by hand.
            None => raw_status(&app.base, method, &path, bearer).await,
        };
        let took = started.elapsed();
        assert!((400..500).contains(&status), "{method} {shown}…: answered {status}");
        assert!(took < ANSWER_BOUND, "{method} {shown}…: took {took:?}");
    }
    health.check().await;
}

/// The status of a request written by hand on a new connection (400 when the server closes it unanswered).
async fn raw_status(base: &str, method: &str, path: &str, bearer: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {bearer}\r\nconnection: close\r\n\r\n"
    );
    // The server may answer and close before it has read the whole head: a failed write is not a failure.
    let _ = stream.write_all(head.as_bytes()).await;
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer)).await.unwrap().unwrap_or(0);
    let line = String::from_utf8_lossy(&answer[..n]).into_owned();
    line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(400)
}

/// No parser of untrusted text takes time that grows faster than its input: from 1 kB to 64 kB (64×), the
/// time may grow at most 64 × 4 (a quadratic parser grows 4096×). With the bounds, it does not grow at all.
#[test]
fn no_parser_time_grows_faster_than_its_input() {
    type Parser = (&'static str, fn(&str) -> bool);
    let parsers: [Parser; 5] = [
        ("tron base58 address", |t| abi::tron::from_base58(t).is_ok()),
        ("api address", |t| backend::http::extract::parse_address(t, "x").is_ok()),
        ("sign-in message", |t| backend::auth::siwe::SiweMessage::parse(t).is_ok()),
        ("decimal amount", |t| t.parse::<alloy::primitives::U256>().is_ok()),
        ("hex signature", |t| t.parse::<alloy::primitives::Signature>().is_ok()),
    ];
    // The fastest of several runs, so that a busy machine's pauses do not count.
    let fastest = |parse: fn(&str) -> bool, input: &str| {
        (0..7)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(parse(std::hint::black_box(input)));
                started.elapsed()
            })
            .min()
            .unwrap()
    };
    for (name, parse) in parsers {
        let small = base58(1_000);
        let large = base58(64_000);
        let (t_small, t_large) = (fastest(parse, &small), fastest(parse, &large));
        let allowed = t_small.max(Duration::from_micros(20)) * 64 * 4;
        assert!(t_large <= allowed, "{name}: 1 kB {t_small:?}, 64 kB {t_large:?} (allowed {allowed:?})");
    }
}
