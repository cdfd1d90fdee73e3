//! Transactions on a TRON network through java-tron's gRPC API, with `tronic`: a contract created
//! (`CreateSmartContract`), a call sent (`TriggerSmartContract`) or read (a constant call), each signed locally and
//! followed until its block. The deployment command uses them on Nile and mainnet; the test support
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

/// Creates the contract `name` with `code` (creation bytecode and constructor arguments), `signer` paying.
pub async fn create(client: &TronClient, signer: &LocalSigner, name: &str, code: Vec<u8>) -> eyre::Result<Mined> {
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
