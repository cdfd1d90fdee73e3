//! The API service: read settings, start.

use backend::config::Settings;
use backend::startup::{Application, init_telemetry};

#[tokio::main]
async fn main() -> eyre::Result<()> {
    init_telemetry();
    let settings = Settings::load()?;
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}
