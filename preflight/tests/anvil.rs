//! The preflight against real chains: a deployment as the devnet makes it passes, and each misconfiguration it
//! exists to catch is caught, with a message that says what to fix — on anvil, and on the TRON test node (its
//! JSON-RPC and gRPC, full and Solidity) over an anvil with Nile's chain id. Checks skipped for want of what to check
//! against are listed, and no message shows an endpoint's key.

use abi::Settlement;
use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::{
    devchain::DevChain,
    tron_rpc::{TronFaults, TronRpc},
};
use preflight::{Expectations, Finding, Level, NodeInfo, SignerInfo, check_chain, check_chain_with};
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

/// Every finding of `check`.
fn of_check<'a>(findings: &'a [Finding], check: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.check == check).collect()
}

/// A key no tool knows, funded on `chain` for gas.
async fn fresh_key(chain: &DevChain, seed: u8) -> eyre::Result<alloy::signers::local::PrivateKeySigner> {
    let key = alloy::signers::local::PrivateKeySigner::from_bytes(&alloy::primitives::B256::repeat_byte(seed))?;
    chain.provider.anvil_set_balance(key.address(), U256::from(ETH)).await?;
    Ok(key)
}

/// Settlement deployed on `chain` with `holders`, as a mainnet deployment is made (production bounds).
async fn deploy_with(chain: &DevChain, holders: &abi::deployment::Holders) -> eyre::Result<(Address, u64)> {
    let config = abi::deployment::config(
        holders,
        &[Address::ZERO],
        abi::chain::Family::Evm,
        abi::deployment::Bounds::production(abi::chain::Family::Evm),
    );
    let deployed = Settlement::deploy_builder(&chain.provider, config).send().await?.get_receipt().await?;
    Ok((deployed.contract_address.expect("a deployment"), deployed.block_number.expect("mined")))
}

fn spec_at(chain_id: u64, settlement: Address, rpc_url: &str, start_block: u64) -> ChainSpec {
    ChainSpec { start_block, ..spec(chain_id, settlement, rpc_url, "") }
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
async fn a_key_a_contract_that_is_no_safe_or_a_one_key_safe_as_admin_on_mainnet_is_refused() -> eyre::Result<()> {
    // BSC mainnet's chain id, deployed as the devnet deploys: anvil's account 0, a key, is the admin. (The node is
    // on this machine's loopback: plaintext is allowed there, `tls` is the unit tests'.)
    let chain = DevChain::start_on_chain(56).await?;
    let findings = check_chain(&of(&chain), &devnet(&chain)).await;
    let admin = of_check(&findings, "admin");
    assert_eq!(admin.len(), 1, "{findings:#?}");
    assert_eq!(admin[0].level, Level::Fail);
    assert!(admin[0].message.contains(&format!("admin {} is a key, not a contract", chain.admin.address())));

    // A key of its own in each money role; the admin, in turn, a token, a Safe one owner's key alone administers,
    // one of three owners that needs one of them, and one that needs two of three: only the last passes, as the
    // deploy tool would have it.
    let (signer, operator, treasurer, pauser) = (
        fresh_key(&chain, 1).await?,
        fresh_key(&chain, 2).await?,
        fresh_key(&chain, 3).await?,
        fresh_key(&chain, 4).await?,
    );
    let owners: Vec<Address> = (5..8).map(Address::repeat_byte).collect();
    let net = deploy::network::Network::evm(&chain.rpc_url())?;
    let one_of_one = anvil_tests::safe::deploy_safe(&net, &chain.admin, &owners[..1], 1).await?;
    let one_of_three = anvil_tests::safe::deploy_safe(&net, &chain.admin, &owners, 1).await?;
    let two_of_three = anvil_tests::safe::deploy_safe(&net, &chain.admin, &owners, 2).await?;
    let expect = Expectations { signer: Some(signer.address()), operator: Some((operator.address(), U256::ZERO)) };
    let with_admin = async |admin: Address| -> eyre::Result<Vec<Finding>> {
        let holders = abi::deployment::Holders {
            admin,
            signer: signer.address(),
            operators: vec![operator.address()],
            treasurers: vec![treasurer.address()],
            pausers: vec![pauser.address()],
        };
        let (settlement, _) = deploy_with(&chain, &holders).await?;
        Ok(check_chain(&spec(56, settlement, &chain.rpc_url(), ""), &expect).await)
    };
    let token = with_admin(chain.usdt).await?;
    let f = only(&token, "admin");
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains(&format!("admin {} is a contract but not a Safe", chain.usdt)), "{}", f.message);
    for (safe, needs) in [(one_of_one, "it needs 1 of 1 owners' signatures"), (one_of_three, "it needs 1 of 3")] {
        let findings = with_admin(safe).await?;
        let f = only(&findings, "admin");
        assert_eq!(f.level, Level::Fail);
        assert!(f.message.contains(&format!("admin Safe {safe} on mainnet chain 56: {needs}")), "{}", f.message);
    }
    let findings = with_admin(two_of_three).await?;
    assert!(findings.is_empty(), "{findings:#?}");

    // On a testnet a one-key Safe is the operator's choice (the deploy tool allows it), a token never is.
    let testnet = DevChain::start_on_chain(97).await?;
    let net = deploy::network::Network::evm(&testnet.rpc_url())?;
    let safe = anvil_tests::safe::deploy_safe(&net, &testnet.admin, &owners[..1], 1).await?;
    for (admin, refused) in [(safe, false), (testnet.usdt, true)] {
        let key = testnet.admin.address();
        let holders = abi::deployment::Holders {
            admin,
            signer: testnet.backend_signer.address(),
            operators: vec![key],
            treasurers: vec![key],
            pausers: vec![key],
        };
        let (settlement, _) = deploy_with(&testnet, &holders).await?;
        let findings = check_chain(&spec(97, settlement, &testnet.rpc_url(), ""), &devnet(&testnet)).await;
        assert_eq!(of_check(&findings, "admin").len(), usize::from(refused), "{admin}: {findings:#?}");
    }
    Ok(())
}

#[tokio::test]
async fn one_key_in_two_money_roles_on_mainnet_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start_on_chain(56).await?;
    let (operator, pauser) = (fresh_key(&chain, 2).await?, fresh_key(&chain, 4).await?);
    // The operator is also the treasurer; the pauser is also the signer; the admin a Safe, 2 of 3.
    let owners: Vec<Address> = (5..8).map(Address::repeat_byte).collect();
    let net = deploy::network::Network::evm(&chain.rpc_url())?;
    let holders = abi::deployment::Holders {
        admin: anvil_tests::safe::deploy_safe(&net, &chain.admin, &owners, 2).await?,
        signer: pauser.address(),
        operators: vec![operator.address()],
        treasurers: vec![operator.address()],
        pausers: vec![pauser.address()],
    };
    let (settlement, _) = deploy_with(&chain, &holders).await?;
    let expect = Expectations { signer: Some(pauser.address()), operator: Some((operator.address(), U256::ZERO)) };
    let findings = check_chain(&spec(56, settlement, &chain.rpc_url(), ""), &expect).await;
    let shared = of_check(&findings, "money_roles");
    assert_eq!((shared.len(), findings.len()), (2, 2), "{findings:#?}");
    let said =
        |account: Address| shared.iter().find(|f| f.subject == account.to_string()).expect("a finding").message.clone();
    assert!(
        said(operator.address())
            .contains(&format!("{} is the contract's operator and treasurer on mainnet chain 56", operator.address()))
    );
    assert!(said(pauser.address()).contains("is the contract's signer and pauser"), "{}", said(pauser.address()));
    assert!(shared.iter().all(|f| f.level == Level::Fail));
    // With no operator configured, the holders granted at the deployment block are found all the same.
    let unnamed = Expectations { signer: Some(pauser.address()), operator: None };
    let findings = check_chain(&spec(56, settlement, &chain.rpc_url(), ""), &unnamed).await;
    assert_eq!(of_check(&findings, "money_roles").len(), 2, "{findings:#?}");
    assert_eq!(of_check(&findings, "operator")[0].level, Level::Skipped);
    Ok(())
}

#[tokio::test]
async fn anvils_well_known_keys_are_refused_but_on_a_development_chain() -> eyre::Result<()> {
    // BSC testnet's id, deployed as the devnet deploys: anvil's account 0 is admin and every money role, account 1
    // the signer.
    let chain = DevChain::start_on_chain(97).await?;
    let findings = check_chain(&of(&chain), &devnet(&chain)).await;
    let dev = of_check(&findings, "dev_key");
    assert_eq!((dev.len(), findings.len()), (5, 5), "signer, admin, operator, treasurer, pauser: {findings:#?}");
    assert!(dev.iter().all(|f| f.level == Level::Fail), "refused, not only warned: {dev:#?}");
    let signer = chain.backend_signer.address();
    let says_signer = dev.iter().find(|f| f.subject == format!("signer:{signer}")).expect("the signer");
    assert!(
        says_signer
            .message
            .contains(&format!("the contract's signer is {signer}, anvil's well-known development account #1")),
        "{}",
        says_signer.message
    );
    let admin = chain.admin.address();
    for power in ["admin", "operator", "treasurer", "pauser"] {
        assert!(dev.iter().any(|f| f.subject == format!("{power}:{admin}")), "{power}: {findings:#?}");
    }
    // Declared a development chain (a testnet id may be), the same deployment passes; on 31337 it always does.
    let declared = ChainSpec { development: true, ..of(&chain) };
    assert!(check_chain(&declared, &devnet(&chain)).await.is_empty());
    let devnet_chain = DevChain::start().await?;
    assert!(check_chain(&of(&devnet_chain), &devnet(&devnet_chain)).await.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_start_block_after_the_deployment_block_is_refused_naming_it() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    chain.provider.anvil_mine(Some(10), None).await?;
    let (id, deployed) = (chain.anvil.chain_id(), chain.deploy_block);
    let late = check_chain(&spec_at(id, chain.settlement, &chain.rpc_url(), deployed + 3), &devnet(&chain)).await;
    let f = only(&late, "start_block");
    assert_eq!(f.level, Level::Fail);
    assert!(
        f.message
            .contains(&format!("start_block {} is after the contract's deployment block {deployed}", deployed + 3)),
        "{}",
        f.message
    );
    for fine in [deployed, deployed - 1, 0] {
        let findings = check_chain(&spec_at(id, chain.settlement, &chain.rpc_url(), fine), &devnet(&chain)).await;
        assert!(findings.is_empty(), "start_block {fine}: {findings:#?}");
    }
    // Past the head: the contract exists, so it was deployed before.
    let ahead = check_chain(&spec_at(id, chain.settlement, &chain.rpc_url(), 1_000_000), &devnet(&chain)).await;
    assert_eq!(only(&ahead, "start_block").level, Level::Fail);
    Ok(())
}

#[tokio::test]
async fn skipped_checks_are_listed_with_why_and_pass() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let findings = check_chain(&of(&chain), &Expectations::default()).await;
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(findings.iter().all(|f| f.level == Level::Skipped));
    let id = chain.anvil.chain_id();
    let operator = of_check(&findings, "operator");
    assert!(
        operator[0]
            .message
            .contains(&format!("no operator configured for chain {id}: its role and balance are unchecked")),
        "{findings:#?}"
    );
    assert!(of_check(&findings, "signer")[0].message.contains("the signer service's key is not known here"));
    let (text, pass) = preflight::render(&findings);
    assert!(pass, "{text}");
    assert!(text.contains(&format!("SKIPPED chain {id} operator: no operator configured")), "{text}");
    Ok(())
}

/// The signer's node of another chain, one without TLS on mainnet, and (issue 67) one that counts blocks confirmed
/// deeper than the chain spec: the API builds each commitment as of the listener's confirmed block, which such a signer
/// refuses every time (the rehearsal's signer copied mainnet's 15 beside the testnet spec's 5).
#[tokio::test]
async fn the_signer_services_node_of_another_chain_or_without_tls_on_mainnet_is_refused() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let id = chain.anvil.chain_id();
    let node = |chain_id, answers, tls, loopback| NodeInfo {
        chain_id,
        tls,
        loopback,
        answers_chain_id: Some(answers),
        confirmations: Some(2),
        error: None,
    };
    let info = |nodes: Vec<NodeInfo>, approvals: bool| SignerInfo {
        address: signer_client::intent::Addr(Address::ZERO),
        keys: vec![],
        nodes,
        approvals,
    };
    let check = |nodes: Vec<NodeInfo>| {
        let spec = of(&chain);
        let expect = devnet(&chain);
        let signer = info(nodes, false);
        async move { check_chain_with(&spec, &expect, Some(&signer)).await }
    };
    assert!(check(vec![node(id, id, false, true)]).await.is_empty(), "its own node of this chain, on its loopback");
    let other = check(vec![node(id, 97, false, true)]).await;
    let f = only(&other, "signer_node");
    assert_eq!(f.level, Level::Fail);
    assert!(
        f.message.contains(&format!(
            "own node of chain {id} ([policy.chains.node] rpc_url in the signer's configuration) answers chain id 97"
        )),
        "{}",
        f.message
    );
    // The spec's confirmations are 2: a signer confirming 2 (or fewer) passes, 3 fails with what to set.
    let shallower = NodeInfo { confirmations: Some(0), ..node(id, id, false, true) };
    assert!(check(vec![shallower]).await.is_empty(), "a signer confirming fewer blocks signs every commitment");
    let deeper = check(vec![NodeInfo { confirmations: Some(3), ..node(id, id, false, true) }]).await;
    let f = only(&deeper, "signer_node");
    assert_eq!(f.level, Level::Fail);
    assert!(
        f.message.contains("confirmed 3 blocks below its head, the chain spec 2")
            && f.message.contains("confirmations to at most 2"),
        "{}",
        f.message
    );
    let older = check(vec![NodeInfo { confirmations: None, ..node(id, id, false, true) }]).await;
    assert!(older.is_empty(), "a signer that does not say is not judged: {older:#?}");
    let none = check(vec![node(1, 1, true, false)]).await;
    let f = only(&none, "signer_node");
    assert_eq!(f.level, Level::Skipped);
    assert!(f.message.contains(&format!("the signer service has no node of its own for chain {id}")), "{}", f.message);

    // On mainnet, plaintext beyond the signer's machine is refused.
    let mainnet = DevChain::start_on_chain(56).await?;
    let spec = of(&mainnet);
    let plain = check_chain_with(&spec, &devnet(&mainnet), Some(&info(vec![node(56, 56, false, false)], true))).await;
    let tls = of_check(&plain, "signer_node");
    assert_eq!(tls.len(), 1, "{plain:#?}");
    assert!(tls[0].level == Level::Fail && tls[0].message.contains("without TLS"), "{}", tls[0].message);
    let over_tls = check_chain_with(&spec, &devnet(&mainnet), Some(&info(vec![node(56, 56, true, false)], true))).await;
    assert!(of_check(&over_tls, "signer_node").is_empty(), "{over_tls:#?}");
    assert!(of_check(&over_tls, "signer_approvals").is_empty(), "a signer that requires approvals: {over_tls:#?}");
    Ok(())
}

/// Issue 65: a signer without `[policy.approvals]` passed the preflight of a mainnet. It fails now; on another chain
/// (a rehearsal, the devnet) it is not a finding.
#[tokio::test]
async fn a_mainnet_signer_without_approvals_fails_the_preflight() -> eyre::Result<()> {
    let info = |approvals: bool| SignerInfo {
        address: signer_client::intent::Addr(Address::ZERO),
        keys: vec![],
        nodes: vec![],
        approvals,
    };
    let mainnet = DevChain::start_on_chain(56).await?;
    let spec = of(&mainnet);
    let without = check_chain_with(&spec, &devnet(&mainnet), Some(&info(false))).await;
    let found = of_check(&without, "signer_approvals");
    assert_eq!(found.len(), 1, "{without:#?}");
    let f = found[0];
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains("without staff approvals") && f.message.contains("[policy.approvals]"), "{}", f.message);
    let with = check_chain_with(&spec, &devnet(&mainnet), Some(&info(true))).await;
    assert!(of_check(&with, "signer_approvals").is_empty(), "{with:#?}");
    let devchain = DevChain::start().await?;
    let dev = check_chain_with(&of(&devchain), &devnet(&devchain), Some(&info(false))).await;
    assert!(of_check(&dev, "signer_approvals").is_empty(), "not a mainnet: {dev:#?}");
    Ok(())
}

#[tokio::test]
async fn an_endpoint_key_is_never_shown_in_a_finding_or_the_report() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let key = "64a9df0874fb4a93b9d0a3849de012d3";
    let url = format!("http://user:pass@127.0.0.1:9/v1/{key}?apikey={key}");
    let findings = check_chain(&spec(chain.anvil.chain_id(), chain.settlement, &url, ""), &devnet(&chain)).await;
    let f = only(&findings, "rpc");
    assert!(f.message.contains("http://***@127.0.0.1:9/v1/***?apikey=***"), "{}", f.message);
    let (text, _) = preflight::render(&findings);
    let json = serde_json::to_string(&findings)?;
    for shown in [&f.message, &text, &json] {
        assert!(!shown.contains(key) && !shown.contains("user:pass"), "{shown}");
    }
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
    tron_with(tron_devnode::Params::default()).await
}

/// As [`tron`], the test node started with `params`.
async fn tron_with(params: tron_devnode::Params) -> eyre::Result<Tron> {
    let (chain, node) = DevChain::start_tron_through_node(params).await?;
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
        // The stand-in's roles are anvil's keys: a development chain, as the devnet declares it.
        ChainSpec {
            development: true,
            ..spec(self.chain.anvil.chain_id(), self.chain.settlement, &self.rpc.full_url, &table)
        }
    }
}

#[tokio::test]
async fn a_tron_deployment_with_its_solidity_endpoints_passes() -> eyre::Result<()> {
    let t = tron().await?;
    let findings = check_chain(&t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url), &devnet(&t.chain)).await;
    assert!(findings.is_empty(), "TRON push gas, the Solidity endpoints trailing: {findings:#?}");
    Ok(())
}

/// On TRON the API's epochs are as of the solidified block whatever the signer's node counts (a Solidity node's head is
/// that block, a full node's is ahead of it): a signer confirming a block deeper than the spec's 0 is no finding there.
#[tokio::test]
async fn on_tron_the_signers_confirmations_are_not_compared_with_the_specs() -> eyre::Result<()> {
    let t = tron().await?;
    let spec = t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url);
    assert_eq!(spec.confirmations, 0);
    let node = NodeInfo {
        chain_id: spec.chain_id,
        tls: false,
        loopback: true,
        answers_chain_id: Some(spec.chain_id),
        confirmations: Some(1),
        error: None,
    };
    let signer = SignerInfo {
        address: signer_client::intent::Addr(Address::ZERO),
        keys: vec![],
        nodes: vec![node],
        approvals: false,
    };
    let findings = check_chain_with(&spec, &devnet(&t.chain), Some(&signer)).await;
    assert!(of_check(&findings, "signer_node").is_empty(), "{findings:#?}");
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
         development = true\n[chains.tron]\nsolidity_rpc_url = \"{}\"\nfinality = \"finalized_tag\"\n",
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

#[tokio::test]
async fn a_tron_endpoint_of_another_network_is_refused() -> eyre::Result<()> {
    let t = tron().await?;
    let good = t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url);
    assert!(check_chain(&good, &devnet(&t.chain)).await.is_empty());
    // A second TRON network with the same chain id and another genesis block (Nile's id): its gRPC endpoints given
    // for the first.
    let nile: alloy::primitives::B256 =
        "0x0000000000000000d698d4192c56cb6be724a558448e2684802de4d6cd8690dc".parse().unwrap();
    let other = tron_with(tron_devnode::Params { genesis_block_id: Some(nile), ..Default::default() }).await?;
    let mut wrong_full = good.clone();
    wrong_full.tron.as_mut().expect("TRON").grpc_url = Some(other.node.grpc_url.clone());
    let findings = check_chain(&wrong_full, &devnet(&t.chain)).await;
    let f = only(&findings, "tron_network");
    assert_eq!((f.level, f.subject.as_str()), (Level::Fail, "tron.grpc_url"));
    assert!(
        f.message.contains("tron.grpc_url answers genesis block") && f.message.contains("nodes of different networks"),
        "{}",
        f.message
    );
    let mut wrong_solid = good.clone();
    wrong_solid.tron.as_mut().expect("TRON").solidity_grpc_url = Some(other.node.solidity_grpc_url.clone());
    let findings = check_chain(&wrong_solid, &devnet(&t.chain)).await;
    let network = of_check(&findings, "tron_network");
    assert_eq!(network.len(), 1, "{findings:#?}");
    assert_eq!(network[0].subject, "tron.solidity_grpc_url");
    Ok(())
}

#[test]
fn a_genesis_block_id_carries_its_networks_chain_id() {
    // TRON mainnet's and Nile's genesis block ids.
    let mainnet: alloy::primitives::B256 =
        "0x00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc".parse().unwrap();
    let nile: alloy::primitives::B256 =
        "0x0000000000000000d698d4192c56cb6be724a558448e2684802de4d6cd8690dc".parse().unwrap();
    assert_eq!(preflight::tron_network::chain_id_of_genesis(mainnet), abi::chain::TRON_MAINNET);
    assert_eq!(preflight::tron_network::chain_id_of_genesis(nile), abi::chain::TRON_NILE);
}

#[tokio::test]
async fn on_tron_anvils_keys_are_refused_but_on_a_development_chain_and_a_late_start_block_found_by_its_event()
-> eyre::Result<()> {
    let t = tron().await?;
    let declared = t.spec(&t.rpc.solidity_url, &t.node.solidity_grpc_url);
    // Nile's id, not declared a development chain: anvil's keys in every power are refused.
    let nile = ChainSpec { development: false, ..declared.clone() };
    let findings = check_chain(&nile, &devnet(&t.chain)).await;
    assert_eq!(of_check(&findings, "dev_key").len(), 5, "{findings:#?}");
    // TRON's JSON-RPC serves no historical state: the deployment block is the block of the constructor's event.
    let late = ChainSpec { start_block: t.chain.deploy_block + 1, ..declared };
    let findings = check_chain(&late, &devnet(&t.chain)).await;
    let f = only(&findings, "start_block");
    assert!(
        f.message.contains(&format!("after the contract's deployment block {}", t.chain.deploy_block)),
        "{}",
        f.message
    );
    Ok(())
}
