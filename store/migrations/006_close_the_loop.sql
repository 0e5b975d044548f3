-- Close the loop: churn root causes back to Sales, dunning by decline
-- reason, win-back.

-- What Sales knew at close, for churn cohorts and lookalikes, and the
-- account's Stripe customer. A side table so the accounts row and its scan
-- stay as they are; no row = nothing known.
CREATE TABLE account_profiles (
    account_id             bigint PRIMARY KEY REFERENCES accounts (id),
    company_size_band      text NOT NULL DEFAULT '',
    industry               text NOT NULL DEFAULT '',
    deal_source            text NOT NULL DEFAULT '',
    champion_tenure_months int CHECK (champion_tenure_months >= 0), -- the champion's tenure when the deal closed
    stripe_customer_id     text UNIQUE,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One row per churn: three levels (the customer's words, the taxonomy
-- cause, CS's diagnosis) plus the deal behaviour that predicted it, and a
-- snapshot of the account as it was, so reports do not shift when the
-- account row changes later.
CREATE TABLE churn_records (
    id                     bigserial PRIMARY KEY,
    account_id             bigint      NOT NULL REFERENCES accounts (id),
    submission_key         text        NOT NULL UNIQUE, -- the modal's view id: a replayed submit is one record
    churned_on             date        NOT NULL,
    cause                  text        NOT NULL,
    sales_attributable     boolean     NOT NULL,
    stated_reason          text        NOT NULL,
    diagnosis              text        NOT NULL,
    deal_behaviour         text        NOT NULL DEFAULT '',
    recorded_by            text        NOT NULL,
    arr                    numeric(14, 2) NOT NULL,
    tier                   text        NOT NULL DEFAULT '',
    owner_csm              text        NOT NULL DEFAULT '',
    ae                     text        NOT NULL DEFAULT '',
    sales_manager          text        NOT NULL DEFAULT '',
    company_size_band      text        NOT NULL DEFAULT '',
    industry               text        NOT NULL DEFAULT '',
    deal_source            text        NOT NULL DEFAULT '',
    champion_tenure_months int,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX churn_records_on ON churn_records (churned_on, id);
CREATE INDEX churn_records_account ON churn_records (account_id, churned_on DESC, id DESC);

-- The 20-minute debrief of a sales-attributable churn.
CREATE TABLE churn_debriefs (
    churn_id             bigint PRIMARY KEY REFERENCES churn_records (id),
    view                 jsonb NOT NULL DEFAULT '{}', -- what the debrief DM showed, to re-render it
    scheduled_for        timestamptz,
    scheduled_by         text,
    held_at              timestamptz,
    outcome              text,
    recorded_by          text,
    process_change       text,          -- the one process change agreed, if any
    change_owner         text,          -- Slack user who owns it
    checkin_due          date,          -- 30 days after the debrief
    checkin_sent_at      timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX churn_debriefs_checkin_due ON churn_debriefs (checkin_due)
    WHERE checkin_due IS NOT NULL AND checkin_sent_at IS NULL;

-- Scheduled posts that must go out once per period (the monthly debrief).
CREATE TABLE loop_posts (
    kind       text NOT NULL,
    period     text NOT NULL,
    posted_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, period)
);

-- Stripe webhook events already handled: Stripe redelivers.
CREATE TABLE stripe_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    account_id  bigint REFERENCES accounts (id),
    received_at timestamptz NOT NULL DEFAULT now()
);

-- A failed invoice (or charge) being chased; its Slack thread is the record.
CREATE TABLE dunning_cases (
    id            bigserial PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id),
    case_key      text        NOT NULL UNIQUE, -- invoice id, else the failed payment's key
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'recovered')),
    decline_code  text        NOT NULL DEFAULT '',
    decline_class text        NOT NULL,
    amount        numeric(14, 2),
    currency      text        NOT NULL DEFAULT '',
    attempts      int         NOT NULL DEFAULT 1,
    channel_id    text        NOT NULL,
    thread_key    text        NOT NULL,
    root_ref      text        NOT NULL,
    view          jsonb       NOT NULL,
    opened_at     timestamptz NOT NULL,
    recovered_at  timestamptz,
    signal_id     bigint REFERENCES signals (id)
);
CREATE INDEX dunning_cases_open ON dunning_cases (account_id) WHERE status = 'open';

-- Each failed attempt of a case, keyed like its signal (source + key), so a
-- second event about the same charge enriches instead of re-alerting.
CREATE TABLE dunning_attempts (
    id            bigserial PRIMARY KEY,
    case_id       bigint      NOT NULL REFERENCES dunning_cases (id),
    attempt_key   text        NOT NULL UNIQUE,
    decline_code  text        NOT NULL DEFAULT '',
    decline_class text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    signal_id     bigint REFERENCES signals (id)
);

-- Accounts put in front of their owner by the weekly win-back list.
CREATE TABLE winback_offers (
    id          bigserial PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    kind        text        NOT NULL CHECK (kind IN ('dormant', 'churned')),
    churn_id    bigint REFERENCES churn_records (id),
    cause       text        NOT NULL DEFAULT '',
    owner       text        NOT NULL,
    detail      text        NOT NULL DEFAULT '', -- why it was listed, as shown
    week        date        NOT NULL,
    message_ref text        NOT NULL,
    offered_at  timestamptz NOT NULL,
    UNIQUE (account_id, kind, week)
);
CREATE INDEX winback_offers_ref ON winback_offers (message_ref);

CREATE TABLE winback_attempts (
    id          bigserial PRIMARY KEY,
    offer_id    bigint      NOT NULL UNIQUE REFERENCES winback_offers (id),
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    kind        text        NOT NULL,
    churn_id    bigint REFERENCES churn_records (id),
    cause       text        NOT NULL DEFAULT '',
    started_by  text        NOT NULL,
    started_at  timestamptz NOT NULL,
    outcome     text CHECK (outcome IN ('re_engaged', 'no_response', 'declined')),
    outcome_by  text,
    outcome_at  timestamptz
);
-- One open attempt per account: a double click starts one.
CREATE UNIQUE INDEX winback_attempts_open ON winback_attempts (account_id) WHERE outcome IS NULL;
CREATE INDEX winback_attempts_started ON winback_attempts (started_at);
