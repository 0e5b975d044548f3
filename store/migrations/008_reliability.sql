-- Reliability: alert cooldowns in the ingest transaction, outbox priority
-- and per-channel lanes, dead letters.

-- One alert per key (account and kind, account and competitor...) per
-- window. Written in the transaction that raises the alert, so a rolled
-- back or crashed batch leaves no cooldown behind and a replay alerts.
CREATE TABLE alert_cooldowns (
    key        text        PRIMARY KEY,
    taken_at timestamptz NOT NULL,
    until      timestamptz NOT NULL
);

-- Per-channel lanes: a channel's backlog waits in its own lane, and an
-- alert (higher priority) goes before digests and lists in its channel.
ALTER TABLE outbox ADD COLUMN priority smallint NOT NULL DEFAULT 0;
CREATE INDEX outbox_lane_pending ON outbox (channel_id, priority DESC, not_before, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
