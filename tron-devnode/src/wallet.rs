//! The gRPC services: `Wallet` (full node) and `WalletSolidity` (solidified view).

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::anvil::EvmError;
use crate::codec::INLINE_PROTOBUF_BYTES;
use crate::permissions::{self, Permissions};
use crate::proto::{
    self, Account, AccountPermissionUpdateContract, AccountResourceMessage, BlockExtention, BytesMessage,
    ChainParameters, CreateSmartContract, EmptyMessage, EstimateEnergyMessage, NodeInfo, NumberMessage, Return,
    SmartContract, Transaction, TransactionExtention, TransactionInfo, TransactionInfoList, TransactionSignWeight,
    TransferContract, TriggerSmartContract,
    r#return::ResponseCode,
    transaction::{self, contract::ContractType, result::ContractResult},
    transaction_sign_weight,
};
use crate::work::blocking;
use crate::{
    Accepted, MAX_EXPIRATION_MS, MAX_RESULT_SIZE_IN_TX, NetBill, Node, TRANSACTION_MAX_BYTES, block_id, evm_address,
    recover_signer, slot, sun, transaction_id, tron_address,
};

pub(crate) const TRIGGER_URL: &str = "type.googleapis.com/protocol.TriggerSmartContract";
const CREATE_URL: &str = "type.googleapis.com/protocol.CreateSmartContract";
pub(crate) const TRANSFER_URL: &str = "type.googleapis.com/protocol.TransferContract";
pub(crate) const PERMISSION_UPDATE_URL: &str = "type.googleapis.com/protocol.AccountPermissionUpdateContract";
/// java-tron's answer to an `AccountResourceInsufficientException` (`Wallet.broadcastTransaction`): the owner can
/// pay neither from its free bandwidth nor in TRX.
const BANDWIDTH_SHORT: &str = "Account resource insufficient error.";
/// Bytes of one signature, which a transaction creating an account does not count (`Constant.PER_SIGN_LENGTH`).
const PER_SIGN_LENGTH: usize = 65;
const REVERT_MESSAGE: &str = "REVERT opcode executed";
/// How long a broadcast waits for anvil to mine what it executed, to charge the fee at once (automine answers
/// the send before it mines); one mined later is charged before the next broadcast or when it is first read.
const RECEIPT_POLLS: u32 = 20;
const RECEIPT_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

pub(crate) struct FullNode(pub(crate) Arc<Node>);
pub(crate) struct SolidityNode(pub(crate) Arc<Node>);

fn unavailable(e: EvmError) -> Status {
    Status::unavailable(format!("the node's EVM: {e}"))
}

fn ok_return() -> Return {
    Return { result: true, code: ResponseCode::Success as i32, message: Vec::new() }
}

fn refuse(code: ResponseCode, message: &str) -> Return {
    Return { result: false, code: code as i32, message: message.as_bytes().to_vec() }
}

/// java-tron's `Wallet.CONTRACT_VALIDATE_ERROR` before a `ContractValidateException`'s message.
fn contract_validate(message: &str) -> Return {
    refuse(ResponseCode::ContractValidateError, &format!("Contract validate error : {message}"))
}

/// java-tron's answer to a `ValidateSignatureException` (`Wallet.broadcastTransaction`).
fn signature_error(message: &str) -> Return {
    refuse(ResponseCode::Sigerror, &format!("Validate signature error: {message}"))
}

/// java-tron's answers to a `TransactionExpirationException`, a `TaposException`, a `DupTransactionException` and a
/// busy node (`Wallet.broadcastTransaction`).
const EXPIRED: &str = "Transaction expired";
const TAPOS: &str = "Tapos check error.";
const DUP: &str = "Dup transaction.";
const SERVER_BUSY: &str = "Server busy.";

/// The time of the next block's slot after a head block of time `head_ms`: one block interval later
/// (`ChainBaseManager.getNextBlockSlotTime`, outside a maintenance period, which this node never enters).
pub(crate) fn next_slot_ms(head_ms: i64) -> i64 {
    head_ms + crate::BLOCK_PRODUCED_INTERVAL_MS
}

/// `Manager.validateCommon`'s window: after the head block's time, at most [`MAX_EXPIRATION_MS`] past it.
pub(crate) fn expiration_in_window(expiration: i64, head_ms: i64) -> bool {
    expiration > head_ms && expiration <= head_ms + MAX_EXPIRATION_MS
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The one contract of a transaction, as the call it makes: owner, target (`None`: create), data, call value. A
/// TRX transfer is a call without data to its recipient, the amount as its value, with `transfer` set; a permission
/// update (`permissions`) is a call of the owner to itself, without data or value.
struct Call {
    owner: Address,
    to: Option<Address>,
    data: Vec<u8>,
    call_value: i64,
    transfer: bool,
    /// An `AccountPermissionUpdateContract`'s new permissions.
    permissions: Option<AccountPermissionUpdateContract>,
    /// The contract's type (java-tron's `ContractType` number): what an active permission must allow.
    contract_type: i32,
    /// The permission it is signed under (`Permission_id`).
    permission_id: i32,
}

impl Call {
    /// A system contract: no energy, no EVM code runs.
    fn system(&self) -> bool {
        self.transfer || self.permissions.is_some()
    }
}

/// A transaction's contract transferring TRX as `c` says.
fn transfer_contract(c: &TransferContract) -> transaction::Contract {
    transaction::Contract {
        r#type: ContractType::TransferContract as i32,
        parameter: Some(prost_types::Any { type_url: TRANSFER_URL.into(), value: c.encode_to_vec() }),
        ..Default::default()
    }
}

/// A transaction's contract calling `c`, signed under permission `permission_id`.
pub(crate) fn trigger_contract(c: &TriggerSmartContract, permission_id: i32) -> transaction::Contract {
    transaction::Contract {
        r#type: ContractType::TriggerSmartContract as i32,
        parameter: Some(prost_types::Any { type_url: TRIGGER_URL.into(), value: c.encode_to_vec() }),
        permission_id,
        ..Default::default()
    }
}

/// What the broadcast checks read from a transaction's bytes, worked out together on a blocking thread before the
/// checks run: hashing up to a megabyte, decoding its contract and recovering its signer can each take a
/// millisecond or more. The checks then use them in java-tron's order.
struct Examined {
    tx: Transaction,
    txid: B256,
    /// `TOO_BIG_TRANSACTION_ERROR` when it is larger than java-tron accepts.
    too_big: Option<Return>,
    call: Result<Call, Return>,
    /// Its signatures and who made each (recovered off the async workers), or the refusal of their number (none, or
    /// more than java-tron's `getTotalSignNum`).
    signatures: Result<Vec<permissions::Signature>, Return>,
    /// Bytes of bandwidth it costs: its size without results, plus [`MAX_RESULT_SIZE_IN_TX`] for its contract
    /// (`BandwidthProcessor.consume`).
    bytes: i64,
    /// Its size without results and signatures: what `getMaxCreateAccountTxSize` bounds.
    create_bytes: i64,
}

impl Examined {
    /// `Err`: the refusal of a transaction without raw data.
    fn of(tx: Transaction) -> Result<Self, Return> {
        // No raw data is no contract: java-tron's `broadcastTransaction` refuses a transaction without one first.
        let Some(raw) = tx.raw_data.as_ref().filter(|raw| !raw.contract.is_empty()) else {
            return Err(contract_validate(NO_CONTRACT));
        };
        let txid = transaction_id(raw);
        let too_big = Self::too_big(&tx, txid);
        let without_results = tx.encoded_len() - prost::encoding::message::encoded_len_repeated(5, &tx.ret);
        let bytes = (without_results + MAX_RESULT_SIZE_IN_TX) as i64;
        let create_bytes = without_results.saturating_sub(tx.signature.len() * PER_SIGN_LENGTH) as i64;
        let call = decode_call(raw, txid);
        // `TransactionCapsule.validatePubSignature`: the count first; each signer is recovered here, checked against
        // the permission (`checkWeight`) once the owner's permissions are known.
        let signatures = match tx.signature.len() {
            0 => Err(signature_error("miss sig or contract")),
            n if n > crate::SIGNATURES_MAX => Err(signature_error("too many signatures")),
            _ => Ok(tx.signature.iter().map(|s| (s.clone(), recover_signer(&txid, s))).collect()),
        };
        Ok(Self { tx, txid, too_big, call, signatures, bytes, create_bytes })
    }

    /// java-tron's `Manager.validateCommon`: the transaction without its results, with room for two, and the
    /// transaction with at most one result per contract, are each at most [`TRANSACTION_MAX_BYTES`]; the refusal
    /// carries the `TooBigTransactionException`'s message, as `Wallet.broadcastTransaction` answers it.
    fn too_big(tx: &Transaction, txid: B256) -> Option<Return> {
        const RET: u32 = 5;
        let results = prost::encoding::message::encoded_len_repeated(RET, &tx.ret);
        let without_results = tx.encoded_len() - results;
        let contracts = tx.raw_data.as_ref().map_or(0, |raw| raw.contract.len());
        let kept = prost::encoding::message::encoded_len_repeated(RET, &tx.ret[..tx.ret.len().min(contracts)]);
        let id = alloy::hex::encode(txid);
        let general = without_results + 2 * MAX_RESULT_SIZE_IN_TX;
        let message = if general > TRANSACTION_MAX_BYTES {
            format!(
                "Too big transaction with result, TxId {id}, the size is {general} bytes, maxTxSize {TRANSACTION_MAX_BYTES}"
            )
        } else if without_results + kept > TRANSACTION_MAX_BYTES {
            let size = without_results + kept;
            format!("Too big transaction, TxId {id}, the size is {size} bytes, maxTxSize {TRANSACTION_MAX_BYTES}")
        } else {
            return None;
        };
        Some(refuse(ResponseCode::TooBigTransactionError, &message))
    }
}

/// java-tron's `ActuatorConstant.CONTRACT_NOT_EXIST`: a transaction without a contract.
const NO_CONTRACT: &str = "No contract!";

fn decode_call(raw: &transaction::Raw, txid: B256) -> Result<Call, Return> {
    let [contract] = raw.contract.as_slice() else {
        // `Manager.processTransaction`'s `ContractSizeNotEqualToOneException`.
        return Err(contract_validate(&format!(
            "tx {} contract size should be exactly 1, this is extend feature ,actual :{}",
            alloy::hex::encode(txid),
            raw.contract.len()
        )));
    };
    let parameter = contract.parameter.clone().unwrap_or_default();
    let call = |owner, to, data, call_value, transfer| Call {
        owner,
        to,
        data,
        call_value,
        transfer,
        permissions: None,
        contract_type: contract.r#type,
        permission_id: contract.permission_id,
    };
    match ContractType::try_from(contract.r#type) {
        Ok(ContractType::TriggerSmartContract) if parameter.type_url == TRIGGER_URL => {
            let c = TriggerSmartContract::decode(parameter.value.as_slice())
                .map_err(|e| contract_validate(&format!("bad TriggerSmartContract: {e}")))?;
            let owner = evm_address(&c.owner_address).ok_or_else(|| contract_validate("Invalid ownerAddress!"))?;
            let to = evm_address(&c.contract_address).ok_or_else(|| contract_validate("Invalid contractAddress!"))?;
            Ok(call(owner, Some(to), c.data, c.call_value, false))
        }
        Ok(ContractType::TransferContract) if parameter.type_url == TRANSFER_URL => {
            let c = TransferContract::decode(parameter.value.as_slice())
                .map_err(|e| contract_validate(&format!("bad TransferContract: {e}")))?;
            let owner = evm_address(&c.owner_address).ok_or_else(|| contract_validate("Invalid ownerAddress!"))?;
            let to = evm_address(&c.to_address).ok_or_else(|| contract_validate("Invalid toAddress!"))?;
            Ok(call(owner, Some(to), Vec::new(), c.amount, true))
        }
        Ok(ContractType::CreateSmartContract) if parameter.type_url == CREATE_URL => {
            let c = CreateSmartContract::decode(parameter.value.as_slice())
                .map_err(|e| contract_validate(&format!("bad CreateSmartContract: {e}")))?;
            let owner = evm_address(&c.owner_address).ok_or_else(|| contract_validate("Invalid ownerAddress!"))?;
            let new = c.new_contract.unwrap_or_default();
            Ok(call(owner, None, new.bytecode, new.call_value, false))
        }
        Ok(ContractType::AccountPermissionUpdateContract) if parameter.type_url == PERMISSION_UPDATE_URL => {
            let c = AccountPermissionUpdateContract::decode(parameter.value.as_slice())
                .map_err(|e| contract_validate(&e.to_string()))?;
            // `AccountPermissionUpdateActuator.validate`'s first check of the owner.
            let owner = evm_address(&c.owner_address).ok_or_else(|| contract_validate("invalidate ownerAddress"))?;
            Ok(Call { permissions: Some(c), ..call(owner, Some(owner), Vec::new(), 0, false) })
        }
        _ => Err(contract_validate(
            "this test node executes TriggerSmartContract, CreateSmartContract, TransferContract and \
             AccountPermissionUpdateContract only",
        )),
    }
}

impl Node {
    /// A new unsigned transaction referencing the head block, expiring 60 s after it (java-tron's
    /// `createTransactionCapsule`).
    async fn new_transaction(&self, contract: transaction::Contract) -> Result<Transaction, Status> {
        let head = self.head().await.map_err(unavailable)?;
        let block = self.anvil.block(head).await.map_err(unavailable)?.ok_or_else(|| Status::unavailable("no head"))?;
        let id = self.block_id(head, block.hash);
        let raw = transaction::Raw {
            ref_block_bytes: id[6..8].to_vec(),
            ref_block_hash: id[8..16].to_vec(),
            expiration: block.timestamp as i64 * 1000 + 60_000,
            timestamp: now_ms(),
            contract: vec![contract],
            ..Default::default()
        };
        Ok(Transaction { raw_data: Some(raw), ..Default::default() })
    }

    pub(crate) async fn extention(&self, contract: transaction::Contract) -> Result<TransactionExtention, Status> {
        let transaction = self.new_transaction(contract).await?;
        let raw = transaction.raw_data.clone().expect("built with raw data");
        let txid = if raw.encoded_len() > INLINE_PROTOBUF_BYTES {
            blocking(move || transaction_id(&raw)).await
        } else {
            transaction_id(&raw)
        };
        Ok(TransactionExtention {
            transaction: Some(transaction),
            txid: txid.to_vec(),
            result: Some(ok_return()),
            ..Default::default()
        })
    }

    /// The permission `id` of `owner` a transaction is signed under (`AccountCapsule.getPermissionById`; an account
    /// that does not exist yet has only its default owner and active permissions, as `validateSignature` says).
    async fn permission_for(&self, owner: Address, id: i32) -> Result<Option<proto::Permission>, Status> {
        if !self.exists(owner).await.map_err(unavailable)? && id != 0 && id != 2 {
            return Ok(None);
        }
        Ok(self.permissions_of(owner).by_id(id).cloned())
    }

    /// `TransactionCapsule.validateSignature` of a transaction's signatures: `Ok(Err(message))` when java-tron
    /// refuses them (the broadcast answers `SIGERROR "Validate signature error: " + message`).
    async fn signature_weight(
        &self,
        call: &Call,
        signatures: &[permissions::Signature],
    ) -> Result<Result<(), String>, Status> {
        let Some(permission) = self.permission_for(call.owner, call.permission_id).await? else {
            return Ok(Err("permission isn't exit".into()));
        };
        if let Err(message) = permissions::check_permission(call.permission_id, &permission, call.contract_type) {
            return Ok(Err(message));
        }
        Ok(match permissions::check_weight(&permission, signatures) {
            Err(message) => Err(message),
            Ok((weight, _)) if weight < permission.threshold => Err("sig error".into()),
            Ok(_) => Ok(()),
        })
    }

    /// `Wallet.getTransactionSignWeight` (`TransactionUtil.getTransactionSignWeight`): the permission a transaction
    /// is signed under, the weight of its signatures so far and who made them, and whether that is enough.
    pub(crate) async fn sign_weight(&self, tx: Transaction) -> Result<TransactionSignWeight, Status> {
        use transaction_sign_weight::{Result as Verdict, result::ResponseCode as Code};
        let raw = tx.raw_data.clone().unwrap_or_default();
        let txid = transaction_id(&raw);
        let mut out = TransactionSignWeight {
            transaction: Some(TransactionExtention {
                transaction: Some(tx.clone()),
                txid: txid.to_vec(),
                result: Some(ok_return()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let verdict = |code: Code, message: &str| Verdict { code: code as i32, message: message.to_owned() };
        if raw.contract.is_empty() {
            out.result = Some(verdict(Code::OtherError, "Invalid transaction: no valid contract"));
            return Ok(out);
        }
        let call = match decode_call(&raw, txid) {
            Ok(call) => call,
            Err(refusal) => {
                out.result = Some(verdict(Code::OtherError, &String::from_utf8_lossy(&refusal.message)));
                return Ok(out);
            }
        };
        if !self.exists(call.owner).await.map_err(unavailable)? {
            out.result = Some(verdict(Code::PermissionError, "Account does not exist!"));
            return Ok(out);
        }
        let Some(permission) = self.permissions_of(call.owner).by_id(call.permission_id).cloned() else {
            out.result = Some(verdict(Code::PermissionError, "Permission for this, does not exist!"));
            return Ok(out);
        };
        if call.permission_id != 0 {
            let refusal = match permissions::check_permission(call.permission_id, &permission, call.contract_type) {
                Err(m) if m == "Permission type is error" => Some("Permission type is wrong!"),
                Err(_) => Some("Permission denied!"),
                Ok(()) => None,
            };
            if let Some(message) = refusal {
                out.result = Some(verdict(Code::PermissionError, message));
                return Ok(out);
            }
        }
        let threshold = permission.threshold;
        out.permission = Some(permission.clone());
        if !tx.signature.is_empty() {
            let signatures: Vec<permissions::Signature> =
                tx.signature.iter().map(|s| (s.clone(), recover_signer(&txid, s))).collect();
            match permissions::check_weight(&permission, &signatures) {
                Ok((weight, signers)) => {
                    out.approved_list = signers.into_iter().map(tron_address).collect();
                    out.current_weight = weight;
                }
                Err(message) => {
                    let code = if message.starts_with("Signature size") {
                        Code::SignatureFormatError
                    } else if message.contains("permission") || message.contains("signed twice") {
                        Code::PermissionError
                    } else {
                        Code::ComputeAddressError
                    };
                    out.result = Some(verdict(code, &message));
                    return Ok(out);
                }
            }
        }
        let code = if out.current_weight >= threshold { Code::EnoughPermission } else { Code::NotEnoughPermission };
        out.result = Some(verdict(code, ""));
        Ok(out)
    }

    /// Whether an account exists (java-tron: created by a transfer or a transaction).
    async fn exists(&self, who: Address) -> Result<bool, EvmError> {
        Ok(!self.anvil.balance(who).await?.is_zero()
            || self.anvil.nonce(who).await? > 0
            || !self.anvil.code(who).await?.is_empty())
    }

    /// TAPOS: the recent block whose number ends in `ref_block_bytes` must have `ref_block_hash` in its id.
    async fn tapos_ok(&self, raw: &transaction::Raw, head: u64) -> Result<bool, EvmError> {
        let [hi, lo] = raw.ref_block_bytes.as_slice() else { return Ok(false) };
        let low = u64::from(u16::from_be_bytes([*hi, *lo]));
        let number = (head & !0xFFFF) | low;
        let number = if number > head { number.wrapping_sub(0x1_0000) } else { number };
        if number > head {
            return Ok(false);
        }
        let Some(block) = self.anvil.block(number).await? else { return Ok(false) };
        Ok(self.block_id(number, block.hash)[8..16] == raw.ref_block_hash[..])
    }

    /// What the transaction's bandwidth costs its owner, who holds `balance` SUN (java-tron's
    /// `BandwidthProcessor.consume`, with nothing staked): a transaction creating an account burns
    /// `getCreateAccountFee`; any other uses the owner's free daily bytes when they suffice, else burns
    /// `bytes × getTransactionFee`; `BANDWITH_ERROR` when the balance cannot pay that.
    fn bandwidth(
        &self,
        owner: Address,
        creates: bool,
        balance: i64,
        (bytes, create_bytes): &(i64, i64),
        now: i64,
        txid: B256,
    ) -> Result<NetBill, Return> {
        let short = || refuse(ResponseCode::BandwithError, BANDWIDTH_SHORT);
        if creates {
            let max = self.params.max_create_account_tx_size;
            if *create_bytes > max {
                let id = alloy::hex::encode(txid);
                return Err(refuse(
                    ResponseCode::TooBigTransactionError,
                    &format!(
                        "Too big new account transaction, TxId {id}, the size is {create_bytes} bytes, maxTxSize {max}"
                    ),
                ));
            }
            let fee = self.params.create_account_fee;
            return if balance >= fee { Ok(NetBill { usage: 0, fee }) } else { Err(short()) };
        }
        if *bytes <= self.params.free_net_limit - self.free_net_used(owner, now) {
            return Ok(NetBill { usage: *bytes, fee: 0 });
        }
        let fee = bytes.saturating_mul(self.params.transaction_fee);
        if balance >= fee { Ok(NetBill { usage: 0, fee }) } else { Err(short()) }
    }

    /// java-tron's `TransferActuator.validate` of a TRX transfer from an owner holding `balance` SUN: the fee it
    /// charges (creating the recipient: `getCreateNewAccountFeeInSystemContract`), or its refusal.
    async fn transfer_refusal(&self, call: &Call, balance: i64) -> Result<Result<i64, Return>, Status> {
        let to = call.to.expect("a transfer names its recipient");
        if to == call.owner {
            return Ok(Err(contract_validate("Cannot transfer TRX to yourself.")));
        }
        if !self.exists(call.owner).await.map_err(unavailable)? {
            return Ok(Err(contract_validate("Validate TransferContract error, no OwnerAccount.")));
        }
        if call.call_value <= 0 {
            return Ok(Err(contract_validate("Amount must be greater than 0.")));
        }
        let fee = if self.exists(to).await.map_err(unavailable)? {
            // `ForbidTransferToContract` is on, on mainnet and Nile.
            if !self.anvil.code(to).await.map_err(unavailable)?.is_empty() {
                return Ok(Err(contract_validate("Cannot transfer TRX to a smartContract.")));
            }
            0
        } else {
            self.params.create_new_account_fee_in_system_contract
        };
        if balance < call.call_value.saturating_add(fee) {
            return Ok(Err(contract_validate("Validate TransferContract error, balance is not sufficient.")));
        }
        Ok(Ok(fee))
    }

    /// An unsigned TRX transfer built by the node (`CreateTransaction2`, `/wallet/createtransaction`), validated as
    /// java-tron validates it when it builds one (`Wallet.createTransactionCapsule`): its refusal otherwise.
    pub(crate) async fn transfer(&self, c: TransferContract) -> Result<TransactionExtention, Status> {
        let refused = |r: Return| TransactionExtention { result: Some(r), ..Default::default() };
        let Some(owner) = evm_address(&c.owner_address) else {
            return Ok(refused(contract_validate("Invalid ownerAddress!")));
        };
        let Some(to) = evm_address(&c.to_address) else { return Ok(refused(contract_validate("Invalid toAddress!"))) };
        let call = Call {
            owner,
            to: Some(to),
            data: Vec::new(),
            call_value: c.amount,
            transfer: true,
            permissions: None,
            contract_type: ContractType::TransferContract as i32,
            permission_id: 0,
        };
        let balance = sun(self.anvil.balance(owner).await.map_err(unavailable)?);
        if let Err(refusal) = self.transfer_refusal(&call, balance).await? {
            return Ok(refused(refusal));
        }
        self.extention(transfer_contract(&c)).await
    }

    /// An account's bandwidth as `GetAccountResource` answers it: its free allowance and what it used of it
    /// (recovered to the head's slot); `None` for an account that does not exist.
    pub(crate) async fn account_resource(&self, address: &[u8]) -> Result<Option<AccountResourceMessage>, Status> {
        let Some(who) = evm_address(address) else { return Ok(None) };
        if !self.exists(who).await.map_err(unavailable)? {
            return Ok(None);
        }
        let head = self.head().await.map_err(unavailable)?;
        let block = self.anvil.block(head).await.map_err(unavailable)?.ok_or_else(|| Status::unavailable("no head"))?;
        Ok(Some(AccountResourceMessage {
            free_net_used: self.free_net_used(who, slot(block.timestamp as i64 * 1000)),
            free_net_limit: self.params.free_net_limit,
            total_net_limit: 43_200_000_000,
            total_energy_limit: 180_000_000_000,
            ..Default::default()
        }))
    }

    pub(crate) async fn broadcast(&self, tx: Transaction) -> Result<Return, Status> {
        self.count(|c| c.broadcasts += 1);
        {
            let mut faults = self.faults.lock().expect("faults lock");
            if faults.server_busy > 0 {
                faults.server_busy -= 1;
                drop(faults);
                self.count(|c| c.busy += 1);
                return Ok(refuse(ResponseCode::ServerBusy, SERVER_BUSY));
            }
        }
        let examined = blocking(move || Examined::of(tx)).await;
        let _one_at_a_time = self.broadcast_lock.lock().await;
        self.charge_mined().await.map_err(unavailable)?;
        let answer = match examined {
            Ok(examined) => self.validate_and_execute(examined).await?,
            Err(refusal) => refusal,
        };
        if !answer.result {
            self.count(|c| c.refused += 1);
        }
        Ok(answer)
    }

    async fn validate_and_execute(&self, examined: Examined) -> Result<Return, Status> {
        let Examined { tx, txid, too_big, call, signatures, bytes, create_bytes } = examined;
        let examined_sizes = (bytes, create_bytes);
        let raw = tx.raw_data.as_ref().expect("examined with raw data");
        let head = self.head().await.map_err(unavailable)?;
        let head_block =
            self.anvil.block(head).await.map_err(unavailable)?.ok_or_else(|| Status::unavailable("no head"))?;
        let head_ms = head_block.timestamp as i64 * 1000;
        // `Wallet.broadcastTransaction` first: it must not expire before the next block's slot
        // (`TransactionCapsule.checkExpiration(ChainBaseManager.getNextBlockSlotTime())`).
        if raw.expiration < next_slot_ms(head_ms) {
            return Ok(refuse(ResponseCode::TransactionExpirationError, EXPIRED));
        }
        let call = match call {
            Ok(call) => call,
            Err(refusal) => return Ok(refusal),
        };
        // `Manager.pushTransaction` validates the signatures before `processTransaction`'s checks: against the
        // permission the contract names, the weights reaching its threshold.
        let signatures = match signatures {
            Ok(signatures) => signatures,
            Err(refusal) => return Ok(refusal),
        };
        if let Err(message) = self.signature_weight(&call, &signatures).await? {
            return Ok(signature_error(&message));
        }
        if !self.tapos_ok(raw, head).await.map_err(unavailable)? {
            return Ok(refuse(ResponseCode::TaposError, TAPOS));
        }
        if let Some(refusal) = too_big {
            return Ok(refusal);
        }
        if !expiration_in_window(raw.expiration, head_ms) {
            return Ok(refuse(ResponseCode::TransactionExpirationError, EXPIRED));
        }
        if self.txs.lock().expect("txs lock").contains_key(&txid) {
            return Ok(refuse(ResponseCode::DupTransactionError, DUP));
        }
        // `Manager.processTransaction` takes the bandwidth (`BandwidthProcessor.consume`) before the contract's own
        // checks: an owner that does not exist is refused there, and what the bandwidth burns is gone before the
        // contract sees the balance.
        if !self.exists(call.owner).await.map_err(unavailable)? {
            let owner = abi::tron::to_base58(call.owner);
            return Ok(contract_validate(&format!("account [{owner}] does not exist")));
        }
        let balance = sun(self.anvil.balance(call.owner).await.map_err(unavailable)?);
        let now = slot(head_ms);
        let creates = match (call.transfer, call.to) {
            (true, Some(to)) => !self.exists(to).await.map_err(unavailable)?,
            _ => false,
        };
        let net = match self.bandwidth(call.owner, creates, balance, &examined_sizes, now, txid) {
            Ok(net) => net,
            Err(refusal) => return Ok(refusal),
        };
        let mut balance = balance - net.fee;
        // `Manager.consumeMultiSignFee`: a transaction of more than one signature costs its owner more.
        let multi_sign_fee = if signatures.len() > 1 { self.params.multi_sign_fee } else { 0 };
        if balance < multi_sign_fee {
            return Ok(refuse(ResponseCode::BandwithError, BANDWIDTH_SHORT));
        }
        balance -= multi_sign_fee;
        let (energy_limit, system_fee) = if let Some(update) = &call.permissions {
            // `AccountPermissionUpdateActuator`: validated, then its fee taken (a shortfall fails the execution).
            if let Err(message) = permissions::validate_update(update, crate::SIGNATURES_MAX) {
                return Ok(contract_validate(&message));
            }
            let fee = self.params.update_account_permission_fee;
            if balance < fee {
                return Ok(refuse(
                    ResponseCode::ContractExeError,
                    &format!(
                        "Contract execute error : {} insufficient balance, balance: {balance}, amount: {fee}",
                        alloy::hex::encode(tron_address(call.owner))
                    ),
                ));
            }
            (0, fee)
        } else if call.transfer {
            match self.transfer_refusal(&call, balance).await? {
                Ok(system_fee) => (0, system_fee),
                Err(refusal) => return Ok(refusal),
            }
        } else {
            let fee_limit = raw.fee_limit;
            if fee_limit < 0 || fee_limit > self.params.max_fee_limit {
                let max = self.params.max_fee_limit;
                return Ok(contract_validate(&format!("feeLimit must be >= 0 and <= {max}")));
            }
            if call.call_value < 0 || balance < call.call_value {
                return Ok(contract_validate("validateForSmartContract failure, not enough balance"));
            }
            if let Some(to) = call.to
                && self.anvil.code(to).await.map_err(unavailable)?.is_empty()
            {
                return Ok(contract_validate("No contract or not a valid smart contract"));
            }
            // Energy limit: what the fee limit buys, bounded by what the owner can pay after the call value.
            let energy_limit = (fee_limit.min(balance - call.call_value) / self.params.energy_fee.max(1)).max(0) as u64;
            (energy_limit.min(30_000_000), 0)
        };
        {
            let mut faults = self.faults.lock().expect("faults lock");
            if faults.drop_broadcasts > 0 {
                faults.drop_broadcasts -= 1;
                drop(faults);
                self.count(|c| c.dropped += 1);
                return Ok(ok_return());
            }
        }
        if !call.system() && energy_limit < 21_000 {
            // Too little energy even to start: the EVM would refuse the transaction outright; TRON runs it and
            // fails it with OUT_OF_ENERGY, burning the limit. Executed as a transaction that cannot succeed.
            return Ok(contract_validate("fee limit too low for any execution on this test node"));
        }
        // A TRX transfer is a plain value transfer underneath (21,000 gas at a zero price), a permission update one of
        // nothing to the owner itself: they use no energy.
        let gas = if call.system() { 21_000 } else { energy_limit };
        let evm_hash = self
            .anvil
            .execute_as(call.owner, call.to, &call.data, U256::from(call.call_value), gas)
            .await
            .map_err(unavailable)?;
        if net.usage > 0 {
            self.use_free_net(call.owner, net.usage, now);
        }
        if let Some(update) = &call.permissions {
            self.permissions.lock().expect("permissions lock").insert(call.owner, Permissions::updated(update));
        }
        let executed = crate::Executed {
            txid,
            signature: tx.signature.first().cloned().unwrap_or_default(),
            energy_fee: self.params.energy_fee,
        };
        self.txs.lock().expect("txs lock").insert(
            txid,
            Accepted {
                transaction: tx,
                evm_hash,
                owner: call.owner,
                to: call.to,
                energy_limit,
                net,
                system: call.system(),
                system_fee: system_fee + multi_sign_fee,
                charged: None,
            },
        );
        self.ids.insert(evm_hash, executed);
        self.count(|c| c.accepted += 1);
        // Charge the fee once it is mined: anvil's automine mines it at once, but answers the send first.
        for _ in 0..RECEIPT_POLLS {
            if let Some(receipt) = self.anvil.receipt(evm_hash).await.map_err(unavailable)? {
                self.charge(txid, &receipt).await.map_err(unavailable)?;
                break;
            }
            tokio::time::sleep(RECEIPT_POLL_INTERVAL).await;
        }
        Ok(ok_return())
    }

    /// As [`mined`](Self::mined), as the solidity node sees it: `None` until its block is solidified.
    pub(crate) async fn solidified_mined(&self, txid: B256) -> Result<Option<(Transaction, TransactionInfo)>, Status> {
        let solid = self.solidified().await.map_err(unavailable)?;
        Ok(self.mined(txid).await?.filter(|(_, info)| u64::try_from(info.block_number).is_ok_and(|b| b <= solid)))
    }

    /// What the full node answers of a transaction: [`Self::mined`], blind to the last `full_node_lag` blocks.
    async fn full_node_mined(&self, txid: B256) -> Result<Option<(Transaction, TransactionInfo)>, Status> {
        let lag = self.faults.lock().expect("faults lock").full_node_lag;
        let mined = self.mined(txid).await?;
        if lag == 0 {
            return Ok(mined);
        }
        let seen = self.head().await.map_err(unavailable)?.saturating_sub(lag);
        Ok(mined.filter(|(_, info)| u64::try_from(info.block_number).is_ok_and(|b| b <= seen)))
    }

    /// A mined transaction's result and info; `None` while it is in no block.
    pub(crate) async fn mined(&self, txid: B256) -> Result<Option<(Transaction, TransactionInfo)>, Status> {
        let Some((accepted, receipt)) = self.settle_fee(txid).await.map_err(unavailable)? else { return Ok(None) };
        let Some(block) = self.anvil.block(receipt.block_number).await.map_err(unavailable)? else { return Ok(None) };
        let contract_ret = if receipt.success {
            ContractResult::Success
        } else if Node::out_of_energy(&accepted, &receipt) {
            ContractResult::OutOfEnergy
        } else {
            ContractResult::Revert
        };
        let fee = accepted.charged.unwrap_or_default();
        let mut transaction = accepted.transaction.clone();
        transaction.ret = vec![transaction::Result { fee, contract_ret: contract_ret as i32, ..Default::default() }];
        let energy = if accepted.system { 0 } else { receipt.gas_used as i64 };
        let contract_address = match accepted.system {
            true => Vec::new(),
            false => receipt.contract_address.or(accepted.to).map(tron_address).unwrap_or_default(),
        };
        let info = TransactionInfo {
            id: txid.to_vec(),
            fee,
            block_number: receipt.block_number as i64,
            block_time_stamp: block.timestamp as i64 * 1000,
            contract_result: vec![Vec::new()],
            contract_address,
            receipt: Some(proto::ResourceReceipt {
                energy_fee: Node::energy_fee_of(&accepted, receipt.gas_used, self.params.energy_fee),
                energy_usage_total: energy,
                net_usage: accepted.net.usage,
                net_fee: accepted.net.fee,
                result: contract_ret as i32,
                ..Default::default()
            }),
            log: receipt
                .logs
                .iter()
                .map(|l| proto::transaction_info::Log {
                    address: l.address.to_vec(),
                    topics: l.topics.iter().map(|t| t.to_vec()).collect(),
                    data: l.data.to_vec(),
                })
                .collect(),
            result: if receipt.success {
                proto::transaction_info::Code::Sucess as i32
            } else {
                proto::transaction_info::Code::Failed as i32
            },
            res_message: match contract_ret {
                ContractResult::Success => Vec::new(),
                ContractResult::OutOfEnergy => {
                    format!("Not enough energy for this transaction: limit {}", accepted.energy_limit).into_bytes()
                }
                _ => REVERT_MESSAGE.as_bytes().to_vec(),
            },
            ..Default::default()
        };
        Ok(Some((transaction, info)))
    }

    pub(crate) async fn block_extention(&self, number: u64) -> Result<Option<BlockExtention>, Status> {
        let Some(block) = self.anvil.block(number).await.map_err(unavailable)? else { return Ok(None) };
        let mut transactions = Vec::new();
        for evm_hash in &block.transactions {
            let txid = self.ids.tron_id(*evm_hash);
            if let Some(txid) = txid
                && let Some((transaction, _)) = self.mined(txid).await?
            {
                transactions.push(TransactionExtention {
                    transaction: Some(transaction),
                    txid: txid.to_vec(),
                    result: Some(ok_return()),
                    ..Default::default()
                });
            }
        }
        let parent = number.checked_sub(1).map(|p| self.block_id(p, block.parent_hash)).unwrap_or_default();
        let header = proto::BlockHeader {
            raw_data: Some(proto::block_header::Raw {
                timestamp: block.timestamp as i64 * 1000,
                tx_trie_root: block.transactions_root.to_vec(),
                parent_hash: parent.to_vec(),
                number: number as i64,
                witness_address: tron_address(block.miner),
                version: 32,
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(Some(BlockExtention {
            transactions,
            block_header: Some(header),
            blockid: self.block_id(number, block.hash).to_vec(),
        }))
    }

    async fn block_at(&self, number: u64) -> Result<Response<BlockExtention>, Status> {
        Ok(Response::new(self.block_extention(number).await?.unwrap_or_default()))
    }

    async fn infos_in_block(&self, number: u64) -> Result<TransactionInfoList, Status> {
        let Some(block) = self.anvil.block(number).await.map_err(unavailable)? else {
            return Ok(TransactionInfoList::default());
        };
        let mut list = Vec::new();
        for evm_hash in &block.transactions {
            let txid = self.ids.tron_id(*evm_hash);
            if let Some(txid) = txid
                && let Some((_, info)) = self.mined(txid).await?
            {
                list.push(info);
            }
        }
        Ok(TransactionInfoList { transaction_info: list })
    }

    pub(crate) async fn account(&self, address: &[u8]) -> Result<Account, Status> {
        let Some(who) = evm_address(address) else { return Ok(Account::default()) };
        // Read once each: the balance and the code both decide existence and fill the account.
        let balance = self.anvil.balance(who).await.map_err(unavailable)?;
        let is_contract = !self.anvil.code(who).await.map_err(unavailable)?.is_empty();
        if balance.is_zero() && !is_contract && self.anvil.nonce(who).await.map_err(unavailable)? == 0 {
            return Ok(Account::default());
        }
        let balance = sun(balance);
        let permissions = self.permissions_of(who);
        let free = self.free_net.lock().expect("free net lock").get(&who).copied().unwrap_or_default();
        Ok(Account {
            address: tron_address(who),
            balance,
            free_net_usage: free.usage,
            latest_consume_free_time: free.last_slot * crate::BLOCK_PRODUCED_INTERVAL_MS,
            r#type: if is_contract { proto::AccountType::Contract as i32 } else { proto::AccountType::Normal as i32 },
            owner_permission: Some(permissions.owner),
            active_permission: permissions.actives,
            ..Default::default()
        })
    }

    /// A constant call: the return data and the energy it used, or java-tron's refusal. Without a contract
    /// address, `data` is creation code and the call estimates a deployment (java-tron ≥ 4.7).
    pub(crate) async fn constant(&self, c: &TriggerSmartContract) -> Result<TransactionExtention, Status> {
        let invalid =
            || TransactionExtention { result: Some(contract_validate("Invalid address")), ..Default::default() };
        let Some(owner) = evm_address(&c.owner_address) else { return Ok(invalid()) };
        let to = if c.contract_address.is_empty() {
            None
        } else {
            let Some(to) = evm_address(&c.contract_address) else { return Ok(invalid()) };
            if self.anvil.code(to).await.map_err(unavailable)?.is_empty() {
                return Ok(TransactionExtention {
                    result: Some(contract_validate("No contract or not a valid smart contract")),
                    ..Default::default()
                });
            }
            Some(to)
        };
        let value = U256::from(c.call_value.max(0));
        let contract = trigger_contract(c, 0);
        let mut ext = self.extention(contract).await?;
        match self.anvil.eth_call(owner, to, &c.data, value).await {
            Ok(output) => {
                ext.constant_result = vec![output.to_vec()];
                ext.energy_used = self.anvil.estimate(owner, to, &c.data, value).await.unwrap_or(0) as i64;
                if let Some(t) = ext.transaction.as_mut() {
                    t.ret = vec![transaction::Result {
                        contract_ret: ContractResult::Success as i32,
                        ..Default::default()
                    }];
                }
            }
            Err(EvmError::Reverted(data)) => {
                ext.constant_result = vec![data.to_vec()];
                ext.result = Some(refuse(ResponseCode::ContractExeError, REVERT_MESSAGE));
                if let Some(t) = ext.transaction.as_mut() {
                    t.ret = vec![transaction::Result {
                        ret: transaction::result::Code::Failed as i32,
                        contract_ret: ContractResult::Revert as i32,
                        ..Default::default()
                    }];
                }
            }
            Err(e) => return Err(unavailable(e)),
        }
        Ok(ext)
    }

    /// An unsigned TriggerSmartContract transaction built by the node, as java-tron's `TriggerContract` builds
    /// one for a state-changing call (no execution), to be signed under permission `permission_id` (the HTTP API's
    /// `Permission_id`); refused when the target has no code.
    pub(crate) async fn trigger(
        &self,
        c: TriggerSmartContract,
        permission_id: i32,
    ) -> Result<TransactionExtention, Status> {
        let (Some(_), Some(to)) = (evm_address(&c.owner_address), evm_address(&c.contract_address)) else {
            return Ok(TransactionExtention {
                result: Some(contract_validate("Invalid address")),
                ..Default::default()
            });
        };
        if self.anvil.code(to).await.map_err(unavailable)?.is_empty() {
            return Ok(TransactionExtention {
                result: Some(contract_validate("No contract or not a valid smart contract")),
                ..Default::default()
            });
        }
        let contract = trigger_contract(&c, permission_id);
        self.extention(contract).await
    }

    fn node_info_block(number: u64, hash: B256) -> String {
        format!("Num:{number},ID:{}", alloy::hex::encode(block_id(number, hash)))
    }
}

fn txid_of(request: &BytesMessage) -> Result<B256, Status> {
    if request.value.len() != 32 {
        return Err(Status::invalid_argument("a transaction id is 32 bytes"));
    }
    Ok(B256::from_slice(&request.value))
}

#[tonic::async_trait]
impl proto::wallet_server::Wallet for FullNode {
    async fn get_account(&self, request: Request<Account>) -> Result<Response<Account>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.account(&request.into_inner().address).await?))
    }

    async fn get_account_resource(
        &self,
        request: Request<Account>,
    ) -> Result<Response<AccountResourceMessage>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.account_resource(&request.into_inner().address).await?.unwrap_or_default()))
    }

    async fn get_now_block2(&self, _: Request<EmptyMessage>) -> Result<Response<BlockExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let head = self.0.head().await.map_err(unavailable)?;
        self.0.block_at(head).await
    }

    async fn get_block_by_num2(&self, request: Request<NumberMessage>) -> Result<Response<BlockExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let num = request.into_inner().num;
        if num < 0 {
            return Ok(Response::new(BlockExtention::default()));
        }
        self.0.block_at(num as u64).await
    }

    async fn get_node_info(&self, _: Request<EmptyMessage>) -> Result<Response<NodeInfo>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let head = self.0.head().await.map_err(unavailable)?;
        let solid = self.0.solidified().await.map_err(unavailable)?;
        let hash = |n| async move { self.0.anvil.block(n).await.map_err(unavailable).map(|b| b.map(|b| b.hash)) };
        Ok(Response::new(NodeInfo {
            begin_sync_num: 0,
            block: Node::node_info_block(head, hash(head).await?.unwrap_or_default()),
            solidity_block: Node::node_info_block(solid, hash(solid).await?.unwrap_or_default()),
            ..Default::default()
        }))
    }

    async fn get_chain_parameters(&self, _: Request<EmptyMessage>) -> Result<Response<ChainParameters>, Status> {
        let p = &self.0.params;
        let entries = [
            ("getTransactionFee", p.transaction_fee),
            ("getEnergyFee", p.energy_fee),
            ("getMaxFeeLimit", p.max_fee_limit),
            ("getCreateAccountFee", p.create_account_fee),
            ("getCreateNewAccountFeeInSystemContract", p.create_new_account_fee_in_system_contract),
            ("getFreeNetLimit", p.free_net_limit),
            ("getMaxCreateAccountTxSize", p.max_create_account_tx_size),
            ("getUpdateAccountPermissionFee", p.update_account_permission_fee),
            ("getMultiSignFee", p.multi_sign_fee),
            ("getTotalSignNum", crate::SIGNATURES_MAX as i64),
            ("getAllowMultiSign", 1),
            ("getMaxCpuTimeOfOneTx", 80),
            ("getAllowTvmConstantinople", 1),
            ("getAllowTvmIstanbul", 1),
            ("getAllowTvmLondon", 1),
        ];
        Ok(Response::new(ChainParameters {
            chain_parameter: entries
                .iter()
                .map(|(k, v)| proto::chain_parameters::ChainParameter { key: (*k).into(), value: *v })
                .collect(),
        }))
    }

    async fn get_contract(&self, request: Request<BytesMessage>) -> Result<Response<SmartContract>, Status> {
        let Some(at) = evm_address(&request.into_inner().value) else {
            return Ok(Response::new(SmartContract::default()));
        };
        let code = self.0.anvil.code(at).await.map_err(unavailable)?;
        if code.is_empty() {
            return Ok(Response::new(SmartContract::default()));
        }
        Ok(Response::new(SmartContract {
            // The deployer is not known for contracts created on the anvil directly: the contract stands in.
            origin_address: tron_address(at),
            contract_address: tron_address(at),
            bytecode: code.to_vec(),
            consume_user_resource_percent: 100,
            origin_energy_limit: 10_000_000,
            ..Default::default()
        }))
    }

    async fn trigger_contract(
        &self,
        request: Request<TriggerSmartContract>,
    ) -> Result<Response<TransactionExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.trigger(request.into_inner(), 0).await?))
    }

    async fn deploy_contract(
        &self,
        request: Request<CreateSmartContract>,
    ) -> Result<Response<TransactionExtention>, Status> {
        let c = request.into_inner();
        if evm_address(&c.owner_address).is_none() {
            return Ok(Response::new(TransactionExtention {
                result: Some(contract_validate("Invalid ownerAddress")),
                ..Default::default()
            }));
        }
        // Its ABI is a list of entries of any number: encoded off the async workers.
        let contract = blocking(move || transaction::Contract {
            r#type: ContractType::CreateSmartContract as i32,
            parameter: Some(prost_types::Any { type_url: CREATE_URL.into(), value: c.encode_to_vec() }),
            ..Default::default()
        })
        .await;
        Ok(Response::new(self.0.extention(contract).await?))
    }

    async fn trigger_constant_contract(
        &self,
        request: Request<TriggerSmartContract>,
    ) -> Result<Response<TransactionExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.constant(&request.into_inner()).await?))
    }

    async fn estimate_energy(
        &self,
        request: Request<TriggerSmartContract>,
    ) -> Result<Response<EstimateEnergyMessage>, Status> {
        let ext = self.0.constant(&request.into_inner()).await?;
        Ok(Response::new(EstimateEnergyMessage { result: ext.result, energy_required: ext.energy_used }))
    }

    async fn create_transaction2(
        &self,
        request: Request<TransferContract>,
    ) -> Result<Response<TransactionExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.transfer(request.into_inner()).await?))
    }

    async fn get_transaction_sign_weight(
        &self,
        request: Request<Transaction>,
    ) -> Result<Response<TransactionSignWeight>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.sign_weight(request.into_inner()).await?))
    }

    async fn broadcast_transaction(&self, request: Request<Transaction>) -> Result<Response<Return>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        Ok(Response::new(self.0.broadcast(request.into_inner()).await?))
    }

    async fn get_transaction_by_id(&self, request: Request<BytesMessage>) -> Result<Response<Transaction>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let txid = txid_of(request.get_ref())?;
        Ok(Response::new(self.0.full_node_mined(txid).await?.map(|(t, _)| t).unwrap_or_default()))
    }

    async fn get_transaction_info_by_id(
        &self,
        request: Request<BytesMessage>,
    ) -> Result<Response<TransactionInfo>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let txid = txid_of(request.get_ref())?;
        Ok(Response::new(self.0.full_node_mined(txid).await?.map(|(_, i)| i).unwrap_or_default()))
    }

    async fn get_transaction_info_by_block_num(
        &self,
        request: Request<NumberMessage>,
    ) -> Result<Response<TransactionInfoList>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let num = request.into_inner().num;
        if num < 0 {
            return Ok(Response::new(TransactionInfoList::default()));
        }
        Ok(Response::new(self.0.infos_in_block(num as u64).await?))
    }
}

#[tonic::async_trait]
impl proto::wallet_solidity_server::WalletSolidity for SolidityNode {
    async fn get_now_block2(&self, _: Request<EmptyMessage>) -> Result<Response<BlockExtention>, Status> {
        tokio::time::sleep(self.0.delay()).await;
        let solid = self.0.solidified().await.map_err(unavailable)?;
        self.0.block_at(solid).await
    }

    async fn get_block_by_num2(&self, request: Request<NumberMessage>) -> Result<Response<BlockExtention>, Status> {
        let num = request.into_inner().num;
        let solid = self.0.solidified().await.map_err(unavailable)?;
        if num < 0 || num as u64 > solid {
            return Ok(Response::new(BlockExtention::default()));
        }
        self.0.block_at(num as u64).await
    }

    async fn get_transaction_info_by_id(
        &self,
        request: Request<BytesMessage>,
    ) -> Result<Response<TransactionInfo>, Status> {
        let txid = txid_of(request.get_ref())?;
        Ok(Response::new(self.0.solidified_mined(txid).await?.map(|(_, i)| i).unwrap_or_default()))
    }

    async fn get_transaction_by_id(&self, request: Request<BytesMessage>) -> Result<Response<Transaction>, Status> {
        let txid = txid_of(request.get_ref())?;
        Ok(Response::new(self.0.solidified_mined(txid).await?.map(|(t, _)| t).unwrap_or_default()))
    }
}
