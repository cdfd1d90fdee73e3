//! The registry: the one list of plans the ledger serves, each by its room ([`super::room::PlanRoom`]) and its
//! parameters ([`PlanParamsRoom`]).

use std::marker::PhantomData;

use super::kind::PlanKind;
use super::params_room::{ParamsOf, PlanParamsRoom};
use super::room::PlanRoom;
use super::{auto_pool, binary, generation, sales};

/// Every plan's room.
static ROOMS: [&dyn PlanRoom; 4] = [&auto_pool::ROOM, &generation::ROOM, &binary::ROOM, &sales::ROOM];

/// The room of plan `kind`.
pub(crate) fn room(kind: PlanKind) -> &'static dyn PlanRoom {
    *ROOMS.iter().find(|r| r.kind() == kind).expect("every plan kind has a room in the registry")
}

/// Every plan's room, in the registry's order.
pub(crate) fn rooms() -> impl Iterator<Item = &'static dyn PlanRoom> {
    ROOMS.iter().copied()
}

/// Every plan's parameters, in the same order.
static PARAMS: [&dyn PlanParamsRoom; 4] = [
    &ParamsOf::<super::PlanParams>(PhantomData),
    &ParamsOf::<generation::GenerationParams>(PhantomData),
    &ParamsOf::<binary::BinaryParams>(PhantomData),
    &ParamsOf::<sales::SalesParams>(PhantomData),
];

/// The parameters of plan `kind`: read, checked, defaulted and priced without naming the plan.
pub fn params_of(kind: PlanKind) -> &'static dyn PlanParamsRoom {
    *PARAMS.iter().find(|p| p.kind() == kind).expect("every plan kind has its parameters in the registry")
}
