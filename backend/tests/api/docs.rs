//! The OpenAPI document and the docs page.

use crate::helpers::spawn_app;

/// A concrete path for a route template: every `{parameter}` filled with a value of its kind.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| match part {
            "{address}" => "0x00000000000000000000000000000000000000a1",
            "{tx_hash}" => "0x00000000000000000000000000000000000000000000000000000000000000a1",
            p if p.starts_with('{') => "1",
            p => p,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn openapi_lists_every_route_the_router_serves_and_docs_page_is_served() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    // The document lists exactly the routes the router serves, read from the router itself.
    let mut documented: Vec<(String, String)> = doc.body["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(|m| (m.to_uppercase(), path.clone())))
        .filter(|(m, _)| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
        .collect();
    documented.sort();
    assert_eq!(documented, app.routes, "the served document and the router's routes differ");
    assert!(app.routes.len() >= 45, "only {} routes: the table is not read from the whole router", app.routes.len());
    // Every route is really served: without a token an authenticated route answers 401, and no route answers
    // the router's fallbacks (404 for an unknown path, 400 `method_not_allowed`) — a handler's own 404 (no such
    // resource) only where the path names one.
    for (method, path) in &app.routes {
        let url = format!("{}{}", app.base, concrete(path));
        let request = app.client.request(method.parse().unwrap(), &url);
        let request = if method == "GET" { request } else { request.json(&serde_json::json!({})) };
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
        let needs_token = !doc.body["paths"][path][method.to_lowercase()]["security"].is_null();
        if needs_token {
            assert_eq!(status, 401, "{method} {path} without a token: {body}");
        }
        assert_ne!(code, "method_not_allowed", "{method} {path} is not served with this method");
        assert!(status != 404 || path.contains('{'), "{method} {path} answered the unknown-path 404: {body}");
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    // The build answer documents the batch and the limits it was built within; entries say why they were cut.
    let schemas = &doc.body["components"]["schemas"];
    let build = serde_json::to_string(&schemas["BuildAnswer"]).unwrap();
    assert!(build.contains("BatchView") && build.contains("limits"), "{build}");
    for field in ["daily_room", "max_entry", "daily_room_grows_at"] {
        assert!(schemas["BuildLimitsView"]["properties"][field].is_object(), "BuildLimitsView.{field}");
    }
    for field in ["owed", "limited_by"] {
        assert!(schemas["BatchEntry"]["properties"][field].is_object(), "BatchEntry.{field}");
    }
    for field in ["left_out", "left_out_by_reason", "left_out_count", "partial_count"] {
        assert!(schemas["BatchView"]["properties"][field].is_object(), "BatchView.{field}");
    }
    let page = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("/v1/auth/signin"), "docs page does not embed the spec");
}

#[tokio::test]
async fn unknown_paths_answer_json_404() {
    let app = spawn_app().await;
    let a = app.get("/v1/nope", None).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
}

/// Keys sorted at every level, as `backend/web/scripts/gen-types.mjs` writes the document.
fn normal(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(normal).collect()),
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), normal(&map[k]))).collect())
        }
        other => other.clone(),
    }
}

/// The web front's copy of the document (`backend/web/openapi.json`, which its TypeScript types are generated from)
/// is the document the API serves, so a changed API cannot leave the front's types behind; `OPENAPI_REFRESH=1` writes
/// the served document there instead (then `node backend/web/scripts/gen-types.mjs` regenerates the types).
#[tokio::test]
async fn the_web_fronts_copy_of_the_document_is_the_one_served() {
    let app = spawn_app().await;
    let served = app.get("/api-docs/openapi.json", None).await.body;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/web/openapi.json");
    if std::env::var_os("OPENAPI_REFRESH").is_some() {
        let text = serde_json::to_string_pretty(&normal(&served)).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        normal(&committed) == normal(&served),
        "backend/web/openapi.json is not the served document: run `OPENAPI_REFRESH=1 cargo test -p backend --test api \
         the_web_fronts_copy` and `node backend/web/scripts/gen-types.mjs`, and commit both"
    );
}
