//! A real anvil with the Settlement contract deployed (the deployer every crate's tests use), and the signer service
//! reading that anvil as its own node: what the refund and chain-clock tests run against.

use abi::{NATIVE_TOKEN, Settlement, toolchain::foundry_binary};
use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use signer::{
    api::SignResponse,
    intent::{
        Addr, Amount, LiabilityRootIntent, PayoutBatchIntent, PayoutEntry, RegisterIntent, TreasuryTransferIntent,
    },
    policy::{NodeConfig, PolicyConfig},
};

use crate::support::*;

pub(crate) const ETH: u128 = 1_000_000_000_000_000_000;

/// A chain: anvil, its admin (operator, treasurer and pauser too) and the deployed Settlement contract, whose signer
/// is anvil's key #1 — the signer service's development key.
pub(crate) struct Chain {
    pub anvil: AnvilInstance,
    pub chain_id: u64,
    pub admin: PrivateKeySigner,
    /// A provider signing as the admin.
    pub provider: DynProvider,
    pub settlement: Address,
}

impl Chain {
    /// `anvil` (any arguments: a chain id, a genesis timestamp) started, the contract deployed.
    pub(crate) async fn start(anvil: Anvil) -> eyre::Result<Chain> {
        let anvil = anvil.path(foundry_binary("anvil")).try_spawn()?;
        let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
        let provider = provider_for(&anvil, &admin);
        let deployment = anvil_tests::devchain::deploy_stack(&provider, admin.address(), signer_address()).await?;
        Ok(Chain { chain_id: deployment.chain_id, anvil, admin, provider, settlement: deployment.settlement })
    }

    /// anvil's account `i`.
    pub(crate) fn account(&self, i: usize) -> PrivateKeySigner {
        self.anvil.keys()[i].clone().into()
    }

    /// The contract, as `wallet` sends to it.
    pub(crate) fn settlement_as(&self, wallet: &PrivateKeySigner) -> Settlement::SettlementInstance<DynProvider> {
        Settlement::new(self.settlement, provider_for(&self.anvil, wallet))
    }

    /// The contract, as the admin sends to it.
    pub(crate) fn settlement(&self) -> Settlement::SettlementInstance<DynProvider> {
        Settlement::new(self.settlement, self.provider.clone())
    }

    /// The latest block's number and timestamp: the chain's time.
    pub(crate) async fn latest(&self) -> (u64, u64) {
        let block = self.provider.get_block_by_number(Default::default()).await.unwrap().unwrap();
        (block.header.number, block.header.timestamp)
    }

    /// Mines `blocks` blocks.
    pub(crate) async fn mine(&self, blocks: u64) {
        self.provider.anvil_mine(Some(blocks), None).await.unwrap();
    }

    /// Mines one block at `timestamp` (anvil's clock goes on from there).
    pub(crate) async fn mine_at(&self, timestamp: u64) {
        self.provider.anvil_set_next_block_timestamp(timestamp).await.unwrap();
        self.provider.evm_mine(None).await.unwrap();
    }

    /// The signer service reading this chain as its own node (`confirmations` deep), allowing the native coin
    /// (100 coins a payload or batch, 1 000 a day) with `TREASURY` as treasury recipient.
    pub(crate) async fn signer(&self, confirmations: u64) -> (TestApp, tempfile::TempDir) {
        self.signer_reading(self.anvil.endpoint(), confirmations).await
    }

    /// As [`Self::signer`], its node at `rpc_url` (a TRON JSON-RPC port in front of this anvil, say).
    pub(crate) async fn signer_reading(&self, rpc_url: String, confirmations: u64) -> (TestApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let app = self.signer_in(dir.path().join("signer.sqlite"), rpc_url, confirmations, |_| {}).await;
        (app, dir)
    }

    /// As [`Self::signer_reading`], its store at `store`, its native asset's policy as `edit` leaves it.
    pub(crate) async fn signer_in(
        &self,
        store: std::path::PathBuf,
        rpc_url: String,
        confirmations: u64,
        edit: impl FnOnce(&mut signer::policy::AssetConfig),
    ) -> TestApp {
        self.signer_with_policy(store, rpc_url, confirmations, edit, |_| {}).await
    }

    /// As [`Self::signer_in`], its whole policy then as `edit` leaves it ([policy.approvals], say).
    pub(crate) async fn signer_with_policy(
        &self,
        store: std::path::PathBuf,
        rpc_url: String,
        confirmations: u64,
        asset: impl FnOnce(&mut signer::policy::AssetConfig),
        edit: impl FnOnce(&mut PolicyConfig),
    ) -> TestApp {
        let mut settings = settings(store);
        settings.policy = PolicyConfig::native_only(
            self.chain_id,
            self.settlement,
            vec![TREASURY],
            100 * ETH,
            100 * ETH,
            1_000 * ETH,
        );
        settings.policy.chains[0].node = Some(NodeConfig { rpc_url, confirmations });
        asset(&mut settings.policy.chains[0].assets[0]);
        edit(&mut settings.policy);
        TestApp::spawn(settings).await
    }

    /// `user` registers under the admin, paying `amount` with `signed` (the signer's answer to a register intent).
    pub(crate) async fn pay_register(&self, user: &PrivateKeySigner, signed: &SignResponse) -> eyre::Result<()> {
        let asked: RegisterIntent = serde_json::from_value(signed.payload.clone())?;
        let payload = abi::Registration {
            user: asked.user.0,
            sponsor: asked.sponsor.0,
            token: asked.token.0,
            amount: asked.amount.0,
            nonce: signed.nonce.0,
            deadline: U256::from(signed.deadline),
        };
        let settlement = self.settlement_as(user);
        let sent = settlement.register(payload, signed.signature.clone()).value(asked.amount.0);
        let receipt = sent.send().await?.get_receipt().await?;
        eyre::ensure!(receipt.status(), "register reverted");
        Ok(())
    }

    /// Executes the signed treasury transfer `signed` (a refund, say) as the treasurer.
    pub(crate) async fn transfer(&self, signed: &SignResponse) -> eyre::Result<()> {
        let settlement = self.settlement();
        let call = settlement.transferTreasury(treasury_payload(signed)?, signed.signature.clone());
        let receipt = call.send().await?.get_receipt().await?;
        eyre::ensure!(receipt.status(), "transferTreasury reverted");
        Ok(())
    }

    /// Whether the signed treasury transfer could execute now (an `eth_call` of it at the latest block).
    pub(crate) async fn transfer_would_execute(&self, signed: &SignResponse) -> bool {
        let payload = treasury_payload(signed).unwrap();
        self.settlement().transferTreasury(payload, signed.signature.clone()).call().await.is_ok()
    }

    /// Has `app` sign a liability root of the native coin with total 0 as of the confirmed block (`confirmations`
    /// below the head), epoch `epoch`, and commits it: treasury transfers need a recent commitment.
    pub(crate) async fn commit_nothing_owed(&self, app: &TestApp, confirmations: u64, epoch: u64) -> eyre::Result<()> {
        self.commit_root(app, confirmations, epoch, B256::repeat_byte(epoch as u8), 0, 0).await
    }

    /// As [`Self::commit_nothing_owed`], the root `root` of `leaf_count` leaves owing `total`.
    pub(crate) async fn commit_root(
        &self,
        app: &TestApp,
        confirmations: u64,
        epoch: u64,
        root: B256,
        total: u128,
        leaf_count: u32,
    ) -> eyre::Result<()> {
        let (head, _) = self.latest().await;
        let as_of = head - confirmations;
        let intent = LiabilityRootIntent {
            chain_id: self.chain_id,
            contract: Addr(self.settlement),
            token: Addr(NATIVE_TOKEN),
            epoch,
            as_of_block: as_of,
            root,
            total: Amount::from(total),
            leaf_count,
            plan_hash: B256::ZERO,
            nonce: Some(Amount(abi::nonces::liability_nonce(epoch))),
            deadline: None,
            forfeits: Vec::new(),
        };
        let signed = app.client.sign_liability_root(&intent).await?;
        let root = abi::LiabilityRoot {
            token: NATIVE_TOKEN,
            epoch,
            asOfBlock: as_of,
            root: intent.root,
            total,
            leafCount: leaf_count,
            planHash: B256::ZERO,
            nonce: abi::nonces::liability_nonce(epoch),
            deadline: U256::from(signed.deadline),
        };
        let receipt =
            self.settlement().commitLiabilities(root, signed.signature.clone()).send().await?.get_receipt().await?;
        eyre::ensure!(receipt.status(), "commitLiabilities reverted");
        Ok(())
    }

    /// Executes the signed payout batch `signed` (of `batch`) as the operator.
    pub(crate) async fn pay_out(&self, batch: &PayoutBatchIntent, signed: &SignResponse) -> eyre::Result<()> {
        let payouts: Vec<abi::Payout> =
            batch.payouts.iter().map(|p| abi::Payout { recipient: p.recipient.0, amount: p.amount.0 }).collect();
        let total = payouts.iter().fold(U256::ZERO, |sum, p| sum + p.amount);
        let payload = abi::PayoutBatch {
            token: batch.token.0,
            total,
            payouts,
            nonce: signed.nonce.0,
            deadline: U256::from(signed.deadline),
        };
        let receipt =
            self.settlement().executePayoutBatch(payload, signed.signature.clone()).send().await?.get_receipt().await?;
        eyre::ensure!(receipt.status(), "executePayoutBatch reverted");
        Ok(())
    }
}

fn provider_for(anvil: &AnvilInstance, wallet: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(anvil.endpoint_url()).erased()
}

fn treasury_payload(signed: &SignResponse) -> eyre::Result<abi::TreasuryTransfer> {
    let asked: TreasuryTransferIntent = serde_json::from_value(signed.payload.clone())?;
    Ok(abi::TreasuryTransfer {
        token: asked.token.0,
        to: asked.to.0,
        amount: asked.amount.0,
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    })
}

/// A registration of `user` under `sponsor` paying `amount` of the native coin on `chain`, on the signer's own nonce.
pub(crate) fn native_register(chain: &Chain, user: Address, sponsor: Address, amount: u128) -> RegisterIntent {
    RegisterIntent {
        chain_id: chain.chain_id,
        contract: Addr(chain.settlement),
        user: Addr(user),
        sponsor: Addr(sponsor),
        token: Addr(NATIVE_TOKEN),
        amount: Amount::from(amount),
        nonce: None,
        deadline: None,
    }
}

/// A refund (treasury transfer `transfer`) on `chain` of the native-coin payment on nonce `payment` of `amount` to
/// `to`.
pub(crate) fn native_refund(
    chain: &Chain,
    to: Address,
    amount: u128,
    transfer: u64,
    payment: U256,
    deadline: Option<u64>,
) -> TreasuryTransferIntent {
    TreasuryTransferIntent {
        chain_id: chain.chain_id,
        contract: Addr(chain.settlement),
        token: Addr(NATIVE_TOKEN),
        to: Addr(to),
        amount: Amount::from(amount),
        nonce: Some(Amount(abi::nonces::treasury_nonce(transfer))),
        deadline,
        refund_of: Some(Amount(payment)),
        approvals: Vec::new(),
    }
}

/// A native-coin payout batch `batch` of one entry on `chain`.
pub(crate) fn native_batch(chain: &Chain, recipient: Address, amount: u128, batch: u64) -> PayoutBatchIntent {
    PayoutBatchIntent {
        chain_id: chain.chain_id,
        contract: Addr(chain.settlement),
        token: Addr(NATIVE_TOKEN),
        payouts: vec![PayoutEntry { recipient: Addr(recipient), amount: Amount::from(amount) }],
        total: None,
        nonce: Some(Amount(abi::nonces::batch_nonce(batch, 0))),
        deadline: None,
        approvals: Vec::new(),
    }
}
