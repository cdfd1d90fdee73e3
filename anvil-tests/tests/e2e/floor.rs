//! Nobody can take members' money (issue 42), end to end on both chains, every service a process: with a proof of
//! solvency committed, a treasury transfer that would take custody below the floor (the committed liabilities less
//! what members were paid since, plus the open sales buyers may take back: issue 69) is refused by the API before
//! anything is signed, with the figures in words, and — signed and sent past the API, as a treasurer holding the
//! signer's key would — refused by the contract itself.

use abi::{LiabilityRoot, Settlement, TreasuryTransfer};
use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    sol_types::SolCall,
};
use anvil_tests::{
    api::ApiClient,
    devchain::{DevChain, NATIVE_ASSET, USDT_ASSET},
    services::{
        BackendChain, TronEndpoints, WorkDir, chain_spec, ledger_database, start_backend, start_backend_for,
        start_signer,
    },
    tron_rpc::{TronFaults, TronRpc},
};
use serde_json::{Value, json};

use crate::{BNB, USDT};

/// The liabilities root the test commits for `token`: its total is what the floor rests on.
fn root(token: Address, as_of: u64, total: u128, seq: u64, deadline: U256) -> LiabilityRoot {
    LiabilityRoot {
        token,
        epoch: 1,
        asOfBlock: as_of,
        root: B256::repeat_byte(0x42),
        total,
        leafCount: 3,
        planHash: B256::repeat_byte(0x17),
        nonce: abi::nonces::liability_nonce(seq),
        deadline,
    }
}

/// The treasury figures the API shows for `asset_id`.
async fn treasury(api: &ApiClient, admin: &str, asset_id: i32) -> eyre::Result<Value> {
    api.get(&format!("/v1/admin/treasury?asset_id={asset_id}"), Some(admin)).await?.ok("GET /v1/admin/treasury")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_treasury_transfer_below_the_floor_is_refused_by_the_api_and_the_contract_on_evm() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let dir = WorkDir::new("floor-evm")?;
    let (_db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (_backend, api_url) = start_backend(&dir, &chain, &url, &signer_url, &secret).await?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    let recipient = chain.admin.address().to_string();

    // 60 BNB in custody from three registrations.
    for (i, nonce) in [(2usize, 1u64), (3, 2), (4, 3)] {
        chain.register_native(&chain.account(i), chain.admin.address(), U256::from(20 * BNB), nonce).await?;
    }
    // Before any commitment the contract takes no treasury transfer, and the API says so before signing.
    let early = api
        .post(
            "/v1/admin/treasury/transfers",
            Some(&admin),
            json!({"asset_id": NATIVE_ASSET, "to": recipient, "amount": BNB.to_string()}),
        )
        .await?;
    assert_eq!((early.status, early.code()), (409, "no_recent_commitment"), "{}", early.body);

    // Members are owed 45 BNB, as the operator commits: the floor is 45, 15 may leave.
    let as_of = chain.provider.get_block_number().await? - 1;
    let commitment = root(abi::NATIVE_TOKEN, as_of, 45 * BNB, 0, chain.deadline().await?);
    Settlement::new(chain.settlement, &chain.provider)
        .commitLiabilities(commitment.clone(), chain.sign(&commitment))
        .send()
        .await?
        .get_receipt()
        .await?;
    let figures = treasury(&api, &admin, NATIVE_ASSET).await?;
    assert_eq!(figures["contract_floor"]["base"], (45 * BNB).to_string(), "{figures}");
    assert_eq!(figures["contract_transferable"]["base"], (15 * BNB).to_string(), "{figures}");

    // A buyer pays a sale of 5 BNB (contracts/SALES.md): the floor keeps its whole amount for the refund, so the
    // company's 15 is still all that may leave.
    let desk = Settlement::new(chain.settlement, &chain.provider).salesDesk().call().await?;
    let buyer = chain.account(5);
    let sale = abi::SettlementSales::Sale {
        buyer: buyer.address(),
        seller: chain.account(2).address(),
        token: abi::NATIVE_TOKEN,
        amount: U256::from(5 * BNB),
        retail: U256::from(BNB),
        pv: U256::from(5),
        orderRef: B256::repeat_byte(0x0d),
        refundWindow: U256::from(86_400),
        nonce: U256::from(7_001),
        deadline: chain.deadline().await?,
    };
    let buyer_wallet = anvil_tests::api::wallet_provider(&chain.rpc_url(), &buyer)?;
    let sales = abi::SettlementSales::new(desk, &buyer_wallet);
    let sold = sales.sell(sale.clone(), chain.sign(&sale)).value(sale.amount).send().await?.get_receipt().await?;
    let until = sold
        .decoded_log::<abi::SettlementSales::Sold>()
        .ok_or_else(|| eyre::eyre!("no Sold event"))?
        .data
        .refundableUntil;
    let figures = treasury(&api, &admin, NATIVE_ASSET).await?;
    assert_eq!(figures["contract_floor"]["base"], (50 * BNB).to_string(), "the open sale counts: {figures}");
    assert_eq!(figures["contract_transferable"]["base"], (15 * BNB).to_string(), "{figures}");

    let over = (15 * BNB + 1).to_string();
    let refused = api
        .post(
            "/v1/admin/treasury/transfers",
            Some(&admin),
            json!({"asset_id": NATIVE_ASSET, "to": recipient, "amount": over}),
        )
        .await?;
    assert_eq!((refused.status, refused.code()), (422, "below_floor"), "{}", refused.body);
    let said = refused.body["error"]["message"].as_str().unwrap_or_default();
    assert!(said.contains("would take custody below what members are owed") && said.contains("15 BNB"), "{said}");

    // Past the API: the treasurer (the devnet's admin key) sends a transfer the signer's key signed. The contract
    // refuses it; one wei less goes.
    let contract = Settlement::new(chain.settlement, &chain.provider);
    let transfer = TreasuryTransfer {
        token: abi::NATIVE_TOKEN,
        to: Address::repeat_byte(0x7e),
        amount: U256::from(15 * BNB + 1),
        nonce: abi::nonces::treasury_nonce(900),
        deadline: chain.deadline().await?,
    };
    let Err(reverted) = contract.transferTreasury(transfer.clone(), chain.sign(&transfer)).call().await else {
        eyre::bail!("the contract took custody below the floor")
    };
    let reason = reverted.as_decoded_interface_error::<Settlement::SettlementErrors>().map(|e| format!("{e:?}"));
    assert!(reason.as_deref().is_some_and(|r| r.contains("BelowFloor")), "{reason:?} / {reverted}");
    let share = TreasuryTransfer { amount: U256::from(15 * BNB), nonce: abi::nonces::treasury_nonce(901), ..transfer };
    contract.transferTreasury(share.clone(), chain.sign(&share)).send().await?.get_receipt().await?;
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, U256::from(50 * BNB), "custody = the floor");

    // The buyer takes the sale back, whole, from what the floor kept: the members' 45 stays.
    sales.refund(sale.nonce, sale.token, sale.amount, sale.retail, until).send().await?.get_receipt().await?;
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, U256::from(45 * BNB), "the members' 45 stays");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_treasury_transfer_below_the_floor_is_refused_by_the_api_and_the_contract_on_tron() -> eyre::Result<()> {
    let (chain, node) = DevChain::start_tron_through_node(tron_devnode::Params::default()).await?;
    let dir = WorkDir::new("floor-tron")?;
    let (_db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    // The API reads custody through the anvil underneath, as TRON's full-node JSON-RPC would answer it.
    let rpc = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let tron = TronEndpoints {
        grpc_url: Some(&node.grpc_url),
        solidity_grpc_url: Some(&node.solidity_grpc_url),
        solidity_rpc_url: &rpc.solidity_url,
    };
    let chain_id = chain.deployment().chain_id;
    let spec = chain_spec(chain_id, chain.settlement, &chain.rpc_url(), 0, chain.deploy_block, Some(tron));
    let spec = dir.write("chains.toml", &spec)?;
    let backend_chain = BackendChain { spec: Some(spec), tuning: "", env: &[] };
    let (_backend, api_url, _) = start_backend_for(&dir, &chain, &url, &signer_url, &secret, backend_chain).await?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;

    // 60 USDT in custody; members owed 50 of it, as the operator commits through TRON's gRPC API.
    for (i, nonce) in [(2usize, 1u64), (3, 2), (4, 3)] {
        chain.register_usdt(&chain.account(i), chain.admin.address(), U256::from(20 * USDT), nonce).await?;
    }
    let as_of = chain.provider.get_block_number().await? - 1;
    let commitment = root(chain.usdt, as_of, 50 * USDT, 0, chain.deadline().await?);
    let commit = Settlement::commitLiabilitiesCall { c: commitment.clone(), signature: chain.sign(&commitment) };
    anvil_tests::tron_deploy::send_call(&node.grpc_url, &chain.admin, chain.settlement, commit.abi_encode(), 0).await?;
    let figures = treasury(&api, &admin, USDT_ASSET).await?;
    assert_eq!(figures["contract_floor"]["base"], (50 * USDT).to_string(), "{figures}");

    let to = abi::tron::to_base58(chain.admin.address());
    let over = (10 * USDT + 1).to_string();
    let refused = api
        .post("/v1/admin/treasury/transfers", Some(&admin), json!({"asset_id": USDT_ASSET, "to": to, "amount": over}))
        .await?;
    assert_eq!((refused.status, refused.code()), (422, "below_floor"), "{}", refused.body);

    // Past the API, through TRON's gRPC API: the contract refuses it.
    let transfer = TreasuryTransfer {
        token: chain.usdt,
        to: Address::repeat_byte(0x7e),
        amount: U256::from(10 * USDT + 1),
        nonce: abi::nonces::treasury_nonce(900),
        deadline: chain.deadline().await?,
    };
    let call = Settlement::transferTreasuryCall { t: transfer.clone(), signature: chain.sign(&transfer) };
    let sent =
        anvil_tests::tron_deploy::send_call(&node.grpc_url, &chain.admin, chain.settlement, call.abi_encode(), 0).await;
    assert!(sent.is_err(), "the contract must refuse it: {sent:?}");
    let custody = abi::TestUSDT::new(chain.usdt, &chain.provider).balanceOf(chain.settlement).call().await?;
    assert_eq!(custody, U256::from(60 * USDT), "nothing left custody");
    let share = TreasuryTransfer { amount: U256::from(10 * USDT), nonce: abi::nonces::treasury_nonce(901), ..transfer };
    let call = Settlement::transferTreasuryCall { t: share.clone(), signature: chain.sign(&share) };
    anvil_tests::tron_deploy::send_call(&node.grpc_url, &chain.admin, chain.settlement, call.abi_encode(), 0).await?;
    let custody = abi::TestUSDT::new(chain.usdt, &chain.provider).balanceOf(chain.settlement).call().await?;
    assert_eq!(custody, U256::from(50 * USDT), "custody = the floor");
    Ok(())
}
