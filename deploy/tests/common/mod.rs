//! What the deploy crate's tests share: a local network standing in for a profile's (anvil answering its chain id;
//! on TRON the test node over it, answering the network's genesis block), and a deployment's people — every key
//! fresh (anvil's development keys are public: the deployment refuses them) and funded.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use abi::{TestUSDT, toolchain::foundry_binary};
use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::tron_rpc::{TronFaults, TronRpc};
use deploy::{Options, Profile, TronEndpoints, network::Network};

/// The variable the deployment and the preflight read the API key from: cargo sets it for the tests it runs.
pub const API_KEY_ENV: &str = "CARGO_PKG_NAME";

/// The API key the tron-nile network requires: what [`API_KEY_ENV`] holds.
pub fn api_key() -> String {
    std::env::var(API_KEY_ENV).expect("cargo sets CARGO_PKG_NAME")
}

/// Native coin every key gets (wei; SUN on the TRON test node: a million TRX).
pub const FUNDS: u128 = 1_000_000_000_000;
/// Native coin every key gets on BSC's stand-in (wei: 1,000 BNB; anvil charges gas at its base fee there).
pub const EVM_FUNDS: u128 = 1_000_000_000_000_000_000_000;

/// A deployment's keys, none of them anvil's.
pub struct People {
    pub deployer: PrivateKeySigner,
    pub signer: PrivateKeySigner,
    pub operator: PrivateKeySigner,
    pub treasurer: PrivateKeySigner,
    pub pauser: PrivateKeySigner,
    /// The admin's owners (a Safe's, or a TRON multi-signature account's).
    pub owners: Vec<PrivateKeySigner>,
}

impl People {
    pub fn new() -> Self {
        Self {
            deployer: PrivateKeySigner::random(),
            signer: PrivateKeySigner::random(),
            operator: PrivateKeySigner::random(),
            treasurer: PrivateKeySigner::random(),
            pauser: PrivateKeySigner::random(),
            owners: (0..3).map(|_| PrivateKeySigner::random()).collect(),
        }
    }

    pub fn owner_addresses(&self) -> Vec<Address> {
        self.owners.iter().map(|k| k.address()).collect()
    }
}

/// A local network answering `profile`'s chain id, with a token at the profile's USDT address.
pub struct Local {
    pub profile: Profile,
    pub anvil: AnvilInstance,
    pub provider: DynProvider,
    pub net: Network,
    pub rpc_url: String,
    pub tron: Option<(tron_devnode::TronDevnode, TronRpc)>,
    pub dir: PathBuf,
    pub people: People,
}

impl Local {
    /// The network, its node answering `profile`'s genesis block on TRON.
    pub async fn start(profile: Profile) -> eyre::Result<Self> {
        Self::start_as(profile, profile.genesis_block_id).await
    }

    /// The network, its TRON node answering `genesis` as block 0's id (`None`: its own).
    pub async fn start_as(profile: Profile, genesis: Option<alloy::primitives::B256>) -> eyre::Result<Self> {
        let tron_family = abi::chain::Family::of(profile.chain_id) == abi::chain::Family::Tron;
        let mut anvil = Anvil::new().path(foundry_binary("anvil")).chain_id(profile.chain_id);
        if tron_family {
            anvil = anvil.args(["--base-fee", "0"]); // The TRON test node charges energy itself.
        }
        let anvil = anvil.try_spawn()?;
        let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
        provider.anvil_set_code(profile.usdt, TestUSDT::DEPLOYED_BYTECODE.clone()).await?;
        let people = People::new();
        for key in [&people.deployer, &people.signer, &people.operator, &people.treasurer, &people.pauser]
            .into_iter()
            .chain(&people.owners)
        {
            let funds = if tron_family { FUNDS } else { EVM_FUNDS };
            provider.anvil_set_balance(key.address(), U256::from(funds)).await?;
        }
        // One directory per network (its anvil's port): tests of one profile run side by side.
        let dir = std::env::temp_dir().join(format!("referral-deploy-{}-{}", profile.name, anvil.port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if tron_family {
            // Nile's provider wants an API key (TronGrid's header), on gRPC and JSON-RPC alike; mainnet's none.
            let api_key = (profile.name == "tron-nile").then(api_key);
            let params =
                tron_devnode::Params { api_key: api_key.clone(), genesis_block_id: genesis, ..Default::default() };
            let node = tron_devnode::TronDevnode::start(&anvil.endpoint(), params).await?;
            let rpc = TronRpc::start(&anvil.endpoint(), TronFaults::default()).await?;
            rpc.require_api_key(api_key.as_deref());
            rpc.answer_genesis(genesis);
            let net = Network::tron(&rpc.full_url, &node.grpc_url, api_key)?;
            let rpc_url = rpc.full_url.clone();
            return Ok(Self { profile, anvil, provider, net, rpc_url, tron: Some((node, rpc)), dir, people });
        }
        let rpc_url = anvil.endpoint();
        Ok(Self { profile, net: Network::evm(&rpc_url)?, rpc_url, anvil, provider, tron: None, dir, people })
    }

    pub fn node(&self) -> &tron_devnode::TronDevnode {
        &self.tron.as_ref().expect("a TRON network").0
    }

    /// The deployment's options with `admin`, writing `chains.toml` and `deployment.json` in the network's folder.
    pub fn options(&self, admin: Address) -> Options {
        let p = &self.people;
        Options {
            profile: self.profile,
            rpc_url: self.rpc_url.clone(),
            tron: self.tron.as_ref().map(|(node, rpc)| TronEndpoints {
                grpc_url: node.grpc_url.clone(),
                solidity_grpc_url: Some(node.solidity_grpc_url.clone()),
                solidity_rpc_url: rpc.solidity_url.clone(),
                api_key_env: (self.profile.name == "tron-nile").then(|| API_KEY_ENV.to_owned()),
            }),
            admin,
            signer: p.signer.address(),
            operator: p.operator.address(),
            treasurer: p.treasurer.address(),
            pauser: p.pauser.address(),
            usdt: None,
            delay_secs: None,
            exit_after_secs: None,
            dry_run: false,
            spec: self.dir.join("chains.toml"),
            record: self.dir.join("deployment.json"),
            development: false,
            previous: Vec::new(),
        }
    }

    pub fn keys(&self) -> deploy::Keys {
        deploy::Keys { deployer: self.people.deployer.clone() }
    }

    pub async fn nonce(&self, who: Address) -> eyre::Result<u64> {
        Ok(self.provider.get_transaction_count(who).await?)
    }

    pub async fn view<C: SolCall>(&self, at: Address, call: C) -> eyre::Result<C::Return> {
        Ok(C::abi_decode_returns(&self.net.read(at, call.abi_encode()).await?)?)
    }

    /// A Safe of the people's three owners, 2 of them to sign, deployed by the deployer.
    pub async fn safe(&self) -> eyre::Result<Address> {
        anvil_tests::safe::deploy_safe(&self.net, &self.people.deployer, &self.people.owner_addresses(), 2).await
    }

    /// A TRON multi-signature account of the people's three owners, 2 of them to sign: a fresh key's account,
    /// funded, turned into one by `deploy::tron_multisig::create`.
    pub async fn tron_multisig(&self) -> eyre::Result<Address> {
        let account = PrivateKeySigner::random();
        self.provider.anvil_set_balance(account.address(), U256::from(FUNDS)).await?;
        let mut wallet = self.net.tron_wallet().await?;
        deploy::tron_multisig::create(&mut wallet, &account, &self.people.owner_addresses(), 2, false).await?;
        Ok(account.address())
    }

    /// The JSON record as written.
    pub fn record_json(&self, options: &Options) -> eyre::Result<serde_json::Value> {
        Ok(serde_json::from_str(&std::fs::read_to_string(&options.record)?)?)
    }
}
