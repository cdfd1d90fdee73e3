//! Sales (issue 69, contracts/SALES.md §7): the signer, not the API, prices a sale. It signs one only from a
//! catalogue version a catalogue wallet of its policy signed, at that version's price, pv and window, with the retail
//! commission the chain's registrations give, and never from a version older than one it priced a sale from. Tried
//! as an insider holding the API's host would: a cheaper price, a larger commission, a catalogue the host wrote
//! itself, an old version — each refused; the honest sale is paid on chain and its `Sold` event carries its terms.

use abi::{
    NATIVE_TOKEN, SettlementSales,
    catalogue::{CatalogueProduct, CatalogueVersion},
};
use alloy::{
    node_bindings::Anvil,
    primitives::{Address, B256, U256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use signer::{
    api::SignResponse,
    intent::{Addr, Amount, CatalogueEntry, OrderLine, SaleIntent, SignedCatalogue, Sku, WalletSignature},
    policy::CatalogueConfig,
};

use crate::{onchain::*, support::*};

const CONFIRMATIONS: u64 = 1;
const DAY: u64 = 86_400;

fn product(sku: &str, price: u128, pv: u64, active: bool) -> CatalogueProduct {
    CatalogueProduct { sku: sku.into(), price: U256::from(price), pv: U256::from(pv), active }
}

/// Catalogue version `version` of the native coin: two products for sale, one withdrawn; retail 20 %, a 7-day window.
fn version(version: u32, price_a: u128) -> CatalogueVersion {
    CatalogueVersion {
        token: NATIVE_TOKEN,
        version: U256::from(version),
        retailBps: U256::from(2_000),
        refundWindow: U256::from(7 * DAY),
        products: vec![
            product("BOOK-1", price_a, 10, true),
            product("MUG", ETH / 4, 2, true),
            product("OLD", 1, 1, false),
        ],
    }
}

fn signed(chain: &Chain, wallet: &PrivateKeySigner, v: &CatalogueVersion) -> SignedCatalogue {
    let signature = wallet.sign_hash_sync(&v.digest(chain.chain_id, chain.settlement)).unwrap();
    SignedCatalogue {
        version: v.version.to(),
        retail_bps: v.retailBps.to(),
        refund_window: v.refundWindow.to(),
        products: v
            .products
            .iter()
            .map(|p| CatalogueEntry {
                sku: Sku(p.sku.clone()),
                price: Amount(p.price),
                pv: p.pv.to(),
                active: p.active,
            })
            .collect(),
        wallet: Addr(wallet.address()),
        signature: WalletSignature(signature),
    }
}

/// `buyer` orders 2 × BOOK-1 and 1 × MUG naming `seller`, priced by the API as `amount`, `pv`, `retail`.
fn sale(
    chain: &Chain,
    buyer: Address,
    seller: Address,
    catalogue: SignedCatalogue,
    terms: (u128, u64, u128),
) -> SaleIntent {
    let (amount, pv, retail) = terms;
    SaleIntent {
        chain_id: chain.chain_id,
        contract: Addr(chain.settlement),
        buyer: Addr(buyer),
        seller: Addr(seller),
        token: Addr(NATIVE_TOKEN),
        amount: Amount::from(amount),
        retail: Amount::from(retail),
        pv: Amount::from(u128::from(pv)),
        order_ref: B256::repeat_byte(0x0d),
        refund_window: 7 * DAY,
        lines: vec![
            OrderLine { sku: Sku("BOOK-1".into()), quantity: 2 },
            OrderLine { sku: Sku("MUG".into()), quantity: 1 },
        ],
        catalogue,
        nonce: None,
        deadline: None,
    }
}

/// Pays the signed sale from `buyer`'s wallet; the `Sold` event.
async fn pay(
    chain: &Chain,
    buyer: &PrivateKeySigner,
    asked: &SaleIntent,
    signed: &SignResponse,
) -> eyre::Result<SettlementSales::Sold> {
    let desk = chain.settlement().salesDesk().call().await?;
    let payload = SettlementSales::Sale {
        buyer: asked.buyer.0,
        seller: asked.seller.0,
        token: asked.token.0,
        amount: asked.amount.0,
        retail: asked.retail.0,
        pv: asked.pv.0,
        orderRef: asked.order_ref,
        refundWindow: U256::from(asked.refund_window),
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let wallet = alloy::providers::ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(buyer.clone()))
        .connect_http(chain.anvil.endpoint_url());
    let receipt = SettlementSales::new(desk, &wallet)
        .sell(payload, signed.signature.clone())
        .value(asked.amount.0)
        .send()
        .await?
        .get_receipt()
        .await?;
    receipt.decoded_log::<SettlementSales::Sold>().map(|l| l.data).ok_or_else(|| eyre::eyre!("no Sold event"))
}

#[tokio::test]
async fn the_signer_prices_a_sale_from_a_signed_catalogue_and_refuses_the_api_s_own_prices() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let catalogue_wallet = PrivateKeySigner::random();
    let dir = tempfile::tempdir()?;
    let listed = catalogue_wallet.address();
    let app = chain
        .signer_with_policy(
            dir.path().join("signer.sqlite"),
            chain.anvil.endpoint(),
            CONFIRMATIONS,
            |_| {},
            |policy| policy.catalogue = Some(CatalogueConfig { signers: vec![Addr(listed)] }),
        )
        .await;
    // M joins (the seller); C is a customer (not registered).
    let (member, customer) = (chain.account(3), chain.account(4));
    let joined =
        app.client.sign_register(&native_register(&chain, member.address(), chain.admin.address(), ETH)).await?;
    chain.pay_register(&member, &joined).await?;

    // 2 × 1 coin + 1 × ¼ coin = 2.25 coins, pv 22; retail ⌊2.25 × 20 %⌋ = 0.45 coin.
    let v1 = version(1, ETH);
    let honest = (9 * ETH / 4, 22, 9 * ETH / 20);
    let asked = sale(&chain, customer.address(), member.address(), signed(&chain, &catalogue_wallet, &v1), honest);

    // An insider holding the API's host: a cheaper price, a larger commission, fewer points, its own catalogue.
    let cases: Vec<(&str, SaleIntent, &str)> = vec![
        (
            "a price below the catalogue's",
            SaleIntent { amount: Amount::from(ETH), ..asked.clone() },
            "policy.sale_price",
        ),
        ("pv above the catalogue's", SaleIntent { pv: Amount::from(99u128), ..asked.clone() }, "policy.sale_price"),
        (
            "a commission above the rule's",
            SaleIntent { retail: Amount::from(ETH), ..asked.clone() },
            "policy.sale_price",
        ),
        (
            "a commission on a member's own purchase",
            sale(&chain, member.address(), member.address(), signed(&chain, &catalogue_wallet, &v1), honest),
            "policy.sale_price",
        ),
        ("a shorter window", SaleIntent { refund_window: DAY, ..asked.clone() }, "policy.sale_price"),
        (
            "a withdrawn product",
            SaleIntent {
                lines: vec![OrderLine { sku: Sku("OLD".into()), quantity: 1 }],
                amount: Amount::from(1u128),
                pv: Amount::from(1u128),
                retail: Amount::from(0u128),
                ..asked.clone()
            },
            "policy.sale_price",
        ),
        (
            "a catalogue the host signed itself",
            sale(
                &chain,
                customer.address(),
                member.address(),
                signed(&chain, &PrivateKeySigner::random(), &v1),
                honest,
            ),
            "policy.catalogue_unsigned",
        ),
        (
            "a listed wallet named over another's signature",
            {
                let mut forged = signed(&chain, &PrivateKeySigner::random(), &v1);
                forged.wallet = Addr(listed);
                sale(&chain, customer.address(), member.address(), forged, honest)
            },
            "policy.catalogue_unsigned",
        ),
        (
            "the listed wallet's signature over other prices",
            {
                let mut cheaper = signed(&chain, &catalogue_wallet, &v1);
                cheaper.products[0].price = Amount::from(1u128);
                sale(&chain, customer.address(), member.address(), cheaper, (ETH / 4 + 2, 22, (ETH / 4 + 2) / 5))
            },
            "policy.catalogue_unsigned",
        ),
    ];
    for (what, intent, code) in cases {
        let (status, got) = refusal(app.client.sign_sale(&intent).await);
        assert_eq!((status, got.as_str()), (403, code), "{what}");
    }

    // The honest sale is signed and paid; the contract's event carries the signed terms and the chain's window.
    let signed_sale = app.client.sign_sale(&asked).await?;
    assert_eq!(recovered(&signed_sale), signer_address());
    let again = app
        .client
        .sign_sale(&SaleIntent {
            nonce: Some(signed_sale.nonce),
            deadline: Some(signed_sale.deadline),
            ..asked.clone()
        })
        .await?;
    assert_eq!(again.signature, signed_sale.signature, "a retry is the same signature");
    let sold = pay(&chain, &customer, &asked, &signed_sale).await?;
    assert_eq!(
        (sold.buyer, sold.seller, sold.amount, sold.retail, sold.pv),
        (customer.address(), member.address(), U256::from(9 * ETH / 4), U256::from(9 * ETH / 20), U256::from(22))
    );
    assert_eq!(sold.id, signed_sale.nonce.0);

    // The member's own purchase carries no commission.
    let own =
        sale(&chain, member.address(), member.address(), signed(&chain, &catalogue_wallet, &v1), (9 * ETH / 4, 22, 0));
    let signed_own = app.client.sign_sale(&own).await?;
    assert_eq!(pay(&chain, &member, &own, &signed_own).await?.retail, U256::ZERO);

    // Version 2 raises BOOK-1; once a sale is priced from it, version 1 prices none.
    let v2 = version(2, 2 * ETH);
    let newer = sale(
        &chain,
        customer.address(),
        member.address(),
        signed(&chain, &catalogue_wallet, &v2),
        (17 * ETH / 4, 22, 17 * ETH / 20),
    );
    app.client.sign_sale(&newer).await?;
    let (status, code) =
        refusal(app.client.sign_sale(&SaleIntent { order_ref: B256::repeat_byte(1), ..asked.clone() }).await);
    assert_eq!((status, code.as_str()), (403, "policy.catalogue_outdated"));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_catalogue_wallets_no_sale_is_signed() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let wallet = PrivateKeySigner::random();
    let v1 = version(1, ETH);
    let asked = sale(
        &chain,
        Address::repeat_byte(4),
        Address::repeat_byte(3),
        signed(&chain, &wallet, &v1),
        (9 * ETH / 4, 22, 0),
    );
    let (status, code) = refusal(app.client.sign_sale(&asked).await);
    assert_eq!((status, code.as_str()), (403, "policy.sales_not_allowed"));
    // A malformed order is refused before any rule: no lines.
    let (status, code) = refusal(app.client.sign_sale(&SaleIntent { lines: vec![], ..asked }).await);
    assert_eq!((status, code.as_str()), (422, "invalid_intent"));
    app.stop().await;
    Ok(())
}
