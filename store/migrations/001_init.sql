-- Holdfast schema v1: accounts, signals, health, alerts, timeline, Slack outbox.
-- pg_trgm lives in public so every schema (tests use one each) shares it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE accounts (
    id             bigserial PRIMARY KEY,
    external_id    text        NOT NULL UNIQUE,
    name           text        NOT NULL,
    tier           text        NOT NULL DEFAULT '',
    arr            numeric(14, 2) NOT NULL DEFAULT 0 CHECK (arr >= 0),
    segment        text        NOT NULL DEFAULT '',
    renewal_date   date,
    owner_csm      text        NOT NULL DEFAULT '',   -- Slack user id
    ae             text        NOT NULL DEFAULT '',   -- Slack user id
    sales_manager  text        NOT NULL DEFAULT '',   -- Slack user id
    champion       text        NOT NULL DEFAULT '',
    channel_id     text        NOT NULL DEFAULT '',   -- the account's Slack channel, if any
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'churned')),
    -- Denormalised latest health so /atrisk and /health never scan snapshots.
    health_score   int,
    health_band    text,
    health_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- /health looks accounts up by id, exact name, name prefix, then similarity.
CREATE INDEX accounts_external_id_lower ON accounts (lower(external_id));
CREATE INDEX accounts_name_lower ON accounts (lower(name) text_pattern_ops);
CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(name) public.gin_trgm_ops);
-- /atrisk ranks at-risk accounts by ARR; partial so healthy accounts cost nothing.
CREATE INDEX accounts_at_risk ON accounts (arr DESC, id)
    WHERE status = 'active' AND health_band IN ('at_risk', 'critical');
CREATE INDEX accounts_owner_at_risk ON accounts (owner_csm, arr DESC, id)
    WHERE status = 'active' AND health_band IN ('at_risk', 'critical');

CREATE TABLE signals (
    id              bigserial PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    kind            text        NOT NULL,
    source          text        NOT NULL,
    idempotency_key text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    text            text        NOT NULL DEFAULT '',
    value           double precision,
    severity        text        NOT NULL DEFAULT '',
    sentiment       double precision,
    churn_intent    boolean     NOT NULL DEFAULT false,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    -- Replays of the same signal from the same source are stored once.
    UNIQUE (source, idempotency_key)
);
CREATE INDEX signals_account_time ON signals (account_id, occurred_at DESC);

CREATE TABLE health_snapshots (
    id           bigserial PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    score        int         NOT NULL CHECK (score BETWEEN 0 AND 100),
    band         text        NOT NULL,
    components   jsonb       NOT NULL,
    computed_at  timestamptz NOT NULL,
    signal_id    bigint REFERENCES signals (id)
);
CREATE INDEX health_snapshots_account_time ON health_snapshots (account_id, computed_at DESC);

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    kinds       text[]      NOT NULL,
    critical    boolean     NOT NULL,
    score       int         NOT NULL,
    prev_score  int,
    band        text        NOT NULL,
    view        jsonb       NOT NULL,  -- what the message showed, so it can be re-rendered (claim)
    signal_id   bigint REFERENCES signals (id),
    channel_id  text        NOT NULL,
    message_ts  text,
    claimed_by  text,
    claimed_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_account_time ON alerts (account_id, created_at DESC);
CREATE INDEX alerts_claimed_by ON alerts (claimed_by) WHERE claimed_by IS NOT NULL;

-- The account's history: later features append their own kinds.
CREATE TABLE timeline (
    id          bigserial PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    summary     text        NOT NULL,
    actor       text        NOT NULL DEFAULT '',
    ref_id      bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timeline_account_at ON timeline (account_id, at DESC, id DESC);

-- Everything that must reach Slack is written here in the same transaction as
-- the change that caused it, and delivered from here.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    op           text        NOT NULL CHECK (op IN ('post', 'update')),
    channel_id   text        NOT NULL,
    thread_key   text,        -- posts with one key share a thread, delivered in order
    target_ts    text,        -- update: the message to edit
    message      jsonb       NOT NULL,
    alert_id     bigint REFERENCES alerts (id),
    not_before   timestamptz NOT NULL DEFAULT now(),
    attempts     int         NOT NULL DEFAULT 0,
    leased_until timestamptz,
    last_error   text,
    delivered_at timestamptz,
    failed_at    timestamptz,
    ts           text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_thread_pending ON outbox (thread_key, id) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE slack_threads (
    thread_key  text PRIMARY KEY,
    channel_id  text        NOT NULL,
    ts          text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
