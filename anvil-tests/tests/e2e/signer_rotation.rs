//! The signer key rotation drill (ops/signer-rotation.md, issue 50) on anvil, every step as the runbook has the
//! operator do it: the signer binary on a key in a SoftHSM2 token (a token directory of the test's own), a new key
//! made in the token by the key ceremony (`signer hsm-keygen`), the signer restarted holding both, the rotation
//! scheduled by the admin, the contract's delay waited by moving anvil's clock (`evm_increaseTime`), the change
//! applied, and the signer restarted on the new key alone — a payout batch signed and executed before, during and
//! after, and the preflight's signer check passing at every step.

use std::{path::PathBuf, time::Duration};

use abi::Settlement;
use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    devchain::{DevChain, change_now},
    services::{Service, WorkDir, free_port, wait_healthy},
};
use secrecy::SecretString;
use signer_client::{
    SignerClient,
    intent::{Addr, Amount, PayoutBatchIntent, PayoutEntry},
};

use crate::{
    BNB, LIMIT,
    hsm::{Token, module},
};

const SECRET: &str = "drill-only-caller-secret-0123456789abcdef";

/// `[key.pkcs11]` (or `[key.next.pkcs11]`) for `label`, of `address`.
fn key_table(table: &str, label: &str, address: Address) -> String {
    format!(
        "[{table}]\nmodule = \"{}\"\ntoken_label = \"referral-signer\"\nkey_label = \"{label}\"\naddress = \"{address}\"\n\
         pin = {{ env = \"SIGNER_HSM_PIN\" }}\n",
        module().display()
    )
}

/// Writes the signer's config: on `port`, its node the chain itself, with `keys` (the `[key…]` tables).
fn write_config(dir: &WorkDir, chain: &DevChain, port: u16, keys: &str) -> eyre::Result<PathBuf> {
    let secret = dir.write("caller-secret", SECRET)?;
    let config = format!(
        r#"[server]
bind = "127.0.0.1:{port}"
[store]
path = "{store}"
[auth]
callers = [{{ id = "backend", secret = {{ file = "{secret}" }} }}]
[policy]
default_ttl_secs = 900
max_deadline_horizon_secs = 3600
max_batch_entries = 500
[[policy.chains]]
chain_id = {chain_id}
contracts = ["{settlement}"]
treasury_recipients = []
node = {{ rpc_url = "{rpc}", confirmations = 1 }}
[[policy.chains.assets]]
token = "0x0000000000000000000000000000000000000000"
per_payload_cap = "1000000000000000000000"
per_batch_cap = "50000000000000000000000"
daily_outflow_cap = "100000000000000000000000"
{keys}"#,
        store = dir.path.join("signer.sqlite").display(),
        secret = secret.display(),
        chain_id = chain.anvil.chain_id(),
        settlement = chain.settlement,
        rpc = chain.rpc_url(),
    );
    dir.write("signer.toml", &config)
}

/// Payout batch `batch` of one coin to `recipient`: signed by the signer service (by `by`, the contract's signer
/// then), executed by the operator.
async fn payout(
    chain: &DevChain,
    client: &SignerClient,
    recipient: Address,
    batch: u64,
    by: Address,
) -> eyre::Result<()> {
    let intent = PayoutBatchIntent {
        chain_id: chain.anvil.chain_id(),
        contract: Addr(chain.settlement),
        token: Addr(Address::ZERO),
        payouts: vec![PayoutEntry { recipient: Addr(recipient), amount: Amount::from(BNB) }],
        total: None,
        nonce: Some(Amount(abi::nonces::batch_nonce(batch, 0))),
        deadline: None,
        approvals: Vec::new(),
    };
    let signed = client.sign_payout_batch(&intent).await?;
    eyre::ensure!(signed.signer.0 == by, "batch {batch} signed by {} instead of {by}", signed.signer);
    let payload = abi::PayoutBatch {
        token: Address::ZERO,
        total: U256::from(BNB),
        payouts: vec![abi::Payout { recipient, amount: U256::from(BNB) }],
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let receipt = Settlement::new(chain.settlement, &chain.provider)
        .executePayoutBatch(payload, signed.signature.clone())
        .send()
        .await?
        .get_receipt()
        .await?;
    eyre::ensure!(receipt.status(), "batch {batch} reverted");
    Ok(())
}

/// The preflight as the API and the reconciler run it: the signer service asked its key (`GET /v1/signer`), the
/// contract's `signer()` compared with it. Fails on any `signer` finding.
async fn preflight_signer_check(chain: &DevChain, signer_url: &str) -> eyre::Result<Address> {
    let info = preflight::ask_signer(signer_url).await.map_err(|e| eyre::eyre!(e))?;
    let spec_text = anvil_tests::services::chain_spec(
        chain.anvil.chain_id(),
        chain.settlement,
        &chain.rpc_url(),
        1,
        chain.deploy_block,
        None,
    );
    let spec = service_kit::chain_spec::ChainSpecs::parse(&spec_text)?.chains()[0].clone();
    let expect = preflight::Expectations { signer: Some(info.address.0), operator: None };
    let findings = preflight::check_chain_with(&spec, &expect, Some(&info)).await;
    let signer: Vec<_> = findings.iter().filter(|f| f.check == "signer").collect();
    eyre::ensure!(signer.is_empty(), "the preflight's signer check: {signer:#?}");
    Ok(info.address.0)
}

async fn start(dir: &WorkDir, token: &Token, port: u16) -> eyre::Result<(Service, String)> {
    let config = dir.path.join("signer.toml");
    let envs = [("SOFTHSM2_CONF", token.conf.to_str().unwrap()), ("SIGNER_HSM_PIN", token.pin.as_str())];
    let mut signer = Service::start(dir, "signer", "signer", &["--config", config.to_str().unwrap()], &envs)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&format!("{url}/health"), &mut signer, LIMIT).await?;
    Ok((signer, url))
}

#[tokio::test]
async fn the_signer_key_rotation_drill_keeps_payouts_going_before_during_and_after() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("signer-rotation")?;
    let token = Token::new(&dir)?;
    // Set-up: money in, then the contract moved onto the token's first key (as the devnet's, a key ceremony and a
    // rotation from the development key).
    let payer = PrivateKeySigner::random();
    chain.provider.anvil_set_balance(payer.address(), U256::from(200 * BNB)).await?;
    chain.register_native(&payer, chain.admin.address(), U256::from(100 * BNB), 1).await?;
    let first = token.keygen("signer-2025")?;
    change_now(&chain.provider, chain.settlement, Settlement::scheduleSignerRotationCall { newSigner: first }).await?;

    let port = free_port()?;
    write_config(&dir, &chain, port, &key_table("key.pkcs11", "signer-2025", first))?;
    let (mut signer, url) = start(&dir, &token, port).await?;
    let client = SignerClient::new(&url, "backend", SecretString::from(SECRET));
    let recipient = Address::repeat_byte(0xd1);

    // Before.
    assert_eq!(preflight_signer_check(&chain, &url).await?, first);
    payout(&chain, &client, recipient, 1, first).await?;

    // Runbook step 1: the ceremony makes the next key in the token; step 2: the signer restarted holding both.
    let next = token.keygen("signer-2026")?;
    assert_ne!(next, first);
    let keys = format!(
        "{}{}",
        key_table("key.pkcs11", "signer-2025", first),
        key_table("key.next.pkcs11", "signer-2026", next)
    );
    write_config(&dir, &chain, port, &keys)?;
    drop(signer);
    let (restarted, _) = start(&dir, &token, port).await?;
    signer = restarted;
    let info = client.signer_info().await?;
    assert_eq!(info.keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![first, next]);
    assert_eq!(preflight_signer_check(&chain, &url).await?, first, "the contract's signer is still the first key");

    // Step 3: the admin schedules the rotation. During the delay, batches are signed by the first key and execute.
    let settlement = Settlement::new(chain.settlement, &chain.provider);
    let receipt = settlement.scheduleSignerRotation(next).send().await?.get_receipt().await?;
    let id =
        receipt.decoded_log::<Settlement::ChangeScheduled>().ok_or_else(|| eyre::eyre!("no ChangeScheduled"))?.data.id;
    payout(&chain, &client, recipient, 2, first).await?;
    payout(&chain, &client, recipient, 3, first).await?;

    // Step 4: the delay waited (anvil's clock moved on), the change applied.
    let delay: u64 = settlement.changeDelay().call().await?.try_into()?;
    chain.provider.anvil_increase_time(delay).await?;
    chain.provider.evm_mine(None).await?;
    settlement.applyChange(id).send().await?.get_receipt().await?;
    assert_eq!(settlement.signer().call().await?, next);

    // After: the signer follows the contract within a second, and so does what it tells the preflight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while client.signer_info().await?.address.0 != next {
        eyre::ensure!(tokio::time::Instant::now() < deadline, "the signer did not follow the applied rotation");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(preflight_signer_check(&chain, &url).await?, next);
    payout(&chain, &client, recipient, 4, next).await?;

    // Step 5: the signer restarted on the new key alone; the old key may then be destroyed in the token.
    write_config(&dir, &chain, port, &key_table("key.pkcs11", "signer-2026", next))?;
    drop(signer);
    let (_signer, _) = start(&dir, &token, port).await?;
    assert_eq!(client.signer_info().await?.keys.len(), 1);
    assert_eq!(preflight_signer_check(&chain, &url).await?, next);
    payout(&chain, &client, recipient, 5, next).await?;
    assert_eq!(chain.provider.get_balance(recipient).await?, U256::from(5 * BNB), "no batch was lost");
    Ok(())
}
