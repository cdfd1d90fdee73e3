//! Caller authentication: HMAC-SHA256 over `timestamp \n request_id \n METHOD \n path \n hex(sha256(body))`,
//! a time window, and refusal of replays. The request id (random per request) lets a caller send the same body
//! twice in one second without it looking like a replay. The MAC format is shared with `client`.
//! The body's hash travels in a header too, so the MAC is verified from the headers alone, before any byte of the
//! body is read; the body is then read (bounded) and must hash to it.
//! Each caller also carries the payload kinds it may ask for (`Permissions`), enforced before anything is signed.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::Mutex,
};

use axum::http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

use crate::intent::Kind;

pub use signer_client::auth::{
    CALLER_HEADER, CALLER_ID_MAX_LEN, CONTENT_SHA256_HEADER, HEX_DIGEST_LEN, MIN_SECRET_BYTES, PATH_MAX_LEN,
    REQUEST_ID_HEADER, REQUEST_ID_MAX_LEN, SIGNATURE_HEADER, TIMESTAMP_HEADER, TIMESTAMP_MAX_LEN, body_sha256_hex,
    canonical_request, is_valid_caller_id, is_valid_request_id, request_mac, verify_request_mac,
};

/// Why a request was not authenticated: the audit log's `rule` and the `outcome` label of its metric. The caller is
/// told less ([`AuthFailure::public_code`]): every failure before the MAC verifies gets one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// An authentication header is absent.
    #[error("missing authentication headers")]
    MissingHeaders,
    /// A header repeated, longer than its bound, not text, or not of its form; or a path longer than its bound.
    #[error("malformed authentication headers")]
    MalformedHeaders,
    /// The caller id is none of the configured callers.
    #[error("unknown caller")]
    UnknownCaller,
    /// The timestamp is more than the window away from the signer's clock.
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    /// The MAC is not the caller's for this timestamp, request id, method, path and body hash.
    #[error("signature does not match the request")]
    BadSignature,
    /// The body read does not hash to the `x-signer-content-sha256` the MAC covered.
    #[error("body does not match the hash its signature covers")]
    BodyMismatch,
    /// The MAC was already accepted within the window, or recorded with a signature before a restart.
    #[error("request already seen")]
    Replayed,
}

impl AuthFailure {
    /// The real reason, for the audit log and the metric label only.
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::MissingHeaders => "auth.missing_headers",
            AuthFailure::MalformedHeaders => "auth.malformed_headers",
            AuthFailure::UnknownCaller => "auth.unknown_caller",
            AuthFailure::StaleTimestamp => "auth.stale_timestamp",
            AuthFailure::BadSignature => "auth.bad_signature",
            AuthFailure::BodyMismatch => "auth.body_mismatch",
            AuthFailure::Replayed => "auth.replayed",
        }
    }

    /// What the caller is told (always with status 401): one code for every failure, so the signer never confirms
    /// which caller ids exist, nor anything else about a request it did not authenticate. A replay is told apart:
    /// only a request whose MAC verified, which a stranger cannot make, gets that far.
    pub fn public_code(self) -> &'static str {
        match self {
            AuthFailure::Replayed => "auth.replayed",
            _ => "auth.failed",
        }
    }

    /// The message beside [`AuthFailure::public_code`].
    pub fn public_message(self) -> &'static str {
        match self {
            AuthFailure::Replayed => "request already seen",
            _ => "authentication failed",
        }
    }
}

/// The payload kinds a caller may ask for. In the config: `kinds = ["register", "retopup"]`, by the kind's name
/// (`payout_batch` or `payout-batch`, `treasury_transfer` or `treasury-transfer`); no `kinds` means all five.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions(u8);

impl Permissions {
    /// Every kind: what a caller configured without `kinds` may ask for.
    pub const ALL: Permissions = Permissions((1 << Kind::ALL.len()) - 1);

    /// Exactly the given kinds.
    pub fn only(kinds: impl IntoIterator<Item = Kind>) -> Self {
        Permissions(kinds.into_iter().fold(0, |bits, kind| bits | Self::bit(kind)))
    }

    /// Parses the config's list of kind names; an unknown name or an empty list is an error (an empty list would
    /// make a caller that can do nothing, most likely a mistake for "all").
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        if names.is_empty() {
            return Err("`kinds` lists no payload kind: list at least one, or omit `kinds` to allow all".into());
        }
        let kinds = names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                Kind::ALL.into_iter().find(|k| k.as_str() == name || k.as_str().replace('_', "-") == name).ok_or_else(
                    || {
                        let known = Kind::ALL.map(Kind::as_str).join(", ");
                        format!("unknown payload kind {name:?} in `kinds` (known kinds: {known})")
                    },
                )
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self::only(kinds))
    }

    /// Whether a caller with these permissions may ask for `kind`.
    pub fn allows(self, kind: Kind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    /// The permitted kinds, in [`Kind::ALL`] order.
    pub fn kinds(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| self.allows(*k))
    }

    fn bit(kind: Kind) -> u8 {
        1 << (kind as u8)
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.kinds().map(Kind::as_str)).finish()
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Permissions::from_names(&names).map_err(serde::de::Error::custom)
    }
}

/// One authenticated caller, its shared secret and the payload kinds it may ask for.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The caller's id, as sent in `x-signer-caller`.
    pub id: String,
    /// The shared secret its MACs are keyed with (at least [`MIN_SECRET_BYTES`] bytes).
    pub secret: SecretString,
    /// The payload kinds it may ask for.
    pub permissions: Permissions,
}

impl Caller {
    /// A caller that may ask for every kind (as configured without `kinds`).
    pub fn new(id: impl Into<String>, secret: SecretString) -> Self {
        Caller { id: id.into(), secret, permissions: Permissions::ALL }
    }

    /// The same caller, limited to `permissions`.
    pub fn permitted(self, permissions: Permissions) -> Self {
        Caller { permissions, ..self }
    }
}

/// What a request claims in its headers, each value checked for presence, a single occurrence, its length and its
/// form before it is parsed.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// The caller id claimed (`x-signer-caller`).
    pub caller: &'a str,
    /// When the request was signed, unix seconds (`x-signer-timestamp`).
    pub timestamp: u64,
    /// The caller's random id for this request (`x-signer-request-id`).
    pub request_id: &'a str,
    /// The request's HMAC-SHA256 (`x-signer-signature`).
    pub signature: Mac,
    /// The SHA-256 of the body the MAC covers (`x-signer-content-sha256`).
    pub body_sha256: [u8; 32],
}

impl<'a> Credentials<'a> {
    /// Reads the five authentication headers: an absent one is `MissingHeaders`, any other fault
    /// `MalformedHeaders`. Nothing is verified yet ([`Authenticator::verify_head`]).
    pub fn from_headers(headers: &'a HeaderMap) -> Result<Self, AuthFailure> {
        let caller = header(headers, CALLER_HEADER, CALLER_ID_MAX_LEN)?;
        let timestamp = header(headers, TIMESTAMP_HEADER, TIMESTAMP_MAX_LEN)?;
        let request_id = header(headers, REQUEST_ID_HEADER, REQUEST_ID_MAX_LEN)?;
        let signature = header(headers, SIGNATURE_HEADER, HEX_DIGEST_LEN)?;
        let body_sha256 = header(headers, CONTENT_SHA256_HEADER, HEX_DIGEST_LEN)?;
        if !is_valid_caller_id(caller) || !is_valid_request_id(request_id) {
            return Err(AuthFailure::MalformedHeaders);
        }
        Ok(Credentials {
            caller,
            timestamp: decimal(timestamp).ok_or(AuthFailure::MalformedHeaders)?,
            request_id,
            signature: digest(signature).ok_or(AuthFailure::MalformedHeaders)?,
            body_sha256: digest(body_sha256).ok_or(AuthFailure::MalformedHeaders)?,
        })
    }
}

/// The one value of header `name`, at most `max` bytes of visible ASCII.
fn header<'h>(headers: &'h HeaderMap, name: &str, max: usize) -> Result<&'h str, AuthFailure> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(AuthFailure::MissingHeaders)?;
    if values.next().is_some() || value.len() > max {
        return Err(AuthFailure::MalformedHeaders);
    }
    value.to_str().map_err(|_| AuthFailure::MalformedHeaders)
}

fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn digest(hex_text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0; 32];
    (hex_text.len() == HEX_DIGEST_LEN && hex::decode_to_slice(hex_text, &mut bytes).is_ok()).then_some(bytes)
}

/// The authenticated identity of a request, its MAC (recorded with any signature it obtains) and what the caller
/// may ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The caller's id.
    pub caller: String,
    /// The request's MAC (hex), recorded with every signature the request obtains.
    pub mac: String,
    /// The payload kinds the caller may ask for.
    pub permissions: Permissions,
}

/// A request whose headers authenticated: its caller proved it knows its secret for this method, path and a body of
/// this hash. Its body is still to be read, and must have that hash ([`AuthenticatedHead::with_body`]).
#[derive(Debug)]
pub struct AuthenticatedHead {
    caller: Authenticated,
    body_sha256: [u8; 32],
}

impl AuthenticatedHead {
    /// The authenticated caller's id.
    pub fn caller(&self) -> &str {
        &self.caller.caller
    }

    /// The request's caller, once its body proves to be the one the MAC covered.
    pub fn with_body(self, body: &[u8]) -> Result<Authenticated, AuthFailure> {
        if Sha256::digest(body)[..] != self.body_sha256[..] {
            return Err(AuthFailure::BodyMismatch);
        }
        Ok(self.caller)
    }
}

/// A caller the signer cannot start with.
#[derive(Debug, thiserror::Error)]
#[error("[auth] caller {caller:?}: {problem}")]
pub struct InvalidCaller {
    /// The caller's id, as configured.
    pub caller: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Verifies requests against the configured callers and remembers MACs seen within the window.
#[derive(Debug)]
pub struct Authenticator {
    callers: HashMap<String, (SecretString, Permissions)>,
    window_secs: u64,
    seen: Mutex<ReplayCache>,
    /// A secret no caller has: the MAC of a request with no caller to take a secret from is checked against it.
    decoy: SecretString,
}

/// MACs accepted recently, each until its timestamp is out of the window: looked up by MAC, forgotten by time.
#[derive(Debug, Default)]
struct ReplayCache {
    /// MAC → the time after which its timestamp is out of the window and it can be forgotten.
    macs: HashMap<Mac, u64>,
    /// The same MACs by that time, so that forgetting touches only what expired (a busy signer holds hundreds of
    /// thousands, and every request waits for this lock).
    by_expiry: BTreeMap<u64, Vec<Mac>>,
}

/// An HMAC-SHA256 tag.
pub type Mac = [u8; 32];

impl ReplayCache {
    fn insert(&mut self, mac: Mac, forget_after: u64) {
        self.macs.insert(mac, forget_after);
        self.by_expiry.entry(forget_after).or_default().push(mac);
    }

    /// Forgets the MACs whose time is before `now`.
    fn prune(&mut self, now: u64) {
        while let Some(oldest) = self.by_expiry.first_entry() {
            if *oldest.key() >= now {
                break;
            }
            let (at, macs) = oldest.remove_entry();
            for mac in macs {
                // Remembered again later with a later time: kept until then.
                if self.macs.get(&mac) == Some(&at) {
                    self.macs.remove(&mac);
                }
            }
        }
    }
}

impl Authenticator {
    /// Refuses a caller whose id could never pass the header bounds, or whose secret is shorter than
    /// [`MIN_SECRET_BYTES`] (a short shared secret can be guessed offline from one captured request).
    pub fn new(callers: Vec<Caller>, window_secs: u64) -> Result<Self, InvalidCaller> {
        for caller in &callers {
            let invalid = |problem: String| InvalidCaller { caller: caller.id.clone(), problem };
            if !is_valid_caller_id(&caller.id) {
                return Err(invalid(format!(
                    "an id is 1 to {CALLER_ID_MAX_LEN} characters of letters, digits, '.', '_' and '-'"
                )));
            }
            let length = caller.secret.expose_secret().len();
            if length < MIN_SECRET_BYTES {
                return Err(invalid(format!(
                    "its secret is {length} bytes; at least {MIN_SECRET_BYTES} are needed (e.g. `openssl rand -hex 32`)"
                )));
            }
        }
        Ok(Authenticator {
            callers: callers.into_iter().map(|c| (c.id, (c.secret, c.permissions))).collect(),
            window_secs,
            seen: Mutex::new(ReplayCache::default()),
            decoy: SecretString::from(hex::encode(rand::random::<[u8; 32]>())),
        })
    }

    /// How many seconds a request's timestamp may differ from the signer's clock.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// Remembers a MAC (hex) as used, e.g. one recorded in the store before a restart. A text that is no MAC
    /// could never match a request, and is not kept.
    pub fn mark_seen(&self, mac: &str, signed_at: u64) {
        let Some(mac) = hex::decode(mac).ok().and_then(|bytes| Mac::try_from(bytes).ok()) else { return };
        let forget_after = signed_at.saturating_add(2 * self.window_secs);
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(mac, forget_after);
    }

    /// Checks a request's headers against its method and path, before its body is read. Every request costs one
    /// MAC computation, whatever fails (a decoy secret stands in for a caller that is not there), so no failure is
    /// told apart by timing either. A success consumes the MAC, so the same request fails next time.
    pub fn verify_head(
        &self,
        credentials: Result<Credentials<'_>, AuthFailure>,
        method: &str,
        path: &str,
        now: u64,
    ) -> Result<AuthenticatedHead, AuthFailure> {
        let path_ok = path.len() <= PATH_MAX_LEN;
        let caller = credentials.as_ref().ok().and_then(|c| self.callers.get_key_value(c.caller));
        let secret = caller.map_or(&self.decoy, |(_, (secret, _))| secret);
        let mac_matches = match &credentials {
            Ok(c) if path_ok => {
                let body_sha256 = hex::encode(c.body_sha256);
                verify_request_mac(secret, c.timestamp, c.request_id, method, path, &body_sha256, &c.signature)
            }
            _ => {
                let _ = verify_request_mac(&self.decoy, now, "decoy", method, "/", &hex::encode([0; 32]), &[]);
                false
            }
        };
        let credentials = credentials?;
        if !path_ok {
            return Err(AuthFailure::MalformedHeaders);
        }
        let Some((id, (_, permissions))) = caller else { return Err(AuthFailure::UnknownCaller) };
        if credentials.timestamp.abs_diff(now) > self.window_secs {
            return Err(AuthFailure::StaleTimestamp);
        }
        if !mac_matches {
            return Err(AuthFailure::BadSignature);
        }
        let mac = credentials.signature;
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.prune(now);
            if seen.macs.contains_key(&mac) {
                return Err(AuthFailure::Replayed);
            }
            seen.insert(mac, credentials.timestamp.saturating_add(2 * self.window_secs));
        }
        Ok(AuthenticatedHead {
            caller: Authenticated { caller: id.clone(), mac: hex::encode(mac), permissions: *permissions },
            body_sha256: credentials.body_sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const NOW: u64 = 1_800_000_000;
    const SECRET: &str = "unit-test-only-caller-secret-32b";
    const PATH: &str = "/v1/sign/register";

    fn authenticator() -> Authenticator {
        Authenticator::new(vec![Caller::new("backend", SecretString::from(SECRET))], 30).unwrap()
    }

    /// The headers a caller sends for `body`, signed with `secret` at `ts` for `path`.
    fn headers(caller: &str, secret: &str, ts: u64, request_id: &str, path: &str, body: &[u8]) -> HeaderMap {
        let mac = request_mac(&SecretString::from(secret), ts, request_id, "POST", path, body);
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (CALLER_HEADER, caller.to_owned()),
            (TIMESTAMP_HEADER, ts.to_string()),
            (REQUEST_ID_HEADER, request_id.to_owned()),
            (SIGNATURE_HEADER, mac),
            (CONTENT_SHA256_HEADER, body_sha256_hex(body)),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    /// Head, then body, as the HTTP layer does.
    fn verify(
        a: &Authenticator,
        headers: &HeaderMap,
        path: &str,
        body: &[u8],
        now: u64,
    ) -> Result<String, AuthFailure> {
        let head = a.verify_head(Credentials::from_headers(headers), "POST", path, now)?;
        head.with_body(body).map(|caller| caller.caller)
    }

    fn signed(ts: u64, body: &[u8]) -> HeaderMap {
        headers("backend", SECRET, ts, "r1", PATH, body)
    }

    #[test]
    fn a_correct_mac_within_the_window_is_accepted_once() {
        let a = authenticator();
        let h = signed(NOW - 30, b"{}");
        assert_eq!(verify(&a, &h, PATH, b"{}", NOW).unwrap(), "backend");
        assert_eq!(verify(&a, &h, PATH, b"{}", NOW), Err(AuthFailure::Replayed));
    }

    #[test]
    fn the_mac_binds_body_time_method_and_path() {
        let a = authenticator();
        let h = signed(NOW, b"{\"amount\":\"1\"}");
        assert_eq!(verify(&a, &h, PATH, b"{\"amount\":\"2\"}", NOW), Err(AuthFailure::BodyMismatch));
        // The body's hash in the header is covered by the MAC: a new hash for a new body does not verify.
        let mut swapped = h.clone();
        swapped.insert(CONTENT_SHA256_HEADER, HeaderValue::from_str(&body_sha256_hex(b"{}")).unwrap());
        assert_eq!(verify(&a, &swapped, PATH, b"{}", NOW), Err(AuthFailure::BadSignature));
        let mut later = h.clone();
        later.insert(TIMESTAMP_HEADER, HeaderValue::from(NOW + 1));
        assert_eq!(verify(&a, &later, PATH, b"{\"amount\":\"1\"}", NOW), Err(AuthFailure::BadSignature));
        assert_eq!(verify(&a, &h, "/v1/sign/payout-batch", b"{\"amount\":\"1\"}", NOW), Err(AuthFailure::BadSignature));
        let head = a.verify_head(Credentials::from_headers(&h), "GET", PATH, NOW);
        assert_eq!(head.unwrap_err(), AuthFailure::BadSignature);
    }

    #[test]
    fn each_failure_keeps_its_reason_for_the_audit_log_and_shows_one_answer() {
        let a = authenticator();
        let old = NOW - 31;
        let future = NOW + 31;
        let cases = [
            (signed(old, b""), AuthFailure::StaleTimestamp),
            (signed(future, b""), AuthFailure::StaleTimestamp),
            (headers("mallory", SECRET, NOW, "r1", PATH, b""), AuthFailure::UnknownCaller),
            (
                headers("backend", "another-secret-that-is-32-bytes-long", NOW, "r1", PATH, b""),
                AuthFailure::BadSignature,
            ),
            (headers("backend", SECRET, NOW, "a.b", PATH, b""), AuthFailure::MalformedHeaders),
            (HeaderMap::new(), AuthFailure::MissingHeaders),
        ];
        for (h, reason) in cases {
            let failure = verify(&a, &h, PATH, b"", NOW).unwrap_err();
            assert_eq!(failure, reason);
            assert_eq!((failure.public_code(), failure.public_message()), ("auth.failed", "authentication failed"));
        }
        assert_eq!(AuthFailure::Replayed.public_code(), "auth.replayed");
    }

    #[test]
    fn headers_are_bounded_single_and_of_their_form_before_they_are_parsed() {
        let a = authenticator();
        let good = signed(NOW, b"");
        let with = |name: &'static str, value: &str| {
            let mut h = good.clone();
            h.insert(name, HeaderValue::from_str(value).unwrap());
            h
        };
        let malformed = [
            with(CALLER_HEADER, &"b".repeat(CALLER_ID_MAX_LEN + 1)),
            with(CALLER_HEADER, "back end"),
            with(TIMESTAMP_HEADER, &"1".repeat(TIMESTAMP_MAX_LEN + 1)),
            with(TIMESTAMP_HEADER, "99999999999999999999"),
            with(TIMESTAMP_HEADER, "yesterday"),
            with(TIMESTAMP_HEADER, "+1800000000"),
            with(REQUEST_ID_HEADER, &"r".repeat(REQUEST_ID_MAX_LEN + 1)),
            with(REQUEST_ID_HEADER, "a\tb"),
            with(SIGNATURE_HEADER, "zz"),
            with(SIGNATURE_HEADER, &"0".repeat(HEX_DIGEST_LEN + 2)),
            with(CONTENT_SHA256_HEADER, &"g".repeat(HEX_DIGEST_LEN)),
        ];
        for h in &malformed {
            assert_eq!(Credentials::from_headers(h).unwrap_err(), AuthFailure::MalformedHeaders, "{h:?}");
        }
        let mut twice = good.clone();
        twice.append(CALLER_HEADER, HeaderValue::from_static("backend"));
        assert_eq!(Credentials::from_headers(&twice).unwrap_err(), AuthFailure::MalformedHeaders);
        let mut opaque = good.clone();
        opaque.insert(CALLER_HEADER, HeaderValue::from_bytes(b"back\xffend").unwrap());
        assert_eq!(Credentials::from_headers(&opaque).unwrap_err(), AuthFailure::MalformedHeaders);
        for name in [CALLER_HEADER, TIMESTAMP_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, CONTENT_SHA256_HEADER] {
            let mut missing = good.clone();
            missing.remove(name);
            assert_eq!(Credentials::from_headers(&missing).unwrap_err(), AuthFailure::MissingHeaders, "{name}");
        }
        let long_path = format!("/v1/policy?{}", "a".repeat(PATH_MAX_LEN));
        let long = headers("backend", SECRET, NOW, "r1", &long_path, b"");
        assert_eq!(verify(&a, &long, &long_path, b"", NOW), Err(AuthFailure::MalformedHeaders));
        assert_eq!(verify(&a, &good, PATH, b"", NOW).unwrap(), "backend");
    }

    #[test]
    fn the_same_body_twice_in_one_second_is_two_requests_when_the_ids_differ() {
        let a = authenticator();
        for id in ["a", "b"] {
            assert!(verify(&a, &headers("backend", SECRET, NOW, id, "/p", b"{}"), "/p", b"{}", NOW).is_ok());
        }
    }

    #[test]
    fn callers_with_short_secrets_or_unusable_ids_are_refused() {
        let short = Authenticator::new(
            vec![
                Caller::new("backend", SecretString::from("x".repeat(MIN_SECRET_BYTES))),
                Caller::new("treasury", SecretString::from("x".repeat(MIN_SECRET_BYTES - 1))),
            ],
            30,
        )
        .unwrap_err();
        assert_eq!(short.caller, "treasury");
        assert!(short.to_string().contains("caller \"treasury\": its secret is 31 bytes; at least 32"), "{short}");
        let bad_id = Authenticator::new(vec![Caller::new("back end", SecretString::from(SECRET))], 30).unwrap_err();
        assert!(bad_id.to_string().contains("\"back end\""), "{bad_id}");
    }

    #[test]
    fn permissions_parse_kind_names_and_travel_with_the_authenticated_caller() {
        let limited = Permissions::from_names(&["register", "retopup", "register"]).unwrap();
        assert!(limited.allows(Kind::Register) && limited.allows(Kind::Retopup));
        assert!(!limited.allows(Kind::PayoutBatch) && !limited.allows(Kind::TreasuryTransfer));
        assert_eq!(format!("{limited:?}"), r#"{"register", "retopup"}"#);
        assert_eq!(
            Permissions::from_names(&["payout-batch", "treasury_transfer"]).unwrap(),
            Permissions::only([Kind::PayoutBatch, Kind::TreasuryTransfer])
        );
        assert_eq!(Permissions::only(Kind::ALL), Permissions::ALL);
        assert!(Permissions::from_names(&["payout"]).unwrap_err().contains("unknown payload kind \"payout\""));
        assert!(Permissions::from_names::<&str>(&[]).is_err());

        let a = Authenticator::new(vec![Caller::new("backend", SecretString::from(SECRET)).permitted(limited)], 30)
            .unwrap();
        let permissions = |a: &Authenticator| {
            let head = a.verify_head(Credentials::from_headers(&signed(NOW, b"{}")), "POST", PATH, NOW).unwrap();
            head.with_body(b"{}").unwrap().permissions
        };
        assert_eq!(permissions(&a), limited);
        assert_eq!(permissions(&authenticator()), Permissions::ALL);
    }

    #[test]
    fn the_replay_cache_forgets_a_mac_only_after_its_latest_time() {
        let mut cache = ReplayCache::default();
        cache.insert([1; 32], 10);
        cache.insert([2; 32], 20);
        cache.insert([1; 32], 30);
        cache.prune(10);
        assert_eq!(cache.macs.len(), 2);
        cache.prune(21);
        assert!(cache.macs.contains_key(&[1; 32]) && !cache.macs.contains_key(&[2; 32]));
        cache.prune(30);
        assert!(cache.macs.contains_key(&[1; 32]));
        cache.prune(31);
        assert!(cache.macs.is_empty() && cache.by_expiry.is_empty());
    }

    #[test]
    fn macs_recorded_before_a_restart_are_refused_as_replays() {
        let a = authenticator();
        let h = signed(NOW, b"{}");
        a.mark_seen(h[SIGNATURE_HEADER].to_str().unwrap(), NOW);
        assert_eq!(verify(&a, &h, PATH, b"{}", NOW + 5), Err(AuthFailure::Replayed));
    }
}
