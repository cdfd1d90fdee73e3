//! Webhooks as the Standard Webhooks specification has them: a JSON body `{"type", "timestamp", "data"}` POSTed with
//! `webhook-id` (the notification's id: the same on every retry and replay), `webhook-timestamp` (unix seconds of the
//! attempt) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the endpoint's
//! `whsec_` secret; during a rotation one signature per valid secret, space-separated).
//!
//! Where deliveries may go: `https` only, and never to a loopback, private, link-local or otherwise non-public
//! address — checked when an endpoint is saved and again at every delivery, on the addresses the name resolves to
//! then, and the connection is made to the address checked (a name that re-resolves elsewhere between the check and
//! the connection cannot move it). The devnet allows `http` and loopback for its own endpoint.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The longest endpoint URL accepted.
pub const URL_MAX_LEN: usize = 2000;

/// Where an endpoint may be.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// `http://` endpoints too (the devnet).
    pub allow_http: bool,
    /// Loopback, private and link-local addresses too (the devnet).
    pub allow_private: bool,
}

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("the OS random source is available");
    format!("whsec_{}", B64.encode(raw))
}

/// The key bytes of a `whsec_` secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    B64.decode(secret.strip_prefix("whsec_")?).ok().filter(|k| !k.is_empty())
}

/// The signature of one message under one key: `v1,` and base64(HMAC-SHA256(key, "id.timestamp.body")).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The body of a notification's webhook.
pub fn body(kind: &str, created_at: &str, data: Value) -> String {
    json!({ "type": kind, "timestamp": created_at, "data": data }).to_string()
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not a URL we can POST to.
    #[error("not an absolute http(s) URL with a host: {0}")]
    Malformed(String),
    /// `http` where only `https` is allowed.
    #[error("the endpoint must use https")]
    NotHttps,
    /// Credentials in the URL.
    #[error("the URL may not carry credentials")]
    Credentials,
    /// The name did not resolve.
    #[error("{0} does not resolve: {1}")]
    Unresolved(String, String),
    /// It resolves to an address that is not public.
    #[error(
        "{0} resolves to {1}, which is not a public address (loopback, private, link-local and the like are refused)"
    )]
    NotPublic(String, IpAddr),
}

/// Checks a URL's form (scheme, host, no credentials); the addresses are checked by [`resolve`].
pub fn check_form(url: &str, policy: Policy) -> Result<reqwest::Url, UrlRefused> {
    if url.len() > URL_MAX_LEN {
        return Err(UrlRefused::Malformed(format!("longer than {URL_MAX_LEN} characters")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| UrlRefused::Malformed(e.to_string()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(UrlRefused::NotHttps),
        other => return Err(UrlRefused::Malformed(format!("scheme {other}"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefused::Malformed("no host".into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    Ok(parsed)
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64 (reaches IPv4 space, private included)
                || first == 0x2002) // 6to4 (embeds any IPv4 address)
        }
    }
}

/// Resolves the URL's host now and checks every address it resolves to; the one to connect to.
pub async fn resolve(url: &reqwest::Url, policy: Policy) -> Result<SocketAddr, UrlRefused> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host.clone(), port))).await;
    let found: Vec<SocketAddr> = match lookup {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => return Err(UrlRefused::Unresolved(host, e.to_string())),
        Err(_) => return Err(UrlRefused::Unresolved(host, "timed out".into())),
    };
    let Some(first) = found.first().copied() else { return Err(UrlRefused::Unresolved(host, "no address".into())) };
    if let Some(bad) = found.iter().find(|a| !is_public(a.ip())).filter(|_| !policy.allow_private) {
        return Err(UrlRefused::NotPublic(host, bad.ip()));
    }
    Ok(first)
}

/// What one POST did.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The status answered, if the endpoint answered.
    pub status: Option<u16>,
    /// Why it is not delivered (`None`: a 2xx answer).
    pub error: Option<String>,
    /// How long it took.
    pub took: Duration,
}

/// POSTs a notification to an endpoint: the address checked now, the request signed with every valid key, no
/// redirect followed (a 3xx is a failure), within `timeout`.
#[allow(clippy::too_many_arguments)]
pub async fn post(
    url: &str,
    policy: Policy,
    keys: &[Vec<u8>],
    id: &str,
    body: &str,
    timestamp: i64,
    timeout: Duration,
) -> Posted {
    let started = Instant::now();
    let failed = |error: String| Posted { status: None, error: Some(error), took: started.elapsed() };
    let parsed = match check_form(url, policy) {
        Ok(parsed) => parsed,
        Err(e) => return failed(e.to_string()),
    };
    let address = match resolve(&parsed, policy).await {
        Ok(address) => address,
        Err(e) => return failed(e.to_string()),
    };
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .resolve(&host, address)
        .build()
    {
        Ok(client) => client,
        Err(e) => return failed(format!("no HTTP client: {e}")),
    };
    let signatures: Vec<String> = keys.iter().map(|k| sign(k, id, timestamp, body)).collect();
    let sent = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("user-agent", "referral-notifier/1")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(body.to_owned())
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            let error = (!status.is_success()).then(|| format!("answered {status}"));
            Posted { status: Some(status.as_u16()), error, took: started.elapsed() }
        }
        Err(e) if e.is_timeout() => failed(format!("no answer within {} s", timeout.as_secs())),
        Err(e) => failed(format!("could not deliver: {e}")),
    }
}

/// The wait before attempt `attempt + 1` after attempt `attempt` failed: 5 s, then doubling, at most 6 h.
pub fn backoff(attempt: i32) -> Duration {
    let exponent = attempt.clamp(1, 20) as u32 - 1;
    Duration::from_secs((5u64 << exponent).min(6 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_specifications_example() {
        // The Standard Webhooks specification's worked example (its reference libraries' tests).
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret_key(&secret).unwrap().len(), 32);
        assert_ne!(new_secret(), secret);
        assert_eq!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), None, "the prefix is required");
        assert_eq!(secret_key("whsec_"), None);
    }

    #[test]
    fn only_public_addresses_pass() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "203.0.114.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn a_url_must_be_https_without_credentials_outside_the_devnet() {
        let strict = Policy::default();
        assert!(check_form("https://hooks.example.com/in", strict).is_ok());
        assert_eq!(check_form("http://hooks.example.com/in", strict).unwrap_err(), UrlRefused::NotHttps);
        assert!(check_form("http://127.0.0.1:9/in", Policy { allow_http: true, allow_private: true }).is_ok());
        assert_eq!(check_form("https://u:p@hooks.example.com/", strict).unwrap_err(), UrlRefused::Credentials);
        assert!(matches!(check_form("ftp://x/", strict), Err(UrlRefused::Malformed(_))));
        assert!(matches!(check_form("/relative", strict), Err(UrlRefused::Malformed(_))));
        assert!(matches!(
            check_form(&format!("https://a.example/{}", "x".repeat(URL_MAX_LEN)), strict),
            Err(UrlRefused::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn loopback_and_private_names_are_refused_at_resolution() {
        let strict = Policy::default();
        for url in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://[::1]:8443/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
        ] {
            let parsed = check_form(url, strict).unwrap();
            assert!(matches!(resolve(&parsed, strict).await, Err(UrlRefused::NotPublic(..))), "{url}");
        }
        let devnet = Policy { allow_http: true, allow_private: true };
        let parsed = check_form("http://127.0.0.1:9/", devnet).unwrap();
        assert_eq!(resolve(&parsed, devnet).await.unwrap(), "127.0.0.1:9".parse().unwrap());
    }

    #[test]
    fn backoff_doubles_from_five_seconds_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(5), Duration::from_secs(80));
        assert_eq!(backoff(30), Duration::from_secs(6 * 3600));
    }
}
