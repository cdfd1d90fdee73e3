//! A TRON test node: the part of java-tron's gRPC `Wallet` and `WalletSolidity` API that TRON clients (tronic,
//! wallets) use to build, sign, broadcast and follow smart-contract transactions — and the `/wallet/*` HTTP
//! subset TronWeb uses for the same (`http`) — served over an anvil that
//! executes the real contract bytecode. No TRON node can run on these machines; this one is strict where a
//! lenient stand-in would hide bugs that mainnet catches:
//!
//! * **Broadcast** checks, in java-tron's order (`Wallet.broadcastTransaction`, `Manager.pushTransaction`, then
//!   `Manager.processTransaction`): a contract at all, an expiration not before the next block's slot (the head
//!   block's time plus the 3-second block interval, [`BLOCK_PRODUCED_INTERVAL_MS`]), the signature against the
//!   owner address (`TransactionCapsule.validatePubSignature`: one key), the TAPOS reference block (the block whose
//!   number ends in `ref_block_bytes` must have `ref_block_hash` as bytes 8..16 of its id), the size
//!   (`Manager.validateCommon`: at most [`TRANSACTION_MAX_BYTES`], with room for its results), the expiration
//!   window (after the head block's time, at most 24 h past it), duplicate transaction ids, then the contract
//!   (`fee_limit` within `[0, maxFeeLimit]`, the owner's balance, a contract at the address). Refusals carry
//!   java-tron's result codes and messages (`TRANSACTION_EXPIRATION_ERROR` "Transaction expired", `SIGERROR`
//!   "Validate signature error: …", `TAPOS_ERROR` "Tapos check error.", `TOO_BIG_TRANSACTION_ERROR` "Too big
//!   transaction …, TxId …", `DUP_TRANSACTION_ERROR` "Dup transaction.", `CONTRACT_VALIDATE_ERROR` "Contract
//!   validate error : …", `SERVER_BUSY` "Server busy.").
//! * **Energy.** A call runs with an energy limit of `min(fee_limit, balance − call_value) / energyFee`; one that
//!   needs more fails with `OUT_OF_ENERGY` and burns the whole limit, as on TRON. Energy is the EVM's gas
//!   (intrinsic cost included: TRON would charge that part as bandwidth). The fee (`energy × energyFee` SUN) is
//!   taken from the owner's balance; one SUN is one unit of anvil's native coin. anvil must run with a zero base
//!   fee (`--base-fee 0`), so that only the node charges.
//! * **Accounts and bandwidth** (java-tron's `BandwidthProcessor`, `TransferActuator`). An account exists once it
//!   holds TRX, has sent a transaction or is a contract: one that has only received a TRC-20 token does not, and
//!   everything it sends is refused ("account [T…] does not exist"). A TRX transfer (`TransferContract`, built by
//!   `CreateTransaction2` or `/wallet/createtransaction`) creates its recipient for `getCreateAccountFee` (bandwidth)
//!   plus `getCreateNewAccountFeeInSystemContract`. Every other transaction's bytes (without results, plus 64) come
//!   out of the owner's free daily allowance (`getFreeNetLimit`, recovering linearly over 24 h) when they fit, else
//!   are burnt at `getTransactionFee` per byte, outside the fee limit; an owner who can pay neither is refused
//!   `BANDWITH_ERROR`. Nothing is staked on this node. `GetAccountResource` reports the allowance and its use.
//! * **TLS** ([`tls`]): with [`Params::tls`], both gRPC ports serve TLS only, as a provider's do; the JSON-RPC
//!   ports can too ([`jsonrpc::TronRpc::start_tls`]).
//! * **Visibility.** A broadcast transaction is unknown to `GetTransactionById` and `GetTransactionInfoById`
//!   until it is in a block; solidified = head − [`SOLIDIFY_DEPTH`] (`WalletSolidity.GetNowBlock2`, `GetNodeInfo`).
//!   Block ids carry the number in their first 8 bytes.
//! * **Limits.** Every field of a request is bounded before it is parsed (`abi::limits`: addresses, hashes, hex,
//!   amounts, signatures), and so is every request: a gRPC message of more than [`GRPC_MESSAGE_MAX_BYTES`] and an
//!   HTTP body of more than [`HTTP_BODY_MAX_BYTES`] are refused as soon as they pass the limit, unread. Work that
//!   can take more than about a millisecond (large JSON, large protobuf messages, hashing a transaction and
//!   recovering its signer) runs off the async workers (`work`, `codec`): one request at its worst never holds up
//!   the others.
//!
//! Faults ([`Faults`]) reproduce what real nodes do to clients: `SERVER_BUSY`, a broadcast answered SUCCESS but
//! dropped, slow answers, a solidified head lagging further behind.
//!
//! TRON's **JSON-RPC** (a full and a Solidity port, as java-tron serves it) is the [`jsonrpc`] module, over the same
//! anvil: the listener and the reconciler read the chain there. The `tron-devnode` binary serves all of it.
//!
//! Only transactions broadcast through the node are TRON transactions: what a test does on the anvil directly
//! (a deployment, a mint) changes state but appears in no TRON block's transaction list of the gRPC API.
//!
//! **Transaction ids.** A TRON transaction's id is the SHA-256 of its raw data ([`transaction_id`]); the EVM
//! transaction that executed it has another hash. Every node keeps the two-way map of the transactions it executed
//! ([`TxIds`]), shared with every JSON-RPC port ([`jsonrpc`]) over the same anvil URL in the process, so that the
//! JSON-RPC answers with TRON ids wherever java-tron does (logs, receipts, transactions, blocks' lists) and knows
//! a transaction by its TRON id only. A transaction that reached the anvil without going through a node has no
//! raw data, hence no TRON id: the JSON-RPC shows it under its EVM hash (the stand-in's one departure, which
//! tests that write to the anvil directly rely on). The map lives in memory, as the accepted transactions do: a
//! node restarted over a live anvil forgets both (the devnet and the tests restart the anvil with it).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::primitives::{Address, B256, U256, keccak256};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

mod anvil;
mod codec;
mod http;
pub mod jsonrpc;
pub mod loopback;
mod permissions;
pub mod tls;
mod wallet;
mod work;

use anvil::{Anvil, EvmError};

/// java-tron's protocol messages and services (from `proto/`).
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub, rust_2018_idioms)]
pub mod proto {
    tonic::include_proto!("protocol");
}

/// The header a provider reads its API key from (TronGrid's `TRON-PRO-API-KEY`), as gRPC metadata spells it.
pub const API_KEY_HEADER: &str = "tron-pro-api-key";

/// Blocks between the head and the solidified block (2/3 of 27 super representatives, plus one).
pub const SOLIDIFY_DEPTH: u64 = 19;
/// The first byte of every TRON address (mainnet, Nile and Shasta alike).
pub const ADDRESS_PREFIX: u8 = 0x41;
/// Longest time a transaction may live past the head block (java-tron's `MAXIMUM_TIME_UNTIL_EXPIRATION`).
pub const MAX_EXPIRATION_MS: i64 = 24 * 60 * 60 * 1000;
/// TRON's block interval (java-tron's `ChainConstant.BLOCK_PRODUCED_INTERVAL`, 3 s): a broadcast transaction must not
/// expire before the next block's slot, the head block's time plus this. anvil's own block times do not change it.
pub const BLOCK_PRODUCED_INTERVAL_MS: i64 = 3_000;
/// Largest transaction java-tron accepts, in bytes of its encoding (`Constant.TRANSACTION_MAX_BYTE_SIZE`, 500 KiB);
/// a larger one is refused with `TOO_BIG_TRANSACTION_ERROR`.
pub const TRANSACTION_MAX_BYTES: usize = 500 * 1_024;
/// Bytes java-tron counts for each of a transaction's two results when it sizes one (`MAX_RESULT_SIZE_IN_TX`).
pub const MAX_RESULT_SIZE_IN_TX: usize = 64;
/// Largest gRPC message the node reads. java-tron's `node.rpc.maxMessageSize` is 4 MiB, but nothing it accepts is
/// larger than a transaction: at twice that, a transaction too big by up to as much again still gets java-tron's own
/// answer (`TOO_BIG_TRANSACTION_ERROR`), and anything larger is refused by its length prefix, before it is read.
pub const GRPC_MESSAGE_MAX_BYTES: usize = 2 * TRANSACTION_MAX_BYTES;
/// Largest header list of a gRPC request (java-tron's `node.rpc.maxHeaderListSize`, gRPC's 8 KiB).
pub const GRPC_HEADER_LIST_MAX_BYTES: u32 = 8 * 1_024;
/// Largest HTTP request body (java-tron's `node.http.maxMessageSize`, 4 MiB); a larger one is answered
/// `{"Error": "body size is too big, the limit is 4194304"}` as soon as it passes the limit.
pub const HTTP_BODY_MAX_BYTES: usize = 4 * 1_024 * 1_024;
/// Most signatures a transaction may carry (java-tron's `getTotalSignNum`, 5).
pub const SIGNATURES_MAX: usize = 5;

/// Chain parameters the node reports and enforces.
#[derive(Clone, Debug)]
pub struct Params {
    /// SUN per unit of energy (`getEnergyFee`; 100 on mainnet since 2024, 210 on Nile at times).
    pub energy_fee: i64,
    /// Largest `fee_limit` a transaction may carry (`getMaxFeeLimit`, 15,000 TRX).
    pub max_fee_limit: i64,
    /// SUN per byte of bandwidth burnt when the free allowance is used up (`getTransactionFee`).
    pub transaction_fee: i64,
    /// Bytes of bandwidth every account gets free each day (`getFreeNetLimit`; 600 on mainnet), recovering
    /// linearly over 24 hours as java-tron's `ResourceProcessor.increase` computes it.
    pub free_net_limit: i64,
    /// SUN burnt for the bandwidth of a transaction that creates an account (`getCreateAccountFee`; 0.1 TRX).
    pub create_account_fee: i64,
    /// SUN a TRX transfer to an account that does not exist yet pays to create it
    /// (`getCreateNewAccountFeeInSystemContract`; 1 TRX).
    pub create_new_account_fee_in_system_contract: i64,
    /// Largest transaction, signatures aside, that may create an account (`getMaxCreateAccountTxSize`; 1,000 bytes).
    pub max_create_account_tx_size: i64,
    /// SUN an `AccountPermissionUpdateContract` costs (`getUpdateAccountPermissionFee`; 100 TRX).
    pub update_account_permission_fee: i64,
    /// SUN a transaction with more than one signature costs its owner (`getMultiSignFee`; 1 TRX).
    pub multi_sign_fee: i64,
    /// The id block 0 answers with (its number's 8 bytes then 24 of its hash otherwise): set it to a public network's
    /// genesis block id (TRON mainnet's, Nile's) when the node stands in for that network, so that a client checking
    /// which network a node is of sees the one it expects. The node's own chain is the anvil's either way.
    pub genesis_block_id: Option<B256>,
    /// When set, every gRPC call (full and Solidity node) without this key in `TRON-PRO-API-KEY` is refused
    /// (`UNAUTHENTICATED`), as a provider that requires an API key does.
    pub api_key: Option<String>,
    /// When set, both gRPC ports serve TLS only (`https://` URLs) with this identity, as a provider does.
    pub tls: Option<tls::Identity>,
}

impl Default for Params {
    fn default() -> Self {
        // Mainnet's values (`/wallet/getchainparameters`).
        Self {
            energy_fee: 100,
            max_fee_limit: 15_000_000_000,
            transaction_fee: 1_000,
            free_net_limit: 600,
            create_account_fee: 100_000,
            create_new_account_fee_in_system_contract: 1_000_000,
            max_create_account_tx_size: 1_000,
            update_account_permission_fee: 100_000_000,
            multi_sign_fee: 1_000_000,
            genesis_block_id: None,
            api_key: None,
            tls: None,
        }
    }
}

/// Faults to inject, each consumed as it fires.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The next n broadcasts are refused with `SERVER_BUSY` (nothing is executed).
    pub server_busy: u32,
    /// The next n broadcasts are answered SUCCESS and thrown away, as a node that loses its pending pool does.
    pub drop_broadcasts: u32,
    /// Every answer is delayed this long (a client's timeout fires first).
    pub delay: Duration,
    /// Extra blocks the solidified head lags behind.
    pub solidified_lag: u64,
    /// Blocks the full node's transaction lookups (`GetTransactionById`, `GetTransactionInfoById`) lag behind the
    /// head: a full node behind a load balancer that has not caught up with the Solidity node it is paired with.
    pub full_node_lag: u64,
}

/// What the node did, for tests to assert that a fault really fired.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Broadcasts received, whatever became of them.
    pub broadcasts: u64,
    /// Broadcasts validated and executed.
    pub accepted: u64,
    /// Broadcasts refused by validation (a `busy` refusal is counted apart).
    pub refused: u64,
    /// Broadcasts answered SUCCESS and thrown away (`Faults::drop_broadcasts`).
    pub dropped: u64,
    /// Broadcasts refused with `SERVER_BUSY` (`Faults::server_busy`).
    pub busy: u64,
}

/// A transaction the node accepted and executed.
#[derive(Clone, Debug)]
struct Accepted {
    /// The transaction exactly as broadcast.
    transaction: proto::Transaction,
    /// The EVM transaction that executed it.
    evm_hash: B256,
    owner: Address,
    /// The contract it called (`None`: it created one); a TRX transfer's recipient.
    to: Option<Address>,
    /// Energy limit it ran with (the EVM gas limit); 0 for a TRX transfer, which uses no energy.
    energy_limit: u64,
    /// What its bandwidth cost, decided when it was accepted.
    net: NetBill,
    /// A system contract (a TRX transfer, a permission update): no energy; `system_fee` is what it charged.
    system: bool,
    /// SUN the contract itself charged (a TRX transfer to a new account: `getCreateNewAccountFeeInSystemContract`;
    /// a permission update: `getUpdateAccountPermissionFee`), and a multi-signed transaction's `getMultiSignFee`.
    system_fee: i64,
    /// Set once mined: the fee taken.
    charged: Option<i64>,
}

/// What a transaction's bandwidth cost (java-tron's `BandwidthProcessor.consume`): bytes of the owner's free daily
/// allowance, or TRX burnt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NetBill {
    /// Bytes taken from the free allowance (`receipt.net_usage`).
    pub(crate) usage: i64,
    /// SUN burnt (`receipt.net_fee`): bytes × `getTransactionFee`, or `getCreateAccountFee` for a transaction that
    /// creates an account.
    pub(crate) fee: i64,
}

/// An account's free bandwidth: the usage as of the slot it was last consumed in.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FreeNet {
    pub(crate) usage: i64,
    pub(crate) last_slot: i64,
}

/// java-tron's `ChainConstant.PRECISION`.
const RESOURCE_PRECISION: i64 = 1_000_000;
/// Slots in java-tron's 24-hour resource window (`WINDOW_SIZE_MS / BLOCK_PRODUCED_INTERVAL`).
const RESOURCE_WINDOW_SLOTS: i64 = 24 * 3_600 * 1_000 / BLOCK_PRODUCED_INTERVAL_MS;

/// java-tron's `ResourceProcessor.increase`: a usage of `last_usage` at slot `last_slot`, decayed linearly to slot
/// `now` over the 24-hour window, plus `usage` now.
pub(crate) fn increase(last_usage: i64, usage: i64, last_slot: i64, now: i64) -> i64 {
    let divide_ceil = |n: i64, d: i64| n / d + i64::from(n % d > 0);
    let mut average_last = divide_ceil(last_usage.saturating_mul(RESOURCE_PRECISION), RESOURCE_WINDOW_SLOTS);
    let average = divide_ceil(usage.saturating_mul(RESOURCE_PRECISION), RESOURCE_WINDOW_SLOTS);
    if last_slot != now {
        if last_slot + RESOURCE_WINDOW_SLOTS > now {
            let decay = (RESOURCE_WINDOW_SLOTS - (now - last_slot)) as f64 / RESOURCE_WINDOW_SLOTS as f64;
            average_last = (average_last as f64 * decay).round() as i64;
        } else {
            average_last = 0;
        }
    }
    (average_last + average).saturating_mul(RESOURCE_WINDOW_SLOTS) / RESOURCE_PRECISION
}

/// The resource slot of a block of time `ms` (java-tron's head slot, counted from 0 rather than from genesis: only
/// differences matter).
pub(crate) fn slot(ms: i64) -> i64 {
    ms / BLOCK_PRODUCED_INTERVAL_MS
}

pub(crate) struct Node {
    anvil: Anvil,
    params: Params,
    faults: Mutex<Faults>,
    counters: Mutex<Counters>,
    /// Accepted transactions by id.
    txs: Mutex<HashMap<B256, Accepted>>,
    /// TRON id ↔ EVM hash of every transaction executed through a node over this anvil.
    ids: Arc<TxIds>,
    /// One broadcast at a time: validation, execution and fee are one step.
    broadcast_lock: tokio::sync::Mutex<()>,
    /// Each account's free bandwidth used (accounts never seen have used none).
    free_net: Mutex<HashMap<Address, FreeNet>>,
    /// Permissions set by `AccountPermissionUpdateContract` (any other account has the default ones).
    permissions: Mutex<HashMap<Address, permissions::Permissions>>,
}

/// A running node; dropping it stops both ports.
pub struct TronDevnode {
    /// The full node's gRPC endpoint (`Wallet`), e.g. `http://127.0.0.1:50051`.
    pub grpc_url: String,
    /// The solidity node's gRPC endpoint (`WalletSolidity`).
    pub solidity_grpc_url: String,
    /// The full node's HTTP API (`/wallet/*`, java-tron's port 8090), for TronWeb.
    pub http_url: String,
    node: Arc<Node>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for TronDevnode {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TronDevnode {
    /// Serves both APIs on 127.0.0.1 (ports chosen by the OS) over the anvil at `anvil_url`.
    pub async fn start(anvil_url: &str, params: Params) -> eyre::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(anvil_url, any, any, any, params).await
    }

    /// As [`start`](Self::start), with the full node's gRPC on `full`, the solidity node's on `solidity`, and the
    /// HTTP API on `http`.
    pub async fn start_on(
        anvil_url: &str,
        full: SocketAddr,
        solidity: SocketAddr,
        http: SocketAddr,
        params: Params,
    ) -> eyre::Result<Self> {
        let required = params.api_key.clone();
        let tls = params.tls.clone();
        let node = Arc::new(Node {
            anvil: Anvil::new(anvil_url),
            params,
            faults: Mutex::default(),
            counters: Mutex::default(),
            txs: Mutex::default(),
            ids: TxIds::for_anvil(anvil_url),
            broadcast_lock: tokio::sync::Mutex::new(()),
            free_net: Mutex::default(),
            permissions: Mutex::default(),
        });
        node.anvil.head().await.map_err(|e| eyre::eyre!("anvil at {anvil_url}: {e}"))?;
        let full = TcpListener::bind(full).await?;
        let solidity = TcpListener::bind(solidity).await?;
        let http = TcpListener::bind(http).await?;
        let http_url = format!("http://{}", http.local_addr()?);
        let serve_http = axum::serve(http, http::router(node.clone()));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let grpc_url = format!("{scheme}://{}", full.local_addr()?);
        let solidity_grpc_url = format!("{scheme}://{}", solidity.local_addr()?);
        let wallet = proto::wallet_server::WalletServer::from_arc(Arc::new(wallet::FullNode(node.clone())))
            .max_decoding_message_size(GRPC_MESSAGE_MAX_BYTES);
        let solid =
            proto::wallet_solidity_server::WalletSolidityServer::from_arc(Arc::new(wallet::SolidityNode(node.clone())))
                .max_decoding_message_size(GRPC_MESSAGE_MAX_BYTES);
        let grpc = || -> eyre::Result<tonic::transport::Server> {
            let server = tonic::transport::Server::builder().http2_max_header_list_size(GRPC_HEADER_LIST_MAX_BYTES);
            Ok(match &tls {
                Some(identity) => server.tls_config(identity.grpc())?,
                None => server,
            })
        };
        let key = move |request: tonic::Request<()>| match &required {
            Some(key) if request.metadata().get(API_KEY_HEADER).and_then(|v| v.to_str().ok()) != Some(key.as_str()) => {
                Err(tonic::Status::unauthenticated("a valid TRON-PRO-API-KEY header is required"))
            }
            _ => Ok(request),
        };
        let (wallet, solid) = (
            tonic::service::interceptor::InterceptedService::new(wallet, key.clone()),
            tonic::service::interceptor::InterceptedService::new(solid, key),
        );
        let serve_full =
            grpc()?.add_service(wallet).serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(full));
        let serve_solidity =
            grpc()?.add_service(solid).serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(solidity));
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(e) = serve_full.await {
                    tracing::error!(error = %e, "tron-devnode: full node stopped");
                }
            }),
            tokio::spawn(async move {
                if let Err(e) = serve_solidity.await {
                    tracing::error!(error = %e, "tron-devnode: solidity node stopped");
                }
            }),
            tokio::spawn(async move {
                if let Err(e) = serve_http.await {
                    tracing::error!(error = %e, "tron-devnode: HTTP API stopped");
                }
            }),
        ];
        Ok(Self { grpc_url, solidity_grpc_url, http_url, node, tasks })
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, faults: Faults) {
        *self.node.faults.lock().expect("faults lock") = faults;
    }

    /// What the node did so far.
    pub fn counters(&self) -> Counters {
        self.node.counters.lock().expect("counters lock").clone()
    }

    /// The map of TRON ids and EVM hashes this node (and any other over the same anvil) keeps.
    pub fn tx_ids(&self) -> Arc<TxIds> {
        self.node.ids.clone()
    }

    /// Whether the node accepted (and executed) the transaction `txid`.
    pub fn knows(&self, txid: B256) -> bool {
        self.node.txs.lock().expect("txs lock").contains_key(&txid)
    }
}

/// TRON id ↔ EVM hash of the transactions executed through a node over one anvil: what the JSON-RPC needs to
/// show java-tron's transaction ids. One map per anvil URL in the process ([`TxIds::for_anvil`]), shared by every
/// node and JSON-RPC port started over it, whichever starts first; it lives as long as one of them does.
#[derive(Debug, Default)]
pub struct TxIds {
    maps: std::sync::RwLock<IdMaps>,
}

#[derive(Debug, Default)]
struct IdMaps {
    tron_by_evm: HashMap<B256, Executed>,
    evm_by_tron: HashMap<B256, B256>,
}

/// What the JSON-RPC shows of a TRON transaction that the EVM does not know.
#[derive(Clone, Debug)]
pub(crate) struct Executed {
    pub(crate) txid: B256,
    /// Its (first) signature, `r ‖ s ‖ v`.
    pub(crate) signature: Vec<u8>,
    /// SUN per energy when it was executed (java-tron's `gasPrice` and `effectiveGasPrice`).
    pub(crate) energy_fee: i64,
}

/// The map of each anvil URL (as given, without a trailing `/`) that a node or JSON-RPC port still uses.
static TX_IDS: Mutex<std::collections::BTreeMap<String, std::sync::Weak<TxIds>>> =
    Mutex::new(std::collections::BTreeMap::new());

impl TxIds {
    /// The map for the anvil at `url`: the one a node or JSON-RPC port over it already uses, or a new one.
    pub fn for_anvil(url: &str) -> Arc<Self> {
        let mut all = TX_IDS.lock().expect("tx ids registry lock");
        all.retain(|_, ids| ids.strong_count() > 0);
        let key = url.trim_end_matches('/').to_owned();
        if let Some(ids) = all.get(&key).and_then(std::sync::Weak::upgrade) {
            return ids;
        }
        let ids = Arc::new(Self::default());
        all.insert(key, Arc::downgrade(&ids));
        ids
    }

    fn insert(&self, evm_hash: B256, executed: Executed) {
        let mut maps = self.maps.write().expect("tx ids lock");
        maps.evm_by_tron.insert(executed.txid, evm_hash);
        maps.tron_by_evm.insert(evm_hash, executed);
    }

    /// The TRON transaction the EVM transaction `evm_hash` executed, if a node executed it.
    pub(crate) fn executed(&self, evm_hash: B256) -> Option<Executed> {
        self.maps.read().expect("tx ids lock").tron_by_evm.get(&evm_hash).cloned()
    }

    /// The TRON id of the transaction the EVM transaction `evm_hash` executed, if a node executed it.
    pub fn tron_id(&self, evm_hash: B256) -> Option<B256> {
        self.maps.read().expect("tx ids lock").tron_by_evm.get(&evm_hash).map(|e| e.txid)
    }

    /// The EVM transaction that executed the TRON transaction `txid`, if a node executed it.
    pub fn evm_hash(&self, txid: B256) -> Option<B256> {
        self.maps.read().expect("tx ids lock").evm_by_tron.get(&txid).copied()
    }

    /// The hash the JSON-RPC shows for the EVM transaction `evm_hash`: its TRON id, or (not executed through a
    /// node) its own hash.
    pub fn shown(&self, evm_hash: B256) -> B256 {
        self.tron_id(evm_hash).unwrap_or(evm_hash)
    }
}

/// TRON's block id: the block number in the first 8 bytes, the rest of the EVM block's hash after them (block 0:
/// [`Params::genesis_block_id`] when set, see [`Node::block_id`]).
pub fn block_id(number: u64, hash: B256) -> B256 {
    let mut id = hash;
    id[..8].copy_from_slice(&number.to_be_bytes());
    id
}

/// A transaction's id: SHA-256 of its raw data as encoded.
pub fn transaction_id(raw: &proto::transaction::Raw) -> B256 {
    use prost::Message;
    B256::from_slice(&Sha256::digest(raw.encode_to_vec()))
}

/// Signs `tx` as a TRON wallet does: secp256k1 over its id (SHA-256 of the raw data), `r ‖ s ‖ v` with v = 27 + the
/// recovery id, replacing any signature; its id. `key` is the 32-byte secret key. For tests and tools.
pub fn sign_transaction(tx: &mut proto::Transaction, key: &[u8]) -> eyre::Result<B256> {
    let txid = transaction_id(tx.raw_data.as_ref().ok_or_else(|| eyre::eyre!("a transaction without raw data"))?);
    let signing = k256::ecdsa::SigningKey::from_slice(key)?;
    let (sig, rec) = signing.sign_prehash_recoverable(txid.as_slice())?;
    let mut bytes = sig.to_bytes().to_vec();
    bytes.push(27 + rec.to_byte());
    tx.signature = vec![bytes];
    Ok(txid)
}

/// The 21-byte TRON form of an EVM address.
pub fn tron_address(address: Address) -> Vec<u8> {
    let mut out = Vec::with_capacity(21);
    out.push(ADDRESS_PREFIX);
    out.extend_from_slice(address.as_slice());
    out
}

/// The EVM address inside a 21-byte TRON address; `None` for any other length or prefix.
pub fn evm_address(tron: &[u8]) -> Option<Address> {
    match tron {
        [ADDRESS_PREFIX, rest @ ..] if rest.len() == 20 => Some(Address::from_slice(rest)),
        _ => None,
    }
}

/// The address that signed `digest` with a 65-byte TRON signature (`r ‖ s ‖ v`, v in 0..=3 or 27..=34, as
/// java-tron's `TransactionCapsule.getBase64FromByteString` reads it).
pub fn recover_signer(digest: &B256, signature: &[u8]) -> Result<Address, String> {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    if signature.len() < 65 {
        return Err(format!("Signature size is {}", signature.len()));
    }
    let header = match signature[64] {
        v @ 0..=3 => v + 27,
        v => v,
    };
    if !(27..=34).contains(&header) {
        return Err(format!("Header byte out of range: {header}"));
    }
    let rec = (header - 27) & 3;
    let sig = Signature::from_slice(&signature[..64]).map_err(|e| e.to_string())?;
    let id = RecoveryId::from_byte(rec).ok_or_else(|| "bad recovery id".to_owned())?;
    let key = VerifyingKey::recover_from_prehash(digest.as_slice(), &sig, id).map_err(|e| e.to_string())?;
    let point = key.to_encoded_point(false);
    Ok(Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]))
}

/// TRON's SUN amounts are `int64`; anvil's balances may be larger.
fn sun(value: U256) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Node {
    fn delay(&self) -> Duration {
        self.faults.lock().expect("faults lock").delay
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.counters.lock().expect("counters lock"));
    }

    /// Block `number`'s TRON id: [`block_id`], or for block 0 the configured genesis id.
    pub(crate) fn block_id(&self, number: u64, hash: B256) -> B256 {
        match self.params.genesis_block_id {
            Some(genesis) if number == 0 => genesis,
            _ => block_id(number, hash),
        }
    }

    /// The permissions of `who`: those it set, else a new account's.
    pub(crate) fn permissions_of(&self, who: Address) -> permissions::Permissions {
        let set = self.permissions.lock().expect("permissions lock").get(&who).cloned();
        set.unwrap_or_else(|| permissions::Permissions::default_for(who))
    }

    /// The head block number.
    async fn head(&self) -> Result<u64, EvmError> {
        self.anvil.head().await
    }

    /// The solidified block number.
    async fn solidified(&self) -> Result<u64, EvmError> {
        let lag = self.faults.lock().expect("faults lock").solidified_lag;
        Ok(self.head().await?.saturating_sub(SOLIDIFY_DEPTH + lag))
    }

    /// A mined transaction and its receipt, with its fee charged: `energy × energyFee`, all of the limit when it
    /// ran out of energy, taken once from the owner's balance. `None` while it is in no block. Charging reads and
    /// writes the owner's balance, so it happens under the broadcast lock: no execution sees a balance between.
    async fn settle_fee(&self, txid: B256) -> Result<Option<(Accepted, anvil::EvmReceipt)>, EvmError> {
        let Some(accepted) = self.txs.lock().expect("txs lock").get(&txid).cloned() else { return Ok(None) };
        let Some(receipt) = self.anvil.receipt(accepted.evm_hash).await? else { return Ok(None) };
        if accepted.charged.is_none() {
            let _one_at_a_time = self.broadcast_lock.lock().await;
            self.charge(txid, &receipt).await?;
        }
        let accepted = self.txs.lock().expect("txs lock").get(&txid).cloned().expect("accepted stays");
        Ok(Some((accepted, receipt)))
    }

    /// Charges the fee of a mined transaction unless it was charged already. The caller holds the broadcast lock.
    async fn charge(&self, txid: B256, receipt: &anvil::EvmReceipt) -> Result<(), EvmError> {
        let Some(accepted) = self.txs.lock().expect("txs lock").get(&txid).cloned() else { return Ok(()) };
        if accepted.charged.is_some() {
            return Ok(());
        }
        let fee = Self::fee_of(&accepted, receipt.gas_used, self.params.energy_fee);
        let balance = self.anvil.balance(accepted.owner).await?;
        self.anvil.set_balance(accepted.owner, balance.saturating_sub(U256::from(fee))).await?;
        if let Some(a) = self.txs.lock().expect("txs lock").get_mut(&txid) {
            a.charged = Some(fee);
        }
        Ok(())
    }

    /// Charges every accepted transaction that has been mined since; the caller holds the broadcast lock. Run
    /// before each execution, so that no transaction runs against a balance its owner's earlier fee is still in.
    async fn charge_mined(&self) -> Result<(), EvmError> {
        let waiting: Vec<(B256, B256)> = (self.txs.lock().expect("txs lock").iter())
            .filter(|(_, a)| a.charged.is_none())
            .map(|(txid, a)| (*txid, a.evm_hash))
            .collect();
        for (txid, evm_hash) in waiting {
            if let Some(receipt) = self.anvil.receipt(evm_hash).await? {
                self.charge(txid, &receipt).await?;
            }
        }
        Ok(())
    }

    /// Everything a mined transaction costs its owner: its energy (`gas_used × energy_fee`; none for a TRX
    /// transfer), its bandwidth and what its contract charged.
    fn fee_of(accepted: &Accepted, gas_used: u64, energy_fee: i64) -> i64 {
        Self::energy_fee_of(accepted, gas_used, energy_fee)
            .saturating_add(accepted.net.fee)
            .saturating_add(accepted.system_fee)
    }

    /// The energy part of a mined transaction's fee.
    fn energy_fee_of(accepted: &Accepted, gas_used: u64, energy_fee: i64) -> i64 {
        if accepted.system { 0 } else { i64::try_from(gas_used).unwrap_or(i64::MAX).saturating_mul(energy_fee) }
    }

    /// The free bandwidth `who` has used, as of slot `now`.
    fn free_net_used(&self, who: Address, now: i64) -> i64 {
        let used = self.free_net.lock().expect("free net lock").get(&who).copied().unwrap_or_default();
        increase(used.usage, 0, used.last_slot, now)
    }

    /// Takes `bytes` of `who`'s free bandwidth at slot `now` (java-tron's `useFreeNet`, once accepted).
    fn use_free_net(&self, who: Address, bytes: i64, now: i64) {
        let mut all = self.free_net.lock().expect("free net lock");
        let used = all.entry(who).or_default();
        let current = increase(used.usage, 0, used.last_slot, now);
        *used = FreeNet { usage: increase(current, bytes, now, now), last_slot: now };
    }

    /// Whether a mined transaction ran out of energy (its EVM gas limit all used by a failure).
    fn out_of_energy(accepted: &Accepted, receipt: &anvil::EvmReceipt) -> bool {
        !accepted.system && !receipt.success && receipt.gas_used >= accepted.energy_limit
    }
}
