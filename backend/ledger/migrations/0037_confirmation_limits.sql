-- Confirmation e-mails are limited per wallet and per address (issue 65: `PUT /v1/users/email` let anyone make the
-- operator's SMTP mail any address once per notifier round, from as many wallets as they liked). Each request for a
-- confirmation is counted here in the transaction that queues its e-mail; an address is counted by a keyed digest
-- (HMAC under the notifier's key), never stored.
CREATE TABLE email_confirmation_requests (
    id              BIGSERIAL   PRIMARY KEY,
    address         BYTEA       NOT NULL CHECK (length(address) = 20),
    email_digest    BYTEA       NOT NULL CHECK (length(email_digest) = 32),
    requested_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX email_confirmation_requests_by_wallet ON email_confirmation_requests (address, requested_at);
CREATE INDEX email_confirmation_requests_by_email ON email_confirmation_requests (email_digest, requested_at);
