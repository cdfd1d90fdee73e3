//! The API's preflight: a proven misconfiguration (here the contract trusting another key than the signer
//! service's) refuses the API's start with a message that says what to fix, and the `preflight` command reports
//! it and exits 1; fixed on-chain, the API starts and the command passes.

use alloy::{
    network::EthereumWallet,
    node_bindings::Anvil,
    primitives::Address,
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use backend::{config::ChainSettings, startup::Application};
use ledger::db::ScratchDatabase;

use crate::signer_service::{DEV_ADDRESS, SignerService, spawn_signer_on};

/// BSC testnet's chain id: a key may be the admin there.
const TESTNET: u64 = 97;

fn settings(signer: &SignerService, settlement: Address, rpc_url: &str) -> backend::config::Settings {
    let mut chain = ChainSettings::new(TESTNET, settlement);
    chain.spec.rpc_url = Some(rpc_url.to_owned());
    // The test deploys with anvil's well-known keys: a development chain (the preflight refuses them elsewhere).
    chain.spec.development = true;
    let mut settings = crate::helpers::settings("redis://127.0.0.1:6379", Address::repeat_byte(0xad));
    settings.signer = Some(signer.settings());
    settings.chains = vec![chain];
    settings
}

/// Runs the `preflight` command on a configuration naming the chain spec of `settlement` at `rpc_url`: its exit code
/// and what it printed.
async fn command(dir: &std::path::Path, signer: &SignerService, settlement: Address, rpc_url: &str) -> (i32, String) {
    let spec = dir.join("chains.toml");
    std::fs::write(
        &spec,
        format!(
            "[[chains]]\nchain_id = {TESTNET}\nsettlement = \"{settlement}\"\nrpc_url = \"{rpc_url}\"\n\
             confirmations = 2\nstart_block = 0\ndevelopment = true\n"
        ),
    )
    .unwrap();
    let config = dir.join("configuration.toml");
    let file = include_str!("../../configuration.toml");
    std::fs::write(&config, format!("chain_spec = \"{}\"\n{file}", spec.display())).unwrap();
    let signer = signer.settings();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
        .env("APP_CONFIG", &config)
        .env("APP_SIGNER__URL", &signer.url)
        .env("APP_SIGNER__CALLER_ID", &signer.caller_id)
        .env("APP_SIGNER__CALLER_SECRET", secrecy::ExposeSecret::expose_secret(&signer.caller_secret))
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    anvil_tests::process::code_and_text(output.status, printed)
}

#[tokio::test]
async fn a_contract_trusting_another_signer_refuses_the_start_and_fails_the_command_until_fixed() {
    backend::startup::init_telemetry();
    let anvil = Anvil::new().path(abi::toolchain::foundry_binary("anvil")).chain_id(TESTNET).try_spawn().unwrap();
    let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(admin.clone())).connect_http(anvil.endpoint_url()).erased();
    let stranger = Address::repeat_byte(0x5e);
    let settlement =
        anvil_tests::devchain::deploy_stack(&provider, admin.address(), stranger).await.unwrap().settlement;
    let signer = spawn_signer_on(TESTNET, settlement, &[]).await;
    let db = ScratchDatabase::create("api_preflight").await.unwrap();

    let refused = Application::build_with_pool(settings(&signer, settlement, &anvil.endpoint()), db.pool.clone())
        .await
        .map(|_| ())
        .unwrap_err();
    let said = format!("{refused:#}");
    assert!(said.contains("api: the preflight check failed"), "{said}");
    assert!(
        said.contains(&format!("accepts payloads signed by {stranger}, the signer service signs with {DEV_ADDRESS}")),
        "{said}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, printed) = command(dir.path(), &signer, settlement, &anvil.endpoint()).await;
    assert_eq!(code, 1, "{printed}");
    assert!(
        printed.contains(&format!("FAIL chain {TESTNET} signer:")) && printed.contains("preflight: FAILED"),
        "{printed}"
    );

    // The admin rotates the contract's signer to the service's key: the API starts, the command passes.
    let rotation = abi::Settlement::scheduleSignerRotationCall { newSigner: DEV_ADDRESS };
    anvil_tests::devchain::change_now(&provider, settlement, rotation).await.unwrap();
    Application::build_with_pool(settings(&signer, settlement, &anvil.endpoint()), db.pool.clone())
        .await
        .expect("the API starts once the chain agrees");
    let (code, printed) = command(dir.path(), &signer, settlement, &anvil.endpoint()).await;
    assert_eq!((code, printed.trim_end().lines().last()), (0, Some("preflight: pass")), "{printed}");
}
