//! Payout use cases outside HTTP: [`sender`] sends and follows up a signed batch for any driver (the admin's
//! submit and retry routes, the worker), and [`worker`] drives every signed or submitted batch that nobody is
//! moving to its outcome on its own.

pub mod sender;
pub mod worker;
