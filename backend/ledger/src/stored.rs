//! What the plans' rooms read from the tables every plan shares: plan versions, users, the company's balance, the
//! next company credit's number.

use crate::error::LedgerError;
use crate::money::Money;
use crate::plan::room::Tx;
use crate::plan::{Amount, PlanRules, PlanSchedule, PlanVersion, RowCounters, UserState};
use alloy::primitives::Address;

/// The stored plan versions of an asset, with the parameters of its plan kind.
pub(crate) async fn schedule<P: PlanRules + serde::de::DeserializeOwned>(
    tx: &mut Tx,
    asset_id: i32,
) -> Result<PlanSchedule<P>, LedgerError> {
    let rows = sqlx::query!(
        "SELECT version, effective_from_block, params FROM plan_versions WHERE asset_id = $1 ORDER BY version",
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for r in rows {
        let params = serde_json::from_value(r.params).map_err(|e| {
            LedgerError::Corrupt(format!("asset {asset_id}: plan version {} does not parse: {e}", r.version))
        })?;
        versions.push(PlanVersion {
            version: r.version as u32,
            effective_from_block: r.effective_from_block as u64,
            params,
        });
    }
    Ok(PlanSchedule::from_versions(versions)?)
}

/// The next company-credit number of an asset.
pub(crate) async fn next_credit_no(tx: &mut Tx, asset_id: i32) -> Result<u64, LedgerError> {
    let n = sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(credit_no) + 1, 0) AS "next!" FROM company_credits WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(n as u64)
}

/// The users of an asset in number order, as the plans see them.
pub(crate) async fn users(tx: &mut Tx, asset_id: i32) -> Result<Vec<UserState>, LedgerError> {
    let user_rows = sqlx::query!(
        r#"SELECT user_no, address, sponsor_no, direct_count, has_retopup, retopup_count, frozen,
                  exited_block IS NOT NULL AS "exited!"
         FROM users WHERE asset_id = $1 ORDER BY user_no"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut users = Vec::with_capacity(user_rows.len());
    for (i, r) in user_rows.into_iter().enumerate() {
        if r.user_no as usize != i {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: user numbers have a gap at {i}")));
        }
        let mut u = UserState::new(Address::from_slice(&r.address), r.sponsor_no.map(|s| s as u32));
        u.direct_count = r.direct_count as u64;
        u.has_retopup = r.has_retopup;
        u.retopup_count = r.retopup_count as u64;
        u.frozen = r.frozen;
        u.exited = r.exited;
        users.push(u);
    }
    Ok(users)
}

/// The company's balance a generation asset's rank bonuses are scaled to (PLAN-GENERATION.md §3): everything
/// credited to it less what it paid (`company_total`), less treasury transfers executed (refunds of quarantined
/// inflows were never the company's).
pub(crate) async fn company_balance(tx: &mut Tx, asset_id: i32) -> Result<Amount, LedgerError> {
    let c = sqlx::query_scalar!(
        r#"SELECT GREATEST(company_total - (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                                          WHERE t.asset_id = a.id AND t.status = 'executed'
                                            AND t.refund_tx_hash IS NULL), 0) AS "c!: Money"
         FROM assets a WHERE id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(c.to_amount()?)
}

/// The next reward, company credit and retopup numbers of an asset: the counters every plan keeps (the others are
/// left at 0, the events applied too: the asset row has them).
pub(crate) async fn next_numbers(tx: &mut Tx, asset_id: i32) -> Result<RowCounters, LedgerError> {
    let next = sqlx::query!(
        r#"SELECT (SELECT COALESCE(MAX(reward_no) + 1, 0) FROM rewards WHERE asset_id = $1) AS "reward!",
                  (SELECT COALESCE(MAX(credit_no) + 1, 0) FROM company_credits WHERE asset_id = $1) AS "credit!",
                  (SELECT COALESCE(MAX(retopup_no) + 1, 0) FROM chain_events WHERE asset_id = $1 AND retopup_no IS NOT NULL)
                    AS "retopup!""#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(RowCounters {
        reward: next.reward as u64,
        company_credit: next.credit as u64,
        retopup: next.retopup as u64,
        ..RowCounters::default()
    })
}

/// What a plan that pays from the company's balance re-reads after an admin action: its plan versions, and that
/// balance (forfeits credit the company).
pub(crate) async fn versions_and_company<P: PlanRules + serde::de::DeserializeOwned>(
    tx: &mut Tx,
    asset_id: i32,
) -> Result<(PlanSchedule<P>, Amount), LedgerError> {
    Ok((schedule(tx, asset_id).await?, company_balance(tx, asset_id).await?))
}
