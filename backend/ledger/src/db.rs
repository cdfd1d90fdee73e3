//! Connecting, migrating, and throwaway databases for tests and the benchmark.

use sqlx::PgPool;

#[cfg(feature = "test-utils")]
pub use scratch::ScratchDatabase;

/// A transaction in which the ledger's write guards (migration 0025: read-only views, rows written once, rewards'
/// amounts fixed) do not fire: `session_replication_role = replica`, which only a superuser may set. For tests that
/// play someone editing the ledger behind its back (the reconciler must find it), doing what the guards cannot stop.
#[cfg(feature = "test-utils")]
pub async fn unguarded(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
    Ok(tx)
}

/// Server used when `DATABASE_URL` is not set.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";

/// Whether the database answers (the services' health checks).
pub async fn answers(pool: &PgPool) -> bool {
    sqlx::query!("SELECT 1 AS one").fetch_one(pool).await.is_ok()
}

/// Applies the migrations in `backend/migrations`.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations").run(pool).await
}

#[cfg(feature = "test-utils")]
mod scratch {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

    use super::{DEFAULT_SERVER_URL, migrate};

    fn server_options() -> Result<PgConnectOptions, sqlx::Error> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned());
        url.parse()
    }

    /// A freshly created, migrated database on the server of `DATABASE_URL`; dropped (with any
    /// open connections) when this value is dropped, also when a test panics.
    #[derive(Debug)]
    pub struct ScratchDatabase {
        /// Pool connected to the scratch database; the test's only way in.
        pub pool: PgPool,
        name: String,
        server: PgConnectOptions,
    }

    impl ScratchDatabase {
        /// Creates and migrates a database named after `prefix`, with a pool of at most 4 connections.
        pub async fn create(prefix: &str) -> Result<Self, sqlx::Error> {
            Self::create_with(prefix, 4).await
        }

        /// As [`create`](Self::create), with a pool of at most `max_connections`.
        pub async fn create_with(prefix: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
            Self::create_migrated(prefix, max_connections, None).await
        }

        /// As [`create`](Self::create), migrated only through migration `version`: a schema of an earlier release,
        /// to fill with data and then [`migrate`](super::migrate) the rest (the tests of the data migrations).
        pub async fn create_through(prefix: &str, version: i64) -> Result<Self, sqlx::Error> {
            Self::create_migrated(prefix, 4, Some(version)).await
        }

        async fn create_migrated(
            prefix: &str,
            max_connections: u32,
            through: Option<i64>,
        ) -> Result<Self, sqlx::Error> {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
            let name = format!("{prefix}_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos);
            let server = server_options()?;
            let mut admin = PgConnection::connect_with(&server.clone().database("postgres")).await?;
            // Not a checked query: DDL naming a database made up here, which no query macro can describe.
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await?;
            admin.close().await?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .connect_with(server.clone().database(&name))
                .await?;
            let migrated = match through {
                None => migrate(&pool).await,
                Some(version) => sqlx::migrate!("./migrations").run_to(version, &pool).await,
            };
            migrated.map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
            Ok(Self { pool, name, server })
        }

        /// The generated database name (`prefix_pid_counter_nanos`), e.g. to point a second service at it.
        pub fn name(&self) -> &str {
            &self.name
        }
    }

    impl Drop for ScratchDatabase {
        fn drop(&mut self) {
            let name = self.name.clone();
            let server = self.server.clone();
            // Drop may run inside a runtime (or while unwinding): use a thread with its own.
            let dropper = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(async move {
                    let mut admin = PgConnection::connect_with(&server.database("postgres")).await?;
                    // Not a checked query: DDL naming the scratch database.
                    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                        .execute(&mut admin)
                        .await?;
                    admin.close().await
                })
                .map_err(std::io::Error::other)
            });
            if let Ok(Err(e)) = dropper.join() {
                tracing::warn!(database = %self.name, error = %e, "could not drop scratch database");
            }
        }
    }
}
