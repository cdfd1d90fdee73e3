//! One way to configure a service: a TOML file overlaid with environment variables under the service's prefix,
//! `__` separating nested keys (`APP_AUTH__JWT_SECRET` sets `auth.jwt_secret`, `LISTENER_DATABASE_URL` sets
//! `database_url`). A value is typed by the field it sets: read as TOML when it parses as one (numbers, booleans,
//! arrays, inline tables: `APP_CHAINS='[{chain_id = 56, …}]'` replaces the whole table), and kept as written when
//! it does not, or when the field it sets wants text (`APP_DATABASE__PASSWORD=123456` is the string "123456").
//! Secrets are `secrecy` types in the settings structs, so they never print.

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
    let mut root = overlay_recording(root, prefix, env, &mut set)?;
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
            return Err(ConfigError::Field(at, error.into_inner().message().to_owned()));
        }
    }
    unreachable!("every round either returns or retypes one of the variables")
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
        table.insert(parts[parts.len() - 1].clone(), value);
        set.retain(|(path, _)| path != &parts);
        set.push((parts, raw));
    }
    Ok(root)
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
