//! `solvency-verify PROOF.json --rpc URL --contract ADDRESS [--token ADDRESS] [--previous ADDRESS]… [--max-age-blocks N]`
//! `solvency-verify exit PROOF.json --rpc URL --contract ADDRESS (--keystore FILE | --private-key-env VAR)
//!  [--tron-grpc URL] [--to ADDRESS] [--dry-run]`, `solvency-verify leave PROOF.json …` (the same arguments: leaving
//! while a change of power is pending), `solvency-verify open --token ADDRESS --rpc … --contract …`: an auditor's
//! check of a proof of solvency against the chain. The contract (and the token, when given) come from the auditor —
//! the deployment's record (`deployments/<network>.json`), never the proof file or the operator's API —, and a proof
//! naming another is refused; the node's chain id must be the proof's; the contract must have allowed the token once.
//! Reads the commitment at that contract from the RPC given, folds the proof, and prints each check and a verdict.
//! The commitment's liabilities (its `asOfBlock`) may be at most `--max-age-blocks` behind the head (default: a day
//! of the chain's blocks). Exit status: 0 verified and solvent, 1 refused or insolvent, 2 when it could not run.

use std::process::ExitCode;

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use clap::Parser;
use solvency_verify::{MAX_PROOF_BYTES, Proof, Sources, chain, default_max_age_blocks, exit, judge_round, verify_with};

/// The members' exit (contracts/EXIT.md): if the operator has stopped, open a token's exit and exit with your proof.
#[derive(Parser)]
#[command(name = "solvency-verify", version)]
struct ExitCli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Exits with your proof (contracts/EXIT.md): opens the token's exit if it is due and not open, folds the payout
    /// batches since the commitment if needed, and claims what the proof says you are owed during the claim window
    /// (at least 30 days from the opening); run it again once the window has closed to be paid the same share of
    /// custody as every claim (anyone may send that payout). A member who does not claim in the window is paid
    /// nothing.
    Exit(ExitArgs),
    /// Opens a token's exit once it is due (anyone may: no proof needed) and folds the batches since the commitment.
    Open(OpenArgs),
    /// Leaves with your proof while a change of power is pending (contracts/EXIT.md §12): the contract pays your leaf
    /// less what payout batches since the commitment paid you, at once, with nobody's signature; you are then paid
    /// nothing more in the token.
    Leave(ExitArgs),
}

/// Where the exit reads and sends, and with which key.
#[derive(clap::Args)]
struct ChainArgs {
    /// A JSON-RPC endpoint of the chain you trust (an EVM node; on TRON its JSON-RPC): every read goes there.
    #[arg(long)]
    rpc: String,
    /// The deployment's Settlement contract (0x…, or T… on TRON), from its record (`deployments/<network>.json`).
    #[arg(long)]
    contract: String,
    /// TRON: a full node's gRPC endpoint, which the transactions are sent through (EVM: sent to --rpc).
    #[arg(long)]
    tron_grpc: Option<String>,
    /// Your encrypted JSON keystore (its passphrase in SOLVENCY_VERIFY_PASSPHRASE).
    #[arg(long, conflicts_with = "private_key_env")]
    keystore: Option<std::path::PathBuf>,
    /// The name of an environment variable holding your raw hex key (never the key itself on the command line).
    #[arg(long)]
    private_key_env: Option<String>,
    /// Show what would be sent; send nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Args)]
struct ExitArgs {
    /// Your proof file, as the dApp saved it or `GET /v1/users/solvency-proof?download=true` gave it.
    proof: std::path::PathBuf,
    #[command(flatten)]
    chain: ChainArgs,
    /// Pay the exit to this address instead of the member's own (only the member may choose another; after the claim,
    /// until it is paid, the member may send it elsewhere with the same flag).
    #[arg(long)]
    to: Option<String>,
}

#[derive(clap::Args)]
struct OpenArgs {
    /// The token whose exit to open (0x… or T…; the zero address for the native coin).
    #[arg(long)]
    token: String,
    #[command(flatten)]
    chain: ChainArgs,
}

/// Verifies a proof of solvency (SOLVENCY.md) against the commitment on the chain, at the contract you give. If the
/// operator has stopped, the members' exit: `solvency-verify exit --help`, `solvency-verify open --help`.
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

/// Where transactions go: a TRON full node's gRPC when given, else the EVM node read from.
fn sending_of(chain: &ChainArgs) -> exit::Sending {
    match &chain.tron_grpc {
        Some(grpc) => exit::Sending::Tron(grpc.clone()),
        None => exit::Sending::Evm(chain.rpc.clone()),
    }
}

/// The sender's key: from a keystore, or an environment variable.
fn sender_key(chain: &ChainArgs) -> Result<PrivateKeySigner, String> {
    match (&chain.keystore, &chain.private_key_env) {
        (Some(path), _) => {
            let passphrase = std::env::var("SOLVENCY_VERIFY_PASSPHRASE")
                .map_err(|_| "SOLVENCY_VERIFY_PASSPHRASE (the keystore's passphrase) is not set".to_owned())?;
            service_kit::keys::decrypt_keystore(path, passphrase).map_err(|e| e.to_string())
        }
        (None, Some(name)) => {
            let raw = std::env::var(name).map_err(|_| format!("{name} (your key) is not set"))?;
            raw.trim().parse::<PrivateKeySigner>().map_err(|_| format!("{name} does not hold a hex private key"))
        }
        (None, None) => Err("give --keystore FILE or --private-key-env VAR: the exit is sent from your key".into()),
    }
}

/// Waits (at most two minutes: TRON's JSON-RPC reads solidified blocks, about a minute behind) until the exit's
/// state read from --rpc satisfies `done`.
async fn wait_state(
    rpc: &str,
    settlement: Address,
    token: Address,
    done: impl Fn(&exit::ExitState) -> bool,
) -> Result<exit::ExitState, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let state = exit::state(rpc, settlement, token).await?;
        if done(&state) {
            return Ok(state);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{rpc} does not show the transaction's effect after two minutes"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Opens `token`'s exit at `settlement` when it is due and not open, then folds the batches since the commitment;
/// the state after.
async fn open_and_fold(chain: &ChainArgs, settlement: Address, token: Address) -> Result<exit::ExitState, String> {
    let sending = sending_of(chain);
    let mut state = exit::state(&chain.rpc, settlement, token).await?;
    let key = if chain.dry_run { None } else { Some(sender_key(chain)?) };
    if !state.open {
        if state.now < state.opens_at {
            return Err(format!(
                "the exit of token {token} is not open, and may be opened only from unix time {} (in {} s by the chain's \
                 clock): until then the operator can still commit",
                state.opens_at,
                state.opens_at - state.now
            ));
        }
        let call = exit::open_call(state.exits, token);
        println!("{}: due since unix time {}", call.what, state.opens_at);
        match &key {
            None => println!("  (dry run: not sent)"),
            Some(key) => {
                let tx = exit::send(&sending, key, &call).await?;
                println!("  sent: {tx}");
                state = wait_state(&chain.rpc, settlement, token, |s| s.open).await?;
            }
        }
    }
    if state.batches_to_fold != B256::ZERO {
        let batches = exit::batches_since_commitment(&chain.rpc, settlement, token).await?;
        let plan = exit::fold_plan(&batches, state.batches_to_fold).ok_or_else(|| {
            format!(
                "the {} payout batch(es) the chain shows since the commitment do not end at the running hash {} the \
                 contract holds: nothing is sent",
                batches.len(),
                state.batches_to_fold
            )
        })?;
        let call = exit::fold_call(state.exits, token, plan);
        println!("{}", call.what);
        match &key {
            None => println!("  (dry run: not sent)"),
            Some(key) if state.open => {
                let tx = exit::send(&sending, key, &call).await?;
                println!("  sent: {tx}");
                state = wait_state(&chain.rpc, settlement, token, |s| s.batches_to_fold == B256::ZERO).await?;
            }
            Some(_) => {}
        }
    }
    Ok(state)
}

async fn run_open(args: &OpenArgs) -> Result<ExitCode, String> {
    let settlement = address("contract", &args.chain.contract)?;
    let token = address("token", &args.token)?;
    let state = open_and_fold(&args.chain, settlement, token).await?;
    let window = if state.open {
        let w = exit::claim_window(&args.chain.rpc, state.exits, token).await?;
        format!(
            "; members claim until unix time {}{} ({} claimed so far)",
            w.end,
            if w.closed { ", passed: claims are paid out" } else { "" },
            w.proven
        )
    } else {
        String::new()
    };
    println!(
        "exit of token {token} at {settlement}: {}; exits contract {}{window}",
        if state.open { "OPEN" } else { "not open" },
        state.exits
    );
    Ok(ExitCode::SUCCESS)
}

/// The member's exit in its two steps (contracts/EXIT.md §13): during the claim window, the claim (`exit`) of what the
/// proof says the member is owed; once the window has closed, its payout (`payOut`), the same share for every claim.
/// Run it once in the window and once after; a second run in the window says what was claimed (and, with `--to`,
/// sends the payout elsewhere: `redirect`).
async fn run_exit(args: &ExitArgs) -> Result<ExitCode, String> {
    let (settlement, proof, to) = member_proof(args).await?;
    let state = open_and_fold(&args.chain, settlement, proof.token).await?;
    if !state.open {
        println!("(dry run: the exit would be opened first; nothing more can be shown before it is)");
        return Ok(ExitCode::SUCCESS);
    }
    let rpc = &args.chain.rpc;
    let window = exit::claim_window(rpc, state.exits, proof.token).await?;
    let claim = exit::claim_of(rpc, state.exits, proof.token, proof.user).await?;
    let when = |w: &exit::ClaimWindow| {
        if w.closed {
            format!("the claim window closed at unix time {}", w.end)
        } else {
            format!(
                "the claim window closes at unix time {} (in {} s by the chain's clock)",
                w.end,
                w.end.saturating_sub(state.now)
            )
        }
    };
    let sending = sending_of(&args.chain);
    if claim.due.is_zero() {
        let (paid_after, exited) = exit::member(rpc, state.exits, proof.token, proof.user).await?;
        if exited {
            println!("REFUSED: {} has left token {} already", proof.user, proof.token);
            return Ok(ExitCode::from(1));
        }
        if window.closed {
            println!("REFUSED: {}; no claim was made for {}: nothing can be paid", when(&window), proof.user);
            return Ok(ExitCode::from(1));
        }
        let preview = exit::preview(rpc, state.exits, &proof).await?;
        let due = preview.entitlement - preview.subtracted;
        println!(
            "{} in epoch {}: entitled to {} (reserved + held + pending + batched), less {} paid by batches after the \
             commitment ({} recorded for the member): claims {due}; paid at most {} after the window (every claim is \
             paid the same share of custody, fixed when the window closes); {}",
            proof.user,
            proof.epoch,
            preview.entitlement,
            preview.subtracted,
            paid_after,
            preview.amount,
            when(&window)
        );
        if due.is_zero() {
            println!("REFUSED: nothing to claim");
            return Ok(ExitCode::from(1));
        }
        let call = exit::exit_call(state.exits, &proof, to);
        println!("{}", call.what);
        if args.chain.dry_run {
            println!("  (dry run: not sent)");
            return Ok(ExitCode::SUCCESS);
        }
        let tx = exit::send(&sending, &sender_key(&args.chain)?, &call).await?;
        println!(
            "CLAIMED: {due} for {to} in transaction {tx}; run this command again from unix time {} to be paid (anyone \
             may send the payout)",
            window.end
        );
        return Ok(ExitCode::SUCCESS);
    }
    if claim.paid {
        println!("REFUSED: the claim of {} ({}) was paid to {} already", proof.user, claim.due, claim.to);
        return Ok(ExitCode::from(1));
    }
    let mut payee = claim.to;
    if args.to.is_some() && to != claim.to {
        let call = exit::redirect_call(state.exits, proof.token, proof.user, to);
        println!("{}", call.what);
        if args.chain.dry_run {
            println!("  (dry run: not sent)");
        } else {
            let tx = exit::send(&sending, &sender_key(&args.chain)?, &call).await?;
            println!("  sent: {tx}");
        }
        payee = to;
    }
    if !window.closed {
        println!(
            "CLAIMED already: {} for {payee}; {}: run this command again then to be paid (anyone may send the payout)",
            claim.due,
            when(&window)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let preview = exit::preview(rpc, state.exits, &proof).await?;
    let call = exit::pay_out_call(state.exits, proof.token, proof.user, payee);
    println!(
        "{}: claimed {}, {} claimed in all, custody's share pays {}",
        call.what, claim.due, window.proven, preview.amount
    );
    if args.chain.dry_run {
        println!("  (dry run: not sent)");
        return Ok(ExitCode::SUCCESS);
    }
    let tx = exit::send(&sending, &sender_key(&args.chain)?, &call).await?;
    println!("EXITED: {} sent to {payee} in transaction {tx}", preview.amount);
    Ok(ExitCode::SUCCESS)
}

/// Leaves `token` with the proof: while a change of power is pending, paid at once by the contract (EXIT.md §12).
async fn run_leave(args: &ExitArgs) -> Result<ExitCode, String> {
    let (settlement, proof, to) = member_proof(args).await?;
    let (open, pending) = exit::leave_open(&args.chain.rpc, settlement).await?;
    if !open {
        println!("REFUSED: no change of power is pending at {settlement}: members may leave only while one is");
        return Ok(ExitCode::from(1));
    }
    let state = exit::state(&args.chain.rpc, settlement, proof.token).await?;
    let (_, exited) = exit::member(&args.chain.rpc, state.exits, proof.token, proof.user).await?;
    if exited {
        println!("REFUSED: {} has left or exited token {} already", proof.user, proof.token);
        return Ok(ExitCode::from(1));
    }
    let batches = if state.batches_to_fold == B256::ZERO {
        Vec::new()
    } else {
        let executed = exit::batches_since_commitment(&args.chain.rpc, settlement, proof.token).await?;
        exit::fold_plan(&executed, state.batches_to_fold).ok_or_else(|| {
            format!(
                "the {} payout batch(es) the chain shows since the commitment do not end at the running hash {} the \
                 contract holds: nothing is sent",
                executed.len(),
                state.batches_to_fold
            )
        })?
    };
    let preview = exit::preview_leave(&args.chain.rpc, state.exits, &proof, &batches).await?;
    println!(
        "{pending} change(s) of power pending: {} in epoch {}: entitled to {} (reserved + held + pending + batched), \
         less {} paid by batches after the commitment, receives {}",
        proof.user, proof.epoch, preview.entitlement, preview.subtracted, preview.amount
    );
    let call = exit::leave_call(state.exits, &proof, batches, to);
    println!("{}", call.what);
    if args.chain.dry_run {
        println!("  (dry run: not sent)");
        return Ok(ExitCode::SUCCESS);
    }
    let sending = sending_of(&args.chain);
    let tx = exit::send(&sending, &sender_key(&args.chain)?, &call).await?;
    println!("LEFT: {} sent to {to} in transaction {tx}", preview.amount);
    Ok(ExitCode::SUCCESS)
}

/// The member's proof of `args`, checked against the contract and the node given (a proof of another contract's tree
/// or chain is refused), with the Settlement and the address to pay (the member's own unless `--to`).
async fn member_proof(args: &ExitArgs) -> Result<(Address, Proof, Address), String> {
    let settlement = address("contract", &args.chain.contract)?;
    let proof = read_proof(&args.proof)?;
    if proof.contract != settlement {
        return Err(format!(
            "the proof names contract {}, not the one given ({settlement}): its leaf is in another contract's tree",
            proof.contract
        ));
    }
    let node_chain = chain::chain_id(&args.chain.rpc).await?;
    if node_chain != proof.chain_id {
        return Err(format!(
            "the proof is for chain {}, the node at {} is chain {node_chain}",
            proof.chain_id, args.chain.rpc
        ));
    }
    // A sales-plan asset's leaf has a sixth component the exit contract does not take yet (contracts/EXIT.md §14):
    // said before any transaction, rather than left to the contract's InvalidProof.
    if proof.balances.maturing.is_some() {
        return Err(
            "the proof is of a sales-plan asset (a 0x03 leaf, with maturing commissions): this contract's exit \
                    takes five-component leaves only, so this asset cannot be exited with it yet"
                .to_owned(),
        );
    }
    let to = args.to.as_deref().map(|t| address("to", t)).transpose()?.unwrap_or(proof.user);
    Ok((settlement, proof, to))
}

/// A proof file, bounded in size before it is read.
fn read_proof(path: &std::path::Path) -> Result<Proof, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    if size > MAX_PROOF_BYTES as u64 {
        return Err(format!("{}: {size} bytes is not a proof (at most {MAX_PROOF_BYTES})", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Proof::parse(&bytes).map_err(|why| format!("{}: the proof is malformed: {why}", path.display()))
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
    // `exit` and `open` are commands of their own; anything else is the verifier's arguments.
    let outcome = if matches!(std::env::args().nth(1).as_deref(), Some("exit" | "open" | "leave")) {
        match ExitCli::parse().command {
            Command::Exit(args) => run_exit(&args).await,
            Command::Open(args) => run_open(&args).await,
            Command::Leave(args) => run_leave(&args).await,
        }
    } else {
        run(&Args::parse()).await
    };
    match outcome {
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
