//! Transactions on a TRON network through java-tron's gRPC API: a contract created (`CreateSmartContract`, with
//! [`crate::tron_wire`]'s fee limit), a call sent (`TriggerSmartContract`, with `tronic`) or read (a constant call),
//! each signed locally and followed until its block. The deployment command uses them on Nile and mainnet; the test support
//! (`anvil-tests`) on the TRON test node.
//!
//! A contract's address is read back from its creating transaction's info, never predicted: on TRON it derives
//! from the transaction id (the test node, over an EVM, gives the `CREATE` address instead).

use std::time::Duration;

use alloy::primitives::{Address, B256};
use tronic::{
    client::{
        Client,
        pending::{ManualSigning, PendingTransaction},
    },
    domain::{
        Hash32,
        address::TronAddress,
        contract::{Contract, ContractType, TriggerSmartContract},
        transaction::{Transaction, TxCode},
        trx::Trx,
    },
    provider::{
        TronProvider,
        grpc::{ConnectOptions, GrpcProvider},
    },
    signer::LocalSigner,
};

/// How long a transaction may take to reach a block.
const MINED_WITHIN: Duration = Duration::from_secs(60);

/// A TRON client that signs with one key.
pub type TronClient = Client<GrpcProvider, LocalSigner>;

/// What a mined TRON transaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mined {
    /// Its id.
    pub txid: B256,
    /// The block it is in.
    pub block: u64,
    /// The contract it created, or the one it called.
    pub contract: Address,
}

/// A client of the full node at `grpc_url` signing with `key` (32 secret bytes).
pub async fn client(grpc_url: &str, key: &[u8]) -> eyre::Result<(TronClient, LocalSigner)> {
    client_with_api_key(grpc_url, key, None).await
}

/// As [`client`], every call carrying the provider's `api_key` as `TRON-PRO-API-KEY`.
pub async fn client_with_api_key(
    grpc_url: &str,
    key: &[u8],
    api_key: Option<&str>,
) -> eyre::Result<(TronClient, LocalSigner)> {
    let signer = LocalSigner::from_bytes(key)?;
    let auth = api_key.map(|key| tronic::client::Auth::Bearer {
        name: service_kit::chain_spec::TRON_API_KEY_HEADER.to_ascii_lowercase(),
        secret: key.to_owned().into(),
    });
    let provider =
        ConnectOptions::builder().maybe_auth(auth).connect_timeout(Duration::from_secs(10)).connect(grpc_url).await?;
    Ok((Client::builder().provider(provider).signer(signer.clone()).build(), signer))
}

/// Signs `contract` with `signer`, broadcasts it and waits for its block; an error if it failed.
pub async fn send(client: &TronClient, signer: &LocalSigner, contract: ContractType) -> eyre::Result<Mined> {
    let owner = signer.address();
    let now = client.provider().get_now_block().await?;
    let transaction =
        Transaction::new(Contract { contract_type: contract, ..Default::default() }, &now, Default::default());
    let mut pending: PendingTransaction<'_, _, _, ManualSigning> =
        PendingTransaction::new(client, transaction, owner, Trx::ZERO, Vec::new(), true).await?;
    pending.sign(signer, &()).await?;
    let txid = B256::from_slice(pending.txid().as_ref());
    client.provider().broadcast_transaction(pending.transaction()).await?;
    let deadline = tokio::time::Instant::now() + MINED_WITHIN;
    loop {
        let info = client.provider().get_transaction_info(Hash32::from(txid.0)).await?;
        if info.block_number > 0 {
            eyre::ensure!(
                info.result == TxCode::Sucess,
                "TRON transaction {txid} failed: {:?} {:?}",
                info.res_message,
                info.receipt
            );
            let contract = Address::from(info.contract_address);
            return Ok(Mined { txid, block: info.block_number as u64, contract });
        }
        eyre::ensure!(tokio::time::Instant::now() < deadline, "TRON transaction {txid} was not mined in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Creates the contract `name` with `code` (creation bytecode and constructor arguments), `key` paying, through the
/// full node at `grpc_url` (with the provider's `api_key`, if any): `CreateSmartContract` with the fee limit
/// [`crate::tron_wire::signed_create`] sets from the node's estimate, which `tronic` would cap at 1,000 TRX whenever
/// the node cannot estimate (a Settlement with its three children needs more).
pub async fn create(
    grpc_url: &str,
    api_key: Option<&str>,
    key: &alloy::signers::local::PrivateKeySigner,
    name: &str,
    code: Vec<u8>,
) -> eyre::Result<Mined> {
    let mut wallet = crate::tron_wire::wallet(grpc_url, api_key).await?;
    let tx = crate::tron_wire::signed_create(&mut wallet, key, name, code, MINED_WITHIN).await?;
    let txid = crate::tron_wire::transaction_id(tx.raw_data.as_ref().expect("signed with raw data"));
    let included = crate::tron_wire::broadcast_and_wait(&mut wallet, &tx, MINED_WITHIN).await?;
    eyre::ensure!(
        included.success,
        "TRON transaction {txid} failed: {:?} {:?}",
        included.message,
        included.info.receipt
    );
    let contract = crate::tron_wire::evm_address(&included.info.contract_address)
        .ok_or_else(|| eyre::eyre!("TRON transaction {txid} created no contract"))?;
    Ok(Mined { txid, block: u64::try_from(included.block)?, contract })
}

/// Sends `data` to the contract `at` with `call_value` SUN from `signer`.
pub async fn trigger(
    client: &TronClient,
    signer: &LocalSigner,
    at: Address,
    data: Vec<u8>,
    call_value: i64,
) -> eyre::Result<Mined> {
    let call = TriggerSmartContract {
        owner_address: signer.address(),
        contract_address: TronAddress::from(at),
        data: data.into(),
        call_value: Trx::from_sun(call_value),
        ..Default::default()
    };
    send(client, signer, ContractType::TriggerSmartContract(call)).await
}

/// A constant call of `data` on `at` as `owner`: what it returns.
pub async fn read(client: &TronClient, owner: TronAddress, at: Address, data: Vec<u8>) -> eyre::Result<Vec<u8>> {
    let call = TriggerSmartContract {
        owner_address: owner,
        contract_address: TronAddress::from(at),
        data: data.into(),
        ..Default::default()
    };
    let ext = client.provider().trigger_constant_contract(call).await?;
    ext.constant_result.into_iter().next().ok_or_else(|| eyre::eyre!("constant call without a result"))
}

/// The code at `at` (`GetContract`): empty when nothing is deployed there.
pub async fn code(client: &TronClient, at: Address) -> eyre::Result<Vec<u8>> {
    match client.provider().get_contract(TronAddress::from(at)).await {
        Ok(contract) => Ok(contract.bytecode),
        Err(tronic::error::Error::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}
