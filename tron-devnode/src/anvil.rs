//! The EVM underneath: anvil's JSON-RPC, as the test node needs it (blocks, state, calls, and executing a
//! TRON transaction as its owner). A call carrying a large payload (call data up to a megabyte) is written, and a
//! large answer parsed, off the async workers.

use alloy::primitives::{Address, B256, Bytes, U256};
use serde_json::{Value, json};

/// An EVM failure the node turns into a TRON answer.
#[derive(Debug)]
pub(crate) enum EvmError {
    /// The call reverted; the revert data.
    Reverted(Bytes),
    /// anvil could not be asked, or answered something else.
    Node(String),
}

impl std::fmt::Display for EvmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reverted(data) => write!(f, "reverted ({data})"),
            Self::Node(message) => write!(f, "{message}"),
        }
    }
}

/// A block as the node needs it.
#[derive(Clone, Debug)]
pub(crate) struct EvmBlock {
    pub(crate) hash: B256,
    pub(crate) parent_hash: B256,
    pub(crate) timestamp: u64,
    pub(crate) miner: Address,
    pub(crate) transactions_root: B256,
    pub(crate) transactions: Vec<B256>,
}

/// A receipt as the node needs it.
#[derive(Clone, Debug)]
pub(crate) struct EvmReceipt {
    pub(crate) block_number: u64,
    pub(crate) success: bool,
    pub(crate) gas_used: u64,
    pub(crate) contract_address: Option<Address>,
    pub(crate) logs: Vec<EvmLog>,
}

#[derive(Clone, Debug)]
pub(crate) struct EvmLog {
    pub(crate) address: Address,
    pub(crate) topics: Vec<B256>,
    pub(crate) data: Bytes,
}

#[derive(Clone)]
pub(crate) struct Anvil {
    url: String,
    client: reqwest::Client,
}

fn field<T: serde::de::DeserializeOwned>(value: &Value, name: &str) -> Result<T, EvmError> {
    serde_json::from_value(value.get(name).cloned().unwrap_or(Value::Null))
        .map_err(|e| EvmError::Node(format!("field {name}: {e}")))
}

fn quantity(value: &Value, name: &str) -> Result<u64, EvmError> {
    let v: U256 = field(value, name)?;
    u64::try_from(v).map_err(|e| EvmError::Node(format!("field {name}: {e}")))
}

impl Anvil {
    pub(crate) fn new(url: &str) -> Self {
        Self { url: url.to_owned(), client: reqwest::Client::new() }
    }

    pub(crate) async fn call(&self, method: &str, params: Value) -> Result<Value, EvmError> {
        let body =
            crate::work::write_json(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })).await;
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| EvmError::Node(format!("{method}: {e}")))?
            .bytes()
            .await
            .map_err(|e| EvmError::Node(format!("{method}: {e}")))?;
        let answer: Value =
            crate::work::parse_json(answer).await.map_err(|e| EvmError::Node(format!("{method}: {e}")))?;
        if let Some(error) = answer.get("error") {
            let data = error.get("data").and_then(Value::as_str).and_then(|d| d.parse::<Bytes>().ok());
            let message = error.get("message").and_then(Value::as_str).unwrap_or_default();
            if message.contains("revert") {
                return Err(EvmError::Reverted(data.unwrap_or_default()));
            }
            return Err(EvmError::Node(format!("{method}: {error}")));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }

    pub(crate) async fn head(&self) -> Result<u64, EvmError> {
        let v: U256 = serde_json::from_value(self.call("eth_blockNumber", json!([])).await?)
            .map_err(|e| EvmError::Node(e.to_string()))?;
        Ok(v.to::<u64>())
    }

    pub(crate) async fn block(&self, number: u64) -> Result<Option<EvmBlock>, EvmError> {
        let b = self.call("eth_getBlockByNumber", json!([format!("{number:#x}"), false])).await?;
        if b.is_null() {
            return Ok(None);
        }
        Ok(Some(EvmBlock {
            hash: field(&b, "hash")?,
            parent_hash: field(&b, "parentHash")?,
            timestamp: quantity(&b, "timestamp")?,
            miner: field(&b, "miner")?,
            transactions_root: field(&b, "transactionsRoot")?,
            transactions: field(&b, "transactions")?,
        }))
    }

    pub(crate) async fn balance(&self, who: Address) -> Result<U256, EvmError> {
        serde_json::from_value(self.call("eth_getBalance", json!([who, "latest"])).await?)
            .map_err(|e| EvmError::Node(e.to_string()))
    }

    /// The balance as of block `number` (the solidity node's view).
    pub(crate) async fn balance_at(&self, who: Address, number: u64) -> Result<U256, EvmError> {
        serde_json::from_value(self.call("eth_getBalance", json!([who, format!("{number:#x}")])).await?)
            .map_err(|e| EvmError::Node(e.to_string()))
    }

    pub(crate) async fn nonce(&self, who: Address) -> Result<u64, EvmError> {
        let v: U256 = serde_json::from_value(self.call("eth_getTransactionCount", json!([who, "latest"])).await?)
            .map_err(|e| EvmError::Node(e.to_string()))?;
        Ok(v.to::<u64>())
    }

    pub(crate) async fn code(&self, who: Address) -> Result<Bytes, EvmError> {
        serde_json::from_value(self.call("eth_getCode", json!([who, "latest"])).await?)
            .map_err(|e| EvmError::Node(e.to_string()))
    }

    pub(crate) async fn set_balance(&self, who: Address, balance: U256) -> Result<(), EvmError> {
        self.call("anvil_setBalance", json!([who, balance])).await.map(|_| ())
    }

    fn call_object(from: Address, to: Option<Address>, data: &[u8], value: U256) -> Value {
        let mut call =
            json!({ "from": from, "input": Bytes::copy_from_slice(data), "value": value, "gasPrice": "0x0" });
        if let Some(to) = to {
            call["to"] = json!(to);
        }
        call
    }

    /// `eth_call` at the head: the return data, or the revert.
    pub(crate) async fn eth_call(
        &self,
        from: Address,
        to: Option<Address>,
        data: &[u8],
        value: U256,
    ) -> Result<Bytes, EvmError> {
        let answer = self.call("eth_call", json!([Self::call_object(from, to, data, value), "latest"])).await?;
        serde_json::from_value(answer).map_err(|e| EvmError::Node(e.to_string()))
    }

    /// Gas the call needs (what the node reports as energy).
    pub(crate) async fn estimate(
        &self,
        from: Address,
        to: Option<Address>,
        data: &[u8],
        value: U256,
    ) -> Result<u64, EvmError> {
        let answer = self.call("eth_estimateGas", json!([Self::call_object(from, to, data, value)])).await?;
        let v: U256 = serde_json::from_value(answer).map_err(|e| EvmError::Node(e.to_string()))?;
        Ok(v.to::<u64>())
    }

    /// Executes the call on-chain as `from` (impersonated), with `gas` and a zero gas price: the node charges
    /// TRON's energy fee itself. Returns the EVM transaction's hash.
    pub(crate) async fn execute_as(
        &self,
        from: Address,
        to: Option<Address>,
        data: &[u8],
        value: U256,
        gas: u64,
    ) -> Result<B256, EvmError> {
        self.call("anvil_impersonateAccount", json!([from])).await?;
        let mut tx = Self::call_object(from, to, data, value);
        tx["gas"] = json!(format!("{gas:#x}"));
        let sent = self.call("eth_sendTransaction", json!([tx])).await;
        self.call("anvil_stopImpersonatingAccount", json!([from])).await?;
        serde_json::from_value(sent?).map_err(|e| EvmError::Node(e.to_string()))
    }

    pub(crate) async fn receipt(&self, hash: B256) -> Result<Option<EvmReceipt>, EvmError> {
        let r = self.call("eth_getTransactionReceipt", json!([hash])).await?;
        if r.is_null() {
            return Ok(None);
        }
        let logs: Vec<Value> = field(&r, "logs")?;
        let logs = logs
            .iter()
            .map(|l| Ok(EvmLog { address: field(l, "address")?, topics: field(l, "topics")?, data: field(l, "data")? }))
            .collect::<Result<_, EvmError>>()?;
        Ok(Some(EvmReceipt {
            block_number: quantity(&r, "blockNumber")?,
            success: quantity(&r, "status")? == 1,
            gas_used: quantity(&r, "gasUsed")?,
            contract_address: field(&r, "contractAddress")?,
            logs,
        }))
    }
}
