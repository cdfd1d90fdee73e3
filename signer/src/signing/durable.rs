//! The sync stage: a thread of its own that syncs the store's WAL after the writer's commits and only then lets
//! the answers of the groups committed before that sync leave. The writer hands it each group's answers as soon as
//! the group is committed and goes on with the next group meanwhile: commit and fsync overlap instead of adding up.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{SignError, Signed};
use crate::store::{StoreError, WalSync};

/// Where one request's result goes, and the result.
pub(super) type Answer = (oneshot::Sender<Result<Signed, SignError>>, Result<Signed, SignError>);

/// The answers of one committed group, in the order the writer committed them.
pub(super) type Committed = mpsc::Sender<Vec<Answer>>;

/// Starts the sync thread; it stops once the writer has dropped the returned sender and every answer is out (join
/// the returned handle to wait for that).
///
/// It takes every group waiting (the groups committed since its last sync began), syncs the WAL once for all of
/// them — a sync that begins after a group's commit makes that group's records durable — and then answers them, in
/// order. Every result that carries a signature waits for that sync; refusals carry none and need none, but leave
/// with their group. Groups without a single signature are answered without a sync. A failed sync answers every
/// signature of those groups with the error instead, and so do all syncs after it ([`WalSync::sync`]).
pub(super) fn spawn(mut wal: WalSync) -> std::io::Result<(Committed, std::thread::JoinHandle<()>)> {
    let (committed, groups) = mpsc::channel::<Vec<Answer>>();
    let thread = std::thread::Builder::new().name("signer-wal-sync".into()).spawn(move || {
        while let Ok(mut answers) = groups.recv() {
            while let Ok(more) = groups.try_recv() {
                answers.extend(more);
            }
            let synced = if answers.iter().any(|(_, result)| result.is_ok()) { wal.sync() } else { Ok(()) };
            answer(answers, synced.err());
        }
    })?;
    Ok((committed, thread))
}

/// Sends each result, every signature replaced by `failed` when there is such an error.
pub(super) fn answer(answers: Vec<Answer>, failed: Option<StoreError>) {
    for (to, result) in answers {
        let result = match (&failed, result) {
            (Some(e), Ok(_)) => Err(SignError::Store(e.duplicate())),
            (_, result) => result,
        };
        let _ = to.send(result);
    }
}
