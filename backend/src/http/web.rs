//! The web front (`backend/web/`, built by Vite into `dist/`): the user dApp at `/`, the admin console at
//! `/admin`, the API docs page at `/docs` and the members' exit page at `/exit.html`, as static files. Assets named by their content hash are cached for a
//! year, everything else (pages, and any asset without a hash in its name) is revalidated on every load, and every
//! answer carries a strict Content Security Policy: nothing but this origin (the wallet talks to the chain, not the
//! page). Without a build the pages answer a plain 503 that says how to make one; the docs page then shows the raw
//! OpenAPI document.
//!
//! The build directory is `WEB_DIST_DIR`, else `backend/web/dist` under the current directory, else `web/dist`
//! of this crate. It is looked at per request, so a build made while the API runs is served at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::context::ApiContext;

/// Only this origin; no inline script or style; the page may not be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// [`CONTENT_SECURITY_POLICY`], but with WalletConnect configured the page may also reach its relay and, to read a
/// chain a WalletConnect wallet does not answer reads for, each EVM chain's public RPC: those origins only (parsed
/// and re-serialised, so nothing in the configuration can add a directive).
pub fn content_security_policy(settings: &crate::config::Settings) -> String {
    let Some(wc) = &settings.walletconnect else { return CONTENT_SECURITY_POLICY.to_owned() };
    let origin = |url: &str, schemes: &[&str]| {
        alloy::transports::http::reqwest::Url::parse(url)
            .ok()
            .filter(|u| schemes.contains(&u.scheme()))
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null")
    };
    let mut extra: Vec<String> = origin(&wc.relay_url, &["wss", "ws"]).into_iter().collect();
    for chain in &settings.chains {
        if chain.spec.family() == abi::chain::Family::Tron {
            continue;
        }
        if let Some(o) = chain.tuning.public_rpc_url.as_deref().and_then(|u| origin(u, &["https", "http"]))
            && !extra.contains(&o)
        {
            extra.push(o);
        }
    }
    CONTENT_SECURITY_POLICY.replacen("connect-src 'self'", &format!("connect-src 'self' {}", extra.join(" ")), 1)
}

/// A file named by a hash of its content never changes (see [`content_hashed`]).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages name the current assets, and an unhashed asset may change under its name: revalidated on every load
/// (cheap with the ETag).
const REVALIDATE: &str = "no-cache";

/// Whether an asset's name carries Vite's content hash: `name-XXXXXXXX.ext`, 8 base64url characters at least one
/// of which is a capital (unlike a word). Only those are immutable; a file copied into `assets/` under a plain name
/// (as the session worker once was) is revalidated, so a new version can never hide behind a year-long cache. A
/// hash without a capital (about 1.5 % of them) only costs a revalidation.
fn content_hashed(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let stem = name.split('.').next().unwrap_or_default().as_bytes();
    let Some(split) = stem.len().checked_sub(9).filter(|&i| i > 0) else { return false };
    let hash = &stem[split + 1..];
    stem[split] == b'-'
        && hash.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        && hash.iter().any(u8::is_ascii_uppercase)
}

/// Where the build is, and the OpenAPI document the docs page embeds.
#[derive(Debug, Clone)]
struct Web {
    dist: Arc<PathBuf>,
    /// The OpenAPI document, JSON.
    spec_json: Arc<str>,
    /// The Content-Security-Policy of every answer ([`content_security_policy`]).
    csp: HeaderValue,
}

/// `/`, `/admin` (and paths below it, for the console's own routes), `/docs`, `/exit.html`, `/terms.html` (the example
/// terms the devnet's `[operator]` names), `/assets/…`.
pub fn router(doc: &utoipa::openapi::OpenApi, settings: &crate::config::Settings) -> Router<ApiContext> {
    let spec_json = doc.to_json().expect("the OpenAPI document serialises");
    let csp = HeaderValue::from_str(&content_security_policy(settings)).expect("origins are valid header text");
    let web = Web { dist: Arc::new(dist_dir()), spec_json: spec_json.into(), csp };
    tracing::info!(dist = %web.dist.display(), "web front served from");
    let page = |file: &'static str| {
        let web = web.clone();
        move |headers: HeaderMap| {
            let web = web.clone();
            async move { web.page(file, &headers).await }
        }
    };
    let assets = {
        let web = web.clone();
        move |UrlPath(path): UrlPath<String>, headers: HeaderMap| {
            let web = web.clone();
            async move { web.asset(&path, &headers).await }
        }
    };
    let docs = {
        let web = web.clone();
        move |headers: HeaderMap| {
            let web = web.clone();
            async move { web.docs(&headers).await }
        }
    };
    let exit = {
        let web = web.clone();
        move |headers: HeaderMap| {
            let web = web.clone();
            async move { web.exit(&headers).await }
        }
    };
    Router::new()
        .route("/", get(page("index.html")))
        .route("/admin", get(page("admin.html")))
        .route("/admin/", get(page("admin.html")))
        .route("/admin/{*rest}", get(page("admin.html")))
        .route("/docs", get(docs))
        .route("/exit.html", get(exit))
        .route("/terms.html", get(page("terms.html")))
        .route("/assets/{*path}", get(assets))
}

/// `WEB_DIST_DIR`, else the first of `./backend/web/dist`, `./web/dist` that exists, else this crate's.
fn dist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEB_DIST_DIR") {
        return PathBuf::from(dir);
    }
    let crate_dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist");
    ["backend/web/dist", "web/dist"].iter().map(PathBuf::from).find(|p| p.is_dir()).unwrap_or(crate_dist)
}

impl Web {
    async fn page(&self, file: &str, headers: &HeaderMap) -> Response {
        match read(self.dist.join(file)).await {
            Some(bytes) => respond(bytes, "text/html; charset=utf-8", REVALIDATE, None, headers, &self.csp),
            None => self.missing_build(),
        }
    }

    async fn docs(&self, headers: &HeaderMap) -> Response {
        match read(self.dist.join("docs.html")).await {
            Some(bytes) => {
                // The page renders the document from this data block (data, not script: the CSP allows it). `<`
                // only occurs inside JSON strings, where `\u003c` means the same and cannot close the element.
                let data = self.spec_json.replace('<', "\\u003c");
                let html = String::from_utf8_lossy(&bytes).replacen(
                    "<!--openapi-->",
                    &format!(r#"<script type="application/json" id="openapi">{data}</script>"#),
                    1,
                );
                respond(html.into_bytes(), "text/html; charset=utf-8", REVALIDATE, None, headers, &self.csp)
            }
            None => {
                let html = format!(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>API docs</title></head>\
                     <body><h1>API docs</h1><p>The interactive docs page is not built ({}). The OpenAPI document \
                     follows; it is also at <a href=\"/api-docs/openapi.json\">/api-docs/openapi.json</a>.</p>\
                     <pre>{}</pre></body></html>",
                    escape_html(&self.build_hint()),
                    escape_html(&self.spec_json),
                );
                respond(html.into_bytes(), "text/html; charset=utf-8", REVALIDATE, None, headers, &self.csp)
            }
        }
    }

    /// The members' exit page (contracts/EXIT.md §7): one self-contained file, its script and styles inlined (so that
    /// it also works saved and opened from a file), served with a policy that allows exactly those inline elements, by
    /// their SHA-256, and nothing else that [`CONTENT_SECURITY_POLICY`] does not.
    async fn exit(&self, headers: &HeaderMap) -> Response {
        match read(self.dist.join("exit.html")).await {
            Some(bytes) => {
                let csp =
                    HeaderValue::from_str(&exit_page_policy(&bytes)).expect("base64 hashes are valid header text");
                respond(bytes, "text/html; charset=utf-8", REVALIDATE, None, headers, &csp)
            }
            None => self.missing_build(),
        }
    }

    async fn asset(&self, path: &str, headers: &HeaderMap) -> Response {
        let Some(relative) = safe_relative(path) else { return not_found() };
        let cache = if content_hashed(&relative) { IMMUTABLE } else { REVALIDATE };
        let file = self.dist.join("assets").join(relative);
        let content_type = content_type(&file);
        // A pre-compressed copy (made by the build) when the client takes gzip.
        let gzip_ok = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        if gzip_ok {
            let mut gz = file.clone().into_os_string();
            gz.push(".gz");
            if let Some(bytes) = read(PathBuf::from(gz)).await {
                return respond(bytes, content_type, cache, Some("gzip"), headers, &self.csp);
            }
        }
        match read(file).await {
            Some(bytes) => respond(bytes, content_type, cache, None, headers, &self.csp),
            None => not_found(),
        }
    }

    fn build_hint(&self) -> String {
        format!(
            "no build in {}: run scripts/setup.sh, or `npm ci && npm run build` in backend/web \
             (WEB_DIST_DIR names another directory)",
            self.dist.display()
        )
    }

    fn missing_build(&self) -> Response {
        let text = format!("The web front is not built.\n\n{}\n\nThe API itself runs: see /docs.\n", self.build_hint());
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, text).into_response();
        set_common(response.headers_mut(), "text/plain; charset=utf-8", REVALIDATE, &self.csp);
        response
    }
}

/// [`CONTENT_SECURITY_POLICY`] with `script-src` and `style-src` naming the SHA-256 of each inline `<script>` and
/// `<style>` of `html` instead of `'self'` (the exit page loads no file: everything it runs is in it). The elements are
/// taken in document order, each to its own closing tag, so that text inside one (a script's strings) is never taken
/// for another.
fn exit_page_policy(html: &[u8]) -> String {
    let text = String::from_utf8_lossy(html);
    let (mut scripts, mut styles) = (Vec::new(), Vec::new());
    let mut rest: &str = &text;
    loop {
        let next = [("<script", "</script>"), ("<style", "</style>")]
            .into_iter()
            .filter_map(|(open, close)| rest.find(open).map(|at| (at, open, close)))
            .min_by_key(|&(at, _, _)| at);
        let Some((at, open, close)) = next else { break };
        let after = &rest[at + open.len()..];
        let Some(body_start) = after.find('>') else { break };
        let body = &after[body_start + 1..];
        let Some(end) = body.find(close) else { break };
        let hash = format!("'sha256-{}'", base64(&Sha256::digest(&body.as_bytes()[..end])));
        if open == "<script" {
            scripts.push(hash)
        } else {
            styles.push(hash)
        }
        rest = &body[end + close.len()..];
    }
    let sources = |hashes: Vec<String>| if hashes.is_empty() { "'none'".to_owned() } else { hashes.join(" ") };
    CONTENT_SECURITY_POLICY.replacen("script-src 'self'", &format!("script-src {}", sources(scripts)), 1).replacen(
        "style-src 'self'",
        &format!("style-src {}", sources(styles)),
        1,
    )
}

/// Standard base64 with padding (RFC 4648 §4), as CSP hashes are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The file's bytes, or `None` when it is not a readable file.
async fn read(path: PathBuf) -> Option<Vec<u8>> {
    tokio::task::spawn_blocking(move || std::fs::read(path).ok()).await.ok().flatten()
}

/// A path below `assets/` made only of plain names (no `..`, no hidden files, no backslashes).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.split('/') {
        let plain = !part.is_empty()
            && !part.starts_with('.')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !plain {
            return None;
        }
        out.push(part);
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// 200 with caching and security headers, or 304 when the client's copy is current.
fn respond(
    bytes: Vec<u8>,
    content_type: &'static str,
    cache: &'static str,
    encoding: Option<&'static str>,
    request: &HeaderMap,
    csp: &HeaderValue,
) -> Response {
    let etag = format!("\"{}\"", &alloy::hex::encode(Sha256::digest(&bytes))[..32]);
    let fresh = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|t| {
            let t = t.trim();
            t == etag || t.strip_prefix("W/") == Some(etag.as_str())
        })
    });
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { Response::new(Body::from(bytes)) };
    let h = response.headers_mut();
    set_common(h, content_type, cache, csp);
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header value"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(encoding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

fn set_common(h: &mut HeaderMap, content_type: &'static str, cache: &'static str, csp: &HeaderValue) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn not_found() -> Response {
    crate::http::error::ApiError::NotFound.into_response()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
    use axum::response::Response;

    use super::{CONTENT_SECURITY_POLICY, IMMUTABLE, REVALIDATE, Web, base64, content_hashed, safe_relative};

    fn web(dist: PathBuf) -> Web {
        Web {
            dist: Arc::new(dist),
            spec_json: r#"{"paths":{"/v1/auth/signin":{}},"x":"</script>"}"#.into(),
            csp: HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        }
    }

    /// A build with a page, a docs page, an asset and its gzip copy.
    fn build() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><title>dApp</title>").unwrap();
        std::fs::write(dir.path().join("docs.html"), "<html><body><!--openapi--></body></html>").unwrap();
        std::fs::write(dir.path().join("assets/index-Ab3_x-9Z.js"), "console.log(1)").unwrap();
        std::fs::write(dir.path().join("assets/index-Ab3_x-9Z.js.gz"), "gzipped").unwrap();
        dir
    }

    async fn text(r: Response) -> String {
        String::from_utf8(axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap()
    }

    fn header(r: &Response, name: header::HeaderName) -> &str {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_missing_build_answers_a_clear_503() {
        let dir = tempfile::tempdir().unwrap();
        let r = web(dir.path().join("nowhere")).page("index.html", &HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(header(&r, header::CONTENT_TYPE).starts_with("text/plain"));
        let body = text(r).await;
        assert!(body.contains("not built") && body.contains("npm ci && npm run build"), "{body}");
    }

    #[tokio::test]
    async fn pages_revalidate_assets_are_immutable_and_both_carry_the_csp() {
        let dir = build();
        let w = web(dir.path().to_path_buf());
        let page = w.page("index.html", &HeaderMap::new()).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(header(&page, header::CACHE_CONTROL), REVALIDATE);
        assert_eq!(header(&page, header::CONTENT_SECURITY_POLICY), CONTENT_SECURITY_POLICY);
        let etag = header(&page, header::ETAG).to_owned();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        assert_eq!(w.page("index.html", &again).await.status(), StatusCode::NOT_MODIFIED);

        let asset = w.asset("index-Ab3_x-9Z.js", &HeaderMap::new()).await;
        assert_eq!(header(&asset, header::CACHE_CONTROL), IMMUTABLE);
        assert!(header(&asset, header::CONTENT_TYPE).starts_with("text/javascript"));
        assert_eq!(header(&asset, header::CONTENT_SECURITY_POLICY), CONTENT_SECURITY_POLICY);
        assert_eq!(text(asset).await, "console.log(1)");
        let mut gzip = HeaderMap::new();
        gzip.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br, gzip;q=0.8"));
        let zipped = w.asset("index-Ab3_x-9Z.js", &gzip).await;
        assert_eq!(header(&zipped, header::CONTENT_ENCODING), "gzip");
        assert_eq!(text(zipped).await, "gzipped");
        assert_eq!(w.asset("../index.html", &HeaderMap::new()).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(w.asset("missing.js", &HeaderMap::new()).await.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_exit_page_is_served_with_its_inline_script_and_style_allowed_by_hash_and_nothing_more() {
        let dir = build();
        let html =
            "<!doctype html><title>exit</title><style>p{color:red}</style><script type=\"module\">alert(1)</script>";
        std::fs::write(dir.path().join("exit.html"), html).unwrap();
        let w = web(dir.path().to_owned());
        let page = w.exit(&HeaderMap::new()).await;
        assert_eq!(page.status(), StatusCode::OK);
        let csp = header(&page, header::CONTENT_SECURITY_POLICY).to_owned();
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(csp.contains("script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"), "{csp}");
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        assert!(!csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(text(page).await, html);
        // Without a build: the plain 503 of the other pages.
        assert_eq!(
            web(dir.path().join("nowhere")).exit(&HeaderMap::new()).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn base64_is_rfc_4648() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), encoded);
        }
    }

    #[tokio::test]
    async fn the_docs_page_embeds_the_document_and_works_without_a_build() {
        let dir = build();
        let built = text(web(dir.path().to_path_buf()).docs(&HeaderMap::new()).await).await;
        assert!(built.contains(r#"<script type="application/json" id="openapi">"#), "{built}");
        assert!(built.contains("/v1/auth/signin"));
        // The document cannot close its element early.
        assert!(!built.contains("</script>\"") && built.contains("\\u003c/script>"), "{built}");
        let bare = web(dir.path().join("nowhere")).docs(&HeaderMap::new()).await;
        assert_eq!(bare.status(), StatusCode::OK);
        let bare = text(bare).await;
        assert!(
            bare.contains("not built") && bare.contains("/v1/auth/signin") && bare.contains("&lt;/script&gt;"),
            "{bare}"
        );
    }

    #[tokio::test]
    async fn an_asset_without_a_content_hash_in_its_name_is_revalidated_not_immutable() {
        let dir = build();
        // The session worker of older builds: copied as is, under the same name whatever its content.
        for (name, body) in [("session-worker.js", "v1"), ("session-worker-CT61VH7r.js", "v2")] {
            std::fs::write(dir.path().join("assets").join(name), body).unwrap();
            std::fs::write(dir.path().join("assets").join(format!("{name}.gz")), "gzipped").unwrap();
        }
        let w = web(dir.path().to_path_buf());
        let mut gzip = HeaderMap::new();
        gzip.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        for request in [HeaderMap::new(), gzip] {
            let plain = w.asset("session-worker.js", &request).await;
            assert_eq!(plain.status(), StatusCode::OK);
            assert_eq!(header(&plain, header::CACHE_CONTROL), REVALIDATE);
            assert!(!header(&plain, header::CACHE_CONTROL).contains("immutable"));
            assert!(!header(&plain, header::ETAG).is_empty(), "revalidated by its ETag");
            assert_eq!(
                header(&w.asset("session-worker-CT61VH7r.js", &request).await, header::CACHE_CONTROL),
                IMMUTABLE
            );
        }
        // What Vite writes (8 base64url characters, `-` and `_` included) is hashed; words and short tags are not.
        for hashed in ["index-D_FOXx7E.js", "favicon-CJ7By4-G.svg", "styles-B5j4qU7-.js", "a-Caf6ghXU.js.gz"] {
            assert!(content_hashed(std::path::Path::new(hashed)), "{hashed}");
        }
        for plain in [
            "session-worker.js",
            "index-abc.js",
            "font-regular1.woff2",
            "-CT61VH7r.js",
            "x-abcdefgh.js",
            "x_CT61VH7r.js",
        ] {
            assert!(!content_hashed(std::path::Path::new(plain)), "{plain}");
        }
    }

    #[test]
    fn only_plain_paths_below_assets() {
        assert!(safe_relative("index-abc123.js").is_some());
        assert!(safe_relative("fonts/x.woff2").is_some());
        for bad in ["", "../secret", "a/../../b", ".env", "a//b", "a\\b", "%2e%2e/x", "a/"] {
            assert!(safe_relative(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn walletconnect_opens_its_relay_and_the_evm_rpcs_only() {
        let file = |extra: &str| {
            format!(
                "[application]\nhost = \"127.0.0.1\"\nport = 0\n[database]\nurl = \"postgres://h/db\"\n[auth]\n\
                 domain = \"localhost\"\nuri = \"http://localhost\"\nstatement = \"s\"\nevm_chain_id = 56\n\
                 tron_chain_id = 728126428\nnonce_ttl_secs = 1\naccess_ttl_secs = 1\nrefresh_ttl_secs = 1\n{extra}"
            )
        };
        // Three chains with a public RPC each, one of them TRON's.
        let with_chains = |mut settings: crate::config::Settings| {
            settings.chains = [
                (56, "https://rpc.example.org/path?k=v"),
                (97, "https://rpc.example.org/other"),
                (728_126_428, "https://tron.example.org"),
            ]
            .into_iter()
            .map(|(id, rpc)| {
                let mut chain = crate::config::ChainSettings::new(id, alloy::primitives::Address::repeat_byte(1));
                chain.tuning.public_rpc_url = Some(rpc.into());
                chain
            })
            .collect();
            settings
        };
        let plain = with_chains(crate::config::Settings::from_sources(&file(""), []).unwrap());
        assert_eq!(super::content_security_policy(&plain), CONTENT_SECURITY_POLICY);
        let wc = with_chains(
            crate::config::Settings::from_sources(
                &file("[walletconnect]\nproject_id = \"abc\"\nrelay_url = \"wss://relay.example.org/v1\"\n"),
                [],
            )
            .unwrap(),
        );
        let csp = super::content_security_policy(&wc);
        assert_eq!(
            csp,
            CONTENT_SECURITY_POLICY
                .replace("connect-src 'self'", "connect-src 'self' wss://relay.example.org https://rpc.example.org")
        );
        assert!(HeaderValue::from_str(&csp).is_ok());
    }
}
