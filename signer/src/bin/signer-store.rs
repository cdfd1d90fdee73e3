//! `signer-store`: backs up and restores the signer's double-sign store (SQLite, WAL mode) — the record of every
//! nonce it ever signed, which is what stops it from signing a second payload on a used nonce.
//!
//! ```text
//! signer-store backup  --store signer.sqlite --to backup/signer.sqlite     # online: the signer may be running
//! signer-store restore --from backup/signer.sqlite --store signer.sqlite [--skip-nonces 65536] [--force]
//! signer-store verify  --store signer.sqlite                               # integrity check and what it holds
//! ```
//!
//! `backup` uses SQLite's online backup API on a read connection of its own: a consistent copy of every committed
//! record, taken while the signer keeps signing (it copies the pages under a shared lock, a few at a time, and starts
//! again when a write lands meanwhile). `restore` copies a backup into a store that is not there (or, with `--force`,
//! over one, while the signer is stopped), checks it, and moves every contract's nonce counter `--skip-nonces` on:
//! register and retopup payloads handed out after the backup was taken are in no backup, and their nonces must not
//! be handed out again (a second payload on one nonce: only one of the two could ever execute, and the other payer
//! would be refused). Outflows (payout batches, treasury transfers, liability roots) are on nonces the backend
//! chooses from its own ledger, restored from the same moment.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use rusqlite::{Connection, OpenFlags, backup::Backup};

#[derive(Debug, Parser)]
#[command(about = "Backs up and restores the signer's double-sign store")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Copies the store, online, to a new file.
    Backup {
        /// The signer's store (`[store] path`).
        #[arg(long)]
        store: PathBuf,
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restores a backup as the store (the signer must be stopped).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The signer's store to create.
        #[arg(long)]
        store: PathBuf,
        /// How far to move every nonce counter on (register and retopup nonces handed out after the backup).
        #[arg(long, default_value_t = 65_536)]
        skip_nonces: u64,
        /// Replace an existing store.
        #[arg(long)]
        force: bool,
    },
    /// Checks a store's integrity and prints what it holds.
    Verify {
        /// The store (or a backup).
        #[arg(long)]
        store: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Args::parse().command) {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("signer-store: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> eyre::Result<String> {
    match command {
        Command::Backup { store, to } => {
            eyre::ensure!(store.exists(), "no store at {}", store.display());
            eyre::ensure!(!to.exists(), "{} exists: back up to a new file", to.display());
            let source = Connection::open_with_flags(&store, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            source.busy_timeout(Duration::from_secs(30))?;
            let mut target = Connection::open(&to)?;
            Backup::new(&source, &mut target)?.run_to_completion(256, Duration::from_millis(10), None)?;
            drop(target);
            let summary = verify(&to)?;
            Ok(format!("backed up {} to {}: {summary}", store.display(), to.display()))
        }
        Command::Restore { from, store, skip_nonces, force } => {
            let summary = verify(&from)?;
            eyre::ensure!(force || !store.exists(), "{} exists: stop the signer and pass --force", store.display());
            for stale in [store.clone(), suffixed(&store, "-wal"), suffixed(&store, "-shm")] {
                if stale.exists() {
                    std::fs::remove_file(&stale)?;
                }
            }
            let source = Connection::open_with_flags(&from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let mut target = Connection::open(&store)?;
            Backup::new(&source, &mut target)?.run_to_completion(256, Duration::ZERO, None)?;
            let moved = skip(&target, skip_nonces)?;
            target.pragma_update(None, "journal_mode", "WAL")?;
            drop(target);
            verify(&store)?;
            Ok(format!(
                "restored {} as {}: {summary}; {moved} nonce counters moved {skip_nonces} on",
                from.display(),
                store.display()
            ))
        }
        Command::Verify { store } => verify(&store),
    }
}

fn suffixed(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `PRAGMA integrity_check` and the record's size: the signatures it holds, per kind, and its nonce counters.
fn verify(path: &std::path::Path) -> eyre::Result<String> {
    eyre::ensure!(path.exists(), "no store at {}", path.display());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    eyre::ensure!(integrity == "ok", "{}: integrity check failed: {integrity}", path.display());
    let signed: i64 = conn.query_row("SELECT count(*) FROM signed_payloads", [], |r| r.get(0))?;
    let counters: i64 = conn.query_row("SELECT count(*) FROM nonce_allocator", [], |r| r.get(0))?;
    Ok(format!("integrity ok, {signed} signed payloads, {counters} nonce counters"))
}

/// Moves every nonce counter `by` on (they are 64-digit hex, as the store keeps uint256 values).
fn skip(conn: &Connection, by: u64) -> eyre::Result<usize> {
    let counters: Vec<(i64, String, String)> = conn
        .prepare("SELECT chain_id, contract, next_nonce FROM nonce_allocator")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (chain_id, contract, next) in &counters {
        let value = alloy::primitives::U256::from_str_radix(next, 16)?;
        let moved = value.saturating_add(alloy::primitives::U256::from(by));
        conn.execute(
            "UPDATE nonce_allocator SET next_nonce = ?1 WHERE chain_id = ?2 AND contract = ?3",
            rusqlite::params![hex::encode(moved.to_be_bytes::<32>()), chain_id, contract],
        )?;
    }
    Ok(counters.len())
}
