-- Account rooms: won deals, the sales-to-CS handoff, the account's
-- Slack room, notes with their summaries, and CRM write-back.

-- The account's id in the CRM (Salesforce Account Id); write-back keys on it.
ALTER TABLE accounts ADD COLUMN crm_id text NOT NULL DEFAULT '';

-- Deals as the CRM knows them. A closed-won deal starts a handoff.
CREATE TABLE deals (
    id                  bigserial PRIMARY KEY,
    external_id         text        NOT NULL UNIQUE,      -- CRM opportunity id
    account_id          bigint      NOT NULL REFERENCES accounts (id),
    source              text        NOT NULL,             -- api | crm_webhook
    name                text        NOT NULL DEFAULT '',
    stage               text        NOT NULL,
    closed_at           timestamptz,
    ae                  text        NOT NULL DEFAULT '',  -- Slack user id
    owner_csm           text        NOT NULL DEFAULT '',  -- Slack user id
    decision_maker      text        NOT NULL DEFAULT '',
    champion            text        NOT NULL DEFAULT '',
    champion_title      text        NOT NULL DEFAULT '',
    champion_role_since date,                             -- tenure in role = closed_at - this
    close_reason        text        NOT NULL DEFAULT '',
    -- NULL = nobody said yet; '' / '{}' = confirmed none.
    product_concerns    text,
    competitors         text[],
    promises_known      boolean     NOT NULL DEFAULT false,
    arr                 numeric(14, 2) CHECK (arr >= 0),
    term_months         int CHECK (term_months > 0),
    renewal_date        date,
    segment             text        NOT NULL DEFAULT '',
    reviewed_by         text        NOT NULL DEFAULT '',
    reviewed_at         timestamptz,
    payload_hash        text        NOT NULL,             -- a replay with the same hash changes nothing
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deals_account ON deals (account_id, closed_at DESC);

-- What Sales promised, one row each, so a churn root-cause can point at
-- the promise ("feature overpromise") that was made.
CREATE TABLE deal_promises (
    id          bigserial PRIMARY KEY,
    deal_id     bigint      NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    position    int         NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('feature', 'timeline', 'integration')),
    text        text        NOT NULL,
    due_date    date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (deal_id, position)
);
CREATE INDEX deal_promises_account ON deal_promises (account_id, kind);

-- The account's room: one channel per account, one account per channel.
CREATE TABLE rooms (
    account_id    bigint      PRIMARY KEY REFERENCES accounts (id),
    channel_id    text        NOT NULL UNIQUE,
    channel_name  text        NOT NULL DEFAULT '',
    origin        text        NOT NULL CHECK (origin IN ('created', 'linked', 'existing')),
    linked_by     text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One handoff per won deal: the claim (the primary key) is taken in the
-- transaction that records the win; the Slack work is a resumable state
-- machine driven from here.
CREATE TABLE handoffs (
    deal_id       bigint      PRIMARY KEY REFERENCES deals (id),
    account_id    bigint      NOT NULL REFERENCES accounts (id),
    step          text        NOT NULL DEFAULT 'channel'
                  CHECK (step IN ('channel', 'invite', 'card', 'pin', 'done', 'failed')),
    failed_step   text        NOT NULL DEFAULT '',
    channel_id    text        NOT NULL DEFAULT '',
    name_try      int         NOT NULL DEFAULT 0,     -- suffix counter after name_taken
    name_tried    text        NOT NULL DEFAULT '',    -- the name conversations.create was last called with
    card_stale    boolean     NOT NULL DEFAULT false, -- deal data changed after the card was queued
    attempts      int         NOT NULL DEFAULT 0,     -- failed tries of the current step
    next_at       timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    last_error    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    done_at       timestamptz
);
CREATE INDEX handoffs_due ON handoffs (next_at) WHERE step NOT IN ('done', 'failed') OR card_stale;
CREATE INDEX handoffs_account ON handoffs (account_id);

-- Every step a handoff took, with its outcome: the audit trail of a room.
CREATE TABLE handoff_steps (
    id       bigserial PRIMARY KEY,
    deal_id  bigint      NOT NULL REFERENCES handoffs (deal_id),
    step     text        NOT NULL,
    outcome  text        NOT NULL,   -- ok | retry | failed | skipped | waiting
    detail   text        NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_steps_deal ON handoff_steps (deal_id, id);

-- Notes about an account: from Slack (/note, "Save to account") or from
-- ingested call notes, tickets and emails. Each gets a summary, a timeline
-- entry, a post in the room and CRM write-back, once, from the note worker.
CREATE TABLE account_notes (
    id             bigserial PRIMARY KEY,
    account_id     bigint      NOT NULL REFERENCES accounts (id),
    kind           text        NOT NULL,             -- note | call_note | ticket | email | meeting
    source         text        NOT NULL,             -- slack_command | slack_shortcut | signal
    source_key     text        NOT NULL,             -- idempotency within the account
    author         text        NOT NULL DEFAULT '',  -- Slack user id, or the signal's source
    text           text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    signal_id      bigint REFERENCES signals (id),
    origin_channel text        NOT NULL DEFAULT '',  -- where it was written; not echoed back there
    open_case      boolean     NOT NULL DEFAULT false,
    summary        text,
    summary_by     text        NOT NULL DEFAULT '',  -- llm | extractive | verbatim
    state          text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    attempts       int         NOT NULL DEFAULT 0,
    next_at        timestamptz NOT NULL DEFAULT now(),
    leased_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    done_at        timestamptz,
    UNIQUE (account_id, source_key)
);
CREATE INDEX account_notes_pending ON account_notes (next_at) WHERE state = 'pending';
CREATE INDEX account_notes_account ON account_notes (account_id, occurred_at DESC);

-- What must reach the CRM, written in the same transaction as its cause
-- and delivered with retries, once per idempotency key.
CREATE TABLE crm_outbox (
    id              bigserial PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    note_id         bigint REFERENCES account_notes (id),
    object          text        NOT NULL CHECK (object IN ('task', 'note', 'case')),
    payload         jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    next_at         timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    crm_record_id   text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX crm_outbox_pending ON crm_outbox (next_at) WHERE state = 'pending';

-- A log of every write attempt and what it produced (never credentials).
CREATE TABLE crm_log (
    id            bigserial PRIMARY KEY,
    outbox_id     bigint      NOT NULL REFERENCES crm_outbox (id),
    at            timestamptz NOT NULL DEFAULT now(),
    connector     text        NOT NULL,
    object        text        NOT NULL,
    outcome       text        NOT NULL,   -- created | upserted | found | retry | failed
    crm_record_id text        NOT NULL DEFAULT '',
    detail        text        NOT NULL DEFAULT ''
);
CREATE INDEX crm_log_outbox ON crm_log (outbox_id, id);

-- Once an account has a room, its alerts, approvals and NPS loops thread
-- there: an account upsert that carries no channel (a CRM sync that does
-- not know Slack) must not unlink it.
CREATE FUNCTION keep_room_channel() RETURNS trigger AS $$
BEGIN
    IF NEW.channel_id = '' AND OLD.channel_id <> '' THEN
        NEW.channel_id := coalesce((SELECT r.channel_id FROM rooms r WHERE r.account_id = NEW.id), '');
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_keep_room_channel BEFORE UPDATE OF channel_id ON accounts
    FOR EACH ROW EXECUTE FUNCTION keep_room_channel();
