//! Upgrades (issue 44, `ops/upgrades.md`): the listener follows a chain's live Settlement and the one it replaced in
//! one chain order, each event stored with the contract that emitted it; a contract named in the chain spec only
//! after the listener passed its deployment block is taken when the ledger lacks none of its events, and refused,
//! with nothing changed, when it does.

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, ext::AnvilApi},
};
use anvil_tests::devchain::{DevChain, native_ledger_db};
use ledger::{ChainLedger, FollowedContract, db::ScratchDatabase, followed_contracts};
use listener::{
    ChainFollower, FollowerConfig,
    service::{ChainListener, ListenerError},
};
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

/// A listener reading `contracts` (the live one first) with their deployment blocks.
async fn listener(
    chain: &DevChain,
    pool: &PgPool,
    contracts: &[(Address, u64)],
) -> eyre::Result<ChainListener<DynProvider>> {
    let previous = contracts[1..].iter().map(|(c, _)| *c).collect();
    let config = FollowerConfig::new(CHAIN, contracts[0].0, CONFIRMATIONS).with_previous(previous);
    let follower = ChainFollower::new(chain.provider.clone(), config);
    let first = contracts.iter().map(|(_, b)| *b).min().unwrap_or_default();
    Ok(ChainListener::new(follower, ChainLedger::open(pool.clone(), CHAIN).await?, first)
        .with_contracts(contracts.to_vec()))
}

async fn catch_up(listener: &mut ChainListener<DynProvider>) -> Result<(), ListenerError> {
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

/// Each applied event's name and emitting contract, in chain order.
async fn events(pool: &PgPool) -> Vec<(String, Option<Address>)> {
    let rows: Vec<(String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT name, contract FROM chain_events WHERE outcome = 'applied' ORDER BY block_number, log_index",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(name, c)| (name, c.map(|c| Address::from_slice(&c)))).collect()
}

async fn ledger(chain: &DevChain) -> eyre::Result<ScratchDatabase> {
    native_ledger_db(CHAIN, chain.admin.address()).await
}

#[tokio::test]
async fn the_old_and_the_new_contract_are_followed_in_one_chain_order() -> eyre::Result<()> {
    let mut chain = DevChain::start().await?;
    let old = (chain.settlement, chain.deploy_block);
    let (a, b, c) = (chain.account(2), chain.account(3), chain.account(4));
    let fee = U256::from(20 * BNB);
    chain.register_native(&a, chain.admin.address(), fee, 1).await?;
    let new = chain.deploy_successor().await?;
    chain.use_contract(new.0);
    // B registers on the new contract under A, who registered on the old one; then C on the old one again (a
    // payload signed before the switch, still valid there).
    chain.register_native(&b, a.address(), fee, 2).await?;
    chain.use_contract(old.0);
    chain.register_native(&c, b.address(), fee, 3).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;

    let db = ledger(&chain).await?;
    let mut listener = listener(&chain, &db.pool, &[new, old]).await?;
    catch_up(&mut listener).await?;
    assert_eq!(
        events(&db.pool).await,
        [
            ("Registered".to_string(), Some(old.0)),
            ("Registered".to_string(), Some(new.0)),
            ("Registered".to_string(), Some(old.0))
        ]
    );
    let sponsors: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT u.address, s.address FROM users u JOIN users s ON s.asset_id = u.asset_id AND s.user_no = u.sponsor_no
         WHERE u.user_no > 0 ORDER BY u.user_no",
    )
    .fetch_all(&db.pool)
    .await?;
    let expected = [(a.address(), chain.admin.address()), (b.address(), a.address()), (c.address(), b.address())];
    assert_eq!(sponsors, expected.map(|(u, s)| (u.to_vec(), s.to_vec())), "one tree across both contracts");
    let mut followed = followed_contracts(&db.pool, CHAIN).await?;
    followed.sort_by_key(|f| f.start_block);
    assert_eq!(
        followed,
        [
            FollowedContract { contract: old.0, start_block: old.1, followed_from: old.1 },
            FollowedContract { contract: new.0, start_block: new.1, followed_from: new.1 }
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_contract_named_after_the_listener_passed_it_is_taken_only_when_the_ledger_lacks_none_of_its_events()
-> eyre::Result<()> {
    let mut chain = DevChain::start().await?;
    let old = (chain.settlement, chain.deploy_block);
    let fee = U256::from(20 * BNB);
    chain.register_native(&chain.account(2), chain.admin.address(), fee, 1).await?;
    let new = chain.deploy_successor().await?;
    let idle = chain.deploy_successor().await?;
    chain.use_contract(new.0);
    chain.register_native(&chain.account(3), chain.account(2).address(), fee, 2).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;

    // The listener follows the old contract alone, past the new one's deployment and its registration.
    let db = ledger(&chain).await?;
    catch_up(&mut listener(&chain, &db.pool, &[old]).await?).await?;
    let cursor = ChainLedger::open(db.pool.clone(), CHAIN).await?.listener_state().await?.0.unwrap().number;
    assert_eq!(events(&db.pool).await, [("Registered".to_string(), Some(old.0))]);

    // Named now, the new contract's registration could only be applied out of chain order: refused, nothing changes.
    let mut late = listener(&chain, &db.pool, &[new, old]).await?;
    let refused = late.step().await.unwrap_err();
    let ListenerError::ContractNotFollowed { contract, missing, first_block, cursor: at, .. } = &refused else {
        panic!("{refused}")
    };
    assert_eq!((*contract, *missing, *at), (new.0, 1, cursor));
    assert!(*first_block > new.1 && *first_block <= cursor);
    assert!(refused.to_string().contains("ops/upgrades.md"), "{refused}");
    assert!(!refused.is_transient());
    assert_eq!(events(&db.pool).await.len(), 1);
    assert_eq!(followed_contracts(&db.pool, CHAIN).await?.len(), 1, "the new contract is not recorded");
    let still = ChainLedger::open(db.pool.clone(), CHAIN).await?.listener_state().await?.0.unwrap().number;
    assert_eq!(still, cursor);

    // A contract with no event before the cursor is followed from the block after it.
    catch_up(&mut listener(&chain, &db.pool, &[idle, old]).await?).await?;
    let recorded = followed_contracts(&db.pool, CHAIN).await?;
    assert_eq!(
        recorded.iter().find(|f| f.contract == idle.0),
        Some(&FollowedContract { contract: idle.0, start_block: idle.1, followed_from: cursor + 1 })
    );

    // A ledger built before contracts were recorded (its record gone, as before migration 0026): the old contract's
    // events are all there, so it is followed from its deployment block again.
    sqlx::raw_sql(
        "ALTER TABLE chain_contracts DISABLE TRIGGER chain_contracts_written_once;
         DELETE FROM chain_contracts;
         ALTER TABLE chain_contracts ENABLE TRIGGER chain_contracts_written_once;",
    )
    .execute(&db.pool)
    .await?;
    catch_up(&mut listener(&chain, &db.pool, &[old]).await?).await?;
    assert_eq!(
        followed_contracts(&db.pool, CHAIN).await?,
        [FollowedContract { contract: old.0, start_block: old.1, followed_from: old.1 }]
    );
    Ok(())
}
