-- NPS as a conversation. Answers (each also an `nps` signal),
-- surveys the cadence selected or sent, detractor loops with their steps,
-- the nudges already sent for overdue steps, and the durable queue of
-- signed POSTs to the external survey tool.

-- Tenure (quarterly and day-30 surveys) counts from activation; accounts
-- imported without one count from when Holdfast first saw them.
ALTER TABLE accounts ADD COLUMN activation_date date;

CREATE TABLE nps_responses (
    id              bigserial PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    -- One answer per signal: a replayed answer is a duplicate signal and
    -- never reaches this table twice.
    signal_id       bigint      NOT NULL UNIQUE REFERENCES signals (id),
    respondent      text        NOT NULL,
    score           int         NOT NULL CHECK (score BETWEEN 0 AND 10),
    category        text        NOT NULL CHECK (category IN ('promoter', 'passive', 'detractor')),
    comment         text        NOT NULL DEFAULT '',
    survey_kind     text        NOT NULL,
    survey_id       bigint,     -- the survey it answers, when known (FK added below)
    answered_at     timestamptz NOT NULL,
    sentiment       double precision,
    sentiment_label text        NOT NULL DEFAULT '',
    churn_intent    boolean     NOT NULL DEFAULT false,
    competitors     text[]      NOT NULL DEFAULT '{}',
    loop_id         bigint,     -- follow-up answers: the loop they follow up
    digested_at     timestamptz, -- promoters and passives: listed in a weekly digest
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nps_responses_account ON nps_responses (account_id, answered_at DESC, id DESC);
CREATE INDEX nps_responses_answered ON nps_responses (answered_at);
CREATE INDEX nps_responses_respondent ON nps_responses (account_id, lower(respondent), answered_at DESC);
CREATE INDEX nps_responses_undigested ON nps_responses (answered_at)
    WHERE digested_at IS NULL AND category IN ('promoter', 'passive');

CREATE TABLE nps_loops (
    id                  bigserial PRIMARY KEY,
    account_id          bigint      NOT NULL REFERENCES accounts (id),
    response_id         bigint      NOT NULL UNIQUE REFERENCES nps_responses (id),
    previous_loop_id    bigint REFERENCES nps_loops (id), -- a follow-up that was still a detractor
    respondent          text        NOT NULL,
    score               int         NOT NULL,
    owner_csm           text        NOT NULL DEFAULT '',
    channel_id          text        NOT NULL,
    thread_key          text        NOT NULL,
    card_ref            text        NOT NULL UNIQUE,
    card                jsonb       NOT NULL, -- what the card showed at opening, to re-render it
    opened_at           timestamptz NOT NULL,
    -- Deadlines are fixed when the loop opens, so a config change does
    -- not move the goalposts of loops already running.
    contact_due         timestamptz NOT NULL,
    root_cause_due      timestamptz NOT NULL,
    action_plan_due     timestamptz NOT NULL,
    escalation_proposed boolean     NOT NULL DEFAULT false,
    contacted_at        timestamptz,
    contacted_by        text,
    root_cause          text,
    root_cause_words    text,
    root_cause_at       timestamptz,
    root_cause_by       text,
    plan_text           text,
    plan_owner          text,
    plan_due            date,
    plan_at             timestamptz,
    plan_by             text,
    escalated_at        timestamptz,
    escalated_by        text,
    follow_up_due       timestamptz,
    follow_up_survey_id bigint,
    follow_up_sent_at   timestamptz,
    follow_up_response_id bigint REFERENCES nps_responses (id),
    follow_up_score     int,
    follow_up_at        timestamptz,
    closed_at           timestamptz,
    -- When the loop watcher next has something to do (a nudge, the
    -- follow-up), computed by the domain on every change; NULL = nothing.
    next_check_at       timestamptz
);
CREATE INDEX nps_loops_account ON nps_loops (account_id, opened_at DESC);
CREATE INDEX nps_loops_next_check ON nps_loops (next_check_at) WHERE closed_at IS NULL AND next_check_at IS NOT NULL;
CREATE INDEX nps_loops_owner_open ON nps_loops (owner_csm, opened_at) WHERE closed_at IS NULL;
ALTER TABLE nps_responses ADD CONSTRAINT nps_responses_loop_fk FOREIGN KEY (loop_id) REFERENCES nps_loops (id);

-- One row per nudge sent: the overdue job inserts before it posts, so a
-- rerun (or a second replica) never nudges twice.
CREATE TABLE nps_loop_nudges (
    loop_id  bigint      NOT NULL REFERENCES nps_loops (id),
    step     text        NOT NULL,
    level    int         NOT NULL CHECK (level IN (1, 2)), -- 1 CSM nudged, 2 manager mentioned
    at       timestamptz NOT NULL,
    PRIMARY KEY (loop_id, step, level)
);

-- A POST of due surveys to the external survey tool. Written in the same
-- transaction as the surveys, sent (and retried) from here.
CREATE TABLE nps_webhook_deliveries (
    id              bigserial PRIMARY KEY,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        int         NOT NULL DEFAULT 0,
    leased_until    timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    warned_at       timestamptz
);
CREATE INDEX nps_webhook_pending ON nps_webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE nps_surveys (
    id           bigserial PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    contact      text        NOT NULL DEFAULT '', -- '' = the account's contacts, as the survey tool knows them
    kind         text        NOT NULL,
    -- Which occurrence of the kind: 'day30', 'q1' (tenure quarter),
    -- the renewal date, the ticket, 'loop:12'. With the unique key below
    -- the daily job selects each occurrence once however often it runs.
    cycle        text        NOT NULL,
    reason       text        NOT NULL,
    loop_id      bigint REFERENCES nps_loops (id),
    created_at   timestamptz NOT NULL,
    delivery_id  bigint REFERENCES nps_webhook_deliveries (id),
    sent_at      timestamptz, -- handed to the survey tool (or listed, without one)
    answered_at  timestamptz,
    response_id  bigint REFERENCES nps_responses (id),
    reminded_at  timestamptz,
    UNIQUE (account_id, contact, kind, cycle)
);
CREATE INDEX nps_surveys_contact ON nps_surveys (account_id, lower(contact), created_at DESC);
CREATE INDEX nps_surveys_unanswered ON nps_surveys (sent_at)
    WHERE answered_at IS NULL AND reminded_at IS NULL AND sent_at IS NOT NULL;
CREATE INDEX nps_surveys_delivery ON nps_surveys (delivery_id) WHERE delivery_id IS NOT NULL;
ALTER TABLE nps_responses ADD CONSTRAINT nps_responses_survey_fk FOREIGN KEY (survey_id) REFERENCES nps_surveys (id);
ALTER TABLE nps_loops ADD CONSTRAINT nps_loops_follow_up_survey_fk FOREIGN KEY (follow_up_survey_id) REFERENCES nps_surveys (id);

-- Post-ticket surveys look for resolved critical tickets.
CREATE INDEX signals_resolved_urgent_tickets ON signals (occurred_at)
    WHERE kind = 'ticket' AND severity = 'urgent';
