//! The ledger against a real Postgres, one test binary: each module below is one concern (the plans' ledgers, claims,
//! leaves, refunds, solvency epochs and vectors, write guards, the migrations' data, the offline queries, properties).

mod common;

mod binary_ledger;
mod generation_ledger;
mod ledger_claims;
mod ledger_db;
mod ledger_leaves;
mod ledger_properties;
mod ledger_refunds;
mod migration_data;
mod money;
mod notify_outbox;
mod offline_queries;
mod plan_properties;
mod sales_ledger;
mod solvency_epochs;
mod solvency_vectors;
mod write_guards;
