//! Each profile deployed on the local stand-ins — anvil answering BSC's chain ids, the TRON test node over an anvil
//! answering TRON's chain ids and genesis blocks — with a multisig admin: a real Safe (from npm) on BSC and Nile, a
//! TRON multi-signature account on TRON mainnet. The dry run sends nothing; the deployment creates the contract with
//! its roles held from the start; the record is a chain spec the preflight passes, and a JSON record a rerun finds
//! complete (nothing sent again); an admin action through the multisig is scheduled (it waits its delay) while the
//! same call from a key, or from one owner alone, is refused. What a deployment refuses is in `refusals.rs`.

mod common;

use abi::{Settlement, chain::Family};
use alloy::{
    primitives::{Address, B256, U256},
    providers::ext::AnvilApi,
    sol_types::SolCall,
};
use common::{API_KEY_ENV, Local};
use deploy::{Keys, Options, admin::Action, deploy, profile, safe, tron_multisig};
use preflight::{Expectations, Level, check_chain};
use service_kit::chain_spec::ChainSpecs;

/// The admin of a profile's deployment: a Safe, or on TRON mainnet a multi-signature account.
async fn multisig(local: &Local) -> eyre::Result<Address> {
    if local.profile.name == "tron-mainnet" { local.tron_multisig().await } else { local.safe().await }
}

async fn deploys_with_a_multisig_as_admin(name: &str) -> eyre::Result<()> {
    let p = profile(name)?;
    let local = Local::start(p).await?;
    let people = &local.people;
    let deployer = people.deployer.clone();
    let admin = multisig(&local).await?;
    let options = local.options(admin);
    let keys = local.keys();

    // The dry run: every step printed, nothing sent, nothing written.
    let nonce = local.nonce(deployer.address()).await?;
    let dry = deploy(&Options { dry_run: true, ..options.clone() }, &keys).await?;
    assert!(dry.record.is_none());
    let admin_line = if p.name == "tron-mainnet" {
        format!("admin: {} is a multi-signature account, owner permission 2 of 3 keys", abi::tron::to_base58(admin))
    } else {
        let shown =
            if Family::of(p.chain_id) == Family::Tron { abi::tron::to_base58(admin) } else { admin.to_string() };
        format!("admin: {shown} is a Safe 1.4.1, 2 of 3 owners")
    };
    for expected in [
        format!("answers chain id {}", p.chain_id),
        admin_line,
        format!("usdt: {} is a contract", p.usdt),
        format!("operator {}, treasurer {}", people.operator.address(), people.treasurer.address()),
        "change delay 604800 s".to_owned(),
        "dry run: nothing was sent, nothing written".to_owned(),
    ] {
        assert!(dry.steps.contains(&expected), "{expected:?} in:\n{}", dry.steps);
    }
    let family = Family::of(p.chain_id);
    if let Some(genesis) = p.genesis_block_id {
        assert!(dry.steps.contains(&format!("genesis block {genesis}")), "{}", dry.steps);
    }
    if family == Family::Evm {
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
    assert_eq!(record.bounds.delay_secs, 7 * 24 * 3600, "the profile's delay");
    for (role, account) in [
        (Settlement::OPERATOR_ROLECall {}.abi_encode(), people.operator.address()),
        (Settlement::TREASURER_ROLECall {}.abi_encode(), people.treasurer.address()),
        (Settlement::PAUSER_ROLECall {}.abi_encode(), people.pauser.address()),
    ] {
        let role = B256::from_slice(&local.net.read(settlement, role).await?);
        assert!(local.view(settlement, Settlement::hasRoleCall { role, account }).await?, "{account} holds its role");
    }
    assert_eq!(local.view(settlement, Settlement::defaultAdminCall {}).await?, admin);
    let push = family.push_gas();
    let token_gas = local.view(settlement, Settlement::tokenPushGasCall {}).await?;
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
    let json = local.record_json(&options)?;
    assert_eq!(json["status"], "complete");
    assert_eq!(json["settlement"].as_str().and_then(|a| a.parse::<Address>().ok()), Some(settlement));
    assert_eq!(
        json["constructor"]["operators"][0].as_str().and_then(|a| a.parse().ok()),
        Some(people.operator.address())
    );
    assert_eq!(json["creation"]["tx"].as_str().and_then(|t| t.parse().ok()), Some(record.deploy_tx));
    if p.name == "tron-mainnet" {
        let owners = &json["admin_tron"]["owner"];
        assert_eq!(owners["threshold"], 2);
        assert_eq!(owners["keys"].as_array().map(Vec::len), Some(3));
        assert!(json["admin_safe"].is_null());
    } else {
        assert_eq!(json["admin_safe"]["threshold"], 2);
        assert_eq!(json["admin_safe"]["version"], "1.4.1");
        assert_eq!(json["admin_safe"]["owners"].as_array().map(Vec::len), Some(3));
    }
    // What the dApp's build takes from the record: the chain, the contract and the proof of solvency's maximum age.
    assert_eq!(json["chain_id"], p.chain_id);
    assert_eq!(json["proof_max_age_blocks"], p.proof_max_age_blocks());
    if local.tron.is_some() {
        assert_eq!(json["settlement_base58"].as_str(), Some(abi::tron::to_base58(settlement).as_str()));
        // Past the solidify depth: the Solidity endpoints trail the head.
        local.provider.anvil_mine(Some(25), None).await?;
    }
    let expect =
        Expectations { signer: Some(people.signer.address()), operator: Some((people.operator.address(), U256::ZERO)) };
    let findings = check_chain(&spec, &expect).await;
    let bad: Vec<_> = findings.iter().filter(|f| matches!(f.level, Level::Fail | Level::Unverified)).collect();
    assert!(bad.is_empty(), "{findings:#?}");

    // A rerun with the record finds it complete and sends nothing; another record of the same chain is refused.
    let sent = local.nonce(deployer.address()).await?;
    let again = deploy(&options, &keys).await?;
    assert!(again.steps.contains("already deployed"), "{}", again.steps);
    assert_eq!(again.record.map(|r| r.settlement), Some(settlement));
    assert_eq!(local.nonce(deployer.address()).await?, sent, "a complete deployment is not made again");
    let elsewhere = Options { record: local.dir.join("other.json"), ..options.clone() };
    let refused = deploy(&elsewhere, &keys).await.map(|_| ()).unwrap_err();
    assert!(
        refused.to_string().contains("declares chain"),
        "a second deployment is not recorded over the first: {refused}"
    );

    // An admin action through the multisig is scheduled (and waits its delay); the same call from a key, or from one
    // owner alone, is refused.
    let raise = Action::SchedulePushGas { native: push.native, token: push.token + 1 };
    assert!(local.net.send(&deployer, settlement, raise.calldata()).await.is_err(), "the deployer is no admin");
    if p.name == "tron-mainnet" {
        let mut wallet = local.net.tron_wallet().await?;
        let (file, permission) = tron_multisig::build_call(
            &mut wallet,
            settlement,
            admin,
            &raise,
            100_000_000,
            std::time::Duration::from_secs(3600),
        )
        .await?;
        assert_eq!((permission.id, permission.threshold), (2, 2), "the active permission, 2 of 3");
        let one = tron_multisig::sign(&file, &people.owners[1])?;
        let alone = tron_multisig::send(&mut wallet, &one).await.map(|_| ()).unwrap_err();
        assert!(alone.to_string().contains("weight of 1 of the 2"), "{alone}");
        let two = tron_multisig::sign(&one, &people.owners[2])?;
        tron_multisig::send(&mut wallet, &two).await?;
    } else {
        let one_owner = safe::exec(&local.net, admin, &people.owners[..1], settlement, raise.calldata().into()).await;
        assert!(one_owner.unwrap_err().to_string().contains("needs 2 owner signatures, 1 owner keys given"));
        safe::exec(&local.net, admin, &people.owners[1..], settlement, raise.calldata().into()).await?;
    }
    let pending = local.view(settlement, Settlement::pendingChangesCall {}).await?;
    assert_eq!(pending.len(), 1, "scheduled through the multisig");
    assert_eq!(Some(pending[0].id), raise.change_id(), "the id the tool predicts is the contract's");
    let token_gas = local.view(settlement, Settlement::tokenPushGasCall {}).await?;
    assert_eq!(token_gas, U256::from(push.token), "not before the delay");
    Ok(())
}

#[tokio::test]
async fn bsc_mainnet_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_multisig_as_admin("bsc-mainnet").await
}

#[tokio::test]
async fn bsc_testnet_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_multisig_as_admin("bsc-testnet").await
}

#[tokio::test]
async fn tron_mainnet_deploys_with_a_multi_signature_account_as_admin() -> eyre::Result<()> {
    deploys_with_a_multisig_as_admin("tron-mainnet").await
}

#[tokio::test]
async fn tron_nile_deploys_with_a_safe_as_admin() -> eyre::Result<()> {
    deploys_with_a_multisig_as_admin("tron-nile").await
}

/// A testnet allows a key as admin and a short delay for a rehearsal; the deployment's keys are still no anvil key.
#[tokio::test]
async fn a_testnet_allows_a_key_as_admin_and_a_short_delay() -> eyre::Result<()> {
    let testnet = profile("bsc-testnet")?;
    let local = Local::start(testnet).await?;
    let admin = local.people.owners[0].address();
    let options = Options { delay_secs: Some(600), ..local.options(admin) };
    let outcome = deploy(&options, &Keys { deployer: local.people.deployer.clone() }).await?;
    assert!(
        outcome.steps.contains(&format!("admin: {admin} is a key (allowed on bsc-testnet only)")),
        "{}",
        outcome.steps
    );
    let record = outcome.record.expect("deployed");
    assert_eq!(record.bounds.delay_secs, 600, "the rehearsal's delay");
    assert!(record.admin_safe.is_none());
    Ok(())
}

/// A provider's key in the RPC URL is never printed: the dry run's steps show the endpoint redacted. An address of
/// nobody's key (zero) in any role is refused before anything is asked of the network.
#[tokio::test]
async fn a_dry_run_shows_no_provider_key_and_refuses_a_zero_role() -> eyre::Result<()> {
    let testnet = profile("bsc-testnet")?;
    let local = Local::start(testnet).await?;
    let admin = local.people.owners[0].address();
    let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let options = local.options(admin);
    let keyed = Options { rpc_url: format!("{}/?apikey={key}", options.rpc_url), dry_run: true, ..options.clone() };
    let dry = deploy(&keyed, &local.keys()).await?;
    assert!(!dry.steps.contains(key), "{}", dry.steps);
    assert!(dry.steps.contains("?apikey=*** answers chain id 97"), "{}", dry.steps);
    for (role, zeroed) in [
        ("signer", Options { signer: Address::ZERO, ..keyed.clone() }),
        ("operator", Options { operator: Address::ZERO, ..keyed.clone() }),
        ("admin", Options { admin: Address::ZERO, ..keyed.clone() }),
    ] {
        let refused = deploy(&zeroed, &local.keys()).await.map(|_| ()).unwrap_err().to_string();
        assert!(refused.contains(&format!("the {role} is the zero address")), "{refused}");
    }
    Ok(())
}
