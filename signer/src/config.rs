//! Configuration: a TOML file, with `SIGNER_…` environment variables on top (the loader every service uses,
//! [`service_kit::config`]). Secrets (keystore passphrase,
//! caller secrets, dev key) are never in the file itself: the file names the env var or file holding them.

use std::{net::SocketAddr, path::PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    auth::{Caller, Permissions},
    intent::Addr,
    key::pkcs11::{HsmKeySpec, TokenRef},
    policy::PolicyConfig,
};

/// Everything `startup::run` needs, secrets resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The address the HTTP server listens on.
    pub bind: SocketAddr,
    /// Timeouts and the connection limit of the HTTP server.
    pub limits: service_kit::serve::ServerLimits,
    /// The SQLite file holding the double-sign record.
    pub store_path: PathBuf,
    /// Where the signing key comes from.
    pub key: KeySettings,
    /// During a rotation of the contract's signer (`ops/signer-rotation.md`): the key it is being rotated to. The
    /// signer then holds both and signs for each contract with the one its `signer()` names.
    pub next_key: Option<KeySettings>,
    /// The callers that may authenticate, secrets resolved.
    pub callers: Vec<Caller>,
    /// How many seconds a request's timestamp may differ from the signer's clock.
    pub auth_window_secs: u64,
    /// What the signer may sign.
    pub policy: PolicyConfig,
}

impl Settings {
    /// A development signer on a free loopback port, signing with a raw `dev_key` (development and tests only,
    /// as `--insecure-dev-key`), with default limits and a 30 s authentication window.
    pub fn development(store_path: PathBuf, dev_key: SecretString, callers: Vec<Caller>, policy: PolicyConfig) -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            limits: Default::default(),
            store_path,
            key: KeySettings::InsecureDevKey(dev_key),
            next_key: None,
            callers,
            auth_window_secs: 30,
            policy,
        }
    }
}

/// The signing key's source, its secret resolved.
#[derive(Clone, Debug)]
pub enum KeySettings {
    /// An encrypted JSON keystore file.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// The passphrase that decrypts it.
        passphrase: SecretString,
    },
    /// A raw hex key: only with the explicit `--insecure-dev-key` opt-in.
    InsecureDevKey(SecretString),
    /// A key held in a PKCS#11 token (an HSM), never leaving it.
    Pkcs11(HsmKeySpec),
}

/// The config file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[server]`: bind address and HTTP limits; defaults when the section is absent.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[store]`: the double-sign record.
    pub store: StoreConfig,
    /// `[key]`: the signing key.
    pub key: KeyConfig,
    /// `[auth]`: the authentication window and the callers.
    pub auth: AuthConfig,
    /// `[policy]`: what may be signed.
    pub policy: PolicyConfig,
}

/// `[server]`: the HTTP server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on; default `127.0.0.1:8700`. `SIGNER_BIND` overrides it.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// Slow and excess clients (`[server.limits]`: header read and request timeouts, connections).
    #[serde(default)]
    pub limits: service_kit::serve::ServerLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { bind: default_bind(), limits: Default::default() }
    }
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8700))
}

/// `[store]`: the double-sign record.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file; `SIGNER_STORE_PATH` overrides it.
    pub path: PathBuf,
}

/// Where a secret comes from: an environment variable or a file (first line, trimmed).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The environment variable holding the secret.
    pub env: Option<String>,
    /// The file holding the secret. Exactly one of `env` and `file` must be given.
    pub file: Option<PathBuf>,
}

/// `[key]`: the signing key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The encrypted JSON keystore file; `SIGNER_KEYSTORE` overrides it. Needs `passphrase`.
    pub keystore: Option<PathBuf>,
    /// Where the keystore's passphrase is.
    pub passphrase: Option<SecretRef>,
    /// Where the raw dev key is; honoured only with `--insecure-dev-key`.
    pub insecure_dev_key: Option<SecretRef>,
    /// `[key.pkcs11]`: the key in a PKCS#11 token (an HSM). Exclusive with `keystore`.
    pub pkcs11: Option<Pkcs11Config>,
    /// `[key.next]`: during a rotation of the contract's signer, the key it is being rotated to.
    pub next: Option<NextKeyConfig>,
}

/// `[key.next]`: the second key held during a rotation: a keystore or a PKCS#11 key, as `[key]` gives them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextKeyConfig {
    /// An encrypted JSON keystore file; needs `passphrase`.
    pub keystore: Option<PathBuf>,
    /// Where its passphrase is.
    pub passphrase: Option<SecretRef>,
    /// `[key.next.pkcs11]`: a key in a PKCS#11 token.
    pub pkcs11: Option<Pkcs11Config>,
}

/// `[key.pkcs11]`: where the token's key is. The PIN is never in the file: `pin` names the environment variable or
/// the file (readable by its owner alone) holding it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 library (SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token's label; exactly one of `token_label` and `slot`.
    pub token_label: Option<String>,
    /// The token's slot id.
    pub slot: Option<u64>,
    /// The key pair's label (`CKA_LABEL`), as `signer hsm-keygen` created it.
    pub key_label: String,
    /// The key's address as the key ceremony printed it: the signer refuses to start on any other.
    pub address: Addr,
    /// Where the user PIN is: `{ env = "…" }` or `{ file = "…" }` (mode 0600 or stricter).
    pub pin: SecretRef,
    /// Most sessions open at once (concurrent signatures); default 4.
    #[serde(default = "default_sessions")]
    pub sessions: usize,
}

fn default_sessions() -> usize {
    4
}

impl Pkcs11Config {
    fn resolve(&self, env: &dyn Env) -> Result<HsmKeySpec, ConfigError> {
        let token = match (&self.token_label, self.slot) {
            (Some(label), None) => TokenRef::Label(label.clone()),
            (None, Some(slot)) => TokenRef::Slot(slot),
            _ => return Err(ConfigError::Invalid("[key.pkcs11]: give exactly one of `token_label` or `slot`".into())),
        };
        if self.sessions == 0 || self.sessions > 256 {
            return Err(ConfigError::Invalid("[key.pkcs11] sessions: 1 to 256".into()));
        }
        Ok(HsmKeySpec {
            module: self.module.clone(),
            token,
            key_label: self.key_label.clone(),
            pin: self.pin.resolve_restricted("[key.pkcs11] pin", env)?,
            address: self.address.0,
            sessions: self.sessions,
        })
    }
}

impl NextKeyConfig {
    fn resolve(&self, env: &dyn Env) -> Result<KeySettings, ConfigError> {
        match (&self.keystore, &self.pkcs11) {
            (Some(path), None) => {
                let passphrase = self
                    .passphrase
                    .as_ref()
                    .ok_or_else(|| ConfigError::Invalid("[key.next] keystore needs a passphrase".into()))?
                    .resolve("[key.next] keystore passphrase", env)?;
                Ok(KeySettings::Keystore { path: path.clone(), passphrase })
            }
            (None, Some(pkcs11)) => Ok(KeySettings::Pkcs11(pkcs11.resolve(env)?)),
            _ => Err(ConfigError::Invalid("[key.next]: give exactly one of `keystore` or `[key.next.pkcs11]`".into())),
        }
    }
}

/// `[auth]`: caller authentication.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// How many seconds a request's timestamp may differ from the signer's clock; default 30.
    #[serde(default = "default_window")]
    pub window_secs: u64,
    /// The callers: at least one, each id listed once.
    pub callers: Vec<CallerConfig>,
}

fn default_window() -> u64 {
    30
}

/// One entry of `[auth] callers`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerConfig {
    /// The caller's id, as sent in `x-signer-caller`.
    pub id: String,
    /// Where its shared secret is.
    pub secret: SecretRef,
    /// The payload kinds this caller may ask for; absent = all. An unknown name fails loading.
    #[serde(default)]
    pub kinds: Option<Permissions>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file or a secret's file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config text is not TOML, or a value (from the file or the environment) does not fit its field.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The config file (`(configuration text)` when parsed from a string).
        path: PathBuf,
        /// The parser's error.
        source: Box<toml::de::Error>,
    },
    /// A value is missing, conflicting or refused, e.g. an unset secret variable or no caller.
    #[error("{0}")]
    Invalid(String),
}

/// The loader's refusal as this crate's: a file or a value that does not fit is a parse error of `path`.
fn parse_error(path: &std::path::Path, e: service_kit::config::ConfigError) -> ConfigError {
    use serde::de::Error as _;
    use service_kit::config::ConfigError as Loader;
    let source = match e {
        Loader::Invalid(source) => source,
        Loader::Field(at, message) => toml::de::Error::custom(format!("{at}: {message}")),
        other => toml::de::Error::custom(other.to_string()),
    };
    ConfigError::Parse { path: path.to_path_buf(), source: Box::new(source) }
}

/// Reads environment variables; a seam so tests do not mutate the process environment.
pub trait Env {
    /// The value of variable `name`, if it is set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Clone, Copy, Debug)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A token's PIN from `source`: an environment variable, or a file readable by its owner alone (mode 0600 or
/// stricter); the key ceremony (`signer hsm-keygen`) reads it so, as the service does.
pub fn token_pin(source: &SecretRef, env: &dyn Env) -> Result<SecretString, ConfigError> {
    source.resolve_restricted("PIN", env)
}

impl SecretRef {
    /// As [`Self::resolve`], and a file must be readable by its owner alone (mode 0600 or stricter): a key's PIN.
    fn resolve_restricted(&self, what: &str, env: &dyn Env) -> Result<SecretString, ConfigError> {
        if let Some(path) = &self.file {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ConfigError::Invalid(format!(
                    "{what}: {} has mode {mode:04o}; it must be readable by its owner alone (chmod 600)",
                    path.display()
                )));
            }
        }
        self.resolve(what, env)
    }

    fn resolve(&self, what: &str, env: &dyn Env) -> Result<SecretString, ConfigError> {
        match (&self.env, &self.file) {
            (Some(var), None) => env
                .var(var)
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or_else(|| ConfigError::Invalid(format!("{what}: environment variable {var} is not set"))),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                let line = text.lines().next().unwrap_or_default().trim().to_owned();
                if line.is_empty() {
                    return Err(ConfigError::Invalid(format!("{what}: {} is empty", path.display())));
                }
                Ok(SecretString::from(line))
            }
            _ => Err(ConfigError::Invalid(format!("{what}: give exactly one of `env` or `file`"))),
        }
    }
}

impl FileConfig {
    /// Reads `path` overlaid with the process environment ([`Self::from_sources`]).
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::overlaid(&text, std::env::vars()).map_err(|e| parse_error(path, e))
    }

    /// The file text overlaid with `SIGNER_<SECTION>__<KEY>` variables through the loader every service uses
    /// ([`service_kit::config`]: `SIGNER_SERVER__BIND`, `SIGNER_AUTH__WINDOW_SECS=45`, each typed by the field it
    /// sets). Only variables naming one of the file's sections take part: the secrets the file names
    /// (`SIGNER_KEYSTORE_PASSPHRASE`, …) and the older `SIGNER_BIND`, `SIGNER_STORE_PATH` and `SIGNER_KEYSTORE`
    /// (applied by [`Self::resolve`]) are not keys of the file.
    pub fn from_sources(text: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        Self::overlaid(text, env).map_err(|e| parse_error(std::path::Path::new("(configuration text)"), e))
    }

    fn overlaid(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, service_kit::config::ConfigError> {
        const SECTIONS: [&str; 5] = ["SERVER", "STORE", "KEY", "AUTH", "POLICY"];
        let keys = env.into_iter().filter(|(name, _)| {
            name.strip_prefix("SIGNER_")
                .and_then(|rest| rest.split_once("__"))
                .is_some_and(|(section, _)| SECTIONS.contains(&section))
        });
        service_kit::config::from_sources(text, "SIGNER_", keys)
    }

    /// Applies `SIGNER_BIND`, `SIGNER_STORE_PATH` and `SIGNER_KEYSTORE` and resolves every secret.
    pub fn resolve(mut self, env: &dyn Env, insecure_dev_key: bool) -> Result<Settings, ConfigError> {
        if let Some(bind) = env.var("SIGNER_BIND") {
            self.server.bind = bind.parse().map_err(|e| ConfigError::Invalid(format!("SIGNER_BIND {bind:?}: {e}")))?;
        }
        if let Some(path) = env.var("SIGNER_STORE_PATH") {
            self.store.path = path.into();
        }
        if let Some(path) = env.var("SIGNER_KEYSTORE") {
            self.key.keystore = Some(path.into());
        }
        let key = match (insecure_dev_key, &self.key.insecure_dev_key, &self.key.keystore, &self.key.pkcs11) {
            (true, Some(dev), ..) => KeySettings::InsecureDevKey(dev.resolve("insecure_dev_key", env)?),
            (true, None, ..) => {
                return Err(ConfigError::Invalid("--insecure-dev-key needs [key] insecure_dev_key".into()));
            }
            (false, _, Some(_), Some(_)) => {
                return Err(ConfigError::Invalid("[key]: give `keystore` or `[key.pkcs11]`, not both".into()));
            }
            (false, _, None, Some(pkcs11)) => KeySettings::Pkcs11(pkcs11.resolve(env)?),
            (false, _, Some(path), None) => {
                let passphrase = self
                    .key
                    .passphrase
                    .as_ref()
                    .ok_or_else(|| ConfigError::Invalid("[key] keystore needs a passphrase".into()))?
                    .resolve("keystore passphrase", env)?;
                KeySettings::Keystore { path: path.clone(), passphrase }
            }
            (false, _, None, None) => {
                return Err(ConfigError::Invalid(
                    "no key: set [key.pkcs11] or [key] keystore (a raw dev key needs --insecure-dev-key)".into(),
                ));
            }
        };
        let next_key = self.key.next.as_ref().map(|next| next.resolve(env)).transpose()?;
        let callers = self
            .auth
            .callers
            .iter()
            .map(|c| {
                let secret = c.secret.resolve(&format!("caller {}", c.id), env)?;
                Ok(Caller::new(c.id.clone(), secret).permitted(c.kinds.unwrap_or(Permissions::ALL)))
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        if callers.is_empty() {
            return Err(ConfigError::Invalid("[auth] needs at least one caller".into()));
        }
        let mut ids = std::collections::HashSet::new();
        if let Some(twice) = callers.iter().find(|c| !ids.insert(c.id.as_str())) {
            // Two entries would leave which secret and which kinds apply to chance of order.
            return Err(ConfigError::Invalid(format!("[auth] caller {} is listed twice", twice.id)));
        }
        Ok(Settings {
            bind: self.server.bind,
            limits: self.server.limits,
            store_path: self.store.path,
            key,
            next_key,
            callers,
            auth_window_secs: self.auth.window_secs,
            policy: self.policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    use crate::intent::Kind;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
    }

    const EXAMPLE: &str = include_str!("../signer.example.toml");

    #[test]
    fn the_example_config_parses_and_env_overrides_apply() {
        let config: FileConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(config.server.bind, default_bind());
        let env = FakeEnv(HashMap::from([
            ("SIGNER_KEYSTORE_PASSPHRASE", "pass"),
            ("SIGNER_CALLER_BACKEND_SECRET", "caller-secret"),
            ("SIGNER_BIND", "127.0.0.1:9999"),
        ]));
        let settings = config.resolve(&env, false).unwrap();
        assert_eq!(settings.bind.port(), 9999);
        assert!(
            matches!(&settings.key, KeySettings::Keystore { passphrase, .. } if passphrase.expose_secret() == "pass")
        );
        assert_eq!(settings.callers[0].secret.expose_secret(), "caller-secret");
    }

    #[test]
    fn section_variables_set_their_field_typed_and_secret_names_are_no_keys() {
        let env =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        let config = FileConfig::from_sources(
            EXAMPLE,
            env(&[
                ("SIGNER_SERVER__BIND", "127.0.0.1:9998"),
                ("SIGNER_AUTH__WINDOW_SECS", "45"),
                ("SIGNER_STORE__PATH", "/var/lib/signer/other.sqlite"),
                // The file names these as secrets; they are no keys of the file.
                ("SIGNER_KEYSTORE_PASSPHRASE", "pass"),
                ("SIGNER_CALLER_BACKEND_SECRET", "s"),
                ("SIGNER_CONFIG", "/etc/signer.toml"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.bind.port(), 9998);
        assert_eq!(config.auth.window_secs, 45);
        assert_eq!(config.store.path, PathBuf::from("/var/lib/signer/other.sqlite"));
        let refused = FileConfig::from_sources(EXAMPLE, env(&[("SIGNER_AUTH__WINDOW_SECS", "soon")]));
        assert!(matches!(&refused, Err(e @ ConfigError::Parse { .. }) if e.to_string().contains("auth.window_secs")));
        let unknown = FileConfig::from_sources(EXAMPLE, env(&[("SIGNER_SERVER__BINDING", "127.0.0.1:1")]));
        assert!(matches!(&unknown, Err(e @ ConfigError::Parse { .. }) if e.to_string().contains("binding")));
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let config: FileConfig = toml::from_str(EXAMPLE).unwrap();
        let env = FakeEnv(HashMap::from([
            ("SIGNER_KEYSTORE_PASSPHRASE", "hunter2-passphrase"),
            ("SIGNER_CALLER_BACKEND_SECRET", "hunter2-caller"),
        ]));
        let printed = format!("{:?}", config.resolve(&env, false).unwrap());
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    const PRODUCTION: &str = include_str!("../signer.production.example.toml");

    /// The production example with every `"0x…"` and `"https://…"` filled in, its secret files in `secrets`.
    fn production_filled_in(secrets: &std::path::Path) -> String {
        let mut text = PRODUCTION
            .replace("/run/secrets/", &format!("{}/", secrets.display()))
            .replace("\"https://…\"", "\"https://bsc.node.example\"");
        let placeholder = "\"0x…\"";
        let mut n = 0u8;
        while let Some(at) = text.find(placeholder) {
            n += 1;
            let address = alloy::primitives::Address::repeat_byte(n);
            text.replace_range(at..at + placeholder.len(), &format!("\"{address}\""));
        }
        text
    }

    #[test]
    fn the_production_example_filled_in_loads_an_hsm_key_two_people_and_each_callers_kinds() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in [("signer-hsm-pin", "123456"), ("signer-caller-treasury", TREASURY_SECRET)] {
            let path = dir.path().join(name);
            std::fs::write(&path, value).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let config: FileConfig = toml::from_str(&production_filled_in(dir.path())).unwrap();
        let env = FakeEnv(HashMap::from([("SIGNER_CALLER_BACKEND_SECRET", BACKEND_SECRET)]));
        let settings = config.resolve(&env, false).unwrap();
        assert!(matches!(&settings.key, KeySettings::Pkcs11(spec) if spec.pin.expose_secret() == "123456"));
        let kinds = |id: &str| {
            let caller = settings.callers.iter().find(|c| c.id == id).expect("the caller");
            Kind::ALL.into_iter().filter(|k| caller.permissions.allows(*k)).collect::<Vec<_>>()
        };
        // What the API's preflight asks of each (backend::preflight::kinds_needed, with [solvency] and a treasury
        // caller): the main caller may not move company funds.
        assert_eq!(kinds("backend"), [Kind::Register, Kind::Retopup, Kind::PayoutBatch, Kind::LiabilityRoot]);
        assert_eq!(kinds("treasury"), [Kind::TreasuryTransfer]);
        let approvals = settings.policy.approvals.as_ref().expect("[policy.approvals]: two people");
        assert!(approvals.payout_batch >= 1 && approvals.treasury_transfer >= 1 && approvals.refund >= 1);
        let chain = &settings.policy.chains[0];
        assert_eq!(chain.chain_id, 56);
        assert!(chain.node.as_ref().is_some_and(|n| n.rpc_url.starts_with("https://")), "its own node, over TLS");
    }

    const BACKEND_SECRET: &str = "backend-caller-secret-of-at-least-32-bytes";
    const TREASURY_SECRET: &str = "treasury-caller-secret-of-at-least-32-bytes";

    #[test]
    fn a_missing_secret_or_an_unrequested_dev_key_is_refused() {
        let config: FileConfig = toml::from_str(EXAMPLE).unwrap();
        let no_secrets = FakeEnv(HashMap::new());
        assert!(config.clone().resolve(&no_secrets, false).is_err());
        // The example names a dev key too, but without the flag the keystore is used, never the raw key.
        let env = FakeEnv(HashMap::from([
            ("SIGNER_KEYSTORE_PASSPHRASE", "pass"),
            ("SIGNER_CALLER_BACKEND_SECRET", "s"),
            ("SIGNER_DEV_KEY", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
        ]));
        assert!(matches!(config.clone().resolve(&env, false).unwrap().key, KeySettings::Keystore { .. }));
        assert!(matches!(config.resolve(&env, true).unwrap().key, KeySettings::InsecureDevKey(_)));
    }

    const PKCS11: &str = r#"
[store]
path = "signer.sqlite"
[key.pkcs11]
module = "/usr/lib/softhsm/libsofthsm2.so"
token_label = "referral-signer"
key_label = "signer-1"
address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
pin = PIN
[auth]
callers = [{ id = "backend", secret = { env = "S" } }]
[policy]
default_ttl_secs = 600
max_deadline_horizon_secs = 3600
max_batch_entries = 5
"#;

    #[test]
    fn a_token_key_takes_its_pin_from_the_environment_or_a_file_of_its_owner_alone() {
        let env = FakeEnv(HashMap::from([("PIN_VAR", "123456"), ("S", "s")]));
        let from_env: FileConfig = toml::from_str(&PKCS11.replace("PIN", r#"{ env = "PIN_VAR" }"#)).unwrap();
        let settings = from_env.resolve(&env, false).unwrap();
        let KeySettings::Pkcs11(spec) = &settings.key else { panic!("a token key") };
        assert_eq!(
            (spec.token.clone(), spec.key_label.as_str(), spec.sessions),
            (TokenRef::Label("referral-signer".into()), "signer-1", 4)
        );
        assert_eq!(spec.pin.expose_secret(), "123456");
        assert!(!format!("{settings:?}").contains("123456"), "the PIN never prints");

        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "654321\n").unwrap();
        let config = PKCS11.replace("PIN", &format!(r#"{{ file = "{}" }}"#, file.display()));
        for (mode, accepted) in [(0o644, false), (0o640, false), (0o604, false), (0o600, true), (0o400, true)] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let resolved = toml::from_str::<FileConfig>(&config).unwrap().resolve(&env, false);
            assert_eq!(resolved.is_ok(), accepted, "mode {mode:o}: {:?}", resolved.err());
        }
        // The PIN itself in the file is no thing the file can hold.
        assert!(toml::from_str::<FileConfig>(&PKCS11.replace("PIN", r#""123456""#)).is_err());
    }

    #[test]
    fn a_keystore_and_a_token_key_together_are_refused_and_a_next_key_is_taken_for_a_rotation() {
        let env = FakeEnv(HashMap::from([("PIN_VAR", "123456"), ("S", "s"), ("P", "pass")]));
        let config = PKCS11.replace("PIN", r#"{ env = "PIN_VAR" }"#);
        let both = config.replace("[key.pkcs11]", "[key]\nkeystore = \"k.json\"\n[key.pkcs11]");
        let refused = toml::from_str::<FileConfig>(&both).unwrap().resolve(&env, false).unwrap_err();
        assert!(refused.to_string().contains("not both"), "{refused}");
        let rotating = format!(
            "{config}\n[key.next.pkcs11]\nmodule = \"/m.so\"\nslot = 3\nkey_label = \"signer-2\"\n\
             address = \"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"\npin = {{ env = \"PIN_VAR\" }}\n"
        );
        let settings = toml::from_str::<FileConfig>(&rotating).unwrap().resolve(&env, false).unwrap();
        assert!(matches!(&settings.next_key, Some(KeySettings::Pkcs11(next)) if next.token == TokenRef::Slot(3)));
    }
}
