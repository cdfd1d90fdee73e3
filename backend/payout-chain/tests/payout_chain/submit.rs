//! Payout submission against a real anvil: a dropped transaction retried pays exactly once, and hostile
//! recipients (reverting, gas-burning) leave their amounts claimable while everyone else is paid.

use std::time::Duration;

use abi::{NATIVE_TOKEN, Payout, PayoutBatch, Settlement};
use alloy::{
    primitives::{Address, Bytes, U256, bytes},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::devchain::DevChain;
use payout_chain::{BatchOutcome, DeferredPayout, PayoutSubmitter, SubmitError};

const BNB: u128 = 1_000_000_000_000_000_000;
const POLL: Duration = Duration::from_millis(20);
const LIMIT: Duration = Duration::from_secs(10);

/// Custody funded the way it is in production: three registrations of 20 BNB.
async fn funded_chain() -> eyre::Result<DevChain> {
    let chain = DevChain::start().await?;
    for (i, nonce) in [(2usize, 1u64), (3, 2), (4, 3)] {
        chain.register_native(&chain.account(i), chain.admin.address(), U256::from(20 * BNB), nonce).await?;
    }
    Ok(chain)
}

async fn batch(chain: &DevChain, nonce: u64, payouts: &[(Address, u128)]) -> eyre::Result<(PayoutBatch, Bytes)> {
    let payouts: Vec<Payout> = payouts
        .iter()
        .map(|(recipient, amount)| Payout { recipient: *recipient, amount: U256::from(*amount) })
        .collect();
    let total = payouts.iter().map(|p| p.amount).sum();
    let batch = PayoutBatch {
        token: NATIVE_TOKEN,
        total,
        payouts,
        nonce: U256::from(nonce),
        deadline: chain.deadline().await?,
    };
    let signature = chain.sign(&batch);
    Ok((batch, signature))
}

#[tokio::test]
async fn a_dropped_payout_transaction_retried_pays_exactly_once() -> eyre::Result<()> {
    let chain = funded_chain().await?;
    let (alice, bob) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb0));
    let (batch, signature) = batch(&chain, 9_001, &[(alice, 5 * BNB), (bob, 7 * BNB)]).await?;
    let submitter = PayoutSubmitter::new(chain.provider.clone(), chain.admin.address(), chain.settlement, 0);

    chain.provider.anvil_set_auto_mine(false).await?;
    let BatchOutcome::Pending { tx: first } = submitter.submit(&batch, &signature).await? else {
        panic!("not pending")
    };
    assert_eq!(submitter.status(&batch.clone().into(), first).await?, BatchOutcome::Pending { tx: first });
    chain.provider.anvil_drop_transaction(first).await?;
    assert_eq!(submitter.status(&batch.clone().into(), first).await?, BatchOutcome::Dropped { tx: first });
    assert_eq!(chain.provider.get_balance(alice).await?, U256::ZERO, "a dropped transaction paid nothing");

    chain.provider.anvil_set_auto_mine(true).await?;
    let BatchOutcome::Pending { tx: second } = submitter.submit(&batch, &signature).await? else { panic!("not sent") };
    let executed = submitter.track(&batch, second, POLL, LIMIT).await?;
    assert_eq!(
        executed,
        BatchOutcome::Executed {
            tx: second,
            block: executed_block(&executed),
            total: U256::from(12 * BNB),
            deferred: vec![]
        }
    );

    // Retrying again (the operator did not see the result) sends nothing and reports the execution.
    assert_eq!(submitter.submit(&batch, &signature).await?, executed);
    assert_eq!(
        submitter.status(&batch.clone().into(), first).await?,
        executed,
        "the dropped hash resolves to the execution"
    );
    assert_eq!(chain.provider.get_balance(alice).await?, U256::from(5 * BNB));
    assert_eq!(chain.provider.get_balance(bob).await?, U256::from(7 * BNB));
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, U256::from(48 * BNB));
    Ok(())
}

fn executed_block(outcome: &BatchOutcome) -> u64 {
    match outcome {
        BatchOutcome::Executed { block, .. } => *block,
        other => panic!("not executed: {other:?}"),
    }
}

#[tokio::test]
async fn hostile_recipients_become_claimable_and_everyone_else_is_paid() -> eyre::Result<()> {
    let chain = funded_chain().await?;
    let (reverter, burner) = (Address::repeat_byte(0xde), Address::repeat_byte(0xbe));
    chain.provider.anvil_set_code(reverter, bytes!("60006000fd")).await?; // PUSH1 0 PUSH1 0 REVERT
    chain.provider.anvil_set_code(burner, bytes!("5b600056")).await?; // JUMPDEST PUSH1 0 JUMP: loops until out of gas
    let (carol, dave) = (Address::repeat_byte(0xc0), Address::repeat_byte(0xd0));
    let entries = [(carol, 3 * BNB), (reverter, 4 * BNB), (dave, 5 * BNB), (burner, 6 * BNB)];
    let (batch, signature) = batch(&chain, 9_002, &entries).await?;
    let submitter = PayoutSubmitter::new(chain.provider.clone(), chain.admin.address(), chain.settlement, 0);

    let BatchOutcome::Pending { tx } = submitter.submit(&batch, &signature).await? else { panic!("not sent") };
    let BatchOutcome::Executed { deferred, total, .. } = submitter.track(&batch, tx, POLL, LIMIT).await? else {
        panic!("not executed")
    };
    assert_eq!(total, U256::from(18 * BNB));
    assert_eq!(
        deferred,
        vec![
            DeferredPayout { index: 1, recipient: reverter, amount: U256::from(4 * BNB) },
            DeferredPayout { index: 3, recipient: burner, amount: U256::from(6 * BNB) },
        ]
    );
    assert_eq!(chain.provider.get_balance(carol).await?, U256::from(3 * BNB));
    assert_eq!(chain.provider.get_balance(dave).await?, U256::from(5 * BNB));
    assert_eq!(chain.provider.get_balance(reverter).await?, U256::ZERO);
    let contract = Settlement::new(chain.settlement, &chain.provider);
    assert_eq!(contract.claimable(NATIVE_TOKEN, reverter).call().await?, U256::from(4 * BNB));
    assert_eq!(contract.claimable(NATIVE_TOKEN, burner).call().await?, U256::from(6 * BNB));
    assert_eq!(contract.totalClaimable(NATIVE_TOKEN).call().await?, U256::from(10 * BNB));
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, U256::from(52 * BNB), "60 in, 8 pushed out");
    Ok(())
}

#[tokio::test]
async fn a_batch_custody_cannot_cover_is_refused_before_any_gas_is_spent() -> eyre::Result<()> {
    let chain = funded_chain().await?;
    let (batch, signature) = batch(&chain, 9_003, &[(Address::repeat_byte(0xee), 61 * BNB)]).await?;
    let submitter = PayoutSubmitter::new(chain.provider.clone(), chain.admin.address(), chain.settlement, 0);
    let nonce_before = chain.provider.get_transaction_count(chain.admin.address()).await?;
    let err = submitter.submit(&batch, &signature).await.unwrap_err();
    assert!(matches!(&err, SubmitError::Refused(reason) if reason.contains("InsufficientFunds")), "{err}");
    assert_eq!(chain.provider.get_transaction_count(chain.admin.address()).await?, nonce_before, "nothing was sent");
    Ok(())
}

#[tokio::test]
async fn liveness_is_dead_only_past_the_deadline_on_a_final_block_with_every_nonce_unused() -> eyre::Result<()> {
    use payout_chain::{Liveness, PayoutChain};
    let chain = funded_chain().await?;
    let (batch_7, signature) = batch(&chain, 7, &[(Address::repeat_byte(0xa1), BNB)]).await?;
    // Through the chain-family interface, read-only: no operator key is needed to prove a batch dead.
    let reader: Box<dyn PayoutChain> =
        Box::new(PayoutSubmitter::read_only(chain.provider.clone(), chain.settlement, 2));
    let deadline = batch_7.deadline.to::<u64>();
    let unused = [U256::from(8), U256::from(9)];
    assert_eq!(reader.liveness(&unused, deadline).await?, Liveness::MayStillExecute, "before the deadline");
    assert!(
        matches!(reader.submit(&batch_7.clone().into(), &signature).await, Err(SubmitError::Refused(_))),
        "a reader sends nothing"
    );

    // Batch 7 executes; then the chain passes the deadline, but only a block 2 deep counts.
    let sender = PayoutSubmitter::new(chain.provider.clone(), chain.admin.address(), chain.settlement, 0);
    sender.track(&batch_7, pending_tx(sender.submit(&batch_7, &signature).await?), POLL, LIMIT).await?;
    chain
        .provider
        .anvil_mine(
            Some(1),
            Some(
                deadline + 10
                    - chain.provider.get_block(alloy::eips::BlockId::latest()).await?.unwrap().header.timestamp,
            ),
        )
        .await?;
    assert_eq!(reader.liveness(&unused, deadline).await?, Liveness::MayStillExecute, "the late block is not final yet");
    chain.provider.anvil_mine(Some(2), None).await?;
    let Liveness::Dead(proof) = reader.liveness(&unused, deadline).await? else { panic!("dead now") };
    assert!(proof.block_timestamp > deadline && proof.head >= proof.block + 2);
    assert_eq!(proof.unused_nonces, unused);
    // A used nonce among them: it may have executed; never dead.
    assert_eq!(reader.liveness(&[U256::from(8), U256::from(7)], deadline).await?, Liveness::NonceUsed(U256::from(7)));
    Ok(())
}

fn pending_tx(outcome: BatchOutcome) -> alloy::primitives::B256 {
    match outcome {
        BatchOutcome::Pending { tx } => tx,
        other => panic!("not pending: {other:?}"),
    }
}
