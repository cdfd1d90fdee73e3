//! The plans' API views, one module each, and their registry: the routes every plan's room serves (merged into the
//! API by [`routes`]) and what each adds to the shared public views.

pub mod auto_pool;
pub mod binary;
pub mod catalogue;
pub mod generation;
pub mod orders;
pub mod sales;

use utoipa_axum::router::OpenApiRouter;

use ledger::plan::binary::PeriodKind;

use crate::http::context::ApiContext;

/// Every plan's own routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .merge(auto_pool::routes())
        .merge(generation::routes())
        .merge(binary::routes())
        .merge(sales::routes())
        .merge(catalogue::routes())
        .merge(orders::routes())
}

/// A period kind as the plans' public cards name it: `month` or `week`.
pub(crate) fn period_name(p: PeriodKind) -> &'static str {
    match p {
        PeriodKind::Month => "month",
        PeriodKind::Week => "week",
    }
}

/// Basis points in words: `20 %`, `1.25 %`.
pub(crate) fn bps_percent(bps: u32) -> String {
    format!("{}.{:02} %", bps / 100, bps % 100).replace(".00 %", " %")
}

#[cfg(test)]
mod tests {
    #[test]
    fn basis_points_read_as_percent() {
        assert_eq!(super::bps_percent(2000), "20 %");
        assert_eq!(super::bps_percent(125), "1.25 %");
    }
}
