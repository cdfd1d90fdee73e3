//! A quarantined sale its buyer takes back (PLAN-SALES.md §4): the contract paid the buyer its whole amount while
//! the sale was open by the chain's clock, with no signature from anyone; the ledger held that amount in suspense
//! (the `Sold` event's quarantine row), so the `Refunded` event resolves the row and changes no balance. This holds
//! under every plan: an asset whose plan has no sales quarantines every sale, and its buyer may still take it back.
//! A refund of a sale the ledger applied is the plan's ([`crate::plan::sales`]).

use crate::error::LedgerError;
use crate::events::{ChainEvent, EventBody, sale_id};
use crate::exits::Refusal;
use crate::plan::room::Tx;
use crate::write::{QuarantinedSold, Rows};

/// Takes back the quarantined sale the `Refunded` event `e` of asset `asset_id` names, if the ledger quarantined
/// that sale: `Some(Ok)` when its suspense went back to the buyer, `Some(Err)` when the refund cannot be that sale's
/// (it was taken back or refunded already, or the event's buyer, amount or time differ from the sale's: paged).
/// `None` when no quarantined sale has that id: the refund is the plan's.
pub(crate) async fn take_back(
    tx: &mut Tx,
    rows: &mut Rows,
    asset_id: i32,
    e: &ChainEvent,
) -> Result<Option<Result<(), Refusal>>, LedgerError> {
    let EventBody::Refunded { id, buyer, amount, .. } = e.body else { return Ok(None) };
    let id = sale_id(&id);
    let check = |sale: &QuarantinedSold, resolved: bool| -> Result<(), Refusal> {
        if resolved {
            return Err((
                "refund_not_open",
                format!("quarantined sale {id} was taken back or refunded already: its buyer was paid twice"),
            ));
        }
        if sale.buyer != buyer || sale.amount != amount || e.block_timestamp >= sale.refundable_until {
            return Err((
                "refund_mismatch",
                format!(
                    "refund of quarantined sale {id} paid {amount} to {buyer} at {}, but the sale was {} by {} \
                     refundable until {}",
                    e.block_timestamp, sale.amount, sale.buyer, sale.refundable_until
                ),
            ));
        }
        Ok(())
    };
    if let Some((index, sale, taken)) = rows.quarantined_sale(asset_id, id) {
        let checked = check(&sale, taken);
        if checked.is_ok() {
            rows.take_back_quarantined(index, e);
        }
        return Ok(Some(checked));
    }
    let stored = sqlx::query!(
        r#"SELECT q.tx_hash, q.log_index, c.payload, q.resolved_at IS NOT NULL AS "resolved!"
           FROM quarantine q
           JOIN chain_events c ON (c.chain_id, c.tx_hash, c.log_index) = (q.chain_id, q.tx_hash, q.log_index)
           WHERE q.asset_id = $1 AND q.chain_id = $2 AND c.name = 'Sold'
             AND uint_text_to_numeric(c.payload->>'id') = $3::text::numeric
           ORDER BY c.block_number, c.log_index LIMIT 1"#,
        asset_id,
        e.key.chain_id as i64,
        id.to_string()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = stored else { return Ok(None) };
    let body: EventBody = serde_json::from_value(row.payload).map_err(|err| {
        LedgerError::Corrupt(format!("asset {asset_id}: quarantined sale {id} does not parse: {err}"))
    })?;
    let sale = QuarantinedSold::of(&body)
        .ok_or_else(|| LedgerError::Corrupt(format!("asset {asset_id}: quarantined sale {id} is no sale")))?;
    let checked = check(&sale, row.resolved);
    if checked.is_ok() {
        sqlx::query!(
            "UPDATE quarantine SET resolved_at = to_timestamp($4), taken_back_tx = $5, taken_back_log = $6
             WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3 AND resolved_at IS NULL",
            e.key.chain_id as i64,
            &row.tx_hash,
            row.log_index,
            e.block_timestamp as f64,
            e.key.tx_hash.as_slice(),
            e.key.log_index as i64
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(Some(checked))
}
