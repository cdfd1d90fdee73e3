//! The signer with its key in a real SoftHSM2 token, over the real PKCS#11 library (Debian's `softhsm2`, installed by
//! `scripts/setup.sh`): the key ceremony, the key that cannot be exported, the start-up refusals, a token pulled away
//! mid-run (503s, then recovery, every answered signature recorded once), and the whole service suite again with the
//! key in the token.
//!
//! SoftHSM2 reads its configuration (`SOFTHSM2_CONF`: where its tokens live) once, when the library is initialised,
//! and one library is initialised once per process. So each test here makes a token directory of its own, and runs
//! its body in a process of its own — this test binary again, `--exact` that test — with `SOFTHSM2_CONF` pointing at
//! that directory from the start; never the system's token directory.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::primitives::{Address, U256};
use cryptoki::{
    context::{CInitializeArgs, Pkcs11},
    mechanism::Mechanism,
    object::{Attribute, AttributeInfo, AttributeType, ObjectClass},
    session::UserType,
    types::AuthPin,
};
use secrecy::SecretString;
use signer::{
    api::SignResponse,
    client::ClientError,
    config::KeySettings,
    intent::RegisterIntent,
    key::pkcs11::{self, HsmKeySpec, SECP256K1_PARAMS, TokenRef},
    store::Store,
};

use crate::support::*;

/// Set in a test's own process (see the module documentation).
const CHILD: &str = "SIGNER_TEST_HSM_CHILD";
/// Longest wait for anything here.
const LIMIT: Duration = Duration::from_secs(60);

/// SoftHSM2's PKCS#11 library: `SOFTHSM2_MODULE`, or where Debian's package puts it.
pub(crate) fn module() -> PathBuf {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return path.into();
    }
    ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("SoftHSM2 is installed (scripts/setup.sh installs Debian's softhsm2)")
}

/// A SoftHSM2 token of a test's own: its configuration, its token directory, its label and user PIN.
pub(crate) struct SoftHsm {
    _dir: Option<tempfile::TempDir>,
    pub conf: PathBuf,
    pub tokens: PathBuf,
    pub label: String,
    pub pin: String,
}

impl SoftHsm {
    /// A new token in a new temporary directory (`softhsm2-util --init-token`), with a random PIN.
    pub(crate) fn new(label: &str) -> SoftHsm {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .unwrap();
        let pin = format!("{:016x}", rand::random::<u64>());
        let so_pin = format!("{:016x}", rand::random::<u64>());
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", &pin, "--so-pin", &so_pin])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("softhsm2-util runs (scripts/setup.sh installs Debian's softhsm2)");
        assert!(
            out.status.success(),
            "softhsm2-util ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        SoftHsm { _dir: Some(dir), conf, tokens, label: label.to_owned(), pin }
    }

    /// The token a parent made, in its child process (from the environment it was given).
    pub(crate) fn from_env() -> SoftHsm {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the child"));
        SoftHsm {
            _dir: None,
            conf: var("SOFTHSM2_CONF").into(),
            tokens: var("SIGNER_TEST_HSM_TOKENS").into(),
            label: var("SIGNER_TEST_HSM_TOKEN"),
            pin: var("SIGNER_TEST_HSM_PIN"),
        }
    }

    /// The key ceremony through the signer binary: `signer hsm-keygen`, the PIN in its environment; the address it
    /// printed (and checks it printed nothing else).
    pub(crate) fn keygen(&self, key_label: &str) -> Address {
        let out = self.ceremony(key_label);
        assert!(out.status.success(), "hsm-keygen ended with {}: {}", out.status, String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 1, "the ceremony prints the address alone: {printed:?}");
        assert!(lines[0].len() == 42 && lines[0].starts_with("0x"), "{printed:?}");
        lines[0].parse().unwrap()
    }

    fn ceremony(&self, key_label: &str) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_signer"))
            .args(["hsm-keygen", "--module", module().to_str().unwrap(), "--token-label", &self.label])
            .args(["--key-label", key_label])
            .env("SOFTHSM2_CONF", &self.conf)
            .env("SIGNER_HSM_PIN", &self.pin)
            .output()
            .unwrap()
    }

    /// The key `key_label` with `address`, as the signer's configuration names it.
    pub(crate) fn spec(&self, key_label: &str, address: Address) -> HsmKeySpec {
        HsmKeySpec {
            module: module(),
            token: TokenRef::Label(self.label.clone()),
            key_label: key_label.to_owned(),
            pin: SecretString::from(self.pin.clone()),
            address,
            sessions: 4,
        }
    }

    /// The environment a process using this token runs with.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.conf.display().to_string()),
            ("SIGNER_TEST_HSM_TOKENS".into(), self.tokens.display().to_string()),
            ("SIGNER_TEST_HSM_TOKEN".into(), self.label.clone()),
            ("SIGNER_TEST_HSM_PIN".into(), self.pin.clone()),
            ("SIGNER_TEST_HSM_MODULE".into(), module().display().to_string()),
        ]
    }

    /// The token's own directory (SoftHSM2 keeps each token in a directory of the token directory).
    pub(crate) fn token_dir(&self) -> PathBuf {
        let mut dirs = std::fs::read_dir(&self.tokens).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
        assert_eq!(dirs.len(), 1, "one token: {dirs:?}");
        dirs.remove(0)
    }

    /// A session of this process's own, logged in, on a context of its own: for what the signer never does (making
    /// keys it must refuse, trying to read a key). The library is already initialised by the signer, or not.
    fn with_session<T>(&self, read_write: bool, f: impl FnOnce(&cryptoki::session::Session) -> T) -> T {
        let context = Pkcs11::new(module()).unwrap();
        let _ = context.initialize(CInitializeArgs::OsThreads);
        let slot = context
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|s| context.get_token_info(*s).is_ok_and(|t| t.label() == self.label))
            .expect("the token");
        let session = if read_write { context.open_rw_session(slot) } else { context.open_ro_session(slot) }.unwrap();
        let _ = session.login(UserType::User, Some(&AuthPin::new(self.pin.clone())));
        let out = f(&session);
        // Dropping the context would finalise the library under the signer's: it lives as long as the process.
        std::mem::forget(session);
        std::mem::forget(context);
        out
    }
}

/// In the test's own process: true. Otherwise runs `test` of this binary again, in a process of its own with
/// `hsm`'s token in its environment (and `env`), fails with its output if it fails, and returns false.
fn in_own_process(test: &str, hsm: &SoftHsm, env: &[(&str, String)]) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let name = format!("hsm::{test}");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .envs(hsm.env())
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .env(CHILD, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} in its own process ended with {}:\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("1 passed"), "{name} ran in its own process:\n{stdout}");
    false
}

#[test]
fn the_key_ceremony_prints_only_the_address_and_never_reuses_a_label() {
    let hsm = SoftHsm::new("ceremony");
    let first = hsm.keygen("signer-1");
    let second = hsm.keygen("signer-2");
    assert_ne!(first, second, "each ceremony makes a new key");
    let again = hsm.ceremony("signer-1");
    assert!(
        again.status.code().is_some_and(|code| code != 0),
        "a label in use is refused, not a crash: {}",
        again.status
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"), "{again:?}");
    assert!(again.stdout.is_empty());
}

#[test]
fn the_key_cannot_be_exported_from_the_token() {
    let hsm = SoftHsm::new("export");
    let address = hsm.keygen("signer");
    if !in_own_process("the_key_cannot_be_exported_from_the_token", &hsm, &[("T_ADDRESS", address.to_string())]) {
        return;
    }
    let hsm = SoftHsm::from_env();
    let pin = SecretString::from(hsm.pin.clone());
    let token = TokenRef::Label(hsm.label.clone());
    // C_GetAttributeValue of CKA_VALUE: refused as sensitive; the key was made in the token, sensitive and
    // non-extractable, and has always been.
    let (value, flags) = pkcs11::inspect_private_key(&module(), &token, "signer", &pin).unwrap();
    assert!(matches!(value, AttributeInfo::Sensitive), "the private key's value cannot be read: {value:?}");
    for expected in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::AlwaysSensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::Local(true),
        Attribute::Private(true),
    ] {
        assert!(flags.contains(&expected), "{expected:?} in {flags:?}");
    }
    hsm.with_session(true, |session| {
        let class = Attribute::Class(ObjectClass::PRIVATE_KEY);
        let key = session.find_objects(&[class, Attribute::Label(b"signer".to_vec())]).unwrap()[0];
        // Asked for its value anyway: nothing comes back.
        assert!(session.get_attributes(key, &[AttributeType::Value]).unwrap().is_empty());
        // Wrapped under a key of ours: refused (CKR_KEY_UNEXTRACTABLE).
        let wrapping = session
            .generate_key(&Mechanism::AesKeyGen, &[Attribute::ValueLen(32u64.into()), Attribute::Wrap(true)])
            .unwrap();
        let wrapped = session.wrap_key(&Mechanism::AesKeyWrapPad, wrapping, key);
        assert!(
            matches!(wrapped, Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::KeyUnextractable, _))),
            "{wrapped:?}"
        );
        // Made extractable or readable: refused, those attributes only ever tighten.
        assert!(session.update_attributes(key, &[Attribute::Extractable(true)]).is_err());
        assert!(session.update_attributes(key, &[Attribute::Sensitive(false)]).is_err());
    });
    // Only its public half is readable: its address is the one the ceremony printed.
    let address: Address = std::env::var("T_ADDRESS").unwrap().parse().unwrap();
    hsm.with_session(false, |session| {
        let class = Attribute::Class(ObjectClass::PUBLIC_KEY);
        let public = session.find_objects(&[class, Attribute::Label(b"signer".to_vec())]).unwrap()[0];
        let Some(Attribute::EcPoint(point)) =
            session.get_attributes(public, &[AttributeType::EcPoint]).unwrap().into_iter().next()
        else {
            panic!("no CKA_EC_POINT")
        };
        assert_eq!(pkcs11::address_of_point(&point), Some(address));
    });
}

/// The signer binary started on `config`: waits until it exits (it must) and returns what it wrote to stderr.
fn refused_start(hsm: &SoftHsm, config: &Path, pin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signer"))
        .args(["--config", config.to_str().unwrap()])
        .envs(hsm.env())
        .env("T_HSM_PIN", pin)
        .env("T_BACKEND_SECRET", CALLER_SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the signer started with {}", std::fs::read_to_string(config).unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    // Refused: an exit code, not a crash.
    assert!(status.code().is_some_and(|code| code != 0), "the refused start ended with {status}: {stderr}");
    stderr
}

/// A signer config file with its key in `token`, labelled `key`, of `address`.
fn config_file(dir: &Path, token: &str, key: &str, address: Address, pin: &str) -> PathBuf {
    let path = dir.join(format!("signer-{token}-{key}-{}.toml", rand::random::<u32>()));
    let text = format!(
        r#"[server]
bind = "127.0.0.1:0"
[store]
path = "{store}"
[key.pkcs11]
module = "{module}"
token_label = "{token}"
key_label = "{key}"
address = "{address}"
pin = {pin}
[auth]
callers = [{{ id = "backend", secret = {{ env = "T_BACKEND_SECRET" }} }}]
[policy]
default_ttl_secs = 600
max_deadline_horizon_secs = 3600
max_batch_entries = 5
"#,
        store = dir.join("signer.sqlite").display(),
        module = module().display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_signer_refuses_to_start_without_its_token_pin_or_key_or_with_a_key_that_could_leave() {
    let hsm = SoftHsm::new("refusals");
    let address = hsm.keygen("signer");
    let env = [("T_ADDRESS", address.to_string())];
    if !in_own_process(
        "the_signer_refuses_to_start_without_its_token_pin_or_key_or_with_a_key_that_could_leave",
        &hsm,
        &env,
    ) {
        return;
    }
    let hsm = SoftHsm::from_env();
    let address: Address = std::env::var("T_ADDRESS").unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pin_env = r#"{ env = "T_HSM_PIN" }"#;
    let start = |token: &str, key: &str, address: Address, pin: &str| {
        refused_start(&hsm, &config_file(dir.path(), token, key, address, pin_env), pin)
    };

    // A key made outside the ceremony, the way the signer must refuse: extractable, or not sensitive.
    hsm.with_session(true, |session| {
        for (label, sensitive, extractable) in [("extractable", true, true), ("readable", false, false)] {
            let public = [
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::EcParams(SECP256K1_PARAMS.to_vec()),
                Attribute::Label(label.as_bytes().to_vec()),
            ];
            let private = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(sensitive),
                Attribute::Extractable(extractable),
                Attribute::Sign(true),
                Attribute::Label(label.as_bytes().to_vec()),
            ];
            session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private).unwrap();
        }
    });

    let out = start("no-such-token", "signer", address, &hsm.pin);
    assert!(out.contains("no token \\\"no-such-token\\\"") || out.contains("no token \"no-such-token\""), "{out}");
    let out = start(&hsm.label, "signer", address, "0000000000000000");
    assert!(out.contains("refused the PIN"), "{out}");
    let out = start(&hsm.label, "no-such-key", address, &hsm.pin);
    assert!(out.contains("no private key labelled"), "{out}");
    let out = start(&hsm.label, "extractable", address, &hsm.pin);
    assert!(out.contains("it is extractable"), "{out}");
    let out = start(&hsm.label, "readable", address, &hsm.pin);
    assert!(out.contains("it is not sensitive"), "{out}");
    let other = Address::repeat_byte(0x42);
    let out = start(&hsm.label, "signer", other, &hsm.pin);
    assert!(out.contains(&format!("has address {address}")) && out.contains(&other.to_string()), "{out}");

    // The PIN from a file readable by others: refused before the token is touched; at 0600 it starts.
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, &hsm.pin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let from_file = format!(r#"{{ file = "{}" }}"#, pin_file.display());
    let config = config_file(dir.path(), &hsm.label, "signer", address, &from_file);
    let out = refused_start(&hsm, &config, "");
    assert!(out.contains("mode 0644") && out.contains("chmod 600"), "{out}");
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut running = Command::new(env!("CARGO_BIN_EXE_signer"))
        .args(["--config", config.to_str().unwrap()])
        .envs(hsm.env())
        .env("T_BACKEND_SECRET", CALLER_SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Its log (stdout) read on a thread of its own, so that a silent process cannot hold the test past its deadline.
    let (lines, logged) = std::sync::mpsc::channel();
    let stdout = running.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + LIMIT;
    let mut log = String::new();
    while !log.contains("signer listening") {
        assert!(Instant::now() < deadline && running.try_wait().unwrap().is_none(), "did not start: {log}");
        if let Ok(line) = logged.recv_timeout(Duration::from_millis(100)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    running.kill().unwrap();
    running.wait().unwrap();
    assert!(log.contains(&format!("{address}")), "it signs with the token's key: {log}");

    // A PIN written in the configuration file itself is not a thing the file can hold.
    let literal = config_file(dir.path(), &hsm.label, "signer", address, &format!("\"{}\"", hsm.pin));
    let out = refused_start(&hsm, &literal, "");
    assert!(out.contains("pin"), "{out}");
}

/// What the load got for one intent.
struct Outcome {
    intent: RegisterIntent,
    answer: Result<SignResponse, (u16, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_pulled_away_mid_run_answers_503_then_recovers_and_every_answer_is_recorded_once() {
    let hsm = SoftHsm::new("pulled");
    let address = hsm.keygen("signer");
    let env = [("T_ADDRESS", address.to_string())];
    if !in_own_process(
        "a_token_pulled_away_mid_run_answers_503_then_recovers_and_every_answer_is_recorded_once",
        &hsm,
        &env,
    ) {
        return;
    }
    let hsm = SoftHsm::from_env();
    let address: Address = std::env::var("T_ADDRESS").unwrap().parse().unwrap();
    let logs = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path().join("signer.sqlite"));
    settings.key = KeySettings::Pkcs11(hsm.spec("signer", address));
    let app = Arc::new(TestApp::spawn(settings).await);

    // A steady load from 4 callers sharing one client: even requests name their nonce, odd ones let the signer
    // allocate one.
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let (next, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (app, outcomes, next, stop) = (app.clone(), outcomes.clone(), next.clone(), stop.clone());
        load.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed) as u64;
                if i >= 5_000 {
                    return;
                }
                let intent = register(1 + u128::from(i % 7), i.is_multiple_of(2).then_some(10_000 + i));
                let answer = match app.client.sign_register(&intent).await {
                    Ok(signed) => Ok(signed),
                    Err(ClientError::Refused { status, body }) => Err((status, body.code)),
                    Err(e) => panic!("{e}"),
                };
                outcomes.lock().unwrap().push(Outcome { intent, answer });
            }
        });
    }
    let count = |ok: bool| {
        let outcomes = outcomes.lock().unwrap();
        outcomes.iter().filter(|o| o.answer.is_ok() == ok).count()
    };
    until("signatures before", || count(true) >= 20).await;

    // The token pulled away mid-run: its directory leaves SoftHSM2's token directory. The library answers
    // CKR_OBJECT_HANDLE_INVALID for the key, and no longer finds the token, even initialised again.
    let token_dir = hsm.token_dir();
    let away = hsm.tokens.parent().unwrap().join("away");
    std::fs::rename(&token_dir, &away).unwrap();
    let failed_before = count(false);
    until("503s while the token is away", || count(false) >= failed_before + 10).await;
    let unavailable = format!("signer_key_unavailable{{address=\"{address:#x}\"}} 1");
    assert!(metrics_text(&app).await.contains(&unavailable), "the gauge says the key cannot sign");

    // Back: within a second or so the signer connects again, initialising the library again to find it.
    std::fs::rename(&away, &token_dir).unwrap();
    let signed_before = count(true);
    until("signatures after", || count(true) >= signed_before + 20).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = load.join_next().await {
        done.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.answer.is_err()).collect();
    let answered: Vec<&SignResponse> = outcomes.iter().filter_map(|o| o.answer.as_ref().ok()).collect();
    assert!(failed.len() >= 10 && answered.len() >= 40, "{} failed, {} answered", failed.len(), answered.len());
    for o in &failed {
        assert_eq!(o.answer.as_ref().unwrap_err(), &(503, "key_unavailable".to_owned()), "a failing token is a 503");
    }
    // Every answered signature is the token's key's, recorded once with what was answered; nothing was recorded for
    // a refused one.
    let store = Store::open(&app.store_path).await.unwrap();
    for signed in &answered {
        assert_eq!(recovered(signed), address);
        let record = store.find(target(), signed.nonce.0).await.unwrap().expect("an answered signature is recorded");
        assert_eq!((record.digest, record.signature.as_bytes().to_vec()), (signed.digest, signed.signature.to_vec()));
    }
    assert_eq!(store.count_signed().await.unwrap(), answered.len() as u64, "one record per answered signature");
    for o in &failed {
        if let Some(nonce) = o.intent.nonce {
            assert!(store.find(target(), nonce.0).await.unwrap().is_none(), "nothing recorded for a 503");
        }
    }
    let text = metrics_text(&app).await;
    let refused = format!("signer_requests_total{{kind=\"register\",outcome=\"key_unavailable\"}} {}\n", failed.len());
    assert!(text.contains(&refused), "every 503 counted: {text}");
    assert!(text.contains(&format!("signer_key_unavailable{{address=\"{address:#x}\"}} 0\n")), "{text}");
    let failures = sample_sum(&text, "signer_key_failures_total");
    assert!(failures >= 2.0, "the token's failures are counted: {text}");
    let log = logs.lock().unwrap().clone();
    let log = String::from_utf8_lossy(&log);
    assert!(log.contains("the signing key's token failed to sign"), "logged: {log}");
    assert!(log.contains("could not be reached"), "logged");
    assert!(log.contains("answers again"), "logged");

    // The refused payloads, asked again, are signed now, once each; the answered ones again get their signature.
    for o in &failed {
        let signed = app.client.sign_register(&o.intent).await.unwrap();
        assert_eq!(recovered(&signed), address);
    }
    for o in outcomes.iter().filter(|o| o.intent.nonce.is_some()) {
        let Ok(first) = &o.answer else { continue };
        let again = app.client.sign_register(&serde_json::from_value(first.payload.clone()).unwrap()).await.unwrap();
        assert_eq!((again.nonce, again.signature.clone()), (first.nonce, first.signature.clone()));
    }
    assert_eq!(store.count_signed().await.unwrap(), (answered.len() + failed.len()) as u64);

    // Another real failure: the library finalised under the signer (C_Finalize through a second handle of this
    // process). The next signature finds its session dead, initialises the library again and signs: no 503.
    drop(Pkcs11::new(module()).unwrap());
    for i in 0..5 {
        let signed = app.client.sign_register(&register(1, Some(90_000 + i))).await.unwrap();
        assert_eq!(recovered(&signed), address);
    }
    let text = metrics_text(&app).await;
    assert!(sample_sum(&text, "signer_key_failures_total") > failures, "counted: {text}");
    let log = logs.lock().unwrap().clone();
    assert!(String::from_utf8_lossy(&log).contains("cryptoki_not_initialized"), "logged with its reason");
    Arc::into_inner(app).expect("the load is done").stop().await;
}

/// Polls `done` until it holds; fails the test after [`LIMIT`].
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn target() -> signer::intent::Target {
    signer::intent::Target { chain_id: CHAIN_ID, contract: CONTRACT }
}

async fn metrics_text(app: &TestApp) -> String {
    app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap()
}

/// The sum of every series of `name` in `text`.
fn sample_sum(text: &str, name: &str) -> f64 {
    text.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok()).sum()
}

/// Every log line of this process, as JSON lines, into a buffer the test reads (one test per process here).
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer(Arc::default());
    let writer = buffer.clone();
    tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).init();
    buffer.0
}

#[test]
fn tron_and_evm_payloads_are_signed_by_the_same_token_key() {
    let hsm = SoftHsm::new("tron");
    let address = hsm.keygen("signer");
    if !in_own_process(
        "tron_and_evm_payloads_are_signed_by_the_same_token_key",
        &hsm,
        &[("T_ADDRESS", address.to_string())],
    ) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let hsm = SoftHsm::from_env();
        let address: Address = std::env::var("T_ADDRESS").unwrap().parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path().join("signer.sqlite"));
        settings.key = KeySettings::Pkcs11(hsm.spec("signer", address));
        // TRON's Nile beside anvil's chain: the same contract address, for the test's sake.
        let tron = policy(anvil_tests::devchain::NILE_CHAIN_ID, CONTRACT).chains.remove(0);
        settings.policy.chains.push(tron);
        let app = TestApp::spawn(settings).await;
        assert_eq!(app.client.signer_address().await.unwrap(), address);
        let evm = app.client.sign_register(&register(5, Some(1))).await.unwrap();
        let mut on_tron = register(5, Some(1));
        on_tron.chain_id = anvil_tests::devchain::NILE_CHAIN_ID;
        let tron_signed = app.client.sign_register(&on_tron).await.unwrap();
        assert_ne!(evm.digest, tron_signed.digest, "another domain: TRON's chain id, masked to 32 bits");
        let expected =
            abi::SettlementDomain::new(anvil_tests::devchain::NILE_CHAIN_ID, CONTRACT).digest(&abi::Registration {
                user: USER,
                sponsor: SPONSOR,
                token: Address::ZERO,
                amount: U256::from(5),
                nonce: U256::from(1),
                deadline: U256::from(tron_signed.deadline),
            });
        assert_eq!(tron_signed.digest, expected);
        for signed in [&evm, &tron_signed] {
            assert_eq!((recovered(signed), signed.signer.0), (address, address));
        }
        app.stop().await;
    });
}

#[test]
fn the_service_suite_passes_with_the_key_in_softhsm2() {
    if std::env::var_os(HSM_SUITE).is_some() || std::env::var_os(CHILD).is_some() {
        return;
    }
    let hsm = SoftHsm::new("suite");
    let address = hsm.keygen("signer");
    // This binary again, every test but this module's, each signer on the token's key.
    let started = Instant::now();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--skip", "hsm::"])
        .envs(hsm.env())
        .env(HSM_SUITE, "1")
        .env("SIGNER_TEST_HSM_KEY", "signer")
        .env("SIGNER_TEST_HSM_ADDRESS", address.to_string())
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the suite with the key in SoftHSM2 ended with {}:\n{stdout}\n{stderr}", out.status);
    let summary = stdout.lines().rev().find(|l| l.starts_with("test result:")).unwrap_or_default().to_owned();
    eprintln!("the service suite with the key in SoftHSM2 ({address}): {summary} in {:.0?}", started.elapsed());
    assert!(summary.contains(" 0 failed") && !summary.contains(" 0 passed"), "{summary}");
}

/// The signer binary on `config`, its log (stdout) read on a thread of its own so that a silent process cannot hold
/// the test past its deadline; returns once it logs that it listens, with the address it listens on.
fn started_signer(hsm: &SoftHsm, config: &Path) -> (std::process::Child, String, std::sync::mpsc::Receiver<String>) {
    let mut running = Command::new(env!("CARGO_BIN_EXE_signer"))
        .args(["--config", config.to_str().unwrap()])
        .envs(hsm.env())
        .env("T_HSM_PIN", &hsm.pin)
        .env("T_BACKEND_SECRET", CALLER_SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (lines, logged) = std::sync::mpsc::channel();
    let stdout = running.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + LIMIT;
    let mut log = String::new();
    loop {
        let ended = running.try_wait().unwrap();
        assert!(Instant::now() < deadline && ended.is_none(), "did not start ({ended:?}): {log}");
        let Ok(line) = logged.recv_timeout(Duration::from_millis(100)) else { continue };
        if line.contains("signer listening") {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            let address = value["fields"]["address"].as_str().or_else(|| value["address"].as_str());
            let address = address.unwrap_or_else(|| panic!("no address in {line}")).to_owned();
            return (running, address, logged);
        }
        log.push_str(&line);
        log.push('\n');
    }
}

/// Waits for `child` to end, at most [`LIMIT`].
fn ended(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the signer did not end within {LIMIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stopped (SIGTERM) while requests are still being signed in the token, the signer ends with status 0, every time:
/// its writer, which holds the key's sessions, ends before the process does, and the library is finalised before the
/// process's exit handlers tear SoftHSM2 down (a session closed under them crashed the process: issue 64).
#[test]
fn the_signer_stopped_while_it_signs_in_the_token_ends_cleanly_every_time() {
    const ROUNDS: usize = 30;
    let hsm = SoftHsm::new("shutdown");
    let address = hsm.keygen("signer");
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut endings = Vec::new();
    for round in 0..ROUNDS {
        let config = config_file(dir.path(), &hsm.label, "signer", address, r#"{ env = "T_HSM_PIN" }"#);
        // The chain the registrations are for, without a node of its own (deadlines by the host's clock).
        let chain = format!(
            "[[policy.chains]]\nchain_id = {CHAIN_ID}\ncontracts = [\"{CONTRACT}\"]\ntreasury_recipients = []\n\
             [[policy.chains.assets]]\ntoken = \"{}\"\nper_payload_cap = \"{PER_PAYLOAD_CAP}\"\n\
             per_batch_cap = \"{PER_BATCH_CAP}\"\ndaily_outflow_cap = \"{DAILY_OUTFLOW_CAP}\"\n",
            Address::ZERO
        );
        std::fs::write(&config, std::fs::read_to_string(&config).unwrap() + &chain).unwrap();
        let (mut signer, listening, _log) = started_signer(&hsm, &config);
        let client =
            signer::client::SignerClient::new(format!("http://{listening}"), CALLER, SecretString::from(CALLER_SECRET));
        let answered = runtime.block_on(async {
            let mut load = tokio::task::JoinSet::new();
            for n in 0..64u64 {
                let client = client.clone();
                let nonce = (round as u64) * 1_000 + n;
                load.spawn(async move { client.sign_register(&register(5, Some(nonce))).await.is_ok() });
            }
            let mut answered = 0;
            while answered < 4 {
                match load.join_next().await {
                    Some(Ok(true)) => answered += 1,
                    Some(_) => {}
                    None => break,
                }
            }
            // The callers give up (their connections close: nothing holds the server's graceful end), and the signer
            // is stopped while the writer still signs what they asked for.
            load.abort_all();
            while load.join_next().await.is_some() {}
            let term = Command::new("kill").args(["-TERM", &signer.id().to_string()]).status().unwrap();
            assert!(term.success(), "kill -TERM: {term}");
            answered
        });
        assert!(answered >= 4, "round {round}: the signer signed {answered} before it was stopped");
        endings.push(ended(&mut signer));
    }
    let failed: Vec<String> =
        endings.iter().enumerate().filter(|(_, s)| !s.success()).map(|(i, s)| format!("round {i}: {s}")).collect();
    assert!(
        failed.is_empty(),
        "the signer did not end cleanly after SIGTERM in {} of {ROUNDS} rounds: {failed:?}",
        failed.len()
    );
}

/// A test process whose signer is still signing in the token when its test ends (the callers gone, the service
/// dropped rather than stopped) ends cleanly, every time: the test's signer stops for good before the test ends (the
/// harness waits for it), so nothing closes a token session under SoftHSM2's teardown at exit. Before issue 64 about
/// one such process in five died of SIGSEGV after its test had passed.
#[test]
fn a_test_process_ending_while_its_signer_signs_in_the_token_ends_cleanly_every_time() {
    const ROUNDS: usize = 40;
    const NAME: &str = "hsm::a_test_process_ending_while_its_signer_signs_in_the_token_ends_cleanly_every_time";
    if std::env::var_os(CHILD).is_none() {
        let hsm = SoftHsm::new("ending");
        let address = hsm.keygen("signer");
        let mut failed = Vec::new();
        for round in 0..ROUNDS {
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
                .envs(hsm.env())
                .env("T_ADDRESS", address.to_string())
                .env(CHILD, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || !stdout.contains("1 passed") {
                let stderr = String::from_utf8_lossy(&out.stderr);
                failed.push(format!("round {round} ended with {}:\n{stdout}\n{stderr}", out.status));
            }
        }
        assert!(
            failed.is_empty(),
            "{} of {ROUNDS} processes did not end cleanly:\n{}",
            failed.len(),
            failed.join("\n")
        );
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let hsm = SoftHsm::from_env();
        let address: Address = std::env::var("T_ADDRESS").unwrap().parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path().join("signer.sqlite"));
        settings.key = KeySettings::Pkcs11(hsm.spec("signer", address));
        let app = TestApp::spawn(settings).await;
        let mut load = tokio::task::JoinSet::new();
        for n in 0..200u64 {
            let client = app.client.clone();
            load.spawn(async move { client.sign_register(&register(5, Some(1_000 + n))).await.is_ok() });
        }
        let mut answered = 0;
        while answered < 20 {
            match load.join_next().await {
                Some(Ok(true)) => answered += 1,
                Some(_) => {}
                None => break,
            }
        }
        assert_eq!(answered, 20, "the signer signs in the token");
        // The test ends here: the callers and the service are dropped, the writer still has work queued.
    });
}
