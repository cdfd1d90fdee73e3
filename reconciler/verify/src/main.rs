//! `solvency-verify PROOF.json --rpc URL`: an auditor's check of a proof of solvency against the chain. Reads the
//! commitment from the RPC given (never from the operator's API), folds the proof, and prints each check and a
//! verdict. Exit status: 0 verified and solvent, 1 refused or insolvent, 2 when it could not run.

use std::process::ExitCode;

use clap::Parser;
use solvency_verify::{MAX_PROOF_BYTES, Proof, chain, verify};

/// Verifies a proof of solvency (SOLVENCY.md) against the commitment on the chain.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The proof file, as downloaded from the dApp or `GET /v1/users/solvency-proof?download=true`.
    proof: std::path::PathBuf,
    /// A JSON-RPC endpoint of the proof's chain (an EVM node; on TRON its JSON-RPC).
    #[arg(long)]
    rpc: String,
    /// A commitment older than this many blocks is stale (the API's `max_age_blocks`); no limit when absent.
    #[arg(long)]
    max_age_blocks: Option<u64>,
    /// Prints the verdict as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("solvency-verify: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: &Args) -> Result<ExitCode, String> {
    let size = std::fs::metadata(&args.proof).map_err(|e| format!("{}: {e}", args.proof.display()))?.len();
    if size > MAX_PROOF_BYTES as u64 {
        return Err(format!("{}: {size} bytes is not a proof (at most {MAX_PROOF_BYTES})", args.proof.display()));
    }
    let bytes = std::fs::read(&args.proof).map_err(|e| format!("{}: {e}", args.proof.display()))?;
    let proof = match Proof::parse(&bytes) {
        Ok(p) => p,
        Err(why) => {
            println!("REFUSED: the proof is malformed: {why}");
            return Ok(ExitCode::from(1));
        }
    };
    let (commitment, head) = chain::read(&args.rpc, proof.contract, proof.token).await?;
    let verdict = verify(&proof, &commitment, head, args.max_age_blocks);
    if args.json {
        let checks: Vec<_> = verdict
            .checks
            .iter()
            .map(|c| serde_json::json!({ "check": c.name, "passed": c.passed, "detail": c.detail }))
            .collect();
        let out = serde_json::json!({
            "verified": verdict.verified(), "solvent": verdict.solvent(), "epoch": commitment.epoch,
            "root": commitment.root, "total": commitment.total.to_string(), "custody": commitment.custody.to_string(),
            "checks": checks,
        });
        println!("{out}");
    } else {
        println!(
            "proof of {} in epoch {} (chain {}, contract {}, token {})",
            proof.user, proof.epoch, proof.chain_id, proof.contract, proof.token
        );
        for c in &verdict.checks {
            println!("  {} {:<9} {}", if c.passed { "ok  " } else { "FAIL" }, c.name, c.detail);
        }
        match (verdict.verified(), verdict.solvent()) {
            (true, true) => {
                println!("VERIFIED: the balance is a leaf of the chain's latest root, and custody covers the total")
            }
            (true, false) => {
                println!("INSOLVENT: the balance is in the committed root, but custody is below the committed total")
            }
            (false, _) => println!("REFUSED: {}", verdict.failures()),
        }
    }
    Ok(if verdict.verified() && verdict.solvent() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
