//! Reads of the binary plan (PLAN-BINARY.md) for the API, from the ledger's tables as of its last batch: each binary
//! asset's newest parameters, a member's standing (placement, children, legs and carries, pairs, paid in, active
//! buyer or how far from it, reserved), the tree around a member (bounded depth), and the closed periods with their
//! lines. Legs are sums of own volumes over a subtree (binary_nodes keeps each member's own volume, never an
//! ancestor's total: the apply path does not walk ancestors), so a standing costs the size of the member's subtree.

use alloy::primitives::Address;
use sqlx::PgPool;

use super::{BinaryParams, Side};
use crate::money::Money;
use crate::plan::Amount;
use crate::plan::PlanKind;

/// A binary asset with its newest plan version.
pub type BinaryPlan = crate::assets::NewestPlan<BinaryParams>;

fn amount(m: Money) -> Result<Amount, sqlx::Error> {
    m.to_amount().map_err(|e| sqlx::Error::Decode(e.to_string().into()))
}

/// Every binary asset with its newest plan version, by asset id.
pub async fn plans(pool: &PgPool) -> Result<Vec<BinaryPlan>, sqlx::Error> {
    crate::assets::newest_plans(pool, PlanKind::Binary).await
}

/// The newest parameters of binary asset `asset_id`, if it is one.
pub async fn params(pool: &PgPool, asset_id: i32) -> Result<Option<BinaryParams>, sqlx::Error> {
    crate::assets::newest_params(pool, asset_id, PlanKind::Binary).await
}

/// A member's node: who they are and where they sit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    /// Their number in the asset.
    pub user_no: i32,
    /// Their wallet.
    pub address: Address,
}

/// One closed period as a member saw it (their line of the close).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLine {
    /// The period.
    pub period: i64,
    /// Its end (unix time).
    pub period_end: i64,
    /// Pairs formed (n), paid and flushed.
    pub pairs: Amount,
    /// Pairs paid: min(n, max_pairs).
    pub paid: i64,
    /// Pairs matched and paid to nobody.
    pub flushed: Amount,
    /// The bonus after scaling (b).
    pub scaled: Amount,
    /// Credited reserved (r).
    pub reserved: Amount,
    /// Credited b − r.
    pub rest: Amount,
    /// Its status when credited (`pending` or `held`).
    pub rest_status: String,
}

/// A member's standing under the binary plan, from the ledger's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The member.
    pub user_no: i32,
    /// The binary parent and the side under it (`None` for genesis).
    pub parent: Option<(NodeRef, Side)>,
    /// The children, left then right.
    pub children: [Option<NodeRef>; 2],
    /// leg(X, left), leg(X, right): Σ pv of every purchase in each subtree.
    pub legs: [Amount; 2],
    /// carry(X, left), carry(X, right): the unmatched volume.
    pub carries: [Amount; 2],
    /// Σ of the member's registration and purchases.
    pub paid_in: Amount,
    /// The member's own volume (Σ pv of their purchases; it counts in their ancestors' legs, not in theirs).
    pub own_volume: Amount,
    /// Whether the member is an active buyer.
    pub active: bool,
    /// Pairs paid to the member, lifetime (k).
    pub pairs_paid: i64,
    /// Σ of their BINARY_PAIR credits still reserved.
    pub reserved: Amount,
    /// Frozen by an admin: new credits are held.
    pub frozen: bool,
    /// The member's lines of the newest closes, newest first (at most 12).
    pub lines: Vec<MemberLine>,
}

/// The standing of `wallet` under binary asset `asset_id` (`None` when the wallet is no member of it).
pub async fn standing(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<Standing>, sqlx::Error> {
    // One snapshot for every figure: read apart, a close committing between two of the reads showed its line with
    // the member's reserve and lifetime pairs from before it.
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let Some(me) = sqlx::query!(
        r#"SELECT u.user_no, u.paid_in AS "paid_in: Money", u.frozen,
                  n.parent_no, n.side, p.address AS "parent_address?",
                  COALESCE(n.own_volume, 0) AS "own_volume!: Money", COALESCE(n.active, false) AS "active!",
                  COALESCE(n.consumed, 0) AS "consumed!: Money", COALESCE(n.pairs_paid, 0) AS "pairs_paid!",
                  COALESCE(n.reserved, 0) AS "reserved!: Money"
           FROM users u
           LEFT JOIN binary_nodes n ON n.asset_id = u.asset_id AND n.user_no = u.user_no
           LEFT JOIN users p ON p.asset_id = u.asset_id AND p.user_no = n.parent_no
           WHERE u.asset_id = $1 AND u.address = $2"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let parent = match (me.parent_no, me.side.as_deref().and_then(Side::parse), me.parent_address) {
        (Some(no), Some(side), Some(a)) => Some((NodeRef { user_no: no, address: Address::from_slice(&a) }, side)),
        _ => None,
    };
    let children = sqlx::query!(
        "SELECT n.user_no, n.side, u.address FROM binary_nodes n
         JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.user_no
         WHERE n.asset_id = $1 AND n.parent_no = $2",
        asset_id,
        me.user_no
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut slots: [Option<NodeRef>; 2] = [None, None];
    for c in children {
        if let Some(side) = c.side.as_deref().and_then(Side::parse) {
            slots[side.index()] = Some(NodeRef { user_no: c.user_no, address: Address::from_slice(&c.address) });
        }
    }
    // Each leg: the own volumes of the subtree under the child on that side.
    let legs = sqlx::query!(
        r#"WITH RECURSIVE below AS (
             SELECT n.user_no, n.side AS leg, n.own_volume FROM binary_nodes n
             WHERE n.asset_id = $1 AND n.parent_no = $2
             UNION ALL
             SELECT n.user_no, b.leg, n.own_volume FROM binary_nodes n JOIN below b ON n.parent_no = b.user_no
             WHERE n.asset_id = $1)
           SELECT leg AS "leg!", sum(own_volume) AS "volume!: Money" FROM below GROUP BY leg"#,
        asset_id,
        me.user_no
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut leg = [0, 0];
    for l in legs {
        if let Some(side) = Side::parse(&l.leg) {
            leg[side.index()] = amount(l.volume)?;
        }
    }
    let consumed = amount(me.consumed)?;
    let lines = sqlx::query!(
        r#"SELECT l.period, c.period_end, l.pairs AS "pairs: Money", l.paid, l.flushed AS "flushed: Money",
                  l.scaled AS "scaled: Money", l.reserved AS "reserved: Money", l.rest AS "rest: Money", l.rest_status
           FROM binary_pair_lines l JOIN binary_closes c ON c.asset_id = l.asset_id AND c.period = l.period
           WHERE l.asset_id = $1 AND l.user_no = $2 ORDER BY l.period DESC LIMIT 12"#,
        asset_id,
        me.user_no
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|l| {
        Ok(MemberLine {
            period: l.period,
            period_end: l.period_end,
            pairs: amount(l.pairs)?,
            paid: l.paid,
            flushed: amount(l.flushed)?,
            scaled: amount(l.scaled)?,
            reserved: amount(l.reserved)?,
            rest: amount(l.rest)?,
            rest_status: l.rest_status,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(Standing {
        user_no: me.user_no,
        parent,
        children: slots,
        legs: leg,
        carries: leg.map(|l| l.saturating_sub(consumed)),
        paid_in: amount(me.paid_in)?,
        own_volume: amount(me.own_volume)?,
        active: me.active,
        pairs_paid: me.pairs_paid,
        reserved: amount(me.reserved)?,
        frozen: me.frozen,
        lines,
    }))
}

/// A node of the tree around a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// The member.
    pub node: NodeRef,
    /// Its parent's number and its side (`None` for the tree's root).
    pub parent: Option<(i32, Side)>,
    /// Levels below the tree's root (0 for the root).
    pub depth: i32,
    /// Its own volume.
    pub own_volume: Amount,
    /// Whether it is an active buyer.
    pub active: bool,
    /// Whether it has children (shown or below the depth asked).
    pub has_children: bool,
}

/// The nodes of the binary tree under `root` (itself included) down to `depth` levels below it, breadth-first, left
/// before right; `None` when `root` is not `viewer` or in `viewer`'s subtree (a member sees their own subtree only).
pub async fn tree(
    pool: &PgPool,
    asset_id: i32,
    viewer: i32,
    root: i32,
    depth: i32,
) -> Result<Option<Vec<TreeNode>>, sqlx::Error> {
    // Is `root` in the viewer's subtree? Walk up from it until a node whose parent is the viewer. Genesis, the root,
    // has a node row only once its own figures move: the walk never needs the viewer's row.
    let inside = root == viewer
        || sqlx::query_scalar!(
            r#"WITH RECURSIVE up AS (
                 SELECT user_no, parent_no FROM binary_nodes WHERE asset_id = $1 AND user_no = $2
                 UNION ALL
                 SELECT n.user_no, n.parent_no FROM binary_nodes n JOIN up ON n.user_no = up.parent_no
                 WHERE n.asset_id = $1 AND up.parent_no <> $3)
               SELECT EXISTS (SELECT 1 FROM up WHERE parent_no = $3) AS "inside!""#,
            asset_id,
            root,
            viewer
        )
        .fetch_one(pool)
        .await?;
    if !inside {
        return Ok(None);
    }
    // The page from the root's user row (genesis may have no node row yet: no volume, not an active buyer).
    let rows = sqlx::query!(
        r#"WITH RECURSIVE t AS (
             SELECT u.user_no, NULL::int4 AS parent_no, NULL::text AS side, 0 AS depth, ARRAY[]::int4[] AS path
             FROM users u WHERE u.asset_id = $1 AND u.user_no = $2
             UNION ALL
             SELECT n.user_no, n.parent_no, n.side, t.depth + 1,
                    t.path || CASE n.side WHEN 'left' THEN 0 ELSE 1 END
             FROM binary_nodes n JOIN t ON n.parent_no = t.user_no
             WHERE n.asset_id = $1 AND t.depth < $3)
           SELECT t.user_no AS "user_no!", t.parent_no, t.side, t.depth AS "depth!", u.address,
                  COALESCE(n.own_volume, 0) AS "own_volume!: Money", COALESCE(n.active, FALSE) AS "active!",
                  EXISTS (SELECT 1 FROM binary_nodes c WHERE c.asset_id = $1 AND c.parent_no = t.user_no)
                    AS "has_children!"
           FROM t JOIN users u ON u.asset_id = $1 AND u.user_no = t.user_no
           LEFT JOIN binary_nodes n ON n.asset_id = $1 AND n.user_no = t.user_no
           ORDER BY t.depth, t.path"#,
        asset_id,
        root,
        depth
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(TreeNode {
                node: NodeRef { user_no: r.user_no, address: Address::from_slice(&r.address) },
                parent: match (r.parent_no, r.side.as_deref().and_then(Side::parse)) {
                    (Some(p), Some(s)) if r.depth > 0 => Some((p, s)),
                    _ => None,
                },
                depth: r.depth,
                own_volume: amount(r.own_volume)?,
                active: r.active,
                has_children: r.has_children,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map(Some)
}

/// The number of the member with `wallet` in binary asset `asset_id`.
pub async fn member_no(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.user_no FROM users u JOIN assets a ON a.id = u.asset_id
         WHERE u.asset_id = $1 AND u.address = $2 AND a.plan_kind = 'binary'",
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(pool)
    .await
}

/// One closed period's record (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The period.
    pub period: i64,
    /// Its first second and its end (unix time).
    pub bounds: (i64, i64),
    /// The plan version it closed under.
    pub plan_version: i32,
    /// The confirmed block whose time closed it.
    pub closing_block: i64,
    /// Events applied when it closed.
    pub applied_events: i64,
    /// V, C, the budget, B, Σ credited and Σ of it reserved.
    pub volume: Amount,
    /// C: the company's balance before the close.
    pub company_before: Amount,
    /// min(C, V × max_payout_bps / 10000).
    pub budget: Amount,
    /// B: Σ bonus before scaling.
    pub bonuses: Amount,
    /// Σ credited (the company's debit).
    pub credited: Amount,
    /// Σ of it reserved.
    pub reserved: Amount,
    /// Lines (members with a carry before the close).
    pub lines: i64,
}

/// Closed periods of `asset_id` before `before` (all when `None`), newest first, at most `limit`.
pub async fn closes(pool: &PgPool, asset_id: i32, before: Option<i64>, limit: i64) -> Result<Vec<Close>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.period, c.period_start, c.period_end, c.plan_version, c.closing_block, c.applied_events,
                  c.volume AS "volume: Money", c.company_before AS "company_before: Money", c.budget AS "budget: Money",
                  c.bonuses AS "bonuses: Money", c.credited AS "credited: Money", c.reserved AS "reserved: Money",
                  (SELECT count(*) FROM binary_pair_lines l WHERE l.asset_id = c.asset_id AND l.period = c.period)
                    AS "lines!"
           FROM binary_closes c WHERE c.asset_id = $1 AND ($2::int8 IS NULL OR c.period < $2)
           ORDER BY c.period DESC LIMIT $3"#,
        asset_id,
        before,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Close {
                period: r.period,
                bounds: (r.period_start, r.period_end),
                plan_version: r.plan_version,
                closing_block: r.closing_block,
                applied_events: r.applied_events,
                volume: amount(r.volume)?,
                company_before: amount(r.company_before)?,
                budget: amount(r.budget)?,
                bonuses: amount(r.bonuses)?,
                credited: amount(r.credited)?,
                reserved: amount(r.reserved)?,
                lines: r.lines,
            })
        })
        .collect()
}

/// What a binary asset's members have had so far (the public plan's odds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Odds {
    /// Members other than genesis.
    pub members: i64,
    /// Members credited at least one pair bonus.
    pub members_paid_pairs: i64,
    /// Periods closed.
    pub periods_closed: i64,
    /// Σ credited by the closes.
    pub pair_bonuses: Amount,
    /// Of it, still reserved.
    pub reserved: Amount,
    /// Closes whose bonuses were scaled down to the budget.
    pub periods_scaled: i64,
}

/// The odds of binary asset `asset_id`.
pub async fn odds(pool: &PgPool, asset_id: i32) -> Result<Odds, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM users WHERE asset_id = $1 AND user_no <> 0) AS "members!",
                  (SELECT count(DISTINCT beneficiary_no) FROM rewards WHERE asset_id = $1 AND kind = 'BINARY_PAIR')
                    AS "members_paid_pairs!",
                  (SELECT count(*) FROM binary_closes WHERE asset_id = $1) AS "periods_closed!",
                  (SELECT COALESCE(sum(credited), 0) FROM binary_closes WHERE asset_id = $1) AS "pair_bonuses!: Money",
                  (SELECT COALESCE(sum(amount), 0) FROM rewards
                   WHERE asset_id = $1 AND kind = 'BINARY_PAIR' AND status = 'reserved') AS "reserved!: Money",
                  (SELECT count(*) FROM binary_closes WHERE asset_id = $1 AND bonuses > budget) AS "periods_scaled!""#,
        asset_id
    )
    .fetch_one(pool)
    .await?;
    Ok(Odds {
        members: r.members,
        members_paid_pairs: r.members_paid_pairs,
        periods_closed: r.periods_closed,
        pair_bonuses: amount(r.pair_bonuses)?,
        reserved: amount(r.reserved)?,
        periods_scaled: r.periods_scaled,
    })
}
