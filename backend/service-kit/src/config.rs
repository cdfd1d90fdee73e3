//! One way to configure a service: a TOML file overlaid with environment variables under the service's prefix,
//! `__` separating nested keys (`APP_AUTH__JWT_SECRET` sets `auth.jwt_secret`, `LISTENER_DATABASE_URL` sets
//! `database_url`). A value is typed by the field it sets: read as TOML when it parses as one (numbers, booleans,
//! arrays, inline tables), and kept as written when it does not, or when the field it sets wants text
//! (`APP_DATABASE__PASSWORD=123456` is the string "123456"). Secrets are `secrecy` types in the settings structs, so
//! they never print.
//!
//! A list of tables keyed by `chain_id` (each service's `[[chains]]` tuning) is merged, never replaced: each entry of
//! the variable's list is merged field by field into the file's entry of the same `chain_id` (tables within it key
//! by key), and appended when the file has none; the file's other entries stay. So
//! `APP_CHAINS='[{chain_id = 56, operator_keystore_passphrase = "…"}]'` adds the passphrase and keeps the fee cap the
//! file sets for chain 56 ([`merge`]).

use std::path::Path;

use serde::de::DeserializeOwned;

/// Why settings could not be loaded; names the file or the variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
    /// The file (or the merged settings) is not valid for the service.
    #[error("configuration: {0}")]
    Invalid(#[from] toml::de::Error),
    /// A value of the merged settings does not fit its field (the key path and why).
    #[error("configuration: {0}: {1}")]
    Field(String, String),
    /// A variable names a key below a value that is not a table.
    #[error("environment variable {0}: cannot set a value below a non-table")]
    Env(String),
}

/// Reads `file` and overlays the process environment under `prefix` (e.g. `"APP_"`).
pub fn load<T: DeserializeOwned>(file: &Path, prefix: &str) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read(file.display().to_string(), e))?;
    from_sources(&text, prefix, std::env::vars())
}

/// `file` (TOML text) overlaid with the `env` pairs under `prefix`, deserialised.
pub fn from_sources<T: DeserializeOwned>(
    file: &str,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    layered(file.parse()?, prefix, env)
}

/// `root` overlaid with the `env` pairs under `prefix` ([`overlay`]) and deserialised, each variable typed by the
/// field it sets: a value read as TOML that the field refuses for its type (a number where text is wanted) is
/// taken again as the text the variable holds. A value of the file is never retyped.
pub fn layered<T: DeserializeOwned>(
    root: toml::Table,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut set = Vec::new();
    let file = root.clone();
    let mut root = overlay_recording(root, prefix, env, &mut set)?;
    let all_set: Vec<Vec<String>> = set.iter().map(|(path, _)| path.clone()).collect();
    // Each round retypes one variable's value; a variable is retyped at most once.
    for _ in 0..=set.len() {
        let error = match serde_path_to_error::deserialize::<_, T>(toml::Value::Table(root.clone())) {
            Ok(settings) => return Ok(settings),
            Err(error) => error,
        };
        let at = error.path().to_string();
        let retype = error.inner().to_string().starts_with("invalid type")
            && set.iter().position(|(path, _)| path.join(".") == at).is_some_and(|i| {
                let (path, raw) = set.swap_remove(i);
                replace(&mut root, &path, toml::Value::String(raw))
            });
        if !retype {
            let message = error.into_inner().message().to_owned();
            let message = match only_from_variables(&file, &at, &all_set) {
                Some(table) if message.starts_with("missing field") => format!(
                    "{message}: the file has no [{at}], and a variable set {prefix}{table}__…, so the table is the \
                     variable's alone; give [{at}] in the file with its other fields (the variable then only adds the \
                     secret), or leave the variable unset"
                ),
                _ => message,
            };
            return Err(ConfigError::Field(at, message));
        }
    }
    unreachable!("every round either returns or retypes one of the variables")
}

/// When the table at `at` (a dotted key path) is absent from `file` and some variable in `set` made it: that table's
/// path as a variable spells it (`SIGNER__TREASURY_CALLER`).
fn only_from_variables(file: &toml::Table, at: &str, set: &[Vec<String>]) -> Option<String> {
    if at.is_empty() || at.contains('[') {
        return None;
    }
    let path: Vec<&str> = at.split('.').collect();
    let mut table = file;
    for part in &path {
        match table.get(*part).and_then(toml::Value::as_table) {
            Some(inner) => table = inner,
            None => {
                let made = set.iter().any(|key| key.len() > path.len() && key.iter().zip(&path).all(|(a, b)| a == b));
                return made.then(|| path.iter().map(|p| p.to_uppercase()).collect::<Vec<_>>().join("__"));
            }
        }
    }
    None
}

/// Sets the value at `path` when one is there; whether it was.
fn replace(root: &mut toml::Table, path: &[String], value: toml::Value) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut table = root;
    for part in parents {
        match table.get_mut(part).and_then(toml::Value::as_table_mut) {
            Some(t) => table = t,
            None => return false,
        }
    }
    match table.get_mut(last) {
        Some(slot) if !slot.is_str() => {
            *slot = value;
            true
        }
        _ => false,
    }
}

/// `root` with the `env` pairs under `prefix` set in it (`PREFIX_A__B=v` sets `a.b`); `PREFIX_CONFIG` (the
/// conventional name of the file's path) is skipped.
pub fn overlay(
    root: toml::Table,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<toml::Table, ConfigError> {
    overlay_recording(root, prefix, env, &mut Vec::new())
}

/// [`overlay`], recording each variable's key path and its text in `set`.
fn overlay_recording(
    mut root: toml::Table,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
    set: &mut Vec<(Vec<String>, String)>,
) -> Result<toml::Table, ConfigError> {
    for (key, raw) in env {
        let Some(path) = key.strip_prefix(prefix) else { continue };
        if path == "CONFIG" || path.is_empty() {
            continue;
        }
        let parts: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let mut table = &mut root;
        for part in &parts[..parts.len() - 1] {
            let entry = table.entry(part.clone()).or_insert_with(|| toml::Value::Table(Default::default()));
            table = entry.as_table_mut().ok_or_else(|| ConfigError::Env(key.clone()))?;
        }
        merge(table, parts[parts.len() - 1].clone(), value);
        set.retain(|(path, _)| path != &parts);
        set.push((parts, raw));
    }
    Ok(root)
}

/// Sets `key` of `table` to `value`; a list of tables keyed by `chain_id` ([`keyed`]) merges into the list there,
/// entry by entry, as the module says.
pub fn merge(table: &mut toml::Table, key: String, value: toml::Value) {
    match (table.get_mut(&key), value) {
        (Some(toml::Value::Array(existing)), toml::Value::Array(entries)) if keyed(existing) && keyed(&entries) => {
            for entry in entries {
                let id = entry.get(CHAIN_ID).cloned();
                match existing.iter_mut().find(|e| e.get(CHAIN_ID) == id.as_ref()) {
                    Some(toml::Value::Table(into)) => merge_tables(into, entry),
                    _ => existing.push(entry),
                }
            }
        }
        (_, value) => {
            table.insert(key, value);
        }
    }
}

/// The key a list of per-chain tables is merged by.
const CHAIN_ID: &str = "chain_id";

/// Whether `list` is a non-empty list of tables that each name a `chain_id`.
fn keyed(list: &[toml::Value]) -> bool {
    !list.is_empty() && list.iter().all(|v| v.as_table().is_some_and(|t| t.contains_key(CHAIN_ID)))
}

/// `from`'s keys set in `into`: a table into a table key by key, anything else replaced.
fn merge_tables(into: &mut toml::Table, from: toml::Value) {
    let toml::Value::Table(from) = from else { return };
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), value @ toml::Value::Table(_)) => merge_tables(inner, value),
            (_, value) => merge(into, key, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Settings {
        name: String,
        #[serde(default)]
        token: Option<String>,
        nested: Nested,
        #[serde(default)]
        list: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Nested {
        port: u16,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Item {
        id: u64,
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn environment_overrides_the_file_typed_as_toml() {
        let file = "name = \"file\"\n[nested]\nport = 1\n";
        let s: Settings = from_sources(
            file,
            "KIT_",
            env(&[("KIT_NESTED__PORT", "8080"), ("KIT_LIST", "[{id = 7}]"), ("OTHER_NAME", "x"), ("KIT_CONFIG", "f")]),
        )
        .unwrap();
        assert_eq!(
            s,
            Settings { name: "file".into(), token: None, nested: Nested { port: 8080 }, list: vec![Item { id: 7 }] }
        );
        let s: Settings = from_sources(file, "KIT_", env(&[("KIT_NAME", "from env")])).unwrap();
        assert_eq!(s.name, "from env");
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Chains {
        chains: Vec<Chain>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Chain {
        chain_id: u64,
        #[serde(default)]
        fee_cap: Option<u64>,
        #[serde(default)]
        key: Option<String>,
        #[serde(default)]
        coin: Option<toml::Table>,
    }

    #[test]
    fn a_list_keyed_by_chain_id_is_merged_entry_by_entry_field_by_field() {
        let file = "[[chains]]\nchain_id = 56\nfee_cap = 5\ncoin = { name = \"BNB\", decimals = 18 }\n\n\
                    [[chains]]\nchain_id = 97\nfee_cap = 7\n";
        let s: Chains = from_sources(
            file,
            "KIT_",
            env(&[(
                "KIT_CHAINS",
                r#"[{chain_id = 56, key = "k", coin = { decimals = 8 }}, {chain_id = 1, key = "x"}]"#,
            )]),
        )
        .unwrap();
        let coin: toml::Table = "name = \"BNB\"\ndecimals = 8".parse().unwrap();
        assert_eq!(
            s.chains,
            [
                Chain { chain_id: 56, fee_cap: Some(5), key: Some("k".into()), coin: Some(coin) },
                Chain { chain_id: 97, fee_cap: Some(7), key: None, coin: None },
                Chain { chain_id: 1, fee_cap: None, key: Some("x".into()), coin: None },
            ]
        );
        // A list not keyed by chain_id is still replaced whole.
        let s: Settings = from_sources(
            "name = \"f\"\nlist = [{id = 1}]\n[nested]\nport = 1\n",
            "KIT_",
            env(&[("KIT_LIST", "[{id = 2}]")]),
        )
        .unwrap();
        assert_eq!(s.list, [Item { id: 2 }]);
    }

    #[test]
    fn bad_values_and_paths_are_refused_with_their_key() {
        let file = "name = \"file\"\n[nested]\nport = 1\n";
        let err = from_sources::<Settings>(file, "KIT_", env(&[("KIT_NESTED__PORT", "not-a-port")])).unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
        let err = from_sources::<Settings>(file, "KIT_", env(&[("KIT_NAME__X", "1")])).unwrap_err();
        assert!(matches!(err, ConfigError::Env(ref k) if k == "KIT_NAME__X"), "{err}");
        let err = load::<Settings>(Path::new("/nonexistent/settings.toml"), "KIT_").unwrap_err();
        assert!(matches!(err, ConfigError::Read(..)), "{err}");
    }

    #[derive(Debug, serde::Deserialize)]
    struct WithCaller {
        #[allow(dead_code)]
        name: String,
        #[serde(default)]
        #[allow(dead_code)]
        caller: Option<Caller>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Caller {
        id: String,
        secret: String,
    }

    #[test]
    fn a_secret_for_a_table_the_file_lacks_names_the_table_and_the_variable() {
        let err = from_sources::<WithCaller>("name = \"f\"\n", "APP_", env(&[("APP_CALLER__SECRET", "s3cret")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("caller: missing field `id`"), "{err}");
        assert!(err.contains("the file has no [caller], and a variable set APP_CALLER__…"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        // With the table in the file, the variable adds its secret; a field missing there is the file's to give.
        let ok = from_sources::<WithCaller>(
            "name = \"f\"\n[caller]\nid = \"treasury\"\n",
            "APP_",
            env(&[("APP_CALLER__SECRET", "s3cret")]),
        );
        assert!(ok.is_ok(), "{ok:?}");
        let err = from_sources::<WithCaller>("name = \"f\"\n[caller]\nsecret = \"x\"\n", "APP_", env(&[])).unwrap_err();
        assert!(!err.to_string().contains("variable"), "{err}");
    }

    #[test]
    fn a_variable_is_typed_by_the_field_it_sets() {
        let file = "name = \"file\"\n[nested]\nport = 1\n";
        // Text fields keep what the variable holds, however it would read as TOML; numbers stay numbers.
        let s: Settings = from_sources(
            file,
            "KIT_",
            env(&[("KIT_NAME", "123456"), ("KIT_TOKEN", "true"), ("KIT_NESTED__PORT", "8080")]),
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.token.as_deref(), s.nested.port), ("123456", Some("true"), 8080));
        let s: Settings = from_sources(file, "KIT_", env(&[("KIT_NAME", "1.5"), ("KIT_TOKEN", "[1, 2]")])).unwrap();
        assert_eq!((s.name.as_str(), s.token.as_deref()), ("1.5", Some("[1, 2]")));
        // The file's own values are never retyped, and a number field still refuses text, naming its key.
        let err = from_sources::<Settings>("name = 5\n[nested]\nport = 1\n", "KIT_", env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::Field(ref at, _) if at == "name"), "{err}");
        let err = from_sources::<Settings>(file, "KIT_", env(&[("KIT_NESTED__PORT", "eighty")])).unwrap_err();
        assert!(matches!(err, ConfigError::Field(ref at, _) if at == "nested.port"), "{err}");
    }
}
