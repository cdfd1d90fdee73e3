//! The development stack deployed the TRON way: `CreateSmartContract` transactions through TRON's gRPC API
//! (`tronic`), signed by the admin key, then the admin's roles granted by `TriggerSmartContract` — as a deploy on
//! Nile or mainnet goes, against the TRON test node (`tron-devnode`) here.
//!
//! What the test node cannot show: on TRON the new contract's address derives from the creating transaction's
//! id, on the test node it is the EVM's (`CREATE` from the owner's nonce); both are read back from the
//! transaction's info, never predicted. The EVM underneath forwards at most 63/64 of the remaining energy to
//! every call (EIP-150), as TRON's TVM does since its EVM-compatibility proposal: the Settlement contract's
//! per-payment push caps rely on it.

use std::time::Duration;

use abi::{NATIVE_TOKEN, Settlement, TestUSDT};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolConstructor},
};
use tronic::{
    client::{
        Client,
        pending::{ManualSigning, PendingTransaction},
    },
    domain::{
        Hash32,
        address::TronAddress,
        contract::{Contract, ContractType, CreateSmartContract, SmartContract, TriggerSmartContract},
        transaction::{Transaction, TxCode},
        trx::Trx,
    },
    provider::{
        TronProvider,
        grpc::{ConnectOptions, GrpcProvider},
    },
    signer::LocalSigner,
};

use crate::deployment::Deployment;

type TronClient = Client<GrpcProvider, LocalSigner>;

/// What a mined TRON transaction did.
struct Mined {
    block: u64,
    contract: Address,
}

async fn send(client: &TronClient, signer: &LocalSigner, contract: ContractType) -> eyre::Result<Mined> {
    let owner = signer.address();
    let now = client.provider().get_now_block().await?;
    let transaction =
        Transaction::new(Contract { contract_type: contract, ..Default::default() }, &now, Default::default());
    let mut pending: PendingTransaction<'_, _, _, ManualSigning> =
        PendingTransaction::new(client, transaction, owner, Trx::ZERO, Vec::new(), true).await?;
    pending.sign(signer, &()).await?;
    let txid = B256::from_slice(pending.txid().as_ref());
    client.provider().broadcast_transaction(pending.transaction()).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let info = client.provider().get_transaction_info(Hash32::from(txid.0)).await?;
        if info.block_number > 0 {
            eyre::ensure!(
                info.result == TxCode::Sucess,
                "TRON transaction {txid} failed: {:?} {:?}",
                info.res_message,
                info.receipt
            );
            return Ok(Mined { block: info.block_number as u64, contract: Address::from(info.contract_address) });
        }
        eyre::ensure!(tokio::time::Instant::now() < deadline, "TRON transaction {txid} was not mined in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn create(client: &TronClient, signer: &LocalSigner, name: &str, code: Vec<u8>) -> eyre::Result<Mined> {
    let owner = signer.address();
    let contract = ContractType::CreateSmartContract(CreateSmartContract {
        owner_address: owner,
        new_contract: SmartContract {
            origin_address: owner,
            bytecode: code,
            consume_user_resource_percent: 100,
            name: name.to_owned(),
            origin_energy_limit: 10_000_000,
            ..Default::default()
        },
        ..Default::default()
    });
    send(client, signer, contract).await
}

async fn trigger(client: &TronClient, signer: &LocalSigner, at: Address, data: Vec<u8>) -> eyre::Result<Mined> {
    let call = TriggerSmartContract {
        owner_address: signer.address(),
        contract_address: TronAddress::from(at),
        data: data.into(),
        ..Default::default()
    };
    send(client, signer, ContractType::TriggerSmartContract(call)).await
}

async fn read(client: &TronClient, owner: TronAddress, at: Address, data: Vec<u8>) -> eyre::Result<Vec<u8>> {
    let call = TriggerSmartContract {
        owner_address: owner,
        contract_address: TronAddress::from(at),
        data: data.into(),
        ..Default::default()
    };
    let ext = client.provider().trigger_constant_contract(call).await?;
    ext.constant_result.into_iter().next().ok_or_else(|| eyre::eyre!("constant call without a result"))
}

/// Sends `data` to the contract `at` with `call_value` SUN as `wallet` would from a TRON wallet: a
/// TriggerSmartContract built, estimated and signed with tronic, broadcast to the node at `grpc_url`; the block
/// it was mined in, or an error if it failed.
pub async fn send_call(
    grpc_url: &str,
    wallet: &PrivateKeySigner,
    at: Address,
    data: Vec<u8>,
    call_value: i64,
) -> eyre::Result<u64> {
    let key = LocalSigner::from_bytes(wallet.to_bytes().as_slice())?;
    let provider = ConnectOptions::builder().connect(grpc_url).await?;
    let client = Client::builder().provider(provider).signer(key.clone()).build();
    let call = TriggerSmartContract {
        owner_address: key.address(),
        contract_address: TronAddress::from(at),
        data: data.into(),
        call_value: Trx::from_sun(call_value),
        ..Default::default()
    };
    Ok(send(&client, &key, ContractType::TriggerSmartContract(call)).await?.block)
}

/// Deploys the test USDT and Settlement (native coin and USDT allowed) through the TRON node at `grpc_url`
/// with `admin`'s key, `signer` authorising payloads, and grants `admin` the operator, treasurer and pauser roles
/// (development only). `chain_id` is the TRON network's (it is not on the wire of TRON's gRPC API).
pub async fn deploy_stack_tron(
    grpc_url: &str,
    chain_id: u64,
    admin: &PrivateKeySigner,
    signer: Address,
) -> eyre::Result<Deployment> {
    let key = LocalSigner::from_bytes(admin.to_bytes().as_slice())?;
    let provider = ConnectOptions::builder().connect(grpc_url).await?;
    let client = Client::builder().provider(provider).signer(key.clone()).build();
    let usdt = create(&client, &key, "TestUSDT", TestUSDT::BYTECODE.to_vec()).await?.contract;
    // TRON's figures (a TRC-20 transfer to a fresh holder costs about 130,000 energy), as a real deployment has.
    let push_gas = abi::chain::Family::Tron.push_gas();
    let args = Settlement::constructorCall {
        admin: admin.address(),
        signer_: signer,
        allowedTokens: vec![NATIVE_TOKEN, usdt],
        nativePushGas_: U256::from(push_gas.native),
        tokenPushGas_: U256::from(push_gas.token),
    };
    let code = [Settlement::BYTECODE.to_vec(), args.abi_encode()].concat();
    let created = create(&client, &key, "Settlement", code).await?;
    let settlement = created.contract;
    for role in [
        Settlement::OPERATOR_ROLECall {}.abi_encode(),
        Settlement::TREASURER_ROLECall {}.abi_encode(),
        Settlement::PAUSER_ROLECall {}.abi_encode(),
    ] {
        let role = B256::from_slice(&read(&client, key.address(), settlement, role).await?);
        trigger(&client, &key, settlement, Settlement::grantRoleCall { role, account: admin.address() }.abi_encode())
            .await?;
    }
    Ok(Deployment { chain_id, settlement, usdt, deploy_block: created.block, admin: admin.address(), signer })
}

/// The code at `at` through the node's `GetContract`: empty when nothing is deployed there.
pub async fn deployed_code(grpc_url: &str, at: Address) -> eyre::Result<Bytes> {
    let provider = ConnectOptions::builder().connect(grpc_url).await?;
    match provider.get_contract(TronAddress::from(at)).await {
        Ok(contract) => Ok(Bytes::from(contract.bytecode)),
        Err(tronic::error::Error::NotFound(_)) => Ok(Bytes::new()),
        Err(e) => Err(e.into()),
    }
}
