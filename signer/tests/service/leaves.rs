//! Members who left (issue 65, contracts/EXIT.md §12): a member who took their due out alone while a change of power
//! was pending is paid by no payout batch the signer signs afterwards. Their leave settled their dues; the contract
//! refuses a batch paying them for a day after the leave (one signed before it), and would pay one after.

use alloy::{
    node_bindings::Anvil,
    primitives::{Address, B256, U256, keccak256},
    providers::Provider,
};

use crate::{onchain::*, support::*};

const CONFIRMATIONS: u64 = 1;

#[tokio::test]
async fn a_payout_batch_paying_a_member_who_left_is_refused() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    for i in 3..6 {
        let member = chain.account(i);
        let signed = app
            .client
            .sign_register(&native_register(&chain, member.address(), chain.admin.address(), 5 * ETH))
            .await?;
        chain.pay_register(&member, &signed).await?;
    }
    // A commitment whose tree holds the member's leaf (2 coins pending) and one other of 1 coin, folded by the exit
    // contract's own foldProof.
    let settlement = chain.settlement();
    let exits = abi::SettlementExit::new(settlement.exits().call().await?, &chain.provider);
    let member = Address::repeat_byte(0x3c);
    let leaf = abi::SettlementExit::ExitLeaf {
        member,
        reserved: 0,
        held: 0,
        pending: 2 * ETH,
        batched: 0,
        claimable: 0,
        salt: B256::repeat_byte(0x5a),
    };
    let siblings = vec![abi::SettlementExit::SumNode { hash: keccak256("another member"), sum: U256::from(ETH) }];
    let folded = exits
        .foldProof(chain.chain_id, chain.settlement, abi::NATIVE_TOKEN, 1, leaf.clone(), U256::ZERO, siblings.clone())
        .call()
        .await?;
    chain.mine(CONFIRMATIONS + 1).await;
    chain.commit_root(&app, CONFIRMATIONS, 1, folded.root, folded.total.to(), 2).await?;

    // Before the member leaves, a batch paying them is signed.
    let before = app.client.sign_payout_batch(&native_batch(&chain, member, ETH, 1)).await?;
    assert_eq!(recovered(&before), signer_address());
    // A change of power pending, the member leaves (sent by anyone, paying the member).
    let receipt = settlement.scheduleSignerRotation(Address::repeat_byte(0x51)).send().await?.get_receipt().await?;
    assert!(receipt.status(), "a change scheduled");
    let receipt = exits.leave(abi::NATIVE_TOKEN, leaf, U256::ZERO, siblings, vec![], member).send().await?;
    assert!(receipt.get_receipt().await?.status(), "the member left");
    assert!(settlement.hasLeft(member, abi::NATIVE_TOKEN).call().await?);
    assert_eq!(chain.provider.get_balance(member).await?, U256::from(2 * ETH), "paid their leaf");

    // Now a batch paying them is refused, naming them; one paying someone else is signed.
    let (status, code) = refusal(app.client.sign_payout_batch(&native_batch(&chain, member, ETH, 2)).await);
    assert_eq!((status, code.as_str()), (403, "policy.recipient_left"));
    let other = app.client.sign_payout_batch(&native_batch(&chain, Address::repeat_byte(0x77), ETH, 3)).await?;
    assert_eq!(recovered(&other), signer_address());
    // The batch signed before the leave is refused by the contract itself (for the day after the leave).
    let executed = chain.pay_out(&native_batch(&chain, member, ETH, 1), &before).await;
    assert!(executed.is_err(), "the contract refuses it: {executed:?}");
    assert_eq!(chain.provider.get_balance(member).await?, U256::from(2 * ETH), "paid once");
    app.stop().await;
    Ok(())
}
