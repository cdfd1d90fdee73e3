//! The members' exit from the command line (contracts/EXIT.md): open a token's exit once it is due, fold the payout
//! batches executed since the latest commitment, and exit with a proof — reading the chain through the member's own
//! node (an EVM node, or TRON's JSON-RPC), never the operator's servers, and sending through the member's key (an
//! EVM transaction, or a TRON `TriggerSmartContract` through a full node's gRPC).

use abi::{Settlement, SettlementExit};
use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};

use crate::Proof;

/// What the member's exit contract says of a token and a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitState {
    /// The Settlement's exit contract (`exits()`).
    pub exits: Address,
    /// Whether the token's exit is open.
    pub open: bool,
    /// From when anyone may open it (unix seconds, the chain's clock).
    pub opens_at: u64,
    /// The chain's latest block time.
    pub now: u64,
    /// The running hash of the batches still to fold (zero: none).
    pub batches_to_fold: B256,
}

/// What an exit with a proof would pay (`previewExit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    /// reserved + held + pending + batched.
    pub entitlement: U256,
    /// What batches after the commitment paid (or deferred to) the member.
    pub subtracted: U256,
    /// What the exit pays now: (entitlement − subtracted) × the opening's fraction.
    pub amount: U256,
}

/// The leaf and path of `proof` as `exit`/`previewExit` take them.
pub fn exit_args(proof: &Proof) -> (SettlementExit::ExitLeaf, U256, Vec<SettlementExit::SumNode>) {
    let b = &proof.balances;
    let leaf = SettlementExit::ExitLeaf {
        member: proof.user,
        reserved: b.reserved,
        held: b.held,
        pending: b.pending,
        batched: b.batched,
        claimable: b.claimable,
        salt: proof.salt,
    };
    let siblings = proof
        .siblings
        .iter()
        .map(|(hash, sum)| SettlementExit::SumNode { hash: *hash, sum: U256::from(*sum) })
        .collect();
    (leaf, U256::from(proof.index), siblings)
}

/// The running hash a batch extends (`SettlementHashes.chainBatch`): keccak256(previous ‖ nonce ‖ payoutsHash).
pub fn chain_batch(previous: B256, nonce: U256, payouts_hash: B256) -> B256 {
    let mut bytes = [0u8; 96];
    bytes[..32].copy_from_slice(previous.as_slice());
    bytes[32..64].copy_from_slice(&nonce.to_be_bytes::<32>());
    bytes[64..].copy_from_slice(payouts_hash.as_slice());
    keccak256(bytes)
}

/// One executed batch since the commitment, as the chain shows it: its nonce, its entries (from the transaction's
/// calldata) and the hash its event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedBatch {
    /// The batch's nonce.
    pub nonce: U256,
    /// Its entries.
    pub payouts: Vec<Settlement::Payout>,
    /// `PayoutBatchExecuted.payoutsHash`.
    pub payouts_hash: B256,
}

/// The `foldBatches` argument that folds the batches (in chain order, oldest first) whose running hash ends at
/// `to_fold`: the newest first, each with the hash before it. `None` when no prefix of `batches` ends there (the
/// chain's batches are not these: nothing is sent).
pub fn fold_plan(batches: &[ExecutedBatch], to_fold: B256) -> Option<Vec<SettlementExit::FoldedBatch>> {
    if to_fold == B256::ZERO {
        return Some(Vec::new());
    }
    let mut hashes = vec![B256::ZERO];
    for b in batches {
        let last = *hashes.last().expect("starts with one");
        hashes.push(chain_batch(last, b.nonce, b.payouts_hash));
    }
    let end = hashes.iter().position(|h| *h == to_fold).filter(|&n| n > 0)?;
    Some(
        (0..end)
            .rev()
            .map(|i| SettlementExit::FoldedBatch {
                previous: hashes[i],
                nonce: batches[i].nonce,
                payouts: batches[i]
                    .payouts
                    .iter()
                    .map(|p| SettlementExit::Payout { recipient: p.recipient, amount: p.amount })
                    .collect(),
            })
            .collect(),
    )
}

fn reader(rpc_url: &str) -> Result<impl Provider + Clone, String> {
    let url = rpc_url.parse().map_err(|e| format!("RPC URL {rpc_url:.100}: {e}"))?;
    let http =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().map_err(|e| e.to_string())?;
    Ok(ProviderBuilder::new().connect_reqwest(http, url))
}

/// Reads the exit's state of `token` at `settlement` from the node at `rpc_url`.
pub async fn state(rpc_url: &str, settlement: Address, token: Address) -> Result<ExitState, String> {
    let provider = reader(rpc_url)?;
    let contract = Settlement::new(settlement, &provider);
    let exits = contract
        .exits()
        .call()
        .await
        .map_err(|e| format!("exits() at {settlement}: {e} (a Settlement with the exit?)"))?;
    let opens_at = contract.exitOpensAt(token).call().await.map_err(|e| format!("exitOpensAt: {e}"))?;
    let opening =
        SettlementExit::new(exits, &provider).opening(token).call().await.map_err(|e| format!("opening: {e}"))?;
    let batches_to_fold = if opening.open {
        opening.batchesToFold
    } else {
        contract.batchesSinceCommitment(token).call().await.map_err(|e| format!("batchesSinceCommitment: {e}"))?.head
    };
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| format!("eth_getBlockByNumber: {e}"))?
        .ok_or("the node has no latest block")?;
    Ok(ExitState {
        exits,
        open: opening.open,
        opens_at: opens_at.try_into().unwrap_or(u64::MAX),
        now: block.header.timestamp,
        batches_to_fold,
    })
}

/// What exiting with `proof` would pay now (`previewExit`; an error while the exit is not open or the proof is
/// refused, in the contract's words).
pub async fn preview(rpc_url: &str, exits: Address, proof: &Proof) -> Result<Preview, String> {
    let provider = reader(rpc_url)?;
    let (leaf, index, siblings) = exit_args(proof);
    let p = SettlementExit::new(exits, &provider)
        .previewExit(proof.token, leaf, index, siblings)
        .call()
        .await
        .map_err(|e| refusal("previewExit", &e))?;
    Ok(Preview { entitlement: p.entitlement, subtracted: p.subtracted, amount: p.amount })
}

/// A token's claim window (contracts/EXIT.md §13, `claimWindow`): members claim until `end`, then each claim is paid
/// the same share, min(1, custody / proven).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimWindow {
    /// When claims stop and payouts start (unix seconds, the chain's clock).
    pub end: u64,
    /// Whether the chain's clock has reached `end`.
    pub closed: bool,
    /// The claims' sum.
    pub proven: U256,
    /// What is left to return to the company: custody − min(custody, proven).
    pub surplus: U256,
    /// Whether the surplus went back.
    pub surplus_returned: bool,
}

/// The claim window of `token`'s opened exit.
pub async fn claim_window(rpc_url: &str, exits: Address, token: Address) -> Result<ClaimWindow, String> {
    let provider = reader(rpc_url)?;
    let w = SettlementExit::new(exits, &provider)
        .claimWindow(token)
        .call()
        .await
        .map_err(|e| format!("claimWindow: {e} (an exit contract with a claim window?)"))?;
    Ok(ClaimWindow {
        end: w.end,
        closed: w.closed,
        proven: w.proven,
        surplus: w.surplus,
        surplus_returned: w.surplusReturned,
    })
}

/// A member's claim (`claimOf`): zero `due` when they made none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// What the member proved they are owed (entitlement − what the batches since paid them).
    pub due: U256,
    /// Where the payout goes.
    pub to: Address,
    /// Whether it was paid.
    pub paid: bool,
}

/// `member`'s claim on `token`'s exit.
pub async fn claim_of(rpc_url: &str, exits: Address, token: Address, member: Address) -> Result<Claim, String> {
    let provider = reader(rpc_url)?;
    let c = SettlementExit::new(exits, &provider)
        .claimOf(token, member)
        .call()
        .await
        .map_err(|e| format!("claimOf: {e}"))?;
    Ok(Claim { due: c.due, to: c.to, paid: c.paid })
}

/// Whether members may leave `settlement` now (`leaveOpen`: a change of power is pending, contracts/EXIT.md §12), and
/// how many changes are pending (`pendingCount`).
pub async fn leave_open(rpc_url: &str, settlement: Address) -> Result<(bool, U256), String> {
    let provider = reader(rpc_url)?;
    let contract = Settlement::new(settlement, &provider);
    let open = contract.leaveOpen().call().await.map_err(|e| format!("leaveOpen: {e} (a Settlement with leaving?)"))?;
    let pending = contract.pendingCount().call().await.map_err(|e| format!("pendingCount: {e}"))?;
    Ok((open, pending))
}

/// What leaving with `proof` would pay now (`previewLeave`), the batches since the commitment given newest first;
/// an error when the contract refuses it, in its words.
pub async fn preview_leave(
    rpc_url: &str,
    exits: Address,
    proof: &Proof,
    batches: &[SettlementExit::FoldedBatch],
) -> Result<Preview, String> {
    let provider = reader(rpc_url)?;
    let (leaf, index, siblings) = exit_args(proof);
    let p = SettlementExit::new(exits, &provider)
        .previewLeave(proof.token, leaf, index, siblings, batches.to_vec())
        .call()
        .await
        .map_err(|e| refusal("previewLeave", &e))?;
    Ok(Preview { entitlement: p.entitlement, subtracted: p.subtracted, amount: p.amount })
}

/// Whether `member` has exited already, and what batches after the commitment paid them (`memberExit`).
pub async fn member(rpc_url: &str, exits: Address, token: Address, member: Address) -> Result<(U256, bool), String> {
    let provider = reader(rpc_url)?;
    let m = SettlementExit::new(exits, &provider)
        .memberExit(token, member)
        .call()
        .await
        .map_err(|e| format!("memberExit: {e}"))?;
    Ok((m.paidAfterCommitment, m.exited))
}

/// The payout batches of `token` executed at `settlement` since its latest commitment, oldest first, each read from
/// its transaction's calldata and checked against the hash its event carries.
pub async fn batches_since_commitment(
    rpc_url: &str,
    settlement: Address,
    token: Address,
) -> Result<Vec<ExecutedBatch>, String> {
    let provider = reader(rpc_url)?;
    let latest = Settlement::new(settlement, &provider)
        .latestLiabilities(token)
        .call()
        .await
        .map_err(|e| format!("latestLiabilities: {e}"))?;
    let head = provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
    // Within the commitment's block, only what came after the commitment's own log.
    let from = latest.commitBlock;
    let mut after_index = None;
    if latest.epoch > 0 {
        let filter = Filter::new()
            .address(settlement)
            .event_signature(Settlement::LiabilitiesCommitted::SIGNATURE_HASH)
            .topic1(token.into_word())
            .from_block(from)
            .to_block(from);
        let logs = provider.get_logs(&filter).await.map_err(|e| format!("eth_getLogs: {e}"))?;
        after_index = logs.iter().filter_map(|l| l.log_index).max();
    }
    let mut batches = Vec::new();
    // TRON's JSON-RPC answers at most 5,000 blocks a query.
    let mut start = from;
    while start <= head {
        let end = (start + 4_999).min(head);
        let filter = Filter::new()
            .address(settlement)
            .event_signature(Settlement::PayoutBatchExecuted::SIGNATURE_HASH)
            .topic2(token.into_word())
            .from_block(start)
            .to_block(end);
        let logs = provider.get_logs(&filter).await.map_err(|e| format!("eth_getLogs: {e}"))?;
        for log in logs {
            let (Some(block), Some(index), Some(tx)) = (log.block_number, log.log_index, log.transaction_hash) else {
                return Err("a log without its block, index or transaction".into());
            };
            if block == from && after_index.is_some_and(|a| index < a) {
                continue;
            }
            let event = Settlement::PayoutBatchExecuted::decode_log_data(log.data())
                .map_err(|e| format!("PayoutBatchExecuted in {tx}: {e}"))?;
            let sent = provider
                .get_transaction_by_hash(tx)
                .await
                .map_err(|e| format!("eth_getTransactionByHash({tx}): {e}"))?
                .ok_or_else(|| format!("the node does not have transaction {tx}"))?;
            let input: Bytes = alloy::consensus::Transaction::input(&sent).clone();
            let call = Settlement::executePayoutBatchCall::abi_decode(&input).map_err(|_| {
                format!(
                    "batch {} was executed by transaction {tx}, which is not a direct executePayoutBatch call: its \
                     entries cannot be read from its calldata (fold it with a tool that can trace it)",
                    event.nonce
                )
            })?;
            let payouts = call.batch.payouts;
            let payouts_hash = abi::payouts_hash(&payouts);
            if payouts_hash != event.payoutsHash || call.batch.nonce != event.nonce {
                return Err(format!("transaction {tx}'s batch is not the one its event names (nonce {})", event.nonce));
            }
            batches.push(ExecutedBatch { nonce: event.nonce, payouts, payouts_hash });
        }
        start = end + 1;
    }
    Ok(batches)
}

/// The contract's refusal of `what`, in its own error's name when it has one.
fn refusal(what: &str, e: &alloy::contract::Error) -> String {
    if let Some(decoded) = e.as_decoded_interface_error::<SettlementExit::SettlementExitErrors>() {
        return format!("{what}: the exit contract refuses: {decoded:?}");
    }
    if let Some(decoded) = e.as_decoded_interface_error::<Settlement::SettlementErrors>() {
        return format!("{what}: the Settlement refuses: {decoded:?}");
    }
    format!("{what}: {e}")
}

/// A call to send, with what it is for.
#[derive(Debug, Clone)]
pub struct Call {
    /// The contract called.
    pub to: Address,
    /// The calldata.
    pub data: Bytes,
    /// What it does, in words.
    pub what: String,
}

/// `openExit(token)` on `exits`.
pub fn open_call(exits: Address, token: Address) -> Call {
    let data = SettlementExit::openExitCall { token }.abi_encode().into();
    Call { to: exits, data, what: format!("open the exit of token {token}") }
}

/// `foldBatches(token, batches)` on `exits`.
pub fn fold_call(exits: Address, token: Address, batches: Vec<SettlementExit::FoldedBatch>) -> Call {
    let n = batches.len();
    let data = SettlementExit::foldBatchesCall { token, batches }.abi_encode().into();
    Call { to: exits, data, what: format!("fold the {n} payout batch(es) executed since the commitment") }
}

/// `exit(token, leaf, index, siblings, to)` on `exits`: the member's claim, paid after the claim window.
pub fn exit_call(exits: Address, proof: &Proof, to: Address) -> Call {
    let (leaf, index, siblings) = exit_args(proof);
    let data = SettlementExit::exitCall { token: proof.token, leaf, index, siblings, to }.abi_encode().into();
    Call { to: exits, data, what: format!("claim the exit of {} (paid to {to} after the claim window)", proof.user) }
}

/// `payOut(token, member)` on `exits`: anyone may send it once the claim window has closed.
pub fn pay_out_call(exits: Address, token: Address, member: Address, to: Address) -> Call {
    let data = SettlementExit::payOutCall { token, member }.abi_encode().into();
    Call { to: exits, data, what: format!("pay out the claim of {member} to {to}") }
}

/// `redirect(token, to)` on `exits`: the member's own claim paid elsewhere (only the member may send it).
pub fn redirect_call(exits: Address, token: Address, member: Address, to: Address) -> Call {
    let data = SettlementExit::redirectCall { token, to }.abi_encode().into();
    Call { to: exits, data, what: format!("pay the claim of {member} to {to} instead") }
}

/// `leave(token, leaf, index, siblings, batches, to)` on `exits`.
pub fn leave_call(exits: Address, proof: &Proof, batches: Vec<SettlementExit::FoldedBatch>, to: Address) -> Call {
    let (leaf, index, siblings) = exit_args(proof);
    let n = batches.len();
    let data = SettlementExit::leaveCall { token: proof.token, leaf, index, siblings, batches, to }.abi_encode().into();
    Call {
        to: exits,
        data,
        what: format!("leave token {} as {} to {to} ({n} batch(es) since the commitment)", proof.token, proof.user),
    }
}

/// Where the CLI sends: an EVM node, or a TRON full node's gRPC.
#[derive(Debug, Clone)]
pub enum Sending {
    /// An EVM JSON-RPC endpoint (the same as the reads').
    Evm(String),
    /// A TRON full node's gRPC endpoint.
    Tron(String),
}

/// Sends `call` from `key` and waits for it; the transaction's id.
pub async fn send(
    sending: &Sending,
    key: &alloy::signers::local::PrivateKeySigner,
    call: &Call,
) -> Result<B256, String> {
    match sending {
        Sending::Evm(rpc_url) => {
            let url = rpc_url.parse().map_err(|e| format!("RPC URL {rpc_url:.100}: {e}"))?;
            let provider =
                ProviderBuilder::new().wallet(alloy::network::EthereumWallet::from(key.clone())).connect_http(url);
            let tx = alloy::rpc::types::TransactionRequest::default().to(call.to).input(call.data.clone().into());
            let pending = provider.send_transaction(tx).await.map_err(|e| format!("{}: {e}", call.what))?;
            let receipt = pending.get_receipt().await.map_err(|e| format!("{}: {e}", call.what))?;
            if !receipt.status() {
                return Err(format!("{}: transaction {} reverted", call.what, receipt.transaction_hash));
            }
            Ok(receipt.transaction_hash)
        }
        Sending::Tron(grpc_url) => {
            let (client, signer) = deploy::tron::client(grpc_url, key.to_bytes().as_slice())
                .await
                .map_err(|e| format!("{grpc_url}: {e}"))?;
            send_tron(&client, &signer, call).await.map_err(|e| format!("{}: {e}", call.what))
        }
    }
}

/// How long a TRON transaction stays valid: java-tron's default `trxExpirationTimeInMilliseconds`.
const TRON_EXPIRATION: time::Duration = time::Duration::seconds(60);
/// How long a TRON transaction may take to reach a block.
const TRON_MINED_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// A `TriggerSmartContract` of `call`, signed by `signer`, broadcast and followed until its block; its id. Its
/// expiration counts from the chain's head block, as java-tron's own builder sets it (`Wallet.setTransaction`: the
/// head block's time plus 60 s; TronWeb's transactions are built there), not from this machine's clock alone: a
/// member's clock a minute behind the chain's, or a chain whose clock ran ahead, would otherwise make every
/// transaction expired on arrival (`TRANSACTION_EXPIRATION_ERROR`). Never before this clock's now plus 60 s either,
/// which tronic checks before signing.
async fn send_tron(
    client: &deploy::tron::TronClient,
    signer: &tronic::signer::LocalSigner,
    call: &Call,
) -> Result<B256, String> {
    use tronic::{
        client::pending::{ManualSigning, PendingTransaction},
        domain::{
            Hash32,
            address::TronAddress,
            contract::{Contract, ContractType, TriggerSmartContract},
            transaction::{Transaction, TxCode},
            trx::Trx,
        },
        provider::TronProvider,
    };
    let owner = signer.address();
    let trigger = TriggerSmartContract {
        owner_address: owner,
        contract_address: TronAddress::from(call.to),
        data: call.data.to_vec().into(),
        ..Default::default()
    };
    let head = client.provider().get_now_block().await.map_err(|e| format!("GetNowBlock: {e}"))?;
    let contract = Contract { contract_type: ContractType::TriggerSmartContract(trigger), ..Default::default() };
    let mut transaction = Transaction::new(contract, &head, Default::default());
    transaction.raw.expiration = head.block_header.raw_data.timestamp.max(transaction.raw.timestamp) + TRON_EXPIRATION;
    let mut pending: PendingTransaction<'_, _, _, ManualSigning> =
        PendingTransaction::new(client, transaction, owner, Trx::ZERO, Vec::new(), true)
            .await
            .map_err(|e| e.to_string())?;
    pending.sign(signer, &()).await.map_err(|e| e.to_string())?;
    let txid = B256::from_slice(pending.txid().as_ref());
    client.provider().broadcast_transaction(pending.transaction()).await.map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + TRON_MINED_WITHIN;
    loop {
        let info = client
            .provider()
            .get_transaction_info(Hash32::from(txid.0))
            .await
            .map_err(|e| format!("GetTransactionInfoById({txid}): {e}"))?;
        if info.block_number > 0 {
            if info.result != TxCode::Sucess {
                return Err(format!("TRON transaction {txid} failed: {:?} {:?}", info.res_message, info.receipt));
            }
            return Ok(txid);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("TRON transaction {txid} was not in a block within {TRON_MINED_WITHIN:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(nonce: u64, amounts: &[u64]) -> ExecutedBatch {
        let payouts: Vec<Settlement::Payout> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| Settlement::Payout {
                recipient: Address::with_last_byte(i as u8 + 1),
                amount: U256::from(*a),
            })
            .collect();
        let payouts_hash = abi::payouts_hash(&payouts);
        ExecutedBatch { nonce: U256::from(nonce), payouts, payouts_hash }
    }

    #[test]
    fn the_fold_goes_newest_first_each_batch_with_the_hash_before_it() {
        let batches = [batch(7, &[1, 2]), batch(9, &[3]), batch(12, &[4, 5, 6])];
        let h1 = chain_batch(B256::ZERO, U256::from(7), batches[0].payouts_hash);
        let h2 = chain_batch(h1, U256::from(9), batches[1].payouts_hash);
        let h3 = chain_batch(h2, U256::from(12), batches[2].payouts_hash);
        let plan = fold_plan(&batches, h3).unwrap();
        assert_eq!(
            plan.iter().map(|b| (b.previous, b.nonce)).collect::<Vec<_>>(),
            vec![(h2, U256::from(12)), (h1, U256::from(9)), (B256::ZERO, U256::from(7))]
        );
        assert_eq!(plan[0].payouts.len(), 3);
        // Part already folded: what remains ends at h1.
        assert_eq!(fold_plan(&batches, h1).unwrap().len(), 1);
        assert!(fold_plan(&batches, B256::ZERO).unwrap().is_empty());
        // Batches that are not the chain's: nothing to send.
        assert!(fold_plan(&batches, B256::repeat_byte(1)).is_none());
        let tampered = [batch(7, &[1, 3]), batches[1].clone(), batches[2].clone()];
        assert!(fold_plan(&tampered, h3).is_none());
    }
}
