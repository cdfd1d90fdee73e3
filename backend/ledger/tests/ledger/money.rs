//! `Money` against a real Postgres: every amount written as NUMERIC(78,0) reads back exactly (binary and text
//! formats), equals what Postgres itself computes from the decimal string, and malformed values are refused.

use alloy::primitives::U256;
use ledger::db::ScratchDatabase;
use ledger::money::Money;

fn samples() -> Vec<U256> {
    let mut v: Vec<U256> = [0u128, 1, 9, 9_999, 10_000, 10_001, 99_990_000, 1_000_000_000_000_000_000, u128::MAX]
        .into_iter()
        .map(U256::from)
        .collect();
    v.push(U256::from(u128::MAX) + U256::from(1));
    v.push(U256::from(10u64).pow(U256::from(76)));
    v.push(U256::MAX);
    v
}

#[tokio::test]
async fn amounts_round_trip_exactly_and_agree_with_postgres_decimal_text() {
    let db = ScratchDatabase::create("money").await.unwrap();
    for value in samples() {
        let (back, text): (Money, String) = sqlx::query_as("SELECT $1::numeric(78,0), $1::numeric(78,0)::text")
            .bind(Money(value))
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(back, Money(value));
        assert_eq!(text, value.to_string(), "Postgres reads the binary value as the same decimal");
        let parsed: Money = sqlx::query_scalar("SELECT $1::text::numeric(78,0)")
            .bind(value.to_string())
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(parsed, Money(value), "a value Postgres parsed from text decodes the same");
    }
    // Arithmetic done by Postgres decodes exactly too (sums, trailing zero digits).
    let sum: Money =
        sqlx::query_scalar("SELECT (10::numeric ^ 40 + 7)::numeric(78,0)").fetch_one(&db.pool).await.unwrap();
    assert_eq!(sum, Money(U256::from(10u64).pow(U256::from(40)) + U256::from(7)));
    // Arrays bind as numeric[].
    let total: Money = sqlx::query_scalar("SELECT sum(x)::numeric(78,0) FROM UNNEST($1::numeric[]) AS t(x)")
        .bind(vec![Money(U256::from(5u8)), Money(U256::from(10_000u32)), Money(U256::from(u128::MAX))])
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(total, Money(U256::from(u128::MAX) + U256::from(10_005u32)));
}

#[tokio::test]
async fn negative_fractional_nan_and_oversized_values_are_refused() {
    let db = ScratchDatabase::create("money_bad").await.unwrap();
    for sql in [
        "SELECT (-1)::numeric",
        "SELECT 0.5::numeric",
        "SELECT 12.25::numeric",
        "SELECT 'NaN'::numeric",
        "SELECT (2::numeric ^ 256)::numeric(80,0)",
    ] {
        let got = sqlx::query_scalar::<_, Money>(sql).fetch_one(&db.pool).await;
        assert!(got.is_err(), "{sql} decoded as {got:?}");
    }
    let whole: Money = sqlx::query_scalar("SELECT 12.000::numeric").fetch_one(&db.pool).await.unwrap();
    assert_eq!(whole, Money(U256::from(12u8)), "a zero fraction is still an integer");
}
