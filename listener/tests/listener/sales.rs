//! Sales from a real anvil into the real Postgres ledger (PLAN-SALES.md, contracts/SALES.md): the listener finds the
//! Settlement's sales desk, applies its `Sold` and `Refunded` events to a sales-plan asset — the seller's RETAIL
//! commission maturing, the one taken back reversed — matures the rest when anvil's clock passes the window, and the
//! ledger's expected custody is the contract's balance throughout.

use abi::{NATIVE_TOKEN, Settlement, SettlementSales};
use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::devchain::DevChain;
use ledger::{AssetSpec, ChainLedger, db::ScratchDatabase, plan::sales::SalesParams};
use listener::{
    ChainFollower, FollowerConfig,
    service::{ChainListener, ListenerError},
};
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;
const DAY: u64 = 86_400;

async fn catch_up(listener: &mut ChainListener<DynProvider>) -> Result<(), ListenerError> {
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

async fn text(pool: &PgPool, sql: &'static str) -> String {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// `buyer` pays sale `id` of `amount` naming `seller` with the retail commission `retail`, refundable for a day;
/// returns the `Sold` event's refundableUntil.
async fn sell(
    chain: &DevChain,
    desk: Address,
    buyer: &PrivateKeySigner,
    seller: Address,
    (id, amount, retail): (u64, u128, u128),
) -> eyre::Result<U256> {
    let sale = SettlementSales::Sale {
        buyer: buyer.address(),
        seller,
        token: NATIVE_TOKEN,
        amount: U256::from(amount),
        retail: U256::from(retail),
        pv: U256::from(amount / BNB),
        orderRef: B256::repeat_byte(id as u8),
        refundWindow: U256::from(DAY),
        nonce: U256::from(id),
        deadline: chain.deadline().await?,
    };
    let wallet = anvil_tests::api::wallet_provider(&chain.rpc_url(), buyer)?;
    let receipt = SettlementSales::new(desk, &wallet)
        .sell(sale.clone(), chain.sign(&sale))
        .value(sale.amount)
        .send()
        .await?
        .get_receipt()
        .await?;
    let sold = receipt.decoded_log::<SettlementSales::Sold>().ok_or_else(|| eyre::eyre!("no Sold event"))?;
    Ok(sold.data.refundableUntil)
}

#[tokio::test]
async fn sales_and_refunds_arrive_from_the_desk_and_mature_by_the_chains_clock() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let db = ScratchDatabase::create("listener_sales").await?;
    let pool = &db.pool;
    let spec = AssetSpec {
        id: 1,
        chain_id: CHAIN,
        token: Address::ZERO,
        symbol: "BNB".into(),
        decimals: 18,
        genesis: chain.admin.address(),
        params: SalesParams::defaults(18),
    };
    ledger::create_asset(pool, &spec).await?;

    // The listener finds the desk from the Settlement, as the service does at start.
    let desks = listener::startup::sales_desks(&chain.provider, &[(chain.settlement, 1)]).await?;
    let desk = Settlement::new(chain.settlement, &chain.provider).salesDesk().call().await?;
    assert_eq!(desks, vec![(desk, 1)]);

    // A joins under G (the plan's fee: 0); X buys 10 BNB naming A (A's retail 2 BNB), Y buys 5 naming A (1 BNB) and
    // takes it back inside its window.
    let a = chain.account(2);
    chain.register_native(&a, chain.admin.address(), U256::ZERO, 1).await?;
    let (x, y) = (chain.account(5), chain.account(6));
    let x_until = sell(&chain, desk, &x, a.address(), (101, 10 * BNB, 2 * BNB)).await?;
    let y_until = sell(&chain, desk, &y, a.address(), (102, 5 * BNB, BNB)).await?;
    let y_wallet = anvil_tests::api::wallet_provider(&chain.rpc_url(), &y)?;
    SettlementSales::new(desk, &y_wallet)
        .refund(U256::from(102), NATIVE_TOKEN, U256::from(5 * BNB), U256::from(BNB), y_until)
        .send()
        .await?
        .get_receipt()
        .await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;

    let config = FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS).with_sales_desks(vec![desk]);
    let follower = ChainFollower::new(chain.provider.clone(), config);
    let mut listener = ChainListener::new(follower, ChainLedger::open(pool.clone(), CHAIN).await?, 1);
    catch_up(&mut listener).await?;

    let events = "SELECT string_agg(name || ':' || outcome, ' ' ORDER BY block_number, log_index) FROM chain_events";
    assert_eq!(text(pool, events).await, "Registered:applied Sold:applied Sold:applied Refunded:applied");
    let rewards =
        "SELECT string_agg(beneficiary_no || ':' || kind || ':' || amount || ':' || status, ' ' ORDER BY reward_no)
                   FROM rewards";
    assert_eq!(text(pool, rewards).await, format!("1:RETAIL:{}:maturing 1:RETAIL:{}:reversed", 2 * BNB, BNB));
    let a_row = "SELECT maturing || '/' || pending FROM users WHERE user_no = 1";
    assert_eq!(text(pool, a_row).await, format!("{}/0", 2 * BNB));
    assert_eq!(
        text(
            pool,
            "SELECT string_agg(sale_id || ':' || state || ':' || refundable_until, ' ' ORDER BY sale_id) FROM sales"
        )
        .await,
        format!("101:open:{x_until} 102:refunded:{y_until}")
    );
    // The ledger's custody is the contract's: 15 in, 5 refunded.
    let custody = chain.provider.get_balance(chain.settlement).await?;
    let figures = ledger::figures::read(pool, CHAIN, &[Address::ZERO]).await?.assets.remove(0).1;
    assert_eq!(figures.expected_balance(), alloy::primitives::I256::try_from(custody)?);
    assert_eq!(custody, U256::from(10 * BNB));
    assert_eq!(figures.liabilities, U256::from(2 * BNB), "A's maturing retail commission is owed");

    // A day later by the chain's clock, X's sale is final: A's commission becomes payable.
    chain.provider.anvil_increase_time(DAY + 1).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 1), None).await?;
    catch_up(&mut listener).await?;
    assert_eq!(text(pool, rewards).await, format!("1:RETAIL:{}:pending 1:RETAIL:{}:reversed", 2 * BNB, BNB));
    assert_eq!(text(pool, a_row).await, format!("0/{}", 2 * BNB));
    assert_eq!(text(pool, "SELECT state FROM sales WHERE sale_id = 101").await, "final");
    Ok(())
}
