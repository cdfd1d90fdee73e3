//! A throwaway anvil with the Settlement contract deployed, and the signer key of anvil's account 1, for
//! tests that need real chain behaviour (mining, reorgs, logs).

use abi::{NATIVE_TOKEN, Registration, Retopup, Settlement, SettlementDomain, TestUSDT, toolchain::foundry_binary};
use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::{
        SignerSync,
        local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
    },
    sol_types::SolStruct,
};

pub use crate::deployment::Deployment;

/// anvil's default mnemonic (development only).
pub const ANVIL_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// anvil's well-known account `index` (0: contract admin, 1: signer key in development).
pub fn anvil_account(index: u32) -> eyre::Result<PrivateKeySigner> {
    Ok(MnemonicBuilder::<English>::default().phrase(ANVIL_MNEMONIC).index(index)?.build()?)
}

/// A running anvil with the development stack deployed, and the keys and addresses tests use.
pub struct DevChain {
    /// The anvil process (stopped when dropped).
    pub anvil: AnvilInstance,
    /// anvil account 0: contract admin.
    pub admin: PrivateKeySigner,
    /// anvil account 1: the backend signer's key (development only).
    pub backend_signer: PrivateKeySigner,
    /// A provider on anvil that signs as `admin`.
    pub provider: DynProvider,
    /// The Settlement contract.
    pub settlement: Address,
    /// The 6-decimal, false-returning test USDT, allowed by the contract.
    pub usdt: Address,
    /// The second test token of a generation-plan asset, once [`add_generation_token`](Self::add_generation_token)
    /// deployed it.
    pub generation_token: Option<Address>,
    /// Test tokens deployed and allowed with the contract, not yet given an asset ([`Deployment::spare_tokens`]).
    pub spare_tokens: Vec<Address>,
    /// The Settlement contract's EIP-712 domain, which [`sign`](Self::sign) signs under.
    pub domain: SettlementDomain,
    /// Block of the Settlement deployment (where a listener starts).
    pub deploy_block: u64,
}

/// Schedules a change of the contract's money powers with `schedule` (one of `Settlement`'s `schedule…` calls, sent
/// by `provider`'s wallet, the admin), moves anvil's clock past the change delay, mines, and applies it: what takes
/// days on a real network, at once on an anvil. Returns the change's id.
pub async fn change_now(
    provider: &DynProvider,
    settlement: Address,
    schedule: impl alloy::sol_types::SolCall,
) -> eyre::Result<alloy::primitives::B256> {
    use alloy::{providers::ext::AnvilApi, rpc::types::TransactionRequest};
    let contract = Settlement::new(settlement, provider);
    let request = TransactionRequest::default().to(settlement).input(schedule.abi_encode().into());
    let receipt = provider.send_transaction(request).await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "the schedule call reverted");
    let id = receipt
        .decoded_log::<Settlement::ChangeScheduled>()
        .ok_or_else(|| eyre::eyre!("no ChangeScheduled event"))?
        .data
        .id;
    let delay: u64 = contract.changeDelay().call().await?.try_into()?;
    provider.anvil_increase_time(delay).await?;
    provider.evm_mine(None).await?;
    contract.applyChange(id).send().await?.get_receipt().await?;
    Ok(id)
}

/// How many spare test tokens [`deploy_stack`] deploys before the contract and allows beside the USDT (one more is
/// deployed after it: see [`Deployment::spare_tokens`]).
pub const SPARE_TOKENS: usize = 2;

/// Deploys the test USDT, [`SPARE_TOKENS`] + 1 further test tokens and Settlement (native coin and every test token
/// allowed) from `admin`'s provider, with `signer` as the authorising key and `admin` holding the operator,
/// treasurer and pauser roles from the start, with the development bounds (`abi::deployment::Bounds::development`:
/// a change waits two minutes). Development only: production splits the roles across a multisig and hot keys.
pub async fn deploy_stack(provider: &DynProvider, admin: Address, signer: Address) -> eyre::Result<Deployment> {
    let chain_id = provider.get_chain_id().await?;
    let usdt = *TestUSDT::deploy(provider).await?.address();
    let mut spare_tokens = Vec::with_capacity(SPARE_TOKENS);
    for _ in 0..SPARE_TOKENS {
        spare_tokens.push(*TestUSDT::deploy(provider).await?.address());
    }
    // The last spare token is deployed after the contract, at the address the deployer's next nonce gives it (the
    // contract's constructor allows an address, whatever it holds yet): the contract keeps the address the
    // development deployment records name (deployments/devnet-anvil.json), deployed after the first tokens.
    let settlement_nonce = provider.get_transaction_count(admin).pending().await?;
    let late_token = admin.create(settlement_nonce + 1);
    let tokens: Vec<Address> =
        [NATIVE_TOKEN, usdt].into_iter().chain(spare_tokens.iter().copied()).chain([late_token]).collect();
    let config = abi::deployment::config(
        &abi::deployment::Holders::single(admin, signer),
        &tokens,
        abi::chain::Family::of(chain_id),
        abi::deployment::Bounds::development(),
    );
    let receipt = Settlement::deploy_builder(provider, config).send().await?.get_receipt().await?;
    let settlement = receipt.contract_address.ok_or_else(|| eyre::eyre!("deployment has no contract address"))?;
    let late = *TestUSDT::deploy(provider).await?.address();
    eyre::ensure!(
        late == late_token,
        "the last spare token landed at {late}, not at the {late_token} the contract allows"
    );
    spare_tokens.push(late);
    Ok(Deployment {
        chain_id,
        settlement,
        usdt,
        generation_token: None,
        binary_token: None,
        spare_tokens,
        deploy_block: receipt.block_number.unwrap_or_default(),
        admin,
        signer,
    })
}

impl DevChain {
    /// Spawns anvil (auto-mining) and deploys the development stack (see [`deploy_stack`]).
    pub async fn start() -> eyre::Result<Self> {
        Self::start_with(Anvil::new()).await
    }

    /// As [`start`](Self::start), on an anvil that answers chain id `chain_id` (BSC's 56 or 97, say).
    pub async fn start_on_chain(chain_id: u64) -> eyre::Result<Self> {
        Self::start_with(Anvil::new().chain_id(chain_id)).await
    }

    /// As [`start`](Self::start), but blocks also come every second without transactions (anvil's mixed
    /// mining), as on a real chain: a listener's confirmations then arrive by themselves.
    pub async fn start_mining() -> eyre::Result<Self> {
        Self::start_with(Anvil::new().block_time(1).arg("--mixed-mining")).await
    }

    /// As [`start_mining`](Self::start_mining), on a chain whose clock runs `offset_secs` ahead of the host's (behind
    /// when negative): its genesis is stamped that far off and its blocks keep the distance, as a devnet whose clock
    /// was moved a week on, or a host whose clock drifted.
    pub async fn start_mining_offset(offset_secs: i64) -> eyre::Result<Self> {
        let host = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let genesis = host.saturating_add_signed(offset_secs);
        Self::start_with(Anvil::new().block_time(1).arg("--mixed-mining").arg("--timestamp").arg(genesis.to_string()))
            .await
    }

    /// As [`start`](Self::start), with Nile's chain id and a zero base fee: the chain a TRON stand-in
    /// ([`crate::tron_rpc::TronRpc`], `tron-devnode`) fronts; the TRON test node charges energy itself.
    pub async fn start_tron() -> eyre::Result<Self> {
        Self::start_with(Self::tron_anvil()).await
    }

    /// An anvil with Nile's chain id and a zero base fee.
    fn tron_anvil() -> Anvil {
        Anvil::new().chain_id(NILE_CHAIN_ID).args(["--base-fee", "0"])
    }

    /// As [`start_tron`](Self::start_tron), with the TRON test node over the anvil, and the contracts created the
    /// TRON way through it ([`crate::tron_deploy::deploy_stack_tron`]).
    pub async fn start_tron_through_node(
        params: tron_devnode::Params,
    ) -> eyre::Result<(Self, tron_devnode::TronDevnode)> {
        let anvil = Self::tron_anvil().path(foundry_binary("anvil")).try_spawn()?;
        let node = tron_devnode::TronDevnode::start(&anvil.endpoint(), params).await?;
        let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
        let signer: PrivateKeySigner = anvil.keys()[1].clone().into();
        let deployment =
            crate::tron_deploy::deploy_stack_tron(&node.grpc_url, NILE_CHAIN_ID, &admin, signer.address()).await?;
        Ok((Self::with_deployment(anvil, deployment)?, node))
    }

    async fn start_with(anvil: Anvil) -> eyre::Result<Self> {
        let anvil = anvil.path(foundry_binary("anvil")).try_spawn()?;
        let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
        let backend_signer: PrivateKeySigner = anvil.keys()[1].clone().into();
        let provider = Self::provider_for(&anvil, &admin);
        let deployment = deploy_stack(&provider, admin.address(), backend_signer.address()).await?;
        Self::with_deployment(anvil, deployment)
    }

    fn with_deployment(anvil: AnvilInstance, deployment: Deployment) -> eyre::Result<Self> {
        let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
        let backend_signer: PrivateKeySigner = anvil.keys()[1].clone().into();
        let provider = Self::provider_for(&anvil, &admin);
        let domain = SettlementDomain::new(deployment.chain_id, deployment.settlement);
        Ok(Self {
            anvil,
            admin,
            backend_signer,
            provider,
            settlement: deployment.settlement,
            usdt: deployment.usdt,
            generation_token: deployment.generation_token,
            spare_tokens: deployment.spare_tokens,
            domain,
            deploy_block: deployment.deploy_block,
        })
    }

    /// The deployment's addresses, as `devnet-deploy` writes them.
    pub fn deployment(&self) -> Deployment {
        Deployment {
            chain_id: self.anvil.chain_id(),
            settlement: self.settlement,
            usdt: self.usdt,
            generation_token: self.generation_token,
            binary_token: None,
            spare_tokens: self.spare_tokens.clone(),
            deploy_block: self.deploy_block,
            admin: self.admin.address(),
            signer: self.backend_signer.address(),
        }
    }

    /// Deploys a successor Settlement (an upgrade, `ops/upgrades.md`): the same holders, tokens and bounds as the
    /// stack's, on the same chain. The chain's payments still go to the current contract until
    /// [`use_contract`](Self::use_contract) switches them. Returns the new contract and its deployment block.
    pub async fn deploy_successor(&self) -> eyre::Result<(Address, u64)> {
        let tokens: Vec<Address> =
            [NATIVE_TOKEN, self.usdt].into_iter().chain(self.spare_tokens.iter().copied()).collect();
        let config = abi::deployment::config(
            &abi::deployment::Holders::single(self.admin.address(), self.backend_signer.address()),
            &tokens,
            abi::chain::Family::of(self.anvil.chain_id()),
            abi::deployment::Bounds::development(),
        );
        // Deployed from an account of its own (anvil's #8; the holders are named in the config): the admin's key
        // also sends the services' commitments, and a nonce the test's provider cached would race theirs.
        let deployer = Self::provider_for(&self.anvil, &self.account(8));
        let receipt = Settlement::deploy_builder(&deployer, config).send().await?.get_receipt().await?;
        let contract = receipt.contract_address.ok_or_else(|| eyre::eyre!("deployment has no contract address"))?;
        Ok((contract, receipt.block_number.unwrap_or_default()))
    }

    /// Sends this chain's payments (and signs their payloads) for `contract` from now on: the live contract after an
    /// upgrade, or an old one again to act on it while it is wound down.
    pub fn use_contract(&mut self, contract: Address) {
        self.settlement = contract;
        self.domain = SettlementDomain::new(self.anvil.chain_id(), contract);
    }

    /// Takes the deployment's first spare token (deployed and allowed with the contract) for a generation-plan
    /// asset: the deployment then has [`GENERATION_ASSET`] too.
    pub async fn add_generation_token(&mut self) -> eyre::Result<Address> {
        let token = *self.spare_tokens.first().ok_or_else(|| eyre::eyre!("no spare token deployed"))?;
        self.generation_token = Some(token);
        Ok(token)
    }

    /// Moves anvil's clock on to the end of the week of the plan whose weeks start at `week_origin` that the latest
    /// block is in, and mines a block there: that block closes the week. Returns the week's end.
    pub async fn mine_at_week_end(&self, week_origin: u64) -> eyre::Result<u64> {
        use alloy::providers::ext::AnvilApi;
        let latest = self.provider.get_block_by_number(Default::default()).await?;
        let now = latest.ok_or_else(|| eyre::eyre!("no latest block"))?.header.timestamp;
        let week = ledger::plan::generation::WEEK_SECS;
        let end = week_origin + ((now.saturating_sub(week_origin)) / week + 1) * week;
        self.provider.anvil_set_next_block_timestamp(end).await?;
        self.provider.evm_mine(None).await?;
        Ok(end)
    }

    /// anvil's HTTP JSON-RPC endpoint.
    pub fn rpc_url(&self) -> String {
        self.anvil.endpoint()
    }

    /// A provider on `anvil`'s HTTP endpoint that signs with `wallet`.
    pub fn provider_for(anvil: &AnvilInstance, wallet: &PrivateKeySigner) -> DynProvider {
        ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(anvil.endpoint_url()).erased()
    }

    /// anvil's account `i` as a wallet.
    pub fn account(&self, i: usize) -> PrivateKeySigner {
        self.anvil.keys()[i].clone().into()
    }

    /// Signs `payload` with the development signer key, as the signer service would.
    pub fn sign<T: SolStruct>(&self, payload: &T) -> Bytes {
        let digest = self.domain.digest(payload);
        Bytes::from(self.backend_signer.sign_hash_sync(&digest).expect("dev key signs").as_bytes().to_vec())
    }

    /// Timestamp of the latest block plus one hour.
    pub async fn deadline(&self) -> eyre::Result<U256> {
        let latest = self.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
        let now = latest.map(|b| b.header.timestamp).unwrap_or_default();
        Ok(U256::from(now + 3_600))
    }

    /// `user` pays `amount` of the native coin to register under `sponsor` with `nonce`; returns the receipt's
    /// block number.
    pub async fn register_native(
        &self,
        user: &PrivateKeySigner,
        sponsor: Address,
        amount: U256,
        nonce: u64,
    ) -> eyre::Result<u64> {
        let payload = Registration {
            user: user.address(),
            sponsor,
            token: NATIVE_TOKEN,
            amount,
            nonce: U256::from(nonce),
            deadline: self.deadline().await?,
        };
        let signature = self.sign(&payload);
        let settlement = self.as_user(user);
        mined_block(settlement.register(payload, signature).value(amount).send().await?, "register").await
    }

    /// `user` pays a native-coin retopup of `amount` with `nonce`; returns the receipt's block number.
    pub async fn retopup_native(&self, user: &PrivateKeySigner, amount: U256, nonce: u64) -> eyre::Result<u64> {
        let payload = Retopup {
            user: user.address(),
            token: NATIVE_TOKEN,
            amount,
            nonce: U256::from(nonce),
            deadline: self.deadline().await?,
        };
        let signature = self.sign(&payload);
        let settlement = self.as_user(user);
        mined_block(settlement.retopup(payload, signature).value(amount).send().await?, "retopup").await
    }

    /// `user` pays `amount` of test USDT (minted by itself first, then approved) to register under `sponsor`.
    pub async fn register_usdt(
        &self,
        user: &PrivateKeySigner,
        sponsor: Address,
        amount: U256,
        nonce: u64,
    ) -> eyre::Result<u64> {
        // Anyone may mint the test token: the user does, so the admin's nonces are left to the admin.
        let usdt = TestUSDT::new(self.usdt, Self::provider_for(&self.anvil, user));
        mined_block(usdt.mint(user.address(), amount).send().await?, "mint").await?;
        mined_block(usdt.approve(self.settlement, amount).send().await?, "approve").await?;
        let payload = Registration {
            user: user.address(),
            sponsor,
            token: self.usdt,
            amount,
            nonce: U256::from(nonce),
            deadline: self.deadline().await?,
        };
        let signature = self.sign(&payload);
        mined_block(self.as_user(user).register(payload, signature).send().await?, "register").await
    }

    fn as_user(&self, user: &PrivateKeySigner) -> Settlement::SettlementInstance<DynProvider> {
        Settlement::new(self.settlement, Self::provider_for(&self.anvil, user))
    }
}

/// Waits for the receipt; the block number it was mined in, or an error if it reverted.
async fn mined_block(
    pending: alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
    what: &str,
) -> eyre::Result<u64> {
    let receipt = pending.get_receipt().await?;
    eyre::ensure!(receipt.status(), "{what} reverted");
    Ok(receipt.block_number.unwrap_or_default())
}

/// A scratch ledger database holding the native coin of `chain_id` as asset 1 (default plan, 18 decimals),
/// with `genesis` as its root user.
pub async fn native_ledger_db(chain_id: u64, genesis: Address) -> eyre::Result<ledger::db::ScratchDatabase> {
    let db = ledger::db::ScratchDatabase::create("anvil_ledger").await?;
    let spec = ledger::AssetSpec {
        id: 1,
        chain_id,
        token: Address::ZERO,
        symbol: "BNB".into(),
        decimals: 18,
        genesis,
        params: ledger::plan::PlanParams::defaults(18),
    };
    ledger::create_asset(&db.pool, &spec).await?;
    Ok(db)
}

/// TRON Nile's chain id (the last four bytes of its genesis block id), used by the TRON stand-in chains.
pub const NILE_CHAIN_ID: u64 = abi::chain::TRON_NILE;

/// Ledger id of the native coin asset of a development deployment.
pub const NATIVE_ASSET: i32 = 1;
/// Ledger id of the test USDT asset of a development deployment.
pub const USDT_ASSET: i32 = 2;
/// Ledger id of the test USDT asset on the devnet's TRON chain (an anvil with a TRON chain id).
pub const TRON_USDT_ASSET: i32 = 3;
/// Ledger id of the devnet's generation-plan asset (PLAN-GENERATION.md), on the deployment's second test token.
pub const GENERATION_ASSET: i32 = 4;

/// Ledger id of the devnet's binary-plan asset (PLAN-BINARY.md), on the deployment's third test token.
pub const BINARY_ASSET: i32 = 5;

/// The two assets of a development deployment (native coin, 18 decimals; test USDT, 6 decimals), default
/// plans, the contract admin as genesis user.
pub fn deployment_assets(deployment: &Deployment) -> [ledger::AssetSpec; 2] {
    let spec = |id, token, symbol: &str, decimals: u8| ledger::AssetSpec {
        id,
        chain_id: deployment.chain_id,
        token,
        symbol: symbol.into(),
        decimals,
        genesis: deployment.admin,
        params: ledger::plan::PlanParams::defaults(u32::from(decimals)),
    };
    [spec(NATIVE_ASSET, Address::ZERO, "BNB", 18), spec(USDT_ASSET, deployment.usdt, "USDT", 6)]
}

/// The USDT asset of a deployment on a TRON chain ([`TRON_USDT_ASSET`], 6 decimals, default plan, the contract
/// admin as genesis user).
pub fn tron_deployment_asset(deployment: &Deployment) -> ledger::AssetSpec {
    ledger::AssetSpec {
        id: TRON_USDT_ASSET,
        chain_id: deployment.chain_id,
        token: deployment.usdt,
        symbol: "USDT".into(),
        decimals: 6,
        genesis: deployment.admin,
        params: ledger::plan::PlanParams::defaults(6),
    }
}

/// The generation-plan asset of a deployment that has a generation token ([`GENERATION_ASSET`], "GUSDT", 6
/// decimals, PLAN-GENERATION.md's defaults but for `week_origin`, the contract admin as genesis user). Its weeks
/// start so that the current one ends five minutes after `now` (unix seconds): a development chain can then close a
/// week by moving its clock minutes on, not days, which would leave every payload signed by the wall clock expired.
pub fn generation_deployment_asset(
    deployment: &Deployment,
    now: u64,
) -> Option<ledger::AssetSpec<ledger::plan::generation::GenerationParams>> {
    let mut params = ledger::plan::generation::GenerationParams::defaults(6);
    params.week_origin = (now + 300).saturating_sub(ledger::plan::generation::WEEK_SECS);
    Some(ledger::AssetSpec {
        id: GENERATION_ASSET,
        chain_id: deployment.chain_id,
        token: deployment.generation_token?,
        symbol: "GUSDT".into(),
        decimals: 6,
        genesis: deployment.admin,
        params,
    })
}

/// The binary-plan asset of a deployment that has a binary token ([`BINARY_ASSET`], "BUSDT", 6 decimals,
/// PLAN-BINARY.md's defaults but for weekly periods whose current one ends ten minutes after `now` (unix seconds),
/// after the generation asset's week (see [`generation_deployment_asset`]): a development chain closes a period by
/// moving its clock minutes on. A 5 % withdrawal fee, so that its payouts show one.
pub fn binary_deployment_asset(
    deployment: &Deployment,
    now: u64,
) -> Option<ledger::AssetSpec<ledger::plan::binary::BinaryParams>> {
    use ledger::plan::binary::{BinaryParams, PeriodKind, WEEK_SECS};
    let params = BinaryParams {
        period: PeriodKind::Week,
        week_origin: (now + 600).saturating_sub(WEEK_SECS),
        withdrawal_fee_bps: 500,
        ..BinaryParams::defaults(6)
    };
    Some(ledger::AssetSpec {
        id: BINARY_ASSET,
        chain_id: deployment.chain_id,
        token: deployment.binary_token?,
        symbol: "BUSDT".into(),
        decimals: 6,
        genesis: deployment.admin,
        params,
    })
}

/// Creates the assets of [`deployment_assets`] (and the generation asset, if the deployment has its token) in a
/// migrated ledger database, skipping those that exist.
pub async fn create_deployment_assets(pool: &sqlx::PgPool, deployment: &Deployment) -> eyre::Result<()> {
    create_assets(pool, deployment_assets(deployment)).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    create_assets(pool, generation_deployment_asset(deployment, now)).await
}

/// Creates `specs` in a migrated ledger database, skipping those that exist.
pub async fn create_assets<P: ledger::plan::PlanRules + serde::Serialize>(
    pool: &sqlx::PgPool,
    specs: impl IntoIterator<Item = ledger::AssetSpec<P>>,
) -> eyre::Result<()> {
    for spec in specs {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM assets WHERE id = $1)")
            .bind(spec.id)
            .fetch_one(pool)
            .await?;
        if !exists {
            ledger::create_asset(pool, &spec).await?;
        }
    }
    Ok(())
}
