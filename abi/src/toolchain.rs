//! Where the project's pinned tools live (installed by `scripts/setup.sh` into `node_modules/.bin`).
//! Used by tests and the devnet so that nothing depends on a tool installed by hand.

use std::path::PathBuf;

/// Root of the workspace (the directory holding `Cargo.toml`, `contracts/`, `node_modules/`). Under `cargo test` or
/// `cargo run`, the workspace of the package Cargo names at run time; otherwise the one this crate was compiled in.
/// (Two checkouts sharing one target directory share this crate's build, and with it its compile-time path: a test
/// of one checkout would otherwise look for the tools in the other.)
pub fn workspace_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let mut dir = PathBuf::from(dir);
        loop {
            if dir.join("Cargo.lock").is_file() {
                return dir;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Path of a pinned Foundry binary (`anvil`, `forge`, `cast`); `$ANVIL_BIN` etc. override it.
pub fn foundry_binary(name: &str) -> PathBuf {
    let var = format!("{}_BIN", name.to_ascii_uppercase());
    std::env::var_os(&var).map(PathBuf::from).unwrap_or_else(|| workspace_root().join("node_modules/.bin").join(name))
}
