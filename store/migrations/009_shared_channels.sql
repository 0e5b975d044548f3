-- Channels an outside organisation can read, where internal messages go
-- instead, and the audit trail of sensitive actions.

-- Where an account's internal messages go when its channel is shared with
-- the customer ('' = the owner's DM, then alerts.default_channel).
ALTER TABLE accounts ADD COLUMN internal_channel text NOT NULL DEFAULT '';

-- A channel known to be shared with another organisation, from a
-- channel_shared event or conversations.info. Once shared, always shared:
-- unsharing is rare and a wrong "not shared" leaks.
CREATE TABLE shared_channels (
    channel_id     text        PRIMARY KEY,
    shared_at      timestamptz NOT NULL DEFAULT now(),
    source         text        NOT NULL,               -- 'event' or 'conversations.info'
    owner_told_at  timestamptz                          -- the account owner was told, once
);

-- Only messages written for the customer may go to a shared channel.
ALTER TABLE outbox ADD COLUMN audience text NOT NULL DEFAULT 'internal'
    CHECK (audience IN ('internal', 'customer'));
-- Where an internal message went instead of a shared channel.
ALTER TABLE outbox ADD COLUMN rerouted_from text;

-- People given by e-mail (owner_csm, ae, sales_manager), resolved with
-- users.lookupByEmail; user_id '' = no such user (checked again later).
CREATE TABLE slack_emails (
    email       text        PRIMARY KEY,
    user_id     text        NOT NULL,
    checked_at  timestamptz NOT NULL DEFAULT now()
);

-- Who read or changed what. Append-only: no UPDATE or DELETE.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,          -- Slack user id
    action      text        NOT NULL,          -- 'account.read', 'digest.subscribe', 'offer.propose', ...
    account_id  bigint REFERENCES accounts (id),
    subject     text        NOT NULL DEFAULT '', -- channel, offer id, alert id
    detail      text        NOT NULL DEFAULT '',
    -- The request that caused it (envelope, trigger or action ts), so a
    -- redelivered request adds no second row.
    dedupe_key  text        UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
