//! The signing key in a hardware security module, over PKCS#11 (`cryptoki`): the secp256k1 key is made in the token
//! ([`generate`], the key ceremony) sensitive and non-extractable, and never leaves it. The signer derives its
//! address from the public key (`CKA_EC_POINT`), signs the 32-byte EIP-712 digest with `CKM_ECDSA`, puts `s` in the
//! lower half, finds the recovery id by recovering both candidates, and lets a signature go only when it recovers to
//! the configured address.
//!
//! A token that fails mid-flight (a library error, a lost session, a key that no longer answers) makes that call fail
//! as [`KeyError::Unavailable`] (503 `key_unavailable`), counted and logged; the next call connects again — a new
//! session, the PIN, the key found by its label and its address checked — at most once a second, and when the token
//! itself cannot be found the library is initialised again (PKCS#11 libraries rescan their tokens only then). A
//! session that failed is never closed by us: its handle may already belong to another session.
//!
//! One PKCS#11 library is initialised once per process ([`Module`]); every key of the same library shares it. Every
//! call into it, closing a session included, is made under the module's lock, so that [`finalise_all`] — the signer's
//! last act before its process ends — waits for the calls in flight, finalises the library (`C_Finalize`) and leaves
//! nothing that could call it again: a library such as SoftHSM2 tears itself down in the process's exit handlers, and a
//! session closed by another thread under that teardown crashed the process (issue 64).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, RwLock},
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256, Signature, U256};
use cryptoki::{
    context::{CInitializeArgs, Pkcs11},
    error::{Error as CkError, RvError},
    mechanism::Mechanism,
    object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::{KeyError, KeyFuture, KeySource};

/// DER of the named curve secp256k1 (OID 1.3.132.0.10), as `CKA_EC_PARAMS` holds it.
pub const SECP256K1_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

/// Least time between two attempts to connect to a token that failed: a dead HSM is not hammered with logins.
pub const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);

/// Longest label accepted for a token or a key (PKCS#11 pads token labels to 32 bytes).
const MAX_LABEL_LEN: usize = 64;

/// Which token of the library holds the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRef {
    /// The token with this label (`CKA_LABEL` of the token, as `softhsm2-util --init-token --label` sets it).
    Label(String),
    /// The slot with this id (stable on hardware; SoftHSM2 numbers its slots anew per token).
    Slot(u64),
}

impl std::fmt::Display for TokenRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRef::Label(label) => write!(f, "token {label:?}"),
            TokenRef::Slot(id) => write!(f, "slot {id}"),
        }
    }
}

/// Where the key is and how to reach it, its PIN resolved.
#[derive(Clone)]
pub struct HsmKeySpec {
    /// The PKCS#11 library (the HSM vendor's `.so`; SoftHSM2's `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token.
    pub token: TokenRef,
    /// `CKA_LABEL` of the key pair.
    pub key_label: String,
    /// The user PIN; from the environment or a file of the owner's alone, never the configuration file.
    pub pin: SecretString,
    /// The address the key must have: the signer refuses to start on another, and no signature leaves that does
    /// not recover to it.
    pub address: Address,
    /// Most sessions open at once (concurrent signatures).
    pub sessions: usize,
}

impl std::fmt::Debug for HsmKeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmKeySpec")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("key_label", &self.key_label)
            .field("address", &self.address)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

/// Why the token could not be used, in the words the start-up refusal and the log give.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The library could not be loaded or initialised.
    #[error("the PKCS#11 library {module} could not be loaded or initialised: {why}")]
    Library {
        /// The library's path.
        module: String,
        /// The loader's or the library's answer.
        why: String,
    },
    /// No token answers to the configured label or slot.
    #[error("no {0} in the PKCS#11 library (tokens present: {1})")]
    TokenMissing(TokenRef, String),
    /// The token refused the PIN.
    #[error("the token refused the PIN (CKR_PIN_INCORRECT): check the PIN's variable or file")]
    PinIncorrect,
    /// The token locked the PIN after too many wrong ones.
    #[error("the token's user PIN is locked (CKR_PIN_LOCKED): the token's security officer must unlock it")]
    PinLocked,
    /// No private key with the configured label.
    #[error("no private key labelled {0:?} in the token (create it with `signer hsm-keygen`)")]
    KeyMissing(String),
    /// More than one key pair with the label: which one signs would be the token's choice.
    #[error("{1} private keys are labelled {0:?}: a label must name one key")]
    KeyAmbiguous(String, usize),
    /// The key is one the signer refuses to use (extractable, not sensitive, not secp256k1, cannot sign).
    #[error("the key labelled {0:?} is refused: {1}")]
    KeyUnfit(String, String),
    /// A key with the label exists already (the key ceremony never overwrites one).
    #[error("a key labelled {0:?} exists already in the token: choose another label")]
    LabelTaken(String),
    /// The key's public key is not the configured address.
    #[error("the key labelled {label:?} has address {found}, the configuration says {configured}")]
    AddressMismatch {
        /// The key's label.
        label: String,
        /// The address configured.
        configured: Address,
        /// The address of the token's key.
        found: Address,
    },
    /// A signature from the token does not recover to the key's address.
    #[error("the token's signature does not recover to {0}")]
    WrongSignature(Address),
    /// A PKCS#11 call failed.
    #[error("{function}: {rv}")]
    Call {
        /// The function (`C_Sign`, `C_OpenSession`, …).
        function: String,
        /// The return value's name (`CKR_SESSION_HANDLE_INVALID`, …).
        rv: String,
        /// The return value, for the metric's label.
        reason: &'static str,
    },
}

impl HsmError {
    /// A short stable name of the failure: the `reason` of the log line that reports it.
    pub fn reason(&self) -> &'static str {
        match self {
            HsmError::Library { .. } => "library",
            HsmError::TokenMissing(..) => "token_missing",
            HsmError::PinIncorrect => "pin_incorrect",
            HsmError::PinLocked => "pin_locked",
            HsmError::KeyMissing(_) => "key_missing",
            HsmError::KeyAmbiguous(..) => "key_ambiguous",
            HsmError::KeyUnfit(..) => "key_unfit",
            HsmError::LabelTaken(_) => "label_taken",
            HsmError::AddressMismatch { .. } => "address_mismatch",
            HsmError::WrongSignature(_) => "wrong_signature",
            HsmError::Call { reason, .. } => reason,
        }
    }

    /// Whether the library itself must be initialised again before the token can be reached (it was finalised
    /// under us, or it no longer shows the token: PKCS#11 libraries rescan their tokens at initialisation).
    fn needs_reinitialisation(&self) -> bool {
        match self {
            HsmError::TokenMissing(..) => true,
            HsmError::Call { reason, .. } => {
                matches!(*reason, "cryptoki_not_initialized" | "general_error" | "token_not_present" | "device_removed")
            }
            _ => false,
        }
    }
}

/// A `cryptoki` error as ours: the function and the return value by name.
fn call(e: CkError) -> HsmError {
    match e {
        CkError::Pkcs11(rv, function) => {
            let reason = rv_reason(rv);
            HsmError::Call { function: format!("C_{function:?}"), rv: format!("CKR_{}", reason.to_uppercase()), reason }
        }
        other => HsmError::Call { function: "cryptoki".into(), rv: other.to_string(), reason: "cryptoki" },
    }
}

/// The return values a token gives when it fails, named for the metric's label; any other is `other`.
fn rv_reason(rv: RvError) -> &'static str {
    match rv {
        RvError::SessionHandleInvalid => "session_handle_invalid",
        RvError::SessionClosed => "session_closed",
        RvError::ObjectHandleInvalid => "object_handle_invalid",
        RvError::KeyHandleInvalid => "key_handle_invalid",
        RvError::CryptokiNotInitialized => "cryptoki_not_initialized",
        RvError::GeneralError => "general_error",
        RvError::DeviceError => "device_error",
        RvError::DeviceMemory => "device_memory",
        RvError::DeviceRemoved => "device_removed",
        RvError::TokenNotPresent => "token_not_present",
        RvError::TokenNotRecognized => "token_not_recognized",
        RvError::UserNotLoggedIn => "user_not_logged_in",
        RvError::PinIncorrect => "pin_incorrect",
        RvError::PinLocked => "pin_locked",
        RvError::FunctionFailed => "function_failed",
        RvError::HostMemory => "host_memory",
        RvError::OperationActive => "operation_active",
        RvError::SessionCount => "session_count",
        RvError::AttributeSensitive => "attribute_sensitive",
        RvError::KeyUnextractable => "key_unextractable",
        _ => "other",
    }
}

/// One PKCS#11 library, initialised once for the whole process, and initialised again when a token needs it.
pub struct Module {
    path: PathBuf,
    /// The context in use and its generation. Every call into the library holds the read lock, so a new
    /// initialisation (the write lock) never runs under a call, and a session of an older generation is never used.
    current: RwLock<Generation>,
    /// Contexts of earlier generations, kept for the life of the process: dropping one finalises the library (its
    /// `Drop` calls `C_Finalize`), under the context now in use.
    retired: Mutex<Vec<Pkcs11>>,
}

struct Generation {
    number: u64,
    context: Pkcs11,
    /// Set for good by [`Module::finalise`]: the library is finalised and nothing may call it again.
    finalised: bool,
}

impl Generation {
    /// Refuses a call into a library already finalised (the process is ending).
    fn usable(&self) -> Result<(), HsmError> {
        if self.finalised {
            return Err(HsmError::Call {
                function: "C_Finalize".into(),
                rv: "the PKCS#11 library was finalised: the signer is stopping".into(),
                reason: "library_finalised",
            });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Module {
    /// The library at `path`, loaded and initialised by the first caller in this process.
    pub fn open(path: &Path) -> Result<Arc<Module>, HsmError> {
        let mut modules = modules();
        if let Some(module) = modules.get(path) {
            return Ok(module.clone());
        }
        let context = initialise(path)?;
        let module = Arc::new(Module {
            path: path.to_owned(),
            current: RwLock::new(Generation { number: 0, context, finalised: false }),
            retired: Mutex::default(),
        });
        modules.insert(path.to_owned(), module.clone());
        Ok(module)
    }

    /// The library's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finalises the library and initialises it again, unless that was done since generation `seen`.
    fn reinitialise(&self, seen: u64) -> Result<(), HsmError> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        current.usable()?;
        if current.number != seen {
            return Ok(());
        }
        // A context of its own that only finalises: the library is finalised whatever other handles think.
        if let Ok(finaliser) = Pkcs11::new(&self.path) {
            drop(finaliser);
        }
        let context = initialise(&self.path)?;
        let old = std::mem::replace(&mut current.context, context);
        self.retired.lock().unwrap_or_else(|p| p.into_inner()).push(old);
        current.number += 1;
        tracing::warn!(module = %self.path.display(), generation = current.number, "PKCS#11 library initialised again");
        Ok(())
    }

    /// Finalises the library for good, once every call in flight has returned: no session of it is closed, nothing
    /// signed, no connection made after (each refuses as `library_finalised`). Sessions still held are left to the
    /// library's finalisation, which closes them all.
    fn finalise(&self) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.finalised {
            return;
        }
        current.finalised = true;
        // A context of its own that only finalises, as in `reinitialise`: the library is finalised whatever other
        // handles (the sessions' own) think.
        match Pkcs11::new(&self.path) {
            Ok(finaliser) => drop(finaliser),
            Err(e) => tracing::warn!(module = %self.path.display(), error = %e, "PKCS#11 library not finalised"),
        }
        tracing::info!(module = %self.path.display(), "PKCS#11 library finalised");
    }
}

/// Every library this process opened, by path.
fn modules() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Arc<Module>>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = OnceLock::new();
    MODULES.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Finalises every PKCS#11 library this process opened (`C_Finalize`), after the calls in flight: the last thing a
/// process that signed with a token does before it ends. Anything still holding a key afterwards can no longer reach
/// the library (its signatures fail as unavailable, its sessions are left to the finalisation), so the library's own
/// teardown in the process's exit handlers never meets a call from another thread.
pub fn finalise_all() {
    let opened: Vec<Arc<Module>> = modules().values().cloned().collect();
    for module in opened {
        module.finalise();
    }
}

/// Loads and initialises the library; one already initialised in this process (by another context) is used as it is.
fn initialise(path: &Path) -> Result<Pkcs11, HsmError> {
    let library = |why: String| HsmError::Library { module: path.display().to_string(), why };
    let context = Pkcs11::new(path).map_err(|e| library(e.to_string()))?;
    match context.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(context),
        Err(e) => Err(library(call(e).to_string())),
    }
}

/// A session logged in as the user, with the key's handle in it, of one generation of the library. Dropped, it
/// closes its session under the module's lock, and only while the library is the one that opened it (see
/// [`Connection::abandon`]) and not finalised.
struct Connection {
    /// Always `Some` but in `drop`, which takes it to close it (or not).
    session: Option<Session>,
    key: ObjectHandle,
    generation: u64,
    module: Arc<Module>,
}

impl Connection {
    fn session(&self) -> &Session {
        self.session.as_ref().expect("a connection holds its session until it is dropped")
    }

    /// Forgets the session without closing it: after a failure its handle may be reused by another session (a
    /// library initialised again numbers its sessions from 1), which closing it would close.
    fn abandon(mut self) {
        std::mem::forget(self.session.take());
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else { return };
        let current = self.module.current.read().unwrap_or_else(|p| p.into_inner());
        if current.finalised || current.number != self.generation {
            // Finalised: the library closed every session and must not be called again. Initialised again since:
            // the handle may be another session's.
            std::mem::forget(session);
            return;
        }
        // `C_CloseSession`, under the read lock: a finalisation waits for it.
        drop(session);
        drop(current);
    }
}

/// Opens a session on `spec`'s token in `generation`, logs in, finds the key and checks it (sensitive, not
/// extractable, secp256k1, signs) and its address. On any failure the session is abandoned (see
/// [`Connection::abandon`]).
fn connect(
    spec: &HsmKeySpec,
    module: &Arc<Module>,
    generation: &Generation,
) -> Result<(Connection, Address), HsmError> {
    generation.usable()?;
    let context = &generation.context;
    let slot = find_slot(context, &spec.token)?;
    let session = context.open_ro_session(slot).map_err(call)?;
    let checked = login(&session, &spec.pin).and_then(|()| find_key(&session, &spec.key_label));
    match checked {
        Ok((key, address)) => {
            let connection =
                Connection { session: Some(session), key, generation: generation.number, module: module.clone() };
            Ok((connection, address))
        }
        Err(e) => {
            std::mem::forget(session);
            Err(e)
        }
    }
}

fn find_slot(context: &Pkcs11, token: &TokenRef) -> Result<Slot, HsmError> {
    let slots = context.get_slots_with_token().map_err(call)?;
    let mut seen = Vec::new();
    for slot in slots {
        let Ok(info) = context.get_token_info(slot) else { continue };
        let label = info.label().trim_end().to_owned();
        let found = match token {
            TokenRef::Label(wanted) => &label == wanted,
            TokenRef::Slot(id) => slot.id() == *id,
        };
        if found {
            return Ok(slot);
        }
        seen.push(format!("{label:?} in slot {}", slot.id()));
    }
    let seen = if seen.is_empty() { "none".to_owned() } else { seen.join(", ") };
    Err(HsmError::TokenMissing(token.clone(), seen))
}

fn login(session: &Session, pin: &SecretString) -> Result<(), HsmError> {
    let pin = AuthPin::new(pin.expose_secret().to_owned());
    match session.login(UserType::User, Some(&pin)) {
        // Login is per application: another session of this process logged in already.
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(HsmError::PinIncorrect),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(HsmError::PinLocked),
        Err(e) => Err(call(e)),
    }
}

/// The private key labelled `label` (exactly one), checked fit to sign and to stay in the token, and the address of
/// its public key.
fn find_key(session: &Session, label: &str) -> Result<(ObjectHandle, Address), HsmError> {
    let of_class = |class| {
        session.find_objects(&[Attribute::Class(class), Attribute::Label(label.as_bytes().to_vec())]).map_err(call)
    };
    let private = of_class(ObjectClass::PRIVATE_KEY)?;
    let key = match private.as_slice() {
        [] => return Err(HsmError::KeyMissing(label.to_owned())),
        [key] => *key,
        more => return Err(HsmError::KeyAmbiguous(label.to_owned(), more.len())),
    };
    let unfit = |why: &str| HsmError::KeyUnfit(label.to_owned(), why.to_owned());
    let wanted = [
        AttributeType::KeyType,
        AttributeType::Sensitive,
        AttributeType::Extractable,
        AttributeType::Sign,
        AttributeType::EcParams,
    ];
    let mut fit = (false, false, false, false, false);
    for attribute in session.get_attributes(key, &wanted).map_err(call)? {
        match attribute {
            Attribute::KeyType(kind) => fit.0 = kind == KeyType::EC,
            Attribute::Sensitive(sensitive) => fit.1 = sensitive,
            Attribute::Extractable(extractable) => fit.2 = !extractable,
            Attribute::Sign(sign) => fit.3 = sign,
            Attribute::EcParams(params) => fit.4 = params == SECP256K1_PARAMS,
            _ => {}
        }
    }
    match fit {
        (false, ..) => return Err(unfit("it is not an elliptic-curve key")),
        (_, false, ..) => return Err(unfit("it is not sensitive (CKA_SENSITIVE false): its value could be read")),
        (_, _, false, ..) => return Err(unfit("it is extractable (CKA_EXTRACTABLE true): it could leave the token")),
        (.., false, _) => return Err(unfit("it may not sign (CKA_SIGN false)")),
        (.., false) => return Err(unfit("its curve is not secp256k1")),
        _ => {}
    }
    let public = of_class(ObjectClass::PUBLIC_KEY)?;
    let [public] = public.as_slice() else {
        return Err(unfit(&format!("{} public keys carry its label, one must", public.len())));
    };
    let point = session.get_attributes(*public, &[AttributeType::EcPoint]).map_err(call)?;
    let Some(Attribute::EcPoint(point)) = point.into_iter().next() else {
        return Err(unfit("its public key has no CKA_EC_POINT"));
    };
    let address = address_of_point(&point).ok_or_else(|| unfit("its public key is no uncompressed secp256k1 point"))?;
    Ok((key, address))
}

/// The address of an uncompressed point `04 ‖ x ‖ y`, as `CKA_EC_POINT` holds it: DER-wrapped in an OCTET STRING
/// (PKCS#11 ≥ 2.20; SoftHSM2), or raw (some tokens).
pub fn address_of_point(point: &[u8]) -> Option<Address> {
    let raw = match point {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        raw if raw.len() == 65 => raw,
        _ => return None,
    };
    let (tag, xy) = raw.split_first()?;
    (*tag == 0x04).then(|| Address::from_raw_public_key(xy))
}

/// The signature `address` made over `digest`, from the token's `r ‖ s`: `s` in the lower half, and the recovery id
/// whichever of the two recovers to `address` (none: the token signed with another key, or not at all).
pub fn recoverable(raw: &[u8], digest: &B256, address: Address) -> Result<Signature, HsmError> {
    let wrong = || HsmError::WrongSignature(address);
    if raw.len() != 64 {
        return Err(wrong());
    }
    let (r, s) = (U256::from_be_slice(&raw[..32]), U256::from_be_slice(&raw[32..]));
    if r.is_zero() || s.is_zero() {
        return Err(wrong());
    }
    for parity in [false, true] {
        let signature = Signature::new(r, s, parity).normalized_s();
        if signature.recover_address_from_prehash(digest).is_ok_and(|a| a == address) {
            return Ok(signature);
        }
    }
    Err(wrong())
}

/// The token's failures and availability, exported with the signer's metrics (`ops/metrics.md`).
#[derive(Clone, Debug, Default)]
pub struct KeyMetrics {
    /// `signer_key_failures_total`: failed calls into the token (signing, or connecting again); each is logged with
    /// its reason.
    pub failures: Counter,
    /// `signer_key_unavailable{address}`: 1 while the key's token cannot sign (the last attempt failed).
    pub unavailable: Family<KeyLabels, Gauge>,
}

/// The label of `signer_key_unavailable`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct KeyLabels {
    /// The key's address.
    pub address: String,
}

/// The signing key in a PKCS#11 token: a [`KeySource`] whose every signature is made by the token.
#[derive(Clone)]
pub struct HsmKey {
    inner: Arc<HsmInner>,
}

struct HsmInner {
    spec: HsmKeySpec,
    module: Arc<Module>,
    /// Sessions not in use.
    idle: Mutex<Vec<Connection>>,
    /// One permit per session that may be open at once.
    permits: Semaphore,
    /// Set while the token is failing: when it began, the last attempt to connect and why it failed.
    failing: Mutex<Option<Failing>>,
    metrics: KeyMetrics,
}

struct Failing {
    since: Instant,
    last_attempt: Instant,
    why: String,
}

impl std::fmt::Debug for HsmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmKey").field("spec", &self.inner.spec).finish_non_exhaustive()
    }
}

impl HsmKey {
    /// Loads the library, connects to the token and checks the key: it exists once, is sensitive, not extractable,
    /// secp256k1, may sign, and has the configured address. Any of these failing refuses the start, saying which.
    /// Runs on a blocking thread.
    pub async fn open(spec: HsmKeySpec, metrics: KeyMetrics) -> Result<HsmKey, KeyError> {
        tokio::task::spawn_blocking(move || HsmKey::open_blocking(spec, metrics))
            .await
            .map_err(|e| KeyError::Token(e.to_string()))?
    }

    fn open_blocking(spec: HsmKeySpec, metrics: KeyMetrics) -> Result<HsmKey, KeyError> {
        check_labels(&spec.token, &spec.key_label).map_err(KeyError::Token)?;
        let refused = |e: HsmError| KeyError::Token(e.to_string());
        let module = Module::open(&spec.module).map_err(refused)?;
        let connection = {
            let current = module.current.read().unwrap_or_else(|p| p.into_inner());
            let (connection, address) = connect(&spec, &module, &current).map_err(refused)?;
            if address != spec.address {
                connection.abandon();
                return Err(refused(HsmError::AddressMismatch {
                    label: spec.key_label.clone(),
                    configured: spec.address,
                    found: address,
                }));
            }
            connection
        };
        if !generated_in_token(&connection) {
            tracing::warn!(
                key = %spec.key_label, address = %spec.address,
                "the key was not generated in this token (CKA_LOCAL, CKA_NEVER_EXTRACTABLE or CKA_ALWAYS_SENSITIVE \
                 false): it existed outside an HSM once; a production key is made in the token (signer hsm-keygen)"
            );
        }
        metrics.unavailable.get_or_create(&KeyLabels { address: format!("{:#x}", spec.address) }).set(0);
        tracing::info!(
            module = %spec.module.display(), token = %spec.token, key = %spec.key_label, address = %spec.address,
            "signing with a key held in a PKCS#11 token"
        );
        let sessions = spec.sessions.max(1);
        let inner = HsmInner {
            spec,
            module,
            idle: Mutex::new(vec![connection]),
            permits: Semaphore::new(sessions),
            failing: Mutex::default(),
            metrics,
        };
        Ok(HsmKey { inner: Arc::new(inner) })
    }

    /// The key's address (checked against the token's public key at start and at every reconnection).
    pub fn address(&self) -> Address {
        self.inner.spec.address
    }
}

/// Whether the token says the key was made in it and never left it (an imported key, or one restored from a wrapped
/// backup, was not).
fn generated_in_token(connection: &Connection) -> bool {
    let wanted = [AttributeType::Local, AttributeType::NeverExtractable, AttributeType::AlwaysSensitive];
    let Ok(attributes) = connection.session().get_attributes(connection.key, &wanted) else { return false };
    attributes.len() == wanted.len()
        && attributes.iter().all(|a| {
            matches!(a, Attribute::Local(true) | Attribute::NeverExtractable(true) | Attribute::AlwaysSensitive(true))
        })
}

fn note_failure(failing: &mut Option<Failing>, e: &HsmError) {
    let now = Instant::now();
    match failing.as_mut() {
        Some(f) => {
            f.last_attempt = now;
            f.why = e.to_string();
        }
        None => *failing = Some(Failing { since: now, last_attempt: now, why: e.to_string() }),
    }
}

fn check_labels(token: &TokenRef, key_label: &str) -> Result<(), String> {
    let bad = |what: &str, label: &str| {
        (label.is_empty() || label.len() > MAX_LABEL_LEN || label.chars().any(char::is_control))
            .then(|| format!("{what} must be 1 to {MAX_LABEL_LEN} printable characters"))
    };
    if let TokenRef::Label(label) = token
        && let Some(e) = bad("the token label", label)
    {
        return Err(e);
    }
    bad("the key label", key_label).map_or(Ok(()), Err)
}

impl HsmInner {
    /// Signs `digest` in the token: with an idle session, or a new one. A session that fails is abandoned and
    /// one new connection is tried at once (an HSM may drop idle sessions), unless an attempt failed less than
    /// [`RECONNECT_INTERVAL`] ago.
    fn sign_blocking(&self, digest: B256) -> Result<Signature, HsmError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(connection) = pooled {
            match self.sign_with(connection, &digest) {
                Ok(signature) => return Ok(signature),
                Err(e) => self.failed(&e),
            }
        }
        let connection = self.reconnect()?;
        self.sign_with(connection, &digest).inspect_err(|e| {
            // A token that lets us in but does not sign is failing too: the next attempt waits its interval.
            self.failed(e);
            self.still_failing(e);
        })
    }

    /// One signature with `connection`, which goes back to the pool if it signed, and is abandoned otherwise.
    fn sign_with(&self, connection: Connection, digest: &B256) -> Result<Signature, HsmError> {
        let current = self.module.current.read().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = current.usable() {
            drop(current);
            connection.abandon();
            return Err(e);
        }
        if connection.generation != current.number {
            drop(current);
            connection.abandon();
            return Err(HsmError::Call {
                function: "C_Initialize".into(),
                rv: "the library was initialised again since this session was opened".into(),
                reason: "library_reinitialised",
            });
        }
        let signed = connection.session().sign(&Mechanism::Ecdsa, connection.key, digest.as_slice()).map_err(call);
        drop(current);
        match signed.and_then(|raw| recoverable(&raw, digest, self.spec.address)) {
            Ok(signature) => {
                self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(connection);
                Ok(signature)
            }
            Err(e) => {
                connection.abandon();
                Err(e)
            }
        }
    }

    /// A new connection to the token, the key checked again; the library initialised again first when the token
    /// cannot be found without. At most one attempt per [`RECONNECT_INTERVAL`] while the token fails.
    fn reconnect(&self) -> Result<Connection, HsmError> {
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = failing.as_ref()
            && f.last_attempt.elapsed() < RECONNECT_INTERVAL
        {
            return Err(HsmError::Call {
                function: "reconnect".into(),
                rv: format!("the token has failed for {:.0?}: {}", f.since.elapsed(), f.why),
                reason: "unavailable",
            });
        }
        let attempt = self.connect_once().or_else(|e| {
            if !e.needs_reinitialisation() {
                return Err(e);
            }
            let seen = self.module.current.read().unwrap_or_else(|p| p.into_inner()).number;
            self.module.reinitialise(seen)?;
            self.connect_once()
        });
        match attempt {
            Ok(connection) => {
                if let Some(f) = failing.take() {
                    tracing::warn!(
                        address = %self.spec.address, down_for = ?f.since.elapsed(),
                        "the signing key's token answers again: signing resumes"
                    );
                }
                self.set_unavailable(false);
                Ok(connection)
            }
            Err(e) => {
                note_failure(&mut failing, &e);
                self.count(&e);
                tracing::error!(
                    address = %self.spec.address, token = %self.spec.token, error = %e, reason = e.reason(),
                    "the signing key's token could not be reached: signing answers 503 until it can"
                );
                self.set_unavailable(true);
                Err(e)
            }
        }
    }

    /// Records that the token failed just now (the next connection waits [`RECONNECT_INTERVAL`]).
    fn still_failing(&self, e: &HsmError) {
        note_failure(&mut self.failing.lock().unwrap_or_else(|p| p.into_inner()), e);
        self.set_unavailable(true);
    }

    fn connect_once(&self) -> Result<Connection, HsmError> {
        let current = self.module.current.read().unwrap_or_else(|p| p.into_inner());
        let (connection, address) = connect(&self.spec, &self.module, &current)?;
        drop(current);
        if address != self.spec.address {
            connection.abandon();
            return Err(HsmError::AddressMismatch {
                label: self.spec.key_label.clone(),
                configured: self.spec.address,
                found: address,
            });
        }
        Ok(connection)
    }

    /// A pooled session failed: every idle one is abandoned too (a token that fails one has usually lost all),
    /// counted and logged.
    fn failed(&self, e: &HsmError) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        idle.into_iter().for_each(Connection::abandon);
        self.count(e);
        tracing::error!(
            address = %self.spec.address, token = %self.spec.token, error = %e, reason = e.reason(),
            "the signing key's token failed to sign: connecting again"
        );
    }

    fn count(&self, _: &HsmError) {
        self.metrics.failures.inc();
    }

    fn set_unavailable(&self, unavailable: bool) {
        let labels = KeyLabels { address: format!("{:#x}", self.spec.address) };
        self.metrics.unavailable.get_or_create(&labels).set(i64::from(unavailable));
    }
}

impl KeySource for HsmKey {
    fn address(&self) -> KeyFuture<'_, Address> {
        let address = self.inner.spec.address;
        Box::pin(async move { Ok(address) })
    }

    fn sign_hash(&self, digest: B256) -> KeyFuture<'_, Signature> {
        Box::pin(async move {
            let _permit =
                self.inner.permits.acquire().await.map_err(|e| KeyError::Unavailable(format!("sessions: {e}")))?;
            let inner = self.inner.clone();
            tokio::task::spawn_blocking(move || inner.sign_blocking(digest))
                .await
                .map_err(|e| KeyError::Unavailable(format!("signing thread: {e}")))?
                .map_err(|e| KeyError::Unavailable(e.to_string()))
        })
    }
}

/// The key ceremony: generates a secp256k1 key pair in the token, labelled `key_label`, the private key sensitive,
/// non-extractable, private and a token object, and returns its address. Refuses a label already used.
pub fn generate(module: &Path, token: &TokenRef, key_label: &str, pin: &SecretString) -> Result<Address, HsmError> {
    check_labels(token, key_label).map_err(|e| HsmError::KeyUnfit(key_label.to_owned(), e))?;
    let module = Module::open(module)?;
    let current = module.current.read().unwrap_or_else(|p| p.into_inner());
    current.usable()?;
    let slot = find_slot(&current.context, token)?;
    let session = current.context.open_rw_session(slot).map_err(call)?;
    login(&session, pin)?;
    let label = key_label.as_bytes().to_vec();
    if !session.find_objects(&[Attribute::Label(label.clone())]).map_err(call)?.is_empty() {
        return Err(HsmError::LabelTaken(key_label.to_owned()));
    }
    let id = session.generate_random_vec(16).map_err(call)?;
    let public = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(SECP256K1_PARAMS.to_vec()),
        Attribute::Label(label.clone()),
        Attribute::Id(id.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Derive(false),
        Attribute::Label(label),
        Attribute::Id(id),
    ];
    session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private).map_err(call)?;
    let (_, address) = find_key(&session, key_label)?;
    Ok(address)
}

/// What the token says of a key's private half: whether reading its value is refused (`CKA_VALUE` sensitive) and
/// its protection attributes, for the tests and the key ceremony's check.
pub fn inspect_private_key(
    module: &Path,
    token: &TokenRef,
    key_label: &str,
    pin: &SecretString,
) -> Result<(AttributeInfo, Vec<Attribute>), HsmError> {
    let module = Module::open(module)?;
    let current = module.current.read().unwrap_or_else(|p| p.into_inner());
    current.usable()?;
    let slot = find_slot(&current.context, token)?;
    let session = current.context.open_ro_session(slot).map_err(call)?;
    login(&session, pin)?;
    let keys = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(key_label.as_bytes().to_vec())])
        .map_err(call)?;
    let key = *keys.first().ok_or_else(|| HsmError::KeyMissing(key_label.to_owned()))?;
    let value = session.get_attribute_info(key, &[AttributeType::Value]).map_err(call)?;
    let flags = [
        AttributeType::Sensitive,
        AttributeType::Extractable,
        AttributeType::AlwaysSensitive,
        AttributeType::NeverExtractable,
        AttributeType::Local,
        AttributeType::Private,
    ];
    let attributes = session.get_attributes(key, &flags).map_err(call)?;
    Ok((value.into_iter().next().unwrap_or(AttributeInfo::Unavailable), attributes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    #[test]
    fn an_ec_point_gives_its_address_der_wrapped_or_raw() {
        let key: PrivateKeySigner =
            "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".parse().unwrap();
        let point = key.credential().verifying_key().to_encoded_point(false);
        let raw = point.as_bytes();
        assert_eq!(address_of_point(raw), Some(key.address()));
        let der = [&[0x04, 0x41][..], raw].concat();
        assert_eq!(address_of_point(&der), Some(key.address()));
        assert_eq!(address_of_point(&raw[..64]), None, "a truncated point");
        assert_eq!(address_of_point(&[&[0x03][..], &raw[1..33]].concat()), None, "a compressed point");
    }

    #[test]
    fn a_high_s_signature_is_normalised_and_its_recovery_id_found() {
        let key: PrivateKeySigner =
            "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".parse().unwrap();
        let digest = B256::repeat_byte(0x42);
        let low = key.sign_hash_sync(&digest).unwrap();
        const N: U256 =
            alloy::primitives::uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);
        for s in [low.s(), N - low.s()] {
            let raw = [low.r().to_be_bytes::<32>(), s.to_be_bytes::<32>()].concat();
            let signature = recoverable(&raw, &digest, key.address()).unwrap();
            assert_eq!(signature, low, "s in the lower half, the recovery id the one that recovers");
            assert!(signature.s() <= N >> 1);
        }
        let raw = [low.r().to_be_bytes::<32>(), low.s().to_be_bytes::<32>()].concat();
        assert!(matches!(recoverable(&raw, &digest, Address::repeat_byte(1)), Err(HsmError::WrongSignature(_))));
        assert!(recoverable(&raw[..63], &digest, key.address()).is_err());
        assert!(recoverable(&[0; 64], &digest, key.address()).is_err());
    }
}
