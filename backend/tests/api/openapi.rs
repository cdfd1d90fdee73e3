//! The OpenAPI document against the answers: every route lists the error statuses every route shares (from what
//! it takes), every error answer is the shared envelope, and bad requests of every kind, sent to every route, get
//! only statuses its entry lists, with bodies and headers as the document and [`crate::conformance`] say. Every
//! other API test's answers are checked against the document too ([`crate::helpers::TestApp::send`]), successful
//! ones included: a body of another shape than its schema (issue 43: `GET /v1/admin/weeks` answered `ranked` as an
//! array under a schema that said object) fails the test that reads it. Catches drift without a devnet;
//! `scripts/api-check.sh` goes further (generated requests against the whole system).

use serde_json::{Map, Value};

use crate::helpers::{TestApp, spawn_app};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation of the document.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    spec: &'a Map<String, Value>,
}

impl Operation<'_> {
    fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    fn params(&self, location: &str) -> Vec<&Value> {
        let params = self.spec.get("parameters").and_then(Value::as_array);
        params.into_iter().flatten().filter(|p| p["in"] == location).collect()
    }

    fn has_body(&self) -> bool {
        self.spec.contains_key("requestBody")
    }

    fn needs_token(&self) -> bool {
        self.spec.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty())
    }

    fn admin(&self) -> bool {
        self.path.starts_with("/v1/admin/")
    }

    fn responses(&self) -> &Map<String, Value> {
        self.spec["responses"].as_object().unwrap()
    }

    fn documents(&self, status: u16) -> bool {
        self.responses().contains_key(&status.to_string())
    }

    /// The statuses every route with this shape must list (the rule of `backend::http::docs`, restated).
    fn common_errors(&self) -> Vec<u16> {
        let mut expected = vec![408, 429];
        if self.path != "/health" {
            expected.push(500);
        }
        if !self.params("path").is_empty() || !self.params("query").is_empty() || self.has_body() {
            expected.push(400);
        }
        if self.needs_token() {
            expected.push(401);
        }
        if self.admin() {
            expected.push(403);
        }
        if self.has_body() {
            expected.extend([413, 415, 422]);
        }
        expected
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(spec) = item.get(method).and_then(Value::as_object) {
                all.push(Operation { method, path, spec });
            }
        }
    }
    assert!(all.len() > 40, "the document lists {} operations", all.len());
    all
}

async fn document(app: &TestApp) -> Value {
    let doc = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    doc.body
}

#[tokio::test]
async fn every_route_lists_the_errors_it_shares_with_the_envelope_and_every_reference_resolves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut missing = Vec::new();
    for op in operations(&doc) {
        if op.admin() {
            assert!(op.needs_token(), "{}: an admin route without a bearer token", op.name());
        }
        for status in op.common_errors() {
            if !op.documents(status) {
                missing.push(format!("{} {status}", op.name()));
            }
        }
        for (status, response) in op.responses() {
            assert!(
                response["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{} {status}: no description",
                op.name()
            );
            if status.parse::<u16>().unwrap() >= 400 {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{} {status}: not the error envelope", op.name());
            }
            if status == "429" {
                assert!(response["headers"]["Retry-After"].is_object(), "{} 429: no Retry-After", op.name());
            }
        }
    }
    assert!(missing.is_empty(), "statuses missing from the document: {missing:#?}");
    let mut unresolved = Vec::new();
    references(&doc, &mut |r| {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        if doc["components"]["schemas"].get(name).is_none() {
            unresolved.push(r.to_owned());
        }
    });
    assert!(unresolved.is_empty(), "references to schemas the document lacks: {unresolved:?}");
}

/// Every `$ref` in `value`.
fn references(value: &Value, found: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found(r);
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// A request of one probe: the path with its parameters filled in, a query, a body with its content type.
#[derive(Clone)]
struct Probe {
    what: &'static str,
    token: Option<String>,
    path: String,
    query: Option<String>,
    body: Option<(&'static str, Vec<u8>)>,
}

#[tokio::test]
async fn bad_requests_to_every_route_get_documented_answers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let (admin, user) = (app.admin_token().await, app.user_token().await);
    let mut undocumented = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for op in operations(&doc) {
        let own_token = op.needs_token().then(|| if op.admin() { admin.clone() } else { user.clone() });
        let valid_path = op.params("path").iter().fold(op.path.to_owned(), |path, p| {
            let value =
                if p["schema"]["type"] == "integer" { "1" } else { "0x00000000000000000000000000000000000000aa" };
            path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), value)
        });
        let json = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
        let body = if op.has_body() { json("{}") } else { None };
        let base = Probe { what: "its token", token: own_token, path: valid_path, query: None, body };
        let mut probes = vec![Probe { what: "no token", token: None, ..base.clone() }, base.clone()];
        if op.admin() {
            probes.push(Probe { what: "a user's token", token: Some(user.clone()), ..base.clone() });
        }
        if !op.params("path").is_empty() {
            let path = op.params("path").iter().fold(op.path.to_owned(), |path, p| {
                path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), "not%20a%20value")
            });
            probes.push(Probe { what: "a bad path", path, ..base.clone() });
        }
        let query = op.params("query");
        if !query.is_empty() {
            let bad: Vec<String> =
                query.iter().map(|p| format!("{}=not-a-value", p["name"].as_str().unwrap())).collect();
            probes.push(Probe { what: "a bad query", query: Some(bad.join("&")), ..base.clone() });
            probes.push(Probe {
                what: "an unknown query parameter",
                query: Some("unexpected=1".into()),
                ..base.clone()
            });
        }
        if op.has_body() {
            let large = format!("{{\"pad\": \"{}\"}}", "x".repeat(256 * 1024));
            for (what, body) in [
                ("malformed JSON", json("{\"asset_id\": ")),
                ("not JSON", Some(("text/plain", b"{}".to_vec()))),
                ("a JSON array", json("[]")),
                ("wrong types", json("{\"asset_id\": \"one\", \"address\": 5, \"refresh_token\": 5}")),
                ("a body too large", Some(("application/json", large.into_bytes()))),
            ] {
                probes.push(Probe { what, body, ..base.clone() });
            }
        }
        for probe in probes {
            let (status, headers, body) = send(&app, op.method, &probe).await;
            seen.insert(status);
            let envelope = body["error"]["code"].is_string() && body["error"]["message"].is_string();
            if !op.documents(status) || (status >= 400 && !envelope) {
                undocumented.push(format!("{} with {}: {status} {body}", op.name(), probe.what));
            }
            let path = probe.path.split('?').next().unwrap_or_default();
            let json = (!body.is_null()).then_some(&body);
            let credentials = probe.token.is_some();
            for wrong in crate::conformance::check_answer(&doc, op.method, path, credentials, status, &headers, json) {
                undocumented.push(format!("{} with {}: {wrong}", op.name(), probe.what));
            }
        }
    }
    assert!(undocumented.is_empty(), "answers the document does not list: {undocumented:#?}");
    for status in [400, 401, 403, 413, 415, 422] {
        assert!(seen.contains(&status), "no probe was answered {status}: {seen:?}");
    }
}

async fn send(app: &TestApp, method: &str, probe: &Probe) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut url = format!("{}{}", app.base, probe.path);
    if let Some(query) = &probe.query {
        url = format!("{url}?{query}");
    }
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut request = app.client.request(method, url);
    if let Some(token) = &probe.token {
        request = request.bearer_auth(token);
    }
    if let Some((content_type, body)) = &probe.body {
        request = request.header("content-type", *content_type).body(body.clone());
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let text = answer.text().await.unwrap_or_default();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The request timeout's 408 (every route lists it) is the error envelope too, not the timeout layer's empty
/// answer.
#[tokio::test]
async fn a_request_that_times_out_gets_the_documented_envelope() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.application.limits.request_timeout_secs = 1;
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = "POST /v1/auth/nonce HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"address\": \"0x";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer));
    read.await.expect("answered and closed in time").unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/json"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(body["error"]["code"], "request_timeout", "{answer}");
}

/// Issue 43: only sign-in and refresh answered `Cache-Control: no-store`, no answer said `nosniff`. Now every answer
/// does — the API's, the web front's files and pages, the docs, refusals — and every answer to a request with a
/// bearer token is kept by no cache (the solvency proof carries the member's salt).
#[tokio::test]
async fn every_answer_says_nosniff_and_every_authenticated_one_no_store() {
    let app = spawn_app().await;
    app.register_in_ledger(&[]).await;
    let user = app.user_token().await;
    let admin = app.admin_token().await;
    let header = |a: &reqwest::Response, name: &str| {
        a.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    for path in [
        "/",
        "/admin",
        "/docs",
        "/assets/none-AbCdEfGh.js",
        "/api-docs/openapi.json",
        "/health",
        "/v1/public/plan",
        "/nowhere",
    ] {
        let a = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(header(&a, "x-content-type-options"), "nosniff", "{path}: {}", a.status());
    }
    let authenticated = [
        (&user, "/v1/users/me"),
        (&user, "/v1/users/payments?asset_id=1"),
        (&user, "/v1/users/solvency-proof?asset_id=1"),
        (&user, "/v1/users/history?asset_id=1"),
        (&user, "/v1/public/plan"),
        (&admin, "/v1/admin/ping"),
        (&admin, "/v1/admin/plan?asset_id=1"),
        (&admin, "/v1/admin/audit"),
    ];
    for (token, path) in authenticated {
        let a = app.client.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
        let status = a.status();
        assert_eq!(header(&a, "cache-control"), "no-store", "{path}: {status}");
        assert_eq!(header(&a, "x-content-type-options"), "nosniff", "{path}: {status}");
    }
    // A bad token is refused no-store too: the request carried credentials.
    let a = app.client.get(format!("{}/v1/users/me", app.base)).bearer_auth("nope").send().await.unwrap();
    assert_eq!((a.status().as_u16(), header(&a, "cache-control")), (401, "no-store".to_owned()));
}
