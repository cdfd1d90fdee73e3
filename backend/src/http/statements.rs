//! Statements as CSV, streamed while the ledger is read (`ledger::statements`): a member's own money movements in an
//! asset (`/v1/users/statement.csv`), and for any staff role the payout entries, credits and the company's ledger of
//! an asset over a period (`/v1/admin/statements/…`).
//!
//! CSV: RFC 4180 (comma, CRLF, a header row, a cell quoted when it holds a comma, a quote, CR or LF, quotes doubled).
//! A text cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or CR) is prefixed with
//! `'`. Amounts are never negative — a `direction` or `type` column says which way money moved — so numeric cells
//! are plain digits (with a `.` in the decimal form), never prefixed, and stay numbers in a spreadsheet. Every amount
//! comes twice: in decimal units of the asset (`…`) and in exact base units (`…_base`). Times are RFC 3339 UTC, the
//! chain's time of the block that moved the money.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::stream::{BoxStream, StreamExt};
use futures::{SinkExt, channel::mpsc};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AdminUser, AuthUser, Query};
use crate::http::types::{human_units, rfc3339_secs, show_address};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(member_statement))
        .routes(routes!(payouts_statement))
        .routes(routes!(rewards_statement))
        .routes(routes!(company_statement))
}

/// Longest period of a staff statement, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Bytes gathered before a chunk of the answer is sent.
const CHUNK: usize = 16 * 1024;

/// A member's statement: the asset, and optionally a period of whole UTC days.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MemberStatementQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// First day included, `YYYY-MM-DD` (UTC); default: from the start.
    pub from: Option<String>,
    /// First day *not* included, `YYYY-MM-DD` (UTC), after `from`; default: up to now.
    pub to: Option<String>,
}

/// A staff statement: the asset and a period of whole UTC days, [from, to), at most 366 days.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// First day included, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// First day not included, `YYYY-MM-DD` (UTC): after `from`, at most 366 days after it.
    pub to: String,
}

/// `YYYY-MM-DD` as the Unix time of that day's 00:00 UTC; 400 `invalid_date` (anything but 10 characters is refused
/// before the date parser sees it).
fn day_start(text: &str, field: &str) -> Result<i64, ApiError> {
    let invalid = || ApiError::bad_request("invalid_date", format!("{field} must be a date YYYY-MM-DD"));
    if text.len() != 10 {
        return Err(invalid());
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid())?;
    let secs = day.and_hms_opt(0, 0, 0).ok_or_else(invalid)?.and_utc().timestamp();
    if secs < 0 {
        return Err(ApiError::bad_request("invalid_date", format!("{field} must be 1970-01-01 or later")));
    }
    Ok(secs)
}

/// A checked period: `from` < `to`, and (when `max_days`) at most that many days; 400 `invalid_period`.
fn period(from: Option<&str>, to: Option<&str>, max_days: Option<i64>) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let from = from.map(|f| day_start(f, "from")).transpose()?;
    let to = to.map(|t| day_start(t, "to")).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(ApiError::bad_request("invalid_period", "to must be a later day than from"));
        }
        if let Some(max) = max_days
            && t - f > max * 86_400
        {
            return Err(ApiError::bad_request("invalid_period", format!("a period is at most {max} days")));
        }
    }
    Ok((from, to))
}

/// One CSV row being written: its cells, each one cell whatever it holds (an empty one included), written as one
/// record by the `csv` crate (RFC 4180 quoting, CRLF line ends). Hand-written joining once dropped the separator
/// after an empty first cell, shifting every later value under the wrong heading (issue 66).
#[derive(Default)]
struct Row(Vec<String>);

impl Row {
    /// A text cell: formula-like starts prefixed with `'` (a spreadsheet would run them); quoted by the writer.
    fn text(&mut self, value: &str) -> &mut Self {
        let guarded =
            if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
        self.0.push(guarded);
        self
    }

    /// A cell the server made of digits (numbers, hashes, times): written as is.
    fn raw(&mut self, value: &str) -> &mut Self {
        self.0.push(value.to_owned());
        self
    }

    fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or_default())
    }

    fn number(&mut self, value: Option<i64>) -> &mut Self {
        self.raw(&value.map(|v| v.to_string()).unwrap_or_default())
    }

    /// An amount: decimal units, then base units (two cells; both empty for none).
    fn amount(&mut self, base: Option<&ledger::money::Money>, decimals: i16) -> &mut Self {
        let base = base.map(ToString::to_string);
        let human = base.as_deref().map(|b| human_units(b, decimals));
        self.raw(human.as_deref().unwrap_or_default()).raw(base.as_deref().unwrap_or_default())
    }

    fn time(&mut self, unix: Option<i64>) -> &mut Self {
        self.raw(&unix.and_then(|t| u64::try_from(t).ok()).map(rfc3339_secs).unwrap_or_default())
    }

    fn hash(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        self.raw(&bytes.map(alloy::hex::encode_prefixed).unwrap_or_default())
    }

    /// Writes the row as one record of `out` and empties it for the next.
    fn end(&mut self, out: &mut csv::Writer<Vec<u8>>) -> Result<(), csv::Error> {
        let written = out.write_record(&self.0);
        self.0.clear();
        written
    }
}

/// A CSV writer into memory, with CRLF line ends (RFC 4180).
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(2 * CHUNK))
}

/// What `out` has written so far, taken out of it (flushed first); `out` is a fresh writer after.
fn take_written(out: &mut csv::Writer<Vec<u8>>) -> Result<Vec<u8>, csv::Error> {
    std::mem::replace(out, csv_writer()).into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The CSV answer: `header`, then a line per row of `rows` (each written by `line`), streamed in chunks while the
/// ledger is read. A read failing midway cuts the body short (the client sees a broken download, never a silently
/// short statement).
fn csv_answer<T: Send + 'static>(
    ctx: &ApiContext,
    filename: String,
    header: &'static str,
    rows: impl for<'a> FnOnce(&'a sqlx::PgPool) -> BoxStream<'a, Result<T, sqlx::Error>> + Send + 'static,
    mut line: impl FnMut(&T, &mut Row) + Send + 'static,
) -> Response {
    let (mut tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let db = ctx.db.clone();
    tokio::spawn(async move {
        let mut out = csv_writer();
        let mut row = Row::default();
        for cell in header.split(',') {
            row.raw(cell);
        }
        if let Err(e) = row.end(&mut out) {
            tracing::error!(error = %e, "a statement's header could not be written");
            let _ = tx.send(Err(std::io::Error::other("the statement could not be written"))).await;
            return;
        }
        let mut stream = rows(&db);
        while let Some(item) = stream.next().await {
            match item {
                Ok(item) => {
                    line(&item, &mut row);
                    let written = row.end(&mut out).and_then(|()| {
                        Ok(if out.get_ref().len() >= CHUNK { Some(take_written(&mut out)?) } else { None })
                    });
                    match written {
                        Ok(Some(chunk)) => {
                            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                                return; // the client went away
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "a statement's row could not be written");
                            let _ = tx.send(Err(std::io::Error::other("the statement could not be written"))).await;
                            return;
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a statement could not be read to its end");
                    let _ = tx.send(Err(std::io::Error::other("the statement could not be read"))).await;
                    return;
                }
            }
        }
        match take_written(&mut out) {
            Ok(rest) => {
                let _ = tx.send(Ok(Bytes::from(rest))).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "a statement's end could not be written");
                let _ = tx.send(Err(std::io::Error::other("the statement could not be written"))).await;
            }
        }
    });
    let mut response = Body::from_stream(rx).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The columns of a member's statement.
pub const MEMBER_HEADER: &str =
    "time,type,detail,amount,amount_base,fee,fee_base,net,net_base,symbol,status,block,tx_hash,batch_id";

/// The caller's statement in one asset as CSV (`text/csv`, an attachment), oldest first: every payment in
/// (`payment`: registration or retopup, with its transaction), credit (`reward`: kind and level, status), executed
/// payout entry (`payout`: `amount` what it settled, `fee` kept, `net` paid; status `paid` or `claimable`; batch and
/// transaction) and claim (`claim`: `net` pulled from the contract) whose block time is in [`from`, `to`).
/// Columns: `time` (RFC 3339 UTC, the block's), `type`, `detail`, `amount`, `amount_base`, `fee`, `fee_base`, `net`,
/// `net_base` (decimal units of the asset, then base units; never negative), `symbol`, `status`, `block`,
/// `tx_hash`, `batch_id`. A wallet not registered in the asset gets the header alone. 400 `invalid_date` or
/// `invalid_period` for a bad period.
#[utoipa::path(get, path = "/v1/users/statement.csv", tag = "users", security(("bearer" = [])),
    params(MemberStatementQuery),
    responses((status = 200, description = "The statement, RFC 4180 CSV with a header row", content_type = "text/csv",
            body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn member_statement(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<MemberStatementQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), None)?;
    let asset = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let member = ledger::members::membership(&ctx.db, q.asset_id, user.wallet).await?.ok_or(ApiError::NotFound)?;
    let filename = format!("statement-{}-{}.csv", asset.symbol.to_lowercase(), q.asset_id);
    let filename = safe_filename(&filename);
    let (asset_id, wallet) = (q.asset_id, format!("{:#x}", user.wallet));
    let (decimals, symbol) = (asset.decimals, asset.symbol);
    let user_no = member.user_no.unwrap_or(-1);
    Ok(csv_answer(
        &ctx,
        filename,
        MEMBER_HEADER,
        move |db| ledger::statements::member_movements(db, asset_id, user_no, wallet, from, to),
        move |m, row| {
            row.time(m.time)
                .text(&m.kind)
                .text(&m.detail)
                .amount(m.gross.as_ref(), decimals)
                .amount(m.fee.as_ref(), decimals)
                .amount(m.net.as_ref(), decimals)
                .text(&symbol)
                .opt_text(m.status.as_deref())
                .number(m.block)
                .hash(m.tx_hash.as_deref())
                .number(m.batch_id);
        },
    ))
}

/// The period's bounds and the asset, for a staff statement.
async fn staff_period(ctx: &ApiContext, q: &PeriodQuery) -> Result<(i64, i64, ledger::AssetInfo), ApiError> {
    let (from, to) = period(Some(&q.from), Some(&q.to), Some(MAX_PERIOD_DAYS))?;
    let asset = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    Ok((from.unwrap_or_default(), to.unwrap_or_default(), asset))
}

/// A file name of letters, digits, `-`, `_` and `.` only (the asset's symbol is the operator's text).
fn safe_filename(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}

/// The columns of the payouts statement.
pub const PAYOUTS_HEADER: &str = "batch_id,batch_status,built_at,user_no,recipient,gross,gross_base,fee,fee_base,net,\
                                  net_base,symbol,outcome,executed_block,executed_at,tx_hash";

/// Every entry of the asset's payout batches built in [`from`, `to`) (UTC days, at most 366), by batch and
/// position, as CSV: the batch, its status and build time (the ledger's), the recipient (user number and wallet in
/// the chain's form), `gross` (what the entry settled of the member's rewards), `fee` (kept by the company), `net`
/// (what the contract pays: gross − fee), once executed its `outcome` (`paid`, `claimable`), block and time (the
/// chain's), and the batch's transaction. Any staff role.
#[utoipa::path(get, path = "/v1/admin/statements/payouts.csv", tag = "statements", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "RFC 4180 CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn payouts_statement(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let (from, to, asset) = staff_period(&ctx, &q).await?;
    let filename = safe_filename(&format!("payouts-{}-{}-{}.csv", q.asset_id, q.from, q.to));
    let (asset_id, chain_id, decimals, symbol) = (q.asset_id, asset.chain_id, asset.decimals, asset.symbol);
    Ok(csv_answer(
        &ctx,
        filename,
        PAYOUTS_HEADER,
        move |db| ledger::statements::payout_entries(db, asset_id, from, to),
        move |e, row| {
            row.number(Some(e.batch_id))
                .text(&e.batch_status)
                .raw(&e.built_at)
                .number(Some(i64::from(e.user_no)))
                .text(&show_address(chain_id, &e.address))
                .amount(Some(&e.gross), decimals)
                .amount(Some(&e.fee), decimals)
                .amount(Some(&e.net), decimals)
                .text(&symbol)
                .opt_text(e.outcome.as_deref())
                .number(e.executed_block)
                .time(e.executed_time)
                .hash(e.tx_hash.as_deref());
        },
    ))
}

/// The columns of the rewards statement.
pub const REWARDS_HEADER: &str =
    "reward_no,user_no,member,kind,level,amount,amount_base,symbol,status,block,credited_at,tx_hash";

/// Every credit of the asset whose block time is in [`from`, `to`) (UTC days, at most 366), by reward number, as
/// CSV: the member (user number and wallet), kind and level, amount, status now, the block of the event that made
/// it (for a rank bonus, the block that closed its week), its time and transaction. Credits no chain event made (an
/// admin's manual placement) have no chain time and are in no period. Any staff role.
#[utoipa::path(get, path = "/v1/admin/statements/rewards.csv", tag = "statements", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "RFC 4180 CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn rewards_statement(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let (from, to, asset) = staff_period(&ctx, &q).await?;
    let filename = safe_filename(&format!("rewards-{}-{}-{}.csv", q.asset_id, q.from, q.to));
    let (asset_id, chain_id, decimals, symbol) = (q.asset_id, asset.chain_id, asset.decimals, asset.symbol);
    Ok(csv_answer(
        &ctx,
        filename,
        REWARDS_HEADER,
        move |db| ledger::statements::credits(db, asset_id, from, to),
        move |c, row| {
            row.number(Some(c.reward_no))
                .number(Some(i64::from(c.user_no)))
                .text(&show_address(chain_id, &c.address))
                .text(&c.kind)
                .number(Some(i64::from(c.level)))
                .amount(Some(&c.amount), decimals)
                .text(&symbol)
                .text(&c.status)
                .number(c.block)
                .time(c.time)
                .hash(c.tx_hash.as_deref());
        },
    ))
}

/// The columns of the company statement.
pub const COMPANY_HEADER: &str = "time,direction,kind,amount,amount_base,symbol,block,tx_hash,reference";

/// The company's account in the asset over [`from`, `to`) (UTC days, at most 366), as CSV, in chain order: its
/// credits (`credit`: the plan's rests `registration_rest`, `pool_rest`, `level_rest`, `generation_rest`, and
/// `withdrawal_fee` per executed batch) and debits (`debit`: `treasury_transfer` executed, `rank_bonus` per closed
/// week) — the sources the treasury's company share sums. `amount` is never negative: `direction` says which way.
/// Forfeits and an admin's manual placements carry no chain time and are in no period. Any staff role.
#[utoipa::path(get, path = "/v1/admin/statements/company.csv", tag = "statements", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "RFC 4180 CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn company_statement(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let (from, to, asset) = staff_period(&ctx, &q).await?;
    let filename = safe_filename(&format!("company-{}-{}-{}.csv", q.asset_id, q.from, q.to));
    let (asset_id, decimals, symbol) = (q.asset_id, asset.decimals, asset.symbol);
    Ok(csv_answer(
        &ctx,
        filename,
        COMPANY_HEADER,
        move |db| ledger::statements::company_movements(db, asset_id, from, to),
        move |m, row| {
            row.time(Some(m.time))
                .text(&m.direction)
                .text(&m.kind)
                .amount(Some(&m.amount), decimals)
                .text(&symbol)
                .number(m.block)
                .hash(m.tx_hash.as_deref())
                .text(&m.reference);
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row as the writer leaves it, and as a CSV reader reads it back.
    fn written(rows: &mut [Row]) -> (String, Vec<Vec<String>>) {
        let mut out = csv_writer();
        for row in rows.iter_mut() {
            row.end(&mut out).unwrap();
        }
        let text = String::from_utf8(take_written(&mut out).unwrap()).unwrap();
        let read = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        (text, read)
    }

    #[test]
    fn text_cells_are_quoted_and_formulas_defused_numbers_are_not() {
        let mut row = Row::default();
        row.text("=HYPERLINK(\"x\")").text("a,b").text("-1").text("plain").raw("-0.5");
        let (text, read) = written(std::slice::from_mut(&mut row));
        assert_eq!(text, "\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",'-1,plain,-0.5\r\n");
        assert_eq!(read, vec![vec!["'=HYPERLINK(\"x\")", "a,b", "'-1", "plain", "-0.5"]]);
        assert!(day_start("2026-02-30", "from").is_err());
        assert!(day_start("2026-1-1", "from").is_err());
        assert_eq!(day_start("1970-01-02", "from").unwrap(), 86_400);
        assert!(period(Some("2026-01-02"), Some("2026-01-02"), None).is_err());
        assert!(period(Some("2025-01-01"), Some("2026-01-03"), Some(366)).is_err());
        assert!(period(Some("2025-01-01"), Some("2026-01-02"), Some(366)).is_ok());
    }

    /// Empty cells are cells: a row whose first cells are empty (a rank bonus has no chain time) keeps every value
    /// under its heading, as a CSV reader reads it (it lost one separator per leading empty cell before).
    #[test]
    fn a_row_starting_with_empty_cells_keeps_its_columns() {
        let mut header = Row::default();
        for cell in MEMBER_HEADER.split(',') {
            header.raw(cell);
        }
        let mut row = Row::default();
        row.time(None).text("rank_bonus").text("").amount(None, 6).raw("").raw("").raw("").raw("");
        row.text("USDT").text("pending").number(None).hash(None).number(Some(7));
        let (_, read) = written(&mut [header, row]);
        assert_eq!(read[0].len(), 14);
        assert_eq!(read[1].len(), read[0].len(), "{read:?}");
        let cell = |name: &str| &read[1][read[0].iter().position(|h| h == name).unwrap()];
        assert_eq!((cell("time").as_str(), cell("type").as_str()), ("", "rank_bonus"));
        assert_eq!(
            (cell("symbol").as_str(), cell("status").as_str(), cell("batch_id").as_str()),
            ("USDT", "pending", "7")
        );
    }
}
