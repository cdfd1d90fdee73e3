//! Public disclosure of a plan's odds (PLAN.md §9).

use serde::Serialize;
use sqlx::PgPool;

use crate::error::LedgerError;
use crate::plan::Amount;

/// Aggregate outcomes of one asset's participants (every user but genesis).
///
/// A participant's net result is what they have received — rewards `pending`, `batched` or
/// `settled`; not `reserved` (spent on their own nodes), `held`, `maturing` or `forfeited` — minus what
/// they paid in (registration and retopups; under the sales plan also their own purchases not taken back,
/// PLAN-SALES.md: what members received net of their own purchases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disclosure {
    /// Asset the figures are for; nothing mixes assets.
    pub asset_id: i32,
    /// Users of the asset other than genesis.
    pub participants: u64,
    /// Participants whose received total is at least what they paid in.
    pub received_at_least_paid_in: u64,
    /// Lower median of the net results in base units (an actual participant's result).
    pub median_net: Option<i128>,
    /// Everything credited to the company in this asset so far, in base units.
    pub company_total: Amount,
}

/// The public odds of asset `asset_id` (no login): who got back what they paid, median net, company share.
pub async fn disclosure(pool: &PgPool, asset_id: i32) -> Result<Disclosure, LedgerError> {
    let row = sqlx::query!(
        r#"WITH own AS (
           SELECT seller_no, sum(amount) AS spent FROM sales
           WHERE asset_id = $1 AND NOT customer AND state <> 'refunded' GROUP BY seller_no
         ), nets AS (
           SELECT u.pending + u.batched + u.settled - u.paid_in - COALESCE(o.spent, 0) AS net
           FROM users u LEFT JOIN own o ON o.seller_no = u.user_no WHERE u.asset_id = $1 AND u.user_no > 0
         )
         SELECT count(*) AS "participants!", count(*) FILTER (WHERE net >= 0) AS "received_at_least_paid_in!",
                (percentile_disc(0.5) WITHIN GROUP (ORDER BY net))::text AS "median?",
                (SELECT company_total FROM assets WHERE id = $1) AS "company?: crate::money::Money"
         FROM nets"#,
        asset_id
    )
    .fetch_one(pool)
    .await?;
    let company = row.company.ok_or_else(|| LedgerError::Corrupt(format!("no asset {asset_id}")))?;
    let median = row
        .median
        .map(|m| m.parse::<i128>().map_err(|_| LedgerError::Corrupt(format!("median {m} is not an i128"))))
        .transpose()?;
    Ok(Disclosure {
        asset_id,
        participants: row.participants as u64,
        received_at_least_paid_in: row.received_at_least_paid_in as u64,
        median_net: median,
        company_total: company.to_amount()?,
    })
}
