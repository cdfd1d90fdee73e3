//! How the ledger drives the binary plan. Its rows are not stored yet: an asset on this plan cannot be loaded, and
//! the API refuses to create one (`plan_not_served`).

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::LedgerError;
use crate::plan::kind::PlanKind;
use crate::plan::room::{AssetAt, PlanBook, PlanRoom, Tx};

/// The binary plan's entry in the registry.
pub(crate) static ROOM: Room = Room;

/// See [`ROOM`].
pub(crate) struct Room;

impl PlanRoom for Room {
    fn kind(&self) -> PlanKind {
        PlanKind::Binary
    }

    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[]
    }

    fn load<'a>(&'a self, _tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>> {
        async move { Err(LedgerError::Corrupt(format!("asset {}: the binary plan's rows are not stored yet", at.id))) }
            .boxed()
    }
}
