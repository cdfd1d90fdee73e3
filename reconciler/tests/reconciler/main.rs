//! The reconciler's tests, one test binary: each module below is one concern (against anvil, the ledger's figures,
//! alert sinks, on-demand requests, admin changes, TRON custody).

mod admin_changes;
mod alert_sinks;
mod claims_anvil;
mod ledger_figures;
mod on_demand;
mod reconcile_anvil;
mod tron_custody;
