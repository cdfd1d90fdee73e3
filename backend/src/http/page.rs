//! Keyset pagination, one way for every list: `limit` (default 20, 1..=100) and the `next_cursor` of the previous
//! page; a page fetches `limit + 1` rows to know whether another follows.

use serde::Serialize;

use crate::http::error::ApiError;

/// Largest page of any list.
pub const MAX_PAGE: u32 = 100;
/// Page size when the request names none.
pub const DEFAULT_PAGE: u32 = 20;

/// Checks `limit` (default 20, 1..=100); 400 `invalid_limit`.
pub fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        0 => Err(ApiError::bad_request("invalid_limit", "limit must be at least 1")),
        n if n > MAX_PAGE => Err(ApiError::bad_request("invalid_limit", format!("limit must be at most {MAX_PAGE}"))),
        n => Ok(i64::from(n)),
    }
}

/// One page of a list and the cursor of the next (absent on the last page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The page's items, in list order; at most `limit`.
    pub items: Vec<T>,
    /// Pass as the list's cursor parameter to get the next page; absent on the last one.
    pub next_cursor: Option<i64>,
}

impl<T> Page<T> {
    /// From up to `limit + 1` rows in list order: keeps `limit`, and when there were more, the cursor is the
    /// key of the last row kept.
    pub fn keyset(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> i64) -> Self {
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(key)
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }
}
