//! Treasury transfers of the company's funds and refunds of quarantined payments as outflows: checked against the
//! company's available share (under the asset's row lock, in the ledger), the contract's floor and commitment age
//! (read from the chain) and the signer's treasury recipients; signed at once (a signer that asks for no staff
//! approvals) or proposed for staff approval and signed once approved, carrying the staff signatures; the signer's
//! answer checked to be for exactly the transfer asked for.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use ledger::AssetInfo;
use ledger::authorisations::{Authorisation, OutflowKind, OutflowStatus, RefusedOutflow};
use ledger::events::EventKey;
use ledger::treasury::{
    self as transfers, Authorised, ProposedTransfer, RefundError, SignProposedError, TransferError, TransferSignature,
    TreasuryTransferRow,
};
use signer_client::SignerClient;
use signer_client::api::AssetApprovals;
use signer_client::intent::{Addr, Amount as SignerAmount, TreasuryTransferIntent};

use super::context::OutflowContext;
use super::outflow::{Outflow, OutflowFuture, Recipients};
use super::signer::{authorisation_refusal, signer_call, signer_call_raw, signer_refusal, staff_signatures};
use crate::chains::{Chain, ChainRegistry};
use crate::refusal::Refusal;
use crate::units::human;

/// Gas of a treasury transfer or refund: 21,000 and `TreasuryGasBench`'s token transfer, 121,173 (at the optimizer's
/// 200 runs, with the read of the open sales its floor adds, issue 69; 114,790 before).
pub const TRANSFER_GAS: u64 = 142_173;

alloy::sol! {
    /// The one ERC-20 view the treasury reads (custody balance of a token asset).
    #[sol(rpc)]
    interface Erc20Balance {
        function balanceOf(address account) external view returns (uint256);
    }
}

/// A treasury transfer or a refund (the kind says which).
#[derive(Debug, Clone, Copy)]
pub struct Treasury(pub OutflowKind);

impl Outflow for Treasury {
    fn kind(&self) -> OutflowKind {
        self.0
    }

    fn approvals_required(&self, _a: &Authorisation, p: &AssetApprovals) -> u64 {
        if self.0 == OutflowKind::Refund { p.refund } else { p.treasury_transfer }
    }

    fn signing_bucket(&self) -> Option<&'static str> {
        Some("treasury-transfer")
    }

    fn gas(&self, _entries: usize) -> u64 {
        TRANSFER_GAS
    }

    fn recipients<'a>(&'a self, cx: &'a OutflowContext, a: &'a Authorisation) -> OutflowFuture<'a, Recipients> {
        Box::pin(async move {
            Ok(match transfers::transfer_row(&cx.db, a.subject).await? {
                Some(t) => Recipients::One { to: t.to, amount: t.amount },
                None => Recipients::Nobody,
            })
        })
    }

    fn sign<'a>(&'a self, cx: &'a OutflowContext, staff: Address, a: &'a Authorisation) -> OutflowFuture<'a, ()> {
        Box::pin(async move { sign_proposed(cx, staff, a.subject).await.map(|_| ()) })
    }
}

/// What the Settlement contract lets leave custody in one token, as read from the chain.
#[derive(Debug, Clone, Copy)]
pub struct OnChain {
    /// The contract's balance.
    pub balance: U256,
    /// Balance minus what recipients can claim.
    pub available: U256,
    /// The latest committed liabilities less what members were paid since, plus the whole amount of the sales buyers
    /// may still take back (the contract's treasury floor, contracts/SALES.md §3).
    pub floor: U256,
    /// Commit time + treasuryCommitmentMaxAge; `None` before the first commitment.
    pub fresh_until: Option<u64>,
    /// The latest block's timestamp: the chain's now.
    pub chain_now: u64,
    /// The latest committed liabilities' total (proof of solvency) and epoch (0 before the first).
    pub committed: (U256, u64),
    /// The chain's gas price now (on TRON's JSON-RPC, the energy price in SUN).
    pub gas_price: U256,
}

impl OnChain {
    /// The most a treasury transfer or refund may take now (the contract's own checks).
    pub fn transferable(&self) -> U256 {
        if self.fresh_until.is_none_or(|until| self.chain_now > until) {
            return U256::ZERO;
        }
        self.available.min(self.balance.saturating_sub(self.floor))
    }

    /// Why the contract would refuse a transfer of `amount` now, in words an admin acts on; `None` when it would not.
    pub fn refusal(&self, amount: U256, units: impl Fn(U256) -> String) -> Option<Refusal> {
        match self.fresh_until {
            None => {
                return Some(Refusal::conflict(
                    "no_recent_commitment",
                    "the contract takes a treasury transfer only after a proof of solvency of this asset has been \
                     committed: wait for the first commitment",
                ));
            }
            Some(until) if self.chain_now > until => {
                return Some(Refusal::conflict(
                    "no_recent_commitment",
                    format!(
                        "the latest proof of solvency of this asset is too old for a treasury transfer (it allowed \
                         them until {until}, the chain's time is {}): wait for the next commitment",
                        self.chain_now
                    ),
                ));
            }
            Some(_) => {}
        }
        let transferable = self.transferable();
        (amount > transferable).then(|| {
            Refusal::unprocessable(
                "below_floor",
                format!(
                    "{} would take custody below what members are owed: the contract lets {} leave now (balance {}, \
                     floor {} = the latest committed liabilities less what members were paid since, plus the open \
                     sales buyers may take back)",
                    units(amount),
                    units(transferable),
                    units(self.balance),
                    units(self.floor)
                ),
            )
        })
    }
}

/// The custody figures in `token` of Settlement `contract` (the chain's live one when `None`), or why they could not
/// be read.
pub async fn on_chain(
    chains: &ChainRegistry,
    chain_id: u64,
    contract: Option<Address>,
    token: Address,
) -> Result<OnChain, String> {
    let chain = chains.get(chain_id).ok_or("no Settlement contract configured for this chain")?;
    let contract = contract.unwrap_or(chain.settlement);
    let access = chain.access().map_err(|e| e.to_string())?;
    let provider = &access.provider;
    let read = async {
        let e = |e: alloy::contract::Error| e.to_string();
        let balance = if token == abi::NATIVE_TOKEN {
            provider.get_balance(contract).await.map_err(|e| e.to_string())?
        } else {
            Erc20Balance::new(token, provider).balanceOf(contract).call().await.map_err(e)?
        };
        let settlement = abi::Settlement::new(contract, provider);
        let available = settlement.available(token).call().await.map_err(e)?;
        // A Settlement from before the sales desk (a wound-down contract) has no `salesDesk`: it reverts, no open sales.
        let open_sales = match settlement.salesDesk().call().await {
            Ok(desk) => abi::SettlementSales::new(desk, provider).openSales(token).call().await.map_err(e)?.amount,
            Err(err) if err.as_revert_data().is_some() => U256::ZERO,
            Err(err) => return Err(e(err)),
        };
        let floor = settlement.floor(token).call().await.map_err(e)?.floor_.saturating_add(open_sales);
        let committed: u64 = settlement.latestCommitTime(token).call().await.map_err(e)?.try_into().unwrap_or(u64::MAX);
        let max_age: u64 =
            settlement.treasuryCommitmentMaxAge().call().await.map_err(e)?.try_into().unwrap_or(u64::MAX);
        let latest = provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the node has no latest block")?;
        let fresh_until = (committed != 0).then(|| committed.saturating_add(max_age));
        let liabilities = settlement.latestLiabilities(token).call().await.map_err(e)?;
        let committed = (U256::from(liabilities.total), liabilities.epoch);
        let gas_price = U256::from(provider.get_gas_price().await.map_err(|e| e.to_string())?);
        let chain_now = latest.header.timestamp;
        Ok::<_, String>(OnChain { balance, available, floor, fresh_until, chain_now, committed, gas_price })
    };
    match tokio::time::timeout(std::time::Duration::from_secs(10), read).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(chain_id, error = %e, "reading the contract's custody figures failed");
            Err("the chain's RPC could not be read".into())
        }
        Err(_) => Err("the chain's RPC did not answer in time".into()),
    }
}

/// How a new transfer or refund is authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Signed at once (a signer that asks for no staff approvals).
    Sign,
    /// Proposed for staff approval: stored `proposed` with its authorisation, its deadline the chain's time plus the
    /// chain's `approval_window_secs`; signed once approved ([`sign_proposed`]).
    Propose,
}

/// Checks and stores a transfer of `amount` of company funds of `asset_id` to `to` by finance wallet `staff`, signed
/// or proposed (`mode`): never more than `available` (checked and stored under the asset's row lock) nor below the
/// contract's floor, only to one of the signer's treasury recipients.
pub async fn transfer(
    cx: &OutflowContext,
    staff: Address,
    asset_id: i32,
    to: Address,
    amount: U256,
    mode: Mode,
) -> Result<(TreasuryTransferRow, AssetInfo), Refusal> {
    if to == Address::ZERO {
        return Err(Refusal::unprocessable("invalid_address", "to must not be the zero address"));
    }
    if amount.is_zero() {
        return Err(Refusal::unprocessable("invalid_amount", "amount must be greater than zero"));
    }
    let asset = super::context::asset(&cx.db, asset_id).await?;
    super::context::refuse_if_exit_open(&cx.db, asset_id).await?;
    check_floor(cx, &asset, amount).await?;
    let chain = cx.chains.chain(asset.chain_id)?;
    let client = cx.treasury_signer()?;
    check_recipient(client, &asset, chain.settlement, to).await?;
    let now = chain.now(&cx.clock).await;
    let actor = staff.to_checksum(None);
    let authorise = |r: transfers::TransferRequest| authorise(cx, client, chain, now, r, staff, mode);
    let row = transfers::transfer(&cx.db, asset_id, to, amount, &actor, authorise).await.map_err(|e| match e {
        TransferError::Db(e) => e.into(),
        TransferError::UnknownAsset(id) => Refusal::unprocessable("unknown_asset", format!("no asset {id}")),
        TransferError::ExceedsAvailable { available, requested } => Refusal::unprocessable(
            "exceeds_available",
            format!("{requested} exceeds the company share available for transfer ({available})"),
        ),
        TransferError::Sign(e) => e,
        TransferError::Authorisation(e) => authorisation_refusal(e),
    })?;
    Ok((row, asset))
}

/// Checks and stores the refund of quarantined `event` by finance wallet `staff`, signed or proposed (`mode`);
/// answers the row and the asset's token.
pub async fn refund(
    cx: &OutflowContext,
    staff: Address,
    event: EventKey,
    mode: Mode,
) -> Result<(TreasuryTransferRow, Address), Refusal> {
    let asset = transfers::quarantined_asset(&cx.db, &event).await?;
    let asset = asset.ok_or(Refusal::NotFound)?;
    if let Some(asset_id) = asset {
        super::context::refuse_if_exit_open(&cx.db, asset_id).await?;
    }
    let info = match asset {
        Some(asset_id) => Some(super::context::asset(&cx.db, asset_id).await?),
        None => None, // `no_asset`: refused below before anything is signed.
    };
    let token = info.as_ref().map_or(Address::ZERO, |a| a.token);
    let actor = staff.to_checksum(None);
    // The signer, contract and deadline are looked up once the ledger found the event refundable: 409 before 503.
    let info = info.as_ref();
    let authorise = |r: transfers::TransferRequest| async move {
        if let Some(asset) = info {
            check_floor(cx, asset, r.amount).await?;
        }
        let client = cx.treasury_signer()?;
        let chain = cx.chains.chain(r.chain_id)?;
        let now = chain.now(&cx.clock).await;
        authorise(cx, client, chain, now, r, staff, mode).await
    };
    let row = transfers::refund(&cx.db, event, &actor, authorise).await.map_err(|e| match e {
        RefundError::Db(e) => e.into(),
        RefundError::UnknownEvent(_) => Refusal::NotFound,
        RefundError::NotRefundable { code, message } => Refusal::Conflict { code, message },
        RefundError::Sign(e) => e,
        RefundError::Authorisation(e) => authorisation_refusal(e),
    })?;
    Ok((row, token))
}

/// Signs treasury transfer or refund `id`, proposed for approval, for finance wallet `staff`: the stored staff
/// signatures go to the signer with it (it checks them against its own list), at the contract and deadline fixed at
/// proposal. `not_proposed` when it was not proposed, `authorisation_closed` when its authorisation is closed,
/// `approvals_missing` (audited) when the signer finds its approvals short, `exit_open`; a retry answers it as signed.
/// Answers the row, its asset and the contract it is signed for.
pub async fn sign_proposed(
    cx: &OutflowContext,
    staff: Address,
    id: i64,
) -> Result<(TreasuryTransferRow, AssetInfo, Address), Refusal> {
    let row = transfers::transfer_row(&cx.db, id).await?.ok_or(Refusal::NotFound)?;
    let kind = if row.refund_of.is_some() { OutflowKind::Refund } else { OutflowKind::TreasuryTransfer };
    let not_proposed = || {
        Refusal::conflict(
            "not_proposed",
            format!("treasury transfer {id} was not proposed for approval: nothing of it is signed here"),
        )
    };
    let a = ledger::authorisations::signatures_for(&cx.db, kind, id)
        .await
        .map_err(authorisation_refusal)?
        .ok_or_else(not_proposed)?;
    let asset = super::context::asset(&cx.db, row.asset_id).await?;
    if row.status == OutflowStatus::Proposed {
        super::context::refuse_if_exit_open(&cx.db, row.asset_id).await?;
        check_floor(cx, &asset, row.amount).await?;
    }
    let client = cx.treasury_signer()?;
    let actor = staff.to_checksum(None);
    let a = &a;
    let sign = |r: transfers::TransferRequest, deadline: u64| {
        sign_transfer(cx, client, a.contract, deadline, r, Some(a), staff)
    };
    let row = transfers::sign_proposed(&cx.db, id, &actor, sign).await.map_err(|e| match e {
        SignProposedError::Db(e) => e.into(),
        SignProposedError::Unknown(_) => Refusal::NotFound,
        SignProposedError::NotProposed(id, status) => {
            Refusal::conflict("not_proposed", format!("treasury transfer {id} is {status}: it can no longer be signed"))
        }
        SignProposedError::Sign(e) => e,
    })?;
    Ok((row, asset, a.contract))
}

/// A new transfer `r`'s authorisation on `chain` at the chain's time `now`: the signer's signature (valid for the
/// chain's `signature_ttl_secs`), or the proposal staff will approve (valid for its `approval_window_secs`).
async fn authorise(
    cx: &OutflowContext,
    client: &SignerClient,
    chain: &Chain,
    now: u64,
    r: transfers::TransferRequest,
    staff: Address,
    mode: Mode,
) -> Result<Authorised, Refusal> {
    let contract = chain.settlement;
    match mode {
        Mode::Sign => {
            let deadline = now + chain.signature_ttl_secs;
            sign_transfer(cx, client, contract, deadline, r, None, staff).await.map(Authorised::Signed)
        }
        Mode::Propose => {
            let deadline = now + chain.approval_window_secs;
            let payload = abi::SettlementDomain::new(r.chain_id, contract).digest(&settlement_transfer(&r, deadline));
            Ok(Authorised::Proposed(ProposedTransfer { deadline, contract, payload, proposer: staff }))
        }
    }
}

/// The Settlement payload of transfer `r` valid until `deadline`.
fn settlement_transfer(r: &transfers::TransferRequest, deadline: u64) -> abi::TreasuryTransfer {
    abi::TreasuryTransfer { token: r.token, to: r.to, amount: r.amount, nonce: r.nonce, deadline: U256::from(deadline) }
}

/// Refuses, before anything is signed, a transfer or refund of `amount` that the contract would refuse now: one that
/// would take custody below the floor (the latest committed liabilities less what members were paid since) or come
/// without a recent enough commitment (the contract is the authority; this only spares the admin a signature that
/// cannot execute). When the chain cannot be read, nothing is refused here: the contract still checks.
async fn check_floor(cx: &OutflowContext, asset: &AssetInfo, amount: U256) -> Result<(), Refusal> {
    let contract = cx.chains.get(asset.chain_id).map(|c| c.settlement);
    let chain = match on_chain(&cx.chains, asset.chain_id, contract, asset.token).await {
        Ok(chain) => chain,
        Err(note) => {
            tracing::warn!(chain_id = asset.chain_id, note, "the floor could not be read before signing");
            return Ok(());
        }
    };
    match chain.refusal(amount, |v| human(v, asset.decimals, &asset.symbol)) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// Refuses, before anything is stored or proposed, a transfer to an address the signer never sends company funds to
/// (its `treasury_recipients` for the asset, from `GET /v1/policy`): such a transfer could never be signed, and a
/// proposal of it would wait for approvals in vain (issue 65). `recipient_not_allowed`.
async fn check_recipient(
    client: &SignerClient,
    asset: &AssetInfo,
    contract: Address,
    to: Address,
) -> Result<(), Refusal> {
    let policy = signer_call(client.policy(asset.chain_id, contract, asset.token)).await?;
    if policy.treasury_recipients.iter().any(|r| r.0 == to) {
        return Ok(());
    }
    let allowed: Vec<String> =
        policy.treasury_recipients.iter().map(|r| abi::tron::show(asset.chain_id, r.0)).collect();
    Err(Refusal::unprocessable(
        "recipient_not_allowed",
        format!(
            "the signer sends company funds only to its treasury recipients on chain {} ({}); {} is not one",
            asset.chain_id,
            if allowed.is_empty() { "none configured".to_owned() } else { allowed.join(", ") },
            abi::tron::show(asset.chain_id, to)
        ),
    ))
}

/// Has the signer sign `r` as a treasury transfer on `contract`, valid until `deadline` (a refund names the
/// payment it returns), with `authorisation`'s staff signatures when it was proposed, and checks that its answer is
/// for exactly that transfer: the one way a treasury transfer's signature is asked for. A refusal for want of
/// approvals is `approvals_missing` and is audited with `staff` as the actor.
async fn sign_transfer(
    cx: &OutflowContext,
    client: &SignerClient,
    contract: Address,
    deadline: u64,
    r: transfers::TransferRequest,
    authorisation: Option<&Authorisation>,
    staff: Address,
) -> Result<TransferSignature, Refusal> {
    let intent = TreasuryTransferIntent {
        chain_id: r.chain_id,
        contract: Addr(contract),
        token: Addr(r.token),
        to: Addr(r.to),
        amount: SignerAmount(r.amount),
        nonce: Some(SignerAmount(r.nonce)),
        deadline: Some(deadline),
        refund_of: r.refund_of.map(SignerAmount),
        approvals: authorisation.map(staff_signatures).unwrap_or_default(),
    };
    let signed = match signer_call_raw(client.sign_treasury_transfer(&intent)).await? {
        Ok(signed) => signed,
        Err(e) => {
            let audited = match authorisation {
                Some(a) => RefusedOutflow::Authorised(a.id),
                None if r.refund_of.is_some() => RefusedOutflow::Unproposed(OutflowKind::Refund),
                None => RefusedOutflow::Unproposed(OutflowKind::TreasuryTransfer),
            };
            return Err(signer_refusal(cx, Some(audited), staff, e).await);
        }
    };
    let digest = abi::SettlementDomain::new(r.chain_id, contract).digest(&settlement_transfer(&r, deadline));
    if !signed.is_for(r.chain_id, contract, digest, r.nonce, deadline) {
        return Err(Refusal::Internal(eyre::eyre!(
            "signer answer does not match the treasury transfer (digest {} vs {digest})",
            signed.digest
        )));
    }
    if authorisation.is_some_and(|a| a.payload != digest) {
        return Err(Refusal::Internal(eyre::eyre!("treasury transfer {} differs from what was approved", r.nonce)));
    }
    Ok(TransferSignature { deadline, signature: signed.signature.to_vec() })
}
