//! The API service: `APP_CONFIG` (default `backend/configuration.toml`) overlaid with `APP_…` variables, served
//! until Ctrl-C or SIGTERM.

use backend::config::Settings;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    service_kit::main(|| Ok(Settings::load()?), backend::startup::run).await
}
