-- After the alert: the at-risk playbook (response SLA, intervention steps,
-- resolution), live leadership alerts, and what the report counts.

-- The Slack thread an alert went to, and when it was due there (quiet
-- hours delay non-critical alerts): the playbook's SLA clock starts then.
ALTER TABLE alerts ADD COLUMN thread_key text NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN due_at timestamptz;

-- One playbook per episode of risk: opened by the first at-risk or
-- critical alert of an account with none open, closed as recovered,
-- churned or dismissed. Later alerts of the episode join it.
CREATE TABLE playbooks (
    id              bigserial PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    alert_id        bigint      NOT NULL UNIQUE REFERENCES alerts (id),  -- the alert that opened it
    previous_id     bigint REFERENCES playbooks (id),  -- the closed playbook this one follows (a slip)
    channel_id      text        NOT NULL,
    thread_key      text        NOT NULL,
    critical        boolean     NOT NULL,
    -- What the account looked like when it opened: the report's segments
    -- and ARR at stake do not move when the account is edited later.
    owner_csm       text        NOT NULL DEFAULT '',
    segment         text        NOT NULL DEFAULT '',
    arr             numeric(14, 2) NOT NULL DEFAULT 0,
    score_at_open   int         NOT NULL,
    band_at_open    text        NOT NULL,
    opened_at       timestamptz NOT NULL,
    -- Response SLA: counted from when the alert was due in Slack.
    sla_from        timestamptz NOT NULL,
    nudge_at        timestamptz NOT NULL,   -- the owner is nudged if still unclaimed
    claim_due_at    timestamptz NOT NULL,   -- then their manager is mentioned
    nudged_at       timestamptz,
    escalated_at    timestamptz,
    claimed_by      text,
    claimed_at      timestamptz,
    contacted_at    timestamptz,            -- first contact with the customer
    -- Weekly check-ins: when the next reminder is due, and the score the
    -- last one showed (the next says how far it moved since).
    next_checkin_at timestamptz,
    checkin_score   int,
    state           text        NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'recovered', 'churned', 'dismissed')),
    resolved_at     timestamptz,
    resolved_by     text        NOT NULL DEFAULT '',
    score_at_resolution int,
    recovered_from  timestamptz,            -- recovered: when health climbed back above the line
    resolution_note text        NOT NULL DEFAULT '',
    CHECK ((state = 'open') = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX playbooks_one_open ON playbooks (account_id) WHERE state = 'open';
CREATE INDEX playbooks_account ON playbooks (account_id, id DESC);
CREATE INDEX playbooks_unclaimed ON playbooks (nudge_at) WHERE state = 'open' AND claimed_at IS NULL;
CREATE INDEX playbooks_checkins ON playbooks (next_checkin_at) WHERE state = 'open';
CREATE INDEX playbooks_opened ON playbooks (opened_at);
CREATE INDEX playbooks_resolved ON playbooks (resolved_at) WHERE resolved_at IS NOT NULL;

-- Every step recorded in a playbook's thread; details are the form's
-- fields (root cause, notes, plan actions, resources).
CREATE TABLE playbook_steps (
    id           bigserial PRIMARY KEY,
    playbook_id  bigint      NOT NULL REFERENCES playbooks (id),
    step         text        NOT NULL,
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}',
    -- The Slack request that recorded it: a redelivered click or
    -- submission records nothing twice.
    request_key  text        UNIQUE
);
CREATE INDEX playbook_steps_playbook ON playbook_steps (playbook_id, recorded_at);

-- Reminders of overdue steps, sent once each.
CREATE TABLE playbook_reminders (
    playbook_id bigint      NOT NULL REFERENCES playbooks (id),
    step        text        NOT NULL,
    sent_at     timestamptz NOT NULL,
    PRIMARY KEY (playbook_id, step)
);

-- Alerts the team dismissed as false alarms, with why, and the health
-- that raised them: labelled examples for the health model.
CREATE TABLE risk_labels (
    id          bigserial PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    playbook_id bigint      REFERENCES playbooks (id),
    alert_id    bigint      REFERENCES alerts (id),
    label       text        NOT NULL CHECK (label IN ('false_alarm')),
    reason      text        NOT NULL CHECK (reason <> ''),
    score       int,
    band        text        NOT NULL DEFAULT '',
    components  jsonb       NOT NULL DEFAULT '[]',
    labelled_by text        NOT NULL,
    labelled_at timestamptz NOT NULL
);
CREATE INDEX risk_labels_account ON risk_labels (account_id, labelled_at);

-- Live leadership alerts: a channel subscribed "live" gets new critical
-- alerts and recoveries of accounts at or above its min_arr as they happen.
ALTER TABLE digest_subscriptions DROP CONSTRAINT digest_subscriptions_frequency_check;
ALTER TABLE digest_subscriptions ADD CONSTRAINT digest_subscriptions_frequency_check
    CHECK (frequency IN ('daily', 'weekly', 'live'));
