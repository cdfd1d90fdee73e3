//! The preflight against real chains: a deployment as the devnet makes it passes, and each misconfiguration it
//! exists to catch is caught, with a message that says what to fix — on anvil, and on the TRON test node (its
//! JSON-RPC and gRPC, full and Solidity) over an anvil with Nile's chain id.

use abi::Settlement;
use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::{
    devchain::DevChain,
    tron_rpc::{TronFaults, TronRpc},
};
use preflight::{Expectations, Finding, Level, check_chain};
use service_kit::chain_spec::{ChainSpec, ChainSpecs};

const ETH: u128 = 1_000_000_000_000_000_000;

fn spec(chain_id: u64, settlement: Address, rpc_url: &str, tron: &str) -> ChainSpec {
    let confirmations = if tron.is_empty() { 2 } else { 0 };
    let text = format!(
        "[[chains]]\nchain_id = {chain_id}\nsettlement = \"{settlement}\"\nrpc_url = \"{rpc_url}\"\n\
         confirmations = {confirmations}\nstart_block = 0\n{tron}"
    );
    ChainSpecs::parse(&text).expect("a valid spec").chains()[0].clone()
}

fn of(chain: &DevChain) -> ChainSpec {
    spec(chain.anvil.chain_id(), chain.settlement, &chain.rpc_url(), "")
}

/// What the devnet's API expects: the signer key of anvil's account 1, the operator account 0 with 1 ETH for gas.
fn devnet(chain: &DevChain) -> Expectations {
    Expectations {
        signer: Some(chain.backend_signer.address()),
        operator: Some((chain.admin.address(), U256::from(ETH))),
    }
}

/// The one finding of `check`, asserting there is no other.
fn only<'a>(findings: &'a [Finding], check: &str) -> &'a Finding {
    assert_eq!(findings.len(), 1, "exactly one finding expected: {findings:#?}");
    assert_eq!(findings[0].check, check, "{findings:#?}");
    &findings[0]
}

#[tokio::test]
async fn a_deployment_as_the_devnet_makes_it_passes() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let findings = check_chain(&of(&chain), &devnet(&chain)).await;
    assert!(findings.is_empty(), "{findings:#?}");
    Ok(())
}

#[tokio::test]
async fn an_rpc_url_of_another_chain_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let findings = check_chain(&spec(97, chain.settlement, &chain.rpc_url(), ""), &devnet(&chain)).await;
    let f = only(&findings, "chain_id");
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains("answers chain id 31337, the chain spec declares 97"), "{}", f.message);
    Ok(())
}

#[tokio::test]
async fn a_settlement_that_is_not_this_build_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let id = chain.anvil.chain_id();
    let usdt = check_chain(&spec(id, chain.usdt, &chain.rpc_url(), ""), &devnet(&chain)).await;
    let f = only(&usdt, "code");
    assert!(f.level == Level::Fail && f.message.contains("is not this build's Settlement"), "{}", f.message);
    let nothing = check_chain(&spec(id, Address::repeat_byte(7), &chain.rpc_url(), ""), &devnet(&chain)).await;
    assert!(only(&nothing, "code").message.contains("no contract is deployed there"));
    Ok(())
}

#[tokio::test]
async fn a_contract_signer_other_than_the_signer_services_key_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let service_key = chain.account(5).address();
    let expect = Expectations { signer: Some(service_key), ..devnet(&chain) };
    let findings = check_chain(&of(&chain), &expect).await;
    let f = only(&findings, "signer");
    assert_eq!(f.level, Level::Fail);
    let says = format!(
        "accepts payloads signed by {}, the signer service signs with {service_key}",
        chain.backend_signer.address()
    );
    assert!(f.message.contains(&says), "{}", f.message);
    Ok(())
}

#[tokio::test]
async fn an_operator_without_the_role_fails_and_one_short_of_gas_warns() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let stranger = chain.account(5).address();
    let findings =
        check_chain(&of(&chain), &Expectations { operator: Some((stranger, U256::ZERO)), ..devnet(&chain) }).await;
    let f = only(&findings, "operator_role");
    assert!(f.level == Level::Fail && f.message.contains(&format!("{stranger} lacks OPERATOR_ROLE")), "{}", f.message);

    let admin = chain.admin.address();
    let balance = chain.provider.get_balance(admin).await?;
    let needed = balance + U256::from(1);
    let findings = check_chain(&of(&chain), &Expectations { operator: Some((admin, needed)), ..devnet(&chain) }).await;
    let f = only(&findings, "operator_balance");
    assert_eq!(f.level, Level::Warn);
    assert!(f.message.contains(&format!("holds {balance}")) && f.message.contains(&format!("below the {needed}")));
    Ok(())
}

#[tokio::test]
async fn a_key_as_admin_on_mainnet_is_refused() -> eyre::Result<()> {
    // BSC mainnet's chain id, deployed as the devnet deploys: anvil's account 0, a key, is the admin. (The node is
    // on this machine's loopback: plaintext is allowed there, `tls` is the unit tests'.)
    let chain = DevChain::start_on_chain(56).await?;
    let findings = check_chain(&of(&chain), &devnet(&chain)).await;
    let f = only(&findings, "admin");
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains(&format!("admin {} is a key, not a contract", chain.admin.address())), "{}", f.message);

    // The same build with a contract as admin passes.
    let multisig = chain.usdt; // Any contract: the check asks for code, the Safe deployment is the deploy tool's.
    let holders = abi::deployment::Holders::single(multisig, chain.backend_signer.address());
    let config = abi::deployment::config(
        &holders,
        &[Address::ZERO],
        abi::chain::Family::Evm,
        abi::deployment::Bounds::production(abi::chain::Family::Evm),
    );
    let deployed = Settlement::deploy_builder(&chain.provider, config).send().await?.get_receipt().await?;
    let settlement = deployed.contract_address.expect("a deployment");
    let expect = Expectations { signer: Some(chain.backend_signer.address()), operator: None };
    let findings = check_chain(&spec(56, settlement, &chain.rpc_url(), ""), &expect).await;
    assert!(findings.is_empty(), "{findings:#?}");
    Ok(())
}

#[tokio::test]
async fn push_gas_below_the_familys_figure_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let lower =
        Settlement::schedulePushGasCall { nativePushGas_: U256::from(10_000), tokenPushGas_: U256::from(50_000) };
    anvil_tests::devchain::change_now(&chain.provider, chain.settlement, lower).await?;
    let findings = check_chain(&of(&chain), &devnet(&chain)).await;
    let f = only(&findings, "push_gas");
    assert_eq!(f.level, Level::Fail);
    assert!(
        f.message.contains("forwards 50000 gas to each pushed token payment, below the 100000 a evm chain needs"),
        "{}",
        f.message
    );
    Ok(())
}

#[tokio::test]
async fn an_endpoint_that_does_not_answer_leaves_the_chain_unverified() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let dead = spec(chain.anvil.chain_id(), chain.settlement, "http://127.0.0.1:9", "");
    let findings = check_chain(&dead, &devnet(&chain)).await;
    let f = only(&findings, "rpc");
    assert_eq!(f.level, Level::Unverified);
    assert!(f.message.contains("could not be read") && f.message.contains("the rest is unchecked"));
    Ok(())
}

/// A TRON chain (Nile's id), the stack created through the TRON test node, with its JSON-RPC and gRPC endpoints.
struct Tron {
    chain: DevChain,
    node: tron_devnode::TronDevnode,
    rpc: TronRpc,
}

async fn tron() -> eyre::Result<Tron> {
    let (chain, node) = DevChain::start_tron_through_node(tron_devnode::Params::default()).await?;
    let rpc = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    chain.provider.anvil_mine(Some(25), None).await?;
    Ok(Tron { chain, node, rpc })
}

impl Tron {
    fn spec(&self, solidity_rpc: &str, solidity_grpc: &str) -> ChainSpec {
        let table = format!(
            "[chains.tron]\ngrpc_url = \"{}\"\nsolidity_grpc_url = \"{solidity_grpc}\"\nsolidity_rpc_url = \"{solidity_rpc}\"\n",
            self.node.grpc_url
        );
        spec(self.chain.anvil.chain_id(), self.chain.settlement, &self.rpc.full_url, &table)
    }
}

#[tokio::test]
async fn a_tron_deployment_with_its_solidity_endpoints_passes() -> eyre::Result<()> {
    let t = tron().await?;
    let findings = check_chain(&t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url), &devnet(&t.chain)).await;
    assert!(findings.is_empty(), "TRON push gas, the Solidity endpoints trailing: {findings:#?}");
    Ok(())
}

#[tokio::test]
async fn a_full_node_given_as_tron_solidity_endpoint_is_refused() -> eyre::Result<()> {
    let t = tron().await?;
    let json = check_chain(&t.spec(&t.rpc.full_url, &t.node.solidity_grpc_url), &devnet(&t.chain)).await;
    let f = only(&json, "solidity_trails");
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains("tron.solidity_rpc_url is at block") && f.message.contains("it is a full node"));
    let grpc = check_chain(&t.spec(&t.rpc.solidity_url, &t.node.grpc_url), &devnet(&t.chain)).await;
    let f = only(&grpc, "solidity_trails");
    assert!(f.message.contains("tron.solidity_grpc_url does not serve WalletSolidity"), "{}", f.message);
    Ok(())
}

#[tokio::test]
async fn a_tron_deployment_with_evm_push_gas_is_refused() -> eyre::Result<()> {
    let t = tron().await?;
    let lower =
        Settlement::schedulePushGasCall { nativePushGas_: U256::from(10_000), tokenPushGas_: U256::from(100_000) };
    anvil_tests::devchain::change_now(&t.chain.provider, t.chain.settlement, lower).await?;
    let findings = check_chain(&t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url), &devnet(&t.chain)).await;
    let f = only(&findings, "push_gas");
    assert!(f.message.contains("below the 200000 a tron chain needs"), "{}", f.message);
    Ok(())
}

#[tokio::test]
async fn with_finalized_tag_the_full_nodes_finalized_block_is_checked_instead() -> eyre::Result<()> {
    let t = tron().await?;
    // Only a full node: its JSON-RPC given for both, which the finalized_tag mode accepts.
    let spec = t.spec(&t.rpc.full_url, &t.node.solidity_grpc_url);
    let tagged = ChainSpecs::parse(&format!(
        "[[chains]]\nchain_id = {}\nsettlement = \"{}\"\nrpc_url = \"{}\"\nconfirmations = 0\nstart_block = 0\n\
         [chains.tron]\nsolidity_rpc_url = \"{}\"\nfinality = \"finalized_tag\"\n",
        spec.chain_id, spec.settlement, t.rpc.full_url, t.rpc.full_url
    ))?
    .chains()[0]
        .clone();
    assert!(check_chain(&tagged, &devnet(&t.chain)).await.is_empty());
    // Pointed at the Solidity port instead, whose `finalized` is its own head: refused.
    let solid = ChainSpec { rpc_url: Some(t.rpc.solidity_url.clone()), ..tagged };
    let findings = check_chain(&solid, &devnet(&t.chain)).await;
    let f = only(&findings, "solidity_trails");
    assert!(f.message.contains("is not behind its head"), "{}", f.message);
    Ok(())
}

#[tokio::test]
async fn a_provider_that_requires_an_api_key_is_checked_with_it_and_a_missing_one_is_named() -> eyre::Result<()> {
    let t = tron().await?;
    // The JSON-RPC now wants a key; cargo sets CARGO_PKG_NAME ("preflight") for the tests: it holds the key here.
    t.rpc.require_api_key(Some("preflight"));
    let keyless = t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url);
    let findings = check_chain(&keyless, &devnet(&t.chain)).await;
    let f = only(&findings, "api_key");
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains("refuses the request without a valid API key") && f.message.contains("api_key_env"));

    let with_key = |variable: &str| {
        let mut spec = keyless.clone();
        spec.tron.as_mut().expect("a TRON chain").api_key_env = Some(variable.to_owned());
        spec
    };
    assert!(check_chain(&with_key("CARGO_PKG_NAME"), &devnet(&t.chain)).await.is_empty(), "the key is sent");
    let unset = check_chain(&with_key("REFERRAL_TEST_UNSET_API_KEY"), &devnet(&t.chain)).await;
    assert!(
        only(&unset, "api_key").message.contains("api_key_env names REFERRAL_TEST_UNSET_API_KEY, which is not set")
    );
    Ok(())
}
