//! `solvency-verify PROOF.json --rpc URL --contract ADDRESS [--token ADDRESS] [--previous ADDRESS]… [--max-age-blocks N]`: an auditor's
//! check of a proof of solvency against the chain. The contract (and the token, when given) come from the auditor —
//! the deployment's record (`deployments/<network>.json`), never the proof file or the operator's API —, and a proof
//! naming another is refused; the node's chain id must be the proof's; the contract must have allowed the token once.
//! Reads the commitment at that contract from the RPC given, folds the proof, and prints each check and a verdict.
//! The commitment's liabilities (its `asOfBlock`) may be at most `--max-age-blocks` behind the head (default: a day
//! of the chain's blocks). Exit status: 0 verified and solvent, 1 refused or insolvent, 2 when it could not run.

use std::process::ExitCode;

use alloy::primitives::Address;
use clap::Parser;
use solvency_verify::{MAX_PROOF_BYTES, Proof, Sources, chain, default_max_age_blocks, judge_round, verify_with};

/// Verifies a proof of solvency (SOLVENCY.md) against the commitment on the chain, at the contract you give.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The proof file, as downloaded from the dApp or `GET /v1/users/solvency-proof?download=true`.
    proof: std::path::PathBuf,
    /// A JSON-RPC endpoint of the proof's chain (an EVM node; on TRON its JSON-RPC), one you trust.
    #[arg(long)]
    rpc: String,
    /// The deployment's Settlement contract (0x…, or T… on TRON), from its record (`deployments/<network>.json`,
    /// `settlement`) — not from the proof: a proof naming another contract is refused.
    #[arg(long)]
    contract: String,
    /// The asset's token (0x… or T…; the zero address for the native coin): a proof of another is refused. Without
    /// it, the proof's token is checked against the contract (it must have allowed it once).
    #[arg(long)]
    token: Option<String>,
    /// After an upgrade: a contract the deployment replaced on the same chain (from its record), still holding money
    /// members are owed. Repeat for each. Every round is committed on each contract of the chain; custody is then
    /// what they hold together, judged when each has committed the same round (block and total) as `--contract`.
    /// Verify your proof in each contract's tree with its own file (`contract=` of the proof's download).
    #[arg(long = "previous", value_name = "ADDRESS")]
    previous: Vec<String>,
    /// The most blocks the commitment's liabilities (its asOfBlock) may be behind the chain's head (default: a day of
    /// blocks, 115200 on BSC and other EVM chains, 28800 on TRON; the deployment's record has its own,
    /// `proof_max_age_blocks`).
    #[arg(long)]
    max_age_blocks: Option<u64>,
    /// Prints the verdict as JSON.
    #[arg(long)]
    json: bool,
}

/// A 0x address, or TRON's `T…` form of one.
fn address(flag: &str, text: &str) -> Result<Address, String> {
    let text = text.trim();
    text.parse::<Address>()
        .ok()
        .or_else(|| abi::tron::from_base58(text).ok())
        .ok_or_else(|| format!("--{flag}: not a 0x or T… address: {text:.60}"))
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
    let contract = address("contract", &args.contract)?;
    let token = args.token.as_deref().map(|t| address("token", t)).transpose()?;
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
    // A node of another chain: nothing it holds can confirm the proof (the same contract address may hold another
    // tree there), so nothing more is read.
    let node_chain = chain::chain_id(&args.rpc).await?;
    if node_chain != proof.chain_id {
        let why = format!(
            "the proof is for chain {}, but the node at {} answers chain {node_chain}",
            proof.chain_id, args.rpc
        );
        if args.json {
            let check = serde_json::json!({ "check": "chain", "passed": false, "detail": why });
            let out =
                serde_json::json!({ "verified": false, "solvent": false, "chain_id": node_chain, "checks": [check] });
            println!("{out}");
        } else {
            println!("REFUSED: chain: {why}");
        }
        return Ok(ExitCode::from(1));
    }
    // The commitment of the auditor's token (the proof's when none was given), at the auditor's contract.
    let read_token = token.unwrap_or(proof.token);
    let reading = chain::read(&args.rpc, contract, read_token).await?;
    let max_age = args.max_age_blocks.unwrap_or_else(|| default_max_age_blocks(reading.chain_id));
    let sources =
        Sources { chain_id: reading.chain_id, contract, token, token_ever_allowed: reading.token_ever_allowed };
    let commitment = reading.commitment;
    let mut verdict = verify_with(&proof, &sources, &commitment, reading.head, max_age);
    let mut previous = Vec::with_capacity(args.previous.len());
    for text in &args.previous {
        let other = address("previous", text)?;
        if other == contract {
            return Err(format!("--previous {text} is the --contract itself"));
        }
        let read = chain::read(&args.rpc, other, read_token).await?;
        previous.push((other, read.commitment));
    }
    judge_round(&mut verdict, &commitment, &previous);
    if args.json {
        let checks: Vec<_> = verdict
            .checks
            .iter()
            .map(|c| serde_json::json!({ "check": c.name, "passed": c.passed, "detail": c.detail }))
            .collect();
        let out = serde_json::json!({
            "verified": verdict.verified(), "solvent": verdict.solvent(), "chain_id": reading.chain_id,
            "contract": contract, "token": read_token, "head": reading.head, "max_age_blocks": max_age,
            "epoch": commitment.epoch, "as_of_block": commitment.as_of_block, "root": commitment.root,
            "total": commitment.total.to_string(), "custody": commitment.custody.to_string(), "checks": checks,
            "previous": previous.iter().map(|(a, c)| serde_json::json!({
                "contract": a, "epoch": c.epoch, "as_of_block": c.as_of_block, "total": c.total.to_string(),
                "custody": c.custody.to_string(),
            })).collect::<Vec<_>>(),
        });
        println!("{out}");
    } else {
        println!(
            "proof of {} in epoch {} (chain {}, contract {}, token {}); read at contract {} on chain {}, head {}",
            proof.user,
            proof.epoch,
            proof.chain_id,
            proof.contract,
            proof.token,
            contract,
            reading.chain_id,
            reading.head
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
