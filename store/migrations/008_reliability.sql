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
