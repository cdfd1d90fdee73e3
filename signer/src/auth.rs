//! Caller authentication: HMAC-SHA256 over `timestamp \n request_id \n METHOD \n path \n hex(sha256(body))`,
//! a time window, and refusal of replays. The request id (random per request) lets a caller send the same body
//! twice in one second without it looking like a replay. The MAC format is shared with `client`.
//! Each caller also carries the payload kinds it may ask for (`Permissions`), enforced before anything is signed.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::Mutex,
};

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::intent::Kind;

pub use signer_client::auth::{
    CALLER_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, canonical_request, is_valid_request_id,
    request_mac, verify_request_mac,
};

/// Why a request was not authenticated; the code is part of the API (always with status 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("missing or unreadable authentication headers")]
    MissingHeaders,
    #[error("unknown caller")]
    UnknownCaller,
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    #[error("signature does not match the request")]
    BadSignature,
    #[error("request already seen")]
    Replayed,
}

impl AuthFailure {
    /// What the caller is told: an unknown caller gets exactly the answer of a bad signature, so the signer never
    /// confirms which caller ids exist (the audit log keeps the real reason).
    pub fn public(self) -> Self {
        match self {
            AuthFailure::UnknownCaller => AuthFailure::BadSignature,
            other => other,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::MissingHeaders => "auth.missing_headers",
            AuthFailure::UnknownCaller => "auth.unknown_caller",
            AuthFailure::StaleTimestamp => "auth.stale_timestamp",
            AuthFailure::BadSignature => "auth.bad_signature",
            AuthFailure::Replayed => "auth.replayed",
        }
    }
}

/// The payload kinds a caller may ask for. In the config: `kinds = ["register", "retopup"]`, by the kind's name
/// (`payout_batch` or `payout-batch`, `treasury_transfer` or `treasury-transfer`); no `kinds` means all four.
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

    pub fn allows(self, kind: Kind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

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
    pub id: String,
    pub secret: SecretString,
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

/// What a request claims: the four header values.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    pub caller: &'a str,
    pub timestamp: &'a str,
    pub request_id: &'a str,
    pub signature: &'a str,
}

/// The authenticated identity of a request, its MAC (recorded with any signature it obtains) and what the caller
/// may ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub caller: String,
    pub mac: String,
    pub permissions: Permissions,
}

/// Verifies requests against the configured callers and remembers MACs seen within the window.
#[derive(Debug)]
pub struct Authenticator {
    callers: HashMap<String, (SecretString, Permissions)>,
    window_secs: u64,
    seen: Mutex<ReplayCache>,
    /// A secret no caller has: the MAC an unknown caller's request is checked against.
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
type Mac = [u8; 32];

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
    pub fn new(callers: Vec<Caller>, window_secs: u64) -> Self {
        Authenticator {
            callers: callers.into_iter().map(|c| (c.id, (c.secret, c.permissions))).collect(),
            window_secs,
            seen: Mutex::new(ReplayCache::default()),
            decoy: SecretString::from("decoy-secret-of-no-caller"),
        }
    }

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

    /// Checks the credentials against the request; a success consumes the MAC so the same request fails next time.
    pub fn verify(
        &self,
        credentials: Option<Credentials<'_>>,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
    ) -> Result<Authenticated, AuthFailure> {
        let credentials = credentials.ok_or(AuthFailure::MissingHeaders)?;
        let Some((secret, permissions)) = self.callers.get(credentials.caller) else {
            // Spend the time a MAC check takes, so an unknown caller id is not told apart by timing either.
            let _ = verify_request_mac(&self.decoy, 0, "decoy", method, path, body, &[]);
            return Err(AuthFailure::UnknownCaller);
        };
        let timestamp: u64 = credentials.timestamp.parse().map_err(|_| AuthFailure::MissingHeaders)?;
        if !is_valid_request_id(credentials.request_id) {
            return Err(AuthFailure::MissingHeaders);
        }
        if timestamp.abs_diff(now) > self.window_secs {
            return Err(AuthFailure::StaleTimestamp);
        }
        let claimed = hex::decode(credentials.signature).map_err(|_| AuthFailure::BadSignature)?;
        if !verify_request_mac(secret, timestamp, credentials.request_id, method, path, body, &claimed) {
            return Err(AuthFailure::BadSignature);
        }

        // A MAC that verified is a whole HMAC-SHA256 tag.
        let mac = Mac::try_from(claimed.as_slice()).map_err(|_| AuthFailure::BadSignature)?;
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.prune(now);
            if seen.macs.contains_key(&mac) {
                return Err(AuthFailure::Replayed);
            }
            seen.insert(mac, timestamp.saturating_add(2 * self.window_secs));
        }
        Ok(Authenticated { caller: credentials.caller.to_owned(), mac: hex::encode(mac), permissions: *permissions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn authenticator() -> Authenticator {
        Authenticator::new(vec![Caller::new("backend", SecretString::from("s3cret"))], 30)
    }

    fn mac(ts: u64, body: &[u8]) -> String {
        request_mac(&SecretString::from("s3cret"), ts, "r1", "POST", "/v1/sign/register", body)
    }

    fn verify(
        a: &Authenticator,
        caller: &str,
        ts: &str,
        sig: &str,
        body: &[u8],
        now: u64,
    ) -> Result<Authenticated, AuthFailure> {
        let credentials = Credentials { caller, timestamp: ts, request_id: "r1", signature: sig };
        a.verify(Some(credentials), "POST", "/v1/sign/register", body, now)
    }

    #[test]
    fn a_correct_mac_within_the_window_is_accepted_once() {
        let a = authenticator();
        let sig = mac(NOW - 30, b"{}");
        assert_eq!(verify(&a, "backend", &(NOW - 30).to_string(), &sig, b"{}", NOW).unwrap().caller, "backend");
        assert_eq!(verify(&a, "backend", &(NOW - 30).to_string(), &sig, b"{}", NOW), Err(AuthFailure::Replayed));
    }

    #[test]
    fn the_mac_binds_body_time_method_and_path() {
        let a = authenticator();
        let sig = mac(NOW, b"{\"amount\":\"1\"}");
        assert_eq!(
            verify(&a, "backend", &NOW.to_string(), &sig, b"{\"amount\":\"2\"}", NOW),
            Err(AuthFailure::BadSignature)
        );
        assert_eq!(
            verify(&a, "backend", &(NOW + 1).to_string(), &sig, b"{\"amount\":\"1\"}", NOW),
            Err(AuthFailure::BadSignature)
        );
        let other_path = a.verify(
            Some(Credentials { caller: "backend", timestamp: &NOW.to_string(), request_id: "r1", signature: &sig }),
            "POST",
            "/v1/sign/payout-batch",
            b"{\"amount\":\"1\"}",
            NOW,
        );
        assert_eq!(other_path, Err(AuthFailure::BadSignature));
    }

    #[test]
    fn stale_unknown_and_missing_credentials_are_refused() {
        let a = authenticator();
        let old = NOW - 31;
        assert_eq!(verify(&a, "backend", &old.to_string(), &mac(old, b""), b"", NOW), Err(AuthFailure::StaleTimestamp));
        let future = NOW + 31;
        assert_eq!(
            verify(&a, "backend", &future.to_string(), &mac(future, b""), b"", NOW),
            Err(AuthFailure::StaleTimestamp)
        );
        assert_eq!(verify(&a, "mallory", &NOW.to_string(), &mac(NOW, b""), b"", NOW), Err(AuthFailure::UnknownCaller));
        assert_eq!(verify(&a, "backend", "yesterday", &mac(NOW, b""), b"", NOW), Err(AuthFailure::MissingHeaders));
        assert_eq!(verify(&a, "backend", &NOW.to_string(), "zz", b"", NOW), Err(AuthFailure::BadSignature));
        assert_eq!(a.verify(None, "POST", "/", b"", NOW), Err(AuthFailure::MissingHeaders));
    }

    #[test]
    fn the_same_body_twice_in_one_second_is_two_requests_when_the_ids_differ() {
        let a = authenticator();
        let secret = SecretString::from("s3cret");
        for id in ["a", "b"] {
            let sig = request_mac(&secret, NOW, id, "POST", "/p", b"{}");
            let credentials =
                Credentials { caller: "backend", timestamp: &NOW.to_string(), request_id: id, signature: &sig };
            assert!(a.verify(Some(credentials), "POST", "/p", b"{}", NOW).is_ok());
        }
        let sig = request_mac(&secret, NOW, "a\n", "POST", "/p", b"{}");
        let credentials =
            Credentials { caller: "backend", timestamp: &NOW.to_string(), request_id: "a\n", signature: &sig };
        assert_eq!(a.verify(Some(credentials), "POST", "/p", b"{}", NOW), Err(AuthFailure::MissingHeaders));
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

        let a = Authenticator::new(vec![Caller::new("backend", SecretString::from("s3cret")).permitted(limited)], 30);
        let sig = mac(NOW, b"{}");
        assert_eq!(verify(&a, "backend", &NOW.to_string(), &sig, b"{}", NOW).unwrap().permissions, limited);
        assert_eq!(
            authenticator()
                .verify(
                    Some(Credentials {
                        caller: "backend",
                        timestamp: &NOW.to_string(),
                        request_id: "r1",
                        signature: &sig
                    }),
                    "POST",
                    "/v1/sign/register",
                    b"{}",
                    NOW,
                )
                .unwrap()
                .permissions,
            Permissions::ALL
        );
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
        let sig = mac(NOW, b"{}");
        a.mark_seen(&sig, NOW);
        assert_eq!(verify(&a, "backend", &NOW.to_string(), &sig, b"{}", NOW + 5), Err(AuthFailure::Replayed));
    }
}
