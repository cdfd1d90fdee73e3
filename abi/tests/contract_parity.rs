//! Proves on a real anvil that the `abi` crate's EIP-712 encoding is the contract's: equal domain separator,
//! type hashes and digests, and signatures made in Rust accepted for every payload kind (tampered ones refused).

use abi::{
    LiabilityRoot, NATIVE_TOKEN, Payout, PayoutBatch, Registration, Retopup, Settlement, SettlementDomain, TestUSDT,
    TreasuryTransfer, toolchain::foundry_binary,
};
use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, Bytes, U256, keccak256},
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
    /// A 6-decimal, false-returning test token (TRON's USDT's behaviour), deployed first and allowed.
    usdt: Address,
    domain: SettlementDomain,
}

fn key(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    anvil.keys()[i].clone().into()
}

fn provider_for(anvil: &AnvilInstance, wallet: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(anvil.endpoint_url()).erased()
}

async fn deploy() -> eyre::Result<Chain> {
    deploy_on(Anvil::new()).await
}

/// As [`deploy`], on the anvil `anvil` describes (e.g. with TRON's chain id).
async fn deploy_on(anvil: Anvil) -> eyre::Result<Chain> {
    let anvil = anvil.path(foundry_binary("anvil")).try_spawn()?;
    let (admin, backend_signer, user) = (key(&anvil, 0), key(&anvil, 1), key(&anvil, 2));
    let admin_provider = provider_for(&anvil, &admin);
    let user_provider = provider_for(&anvil, &user);
    let usdt = *TestUSDT::deploy(&admin_provider).await?.address();
    let allowed = vec![NATIVE_TOKEN, usdt];
    // The admin holds the money roles from the start (a later grant waits the change delay).
    let holders = abi::deployment::Holders::single(admin.address(), backend_signer.address());
    let chain_id = admin_provider.get_chain_id().await?;
    let config = abi::deployment::config(
        &holders,
        &allowed,
        abi::chain::Family::of(chain_id),
        abi::deployment::Bounds::development(),
    );
    let contract = Settlement::deploy(&admin_provider, config).await?;
    let settlement = *contract.address();
    Ok(Chain {
        usdt,
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
    let chain = deploy().await?;
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
    assert_eq!(
        contract.LIABILITY_ROOT_TYPEHASH().call().await?,
        keccak256(LiabilityRoot::eip712_encode_type().as_bytes())
    );

    let (registration, _) = chain.register(U256::from(20 * ONE_BNB), 7).await?;
    let onchain = contract.hashTypedData(registration.eip712_hash_struct()).call().await?;
    assert_eq!(onchain, chain.domain.digest(&registration));
    Ok(())
}

#[tokio::test]
async fn rust_signatures_are_accepted_for_every_payload_kind_and_tampering_is_refused() -> eyre::Result<()> {
    let chain = deploy().await?;
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

    // A liability root (proof of solvency), committed by the operator with the custody the contract reads; the same
    // struct with another total under that signature is refused.
    // As of the batch's block (the latest): a commitment's liabilities may not precede a batch executed since the
    // previous one (the contract's BatchAfterAsOfBlock, EXIT.md T2).
    let as_of = chain.admin_provider.get_block_number().await?;
    let _: serde_json::Value = chain.admin_provider.raw_request("evm_mine".into(), ()).await?;
    let commitment = LiabilityRoot {
        token: NATIVE_TOKEN,
        epoch: 1,
        asOfBlock: as_of,
        root: B256::repeat_byte(0xab),
        total: 7,
        leafCount: 3,
        planHash: B256::repeat_byte(0xcd),
        nonce: abi::nonces::liability_nonce(0),
        deadline: chain.deadline().await?,
    };
    let signature = chain.sign(&commitment);
    let forged = LiabilityRoot { total: 1, ..commitment.clone() };
    let reason = revert_name(as_admin.commitLiabilities(forged, signature.clone()).call().await);
    assert!(reason.contains("InvalidSignature"), "{reason}");
    let receipt = as_admin.commitLiabilities(commitment.clone(), signature).send().await?.get_receipt().await?;
    let committed = receipt.decoded_log::<Settlement::LiabilitiesCommitted>().expect("LiabilitiesCommitted emitted");
    assert_eq!(
        (committed.epoch, committed.root, committed.total, committed.custody),
        (1, commitment.root, 7, U256::from(54 * ONE_BNB))
    );
    let latest = as_admin.latestLiabilities(NATIVE_TOKEN).call().await?;
    assert_eq!((latest.root, latest.total, latest.epoch, latest.asOfBlock), (commitment.root, 7, 1, as_of));

    // Treasury transfers of what is left (20 + 40 − 6 = 54 BNB): all of it would take custody below the floor (the
    // 7 wei the commitment says members are owed) and is refused; all but those 7 wei goes.
    let treasury_wallet = Address::repeat_byte(0xbb);
    let all = TreasuryTransfer {
        token: NATIVE_TOKEN,
        to: treasury_wallet,
        amount: U256::from(54 * ONE_BNB),
        nonce: U256::from(5),
        deadline: chain.deadline().await?,
    };
    let reason = revert_name(as_admin.transferTreasury(all.clone(), chain.sign(&all)).call().await);
    assert!(reason.contains("BelowFloor"), "{reason}");
    let share = TreasuryTransfer { amount: U256::from(54 * ONE_BNB - 7), nonce: U256::from(6), ..all };
    as_admin.transferTreasury(share.clone(), chain.sign(&share)).send().await?.get_receipt().await?;
    assert_eq!(chain.admin_provider.get_balance(treasury_wallet).await?, U256::from(54 * ONE_BNB - 7));
    assert_eq!(chain.admin_provider.get_balance(chain.settlement).await?, U256::from(7));
    Ok(())
}

#[tokio::test]
async fn tron_like_usdt_registration_is_checked_by_balance_delta() -> eyre::Result<()> {
    let anvil_chain = deploy().await?;
    // The 6-decimal false-returning token, allowed at deployment.
    let usdt = TestUSDT::new(anvil_chain.usdt, &anvil_chain.admin_provider);

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

/// TIP-712 digests computed by TronWeb (`scripts/tron/tip712.mjs`), an independent implementation, for `payloads`
/// of (kind, value with TRON base58 addresses) under the contract at `contract` on `chain_id`.
fn tronweb_digests(chain_id: u64, contract: Address, payloads: serde_json::Value) -> eyre::Result<Vec<B256>> {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tron/tip712.mjs");
    let mut node = std::process::Command::new("node")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let input =
        serde_json::json!({ "chain_id": chain_id, "contract": abi::tron::to_base58(contract), "payloads": payloads });
    node.stdin.take().expect("stdin").write_all(input.to_string().as_bytes())?;
    let output = node.wait_with_output()?;
    eyre::ensure!(
        output.status.success(),
        "tronweb ended with {}: {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

#[tokio::test]
async fn tip712_digests_on_trons_chain_ids_equal_tronwebs_and_the_contracts() -> eyre::Result<()> {
    use abi::tron::to_base58 as t;
    let (a, b, c) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb2), Address::repeat_byte(0xc3));
    let usdt = Address::repeat_byte(0x55);
    // TRON mainnet and Nile (above 2^31: the 32-bit mask of TIP-712 must not sign-extend or truncate it).
    for chain_id in [728_126_428u64, 3_448_148_188] {
        let chain = deploy_on(Anvil::new().chain_id(chain_id)).await?;
        let contract = Settlement::new(chain.settlement, &chain.admin_provider);
        assert_eq!(chain.domain.chain_id(), chain_id);
        assert_eq!(contract.domainSeparator().call().await?, chain.domain.separator());
        let registration = Registration {
            user: a,
            sponsor: b,
            token: usdt,
            amount: U256::from(20_000_000u64),
            nonce: U256::from(7),
            deadline: U256::from(1_800_000_000u64),
        };
        let retopup = Retopup {
            user: a,
            token: usdt,
            amount: U256::from(40_000_000u64),
            nonce: U256::from(8),
            deadline: U256::from(1_800_000_001u64),
        };
        let payouts = vec![
            Payout { recipient: a, amount: U256::from(1u64) },
            Payout { recipient: b, amount: U256::from(18_000_000u64) },
            Payout { recipient: c, amount: U256::MAX - U256::from(18_000_001u64) },
        ];
        let batch = PayoutBatch {
            token: usdt,
            total: U256::MAX,
            payouts: payouts.clone(),
            nonce: abi::nonces::batch_nonce(42, 0),
            deadline: U256::from(1_800_000_002u64),
        };
        let transfer = TreasuryTransfer {
            token: NATIVE_TOKEN,
            to: c,
            amount: U256::from(5u64),
            nonce: U256::from(9),
            deadline: U256::from(1_800_000_003u64),
        };
        let commitment = LiabilityRoot {
            token: usdt,
            epoch: u64::MAX,
            asOfBlock: 48_000_000,
            root: B256::repeat_byte(0xab),
            total: u128::MAX,
            leafCount: u32::MAX,
            planHash: B256::repeat_byte(0xcd),
            nonce: abi::nonces::liability_nonce(3),
            deadline: U256::from(1_800_000_004u64),
        };
        let rust = [
            chain.domain.digest(&registration),
            chain.domain.digest(&retopup),
            chain.domain.digest(&batch),
            chain.domain.digest(&transfer),
            chain.domain.digest(&commitment),
        ];
        let onchain = [
            contract.hashTypedData(registration.eip712_hash_struct()).call().await?,
            contract.hashTypedData(retopup.eip712_hash_struct()).call().await?,
            contract.hashTypedData(batch.eip712_hash_struct()).call().await?,
            contract.hashTypedData(transfer.eip712_hash_struct()).call().await?,
            contract.hashTypedData(commitment.eip712_hash_struct()).call().await?,
        ];
        let tronweb = tronweb_digests(
            chain_id,
            chain.settlement,
            serde_json::json!([
                { "kind": "Registration", "value": { "user": t(a), "sponsor": t(b), "token": t(usdt),
                    "amount": "20000000", "nonce": "7", "deadline": "1800000000" } },
                { "kind": "Retopup", "value": { "user": t(a), "token": t(usdt), "amount": "40000000", "nonce": "8",
                    "deadline": "1800000001" } },
                { "kind": "PayoutBatch", "value": { "token": t(usdt), "total": U256::MAX.to_string(),
                    "payouts": payouts.iter().map(|p| serde_json::json!({ "recipient": t(p.recipient),
                        "amount": p.amount.to_string() })).collect::<Vec<_>>(),
                    "nonce": abi::nonces::batch_nonce(42, 0).to_string(), "deadline": "1800000002" } },
                { "kind": "TreasuryTransfer", "value": { "token": t(NATIVE_TOKEN), "to": t(c), "amount": "5",
                    "nonce": "9", "deadline": "1800000003" } },
                { "kind": "LiabilityRoot", "value": { "token": t(usdt), "epoch": u64::MAX.to_string(),
                    "asOfBlock": "48000000", "root": commitment.root.to_string(), "total": u128::MAX.to_string(),
                    "leafCount": u32::MAX.to_string(), "planHash": commitment.planHash.to_string(),
                    "nonce": commitment.nonce.to_string(), "deadline": "1800000004" } },
            ]),
        )?;
        assert_eq!(rust.to_vec(), onchain.to_vec(), "chain {chain_id}: the abi crate's digests are the contract's");
        assert_eq!(rust.to_vec(), tronweb, "chain {chain_id}: the abi crate's digests are TronWeb's");
    }
    Ok(())
}
