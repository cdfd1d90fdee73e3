//! What the signer may authorise: default deny, from the `[policy]` section of the config file.
//! Pure: every check takes the clock, the store's records and what the chain's node said as arguments.

use std::collections::{HashMap, HashSet};

use abi::nonces::NonceSpace;
use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::{
    api::MAX_BODY_BYTES,
    approvals::{Approvals, ApprovalsConfig, Unapproved},
    auth::Authenticated,
    intent::{Action, Addr, Amount, Intent, Kind, PayoutBatchIntent, SaleAction, Target},
};

/// Length of the rolling window of the daily outflow cap.
pub const DAILY_WINDOW_SECS: u64 = 24 * 60 * 60;

/// The `[policy]` section of the config file, as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Deadline given to intents that state none.
    pub default_ttl_secs: u64,
    /// No payload may stay valid for longer than this from the moment it is signed.
    pub max_deadline_horizon_secs: u64,
    /// Most entries one payout batch may carry; a batch that long must fit in a request body.
    pub max_batch_entries: usize,
    /// The chains intents may target; none when absent (default deny).
    #[serde(default)]
    pub chains: Vec<ChainConfig>,
    /// Staff approvals every outflow needs ([`crate::approvals`]); absent, outflows are signed on the caller's
    /// word alone (development), and the signer says so at start.
    #[serde(default)]
    pub approvals: Option<ApprovalsConfig>,
    /// The catalogue wallets whose signed catalogue versions price sales (contracts/SALES.md §7); absent, no sale is
    /// signed (default deny).
    #[serde(default)]
    pub catalogue: Option<CatalogueConfig>,
}

/// `[policy.catalogue]`: who may sign the catalogue versions sales are priced from.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueConfig {
    /// The wallets of the staff holding the `catalogue` role; a version signed by any other is refused.
    pub signers: Vec<Addr>,
}

impl PolicyConfig {
    /// One chain, one contract and its native coin with the given caps (base units): the policy of development
    /// signers in benchmarks and tests.
    pub fn native_only(
        chain_id: u64,
        contract: Address,
        treasury_recipients: Vec<Address>,
        per_payload_cap: u128,
        per_batch_cap: u128,
        daily_outflow_cap: u128,
    ) -> Self {
        PolicyConfig {
            default_ttl_secs: 600,
            max_deadline_horizon_secs: 3_600,
            max_batch_entries: 50,
            approvals: None,
            catalogue: None,
            chains: vec![ChainConfig {
                chain_id,
                contracts: vec![Addr(contract)],
                wound_down: Vec::new(),
                treasury_recipients: treasury_recipients.into_iter().map(Addr).collect(),
                assets: vec![AssetConfig {
                    token: Addr(Address::ZERO),
                    per_payload_cap: Amount::from(per_payload_cap),
                    per_entry_cap: None,
                    per_batch_cap: Amount::from(per_batch_cap),
                    daily_outflow_cap: Amount::from(daily_outflow_cap),
                    withdrawal_fee_bps: 0,
                    daily_root_fall_cap: Amount::from(0u128),
                }],
                node: None,
            }],
        }
    }
}

/// One `[[policy.chains]]` entry: what may be signed on one chain.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's id, as intents name it.
    pub chain_id: u64,
    /// The Settlement contracts intents may target.
    pub contracts: Vec<Addr>,
    /// Contracts an upgrade replaced, each also in `contracts` (contracts/UPGRADES.md): wound down. Payout batches,
    /// refunds and liability roots are still signed for them, so that their custody is paid out to members and their
    /// floor keeps holding; registrations, retopups and treasury transfers never (no new money goes to them, and none
    /// leaves them but to members).
    #[serde(default)]
    pub wound_down: Vec<Addr>,
    /// Where treasury transfers may send company funds.
    #[serde(default)]
    pub treasury_recipients: Vec<Addr>,
    /// The assets intents may move, each with its caps.
    pub assets: Vec<AssetConfig>,
    /// The signer's own node of this chain: where it reads the chain's head, its clock and the contract's state
    /// itself, never taking the caller's word for them. Without it, liability roots and refunds are refused on this
    /// chain (default deny) and deadlines follow the host's clock. Written `solvency = { … }` by older configs.
    #[serde(default, alias = "solvency")]
    pub node: Option<NodeConfig>,
}

/// `[policy.chains.node]` (formerly `[policy.chains.solvency]`): the signer's own node of the chain.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// A JSON-RPC endpoint of the chain (`eth_getBlockByNumber`, `eth_call`): an EVM node, or TRON's JSON-RPC — its
    /// Solidity port, whose `latest` block is already solidified, with `confirmations = 0` (java-tron serves no
    /// historical state: the contract's state is read at `latest` there).
    pub rpc_url: String,
    /// Blocks below the node's head that count as confirmed: a liability root may be as of that block at the latest,
    /// and a refunded payment must be spent on chain at it.
    pub confirmations: u64,
}

/// Limits for one asset on one chain (`token = 0x000…0` is the native coin), in the asset's base units.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssetConfig {
    /// The asset's token address.
    pub token: Addr,
    /// Largest amount of a single register, retopup, treasury transfer or payout entry.
    pub per_payload_cap: Amount,
    /// Largest single payout entry, when it must differ from `per_payload_cap` (a user owed more is paid in parts
    /// across batches by the builder). Absent: `per_payload_cap`.
    #[serde(default)]
    pub per_entry_cap: Option<Amount>,
    /// Largest total of one payout batch.
    pub per_batch_cap: Amount,
    /// Largest sum of outflows (payout batches and treasury transfers) signed in any 24 hours.
    pub daily_outflow_cap: Amount,
    /// The most a plan of this asset keeps of a payout entry, in basis points (the generation and binary plans'
    /// `withdrawal_fee_bps`): a liability root may fall by that share of what the chain paid members on top of it.
    /// 0 when absent; at most 5000.
    #[serde(default)]
    pub withdrawal_fee_bps: u32,
    /// Largest sum, over any 24 hours, of what the liability roots signed for this asset fell by beyond what the
    /// chain shows left the members since the latest committed root (backend/SOLVENCY.md §1: the plans' own moves from a
    /// member to the company, such as auto-progression's company part, and forfeits). 0 when absent: a root never
    /// falls by more than the chain explains.
    #[serde(default)]
    pub daily_root_fall_cap: Amount,
}

/// The rule that refused an intent; its code is part of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The caller's configured `kinds` do not include the requested payload kind.
    CallerNotPermitted,
    /// The intent's chain is not in the policy.
    ChainNotAllowed,
    /// The contract is not allowed on that chain.
    ContractNotAllowed,
    /// The token is not an asset of that chain.
    TokenNotAllowed,
    /// A treasury transfer (not a refund) to an address that is not a treasury recipient.
    TreasuryRecipientNotAllowed,
    /// An amount above `per_payload_cap`, or a payout entry above `per_entry_cap`.
    PerPayloadCap,
    /// A payout batch whose total is above `per_batch_cap`.
    PerBatchCap,
    /// A payout batch of more than `max_batch_entries` entries.
    BatchEntries,
    /// An outflow that would take the asset's rolling 24-hour sum above `daily_outflow_cap`.
    DailyOutflowCap,
    /// A requested deadline that is not after now.
    DeadlinePassed,
    /// A requested deadline beyond now + `max_deadline_horizon_secs`.
    DeadlineHorizon,
    /// A payout or treasury transfer to the Settlement contract itself.
    RecipientIsContract,
    /// A refund that does not return exactly a payment this signer authorised, to the wallet that paid it.
    RefundNotAPayment,
    /// A refund of a payment that another signed refund may still return: one not provably dead (unspent on chain
    /// and past its deadline by the chain's confirmed time), or too many refunds of that payment signed already.
    RefundExists,
    /// A refund of a payment whose nonce is not spent on chain at the confirmed block: the payment never happened.
    PaymentNotMade,
    /// A refund of a payment that an earlier refund, spent on chain, has already returned.
    RefundExecuted,
    /// A refund on a chain without a node of the signer's own: whether the payment happened cannot be read.
    RefundsNotAllowed,
    /// A nonce outside its kind's space (`abi::nonces::NonceSpace`), or an outflow that names none.
    NonceSpace,
    /// A liability root on a chain without a node of the signer's own (`[policy.chains.node]`).
    LiabilityRootsNotAllowed,
    /// A liability root as of a block above the chain's confirmed head (as the signer reads it).
    AsOfBlockNotConfirmed,
    /// A liability root as of a block more than the contract's `maxAsOfLag()` below the chain's head.
    AsOfBlockTooOld,
    /// A liability root whose epoch is not above every epoch signed for the token (an epoch whose every signature
    /// expired unused may be signed again).
    EpochNotIncreasing,
    /// An outflow without its proposer's signature, without enough approvals from approvers other than its
    /// proposer, or without the deadline they cover (`[policy.approvals]`).
    ApprovalsMissing,
    /// A staff signature that is not over this outflow, or from a wallet not listed for what it signs.
    ApprovalInvalid,
    /// A registration, retopup or treasury transfer (not a refund) for a contract an upgrade replaced.
    ContractWoundDown,
    /// A payout batch paying a member who left the token (`hasLeft`, read on the signer's own node; contracts/EXIT.md
    /// §12): their dues were settled by their leave, and every later credit of theirs is the company's.
    RecipientLeft,
    /// A liability root whose total fell below the latest committed one by more than the chain shows was paid to
    /// members since (with the withdrawal fees kept), beyond the asset's `daily_root_fall_cap` (backend/SOLVENCY.md §1).
    RootFall,
    /// A sale where no catalogue wallet is configured (`[policy.catalogue]`) or on a chain without a node of the
    /// signer's own (which the retail commission's rule reads): default deny.
    SalesNotAllowed,
    /// A sale whose catalogue version is not signed by a wallet of `[policy.catalogue] signers`.
    CatalogueUnsigned,
    /// A sale whose amount, pv, refund window or retail commission is not what its catalogue version and the chain say.
    SalePrice,
    /// A sale priced from a catalogue version older than one a sale of the same token was signed from.
    CatalogueOutdated,
}

impl Rule {
    /// The stable code clients see, `policy.<rule>`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::CallerNotPermitted => "policy.caller_not_permitted",
            Rule::ChainNotAllowed => "policy.chain_not_allowed",
            Rule::ContractNotAllowed => "policy.contract_not_allowed",
            Rule::TokenNotAllowed => "policy.token_not_allowed",
            Rule::TreasuryRecipientNotAllowed => "policy.treasury_recipient_not_allowed",
            Rule::PerPayloadCap => "policy.per_payload_cap",
            Rule::PerBatchCap => "policy.per_batch_cap",
            Rule::BatchEntries => "policy.batch_entries",
            Rule::DailyOutflowCap => "policy.daily_outflow_cap",
            Rule::DeadlinePassed => "policy.deadline_passed",
            Rule::DeadlineHorizon => "policy.deadline_horizon",
            Rule::RecipientIsContract => "policy.recipient_is_contract",
            Rule::RefundNotAPayment => "policy.refund_not_a_payment",
            Rule::RefundExists => "policy.refund_exists",
            Rule::PaymentNotMade => "policy.payment_not_made",
            Rule::RefundExecuted => "policy.refund_executed",
            Rule::RefundsNotAllowed => "policy.refunds_not_allowed",
            Rule::NonceSpace => "policy.nonce_space",
            Rule::LiabilityRootsNotAllowed => "policy.liability_roots_not_allowed",
            Rule::AsOfBlockNotConfirmed => "policy.as_of_block_not_confirmed",
            Rule::AsOfBlockTooOld => "policy.as_of_block_too_old",
            Rule::EpochNotIncreasing => "policy.epoch_not_increasing",
            Rule::ApprovalsMissing => "policy.approvals_missing",
            Rule::ApprovalInvalid => "policy.approval_invalid",
            Rule::ContractWoundDown => "policy.contract_wound_down",
            Rule::RecipientLeft => "policy.recipient_left",
            Rule::RootFall => "policy.root_fall",
            Rule::SalesNotAllowed => "policy.sales_not_allowed",
            Rule::CatalogueUnsigned => "policy.catalogue_unsigned",
            Rule::SalePrice => "policy.sale_price",
            Rule::CatalogueOutdated => "policy.catalogue_outdated",
        }
    }
}

/// An intent the policy refused: the rule, and the detail the caller is told.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", rule.code())]
pub struct Refusal {
    /// The rule that refused it.
    pub rule: Rule,
    /// What broke the rule, in words.
    pub detail: String,
}

fn refuse<T>(rule: Rule, detail: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal { rule, detail: detail.into() })
}

/// A config that cannot be a policy (refused at start-up).
#[derive(Debug, thiserror::Error)]
#[error("invalid policy config: {0}")]
pub struct InvalidPolicy(String);

impl From<Unapproved> for Refusal {
    fn from(u: Unapproved) -> Self {
        match u {
            Unapproved::Missing(detail) => Refusal { rule: Rule::ApprovalsMissing, detail },
            Unapproved::Invalid(detail) => Refusal { rule: Rule::ApprovalInvalid, detail },
            Unapproved::NoNonce => Refusal { rule: Rule::NonceSpace, detail: "an outflow names its nonce".into() },
        }
    }
}

/// One asset's caps, in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssetCaps {
    /// Largest amount of a register, retopup or treasury transfer.
    pub per_payload: U256,
    /// Largest payout entry.
    pub per_entry: U256,
    /// Largest total of one payout batch.
    pub per_batch: U256,
    /// Largest sum of outflows signed in any 24 hours.
    pub daily_outflow: U256,
    /// The most the asset's plans keep of a payout entry, in basis points.
    pub withdrawal_fee_bps: u32,
    /// Largest sum of liability roots' unexplained falls signed in any 24 hours.
    pub daily_root_fall: U256,
}

#[derive(Clone, Debug)]
struct ChainPolicy {
    contracts: HashSet<Address>,
    wound_down: HashSet<Address>,
    treasury_recipients: HashSet<Address>,
    assets: HashMap<Address, AssetCaps>,
    node: Option<NodeConfig>,
}

/// The policy in force: the `[policy]` config, checked and indexed by chain.
#[derive(Clone, Debug)]
pub struct Policy {
    default_ttl_secs: u64,
    max_deadline_horizon_secs: u64,
    max_batch_entries: usize,
    chains: HashMap<u64, ChainPolicy>,
    approvals: Option<Approvals>,
    catalogue_signers: HashSet<Address>,
}

/// One asset's limits as the policy endpoint shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetView {
    /// The asset's caps.
    pub caps: AssetCaps,
    /// Most entries one payout batch may carry.
    pub max_batch_entries: usize,
    /// Payout recipients refused whatever the amount: the contract itself (`RecipientIsContract`).
    pub refused_payout_recipients: Vec<Address>,
    /// Where the chain's treasury transfers may send funds, sorted.
    pub treasury_recipients: Vec<Address>,
}

/// An intent the static rules allow, with what the store still has to check under its write lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// The deadline to sign: the requested one, or now (the chain's, where the signer has its node) +
    /// `default_ttl_secs`.
    pub deadline: u64,
    /// Set for outflows: the asset's daily cap, to compare with the store's 24-hour sum.
    pub daily_outflow_cap: Option<U256>,
    /// Set for liability roots: how far a root may fall below the latest committed one.
    pub root_fall: Option<RootFallCaps>,
}

/// How far a liability root may fall below the latest committed one (backend/SOLVENCY.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootFallCaps {
    /// The most the asset's plans keep of a payout entry, in basis points.
    pub withdrawal_fee_bps: u32,
    /// Largest sum of unexplained falls signed in any 24 hours.
    pub daily_cap: U256,
}

/// The most a plan may keep of a payout entry: half of it (no plan here keeps more than 5 %).
pub const MAX_WITHDRAWAL_FEE_BPS: u32 = 5_000;

/// The longest a payload may stay valid from the moment it is signed: half the day for which the contract checks
/// every payout batch for members who left (`LEAVE_RACE` in Settlement.sol), the rest for the confirmations before
/// the backend stops paying a member who left.
pub const MAX_DEADLINE_HORIZON_SECS: u64 = 12 * 60 * 60;

impl TryFrom<PolicyConfig> for Policy {
    type Error = InvalidPolicy;

    fn try_from(config: PolicyConfig) -> Result<Self, InvalidPolicy> {
        if config.default_ttl_secs == 0 || config.default_ttl_secs > config.max_deadline_horizon_secs {
            return Err(InvalidPolicy("default_ttl_secs must be in 1..=max_deadline_horizon_secs".into()));
        }
        if config.max_deadline_horizon_secs > MAX_DEADLINE_HORIZON_SECS {
            return Err(InvalidPolicy(format!(
                "max_deadline_horizon_secs {} is above {MAX_DEADLINE_HORIZON_SECS}: a payout batch signed before a \
                 member left must be dead within the day the contract checks batches for members who left \
                 (contracts/EXIT.md §12)",
                config.max_deadline_horizon_secs
            )));
        }
        // Two people for every outflow where real money moves: no configuration turns that off (issue 65).
        if config.approvals.is_none()
            && let Some(mainnet) = config.chains.iter().find(|c| abi::chain::is_mainnet(c.chain_id))
        {
            return Err(InvalidPolicy(format!(
                "chain {} is a mainnet: [policy.approvals] is required there (a proposer's and an approver's wallet \
                 signatures on every payout batch, treasury transfer and refund); outflows on the caller's word \
                 alone are for development chains only",
                mainnet.chain_id
            )));
        }
        // A batch this policy allows must fit in a request the signer reads.
        if PayoutBatchIntent::max_json_bytes(config.max_batch_entries) > MAX_BODY_BYTES {
            return Err(InvalidPolicy(format!(
                "max_batch_entries {}: a batch that long can exceed the {MAX_BODY_BYTES} bytes of a request",
                config.max_batch_entries
            )));
        }
        let mut chains = HashMap::new();
        for chain in config.chains {
            let mut assets = HashMap::new();
            for asset in chain.assets {
                let caps = AssetCaps {
                    per_payload: asset.per_payload_cap.0,
                    per_entry: asset.per_entry_cap.unwrap_or(asset.per_payload_cap).0,
                    per_batch: asset.per_batch_cap.0,
                    daily_outflow: asset.daily_outflow_cap.0,
                    withdrawal_fee_bps: asset.withdrawal_fee_bps,
                    daily_root_fall: asset.daily_root_fall_cap.0,
                };
                if asset.withdrawal_fee_bps > MAX_WITHDRAWAL_FEE_BPS {
                    return Err(InvalidPolicy(format!(
                        "asset {} on chain {}: withdrawal_fee_bps {} is above {MAX_WITHDRAWAL_FEE_BPS}",
                        asset.token, chain.chain_id, asset.withdrawal_fee_bps
                    )));
                }
                if assets.insert(asset.token.0, caps).is_some() {
                    return Err(InvalidPolicy(format!(
                        "asset {} listed twice on chain {}",
                        asset.token, chain.chain_id
                    )));
                }
            }
            if let Some(node) = &chain.node
                && node.rpc_url.parse::<reqwest::Url>().is_err()
            {
                return Err(InvalidPolicy(format!("chain {}: node.rpc_url is not a URL", chain.chain_id)));
            }
            if let Some(stray) = chain.wound_down.iter().find(|w| !chain.contracts.contains(w)) {
                return Err(InvalidPolicy(format!(
                    "chain {}: wound_down contract {stray} is not in its contracts",
                    chain.chain_id
                )));
            }
            let rules = ChainPolicy {
                contracts: chain.contracts.iter().map(|a| a.0).collect(),
                wound_down: chain.wound_down.iter().map(|a| a.0).collect(),
                treasury_recipients: chain.treasury_recipients.iter().map(|a| a.0).collect(),
                assets,
                node: chain.node,
            };
            if chains.insert(chain.chain_id, rules).is_some() {
                return Err(InvalidPolicy(format!("chain {} listed twice", chain.chain_id)));
            }
        }
        Ok(Policy {
            default_ttl_secs: config.default_ttl_secs,
            max_deadline_horizon_secs: config.max_deadline_horizon_secs,
            max_batch_entries: config.max_batch_entries,
            chains,
            approvals: config.approvals.map(Approvals::try_from).transpose().map_err(InvalidPolicy)?,
            catalogue_signers: config.catalogue.map_or_else(HashSet::new, |c| c.signers.iter().map(|a| a.0).collect()),
        })
    }
}

impl Policy {
    /// The staff approvals outflows need; `None`: none (development).
    pub fn approvals(&self) -> Option<&Approvals> {
        self.approvals.as_ref()
    }

    /// Whether the authenticated caller may ask for this kind of payload at all: checked first, before the body
    /// is even parsed, so a caller learns nothing about the rules of kinds it may not use.
    pub fn permit(caller: &Authenticated, kind: Kind) -> Result<(), Refusal> {
        if caller.permissions.allows(kind) {
            return Ok(());
        }
        refuse(Rule::CallerNotPermitted, format!("caller {} may not ask for {kind} payloads", caller.caller))
    }

    /// Every rule that does not need the store: [`Policy::check_rules`], then the deadline. `now` is the chain's
    /// time where the signer has a node of the chain (`[policy.chains.node]`), else the host's.
    pub fn admit(&self, intent: &Intent, now: u64) -> Result<Admission, Refusal> {
        let caps = self.check_rules(intent)?;
        let deadline = self.deadline(intent.deadline, now)?;
        let kind: Kind = intent.kind();
        let root_fall = (kind == Kind::LiabilityRoot)
            .then_some(RootFallCaps { withdrawal_fee_bps: caps.withdrawal_fee_bps, daily_cap: caps.daily_root_fall });
        Ok(Admission { deadline, daily_outflow_cap: kind.is_outflow().then_some(caps.daily_outflow), root_fall })
    }

    /// The rules that need neither the store, the clock nor the chain: target, asset, nonce space, amounts, batch
    /// size, and a node for a liability root; the asset's caps when they pass.
    pub fn check_rules(&self, intent: &Intent) -> Result<AssetCaps, Refusal> {
        let target = intent.target;
        let (chain, caps) = self.lookup(target, intent.action.token())?;
        check_nonce_space(intent)?;
        let new_money_or_company_outflow = matches!(
            intent.action,
            Action::Register { .. }
                | Action::Retopup { .. }
                | Action::TreasuryTransfer { refund_of: None, .. }
                | Action::Sale(_)
        );
        if new_money_or_company_outflow && chain.wound_down.contains(&target.contract) {
            return refuse(
                Rule::ContractWoundDown,
                format!(
                    "contract {} on chain {} was replaced and is wound down: only payouts, refunds and liability \
                     roots are signed for it",
                    target.contract, target.chain_id
                ),
            );
        }
        match &intent.action {
            Action::Register { amount, .. } | Action::Retopup { amount, .. } => {
                check_per_payload(*amount, caps)?;
            }
            Action::TreasuryTransfer { to, amount, refund_of, .. } => {
                // The contract refuses to pay itself (`SelfPayment`); a misconfigured allow-list must not sign it.
                if *to == target.contract {
                    return refuse(
                        Rule::RecipientIsContract,
                        format!("a treasury transfer to the Settlement contract {} itself", target.contract),
                    );
                }
                // A refund goes to the payer of the payment it returns, which the store checks
                // ([`Policy::check_refund`]); any other transfer goes to an operator wallet.
                if refund_of.is_none() && !chain.treasury_recipients.contains(to) {
                    return refuse(Rule::TreasuryRecipientNotAllowed, format!("{to} is not a treasury recipient"));
                }
                check_per_payload(*amount, caps)?;
            }
            Action::LiabilityRoot { .. } => {
                // Its as-of block is checked against the head read by the service ([`Policy::check_as_of_block`]),
                // its epoch against the store ([`Policy::check_epoch`]).
                if chain.node.is_none() {
                    return refuse(
                        Rule::LiabilityRootsNotAllowed,
                        format!(
                            "liability roots are not allowed on chain {}: the signer has no node of it",
                            target.chain_id
                        ),
                    );
                }
            }
            Action::Sale(sale) => {
                if self.catalogue_signers.is_empty() || chain.node.is_none() {
                    return refuse(
                        Rule::SalesNotAllowed,
                        format!(
                            "sales are not allowed on chain {}: {}",
                            target.chain_id,
                            if chain.node.is_none() {
                                "the signer has no node of it to read who is registered"
                            } else {
                                "no catalogue wallet is configured ([policy.catalogue])"
                            }
                        ),
                    );
                }
                check_sale_price(sale)?;
                check_per_payload(sale.amount, caps)?;
            }
            Action::PayoutBatch { payouts, total, .. } => {
                if payouts.len() > self.max_batch_entries {
                    return refuse(
                        Rule::BatchEntries,
                        format!("{} entries exceed the limit of {}", payouts.len(), self.max_batch_entries),
                    );
                }
                for payout in payouts {
                    // The contract refuses a batch paying itself (`SelfPayment`; on TRON the push would abort it).
                    if payout.recipient == target.contract {
                        return refuse(
                            Rule::RecipientIsContract,
                            format!("a payout to the Settlement contract {} itself", target.contract),
                        );
                    }
                    if payout.amount > caps.per_entry {
                        return refuse(
                            Rule::PerPayloadCap,
                            format!("payout entry {} exceeds {}", payout.amount, caps.per_entry),
                        );
                    }
                }
                if *total > caps.per_batch {
                    return refuse(Rule::PerBatchCap, format!("batch total {total} exceeds {}", caps.per_batch));
                }
            }
        }
        Ok(*caps)
    }

    /// The signer's own node of each chain that has one: (chain id, its configuration), by chain id.
    pub fn nodes(&self) -> Vec<(u64, NodeConfig)> {
        let mut nodes: Vec<_> = self.chains.iter().filter_map(|(id, c)| Some((*id, c.node.clone()?))).collect();
        nodes.sort_by_key(|(id, _)| *id);
        nodes
    }

    /// Every contract the policy allows, by chain, and whether the signer has a node of its chain.
    pub fn targets(&self) -> Vec<(Target, bool)> {
        let mut targets: Vec<_> = self
            .chains
            .iter()
            .flat_map(|(&chain_id, c)| {
                c.contracts.iter().map(move |&contract| (Target { chain_id, contract }, c.node.is_some()))
            })
            .collect();
        targets.sort_by_key(|(t, _)| (t.chain_id, t.contract));
        targets
    }

    /// The contracts the policy allows on `chain_id`, in address order (after an upgrade, the live one and those it
    /// replaced).
    pub fn contracts_of(&self, chain_id: u64) -> Vec<Address> {
        let mut contracts: Vec<Address> =
            self.chains.get(&chain_id).map(|c| c.contracts.iter().copied().collect()).unwrap_or_default();
        contracts.sort();
        contracts
    }

    /// Whether the signer has a node of `chain_id` of its own (then "now" is the chain's time there).
    pub fn has_node(&self, chain_id: u64) -> bool {
        self.chains.get(&chain_id).is_some_and(|c| c.node.is_some())
    }

    /// A liability root may be as of the chain's confirmed head at the latest, and trail the chain's head by at
    /// most the contract's `maxAsOfLag()` (the contract refuses older ones): `head` is the head the service read
    /// from its own node, `confirmed` that head less the configured confirmations.
    pub fn check_as_of_block(as_of_block: u64, confirmed: u64, head: u64, max_as_of_lag: u64) -> Result<(), Refusal> {
        if as_of_block > confirmed {
            return refuse(
                Rule::AsOfBlockNotConfirmed,
                format!("as_of_block {as_of_block} is above the chain's confirmed head {confirmed}"),
            );
        }
        let lag = head.saturating_sub(as_of_block);
        if lag > max_as_of_lag {
            return refuse(
                Rule::AsOfBlockTooOld,
                format!(
                    "as_of_block {as_of_block} trails the chain's head {head} by {lag} blocks; the contract takes at \
                     most {max_as_of_lag}"
                ),
            );
        }
        Ok(())
    }

    /// A token's liability roots are signed for ever higher epochs: `signed` are the records at the highest epoch
    /// signed for the token so far (store and group). The same epoch again only once every signature of it has
    /// expired (it can no longer execute): else a commitment that missed its deadline would stop the token's
    /// epochs for good, since the contract takes only its latest + 1. `now` is the chain's time: the timestamp of
    /// its latest block, read from the signer's own node (no later block can be at or before a deadline below it).
    pub fn check_epoch(epoch: u64, signed: &[SignedEpoch], now: u64) -> Result<(), Refusal> {
        let Some(highest) = signed.iter().map(|s| s.epoch).max() else { return Ok(()) };
        if epoch > highest {
            return Ok(());
        }
        if epoch == highest && signed.iter().all(|s| s.epoch < highest || s.deadline < now) {
            return Ok(());
        }
        refuse(
            Rule::EpochNotIncreasing,
            format!(
                "epoch {epoch} is not above epoch {highest}, signed already for this token and still valid or passed"
            ),
        )
    }

    /// The caps of `token` on `target`, with the batch-size limit and the treasury recipients — what the policy
    /// endpoint shows a payout builder; refused exactly as an intent for that asset would be.
    pub fn asset(&self, target: Target, token: Address) -> Result<AssetView, Refusal> {
        let (chain, caps) = self.lookup(target, token)?;
        let mut treasury_recipients: Vec<Address> = chain.treasury_recipients.iter().copied().collect();
        treasury_recipients.sort();
        Ok(AssetView {
            caps: *caps,
            max_batch_entries: self.max_batch_entries,
            refused_payout_recipients: vec![target.contract],
            treasury_recipients,
        })
    }

    /// The rules of `token` on `target`: default deny, chain first, then contract, then asset.
    fn lookup(&self, target: Target, token: Address) -> Result<(&ChainPolicy, &AssetCaps), Refusal> {
        let Some(chain) = self.chains.get(&target.chain_id) else {
            return refuse(Rule::ChainNotAllowed, format!("chain {} is not allowed", target.chain_id));
        };
        if !chain.contracts.contains(&target.contract) {
            return refuse(
                Rule::ContractNotAllowed,
                format!("contract {} is not allowed on chain {}", target.contract, target.chain_id),
            );
        }
        let Some(caps) = chain.assets.get(&token) else {
            return refuse(Rule::TokenNotAllowed, format!("token {token} is not allowed on chain {}", target.chain_id));
        };
        Ok((chain, caps))
    }

    /// The deadline to sign: the requested one if after `now` and within the horizon from it, else now + the default
    /// TTL. `now` is the chain's time where the signer has a node of the chain, else the host's.
    pub fn deadline(&self, requested: Option<u64>, now: u64) -> Result<u64, Refusal> {
        let Some(deadline) = requested else { return Ok(now.saturating_add(self.default_ttl_secs)) };
        if deadline <= now {
            return refuse(Rule::DeadlinePassed, format!("deadline {deadline} is not after now ({now})"));
        }
        let latest = now.saturating_add(self.max_deadline_horizon_secs);
        if deadline > latest {
            return refuse(Rule::DeadlineHorizon, format!("deadline {deadline} is beyond the horizon ({latest})"));
        }
        Ok(deadline)
    }

    /// The rolling 24-hour cap: `signed_in_window` is what the store summed for this asset under its write lock.
    pub fn check_daily_outflow(admission: &Admission, signed_in_window: U256, amount: U256) -> Result<(), Refusal> {
        let Some(cap) = admission.daily_outflow_cap else { return Ok(()) };
        match signed_in_window.checked_add(amount) {
            Some(sum) if sum <= cap => Ok(()),
            _ => refuse(
                Rule::DailyOutflowCap,
                format!("{amount} on top of {signed_in_window} signed in the last 24 h exceeds {cap}"),
            ),
        }
    }
}

/// What a liability root's total fell below the latest committed one by, beyond what the chain explains
/// (backend/SOLVENCY.md §1): the committed total, less what the chain paid members since (`paid_since`), less the withdrawal
/// fees the plans kept of those payments (at most ⌈paid × bps / (10000 − bps)⌉: an entry E pays E − ⌈E × bps /
/// 10000⌉), less the root's total; 0 when the root is at or above that.
pub fn unexplained_fall(committed_total: U256, paid_since: U256, withdrawal_fee_bps: u32, total: U256) -> U256 {
    let bps = U256::from(withdrawal_fee_bps.min(MAX_WITHDRAWAL_FEE_BPS));
    let kept = paid_since.saturating_mul(bps).div_ceil(U256::from(10_000u64) - bps);
    committed_total.saturating_sub(paid_since).saturating_sub(kept).saturating_sub(total)
}

impl Policy {
    /// A liability root that falls `fall` below what the chain explains ([`unexplained_fall`]) is signed only while
    /// the asset's unexplained falls signed in the last 24 hours (`fallen_in_window`, the store's sum under its write
    /// lock) stay within `daily_root_fall_cap`. `committed_total` and `paid_since` are the chain's, `forfeited` the
    /// approved forfeits counted toward it (already taken off `fall`), for the detail.
    pub fn check_root_fall(
        caps: &RootFallCaps,
        fallen_in_window: U256,
        fall: U256,
        committed_total: U256,
        paid_since: U256,
        forfeited: U256,
    ) -> Result<(), Refusal> {
        if fall.is_zero() {
            return Ok(());
        }
        match fallen_in_window.checked_add(fall) {
            Some(sum) if sum <= caps.daily_cap => Ok(()),
            _ => refuse(
                Rule::RootFall,
                format!(
                    "the root falls {fall} below the latest committed total {committed_total} less the {paid_since} \
                     the chain paid members since (and the withdrawal fees kept of it, at {} bps) and the \
                     {forfeited} of forfeits staff approved: on top of {fallen_in_window} fallen in the last 24 h \
                     that exceeds the asset's daily_root_fall_cap {}",
                    caps.withdrawal_fee_bps, caps.daily_cap
                ),
            ),
        }
    }
}

/// A register or retopup payload as the store recorded it: what a refund of its payment must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedPayment {
    /// The payload's kind.
    pub kind: Kind,
    /// The wallet the payload let pay (its `user`).
    pub payer: Address,
    /// The token it let the payer pay in.
    pub token: Address,
    /// The amount it let the payer pay, in base units.
    pub amount: U256,
}

/// A signed liability root's epoch, as the store recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedEpoch {
    /// The epoch.
    pub epoch: u64,
    /// When its signature stops being valid, unix seconds.
    pub deadline: u64,
}

/// A signed refund of a payment, as the store recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedRefund {
    /// The refund's own (treasury) nonce.
    pub nonce: U256,
    /// When the refund stops being valid, unix seconds.
    pub deadline: u64,
}

/// Most refunds the signer signs for one payment, ever: each may be replaced only once it is provably dead, so a
/// payment needing more is not a refund that keeps failing by chance; it also bounds the node reads of a refund.
pub const MAX_REFUNDS_PER_PAYMENT: usize = 16;

/// What the signer's own node says about a refunded payment and the refunds of it signed before, read before the
/// writer decides (the writer sees every earlier refund in its transaction and accepts only those read here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefundOnChain {
    /// The payment's nonce is spent on chain at the confirmed block.
    pub payment_spent: bool,
    /// The payment's nonce was spent by the admin's `cancelNonces` while free (`isNonceCancelled`): no payment used
    /// it, whatever `payment_spent` says (issue 65).
    pub payment_cancelled: bool,
    /// The timestamp of the chain's confirmed block: a refund whose deadline is below it can never execute.
    pub confirmed_timestamp: u64,
    /// Nonces of earlier refunds spent on chain at the latest block (an execution not yet confirmed counts).
    pub spent: HashSet<U256>,
    /// Nonces of earlier refunds read unspent at the latest block.
    pub unspent: HashSet<U256>,
}

impl Policy {
    /// A refund (a treasury transfer with `refund_of`) returns exactly a payment this signer authorised: `payment`
    /// is what the store holds for the refunded nonce on the same contract; it must be a register or retopup for
    /// `to`, `token` and `amount`. Checked first; then [`Policy::check_refund_on_chain`].
    pub fn check_refund_payment(
        to: Address,
        token: Address,
        amount: U256,
        payment: Option<SignedPayment>,
    ) -> Result<(), Refusal> {
        let Some(payment) = payment else {
            return refuse(Rule::RefundNotAPayment, "no register or retopup payload was signed with that nonce");
        };
        if !matches!(payment.kind, Kind::Register | Kind::Retopup) {
            return refuse(Rule::RefundNotAPayment, format!("the payload of that nonce is a {}", payment.kind));
        }
        if payment.payer != to || payment.token != token || payment.amount != amount {
            return refuse(
                Rule::RefundNotAPayment,
                format!(
                    "the {} payload of that nonce let {} pay {} of {}, not {amount} of {token} to {to}",
                    payment.kind, payment.payer, payment.amount, payment.token
                ),
            );
        }
        Ok(())
    }

    /// What the chain must show before a refund of a payment is signed: `chain` is what the signer's own node said
    /// (`None`: the signer has no node of the chain, so refunds are refused — default deny); `refunds` are every
    /// refund of that payment signed before (the store's and the group's). The payment's nonce must be spent at the
    /// confirmed block (the payment happened), no earlier refund spent (at most one refund executes per payment),
    /// and every earlier refund provably dead: read unspent, and its deadline below the confirmed block's
    /// timestamp — chain time, never the host's. Such a refund can never execute: a block it could execute in has a
    /// timestamp at most its deadline, so it comes before the confirmed block, whose state shows no execution.
    pub fn check_refund_on_chain(chain: Option<&RefundOnChain>, refunds: &[SignedRefund]) -> Result<(), Refusal> {
        let Some(chain) = chain else {
            return refuse(
                Rule::RefundsNotAllowed,
                "the signer has no node of this chain: it cannot read whether the payment was made",
            );
        };
        if !chain.payment_spent {
            return refuse(
                Rule::PaymentNotMade,
                "the payment's nonce is not spent on chain at the confirmed block: the payment was never made",
            );
        }
        if chain.payment_cancelled {
            return refuse(
                Rule::PaymentNotMade,
                "the payment's nonce was spent by cancelNonces, not by the payment: the payment was never made",
            );
        }
        if refunds.len() >= MAX_REFUNDS_PER_PAYMENT {
            return refuse(
                Rule::RefundExists,
                format!("{} refunds of that payment were signed already; no more are", refunds.len()),
            );
        }
        if let Some(executed) = refunds.iter().find(|r| chain.spent.contains(&r.nonce)) {
            return refuse(
                Rule::RefundExecuted,
                format!("refund nonce {} of that payment is spent on chain: the payment was refunded", executed.nonce),
            );
        }
        if let Some(unread) = refunds.iter().find(|r| !chain.unspent.contains(&r.nonce)) {
            return refuse(
                Rule::RefundExists,
                format!("refund nonce {} of that payment was signed meanwhile; ask again", unread.nonce),
            );
        }
        if let Some(live) = refunds.iter().find(|r| r.deadline >= chain.confirmed_timestamp) {
            return refuse(
                Rule::RefundExists,
                format!(
                    "refund nonce {} of that payment is valid until {}; the chain's confirmed time is {}",
                    live.nonce, live.deadline, chain.confirmed_timestamp
                ),
            );
        }
        Ok(())
    }
}

/// Every kind is signed only on a nonce of its own space (`abi::nonces`), so that one kind can never burn another's
/// nonce: register and retopup on the signer's counter (its own allocation is there; a caller's nonce must be too),
/// payout batches, treasury transfers (refunds included) and liability roots each on their own, named by the
/// caller — an outflow without a nonce would take one from the signer's counter.
fn check_nonce_space(intent: &Intent) -> Result<(), Refusal> {
    let kind = intent.kind();
    let (space, helper) = match kind {
        Kind::Register | Kind::Retopup | Kind::Sale => (NonceSpace::SignerCounter, "the signer's counter"),
        Kind::PayoutBatch => (NonceSpace::PayoutBatch, "abi::nonces::batch_nonce"),
        Kind::TreasuryTransfer => (NonceSpace::TreasuryTransfer, "abi::nonces::treasury_nonce"),
        Kind::LiabilityRoot => (NonceSpace::LiabilityRoot, "abi::nonces::liability_nonce"),
    };
    match intent.nonce {
        None if space == NonceSpace::SignerCounter => Ok(()),
        None => refuse(Rule::NonceSpace, format!("a {kind} names its nonce, from its own space ({helper})")),
        Some(nonce) if NonceSpace::of(nonce) == space => Ok(()),
        Some(nonce) => refuse(
            Rule::NonceSpace,
            format!(
                "nonce {nonce} is in the {:?} space; a {kind} takes one of the {space:?} space ({helper})",
                NonceSpace::of(nonce)
            ),
        ),
    }
}

/// A sale's amount, pv and refund window are the order's price from its catalogue version (contracts/SALES.md §7):
/// Σ price × quantity and Σ pv × quantity over active products of the version, and the version's window. Whether the
/// version is signed, and the retail commission, are checked with what cannot be read here ([`Policy::check_catalogue_signer`],
/// [`Policy::check_sale_retail`]).
fn check_sale_price(sale: &SaleAction) -> Result<(), Refusal> {
    let version = &sale.catalogue.version;
    let priced = sale
        .catalogue
        .price(&sale.lines)
        .map_err(|e| Refusal { rule: Rule::SalePrice, detail: format!("the order cannot be priced: {e}") })?;
    if (priced.amount, priced.pv) != (sale.amount, sale.pv) {
        return refuse(
            Rule::SalePrice,
            format!(
                "catalogue version {version} prices the order at {} with pv {}, not {} with pv {}",
                priced.amount, priced.pv, sale.amount, sale.pv
            ),
        );
    }
    if U256::from(sale.refund_window) != sale.catalogue.refundWindow {
        return refuse(
            Rule::SalePrice,
            format!(
                "catalogue version {version} gives a refund window of {} s, not {} s",
                sale.catalogue.refundWindow, sale.refund_window
            ),
        );
    }
    Ok(())
}

impl Policy {
    /// The sale's catalogue version is signed, for its chain and contract, by the wallet it names, and that wallet is a
    /// catalogue signer of the policy. Hashes every product and recovers a key: run off the async workers.
    pub fn check_catalogue_signer(&self, target: Target, sale: &SaleAction) -> Result<(), Refusal> {
        if !self.catalogue_signers.contains(&sale.catalogue_wallet) {
            return refuse(
                Rule::CatalogueUnsigned,
                format!(
                    "{} is not a catalogue wallet of the policy ([policy.catalogue] signers)",
                    sale.catalogue_wallet
                ),
            );
        }
        let by = sale.catalogue.signed_by(target.chain_id, target.contract, &sale.catalogue_signature);
        if by != Some(sale.catalogue_wallet) {
            return refuse(
                Rule::CatalogueUnsigned,
                format!(
                    "the signature is not {}'s over catalogue version {} of this chain, contract and token",
                    sale.catalogue_wallet, sale.catalogue.version
                ),
            );
        }
        Ok(())
    }

    /// The retail commission a sale names is the rule's (PLAN-SALES.md §3): ⌊amount × retail_bps / 10000⌋ when the
    /// buyer is not registered in the token and the seller is (a customer sale), else 0 — as the signer's own node
    /// read them. A buyer who registers between the signature and the sale's block makes the ledger quarantine it (the
    /// buyer may still take it back).
    pub fn check_sale_retail(
        sale: &SaleAction,
        buyer_registered: bool,
        seller_registered: bool,
    ) -> Result<(), Refusal> {
        let retail = sale.catalogue.retail(sale.amount, buyer_registered, seller_registered);
        if retail != sale.retail {
            return refuse(
                Rule::SalePrice,
                format!(
                    "the retail commission is {retail} (buyer {}registered, seller {}registered, retail_bps {}), not {}",
                    if buyer_registered { "" } else { "not " },
                    if seller_registered { "" } else { "not " },
                    sale.catalogue.retailBps,
                    sale.retail
                ),
            );
        }
        Ok(())
    }

    /// A sale's catalogue version is no older than the newest one a sale of its token was signed from (`newest`,
    /// the store's and its group's): a version's prices end when a newer one prices a sale.
    pub fn check_catalogue_version(version: u32, newest: Option<u32>) -> Result<(), Refusal> {
        match newest {
            Some(newest) if version < newest => refuse(
                Rule::CatalogueOutdated,
                format!("catalogue version {version} is older than version {newest}, which a sale was priced from"),
            ),
            _ => Ok(()),
        }
    }
}

fn check_per_payload(amount: U256, caps: &AssetCaps) -> Result<(), Refusal> {
    if amount > caps.per_payload {
        return refuse(Rule::PerPayloadCap, format!("amount {amount} exceeds {}", caps.per_payload));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{PayoutBatchIntent, PayoutEntry, RegisterIntent, TreasuryTransferIntent};

    /// BSC's testnet: a chain where a signer may run without approvals (development).
    const CHAIN: u64 = 97;
    const NOW: u64 = 1_800_000_000;
    const USDT: Address = Address::repeat_byte(0x55);
    const CONTRACT: Address = Address::repeat_byte(0xcc);
    const TREASURY: Address = Address::repeat_byte(0x77);

    fn policy() -> Policy {
        Policy::try_from(policy_config()).unwrap()
    }

    fn policy_config() -> PolicyConfig {
        PolicyConfig {
            default_ttl_secs: 600,
            max_deadline_horizon_secs: 3_600,
            max_batch_entries: 3,
            approvals: None,
            catalogue: None,
            chains: vec![ChainConfig {
                chain_id: CHAIN,
                contracts: vec![Addr(CONTRACT)],
                wound_down: vec![],
                treasury_recipients: vec![Addr(TREASURY)],
                assets: vec![AssetConfig {
                    token: Addr(USDT),
                    per_payload_cap: Amount::from(100),
                    per_entry_cap: None,
                    per_batch_cap: Amount::from(250),
                    daily_outflow_cap: Amount::from(1_000),
                    withdrawal_fee_bps: 0,
                    daily_root_fall_cap: Amount::from(0u128),
                }],
                node: None,
            }],
        }
    }

    fn register(chain_id: u64, contract: Address, token: Address, amount: u128, deadline: Option<u64>) -> Intent {
        Intent::try_from(RegisterIntent {
            chain_id,
            contract: Addr(contract),
            user: Addr(Address::repeat_byte(1)),
            sponsor: Addr(Address::repeat_byte(2)),
            token: Addr(token),
            amount: Amount::from(amount),
            nonce: None,
            deadline,
        })
        .unwrap()
    }

    fn batch(amounts: &[u128]) -> Intent {
        Intent::try_from(PayoutBatchIntent {
            chain_id: CHAIN,
            contract: Addr(CONTRACT),
            token: Addr(USDT),
            payouts: amounts
                .iter()
                .enumerate()
                .map(|(i, a)| PayoutEntry {
                    recipient: Addr(Address::repeat_byte(i as u8 + 1)),
                    amount: Amount::from(*a),
                })
                .collect(),
            total: None,
            nonce: Some(Amount(abi::nonces::batch_nonce(1, 0))),
            deadline: None,
            approvals: Vec::new(),
        })
        .unwrap()
    }

    fn treasury(to: Address, amount: u128) -> Intent {
        Intent::try_from(TreasuryTransferIntent {
            chain_id: CHAIN,
            contract: Addr(CONTRACT),
            token: Addr(USDT),
            to: Addr(to),
            amount: Amount::from(amount),
            nonce: Some(Amount(abi::nonces::treasury_nonce(1))),
            deadline: None,
            refund_of: None,
            approvals: Vec::new(),
        })
        .unwrap()
    }

    fn rule(result: Result<Admission, Refusal>) -> Rule {
        result.expect_err("must be refused").rule
    }

    #[test]
    fn an_intent_within_every_rule_is_admitted_with_the_default_deadline() {
        let admission = policy().admit(&register(CHAIN, CONTRACT, USDT, 100, None), NOW).unwrap();
        assert_eq!(admission, Admission { deadline: NOW + 600, daily_outflow_cap: None, root_fall: None });
    }

    #[test]
    fn a_wound_down_contract_takes_no_new_money_and_gives_none_but_to_members() {
        const NEW: Address = Address::repeat_byte(0xdd);
        let mut config = policy_config();
        config.chains[0].contracts.push(Addr(NEW));
        config.chains[0].wound_down = vec![Addr(CONTRACT)];
        let p = Policy::try_from(config.clone()).unwrap();
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, USDT, 1, None), NOW)), Rule::ContractWoundDown);
        assert_eq!(rule(p.admit(&treasury(TREASURY, 1), NOW)), Rule::ContractWoundDown);
        assert_eq!(Rule::ContractWoundDown.code(), "policy.contract_wound_down");
        // Payouts still drain it; the live contract takes registrations.
        assert!(p.admit(&batch(&[1, 2]), NOW).is_ok());
        assert!(p.admit(&register(CHAIN, NEW, USDT, 1, None), NOW).is_ok());
        // A refund returns a payment from the contract that holds it.
        let mut refund = treasury(Address::repeat_byte(9), 1);
        if let Action::TreasuryTransfer { refund_of, .. } = &mut refund.action {
            *refund_of = Some(U256::from(7));
        }
        assert!(p.check_rules(&refund).is_ok(), "a refund from a wound-down contract is not refused for it");
        // A wound-down contract must be one of the chain's contracts.
        config.chains[0].wound_down = vec![Addr(Address::repeat_byte(0xee))];
        assert!(Policy::try_from(config).unwrap_err().0.contains("not in its contracts"));
    }

    #[test]
    fn default_deny_refuses_unlisted_chains_contracts_and_tokens() {
        let p = policy();
        assert_eq!(rule(p.admit(&register(5, CONTRACT, USDT, 1, None), NOW)), Rule::ChainNotAllowed);
        assert_eq!(
            rule(p.admit(&register(CHAIN, Address::repeat_byte(0xcd), USDT, 1, None), NOW)),
            Rule::ContractNotAllowed
        );
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, Address::ZERO, 1, None), NOW)), Rule::TokenNotAllowed);
        let empty = Policy::try_from(PolicyConfig {
            default_ttl_secs: 1,
            max_deadline_horizon_secs: 1,
            max_batch_entries: 1,
            approvals: None,
            catalogue: None,
            chains: vec![],
        })
        .unwrap();
        assert_eq!(rule(empty.admit(&register(CHAIN, CONTRACT, USDT, 1, None), NOW)), Rule::ChainNotAllowed);
    }

    /// Issue 65: a signer without `[policy.approvals]` started on a mainnet chain with a warning. On BSC or TRON
    /// mainnet it is refused, whatever else the policy says; on a development chain it starts.
    #[test]
    fn a_mainnet_policy_without_approvals_is_refused() {
        for mainnet in [abi::chain::BSC_MAINNET, abi::chain::TRON_MAINNET] {
            let mut config = policy_config();
            config.chains[0].chain_id = mainnet;
            let refused = Policy::try_from(config).expect_err("refused").0;
            assert!(refused.contains("[policy.approvals] is required"), "{refused}");
            assert!(refused.contains(&mainnet.to_string()), "{refused}");
        }
        assert!(Policy::try_from(policy_config()).is_ok(), "a testnet without approvals starts");
    }

    /// A payload may live at most 12 hours: within the day the contract checks batches for members who left.
    #[test]
    fn a_deadline_horizon_beyond_half_a_day_is_refused() {
        let mut config = policy_config();
        config.max_deadline_horizon_secs = MAX_DEADLINE_HORIZON_SECS + 1;
        let refused = Policy::try_from(config).expect_err("refused").0;
        assert!(refused.contains("max_deadline_horizon_secs"), "{refused}");
        let mut config = policy_config();
        config.max_deadline_horizon_secs = MAX_DEADLINE_HORIZON_SECS;
        assert!(Policy::try_from(config).is_ok());
    }

    #[test]
    fn per_payload_cap_applies_to_payments_transfers_and_each_batch_entry() {
        let p = policy();
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, USDT, 101, None), NOW)), Rule::PerPayloadCap);
        assert_eq!(rule(p.admit(&treasury(TREASURY, 101), NOW)), Rule::PerPayloadCap);
        assert_eq!(rule(p.admit(&batch(&[1, 101]), NOW)), Rule::PerPayloadCap);
        assert!(p.admit(&treasury(TREASURY, 100), NOW).is_ok());
    }

    #[test]
    fn a_separate_entry_cap_bounds_payout_entries_only() {
        let mut config = policy_config();
        config.chains[0].assets[0].per_entry_cap = Some(Amount::from(40));
        let p = Policy::try_from(config).unwrap();
        assert!(p.admit(&batch(&[40, 40]), NOW).is_ok());
        assert_eq!(rule(p.admit(&batch(&[40, 41]), NOW)), Rule::PerPayloadCap);
        assert!(p.admit(&register(CHAIN, CONTRACT, USDT, 100, None), NOW).is_ok(), "payments keep the payload cap");
        assert!(p.admit(&treasury(TREASURY, 100), NOW).is_ok());
        let target = Target { chain_id: CHAIN, contract: CONTRACT };
        assert_eq!(p.asset(target, USDT).unwrap().caps.per_entry, U256::from(40));
        assert_eq!(
            policy().asset(target, USDT).unwrap().caps.per_entry,
            U256::from(100),
            "defaults to the payload cap"
        );
    }

    #[test]
    fn batch_total_and_entry_count_are_capped() {
        let p = policy();
        assert!(p.admit(&batch(&[100, 100, 50]), NOW).is_ok());
        assert_eq!(rule(p.admit(&batch(&[100, 100, 51]), NOW)), Rule::PerBatchCap);
        assert_eq!(rule(p.admit(&batch(&[1, 1, 1, 1]), NOW)), Rule::BatchEntries);
    }

    #[test]
    fn a_payout_to_the_contract_itself_is_refused() {
        let policy = policy();
        let mut intent = batch(&[5, 6]);
        if let Action::PayoutBatch { payouts, .. } = &mut intent.action {
            payouts[1].recipient = CONTRACT;
        }
        let refusal = policy.admit(&intent, NOW).unwrap_err();
        assert_eq!(refusal.rule.code(), "policy.recipient_is_contract");
        assert!(policy.admit(&batch(&[5, 6]), NOW).is_ok());
        // Even when an operator lists the contract among the treasury recipients by mistake.
        let mut config = policy_config();
        config.chains[0].treasury_recipients.push(Addr(CONTRACT));
        let careless = Policy::try_from(config).unwrap();
        assert_eq!(rule(careless.admit(&treasury(CONTRACT, 1), NOW)), Rule::RecipientIsContract);
        assert!(careless.admit(&treasury(TREASURY, 1), NOW).is_ok());
    }

    #[test]
    fn the_asset_view_shows_the_caps_and_is_refused_like_an_intent_for_an_unlisted_asset() {
        let p = policy();
        let target = Target { chain_id: CHAIN, contract: CONTRACT };
        let view = p.asset(target, USDT).unwrap();
        assert_eq!(view.caps.per_payload, U256::from(100));
        assert_eq!(view.caps.per_batch, U256::from(250));
        assert_eq!(view.caps.daily_outflow, U256::from(1_000));
        assert_eq!(view.max_batch_entries, 3);
        assert_eq!(view.refused_payout_recipients, [CONTRACT]);
        assert_eq!(view.treasury_recipients, [TREASURY]);
        assert_eq!(p.asset(target, Address::ZERO).unwrap_err().rule, Rule::TokenNotAllowed);
        assert_eq!(p.asset(Target { chain_id: 5, ..target }, USDT).unwrap_err().rule, Rule::ChainNotAllowed);
        let other = Target { contract: Address::repeat_byte(0xcd), ..target };
        assert_eq!(p.asset(other, USDT).unwrap_err().rule, Rule::ContractNotAllowed);
    }

    #[test]
    fn treasury_transfers_only_go_to_listed_recipients() {
        let refusal = policy().admit(&treasury(Address::repeat_byte(0x66), 1), NOW).unwrap_err();
        assert_eq!(refusal.rule.code(), "policy.treasury_recipient_not_allowed");
    }

    #[test]
    fn a_refund_goes_to_the_payer_of_a_signed_payment_for_exactly_its_amount_once_at_a_time() {
        let payer = Address::repeat_byte(0x66);
        let mut refund = treasury(payer, 20);
        if let Action::TreasuryTransfer { refund_of, .. } = &mut refund.action {
            *refund_of = Some(U256::from(7));
        }
        // Not a treasury recipient, yet admitted: the recipient is the store's to check.
        assert!(policy().admit(&refund, NOW).is_ok());
        assert_eq!(rule(policy().admit(&treasury(payer, 20), NOW)), Rule::TreasuryRecipientNotAllowed);
        let mut to_contract = refund.clone();
        if let Action::TreasuryTransfer { to, .. } = &mut to_contract.action {
            *to = CONTRACT;
        }
        assert_eq!(rule(policy().admit(&to_contract, NOW)), Rule::RecipientIsContract);

        let paid = SignedPayment { kind: Kind::Register, payer, token: USDT, amount: U256::from(20) };
        let check = |to, token, amount, payment| {
            Policy::check_refund_payment(to, token, U256::from(amount), payment).map_err(|r| r.rule)
        };
        assert_eq!(check(payer, USDT, 20, Some(paid)), Ok(()));
        assert_eq!(check(payer, USDT, 20, Some(SignedPayment { kind: Kind::Retopup, ..paid })), Ok(()));
        assert_eq!(check(payer, USDT, 20, None), Err(Rule::RefundNotAPayment), "nothing signed");
        let outflow = SignedPayment { kind: Kind::TreasuryTransfer, ..paid };
        assert_eq!(check(payer, USDT, 20, Some(outflow)), Err(Rule::RefundNotAPayment), "not a payment");
        assert_eq!(check(TREASURY, USDT, 20, Some(paid)), Err(Rule::RefundNotAPayment), "another wallet");
        assert_eq!(check(payer, USDT, 21, Some(paid)), Err(Rule::RefundNotAPayment), "more");
        assert_eq!(check(payer, USDT, 19, Some(paid)), Err(Rule::RefundNotAPayment), "less");
        assert_eq!(check(payer, Address::ZERO, 20, Some(paid)), Err(Rule::RefundNotAPayment), "another asset");
    }

    #[test]
    fn a_refund_needs_the_payment_on_chain_and_every_earlier_refund_unspent_and_past_its_deadline_by_chain_time() {
        let refund = |nonce: u64, deadline| SignedRefund { nonce: U256::from(nonce), deadline };
        let chain = |spent: &[u64], unspent: &[u64]| RefundOnChain {
            payment_spent: true,
            payment_cancelled: false,
            confirmed_timestamp: NOW,
            spent: spent.iter().map(|n| U256::from(*n)).collect(),
            unspent: unspent.iter().map(|n| U256::from(*n)).collect(),
        };
        let check = |chain: Option<&RefundOnChain>, refunds: &[SignedRefund]| {
            Policy::check_refund_on_chain(chain, refunds).map_err(|r| r.rule)
        };
        // No node of the chain: default deny.
        assert_eq!(check(None, &[]), Err(Rule::RefundsNotAllowed));
        // A payment that never happened: refused however often it is asked.
        let unpaid = RefundOnChain { payment_spent: false, ..chain(&[], &[]) };
        assert_eq!(check(Some(&unpaid), &[]), Err(Rule::PaymentNotMade));
        // A nonce the admin cancelled while free is spent, by no payment (issue 65).
        let cancelled = RefundOnChain { payment_cancelled: true, ..chain(&[], &[]) };
        assert_eq!(check(Some(&cancelled), &[]), Err(Rule::PaymentNotMade));
        assert_eq!(check(Some(&chain(&[], &[])), &[]), Ok(()), "the first refund of a payment made");
        // An earlier refund executed: never another, even long after its deadline.
        let executed = chain(&[1], &[2]);
        assert_eq!(check(Some(&executed), &[refund(1, NOW - 1_000), refund(2, NOW - 1)]), Err(Rule::RefundExecuted));
        // One that may still execute: its deadline not below the confirmed block's time (a deadline of now still is).
        assert_eq!(check(Some(&chain(&[], &[1])), &[refund(1, NOW)]), Err(Rule::RefundExists));
        // One signed after the chain was read (unknown to the read): refused, not guessed dead.
        assert_eq!(check(Some(&chain(&[], &[1])), &[refund(1, NOW - 1), refund(2, NOW - 1)]), Err(Rule::RefundExists));
        // Every earlier one unspent and past its deadline by chain time: a new one may be signed.
        assert_eq!(check(Some(&chain(&[], &[1, 2])), &[refund(1, NOW - 5), refund(2, NOW - 1)]), Ok(()));
        // At most MAX_REFUNDS_PER_PAYMENT, whatever the chain says.
        let many: Vec<SignedRefund> = (0..MAX_REFUNDS_PER_PAYMENT as u64).map(|n| refund(n, NOW - 1)).collect();
        let all_dead = chain(&[], &(0..MAX_REFUNDS_PER_PAYMENT as u64).collect::<Vec<_>>());
        assert_eq!(check(Some(&all_dead), &many), Err(Rule::RefundExists));
        assert_eq!(check(Some(&all_dead), &many[1..]), Ok(()));
    }

    #[test]
    fn every_kind_is_signed_only_on_a_nonce_of_its_own_space() {
        use abi::nonces::{batch_nonce, liability_nonce, treasury_nonce};
        let p = policy();
        let on = |mut intent: Intent, nonce: Option<U256>| {
            intent.nonce = nonce;
            p.admit(&intent, NOW).map(|_| ()).map_err(|r| r.rule)
        };
        let payment = register(CHAIN, CONTRACT, USDT, 1, None);
        assert_eq!(on(payment.clone(), None), Ok(()), "the signer's own allocation");
        assert_eq!(on(payment.clone(), Some(U256::from(7))), Ok(()));
        for other in [batch_nonce(3, 0), treasury_nonce(3), liability_nonce(3)] {
            assert_eq!(on(payment.clone(), Some(other)), Err(Rule::NonceSpace), "{other}");
        }
        assert_eq!(on(batch(&[1]), Some(batch_nonce(9, 1))), Ok(()));
        assert_eq!(on(treasury(TREASURY, 1), Some(treasury_nonce(9))), Ok(()));
        for (intent, own) in [(batch(&[1]), batch_nonce(2, 0)), (treasury(TREASURY, 1), treasury_nonce(2))] {
            assert_eq!(on(intent.clone(), None), Err(Rule::NonceSpace), "an outflow names its nonce");
            for other in [U256::from(2), batch_nonce(2, 0), treasury_nonce(2), liability_nonce(2)] {
                let expected = if other == own { Ok(()) } else { Err(Rule::NonceSpace) };
                assert_eq!(on(intent.clone(), Some(other)), expected, "{:?} on {other}", intent.kind());
            }
        }
        assert_eq!(Rule::NonceSpace.code(), "policy.nonce_space");
    }

    #[test]
    fn deadlines_must_be_in_the_future_and_within_the_horizon() {
        let p = policy();
        assert_eq!(p.admit(&register(CHAIN, CONTRACT, USDT, 1, Some(NOW + 3_600)), NOW).unwrap().deadline, NOW + 3_600);
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, USDT, 1, Some(NOW + 3_601)), NOW)), Rule::DeadlineHorizon);
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, USDT, 1, Some(NOW)), NOW)), Rule::DeadlinePassed);
        assert_eq!(rule(p.admit(&register(CHAIN, CONTRACT, USDT, 1, Some(u64::MAX)), NOW)), Rule::DeadlineHorizon);
    }

    #[test]
    fn daily_cap_counts_outflows_only_and_refuses_what_would_exceed_it() {
        let p = policy();
        let inflow = p.admit(&register(CHAIN, CONTRACT, USDT, 100, None), NOW).unwrap();
        assert!(Policy::check_daily_outflow(&inflow, U256::MAX, U256::from(100)).is_ok());
        let outflow = p.admit(&batch(&[100]), NOW).unwrap();
        assert_eq!(outflow.daily_outflow_cap, Some(U256::from(1_000)));
        assert!(Policy::check_daily_outflow(&outflow, U256::from(900), U256::from(100)).is_ok());
        let refusal = Policy::check_daily_outflow(&outflow, U256::from(901), U256::from(100)).unwrap_err();
        assert_eq!(refusal.rule, Rule::DailyOutflowCap);
        assert!(Policy::check_daily_outflow(&outflow, U256::MAX, U256::from(1)).is_err());
    }

    #[test]
    fn a_caller_may_ask_only_for_its_permitted_kinds() {
        use crate::auth::Permissions;
        let caller = |permissions| Authenticated { caller: "backend".into(), mac: "00".into(), permissions };
        let inflows = caller(Permissions::only([Kind::Register, Kind::Retopup]));
        assert!(Policy::permit(&inflows, Kind::Register).is_ok());
        assert!(Policy::permit(&inflows, Kind::Retopup).is_ok());
        for kind in [Kind::PayoutBatch, Kind::TreasuryTransfer] {
            let refusal = Policy::permit(&inflows, kind).unwrap_err();
            assert_eq!(refusal.rule.code(), "policy.caller_not_permitted");
            assert!(refusal.detail.contains(kind.as_str()), "{}", refusal.detail);
        }
        for kind in Kind::ALL {
            assert!(Policy::permit(&caller(Permissions::ALL), kind).is_ok());
        }
    }

    #[test]
    fn inconsistent_configs_are_refused() {
        let base = PolicyConfig {
            default_ttl_secs: 10,
            max_deadline_horizon_secs: 5,
            max_batch_entries: 1,
            chains: vec![],
            approvals: None,
            catalogue: None,
        };
        assert!(Policy::try_from(base.clone()).is_err());
        let chain = ChainConfig {
            chain_id: 1,
            contracts: vec![],
            wound_down: vec![],
            treasury_recipients: vec![],
            assets: vec![],
            node: None,
        };
        let twice = PolicyConfig { default_ttl_secs: 5, chains: vec![chain.clone(), chain], ..base.clone() };
        assert!(Policy::try_from(twice).is_err());
        // Batches as long as the contract's design (500) fit a request; ones that could not are refused at start.
        let fits = PolicyConfig { default_ttl_secs: 5, max_batch_entries: 500, ..base.clone() };
        assert!(Policy::try_from(fits).is_ok());
        let too_long = PolicyConfig { default_ttl_secs: 5, max_batch_entries: 5_000, ..base };
        assert!(Policy::try_from(too_long).unwrap_err().0.contains("max_batch_entries 5000"));
    }

    #[test]
    fn a_tokens_epochs_only_go_up_and_an_epoch_whose_signatures_all_expired_may_be_signed_again() {
        let e = |epoch, deadline| SignedEpoch { epoch, deadline };
        assert!(Policy::check_epoch(1, &[], NOW).is_ok());
        assert!(Policy::check_epoch(3, &[e(2, NOW + 10)], NOW).is_ok());
        assert_eq!(Policy::check_epoch(2, &[e(2, NOW + 10)], NOW).unwrap_err().rule, Rule::EpochNotIncreasing);
        assert_eq!(Policy::check_epoch(1, &[e(2, NOW - 10)], NOW).unwrap_err().rule, Rule::EpochNotIncreasing);
        assert!(Policy::check_epoch(2, &[e(2, NOW - 1), e(2, NOW - 5)], NOW).is_ok());
        // A deadline of now is still valid on-chain (`block.timestamp > deadline` is what expires it).
        assert_eq!(
            Policy::check_epoch(2, &[e(2, NOW - 1), e(2, NOW)], NOW).unwrap_err().rule,
            Rule::EpochNotIncreasing
        );
    }

    #[test]
    fn a_liability_root_needs_a_head_source_and_a_confirmed_block() {
        let intent = Intent::try_from(crate::intent::LiabilityRootIntent {
            chain_id: CHAIN,
            contract: Addr(CONTRACT),
            token: Addr(USDT),
            epoch: 1,
            as_of_block: 100,
            root: alloy::primitives::B256::repeat_byte(1),
            total: Amount::from(5),
            leaf_count: 1,
            plan_hash: alloy::primitives::B256::repeat_byte(2),
            nonce: Some(Amount(abi::nonces::liability_nonce(0))),
            deadline: None,
            forfeits: Vec::new(),
        })
        .unwrap();
        assert_eq!(policy().admit(&intent, NOW).unwrap_err().rule, Rule::LiabilityRootsNotAllowed);
        let mut config = policy_config();
        config.chains[0].node = Some(NodeConfig { rpc_url: "http://127.0.0.1:8545".into(), confirmations: 3 });
        let with_node = Policy::try_from(config.clone()).unwrap();
        let admitted = with_node.admit(&intent, NOW).unwrap();
        assert_eq!((admitted.deadline, admitted.daily_outflow_cap), (NOW + 600, None), "no outflow cap: moves nothing");
        assert_eq!(with_node.nodes(), vec![(CHAIN, config.chains[0].node.clone().unwrap())]);
        assert!(with_node.has_node(CHAIN) && !policy().has_node(CHAIN));
        // On a payout batch's nonce: refused whatever else holds.
        let mut on_batch_nonce = intent.clone();
        on_batch_nonce.nonce = Some(abi::nonces::batch_nonce(1, 0));
        assert_eq!(with_node.admit(&on_batch_nonce, NOW).unwrap_err().rule, Rule::NonceSpace);
        // Confirmed, and at most `maxAsOfLag` below the head (head 1 200, 3 confirmations, lag 1 000).
        assert!(Policy::check_as_of_block(1_197, 1_197, 1_200, 1_000).is_ok());
        assert!(Policy::check_as_of_block(200, 1_197, 1_200, 1_000).is_ok());
        assert_eq!(
            Policy::check_as_of_block(1_198, 1_197, 1_200, 1_000).unwrap_err().rule,
            Rule::AsOfBlockNotConfirmed
        );
        assert_eq!(Policy::check_as_of_block(199, 1_197, 1_200, 1_000).unwrap_err().rule, Rule::AsOfBlockTooOld);
        assert_eq!(
            Policy::check_as_of_block(1, 1_197, 1_200, 1_000).unwrap_err().rule.code(),
            "policy.as_of_block_too_old"
        );
        config.chains[0].node = Some(NodeConfig { rpc_url: "not a url".into(), confirmations: 3 });
        assert!(Policy::try_from(config).unwrap_err().0.contains("node.rpc_url"));
    }

    #[test]
    fn the_node_is_read_from_node_or_from_the_older_solvency_key() {
        let chain = |key: &str| {
            let node = r#"{ rpc_url = "http://127.0.0.1:8545", confirmations = 2 }"#;
            let text = format!("chain_id = 56\ncontracts = []\nassets = []\n{key} = {node}\n");
            toml::from_str::<ChainConfig>(&text).map(|c| c.node)
        };
        let expected = Some(NodeConfig { rpc_url: "http://127.0.0.1:8545".into(), confirmations: 2 });
        assert_eq!(chain("node").unwrap(), expected);
        assert_eq!(chain("solvency").unwrap(), expected, "configs written before the rename still load");
        assert!(chain("nodes").is_err(), "an unknown key is still refused");
        assert_eq!(toml::from_str::<ChainConfig>("chain_id = 56\ncontracts = []\nassets = []\n").unwrap().node, None);
    }

    #[test]
    fn a_root_falls_by_what_the_chain_paid_and_the_fees_kept_of_it_or_within_the_daily_allowance() {
        let eth = U256::from(10u64).pow(U256::from(18));
        // Nothing paid, no fee: every wei below the committed total is unexplained.
        assert_eq!(unexplained_fall(eth * U256::from(6), U256::ZERO, 0, U256::ZERO), eth * U256::from(6));
        assert_eq!(unexplained_fall(eth, U256::ZERO, 0, eth + U256::from(1)), U256::ZERO, "a root that rose");
        // 2 paid at 500 bps: entries E paid E − ⌈E/20⌉, so at most ⌈2e18 × 500 / 9500⌉ was kept.
        let kept = U256::from(105_263_157_894_736_843u128);
        let floor = eth * U256::from(4) - kept;
        assert_eq!(unexplained_fall(eth * U256::from(6), eth * U256::from(2), 500, floor), U256::ZERO);
        assert_eq!(
            unexplained_fall(eth * U256::from(6), eth * U256::from(2), 500, floor - U256::from(3)),
            U256::from(3)
        );
        // One entry of 21 wei at 500 bps keeps ⌈21/20⌉ = 2 and pays 19: 19 paid explains ⌈19 × 500 / 9500⌉ = 1, and
        // the other wei of rounding is the allowance's.
        assert_eq!(unexplained_fall(U256::from(21), U256::from(19), 500, U256::ZERO), U256::from(1));
        // Paid more than committed (claims after the root's block): never below zero; a fee beyond half is capped.
        assert_eq!(unexplained_fall(U256::from(5), U256::from(9), 500, U256::ZERO), U256::ZERO);
        assert_eq!(unexplained_fall(U256::from(100), U256::from(10), 9_999, U256::ZERO), U256::from(80));

        let caps = RootFallCaps { withdrawal_fee_bps: 0, daily_cap: U256::from(10) };
        assert!(
            Policy::check_root_fall(&caps, U256::MAX, U256::ZERO, U256::ZERO, U256::ZERO, U256::ZERO).is_ok(),
            "no fall"
        );
        assert!(
            Policy::check_root_fall(&caps, U256::from(4), U256::from(6), U256::ZERO, U256::ZERO, U256::ZERO).is_ok()
        );
        let refused =
            Policy::check_root_fall(&caps, U256::from(5), U256::from(6), U256::from(9), U256::from(1), U256::ZERO);
        assert_eq!(refused.unwrap_err().rule, Rule::RootFall);
        assert!(Policy::check_root_fall(&caps, U256::MAX, U256::from(1), U256::ZERO, U256::ZERO, U256::ZERO).is_err());
    }
}
