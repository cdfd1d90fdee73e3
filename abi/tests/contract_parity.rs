//! Proves on a real anvil that the `abi` crate's EIP-712 encoding is the contract's: equal domain separator,
//! type hashes and digests, and signatures made in Rust accepted for every payload kind (tampered ones refused).

use abi::{
    NATIVE_TOKEN, Payout, PayoutBatch, Registration, Retopup, Settlement, SettlementDomain, TestUSDT, TreasuryTransfer,
    toolchain::foundry_binary,
};
use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::SolStruct,
};

const ONE_BNB: u128 = 1_000_000_000_000_000_000;

struct Chain {
    _anvil: AnvilInstance,
    admin: PrivateKeySigner,
    backend_signer: PrivateKeySigner,
    user: PrivateKeySigner,
    admin_provider: DynProvider,
    user_provider: DynProvider,
    settlement: Address,
    domain: SettlementDomain,
}

fn key(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    anvil.keys()[i].clone().into()
}

fn provider_for(anvil: &AnvilInstance, wallet: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(anvil.endpoint_url()).erased()
}

async fn deploy(token: Address) -> eyre::Result<Chain> {
    let anvil = Anvil::new().path(foundry_binary("anvil")).try_spawn()?;
    let (admin, backend_signer, user) = (key(&anvil, 0), key(&anvil, 1), key(&anvil, 2));
    let admin_provider = provider_for(&anvil, &admin);
    let user_provider = provider_for(&anvil, &user);
    let mut allowed = vec![NATIVE_TOKEN];
    if token != NATIVE_TOKEN {
        allowed.push(token);
    }
    let contract = Settlement::deploy(
        &admin_provider,
        admin.address(),
        backend_signer.address(),
        allowed,
        U256::from(10_000),
        U256::from(100_000),
    )
    .await?;
    let settlement = *contract.address();
    let chain_id = admin_provider.get_chain_id().await?;
    Ok(Chain {
        domain: SettlementDomain::new(chain_id, settlement),
        _anvil: anvil,
        admin,
        backend_signer,
        user,
        admin_provider,
        user_provider,
        settlement,
    })
}

impl Chain {
    fn sign<T: SolStruct>(&self, payload: &T) -> Bytes {
        let digest = self.domain.digest(payload);
        Bytes::from(self.backend_signer.sign_hash_sync(&digest).expect("signing works").as_bytes().to_vec())
    }

    async fn deadline(&self) -> eyre::Result<U256> {
        let block = self.admin_provider.get_block_number().await?;
        let header = self.admin_provider.get_block_by_number(block.into()).await?.expect("latest block exists");
        Ok(U256::from(header.header.timestamp + 3_600))
    }

    async fn register(&self, amount: U256, nonce: u64) -> eyre::Result<(Registration, Bytes)> {
        let payload = Registration {
            user: self.user.address(),
            sponsor: self.admin.address(),
            token: NATIVE_TOKEN,
            amount,
            nonce: U256::from(nonce),
            deadline: self.deadline().await?,
        };
        let signature = self.sign(&payload);
        Ok((payload, signature))
    }
}

/// The contract error a call reverted with, by name; panics if the call succeeded.
fn revert_name<T>(result: Result<T, alloy::contract::Error>) -> String {
    let Err(err) = result else { panic!("call was expected to revert") };
    err.as_decoded_interface_error::<Settlement::SettlementErrors>()
        .map(|e| format!("{e:?}"))
        .unwrap_or_else(|| format!("undecoded: {err}"))
}

#[tokio::test]
async fn domain_separator_type_hashes_and_digests_match_the_deployed_contract() -> eyre::Result<()> {
    let chain = deploy(NATIVE_TOKEN).await?;
    let contract = Settlement::new(chain.settlement, &chain.admin_provider);

    assert_eq!(contract.domainSeparator().call().await?, chain.domain.separator());
    let onchain_domain = contract.eip712Domain().call().await?;
    assert_eq!(onchain_domain.name, abi::DOMAIN_NAME);
    assert_eq!(onchain_domain.version, abi::DOMAIN_VERSION);
    assert_eq!(onchain_domain.chainId, U256::from(chain.domain.chain_id()));

    assert_eq!(
        contract.REGISTRATION_TYPEHASH().call().await?,
        keccak256(Registration::eip712_encode_type().as_bytes())
    );
    assert_eq!(contract.RETOPUP_TYPEHASH().call().await?, keccak256(Retopup::eip712_encode_type().as_bytes()));
    assert_eq!(contract.PAYOUT_TYPEHASH().call().await?, keccak256(Payout::eip712_encode_type().as_bytes()));
    assert_eq!(contract.PAYOUT_BATCH_TYPEHASH().call().await?, keccak256(PayoutBatch::eip712_encode_type().as_bytes()));
    assert_eq!(
        contract.TREASURY_TRANSFER_TYPEHASH().call().await?,
        keccak256(TreasuryTransfer::eip712_encode_type().as_bytes())
    );

    let (registration, _) = chain.register(U256::from(20 * ONE_BNB), 7).await?;
    let onchain = contract.hashTypedData(registration.eip712_hash_struct()).call().await?;
    assert_eq!(onchain, chain.domain.digest(&registration));
    Ok(())
}

#[tokio::test]
async fn rust_signatures_are_accepted_for_every_payload_kind_and_tampering_is_refused() -> eyre::Result<()> {
    let chain = deploy(NATIVE_TOKEN).await?;
    let as_user = Settlement::new(chain.settlement, &chain.user_provider);
    let as_admin = Settlement::new(chain.settlement, &chain.admin_provider);
    let fee = U256::from(20 * ONE_BNB);

    // Register: accepted, event carries the payload, nonce spent.
    let (registration, signature) = chain.register(fee, 1).await?;
    let receipt =
        as_user.register(registration.clone(), signature.clone()).value(fee).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let event = receipt.decoded_log::<Settlement::Registered>().expect("Registered emitted");
    assert_eq!(
        (event.user, event.sponsor, event.amount, event.nonce),
        (chain.user.address(), chain.admin.address(), fee, U256::from(1))
    );
    assert!(as_admin.isNonceUsed(U256::from(1)).call().await?);
    assert_eq!(chain.admin_provider.get_balance(chain.settlement).await?, fee);

    // The same payload again: nonce already used.
    let reason = revert_name(as_user.register(registration.clone(), signature.clone()).value(fee).call().await);
    assert!(reason.contains("NonceAlreadyUsed"), "{reason}");

    // Tampered amount under a valid signature: refused.
    let (mut tampered, tampered_sig) = chain.register(fee, 2).await?;
    tampered.amount = U256::from(ONE_BNB);
    let reason = revert_name(as_user.register(tampered, tampered_sig).value(U256::from(ONE_BNB)).call().await);
    assert!(reason.contains("InvalidSignature"), "{reason}");

    // Retopup.
    let retopup = Retopup {
        user: chain.user.address(),
        token: NATIVE_TOKEN,
        amount: U256::from(40 * ONE_BNB),
        nonce: U256::from(3),
        deadline: chain.deadline().await?,
    };
    let receipt = as_user
        .retopup(retopup.clone(), chain.sign(&retopup))
        .value(retopup.amount)
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(receipt.decoded_log::<Settlement::Retopped>().is_some());

    // Payout batch of three recipients (EIP-712 array of structs), executed by the operator.
    as_admin
        .grantRole(as_admin.OPERATOR_ROLE().call().await?, chain.admin.address())
        .send()
        .await?
        .get_receipt()
        .await?;
    let recipients = [Address::repeat_byte(0xa1), Address::repeat_byte(0xa2), Address::repeat_byte(0xa3)];
    let payouts: Vec<Payout> = recipients
        .iter()
        .enumerate()
        .map(|(i, r)| Payout { recipient: *r, amount: U256::from((i as u128 + 1) * ONE_BNB) })
        .collect();
    let batch = PayoutBatch {
        token: NATIVE_TOKEN,
        total: U256::from(6 * ONE_BNB),
        payouts,
        nonce: U256::from(4),
        deadline: chain.deadline().await?,
    };
    let receipt = as_admin.executePayoutBatch(batch.clone(), chain.sign(&batch)).send().await?.get_receipt().await?;
    let executed = receipt.decoded_log::<Settlement::PayoutBatchExecuted>().expect("batch executed");
    assert_eq!((executed.count, executed.deferredCount, executed.total), (U256::from(3), U256::ZERO, batch.total));
    for (i, r) in recipients.iter().enumerate() {
        assert_eq!(chain.admin_provider.get_balance(*r).await?, U256::from((i as u128 + 1) * ONE_BNB));
    }

    // Treasury transfer of what is left (20 + 40 − 6 = 54 BNB).
    as_admin
        .grantRole(as_admin.TREASURER_ROLE().call().await?, chain.admin.address())
        .send()
        .await?
        .get_receipt()
        .await?;
    let treasury_wallet = Address::repeat_byte(0xbb);
    let transfer = TreasuryTransfer {
        token: NATIVE_TOKEN,
        to: treasury_wallet,
        amount: U256::from(54 * ONE_BNB),
        nonce: U256::from(5),
        deadline: chain.deadline().await?,
    };
    as_admin.transferTreasury(transfer.clone(), chain.sign(&transfer)).send().await?.get_receipt().await?;
    assert_eq!(chain.admin_provider.get_balance(treasury_wallet).await?, U256::from(54 * ONE_BNB));
    assert_eq!(chain.admin_provider.get_balance(chain.settlement).await?, U256::ZERO);
    Ok(())
}

#[tokio::test]
async fn tron_like_usdt_registration_is_checked_by_balance_delta() -> eyre::Result<()> {
    let anvil_chain = deploy(NATIVE_TOKEN).await?;
    // Deploy the 6-decimal false-returning token and allow it.
    let usdt = TestUSDT::deploy(&anvil_chain.admin_provider).await?;
    let as_admin = Settlement::new(anvil_chain.settlement, &anvil_chain.admin_provider);
    as_admin.setTokenAllowed(*usdt.address(), true).send().await?.get_receipt().await?;

    let fee = U256::from(20_000_000u64); // 20 USDT, 6 decimals
    let user_usdt = TestUSDT::new(*usdt.address(), &anvil_chain.user_provider);
    user_usdt.mint(anvil_chain.user.address(), fee).send().await?.get_receipt().await?;
    user_usdt.approve(anvil_chain.settlement, fee).send().await?.get_receipt().await?;

    let payload = Registration {
        user: anvil_chain.user.address(),
        sponsor: anvil_chain.admin.address(),
        token: *usdt.address(),
        amount: fee,
        nonce: U256::from(11),
        deadline: anvil_chain.deadline().await?,
    };
    let as_user = Settlement::new(anvil_chain.settlement, &anvil_chain.user_provider);
    let receipt = as_user.register(payload.clone(), anvil_chain.sign(&payload)).send().await?.get_receipt().await?;
    assert!(receipt.status());
    assert_eq!(usdt.balanceOf(anvil_chain.settlement).call().await?, fee);
    assert_eq!(usdt.balanceOf(anvil_chain.user.address()).call().await?, U256::ZERO);
    Ok(())
}
