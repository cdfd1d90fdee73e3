-- The console's audit filters (issue 66, item 6): one action, one actor, people or services. The solvency worker's
-- automatic approvals outnumber the people's actions by far, so each filter reads its own index newest first rather
-- than scanning the whole log. A staff wallet is stored EIP-55; the filter compares lower-case.
CREATE INDEX audit_logs_action ON audit_logs (action, id);
CREATE INDEX audit_logs_actor ON audit_logs (lower(actor), id);
CREATE INDEX audit_logs_by_person ON audit_logs (id) WHERE actor ~ '^0x[0-9a-fA-F]{40}$';
