//! TRON's JSON-RPC as java-tron answers it, over real connections: transactions known and shown by their TRON id
//! (logs, receipts, transactions, blocks' lists, filters) with the EVM hash behind one unknown, a transaction
//! written to the anvil without the node under its EVM hash; `finalized` = the solidified block on the full port;
//! java-tron's refusals of tags and methods.

use abi::TestUSDT;
use alloy::{
    primitives::{B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use serde_json::{Value, json};
use tron_devnode::{
    Params, SOLIDIFY_DEPTH, TronDevnode, block_id,
    jsonrpc::{TronFaults, TronRpc},
    proto::{Transaction, TriggerSmartContract, r#return::ResponseCode, wallet_client::WalletClient},
    transaction_id, tron_address,
};

const SUN: u64 = 10_000_000_000;
const EMPTY_BLOOM_LEN: usize = 2 + 512;
/// `Approval(address,address,uint256)`: the test USDT's deployment logs other events before.
const APPROVAL: &str = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";

struct Setup {
    chain: DevChain,
    node: TronDevnode,
    rpc: TronRpc,
    wallet: WalletClient<tonic::transport::Channel>,
    user: PrivateKeySigner,
    client: reqwest::Client,
    /// The signature of the last transaction sent through the node.
    signature: Vec<u8>,
}

/// The node first, the JSON-RPC after (or the other way round: they share the map by the anvil's URL).
async fn setup(rpc_first: bool) -> eyre::Result<Setup> {
    let chain = DevChain::start_tron().await?;
    let user = chain.account(2);
    chain.provider.anvil_set_balance(user.address(), U256::from(SUN)).await?;
    let (node, rpc) = if rpc_first {
        let rpc = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
        (TronDevnode::start(&chain.rpc_url(), Params::default()).await?, rpc)
    } else {
        let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
        (node, TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?)
    };
    let wallet = WalletClient::connect(node.grpc_url.clone()).await?;
    Ok(Setup { chain, node, rpc, wallet, user, client: reqwest::Client::new(), signature: Vec::new() })
}

impl Setup {
    async fn call_at(&self, url: &str, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        Ok(self.client.post(url).json(&body).send().await?.json().await?)
    }

    /// The full port's result (an error fails the test).
    async fn full(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let answer = self.call_at(&self.rpc.full_url, method, params).await?;
        eyre::ensure!(answer.get("error").is_none(), "{method}: {answer}");
        Ok(answer["result"].clone())
    }

    async fn solidity(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let answer = self.call_at(&self.rpc.solidity_url, method, params).await?;
        eyre::ensure!(answer.get("error").is_none(), "{method}: {answer}");
        Ok(answer["result"].clone())
    }

    /// The full port's refusal: (code, message).
    async fn refusal(&self, method: &str, params: Value) -> eyre::Result<(i64, String)> {
        let answer = self.call_at(&self.rpc.full_url, method, params).await?;
        let error = &answer["error"];
        eyre::ensure!(error.is_object(), "{method}: not refused: {answer}");
        Ok((error["code"].as_i64().unwrap_or_default(), error["message"].as_str().unwrap_or_default().to_owned()))
    }

    /// `approve(settlement, amount)` on the test USDT through the node (TriggerContract, signed, broadcast): its
    /// TRON id.
    async fn approve_through_node(&mut self, amount: u64) -> eyre::Result<B256> {
        let call = TestUSDT::approveCall { spender: self.chain.settlement, value: U256::from(amount) };
        let trigger = TriggerSmartContract {
            owner_address: tron_address(self.user.address()),
            contract_address: tron_address(self.chain.usdt),
            data: call.abi_encode(),
            ..Default::default()
        };
        let ext = self.wallet.trigger_contract(trigger).await?.into_inner();
        let mut tx: Transaction = ext.transaction.expect("a transaction");
        tx.raw_data.as_mut().expect("raw").fee_limit = 100_000_000;
        let txid = transaction_id(tx.raw_data.as_ref().expect("raw"));
        let signing = k256::ecdsa::SigningKey::from_slice(self.user.to_bytes().as_slice())?;
        let (sig, rec) = signing.sign_prehash_recoverable(txid.as_slice())?;
        let mut bytes = sig.to_bytes().to_vec();
        bytes.push(27 + rec.to_byte());
        tx.signature = vec![bytes.clone()];
        self.signature = bytes;
        let ret = self.wallet.broadcast_transaction(tx).await?.into_inner();
        eyre::ensure!(ret.code() == ResponseCode::Success, "{:?}", String::from_utf8_lossy(&ret.message));
        Ok(txid)
    }
}

fn hash_of(v: &Value) -> B256 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a hash: {v}"))
}

fn number_of(v: &Value) -> u64 {
    v.as_str().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()).expect("a quantity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_shown_and_known_by_their_tron_id_as_java_tron_does() -> eyre::Result<()> {
    for rpc_first in [false, true] {
        let mut s = setup(rpc_first).await?;
        let txid = s.approve_through_node(7).await?;
        let evm = s.node.tx_ids().evm_hash(txid).expect("the node keeps the EVM hash of what it executed");
        assert_ne!(evm, txid);
        assert_eq!(s.node.tx_ids().tron_id(evm), Some(txid));
        // A transaction written to the anvil directly (no TRON raw data, no TRON id): its EVM hash.
        let usdt = TestUSDT::new(s.chain.usdt, &s.chain.provider);
        let direct = usdt.approve(s.chain.settlement, U256::from(9)).send().await?.watch().await?;

        // The receipt, by the TRON id: its hash, its logs' and its block's id as java-tron's.
        let receipt = s.full("eth_getTransactionReceipt", json!([txid])).await?;
        assert_eq!(hash_of(&receipt["transactionHash"]), txid, "{receipt}");
        assert_eq!(receipt["status"], "0x1");
        let number = number_of(&receipt["blockNumber"]);
        let block = s.chain.provider.get_block_by_number(number.into()).await?.expect("the block");
        let id = block_id(number, block.header.hash);
        assert_eq!(hash_of(&receipt["blockHash"]), id);
        assert_eq!(receipt["logsBloom"].as_str().map(str::len), Some(EMPTY_BLOOM_LEN));
        let logs = receipt["logs"].as_array().expect("logs");
        assert_eq!(logs.len(), 1, "the Approval");
        assert_eq!(hash_of(&logs[0]["transactionHash"]), txid);
        assert_eq!(hash_of(&logs[0]["blockHash"]), id);
        // The transaction, by the TRON id.
        let tx = s.full("eth_getTransactionByHash", json!([txid])).await?;
        assert_eq!(hash_of(&tx["hash"]), txid, "{tx}");
        assert_eq!(hash_of(&tx["blockHash"]), id);
        // java-tron's `TransactionResult`: no nonce, the energy fee as gas price, the TRON signature.
        let fee = format!("{:#x}", Params::default().energy_fee);
        assert_eq!((tx["nonce"].as_str(), tx["gasPrice"].as_str()), (Some("0x0000000000000000"), Some(fee.as_str())));
        let sig = &s.signature;
        assert_eq!(tx["r"], json!(format!("0x{}", alloy::hex::encode(&sig[..32]))));
        assert_eq!(tx["s"], json!(format!("0x{}", alloy::hex::encode(&sig[32..64]))));
        assert_eq!(tx["v"], json!(format!("{:#04x}", sig[64])));
        assert_eq!(tx["from"], json!(format!("{:#x}", s.user.address())));
        assert_eq!(tx["to"], json!(format!("{:#x}", s.chain.usdt)));
        // `TransactionReceipt`: the energy fee as effective gas price, type 0.
        assert_eq!(
            (receipt["effectiveGasPrice"].as_str(), receipt["type"].as_str()),
            (Some(fee.as_str()), Some("0x0"))
        );
        // The EVM hash behind it is no TRON id; an unknown id is null; a malformed one refused.
        for method in ["eth_getTransactionReceipt", "eth_getTransactionByHash"] {
            assert_eq!(s.full(method, json!([evm])).await?, Value::Null, "{method} by the EVM hash");
            assert_eq!(s.full(method, json!([B256::repeat_byte(0x5a)])).await?, Value::Null, "{method} unknown");
            let malformed = s.refusal(method, json!(["0x1234"])).await?;
            assert_eq!(malformed, (-32602, "invalid hash value".to_owned()), "{method}");
        }
        // Without `0x`, as java-tron reads it.
        let bare = s.full("eth_getTransactionReceipt", json!([alloy::hex::encode(txid)])).await?;
        assert_eq!(hash_of(&bare["transactionHash"]), txid);

        // Logs (a range, and by block id) carry the TRON id; the direct write its EVM hash.
        let direct_receipt = s.full("eth_getTransactionReceipt", json!([direct])).await?;
        assert_eq!(hash_of(&direct_receipt["transactionHash"]), direct, "a direct write is known by its EVM hash");
        let filter = json!({ "address": s.chain.usdt, "fromBlock": format!("{number:#x}"), "toBlock": "latest" });
        let logs = s.full("eth_getLogs", json!([filter])).await?;
        let shown: Vec<B256> = logs.as_array().expect("logs").iter().map(|l| hash_of(&l["transactionHash"])).collect();
        assert_eq!(shown, vec![txid, direct]);
        let by_block = s.full("eth_getLogs", json!([{ "blockHash": id }])).await?;
        assert_eq!(hash_of(&by_block[0]["transactionHash"]), txid, "{by_block}");
        let filter_id = s.full("eth_newFilter", json!([filter])).await?;
        let filtered = s.full("eth_getFilterLogs", json!([filter_id])).await?;
        assert_eq!(hash_of(&filtered[0]["transactionHash"]), txid, "{filtered}");

        // Blocks list it by its TRON id, as hashes and as objects.
        let hashes = s.full("eth_getBlockByNumber", json!([format!("{number:#x}"), false])).await?;
        assert_eq!(hashes["transactions"], json!([txid]), "{hashes}");
        let objects = s.full("eth_getBlockByHash", json!([id, true])).await?;
        assert_eq!(hash_of(&objects["transactions"][0]["hash"]), txid);
        assert_eq!(hash_of(&objects["transactions"][0]["blockHash"]), id);
        let at = s.full("eth_getTransactionByBlockNumberAndIndex", json!([format!("{number:#x}"), "0x0"])).await?;
        assert_eq!(hash_of(&at["hash"]), txid);
        let at = s.full("eth_getTransactionByBlockHashAndIndex", json!([id, "0x0"])).await?;
        assert_eq!(hash_of(&at["hash"]), txid);
        assert_eq!(s.full("eth_getBlockTransactionCountByHash", json!([id])).await?, "0x1");
        assert_eq!(s.full("eth_getBlockTransactionCountByNumber", json!([format!("{number:#x}")])).await?, "0x1");

        // The Solidity port knows it once its block is solidified, by the same id.
        assert_eq!(s.solidity("eth_getTransactionReceipt", json!([txid])).await?, Value::Null);
        s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
        let solid = s.solidity("eth_getTransactionReceipt", json!([txid])).await?;
        assert_eq!(hash_of(&solid["transactionHash"]), txid, "{solid}");
        let logs = s
            .solidity(
                "eth_getLogs",
                json!([{ "address": s.chain.usdt, "topics": [APPROVAL], "fromBlock": "earliest" }]),
            )
            .await?;
        assert_eq!(hash_of(&logs[0]["transactionHash"]), txid, "{logs}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalized_is_the_solidified_block_on_the_full_port_and_latest_the_head() -> eyre::Result<()> {
    let mut s = setup(false).await?;
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 5), None).await?;
    let blocks_filter = s.full("eth_newBlockFilter", json!([])).await?;
    let logs_filter = s.full("eth_newFilter", json!([{ "address": s.chain.usdt, "topics": [APPROVAL] }])).await?;
    let early = s.approve_through_node(1).await?;
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    let late = s.approve_through_node(2).await?;
    let head = s.chain.provider.get_block_number().await?;
    let solid = head - SOLIDIFY_DEPTH;

    // Filters answer as java-tron's: block ids, and logs with TRON ids.
    let blocks = s.full("eth_getFilterChanges", json!([blocks_filter])).await?;
    let blocks = blocks.as_array().expect("block hashes");
    assert_eq!(blocks.len() as u64, SOLIDIFY_DEPTH + 3, "one per block since the filter");
    let last = s.chain.provider.get_block_by_number(head.into()).await?.expect("the head");
    assert_eq!(blocks.last().map(hash_of), Some(block_id(head, last.header.hash)));
    let changes = s.full("eth_getFilterChanges", json!([logs_filter])).await?;
    let shown: Vec<B256> = changes.as_array().expect("logs").iter().map(|l| hash_of(&l["transactionHash"])).collect();
    assert_eq!(shown, vec![early, late]);

    let number = |block: &Value| number_of(&block["number"]);
    for tag in ["finalized", "FINALIZED", "Finalized"] {
        assert_eq!(number(&s.full("eth_getBlockByNumber", json!([tag, false])).await?), solid, "{tag}");
        assert_eq!(number(&s.solidity("eth_getBlockByNumber", json!([tag, false])).await?), solid, "{tag}");
    }
    for tag in ["latest", "LATEST"] {
        assert_eq!(number(&s.full("eth_getBlockByNumber", json!([tag, false])).await?), head, "{tag}");
        assert_eq!(number(&s.solidity("eth_getBlockByNumber", json!([tag, false])).await?), solid, "{tag}");
    }
    assert_eq!(number_of(&s.full("eth_blockNumber", json!([])).await?), head);
    assert_eq!(number_of(&s.solidity("eth_blockNumber", json!([])).await?), solid);

    // `eth_getLogs`: `finalized` is the solidified block's number on the full port, `latest` the head.
    let ids = |logs: Value| -> Vec<B256> {
        logs.as_array().expect("logs").iter().map(|l| hash_of(&l["transactionHash"])).collect()
    };
    let usdt = s.chain.usdt;
    let upto_finalized = s.full(
        "eth_getLogs",
        json!([{ "address": usdt, "topics": [APPROVAL], "fromBlock": "0x0", "toBlock": "finalized" }]),
    );
    assert_eq!(ids(upto_finalized.await?), vec![early]);
    let from_finalized =
        s.full("eth_getLogs", json!([{ "address": usdt, "topics": [APPROVAL], "fromBlock": "finalized" }]));
    assert_eq!(ids(from_finalized.await?), vec![late]);
    let upto_latest = s.full(
        "eth_getLogs",
        json!([{ "address": usdt, "topics": [APPROVAL], "fromBlock": "earliest", "toBlock": "latest" }]),
    );
    assert_eq!(ids(upto_latest.await?), vec![early, late]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_methods_java_tron_refuses_are_refused_with_its_messages() -> eyre::Result<()> {
    let s = setup(false).await?;
    // java-tron's gas price is the chain's energy price (`getEnergyFee`), not the EVM gas price of the anvil below.
    assert_eq!(s.full("eth_gasPrice", json!([])).await?, json!(format!("{:#x}", Params::default().energy_fee)));
    let address = format!("{:#x}", s.chain.usdt);
    let tags = "TAG [earliest | pending | finalized] not supported";
    for tag in ["earliest", "pending", "finalized", "Finalized"] {
        assert_eq!(s.refusal("eth_getBalance", json!([address, tag])).await?, (-32602, tags.to_owned()), "{tag}");
        assert_eq!(s.refusal("eth_getCode", json!([address, tag])).await?, (-32602, tags.to_owned()), "{tag}");
    }
    let quantity = "QUANTITY not supported, just support TAG as latest".to_owned();
    assert_eq!(s.refusal("eth_getBalance", json!([address, "0x1"])).await?, (-32602, quantity));
    let pending = (-32602, "TAG pending not supported".to_owned());
    assert_eq!(s.refusal("eth_getBlockByNumber", json!(["pending", false])).await?, pending);
    assert_eq!(s.refusal("eth_getLogs", json!([{ "fromBlock": "pending" }])).await?, pending);
    let hex = (-32602, "Incorrect hex syntax".to_owned());
    assert_eq!(s.refusal("eth_getLogs", json!([{ "fromBlock": "12" }])).await?, hex);
    let range = (-32602, "invalid block range params".to_owned());
    assert_eq!(s.refusal("eth_newFilter", json!([{ "fromBlock": "finalized" }])).await?, range);
    assert_eq!(s.refusal("eth_newFilter", json!([{ "toBlock": "FINALIZED" }])).await?, range);
    let both = json!([{ "blockHash": B256::repeat_byte(1), "fromBlock": "0x1" }]);
    let message = "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other".to_owned();
    assert_eq!(s.refusal("eth_getLogs", both).await?, (-32602, message));
    for method in [
        "eth_sendRawTransaction",
        "eth_sendTransaction",
        "eth_getTransactionCount",
        "eth_sign",
        "eth_signTransaction",
        "eth_submitWork",
        "eth_submitHashrate",
        "parity_nextNonce",
        "eth_getCompilers",
        "eth_compileSolidity",
        "eth_compileLLL",
        "eth_compileSerpent",
    ] {
        let message = format!("the method {method} does not exist/is not available");
        assert_eq!(s.refusal(method, json!([])).await?, (-32601, message));
    }
    // jsonrpc4j's answers: a method java-tron does not have, a request without one, a body that is not JSON.
    for method in ["anvil_mine", "eth_getBlockReceipts", "eth_feeHistory", "debug_traceTransaction"] {
        let answer = s.call_at(&s.rpc.full_url, method, json!([])).await?;
        assert_eq!(answer["error"], json!({ "code": -32601, "message": "method not found" }), "{method}");
    }
    let no_method: Value =
        s.client.post(&s.rpc.full_url).json(&json!({ "jsonrpc": "2.0", "id": 7 })).send().await?.json().await?;
    assert_eq!(no_method["error"], json!({ "code": -32600, "message": "invalid request" }));
    let not_json: Value = s.client.post(&s.rpc.full_url).body("{").send().await?.json().await?;
    assert_eq!(not_json["error"], json!({ "code": -32700, "message": "JSON parse error" }));
    Ok(())
}
