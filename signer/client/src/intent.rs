//! Typed intents: what a caller asks the signer to authorise, parsed strictly and turned into the `abi`
//! EIP-712 structs. Pure: no I/O, no clock.

use std::{fmt, marker::PhantomData, str::FromStr};

use abi::{
    LiabilityRoot, Payout, PayoutBatch, Registration, Retopup, SettlementDomain, SettlementSales, TreasuryTransfer,
    catalogue::{CatalogueProduct, CatalogueVersion, MAX_ORDER_LINES, MAX_PRODUCTS, MAX_SKU, is_sku},
    limits::{AMOUNT_MAX_LEN, EVM_ADDRESS_LEN, NONCE_MAX_LEN, SIGNATURE_MAX_LEN, within},
};
use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A uint256 carried as a decimal string of base units ("20000000000000000000"): JSON numbers lose precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Amount(pub U256);

impl FromStr for Amount {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // 78 digits is the length of `U256::MAX`: a longer text cannot fit, and is refused before it is scanned.
        if !within(s, AMOUNT_MAX_LEN) {
            return Err("does not fit in uint256".into());
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be a non-negative decimal integer string of base units".into());
        }
        U256::from_str_radix(s, 10).map(Amount).map_err(|_| "does not fit in uint256".into())
    }
}

/// Reads a JSON string without copying it and parses it as `T` only when it is at most `max` bytes long; a longer
/// one is refused unparsed and unechoed (an error message, and the audit log, never carry more than `max`).
struct Bounded<T> {
    what: &'static str,
    max: usize,
    parsed: PhantomData<T>,
}

impl<T> Bounded<T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D, what: &'static str, max: usize) -> Result<T, D::Error>
    where
        T: FromStr<Err = String>,
    {
        deserializer.deserialize_str(Bounded { what, max, parsed: PhantomData })
    }
}

impl<T: FromStr<Err = String>> de::Visitor<'_> for Bounded<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a string of at most {} characters", self.what, self.max)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        if !within(s, self.max) {
            return Err(E::custom(format!("{} of {} bytes is longer than {}", self.what, s.len(), self.max)));
        }
        s.parse().map_err(|e| E::custom(format!("{} {s:?} {e}", self.what)))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Amounts and nonces share the type and the bound (`NONCE_MAX_LEN` = `AMOUNT_MAX_LEN`).
        Bounded::read(deserializer, "amount", AMOUNT_MAX_LEN.max(NONCE_MAX_LEN))
    }
}

impl From<u128> for Amount {
    fn from(v: u128) -> Self {
        Amount(U256::from(v))
    }
}

/// An address as "0x" + 40 hex digits, either all lowercase or EIP-55 checksummed (a wrong checksum is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr(pub Address);

impl FromStr for Addr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != EVM_ADDRESS_LEN {
            return Err("must be 0x followed by 40 hex digits".into());
        }
        let hex = s.strip_prefix("0x").ok_or("must start with 0x")?;
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("must be 0x followed by 40 hex digits".into());
        }
        if hex.bytes().any(|b| b.is_ascii_uppercase()) {
            Address::parse_checksummed(s, None).map(Addr).map_err(|_| "has an invalid EIP-55 checksum".into())
        } else {
            Address::from_str(s).map(Addr).map_err(|e| e.to_string())
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_checksum(None))
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Bounded::read(deserializer, "address", EVM_ADDRESS_LEN)
    }
}

impl From<Address> for Addr {
    fn from(a: Address) -> Self {
        Addr(a)
    }
}

/// A 65-byte secp256k1 signature (`r ‖ s ‖ v`) as `0x` + 130 hex digits: a staff wallet's over a
/// [`abi::approval::StaffApproval`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalletSignature(pub alloy::primitives::Signature);

impl FromStr for WalletSignature {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("0x").ok_or("is not 0x-prefixed")?;
        if hex.len() != 130 {
            return Err("is not 65 bytes of hex".into());
        }
        let bytes = alloy::primitives::hex::decode(hex).map_err(|_| "is not hex".to_string())?;
        alloy::primitives::Signature::try_from(bytes.as_slice()).map(Self).map_err(|e| format!("is no signature: {e}"))
    }
}

impl Serialize for WalletSignature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", alloy::primitives::hex::encode(self.0.as_bytes())))
    }
}

impl<'de> Deserialize<'de> for WalletSignature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Bounded::read(deserializer, "signature", SIGNATURE_MAX_LEN)
    }
}

/// What a staff member's signature says of an outflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffAction {
    /// The proposer's: "I prepared this". Exactly one per approved outflow.
    Propose,
    /// An approver's: "I checked this and agree".
    Approve,
}

impl StaffAction {
    /// The word in the signed [`abi::approval::StaffApproval`].
    pub fn as_str(self) -> &'static str {
        match self {
            StaffAction::Propose => "propose",
            StaffAction::Approve => "approve",
        }
    }
}

/// A staff wallet's signature over an outflow ([`abi::approval::StaffApproval`]): who, what they said, and the
/// signature the signer service recovers `wallet` from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSignature {
    /// The staff wallet that signed.
    pub wallet: Addr,
    /// Propose or approve.
    pub action: StaffAction,
    /// Its signature over the approval's EIP-712 digest.
    pub signature: WalletSignature,
}

/// The most staff signatures one outflow carries (a proposer and approvers); more is refused as malformed.
pub const MAX_STAFF_SIGNATURES: usize = 16;

fn staff_signatures(approvals: Vec<StaffSignature>) -> Result<Vec<StaffSignature>, Malformed> {
    if approvals.len() > MAX_STAFF_SIGNATURES {
        return Err(Malformed(format!("{} staff signatures: at most {MAX_STAFF_SIGNATURES}", approvals.len())));
    }
    Ok(approvals)
}

/// The most approved forfeits one liability root carries; more is refused as malformed.
pub const MAX_FORFEITS: usize = 64;

/// A forfeit staff approved (issue 65, item 4; [`abi::approval::Forfeit`]): a liability root carries those the
/// backend applied since the latest commitment, and the signer lets the root's total fall by each once (besides what
/// the chain paid members) when its proposer's and approvers' signatures check against `[policy.approvals]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedForfeit {
    /// The backend's id of the forfeit: the approvals' nonce.
    pub id: u64,
    /// The Settlement contract its approvals were signed for (their domain's verifying contract): one the signer's
    /// policy allows on the root's chain.
    pub contract: Addr,
    /// The member whose held rewards were forfeited.
    pub member: Addr,
    /// What was forfeited, in base units.
    pub amount: Amount,
    /// The approvals' deadline (unix seconds, the chain's clock).
    pub deadline: u64,
    /// The proposer's and the approvers' signatures of it.
    pub approvals: Vec<StaffSignature>,
}

impl ApprovedForfeit {
    /// The typed forfeit its staff signatures cover, for `token`.
    pub fn forfeit(&self, token: Address) -> abi::approval::Forfeit {
        abi::approval::Forfeit::new(self.member.0, token, self.amount.0, self.id, self.deadline)
    }
}

fn forfeits(list: Vec<ApprovedForfeit>) -> Result<Vec<ApprovedForfeit>, Malformed> {
    if list.len() > MAX_FORFEITS {
        return Err(Malformed(format!("{} forfeits: at most {MAX_FORFEITS} a liability root", list.len())));
    }
    let mut ids = std::collections::HashSet::new();
    for f in &list {
        if !ids.insert(f.id) {
            return Err(Malformed(format!("forfeit {} is listed twice", f.id)));
        }
        if f.amount.0.is_zero() {
            return Err(Malformed(format!("forfeit {} forfeits nothing", f.id)));
        }
        staff_signatures(f.approvals.clone())?;
    }
    Ok(list)
}

/// Which contract a payload is for; with the chain id it selects the EIP-712 domain and the nonce space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Chain id as configured (TRON's full id is masked to 32 bits only inside the domain).
    pub chain_id: u64,
    /// Address of the deployed Settlement contract.
    pub contract: Address,
}

impl Target {
    /// The EIP-712 domain every payload for this contract is signed under.
    pub fn domain(&self) -> SettlementDomain {
        SettlementDomain::new(self.chain_id, self.contract)
    }
}

/// `POST /v1/sign/register`: authorise `user` to pay the registration fee under `sponsor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract that will verify the signature.
    pub contract: Addr,
    /// Wallet that will pay the registration fee and become active.
    pub user: Addr,
    /// Referrer the user registers under; fixed for life.
    pub sponsor: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// Registration fee in base units, as the user will send it; capped by the signer's `per_payload_cap`.
    pub amount: Amount,
    /// Nonce to spend; when absent the signer allocates the next one from its own counter. A nonce named here must be
    /// in that counter's space, below 2^255 (`abi::nonces::NonceSpace::SignerCounter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock (`block.timestamp`); when absent the signer
    /// applies its default TTL from the chain's time, read from its own node of the chain (the host's without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
}

/// `POST /v1/sign/retopup`: authorise `user` to pay a retopup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetopupIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract that will verify the signature.
    pub contract: Addr,
    /// Wallet that will pay the retopup.
    pub user: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// Retopup fee in base units, as the user will send it; capped by the signer's `per_payload_cap`.
    pub amount: Amount,
    /// Nonce to spend; when absent the signer allocates the next one from its own counter. A nonce named here must be
    /// in that counter's space, below 2^255 (`abi::nonces::NonceSpace::SignerCounter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock (`block.timestamp`); when absent the signer
    /// applies its default TTL from the chain's time, read from its own node of the chain (the host's without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
}

/// One recipient's line of a payout batch: the user is paid once per batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutEntry {
    /// User wallet the contract pushes the amount to (or credits as claimable).
    pub recipient: Addr,
    /// Sum of the user's rewards in this batch, in base units.
    pub amount: Amount,
}

/// `POST /v1/sign/payout-batch`: the signer computes `total`; a caller-supplied `total` must equal the sum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract that will verify the signature.
    pub contract: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// One entry per recipient; must not be empty.
    pub payouts: Vec<PayoutEntry>,
    /// Optional cross-check of the sum of `payouts`; refused when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Amount>,
    /// Nonce to spend, from the payout-batch space (`abi::nonces::batch_nonce`); required (`policy.nonce_space`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock (`block.timestamp`); when absent the signer
    /// applies its default TTL from the chain's time, read from its own node of the chain (the host's without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// The staff signatures the policy's `[policy.approvals]` requires: the proposer's and the approvers'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<StaffSignature>,
}

impl PayoutBatchIntent {
    /// The most bytes a batch of `entries` entries takes as compact JSON, every field at its longest: what a
    /// request carrying it needs, checked by the signer against its body limit at start.
    pub const fn max_json_bytes(entries: usize) -> usize {
        const U64_DIGITS: usize = 20;
        const ENTRY: usize = r#"{"recipient":"","amount":""},"#.len() + EVM_ADDRESS_LEN + AMOUNT_MAX_LEN;
        const REST: usize = r#"{"chain_id":,"contract":"","token":"","payouts":[],"total":"","nonce":"","deadline":}"#
            .len()
            + 2 * U64_DIGITS
            + 2 * EVM_ADDRESS_LEN
            + AMOUNT_MAX_LEN
            + NONCE_MAX_LEN;
        const APPROVAL: usize =
            r#"{"wallet":"","action":"approve","signature":""},"#.len() + EVM_ADDRESS_LEN + SIGNATURE_MAX_LEN;
        const APPROVALS: usize = r#","approvals":[]"#.len() + MAX_STAFF_SIGNATURES * APPROVAL;
        REST + entries * ENTRY + APPROVALS
    }
}

/// `POST /v1/sign/treasury-transfer`: authorise moving company funds to `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreasuryTransferIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract that will verify the signature.
    pub contract: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// Operator wallet receiving company funds; must be one of the policy's `treasury_recipients` — unless the
    /// transfer is a refund (`refund_of`): then the wallet that paid the refunded payment.
    pub to: Addr,
    /// Amount in base units; the backend keeps it within the company's ledger balance (solvency); a refund's is
    /// exactly the refunded payment's.
    pub amount: Amount,
    /// Nonce to spend, from the treasury space (`abi::nonces::treasury_nonce`), refunds too; required
    /// (`policy.nonce_space`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock (`block.timestamp`); when absent the signer
    /// applies its default TTL from the chain's time, read from its own node of the chain (the host's without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// A refund: the nonce of the register or retopup payload (same chain and contract) whose payment the plan
    /// refused and this transfer returns. The signer signs it only if it signed that payload for `to`, `token`
    /// and exactly `amount`, the payment's nonce is spent on chain (read through its own node), and every other
    /// refund of it is unspent and can no longer execute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<Amount>,
    /// The staff signatures the policy's `[policy.approvals]` requires: the proposer's and the approvers'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<StaffSignature>,
}

/// `POST /v1/sign/liability-root`: authorise committing the Merkle-sum root of every user's liabilities in `token`
/// as of a confirmed block (the public proof of solvency, SOLVENCY.md). Moves no money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiabilityRootIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract that will verify the signature.
    pub contract: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// The commitment's number: the contract takes only its latest + 1; the signer only ever more than it signed.
    pub epoch: u64,
    /// The confirmed block the liabilities were read at; the signer checks it against the chain's head itself.
    pub as_of_block: u64,
    /// The tree's root hash.
    pub root: B256,
    /// The root's sum: every user's liabilities, in base units (below 2^128).
    pub total: Amount,
    /// How many users' leaves.
    pub leaf_count: u32,
    /// keccak256 of the plan versions in force (what anyone recomputing the total must apply).
    pub plan_hash: B256,
    /// Nonce to spend, from the liability-root space (`abi::nonces::liability_nonce`); required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock (`block.timestamp`); when absent the signer
    /// applies its default TTL from the chain's time, read from its own node of the chain (the host's without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// The approved forfeits applied since the latest commitment (at most [`MAX_FORFEITS`]): what the total may fall
    /// by besides what the chain paid members, each counted once (backend/SOLVENCY.md §1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forfeits: Vec<ApprovedForfeit>,
}

/// A product's SKU, as an order line or a catalogue version names it: 1 to 32 bytes, a letter or digit first, then
/// letters, digits, `.`, `_` or `-` (`abi::catalogue::is_sku`); refused unparsed when longer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sku(pub String);

impl FromStr for Sku {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_sku(s) { Ok(Sku(s.to_owned())) } else { Err("is not a SKU (letters, digits, '.', '_', '-')".into()) }
    }
}

impl Serialize for Sku {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Bounded::read(deserializer, "sku", MAX_SKU)
    }
}

/// One line of an order: a product and how many of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    /// The product.
    pub sku: Sku,
    /// How many, 1 to `abi::catalogue::MAX_QUANTITY`.
    pub quantity: u32,
}

/// One product of a catalogue version, as a sale intent carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    /// The product's SKU.
    pub sku: Sku,
    /// Its price in the asset's base units.
    pub price: Amount,
    /// Its pv, whole points.
    pub pv: u64,
    /// Whether it is for sale in this version.
    pub active: bool,
}

/// A catalogue version (`abi::catalogue::CatalogueVersion`, its token the sale's) and the signature of the catalogue
/// wallet that signed it under the staff approvals' domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCatalogue {
    /// The version's number, from 1.
    pub version: u32,
    /// The plan's retail commission in force, basis points.
    pub retail_bps: u32,
    /// The plan's refund window in force, seconds.
    pub refund_window: u64,
    /// Every product of the asset, in ascending SKU order; at most `abi::catalogue::MAX_PRODUCTS`.
    pub products: Vec<CatalogueEntry>,
    /// The catalogue wallet that signed it; the policy's `[policy.catalogue] signers` must list it.
    pub wallet: Addr,
    /// Its signature (65 bytes, hex).
    pub signature: WalletSignature,
}

/// `POST /v1/sign/sale`: authorise `buyer` to pay for an order (contracts/SALES.md §7). The signer prices the order
/// again from the signed catalogue version it carries and signs only the amount, pv, window and retail commission
/// that version and the chain say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleIntent {
    /// Chain the payload is for; with `contract` it selects the EIP-712 domain and the nonce counter.
    pub chain_id: u64,
    /// The Settlement contract whose sales desk takes the sale.
    pub contract: Addr,
    /// The wallet that will pay, member or not.
    pub buyer: Addr,
    /// The member named as the seller: the customer's attributed member, or the buyer for a member's own purchase.
    pub seller: Addr,
    /// Asset: its TRC20/ERC20 contract, or the zero address for the native coin.
    pub token: Addr,
    /// Σ price × quantity, base units.
    pub amount: Amount,
    /// The seller's retail commission: ⌊amount × retail_bps / 10000⌋ on a customer sale to a registered seller, else 0.
    pub retail: Amount,
    /// Σ pv × quantity.
    pub pv: Amount,
    /// The order's reference (the API's order, hashed).
    pub order_ref: B256,
    /// The refund window, seconds: the catalogue version's.
    pub refund_window: u64,
    /// The order's lines, 1 to `abi::catalogue::MAX_ORDER_LINES`, each SKU once.
    pub lines: Vec<OrderLine>,
    /// The catalogue version the order is priced from, signed.
    pub catalogue: SignedCatalogue,
    /// Nonce to spend (the sale's id); when absent the signer allocates the next one from its own counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Amount>,
    /// Unix seconds after which the payload is void, on the chain's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
}

/// The six payload kinds; each has its own route, caller permission and audit label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A user's registration under a sponsor, paying the registration fee.
    Register,
    /// A user's retopup, paying the retopup fee.
    Retopup,
    /// Rewards pushed from custody to users (an outflow).
    PayoutBatch,
    /// Company funds moved from custody to an operator wallet (an outflow).
    TreasuryTransfer,
    /// The root of every user's liabilities committed on-chain beside custody (moves nothing).
    LiabilityRoot,
    /// A buyer's payment for an order priced from a signed catalogue version (the sales plan's sale; an inflow).
    Sale,
}

impl Kind {
    /// Every kind, in a fixed order: what a caller's configured `kinds` are parsed against.
    pub const ALL: [Kind; 6] =
        [Kind::Register, Kind::Retopup, Kind::PayoutBatch, Kind::TreasuryTransfer, Kind::LiabilityRoot, Kind::Sale];

    /// The snake_case name used in JSON, callers' `kinds`, metric labels and the signed-payload store.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Retopup => "retopup",
            Kind::PayoutBatch => "payout_batch",
            Kind::TreasuryTransfer => "treasury_transfer",
            Kind::LiabilityRoot => "liability_root",
            Kind::Sale => "sale",
        }
    }

    /// Money leaving custody: what the rolling daily cap limits.
    pub fn is_outflow(self) -> bool {
        matches!(self, Kind::PayoutBatch | Kind::TreasuryTransfer)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the payload will authorise, without nonce and deadline (those are settled by the store and the policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Registration of `user` under `sponsor`, paying `amount` of `token`.
    Register {
        /// Wallet that will pay the fee and become active; never the zero address.
        user: Address,
        /// Referrer the user registers under, fixed for life.
        sponsor: Address,
        /// Asset paid in: its TRC20/ERC20 contract, or the zero address for the native coin.
        token: Address,
        /// Registration fee in base units, as the user will send it.
        amount: U256,
    },
    /// Retopup by `user`, paying `amount` of `token`.
    Retopup {
        /// Registered wallet that will pay the retopup; never the zero address.
        user: Address,
        /// Asset paid in: its TRC20/ERC20 contract, or the zero address for the native coin.
        token: Address,
        /// Retopup fee in base units, as the user will send it.
        amount: U256,
    },
    /// Payouts of `token` from custody; `total` is their checked sum.
    PayoutBatch {
        /// Asset paid out: its TRC20/ERC20 contract, or the zero address for the native coin.
        token: Address,
        /// One entry per recipient (non-zero wallet, base units); never empty.
        payouts: Vec<Payout>,
        /// Checked sum of the entries in base units, computed by the signer; what its caps apply to.
        total: U256,
    },
    /// Company funds of `token` sent to the operator wallet `to`, or a refused payment returned to its payer.
    TreasuryTransfer {
        /// Asset moved: its TRC20/ERC20 contract, or the zero address for the native coin.
        token: Address,
        /// Operator wallet receiving the funds; never zero, and must be one of the policy's `treasury_recipients`
        /// (a refund: the refunded payment's payer).
        to: Address,
        /// Base units leaving custody; the backend keeps it within the company's share.
        amount: U256,
        /// A refund: the nonce of the register or retopup payload whose payment it returns.
        refund_of: Option<U256>,
    },
    /// The liabilities of `token` as of `as_of_block`, committed as epoch `epoch`.
    LiabilityRoot {
        /// Asset whose liabilities these are (zero address: the native coin).
        token: Address,
        /// The commitment's number, 1 for the first.
        epoch: u64,
        /// The confirmed block the liabilities were read at.
        as_of_block: u64,
        /// The Merkle-sum root.
        root: B256,
        /// The root's sum (below 2^128).
        total: u128,
        /// Users' leaves.
        leaf_count: u32,
        /// keccak256 of the plan versions in force.
        plan_hash: B256,
        /// Approved forfeits the total may fall by, each once.
        forfeits: Vec<ApprovedForfeit>,
    },
    /// A sale of an order to `buyer` (boxed: it carries its catalogue version).
    Sale(Box<SaleAction>),
}

/// A sale: what the payload says, the order's lines and the catalogue version they are priced from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleAction {
    /// The wallet that pays; never zero.
    pub buyer: Address,
    /// The member named as the seller; never zero.
    pub seller: Address,
    /// Asset paid in (zero address: the native coin).
    pub token: Address,
    /// The order's price in base units, as the API states it; the signer prices it again.
    pub amount: U256,
    /// The seller's retail commission, as the API states it.
    pub retail: U256,
    /// The order's pv, as the API states it.
    pub pv: U256,
    /// The order's reference.
    pub order_ref: B256,
    /// The refund window, seconds.
    pub refund_window: u64,
    /// The order's lines: (SKU, quantity).
    pub lines: Vec<(String, u32)>,
    /// The catalogue version the lines are priced from (its token: `token`).
    pub catalogue: CatalogueVersion,
    /// The wallet that says it signed the version.
    pub catalogue_wallet: Address,
    /// Its signature of the version.
    pub catalogue_signature: alloy::primitives::Signature,
}

/// A validated intent: well-formed, but not yet checked against policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    /// Chain and contract the payload is for.
    pub target: Target,
    /// The caller's nonce, or none to take the next one from the signer's counter.
    pub nonce: Option<U256>,
    /// The caller's deadline (unix seconds), or none for the policy's default TTL.
    pub deadline: Option<u64>,
    /// What the payload authorises.
    pub action: Action,
    /// Staff signatures over an outflow (payout batch, treasury transfer, refund); empty for every other kind.
    pub approvals: Vec<StaffSignature>,
}

/// Why an intent is malformed (422): a well-typed JSON body that cannot become a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

fn non_zero(field: &str, a: Addr) -> Result<Address, Malformed> {
    if a.0 == Address::ZERO { Err(Malformed(format!("{field} must not be the zero address"))) } else { Ok(a.0) }
}

impl TryFrom<RegisterIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: RegisterIntent) -> Result<Self, Malformed> {
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::Register {
                user: non_zero("user", i.user)?,
                sponsor: i.sponsor.0,
                token: i.token.0,
                amount: i.amount.0,
            },
            approvals: Vec::new(),
        })
    }
}

impl TryFrom<RetopupIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: RetopupIntent) -> Result<Self, Malformed> {
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::Retopup { user: non_zero("user", i.user)?, token: i.token.0, amount: i.amount.0 },
            approvals: Vec::new(),
        })
    }
}

impl TryFrom<PayoutBatchIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: PayoutBatchIntent) -> Result<Self, Malformed> {
        if i.payouts.is_empty() {
            return Err(Malformed("payouts must not be empty".into()));
        }
        let mut total = U256::ZERO;
        let mut payouts = Vec::with_capacity(i.payouts.len());
        for (index, entry) in i.payouts.into_iter().enumerate() {
            let recipient = non_zero(&format!("payouts[{index}].recipient"), entry.recipient)?;
            total = total
                .checked_add(entry.amount.0)
                .ok_or_else(|| Malformed("the sum of payouts does not fit in uint256".into()))?;
            payouts.push(Payout { recipient, amount: entry.amount.0 });
        }
        if let Some(stated) = i.total
            && stated.0 != total
        {
            return Err(Malformed(format!("total {stated} differs from the sum of payouts {total}")));
        }
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::PayoutBatch { token: i.token.0, payouts, total },
            approvals: staff_signatures(i.approvals)?,
        })
    }
}

impl TryFrom<TreasuryTransferIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: TreasuryTransferIntent) -> Result<Self, Malformed> {
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::TreasuryTransfer {
                token: i.token.0,
                to: non_zero("to", i.to)?,
                amount: i.amount.0,
                refund_of: i.refund_of.map(|n| n.0),
            },
            approvals: staff_signatures(i.approvals)?,
        })
    }
}

impl TryFrom<LiabilityRootIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: LiabilityRootIntent) -> Result<Self, Malformed> {
        if i.epoch == 0 {
            return Err(Malformed("epoch must be at least 1".into()));
        }
        let total = u128::try_from(i.total.0).map_err(|_| Malformed("total must be below 2^128".into()))?;
        if i.nonce.is_none() {
            return Err(Malformed("a liability root needs its nonce (abi::nonces::liability_nonce)".into()));
        }
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::LiabilityRoot {
                token: i.token.0,
                epoch: i.epoch,
                as_of_block: i.as_of_block,
                root: i.root,
                total,
                leaf_count: i.leaf_count,
                plan_hash: i.plan_hash,
                forfeits: forfeits(i.forfeits)?,
            },
            approvals: Vec::new(),
        })
    }
}

impl TryFrom<SaleIntent> for Intent {
    type Error = Malformed;

    fn try_from(i: SaleIntent) -> Result<Self, Malformed> {
        if i.lines.is_empty() || i.lines.len() > MAX_ORDER_LINES {
            return Err(Malformed(format!("lines: an order has 1 to {MAX_ORDER_LINES} lines, not {}", i.lines.len())));
        }
        let c = i.catalogue;
        if c.products.len() > MAX_PRODUCTS {
            return Err(Malformed(format!(
                "catalogue.products: {} products; a catalogue holds at most {MAX_PRODUCTS}",
                c.products.len()
            )));
        }
        let catalogue = CatalogueVersion {
            token: i.token.0,
            version: U256::from(c.version),
            retailBps: U256::from(c.retail_bps),
            refundWindow: U256::from(c.refund_window),
            products: c
                .products
                .into_iter()
                .map(|p| CatalogueProduct { sku: p.sku.0, price: p.price.0, pv: U256::from(p.pv), active: p.active })
                .collect(),
        };
        catalogue.check().map_err(|e| Malformed(format!("catalogue: {e}")))?;
        Ok(Intent {
            target: Target { chain_id: i.chain_id, contract: non_zero("contract", i.contract)? },
            nonce: i.nonce.map(|n| n.0),
            deadline: i.deadline,
            action: Action::Sale(Box::new(SaleAction {
                buyer: non_zero("buyer", i.buyer)?,
                seller: non_zero("seller", i.seller)?,
                token: i.token.0,
                amount: i.amount.0,
                retail: i.retail.0,
                pv: i.pv.0,
                order_ref: i.order_ref,
                refund_window: i.refund_window,
                lines: i.lines.into_iter().map(|l| (l.sku.0, l.quantity)).collect(),
                catalogue,
                catalogue_wallet: c.wallet.0,
                catalogue_signature: c.signature.0,
            })),
            approvals: Vec::new(),
        })
    }
}

impl Action {
    /// Which route and permission this action belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            Action::Register { .. } => Kind::Register,
            Action::Retopup { .. } => Kind::Retopup,
            Action::PayoutBatch { .. } => Kind::PayoutBatch,
            Action::TreasuryTransfer { .. } => Kind::TreasuryTransfer,
            Action::LiabilityRoot { .. } => Kind::LiabilityRoot,
            Action::Sale(_) => Kind::Sale,
        }
    }

    /// The asset moved (zero address = native coin): selects the policy's per-asset caps.
    pub fn token(&self) -> Address {
        match self {
            Action::Register { token, .. }
            | Action::Retopup { token, .. }
            | Action::PayoutBatch { token, .. }
            | Action::TreasuryTransfer { token, .. }
            | Action::LiabilityRoot { token, .. } => *token,
            Action::Sale(sale) => sale.token,
        }
    }

    /// For a refund, the nonce of the register or retopup payload whose payment it returns.
    pub fn refund_of(&self) -> Option<U256> {
        match self {
            Action::TreasuryTransfer { refund_of, .. } => *refund_of,
            Action::Register { .. }
            | Action::Retopup { .. }
            | Action::PayoutBatch { .. }
            | Action::LiabilityRoot { .. }
            | Action::Sale(_) => None,
        }
    }

    /// The whole amount the payload moves (a batch's total); a liability root moves nothing.
    pub fn total(&self) -> U256 {
        match self {
            Action::Register { amount, .. }
            | Action::Retopup { amount, .. }
            | Action::TreasuryTransfer { amount, .. } => *amount,
            Action::PayoutBatch { total, .. } => *total,
            Action::Sale(sale) => sale.amount,
            Action::LiabilityRoot { .. } => U256::ZERO,
        }
    }

    /// A sale's catalogue version.
    pub fn catalogue_version(&self) -> Option<u32> {
        match self {
            Action::Sale(sale) => u32::try_from(sale.catalogue.version).ok(),
            _ => None,
        }
    }

    /// A liability root's epoch.
    pub fn epoch(&self) -> Option<u64> {
        match self {
            Action::LiabilityRoot { epoch, .. } => Some(*epoch),
            _ => None,
        }
    }
}

impl Intent {
    /// Which route and permission this intent belongs to.
    pub fn kind(&self) -> Kind {
        self.action.kind()
    }

    /// The EIP-712 struct to sign, once the nonce and deadline are settled.
    pub fn payload(&self, nonce: U256, deadline: u64) -> Payload {
        let deadline = U256::from(deadline);
        match &self.action {
            Action::Register { user, sponsor, token, amount } => Payload::Register(Registration {
                user: *user,
                sponsor: *sponsor,
                token: *token,
                amount: *amount,
                nonce,
                deadline,
            }),
            Action::Retopup { user, token, amount } => {
                Payload::Retopup(Retopup { user: *user, token: *token, amount: *amount, nonce, deadline })
            }
            Action::PayoutBatch { token, payouts, total } => Payload::PayoutBatch(PayoutBatch {
                token: *token,
                total: *total,
                payouts: payouts.clone(),
                nonce,
                deadline,
            }),
            Action::TreasuryTransfer { token, to, amount, .. } => {
                Payload::TreasuryTransfer(TreasuryTransfer { token: *token, to: *to, amount: *amount, nonce, deadline })
            }
            Action::LiabilityRoot { token, epoch, as_of_block, root, total, leaf_count, plan_hash, .. } => {
                Payload::LiabilityRoot(LiabilityRoot {
                    token: *token,
                    epoch: *epoch,
                    asOfBlock: *as_of_block,
                    root: *root,
                    total: *total,
                    leafCount: *leaf_count,
                    planHash: *plan_hash,
                    nonce,
                    deadline,
                })
            }
            Action::Sale(sale) => Payload::Sale(SettlementSales::Sale {
                buyer: sale.buyer,
                seller: sale.seller,
                token: sale.token,
                amount: sale.amount,
                retail: sale.retail,
                pv: sale.pv,
                orderRef: sale.order_ref,
                refundWindow: U256::from(sale.refund_window),
                nonce,
                deadline,
            }),
        }
    }

    /// The intent as it was signed (nonce and deadline filled in), in the request's own JSON shape: serialised once,
    /// for the double-sign record and the answer alike.
    pub fn echo(&self, nonce: U256, deadline: u64) -> Box<serde_json::value::RawValue> {
        let (chain_id, contract, nonce, deadline) =
            (self.target.chain_id, Addr(self.target.contract), Some(Amount(nonce)), Some(deadline));
        let value = match &self.action {
            Action::Register { user, sponsor, token, amount } => serde_json::value::to_raw_value(&RegisterIntent {
                chain_id,
                contract,
                user: Addr(*user),
                sponsor: Addr(*sponsor),
                token: Addr(*token),
                amount: Amount(*amount),
                nonce,
                deadline,
            }),
            Action::Retopup { user, token, amount } => serde_json::value::to_raw_value(&RetopupIntent {
                chain_id,
                contract,
                user: Addr(*user),
                token: Addr(*token),
                amount: Amount(*amount),
                nonce,
                deadline,
            }),
            Action::PayoutBatch { token, payouts, total } => serde_json::value::to_raw_value(&PayoutBatchIntent {
                chain_id,
                contract,
                token: Addr(*token),
                payouts: payouts
                    .iter()
                    .map(|p| PayoutEntry { recipient: Addr(p.recipient), amount: Amount(p.amount) })
                    .collect(),
                total: Some(Amount(*total)),
                nonce,
                deadline,
                approvals: self.approvals.clone(),
            }),
            Action::TreasuryTransfer { token, to, amount, refund_of } => {
                serde_json::value::to_raw_value(&TreasuryTransferIntent {
                    chain_id,
                    contract,
                    token: Addr(*token),
                    to: Addr(*to),
                    amount: Amount(*amount),
                    nonce,
                    deadline,
                    refund_of: refund_of.map(Amount),
                    approvals: self.approvals.clone(),
                })
            }
            Action::LiabilityRoot { token, epoch, as_of_block, root, total, leaf_count, plan_hash, forfeits } => {
                serde_json::value::to_raw_value(&LiabilityRootIntent {
                    chain_id,
                    contract,
                    token: Addr(*token),
                    epoch: *epoch,
                    as_of_block: *as_of_block,
                    root: *root,
                    total: Amount::from(*total),
                    leaf_count: *leaf_count,
                    plan_hash: *plan_hash,
                    nonce,
                    deadline,
                    forfeits: forfeits.clone(),
                })
            }
            Action::Sale(sale) => serde_json::value::to_raw_value(&SaleIntent {
                chain_id,
                contract,
                buyer: Addr(sale.buyer),
                seller: Addr(sale.seller),
                token: Addr(sale.token),
                amount: Amount(sale.amount),
                retail: Amount(sale.retail),
                pv: Amount(sale.pv),
                order_ref: sale.order_ref,
                refund_window: sale.refund_window,
                lines: sale
                    .lines
                    .iter()
                    .map(|(sku, quantity)| OrderLine { sku: Sku(sku.clone()), quantity: *quantity })
                    .collect(),
                catalogue: SignedCatalogue {
                    version: u32::try_from(sale.catalogue.version).unwrap_or(u32::MAX),
                    retail_bps: u32::try_from(sale.catalogue.retailBps).unwrap_or(u32::MAX),
                    refund_window: u64::try_from(sale.catalogue.refundWindow).unwrap_or(u64::MAX),
                    products: sale
                        .catalogue
                        .products
                        .iter()
                        .map(|p| CatalogueEntry {
                            sku: Sku(p.sku.clone()),
                            price: Amount(p.price),
                            pv: u64::try_from(p.pv).unwrap_or(u64::MAX),
                            active: p.active,
                        })
                        .collect(),
                    wallet: Addr(sale.catalogue_wallet),
                    signature: WalletSignature(sale.catalogue_signature),
                },
                nonce,
                deadline,
            }),
        };
        // Typed structs of plain fields always serialise.
        value.expect("intents serialise")
    }
}

/// One of the six EIP-712 structs the Settlement contract (and its sales desk) verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Authorises a registration; `Settlement.register` verifies it.
    Register(Registration),
    /// Authorises a retopup; `Settlement.retopup` verifies it.
    Retopup(Retopup),
    /// Authorises a payout batch; `Settlement.executePayoutBatch` verifies it.
    PayoutBatch(PayoutBatch),
    /// Authorises a treasury transfer of company funds; `Settlement.transferTreasury` verifies it.
    TreasuryTransfer(TreasuryTransfer),
    /// Authorises a liability root; `Settlement.commitLiabilities` verifies it.
    LiabilityRoot(LiabilityRoot),
    /// Authorises a sale; `SettlementSales.sell` has the Settlement verify it.
    Sale(SettlementSales::Sale),
}

impl Payload {
    /// The EIP-712 digest the signer signs and the contract recovers the signer from.
    pub fn digest(&self, domain: &SettlementDomain) -> B256 {
        match self {
            Payload::Register(p) => domain.digest(p),
            Payload::Retopup(p) => domain.digest(p),
            Payload::PayoutBatch(p) => domain.digest(p),
            Payload::TreasuryTransfer(p) => domain.digest(p),
            Payload::LiabilityRoot(p) => domain.digest(p),
            Payload::Sale(p) => domain.digest(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_accept_only_decimal_digits_within_uint256() {
        assert_eq!("0".parse::<Amount>().unwrap().0, U256::ZERO);
        assert_eq!(U256::MAX.to_string().parse::<Amount>().unwrap().0, U256::MAX);
        for bad in ["", "-1", "+1", "1.5", "1e18", "0x10", " 1", "1 ", "١", "1; DROP TABLE signed_payloads"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad:?} must be refused");
        }
        let overflow = format!("{}0", U256::MAX);
        assert!(overflow.parse::<Amount>().is_err());
        let one_more = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(one_more.parse::<Amount>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn every_uint256_round_trips_through_its_decimal_string(limbs in proptest::array::uniform4(proptest::num::u64::ANY)) {
            let value = U256::from_limbs(limbs);
            proptest::prop_assert_eq!(value.to_string().parse::<Amount>().unwrap().0, value);
        }

        #[test]
        fn any_string_with_a_non_digit_is_refused(s in "[0-9]{0,5}[^0-9][0-9a-z]{0,5}") {
            proptest::prop_assert!(s.parse::<Amount>().is_err());
        }
    }

    #[test]
    fn oversized_fields_are_refused_unparsed_and_unechoed() {
        let huge = "9".repeat(1 << 20);
        let error = serde_json::from_str::<Amount>(&format!("\"{huge}\"")).unwrap_err().to_string();
        assert!(error.contains("amount of 1048576 bytes is longer than 78") && error.len() < 200, "{error:.200}");
        let long_address = format!("\"0x{}\"", "a".repeat(1 << 20));
        let error = serde_json::from_str::<Addr>(&long_address).unwrap_err().to_string();
        assert!(error.contains("address of 1048578 bytes is longer than 42") && error.len() < 200, "{error:.200}");
        // At the bound, the field is parsed as before.
        assert!(serde_json::from_str::<Amount>(&format!("\"{}\"", "9".repeat(79))).is_err());
        assert!(serde_json::from_str::<Amount>(&format!("\"{}\"", U256::MAX)).is_ok());
        assert!(serde_json::from_str::<Addr>("\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"").is_ok());
    }

    #[test]
    fn max_json_bytes_is_the_size_of_a_batch_of_the_longest_fields() {
        for entries in [1, 2, 500] {
            let longest = PayoutBatchIntent {
                chain_id: u64::MAX,
                contract: Addr(Address::repeat_byte(0xab)),
                token: Addr(Address::repeat_byte(0xcd)),
                payouts: vec![
                    PayoutEntry { recipient: Addr(Address::repeat_byte(1)), amount: Amount(U256::MAX) };
                    entries
                ],
                total: Some(Amount(U256::MAX)),
                nonce: Some(Amount(U256::MAX)),
                deadline: Some(u64::MAX),
                approvals: vec![
                    StaffSignature {
                        wallet: Addr(Address::repeat_byte(0xef)),
                        action: StaffAction::Approve,
                        signature: WalletSignature(alloy::primitives::Signature::new(U256::MAX, U256::MAX, true)),
                    };
                    MAX_STAFF_SIGNATURES
                ],
            };
            let json = serde_json::to_vec(&longest).unwrap();
            // The bound counts a comma after the last entry and after the last approval too.
            assert_eq!(json.len() + 2, PayoutBatchIntent::max_json_bytes(entries), "{entries} entries");
        }
        assert!(PayoutBatchIntent::max_json_bytes(500) < 80_000);
    }

    #[test]
    fn amounts_must_be_json_strings_not_numbers() {
        assert!(serde_json::from_str::<Amount>("20").is_err());
        assert!(serde_json::from_str::<Amount>("-1").is_err());
        assert_eq!(serde_json::from_str::<Amount>("\"20\"").unwrap(), Amount::from(20));
    }

    #[test]
    fn addresses_are_lowercase_or_correctly_checksummed() {
        let checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let parsed: Addr = checksummed.parse().unwrap();
        assert_eq!(parsed.to_string(), checksummed);
        assert_eq!(checksummed.to_lowercase().parse::<Addr>().unwrap(), parsed);
        let wrong_checksum = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert!(wrong_checksum.parse::<Addr>().is_err());
        for bad in [
            "",
            "0x",
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
            "0xzzaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "<script>alert(1)</script>",
        ] {
            assert!(bad.parse::<Addr>().is_err(), "{bad:?} must be refused");
        }
    }

    fn batch(amounts: &[u128], total: Option<u128>) -> PayoutBatchIntent {
        PayoutBatchIntent {
            chain_id: 56,
            contract: Addr(Address::repeat_byte(9)),
            token: Addr(Address::ZERO),
            payouts: amounts
                .iter()
                .enumerate()
                .map(|(i, a)| PayoutEntry {
                    recipient: Addr(Address::repeat_byte(i as u8 + 1)),
                    amount: Amount::from(*a),
                })
                .collect(),
            total: total.map(Amount::from),
            nonce: None,
            deadline: None,
            approvals: Vec::new(),
        }
    }

    #[test]
    fn payout_batch_total_is_computed_and_a_stated_total_must_match() {
        let intent = Intent::try_from(batch(&[5, 7], None)).unwrap();
        assert_eq!(intent.action.total(), U256::from(12));
        assert!(Intent::try_from(batch(&[5, 7], Some(12))).is_ok());
        assert!(Intent::try_from(batch(&[5, 7], Some(13))).is_err());
        assert!(Intent::try_from(batch(&[], None)).is_err());
    }

    #[test]
    fn payout_batch_sum_overflow_is_malformed() {
        let mut b = batch(&[1, 1], None);
        b.payouts[0].amount = Amount(U256::MAX);
        assert!(Intent::try_from(b).unwrap_err().0.contains("does not fit"));
    }

    #[test]
    fn zero_recipients_and_users_are_malformed() {
        let mut b = batch(&[1], None);
        b.payouts[0].recipient = Addr(Address::ZERO);
        assert!(Intent::try_from(b).is_err());
        let r = RegisterIntent {
            chain_id: 56,
            contract: Addr(Address::repeat_byte(9)),
            user: Addr(Address::ZERO),
            sponsor: Addr(Address::repeat_byte(1)),
            token: Addr(Address::ZERO),
            amount: Amount::from(1),
            nonce: None,
            deadline: None,
        };
        assert!(Intent::try_from(r).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"chain_id":56,"contract":"0x0909090909090909090909090909090909090909","user":"0x0101010101010101010101010101010101010101","token":"0x0000000000000000000000000000000000000000","amount":"1","admin":true}"#;
        assert!(serde_json::from_str::<RetopupIntent>(json).is_err());
    }

    #[test]
    fn echo_round_trips_into_the_same_payload() {
        let intent = Intent::try_from(batch(&[5, 7], None)).unwrap();
        let echoed: PayoutBatchIntent = serde_json::from_str(intent.echo(U256::from(3), 1_000).get()).unwrap();
        let again = Intent::try_from(echoed).unwrap();
        assert_eq!(again.payload(U256::from(3), 1_000), intent.payload(U256::from(3), 1_000));
        assert_eq!(again.nonce, Some(U256::from(3)));
    }
}
