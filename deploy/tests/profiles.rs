//! Each profile deployed on the local stand-ins — anvil answering BSC's chain ids, the TRON test node over an anvil
//! answering TRON's — with a real Safe (from npm) as admin: the dry run sends nothing, the deployment creates
//! the contract with its roles held from the start, the record is a chain spec the preflight passes, and an admin
//! action sent through the Safe is scheduled (it waits its delay) while the same call from a key is refused. A
//! mainnet profile refuses a key as admin and a change delay below its minimum.

use std::path::PathBuf;

use abi::{Settlement, TestUSDT, toolchain::foundry_binary};
use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, U256},
    providers::{Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::{
    safe::deploy_safe,
    tron_rpc::{TronFaults, TronRpc},
};
use deploy::{Keys, Options, Profile, TronEndpoints, deploy, network::Network, profile, safe};
use preflight::{Expectations, check_chain};
use service_kit::chain_spec::ChainSpecs;

/// The variable the deployment and the preflight read the API key from: cargo sets it for the tests it runs.
const API_KEY_ENV: &str = "CARGO_PKG_NAME";

/// The API key the tron-nile network requires: what [`API_KEY_ENV`] holds.
fn api_key() -> String {
    std::env::var(API_KEY_ENV).expect("cargo sets CARGO_PKG_NAME")
}

/// A local network answering `profile`'s chain id, with a token at the profile's USDT address.
struct Local {
    anvil: AnvilInstance,
    net: Network,
    rpc_url: String,
    tron: Option<(tron_devnode::TronDevnode, TronRpc)>,
    dir: PathBuf,
}

impl Local {
    async fn start(profile: Profile) -> eyre::Result<Self> {
        let tron_family = abi::chain::Family::of(profile.chain_id) == abi::chain::Family::Tron;
        let mut anvil = Anvil::new().path(foundry_binary("anvil")).chain_id(profile.chain_id);
        if tron_family {
            anvil = anvil.args(["--base-fee", "0"]); // The TRON test node charges energy itself.
        }
        let anvil = anvil.try_spawn()?;
        let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
        provider.anvil_set_code(profile.usdt, TestUSDT::DEPLOYED_BYTECODE.clone()).await?;
        // One directory per network (its anvil's port): tests of one profile run side by side.
        let dir = std::env::temp_dir().join(format!("referral-deploy-{}-{}", profile.name, anvil.port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if tron_family {
            // Nile's provider wants an API key (TronGrid's header), on gRPC and JSON-RPC alike; mainnet's none.
            let api_key = (profile.name == "tron-nile").then(api_key);
            let params = tron_devnode::Params { api_key: api_key.clone(), ..tron_devnode::Params::default() };
            let node = tron_devnode::TronDevnode::start(&anvil.endpoint(), params).await?;
            let rpc = TronRpc::start(&anvil.endpoint(), TronFaults::default()).await?;
            rpc.require_api_key(api_key.as_deref());
            let net = Network::tron(&rpc.full_url, &node.grpc_url, api_key)?;
            let rpc_url = rpc.full_url.clone();
            return Ok(Self { anvil, net, rpc_url, tron: Some((node, rpc)), dir });
        }
        let rpc_url = anvil.endpoint();
        Ok(Self { net: Network::evm(&rpc_url)?, rpc_url, anvil, tron: None, dir })
    }

    fn key(&self, i: usize) -> PrivateKeySigner {
        self.anvil.keys()[i].clone().into()
    }

    fn options(&self, profile: Profile, admin: Address) -> Options {
        Options {
            profile,
            rpc_url: self.rpc_url.clone(),
            tron: self.tron.as_ref().map(|(node, rpc)| TronEndpoints {
                grpc_url: node.grpc_url.clone(),
                solidity_grpc_url: Some(node.solidity_grpc_url.clone()),
                solidity_rpc_url: rpc.solidity_url.clone(),
                api_key_env: (profile.name == "tron-nile").then(|| API_KEY_ENV.to_owned()),
            }),
            admin,
            signer: self.key(1).address(),
            operator: self.key(6).address(),
            treasurer: self.key(7).address(),
            pauser: self.key(8).address(),
            usdt: None,
            delay_secs: None,
            dry_run: false,
            spec: self.dir.join("chains.toml"),
            record: self.dir.join("deployment.json"),
        }
    }

    async fn nonce(&self, who: Address) -> eyre::Result<u64> {
        Ok(ProviderBuilder::new().connect_http(self.anvil.endpoint_url()).get_transaction_count(who).await?)
    }

    async fn view(&self, settlement: Address, call: impl SolCall) -> eyre::Result<alloy::primitives::Bytes> {
        self.net.read(settlement, call.abi_encode()).await
    }
}

async fn deploys_with_a_safe_as_admin(name: &str) -> eyre::Result<()> {
    let p = profile(name)?;
    let local = Local::start(p).await?;
    let deployer = local.key(0);
    let owners: Vec<PrivateKeySigner> = (3..=5).map(|i| local.key(i)).collect();
    let owner_addresses: Vec<Address> = owners.iter().map(|k| k.address()).collect();
    let safe = deploy_safe(&local.net, &deployer, &owner_addresses, 2).await?;
    let options = local.options(p, safe);

    // The dry run: every step printed, nothing sent, nothing written.
    let nonce = local.nonce(deployer.address()).await?;
    let keys = Keys { deployer: deployer.clone() };
    let dry = deploy(&Options { dry_run: true, ..options.clone() }, &keys).await?;
    assert!(dry.record.is_none());
    for expected in [
        format!("answers chain id {}", p.chain_id),
        format!("admin: {safe} is a Safe, 2 of 3 owners"),
        format!("usdt: {} is a contract", p.usdt),
        format!("operator {}, treasurer {}", local.key(6).address(), local.key(7).address()),
        "change delay 259200 s".to_owned(),
        "dry run: nothing was sent, nothing written".to_owned(),
    ] {
        assert!(dry.steps.contains(&expected), "{expected:?} in:\n{}", dry.steps);
    }
    let family = abi::chain::Family::of(p.chain_id);
    if family == abi::chain::Family::Evm {
        let predicted = deployer.address().create(nonce);
        assert!(dry.steps.contains(&format!(" at {predicted}")), "{}", dry.steps);
        assert!(local.net.code(predicted).await?.is_empty(), "nothing created");
    }
    assert_eq!(local.nonce(deployer.address()).await?, nonce, "the dry run sent nothing");
    assert!(!options.spec.exists() && !options.record.exists(), "the dry run wrote nothing");

    // The deployment: created with its roles held from the start.
    let outcome = deploy(&options, &keys).await?;
    let record = outcome.record.expect("a record");
    let settlement = record.settlement;
    assert_eq!(record.roles.len(), 3, "{:?}", record.roles);
    assert_eq!(record.bounds.delay_secs, 3 * 24 * 3600, "the profile's delay");
    for (role, account) in [
        (Settlement::OPERATOR_ROLECall {}.abi_encode(), local.key(6).address()),
        (Settlement::TREASURER_ROLECall {}.abi_encode(), local.key(7).address()),
        (Settlement::PAUSER_ROLECall {}.abi_encode(), local.key(8).address()),
    ] {
        let role = B256::from_slice(&local.net.read(settlement, role).await?);
        let held = local.view(settlement, Settlement::hasRoleCall { role, account }).await?;
        assert!(Settlement::hasRoleCall::abi_decode_returns(&held)?, "{account} holds its role");
    }
    let admin = Settlement::defaultAdminCall::abi_decode_returns(
        &local.view(settlement, Settlement::defaultAdminCall {}).await?,
    )?;
    assert_eq!(admin, safe);
    let push = family.push_gas();
    let token_gas = Settlement::tokenPushGasCall::abi_decode_returns(
        &local.view(settlement, Settlement::tokenPushGasCall {}).await?,
    )?;
    assert_eq!((record.push_gas, token_gas), ((push.native, push.token), U256::from(push.token)));

    // The record: a chain spec the services read (on tron-nile with the API key's variable), which the preflight
    // passes.
    let specs = ChainSpecs::load(&options.spec)?;
    let spec = specs.get(p.chain_id).expect("recorded").clone();
    assert_eq!(
        (spec.settlement, spec.start_block, spec.confirmations),
        (settlement, record.deploy_block, p.confirmations)
    );
    let key_env = spec.tron.as_ref().and_then(|t| t.api_key_env.as_deref());
    assert_eq!(
        key_env,
        (p.name == "tron-nile").then_some(API_KEY_ENV),
        "the key's variable is recorded, never the key"
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&options.record)?)?;
    assert_eq!(json["settlement"].as_str().and_then(|a| a.parse::<Address>().ok()), Some(settlement));
    assert_eq!(json["admin_safe"]["threshold"], 2);
    if local.tron.is_some() {
        assert_eq!(json["settlement_base58"].as_str(), Some(abi::tron::to_base58(settlement).as_str()));
        // Past the solidify depth: the Solidity endpoints trail the head.
        ProviderBuilder::new().connect_http(local.anvil.endpoint_url()).anvil_mine(Some(25), None).await?;
    }
    let expect =
        Expectations { signer: Some(local.key(1).address()), operator: Some((local.key(6).address(), U256::ZERO)) };
    let findings = check_chain(&spec, &expect).await;
    assert!(findings.is_empty(), "{findings:#?}");
    let again = deploy(&options, &keys).await.map(|_| ()).unwrap_err();
    assert!(
        again.to_string().contains("declares chain"),
        "a second deployment is not recorded over the first: {again}"
    );

    // An admin action through the Safe is scheduled (and waits its delay); the same call from a key is refused.
    let raise = Settlement::schedulePushGasCall {
        nativePushGas_: U256::from(push.native),
        tokenPushGas_: U256::from(push.token + 1),
    };
    assert!(local.net.send(&deployer, settlement, raise.abi_encode()).await.is_err(), "the deployer is no admin");
    safe::exec(&local.net, safe, &owners[1..], settlement, raise.abi_encode().into()).await?;
    let pending = Settlement::pendingChangesCall::abi_decode_returns(
        &local.view(settlement, Settlement::pendingChangesCall {}).await?,
    )?;
    assert_eq!(pending.len(), 1, "scheduled through the Safe");
    let token_gas = Settlement::tokenPushGasCall::abi_decode_returns(
        &local.view(settlement, Settlement::tokenPushGasCall {}).await?,
    )?;
    assert_eq!(token_gas, U256::from(push.token), "not before the delay");
    let cancel = Settlement::cancelChangeCall { id: pending[0].id };
    let one_owner = safe::exec(&local.net, safe, &owners[..1], settlement, cancel.abi_encode().into()).await;
    assert!(one_owner.unwrap_err().to_string().contains("needs 2 owner signatures, 1 owner keys given"));
    Ok(())
}

#[tokio::test]
async fn bsc_mainnet_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_safe_as_admin("bsc-mainnet").await
}

#[tokio::test]
async fn bsc_testnet_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_safe_as_admin("bsc-testnet").await
}

#[tokio::test]
async fn tron_mainnet_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_safe_as_admin("tron-mainnet").await
}

#[tokio::test]
async fn tron_nile_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_safe_as_admin("tron-nile").await
}

#[tokio::test]
async fn a_mainnet_profile_refuses_a_key_as_admin_and_a_network_of_another_chain() -> eyre::Result<()> {
    let p = profile("bsc-mainnet")?;
    let local = Local::start(p).await?;
    let deployer = local.key(0);
    let keys = Keys { deployer: deployer.clone() };
    let refused = deploy(&local.options(p, deployer.address()), &keys).await.map(|_| ()).unwrap_err();
    assert!(refused.to_string().contains("is a key; on mainnet it must be a multisig contract"), "{refused}");
    let owners: Vec<Address> = (3..=5).map(|i| local.key(i).address()).collect();
    let safe = deploy_safe(&local.net, &deployer, &owners, 2).await?;
    let short = Options { delay_secs: Some(3600), ..local.options(p, safe) };
    let refused = deploy(&short, &keys).await.map(|_| ()).unwrap_err();
    assert!(refused.to_string().contains("shorter than the network's minimum of 172800 s"), "{refused}");

    let testnet = profile("bsc-testnet")?;
    let sent = local.nonce(deployer.address()).await?;
    let refused = deploy(&local.options(testnet, safe), &keys).await.map(|_| ()).unwrap_err();
    assert!(refused.to_string().contains("bsc-testnet is chain 97"), "{refused}");
    assert_eq!(local.nonce(deployer.address()).await?, sent, "nothing was sent after the test's Safe");

    // A testnet allows a key as admin, and a short delay for a rehearsal.
    let local = Local::start(testnet).await?;
    let options = Options { delay_secs: Some(600), ..local.options(testnet, local.key(0).address()) };
    let outcome = deploy(&options, &Keys { deployer: local.key(0) }).await?;
    let record = outcome.record.expect("deployed");
    assert_eq!(record.bounds.delay_secs, 600, "the rehearsal's delay");
    Ok(())
}
