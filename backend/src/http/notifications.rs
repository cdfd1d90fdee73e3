//! The members' notification centre and e-mail settings (issue 49): their notifications, paged, with the unread
//! count and marking read; the e-mail address (double opt-in: a confirmation link is sent first), what is received
//! and in which language, and erasure; the public links of the messages (confirm, RFC 8058 one-click unsubscribe).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::ErrorBody;
use super::extract::{Json, Query};
use super::page::page_limit;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::AuthUser;
use crate::notify::keys::{LinkPurpose, NotifyKeys};
use crate::notify::texts;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
        .routes(routes!(email_settings, set_email, erase_email))
        .routes(routes!(set_preferences))
        .routes(routes!(confirm_email))
        .routes(routes!(unsubscribe))
}

/// `GET /v1/users/notifications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
    /// The groups listed, comma-separated: `money` (payments, rewards, payouts, a leave, the members' exit opening),
    /// `account` (rank, freezes) and `news` (a proof of solvency committed). Default `money,account`: news is off,
    /// its latest item per asset is in `latest_news`.
    #[serde(default, deserialize_with = "bounded::optional_groups")]
    pub groups: Option<String>,
}

/// The groups named by `groups` (default [`ledger::notify::DEFAULT_GROUPS`]); 400 on an unknown or empty one.
fn groups_of(groups: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let Some(list) = groups else { return Ok(ledger::notify::DEFAULT_GROUPS.to_vec()) };
    let mut out = Vec::new();
    for name in list.split(',') {
        let group = ledger::notify::GROUPS.iter().find(|g| **g == name.trim()).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("groups: {name:?} is none of money, account, news"))
        })?;
        if !out.contains(group) {
            out.push(*group);
        }
    }
    Ok(out)
}

/// Unread notifications per group.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadByGroup {
    /// Payments, rewards, payouts, a leave, the members' exit opening.
    pub money: i64,
    /// Rank, freezes.
    pub account: i64,
    /// Proofs of solvency committed.
    pub news: i64,
}

impl UnreadByGroup {
    fn of(by_kind: &[(String, i64)]) -> Self {
        let sum = |group: &str| -> i64 {
            by_kind.iter().filter(|(k, _)| ledger::notify::group_of(k) == group).map(|(_, n)| n).sum()
        };
        Self { money: sum("money"), account: sum("account"), news: sum("news") }
    }
}

/// One notification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    /// Its id (the same in the e-mail's Message-ID and the webhook's `webhook-id`).
    pub id: String,
    /// What happened: one of `payment.applied`, `payment.expired`, `reward.credited`, `period.bonus`, `rank.reached`, `payout.sent`,
    /// `payout.paid`, `payout.deferred`, `account.frozen`, `account.unfrozen`, `solvency.committed`, `exit.opened`,
    /// `member.left`.
    pub kind: String,
    /// The asset it is about.
    pub asset_id: i32,
    /// Whether it is about the whole asset (news every member of it sees) rather than the caller alone.
    pub news: bool,
    /// Its facts: amounts as decimal strings of base units (`amount`, `gross`, `fee`, `net`, `reserved`, `held`,
    /// `total`, `custody`, `due`, `owed`, `forfeited`), `chain_id`, `tx_hash` (0x), `block_number`, `batch_id`,
    /// `period`, `rank`, `epoch`, `to` and `contract` (0x).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it was written, RFC 3339.
    pub created_at: String,
    /// Whether the caller read it.
    pub read: bool,
    /// The page cursor.
    pub seq: i64,
}

/// A page of notifications with the unread count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    /// The page, newest first.
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<i64>,
    /// How many of the caller's notifications of the groups listed are unread.
    pub unread: i64,
    /// Unread per group, whatever was listed.
    pub unread_by_group: UnreadByGroup,
    /// The newest news of each of the caller's assets (read or not): the centre's one line of news while it is off.
    pub latest_news: Vec<NotificationView>,
}

fn view(n: ledger::notify::Notification) -> NotificationView {
    NotificationView {
        news: n.news,
        id: n.id,
        kind: n.kind,
        asset_id: n.asset_id,
        data: n.data,
        created_at: n.created_at,
        read: n.read,
        seq: n.seq,
    }
}

/// The caller's notifications (their own and their assets' news), newest first.
#[utoipa::path(get, path = "/v1/users/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationsQuery),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<NotificationsQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let groups = groups_of(q.groups.as_deref())?;
    let wallet = user.wallet.as_slice();
    let kinds = ledger::notify::kinds_of(&groups);
    let before = q.cursor.unwrap_or(i64::MAX);
    let rows = ledger::notify::member_page(&ctx.db, wallet, before, q.unread, &kinds, limit + 1).await?;
    let by_kind = ledger::notify::unread_by_kind(&ctx.db, wallet).await?;
    let unread: i64 =
        by_kind.iter().filter(|(k, _)| groups.contains(&ledger::notify::group_of(k))).map(|(_, n)| n).sum();
    let latest_news = ledger::notify::latest_news(&ctx.db, wallet).await?.into_iter().map(view).collect();
    let items: Vec<NotificationView> = rows.into_iter().map(view).collect();
    let page = super::page::Page::keyset(items, limit, |n| n.seq);
    Ok(Json(NotificationPage {
        items: page.items,
        next_cursor: page.next_cursor,
        unread,
        unread_by_group: UnreadByGroup::of(&by_kind),
        latest_news,
    }))
}

/// `POST /v1/users/notifications/read`: the ids to mark read, or `all`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// At most 100 ids (others' are ignored).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Every notification up to now instead.
    #[serde(default)]
    pub all: bool,
}

/// The unread count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unread {
    /// How many of the caller's notifications of the default groups (`money`, `account`) are unread: the header's
    /// badge.
    pub unread: i64,
    /// Unread per group.
    pub unread_by_group: UnreadByGroup,
}

/// Marks notifications read.
#[utoipa::path(post, path = "/v1/users/notifications/read", tag = "notifications", security(("bearer" = [])),
    request_body = MarkRead, responses((status = 200, body = Unread), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<MarkRead>,
) -> Result<Json<Unread>, ApiError> {
    if req.all != req.ids.is_empty() {
        return Err(ApiError::unprocessable("invalid_body", "give either ids (1 to 100) or all: true"));
    }
    if req.ids.len() > 100 || req.ids.iter().any(|id| id.is_empty() || id.len() > 200) {
        return Err(ApiError::unprocessable("invalid_body", "at most 100 ids of at most 200 characters"));
    }
    let ids = (!req.all).then_some(req.ids.as_slice());
    let by_kind = ledger::notify::mark_read(&ctx.db, user.wallet.as_slice(), ids).await?;
    let by_group = UnreadByGroup::of(&by_kind);
    Ok(Json(Unread { unread: by_group.money + by_group.account, unread_by_group: by_group }))
}

/// The caller's e-mail settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailSettings {
    /// Whether this deployment sends e-mail at all.
    pub available: bool,
    /// The address, masked (`m•••r@e•••.test`); absent when none is set (or it was erased).
    pub address: Option<String>,
    /// Whether the address was confirmed from its link (nothing is sent before).
    pub confirmed: bool,
    /// Whether it was unsubscribed from a message's link (nothing is sent until preferences are saved again).
    pub unsubscribed: bool,
    /// The language of the messages.
    pub language: String,
    /// The kinds received by e-mail.
    pub kinds: Vec<String>,
    /// Every kind there is.
    pub all_kinds: Vec<String>,
    /// The languages messages can be written in.
    pub languages: Vec<String>,
}

fn settings_view(ctx: &ApiContext, contact: Option<ledger::notify::contacts::Contact>) -> EmailSettings {
    let available = ctx.settings.notifications.as_ref().is_some_and(|n| n.smtp.is_some());
    let all_kinds = ledger::notify::KINDS.iter().map(|k| k.to_string()).collect();
    let languages = texts::LANGUAGES.iter().map(|k| k.to_string()).collect();
    match contact {
        None => EmailSettings {
            available,
            address: None,
            confirmed: false,
            unsubscribed: false,
            language: "en".into(),
            kinds: vec![],
            all_kinds,
            languages,
        },
        Some(c) => EmailSettings {
            available,
            address: Some(c.email_masked),
            confirmed: c.confirmed_at.is_some(),
            unsubscribed: c.unsubscribed_at.is_some(),
            language: c.language,
            kinds: c.kinds,
            all_kinds,
            languages,
        },
    }
}

/// The caller's e-mail settings.
#[utoipa::path(get, path = "/v1/users/email", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = EmailSettings)))]
pub async fn email_settings(State(ctx): State<ApiContext>, user: AuthUser) -> Result<Json<EmailSettings>, ApiError> {
    let contact = ledger::notify::contacts::get(&ctx.db, user.wallet.as_slice()).await?;
    Ok(Json(settings_view(&ctx, contact)))
}

/// `PUT /v1/users/email`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEmail {
    /// The address (at most 254 characters).
    #[serde(deserialize_with = "bounded::email")]
    pub email: String,
    /// The messages' language (one of `languages`).
    #[serde(deserialize_with = "bounded::name")]
    pub language: String,
    /// The kinds to receive (each one of `all_kinds`).
    pub kinds: Vec<String>,
}

/// `PUT /v1/users/email/preferences`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPreferences {
    /// The messages' language.
    #[serde(deserialize_with = "bounded::name")]
    pub language: String,
    /// The kinds to receive.
    pub kinds: Vec<String>,
}

fn notify_keys(ctx: &ApiContext) -> Result<NotifyKeys, ApiError> {
    let settings = ctx
        .settings
        .notifications
        .as_ref()
        .filter(|n| n.smtp.is_some())
        .ok_or_else(|| ApiError::unavailable("notifications_not_configured", "this deployment sends no e-mail"))?;
    Ok(NotifyKeys::new(&settings.key().map_err(ApiError::Internal)?))
}

/// `[notifications.confirmations]` as the ledger counts them.
fn confirmation_limits(ctx: &ApiContext) -> ledger::notify::contacts::ConfirmationLimits {
    let c = ctx.settings.notifications.as_ref().map(|n| n.confirmations).unwrap_or_default();
    ledger::notify::contacts::ConfirmationLimits {
        per_wallet: c.per_wallet,
        per_address: c.per_address,
        window_secs: c.window_secs,
    }
}

fn check_choice(language: &str, kinds: &[String]) -> Result<(), ApiError> {
    if !texts::is_language(language) {
        return Err(ApiError::unprocessable(
            "invalid_language",
            format!("language must be one of {:?}", texts::LANGUAGES),
        ));
    }
    if kinds.len() > ledger::notify::KINDS.len() * 2 || kinds.iter().any(|k| !ledger::notify::is_kind(k)) {
        return Err(ApiError::unprocessable(
            "invalid_kinds",
            format!("kinds must be among {:?}", ledger::notify::KINDS),
        ));
    }
    Ok(())
}

fn dedup(kinds: &[String]) -> Vec<String> {
    ledger::notify::KINDS.iter().filter(|k| kinds.iter().any(|c| c == *k)).map(|k| k.to_string()).collect()
}

/// An address masked: the first and last letter of its local part and the first of its domain.
pub fn mask(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let last = |s: &str| {
        if s.chars().count() > 1 { s.chars().last().map(String::from).unwrap_or_default() } else { String::new() }
    };
    let tld = domain.rsplit_once('.').map(|(_, t)| t).unwrap_or("");
    format!("{}•••{}@{}•••.{tld}", first(local), last(local), first(domain))
}

/// Sets the caller's address and what they receive; a confirmation link is sent to it, and nothing else until it
/// is followed. Setting it again (the same or another) sends a new link and kills the earlier ones.
#[utoipa::path(put, path = "/v1/users/email", tag = "notifications", security(("bearer" = [])),
    request_body = SetEmail, responses((status = 202, body = EmailSettings), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn set_email(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<SetEmail>,
) -> Result<(StatusCode, Json<EmailSettings>), ApiError> {
    let keys = notify_keys(&ctx)?;
    let email = req.email.trim();
    let parsed: lettre::Address =
        email.parse().map_err(|_| ApiError::unprocessable("invalid_email", "not an e-mail address"))?;
    let email = parsed.to_string();
    check_choice(&req.language, &req.kinds)?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    let wallet = user.wallet.as_slice();
    let sealed = keys.seal(email.as_bytes());
    let limits = confirmation_limits(&ctx);
    let set = ledger::notify::contacts::set_address(
        &ctx.db,
        wallet,
        &sealed,
        &mask(&email),
        &keys.address_digest(&email),
        &req.language,
        &dedup(&req.kinds),
        &nonce,
        limits,
    )
    .await?;
    if let ledger::notify::contacts::SetAddress::Limited { by_wallet } = set {
        tracing::warn!(wallet = %user.wallet, by_wallet, "confirmation e-mail refused: over the limit");
        return Err(ApiError::RateLimited { retry_after_secs: limits.window_secs });
    }
    let contact = ledger::notify::contacts::get(&ctx.db, wallet).await?;
    Ok((StatusCode::ACCEPTED, Json(settings_view(&ctx, contact))))
}

/// Changes what the caller receives and in which language (saving also undoes an unsubscribe).
#[utoipa::path(put, path = "/v1/users/email/preferences", tag = "notifications", security(("bearer" = [])),
    request_body = SetPreferences, responses((status = 200, body = EmailSettings), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_preferences(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<SetPreferences>,
) -> Result<Json<EmailSettings>, ApiError> {
    check_choice(&req.language, &req.kinds)?;
    let wallet = user.wallet.as_slice();
    if !ledger::notify::contacts::set_preferences(&ctx.db, wallet, &req.language, &dedup(&req.kinds)).await? {
        return Err(ApiError::Missing { code: "no_email", message: "no e-mail address is set".into() });
    }
    let contact = ledger::notify::contacts::get(&ctx.db, wallet).await?;
    Ok(Json(settings_view(&ctx, contact)))
}

/// What an erasure did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// Whether an address was there to erase.
    pub erased: bool,
}

/// Erases the caller's address (the only personal data kept; pending e-mails are cancelled, the erasure audited).
/// On-chain data is public and stays.
#[utoipa::path(delete, path = "/v1/users/email", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Erased)))]
pub async fn erase_email(State(ctx): State<ApiContext>, user: AuthUser) -> Result<Json<Erased>, ApiError> {
    let actor = user.wallet.to_checksum(None);
    let erased = ledger::notify::contacts::erase(&ctx.db, user.wallet.as_slice(), &actor).await?;
    Ok(Json(Erased { erased }))
}

/// A link's token.
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkToken {
    /// The token from the message's link.
    #[serde(deserialize_with = "bounded::link_token")]
    pub token: String,
}

/// What a link did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkDone {
    /// The address, masked.
    pub address: String,
}

async fn follow(ctx: &ApiContext, purpose: LinkPurpose, token: &str) -> Result<Json<LinkDone>, ApiError> {
    let keys = notify_keys(ctx)?;
    let invalid = || ApiError::bad_request("invalid_token", "this link is not valid");
    let (address, nonce) = keys.check_token(purpose, token).ok_or_else(invalid)?;
    let done = match purpose {
        LinkPurpose::Confirm => ledger::notify::contacts::confirm(&ctx.db, &address, &nonce).await?,
        LinkPurpose::Unsubscribe => ledger::notify::contacts::unsubscribe(&ctx.db, &address, &nonce).await?,
    };
    if !done {
        return Err(ApiError::Conflict {
            code: "link_expired",
            message: "this link is for an address that was changed or erased since".into(),
        });
    }
    let contact = ledger::notify::contacts::get(&ctx.db, &address).await?;
    Ok(Json(LinkDone { address: contact.map(|c| c.email_masked).unwrap_or_default() }))
}

/// Confirms an address from its message's link (double opt-in).
#[utoipa::path(post, path = "/v1/public/email/confirm", tag = "notifications", request_body = LinkToken,
    responses((status = 200, body = LinkDone), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn confirm_email(
    State(ctx): State<ApiContext>,
    Json(req): Json<LinkToken>,
) -> Result<Json<LinkDone>, ApiError> {
    follow(&ctx, LinkPurpose::Confirm, &req.token).await
}

/// Unsubscribes an address from every e-mail: the one-click POST of RFC 8058 (a mail client sends the form body
/// `List-Unsubscribe=One-Click`, which is not read), or the dApp's page.
#[utoipa::path(post, path = "/v1/public/email/unsubscribe", tag = "notifications", params(LinkToken),
    responses((status = 200, body = LinkDone), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn unsubscribe(
    State(ctx): State<ApiContext>,
    Query(q): Query<LinkToken>,
) -> Result<Json<LinkDone>, ApiError> {
    follow(&ctx, LinkPurpose::Unsubscribe, &q.token).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_is_masked_to_three_letters_and_its_top_level_domain() {
        assert_eq!(super::mask("member@example.test"), "m•••r@e•••.test");
        assert_eq!(super::mask("a@b.io"), "a•••@b•••.io");
    }
}
