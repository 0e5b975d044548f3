-- Text signals. Competitor mentions, text alerts (competitor
-- mention, sentiment drop), digest subscriptions and their runs, and the
-- language model's answers by text hash.

-- Slack message events name a channel; the account linked to it is found here.
CREATE INDEX accounts_channel ON accounts (channel_id) WHERE channel_id <> '';
-- App Home: a CSM's accounts, riskiest first.
CREATE INDEX accounts_owner_score ON accounts (owner_csm, health_score NULLS LAST, id)
    WHERE owner_csm <> '' AND status = 'active';
-- Digests read score changes in a time window.
CREATE INDEX health_snapshots_time ON health_snapshots (computed_at);
-- Digests read sentiment of texts in a time window.
CREATE INDEX signals_sentiment_time ON signals (occurred_at) WHERE sentiment IS NOT NULL;

CREATE TABLE competitor_mentions (
    id           bigserial PRIMARY KEY,
    signal_id    bigint      NOT NULL REFERENCES signals (id),
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    competitor   text        NOT NULL,
    alias        text        NOT NULL,
    mention      text        NOT NULL,   -- as written
    snippet      text        NOT NULL,
    span_start   int         NOT NULL,   -- byte offsets into the signal's text
    span_end     int         NOT NULL,
    kind         text        NOT NULL,   -- the signal's kind: ticket, call_note, slack_message…
    source       text        NOT NULL,
    churn_intent boolean     NOT NULL DEFAULT false,
    occurred_at  timestamptz NOT NULL,
    UNIQUE (signal_id, span_start)
);
CREATE INDEX competitor_mentions_time ON competitor_mentions (occurred_at, competitor);
CREATE INDEX competitor_mentions_account ON competitor_mentions (account_id, occurred_at DESC);

-- Alerts raised from text, sent to the owner and to subscribed channels.
CREATE TABLE text_alerts (
    id          bigserial PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    kind        text        NOT NULL CHECK (kind IN ('competitor_mention', 'sentiment_drop')),
    competitor  text        NOT NULL DEFAULT '',
    signal_id   bigint REFERENCES signals (id),
    view        jsonb       NOT NULL,   -- what the message shows, to re-render on claim
    recipients  text[]      NOT NULL,   -- channel or user ids, one outbox post each
    claimed_by  text,
    claimed_at  timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE INDEX text_alerts_account ON text_alerts (account_id, created_at DESC);
CREATE INDEX text_alerts_claimed_by ON text_alerts (claimed_by, claimed_at DESC) WHERE claimed_by IS NOT NULL;
-- App Home lists alerts a user claimed, newest first.
CREATE INDEX alerts_claimed_by_time ON alerts (claimed_by, claimed_at DESC) WHERE claimed_by IS NOT NULL;

CREATE TABLE digest_subscriptions (
    id          bigserial PRIMARY KEY,
    channel_id  text        NOT NULL,
    frequency   text        NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    topics      text[]      NOT NULL,   -- risk, competitors, sentiment; empty = all
    min_arr     numeric(14, 2) NOT NULL DEFAULT 0 CHECK (min_arr >= 0),
    tier        text        NOT NULL DEFAULT '',
    timezone    text        NOT NULL,
    send_at     text        NOT NULL,   -- HH:MM local time
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, frequency)
);

-- One row per digest sent: claiming the row in the same transaction as the
-- outbox post is what makes a digest go out once per period, however many
-- replicas run the job.
CREATE TABLE digest_runs (
    subscription_id bigint      NOT NULL REFERENCES digest_subscriptions (id) ON DELETE CASCADE,
    period          text        NOT NULL,   -- 2027-02-08 (daily) or 2027-W06 (weekly)
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, period)
);

-- Language model answers by hash of model, prompt version and text.
CREATE TABLE text_analyses (
    text_hash   text PRIMARY KEY,
    model       text        NOT NULL,
    result      jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
