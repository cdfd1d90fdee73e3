//! Build script of the ledger crate: rebuilds it when a file under `migrations/` changes.
// sqlx::migrate! embeds backend/ledger/migrations at compile time: rebuild when a migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
