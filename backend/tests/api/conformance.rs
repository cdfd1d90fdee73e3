//! Every answer against the OpenAPI document the app serves: the status is one its operation lists, a JSON body
//! matches the schema listed for that status (types, required properties, no property the schema does not name, enum
//! values, array items, `$ref`, `oneOf`/`anyOf`/`allOf`), and the headers every answer carries are there
//! (`X-Content-Type-Options: nosniff`; `Cache-Control: no-store` on an answer to a request with credentials).
//! [`crate::helpers::TestApp::send`] checks every answer of every API test with it, so a route whose answer drifts
//! from its document fails the first test that reads it (issue 43: `GET /v1/admin/weeks` answered `ranked` as an
//! array under a schema that said object, and no check looked at a successful answer's body).

use serde_json::{Map, Value};

/// The document's operation for `method` on a concrete `path` (its template with the most literal segments wins).
pub(crate) fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<(&'a str, &'a Map<String, Value>)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, &str, &Map<String, Value>)> = None;
    for (template, item) in doc["paths"].as_object()? {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') && p.ends_with('}') {
                !s.is_empty()
            } else {
                literal += 1;
                p == s
            }
        });
        let Some(op) = item.get(method.to_lowercase()).and_then(Value::as_object) else { continue };
        if fits && best.as_ref().is_none_or(|b| b.0 < literal) {
            best = Some((literal, template.as_str(), op));
        }
    }
    best.map(|(_, template, op)| (template, op))
}

/// What is wrong with an answer of `status` with `headers` and `body` (JSON, or `None` when it is not JSON) to
/// `method path`, by the document; empty when nothing is. `credentials`: the request carried an `Authorization`
/// header or the refresh cookie.
pub(crate) fn check_answer(
    doc: &Value,
    method: &str,
    path: &str,
    credentials: bool,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: Option<&Value>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if header("x-content-type-options") != "nosniff" {
        wrong.push(format!("{method} {path} {status}: no `X-Content-Type-Options: nosniff`"));
    }
    if credentials && header("cache-control") != "no-store" {
        wrong.push(format!(
            "{method} {path} {status}: an answer to a request with credentials without `Cache-Control: no-store` \
             (got {:?})",
            header("cache-control")
        ));
    }
    let Some((template, op)) = operation(doc, method, path) else { return wrong };
    let name = format!("{method} {template}");
    let Some(response) = op["responses"].get(status.to_string()) else {
        // A method the path does not serve, or an unknown path under a template, answers the shared 404/405.
        wrong.push(format!("{name}: answered {status}, which its entry does not list"));
        return wrong;
    };
    let json = header("content-type").starts_with("application/json");
    match (response["content"]["application/json"].get("schema"), body) {
        (Some(schema), Some(body)) if json => {
            conforms(doc, schema, body, "body", &mut wrong);
            for w in &mut wrong {
                if w.starts_with("body") {
                    *w = format!("{name} {status}: {w}");
                }
            }
        }
        (Some(_), _) if status != 304 && !json && !header("content-disposition").starts_with("attachment") => wrong
            .push(format!("{name} {status}: not JSON ({:?}) where the document promises JSON", header("content-type"))),
        _ => {}
    }
    wrong
}

/// Whether `value` matches `schema` (an OpenAPI 3.1 schema as utoipa writes them); what does not is added to
/// `wrong`, each with the JSON path `at`.
pub(crate) fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str, wrong: &mut Vec<String>) {
    check(doc, schema, value, at, true, wrong)
}

/// The schema `schema` refers to, or itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc["components"]["schemas"].get(r.trim_start_matches("#/components/schemas/")),
        None => Some(schema),
    }
}

/// Every property `schema` names, its `allOf` parts' included.
fn named_properties<'a>(doc: &'a Value, schema: &'a Value, names: &mut Vec<&'a str>) {
    let Some(schema) = resolve(doc, schema) else { return };
    names.extend(schema.get("properties").and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k.as_str()));
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        named_properties(doc, part, names);
    }
}

/// [`conforms`]; `strict`: a property the schema does not name is wrong (off inside an `allOf` part, whose siblings
/// name the rest; the `allOf` checks the union).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, strict: bool, wrong: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(doc, schema) {
            Some(target) => check(doc, target, value, at, strict, wrong),
            None => wrong.push(format!("{at}: the schema {r} is not in the document")),
        }
        return;
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            check(doc, part, value, at, false, wrong);
        }
        if strict && let Value::Object(fields) = value {
            let mut names = Vec::new();
            named_properties(doc, schema, &mut names);
            for key in fields.keys().filter(|k| !names.contains(&k.as_str())) {
                wrong.push(format!("{at}.{key}: a property the schema does not document"));
            }
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().filter(|o| {
                let mut none = Vec::new();
                check(doc, o, value, at, strict, &mut none);
                none.is_empty()
            });
            let n = fits.count();
            if n == 0 || (key == "oneOf" && n > 1) {
                wrong.push(format!("{at}: {value} matches {n} of the {key} options {}", Value::Array(options.clone())));
            }
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        wrong.push(format!("{at}: {value} is not one of {}", Value::Array(allowed.clone())));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| is_type(t, value)) {
        let shown = value.to_string();
        let shown = if shown.len() > 120 { format!("{}…", &shown[..120]) } else { shown };
        wrong.push(format!("{at}: {shown} is not of type {}", types.join(" or ")));
        return;
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && value.as_f64().is_some_and(|v| v < min)
    {
        wrong.push(format!("{at}: {value} is below the minimum {min}"));
    }
    if let Value::Object(fields) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let required = required.as_str().unwrap_or_default();
            if !fields.contains_key(required) {
                wrong.push(format!("{at}: the required property `{required}` is missing"));
            }
        }
        for (key, field) in fields {
            let here = format!("{at}.{key}");
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(s), _) => conforms(doc, s, field, &here, wrong),
                (None, Some(Value::Bool(false))) => wrong.push(format!("{here}: a property the schema does not allow")),
                (None, Some(extra @ Value::Object(_))) => conforms(doc, extra, field, &here, wrong),
                // A property the schema does not name, where the schema names its properties: the document is
                // missing it.
                (None, _) if strict && properties.is_some() && schema.get("allOf").is_none() => {
                    wrong.push(format!("{here}: a property the schema does not document"));
                }
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            conforms(doc, item, v, &format!("{at}[{i}]"), wrong);
        }
    }
}

fn is_type(t: &str, value: &Value) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    }
}

#[test]
fn the_check_finds_what_issue_43_found() {
    // `ranked` documented as an object and answered as an array; a property the schema does not name; a required
    // one missing; a value of another type inside an optional reference.
    let doc = serde_json::json!({ "components": { "schemas": {
        "Week": { "type": "object", "required": ["week", "ranked"], "properties": {
            "week": { "type": "integer" },
            "ranked": { "type": "object" },
            "amount": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Amount" }] } } },
        "Amount": { "type": "object", "required": ["base"], "properties": { "base": { "type": "string" } } } } } });
    let schema = serde_json::json!({ "$ref": "#/components/schemas/Week" });
    let check = |value: Value| {
        let mut wrong = Vec::new();
        conforms(&doc, &schema, &value, "body", &mut wrong);
        wrong
    };
    assert!(check(serde_json::json!({ "week": 1, "ranked": {}, "amount": null })).is_empty());
    assert!(check(serde_json::json!({ "week": 1, "ranked": {}, "amount": { "base": "1" } })).is_empty());
    let found = check(serde_json::json!({ "week": 1, "ranked": [] }));
    assert_eq!(found, ["body.ranked: [] is not of type object"]);
    let found = check(serde_json::json!({ "week": "1", "ranked": {}, "extra": 1, "amount": { "base": 1 } }));
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(check(serde_json::json!({ "week": 1 })), ["body: the required property `ranked` is missing"]);
}
