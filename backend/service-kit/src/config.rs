//! One way to configure a service: a TOML file overlaid with environment variables under the service's prefix,
//! `__` separating nested keys (`APP_AUTH__JWT_SECRET` sets `auth.jwt_secret`, `LISTENER_DATABASE_URL` sets
//! `database_url`). A value is read as TOML when it parses as one (numbers, booleans, arrays, inline tables:
//! `APP_CHAINS='[{chain_id = 56, …}]'` replaces the whole table) and taken as a string otherwise. Secrets are
//! `secrecy` types in the settings structs, so they never print.

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
    let root = overlay(file.parse()?, prefix, env)?;
    Ok(toml::Value::Table(root).try_into()?)
}

/// `root` with the `env` pairs under `prefix` set in it (`PREFIX_A__B=v` sets `a.b`); `PREFIX_CONFIG` (the
/// conventional name of the file's path) is skipped.
pub fn overlay(
    mut root: toml::Table,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
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
            .unwrap_or(toml::Value::String(raw));
        let mut table = &mut root;
        for part in &parts[..parts.len() - 1] {
            let entry = table.entry(part.clone()).or_insert_with(|| toml::Value::Table(Default::default()));
            table = entry.as_table_mut().ok_or_else(|| ConfigError::Env(key.clone()))?;
        }
        table.insert(parts[parts.len() - 1].clone(), value);
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Settings {
        name: String,
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
        assert_eq!(s, Settings { name: "file".into(), nested: Nested { port: 8080 }, list: vec![Item { id: 7 }] });
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
}
