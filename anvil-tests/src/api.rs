//! A wallet's side of the API, as a browser dApp would do it: sign in with the wallet, ask for a signed
//! register/retopup payload, and send the transaction it describes from the wallet itself (approving the
//! token first when the asset is not the native coin).

use std::time::Duration;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::{SignerSync, local::PrivateKeySigner},
};
use serde_json::{Value, json};

/// The API at `base` (e.g. `http://127.0.0.1:8000`).
#[derive(Clone, Debug)]
pub struct ApiClient {
    /// The API's base URL, without a trailing `/`.
    pub base: String,
    http: reqwest::Client,
}

/// Status and JSON body of an answer (Null when empty or not JSON).
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The JSON body; `Null` when empty or not JSON.
    pub body: Value,
    /// The `Retry-After` header, in seconds, when the answer has one.
    pub retry_after: Option<u64>,
}

impl Answer {
    /// The body when the status is 2xx, else an error naming the path, status and body.
    pub fn ok(self, what: &str) -> eyre::Result<Value> {
        eyre::ensure!((200..300).contains(&self.status), "{what}: HTTP {} {}", self.status, self.body);
        Ok(self.body)
    }

    /// The error code of an error answer (`error.code` in the body), or `<no error code>`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }
}

impl ApiClient {
    /// A client of the API at `base` (a trailing `/` is dropped); requests time out after 30 s.
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("reqwest client builds");
        Self { base: base.into().trim_end_matches('/').to_owned(), http }
    }

    /// Sends `method` to `path`, with `token` as bearer and `body` as JSON when given; an answer of any
    /// status is `Ok`.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> eyre::Result<Answer> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let retry_after =
            res.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let text = res.text().await?;
        Ok(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), retry_after })
    }

    /// `GET path`, with `token` as bearer when given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> eyre::Result<Answer> {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    /// `POST path` with JSON `body`, with `token` as bearer when given.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> eyre::Result<Answer> {
        self.request(reqwest::Method::POST, path, token, Some(body)).await
    }

    /// `POST path` with JSON `body` and an `Idempotency-Key` header, with `token` as bearer.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: Value) -> eyre::Result<Answer> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), retry_after: None })
    }

    /// Whether `GET /health` answers 200.
    pub async fn healthy(&self) -> bool {
        matches!(self.get("/health", None).await, Ok(a) if a.status == 200)
    }

    /// EIP-4361 sign-in with `wallet`; returns the access token.
    pub async fn sign_in(&self, wallet: &PrivateKeySigner) -> eyre::Result<String> {
        let address = wallet.address().to_checksum(None);
        let nonce = self.post("/v1/auth/nonce", None, json!({ "address": address, "chain": "evm" })).await?;
        let nonce = nonce.ok("POST /v1/auth/nonce")?;
        let message = nonce["message"].as_str().ok_or_else(|| eyre::eyre!("nonce answer has no message"))?;
        let signature = alloy::hex::encode_prefixed(wallet.sign_message_sync(message.as_bytes())?.as_bytes());
        let tokens = self.post("/v1/auth/signin", None, json!({ "message": message, "signature": signature })).await?;
        let tokens = tokens.ok("POST /v1/auth/signin")?;
        tokens["access_token"].as_str().map(str::to_owned).ok_or_else(|| eyre::eyre!("sign-in answer has no token"))
    }

    /// Sign-in with a TRON wallet (`wallet`'s key as a TronLink account): the server's message signed as
    /// `signMessageV2` signs it (TRON's signed-message hash); returns the access token.
    pub async fn sign_in_tron(&self, wallet: &PrivateKeySigner) -> eyre::Result<String> {
        let address = abi::tron::to_base58(wallet.address());
        let nonce = self.post("/v1/auth/nonce", None, json!({ "address": address, "chain": "tron" })).await?;
        let nonce = nonce.ok("POST /v1/auth/nonce (tron)")?;
        let message = nonce["message"].as_str().ok_or_else(|| eyre::eyre!("nonce answer has no message"))?;
        let digest = abi::tron::signed_message_hash(message.as_bytes());
        let signature = alloy::hex::encode_prefixed(wallet.sign_hash_sync(&digest)?.as_bytes());
        let tokens = self.post("/v1/auth/signin", None, json!({ "message": message, "signature": signature })).await?;
        let tokens = tokens.ok("POST /v1/auth/signin (tron)")?;
        tokens["access_token"].as_str().map(str::to_owned).ok_or_else(|| eyre::eyre!("sign-in answer has no token"))
    }

    /// `POST /v1/users/register` for an asset on a TRON chain: the sponsor in base58check (`T…`).
    pub async fn register_payload_tron(&self, token: &str, asset_id: i32, sponsor: Address) -> eyre::Result<Value> {
        let body = json!({ "asset_id": asset_id, "sponsor": abi::tron::to_base58(sponsor) });
        self.post("/v1/users/register", Some(token), body).await?.ok("POST /v1/users/register (tron)")
    }

    /// `POST /v1/users/register`: the signed payment for registering under `sponsor`.
    pub async fn register_payload(&self, token: &str, asset_id: i32, sponsor: Address) -> eyre::Result<Value> {
        let body = json!({ "asset_id": asset_id, "sponsor": sponsor.to_checksum(None) });
        self.post("/v1/users/register", Some(token), body).await?.ok("POST /v1/users/register")
    }

    /// `POST /v1/users/register` in a generation-plan asset: the signed payment for buying `package` (base units)
    /// as a registration under `sponsor`.
    pub async fn register_package(
        &self,
        token: &str,
        asset_id: i32,
        sponsor: Address,
        package: u128,
    ) -> eyre::Result<Value> {
        let body =
            json!({ "asset_id": asset_id, "sponsor": sponsor.to_checksum(None), "package": package.to_string() });
        self.post("/v1/users/register", Some(token), body).await?.ok("POST /v1/users/register (package)")
    }

    /// `POST /v1/users/retopup` in a generation-plan asset: the signed payment for buying `package` (base units).
    pub async fn buy_package(&self, token: &str, asset_id: i32, package: u128) -> eyre::Result<Value> {
        let body = json!({ "asset_id": asset_id, "package": package.to_string() });
        self.post("/v1/users/retopup", Some(token), body).await?.ok("POST /v1/users/retopup (package)")
    }

    /// `POST /v1/users/retopup`: the signed payment for a retopup.
    pub async fn retopup_payload(&self, token: &str, asset_id: i32) -> eyre::Result<Value> {
        self.post("/v1/users/retopup", Some(token), json!({ "asset_id": asset_id })).await?.ok("POST /v1/users/retopup")
    }

    /// `GET /v1/users/me`'s standing in `asset_id`, if the ledger has the wallet there.
    pub async fn standing(&self, token: &str, asset_id: i32) -> eyre::Result<Option<Value>> {
        let me = self.get("/v1/users/me", Some(token)).await?.ok("GET /v1/users/me")?;
        let assets = me["assets"].as_array().cloned().unwrap_or_default();
        Ok(assets.into_iter().find(|a| a["asset_id"].as_i64() == Some(i64::from(asset_id))))
    }
}

/// The call of the API's TronWeb-style answer (`contract`, `function_selector`, `parameter`): the contract and the
/// calldata, the selector of `function_selector` followed by `parameter`.
pub fn tron_calldata(call: &Value) -> eyre::Result<(Address, Vec<u8>)> {
    let text = |k: &str| call[k].as_str().ok_or_else(|| eyre::eyre!("TRON call without {k}: {call}"));
    let contract = abi::tron::from_base58(text("contract")?).map_err(|e| eyre::eyre!("{e}"))?;
    let selector = alloy::primitives::keccak256(text("function_selector")?.as_bytes());
    Ok((contract, [&selector[..4], &alloy::hex::decode(text("parameter")?)?[..]].concat()))
}

/// Pays an API answer's `tron` call as a TronLink user's browser does: TronWeb (`scripts/tron/tronlink-pay.mjs`,
/// run by `node` in `root`, the repository with its `node_modules`) builds the calls through the TRON node's HTTP
/// API at `full_host`, signs them with `wallet`'s key and broadcasts them, the USDT approve first when the answer
/// asks for one, each waited for until it is in a block. Returns the script's answer: `address` (`T…`) and `sent`
/// (`what`, `txid`, `block`, `fee` of each transaction).
pub async fn tronlink_pay(
    root: &std::path::Path,
    full_host: &str,
    wallet: &PrivateKeySigner,
    call: &Value,
) -> eyre::Result<Value> {
    let input = json!({ "full_host": full_host, "key": alloy::hex::encode(wallet.to_bytes()), "call": call });
    node_script(root, "scripts/tron/tronlink-pay.mjs", &input).await
}

/// Runs a JavaScript tool of the repository at `root` (with its `node_modules`) as a child process, without
/// blocking the runtime: `input` as JSON on its standard input, its standard output read back as JSON.
pub async fn node_script(root: &std::path::Path, script: &str, input: &Value) -> eyre::Result<Value> {
    use tokio::io::AsyncWriteExt;
    let path = root.join(script);
    eyre::ensure!(path.exists(), "{} is missing: run from the repository", path.display());
    let mut node = tokio::process::Command::new("node")
        .arg(&path)
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = node.stdin.take().expect("piped stdin");
    stdin.write_all(input.to_string().as_bytes()).await?;
    drop(stdin);
    let out = node.wait_with_output().await?;
    eyre::ensure!(
        out.status.success(),
        "{script} ended with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// A provider that signs with `wallet`.
pub fn wallet_provider(rpc_url: &str, wallet: &PrivateKeySigner) -> eyre::Result<DynProvider> {
    Ok(ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(rpc_url.parse()?).erased())
}

fn field<'a>(value: &'a Value, path: &[&str]) -> eyre::Result<&'a str> {
    let mut v = value;
    for key in path {
        v = &v[*key];
    }
    v.as_str().ok_or_else(|| eyre::eyre!("signed payment has no {}", path.join(".")))
}

/// Sends the transaction of a signed payment (the API's `SignedPayment`) from the paying wallet; a token
/// payment approves the contract for the amount first. Returns the block the payment was mined in.
pub async fn pay(provider: &DynProvider, payment: &Value) -> eyre::Result<u64> {
    let to: Address = field(payment, &["transaction", "to"])?.parse()?;
    let value: U256 = field(payment, &["transaction", "value"])?.parse()?;
    let data: Bytes = field(payment, &["transaction", "data"])?.parse()?;
    let token: Address = field(payment, &["payload", "token"])?.parse()?;
    if token != Address::ZERO {
        let amount: U256 = field(payment, &["payload", "amount"])?.parse()?;
        let receipt = abi::TestUSDT::new(token, provider).approve(to, amount).send().await?.get_receipt().await?;
        eyre::ensure!(receipt.status(), "approve reverted");
    }
    let tx = TransactionRequest::default().with_to(to).with_value(value).with_input(data);
    let receipt = provider.send_transaction(tx).await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "{} transaction reverted", payment["kind"]);
    Ok(receipt.block_number.unwrap_or_default())
}

/// Polls `check` every 200 ms until it gives `Some`, or fails after `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> eyre::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = eyre::Result<Option<T>>>,
{
    let until = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        eyre::ensure!(tokio::time::Instant::now() < until, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `wallet`'s signature (0x hex, 65 bytes) of a staff approval's typed data as the API answers it
/// (`AuthorisationView.typed_data.propose` or `.approve`): the `StaffApproval` the signer service recovers.
pub fn sign_staff_approval(wallet: &PrivateKeySigner, typed: &Value) -> eyre::Result<String> {
    let m = &typed["message"];
    let text =
        |v: &Value, what: &str| v.as_str().map(str::to_owned).ok_or_else(|| eyre::eyre!("typed data without {what}"));
    let number = |k: &str| -> eyre::Result<U256> { Ok(text(&m[k], k)?.parse::<U256>()?) };
    let approval = abi::approval::StaffApproval::new(
        &text(&m["action"], "action")?,
        &text(&m["kind"], "kind")?,
        text(&m["payload"], "payload")?.parse()?,
        text(&m["token"], "token")?.parse()?,
        number("total")?,
        number("nonce")?,
        number("deadline")?.to::<u64>(),
    );
    let chain_id = typed["domain"]["chainId"].as_u64().ok_or_else(|| eyre::eyre!("typed data without chainId"))?;
    let contract: Address = text(&typed["domain"]["verifyingContract"], "verifyingContract")?.parse()?;
    let signature = wallet.sign_hash_sync(&approval.digest(chain_id, contract))?;
    Ok(alloy::hex::encode_prefixed(signature.as_bytes()))
}
