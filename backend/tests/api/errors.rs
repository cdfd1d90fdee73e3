//! Database errors as the API answers them: by constraint name, never one code for every unique violation, and a
//! missing row is never a 404 by accident.

use backend::http::{ApiError, error::CONSTRAINT_REFUSALS};
use serde_json::json;

use crate::common::{ASSET, genesis, named};
use crate::helpers::{Chain, spawn_app};

#[tokio::test]
async fn every_named_constraint_exists_in_the_migrated_schema() {
    let app = spawn_app().await;
    for (name, code, _) in CONSTRAINT_REFUSALS {
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = $1)
                 OR EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = $1)",
        )
        .bind(name)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert!(found, "{name} (answered as {code}) is in no migration");
    }
}

#[tokio::test]
async fn a_violated_constraint_is_answered_by_its_name_and_any_other_is_internal() {
    let app = spawn_app().await;
    let w = alloy::signers::local::PrivateKeySigner::random();
    app.register_in_ledger(&[(w.address(), genesis()), (named("R1"), w.address())]).await;
    let token = app.signin(Chain::Evm, &w).await["access_token"].as_str().unwrap().to_owned();
    let a = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // A second open request written past the handler's check (as a concurrent request would) hits the partial
    // unique index, and is answered as the handler answers an open request it sees.
    let second = sqlx::query(
        "INSERT INTO withdraw_requests (asset_id, user_no, amount)
         SELECT asset_id, user_no, amount FROM withdraw_requests WHERE status = 'open'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap_err();
    let answered = ApiError::from(second);
    assert_eq!((answered.status().as_u16(), answered.code()), (409, "withdraw_request_open"));

    // A unique violation no handler names (a duplicate primary key) is ours to fix: internal, not a 409.
    let duplicate = sqlx::query(
        "INSERT INTO withdraw_requests (id, asset_id, user_no, amount, status)
         SELECT id, asset_id, user_no, amount, 'batched' FROM withdraw_requests",
    )
    .execute(&app.db.pool)
    .await
    .unwrap_err();
    assert_eq!(ApiError::from(duplicate).code(), "internal");
    // So is a row a query expected and did not find: a handler that answers 404 says so itself.
    assert_eq!(ApiError::from(sqlx::Error::RowNotFound).code(), "internal");
    // A value the database cannot take is the client's.
    let bad = ApiError::from(sqlx::query("SELECT $1::numeric").bind("12x").execute(&app.db.pool).await.unwrap_err());
    assert_eq!((bad.status().as_u16(), bad.code()), (400, "invalid_value"));
}
