-- Retention offers: a request per offer, a version per submission,
-- approval steps per version, and an append-only decision log.

CREATE TABLE offer_requests (
    id                bigserial PRIMARY KEY,
    account_id        bigint      NOT NULL REFERENCES accounts (id),
    requested_by      text        NOT NULL,               -- Slack user id of the CSM
    channel_id        text        NOT NULL,               -- the approvals channel holding its thread
    status            text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'revision_requested', 'approved', 'rejected')),
    version           int         NOT NULL DEFAULT 1,     -- the current version
    stage             int         NOT NULL DEFAULT 0,     -- the current version's active stage
    decided_at        timestamptz,                        -- approved or rejected
    customer_answer   text        CHECK (customer_answer IN ('accepted', 'declined', 'countered')),
    answered_at       timestamptz,
    answered_by       text,
    answer_note       text,
    renewal_date      date,        -- the renewal an accepted offer is tracked to
    renewal_outcome   text        CHECK (renewal_outcome IN ('renewed', 'churned')),
    outcome_at        timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX offer_requests_account ON offer_requests (account_id, created_at DESC);
CREATE INDEX offer_requests_open ON offer_requests (created_at) WHERE status IN ('pending', 'revision_requested');
CREATE INDEX offer_requests_tracking ON offer_requests (id)
    WHERE customer_answer = 'accepted' AND renewal_outcome IS NULL;

-- What was asked each time: a revision is a new version of the same request.
CREATE TABLE offer_versions (
    id               bigserial PRIMARY KEY,
    request_id       bigint      NOT NULL REFERENCES offer_requests (id),
    version          int         NOT NULL,
    offer            jsonb       NOT NULL,   -- offers.Offer
    impact           jsonb       NOT NULL,   -- offers.Impact, computed at submission
    route            jsonb       NOT NULL,   -- offers.Route as evaluated: config changes leave it alone
    brief            jsonb       NOT NULL,   -- offers.Brief: the account facts approvers saw
    tier             text        NOT NULL DEFAULT '',
    arr              numeric(14, 2) NOT NULL DEFAULT 0,
    summary          text        NOT NULL,
    summary_source   text        NOT NULL CHECK (summary_source IN ('template', 'llm')),
    submitted_by     text        NOT NULL,
    submitted_at     timestamptz NOT NULL,
    UNIQUE (request_id, version)
);

CREATE TABLE offer_steps (
    id               bigserial PRIMARY KEY,
    request_id       bigint      NOT NULL REFERENCES offer_requests (id),
    version          int         NOT NULL,
    stage            int         NOT NULL,
    position         int         NOT NULL,
    stage_name       text        NOT NULL,
    name             text        NOT NULL,
    approvers        text[]      NOT NULL,  -- user ids, user groups expanded at submission
    group_id         text        NOT NULL DEFAULT '',
    backup           text        NOT NULL DEFAULT '',
    sla              interval    NOT NULL,
    escalate_after   interval    NOT NULL,
    status           text        NOT NULL CHECK (status IN ('waiting', 'pending', 'approved', 'rejected',
                                     'revision_requested', 'closed', 'superseded')),
    activated_at     timestamptz,
    decided_at       timestamptz,
    decided_by       text,
    guidance         text,
    nudged_at        timestamptz,
    escalated_at     timestamptz,
    dm_users         text[]      NOT NULL DEFAULT '{}',  -- who got a DM with this step's buttons
    UNIQUE (request_id, version, stage, position)
);
CREATE INDEX offer_steps_request ON offer_steps (request_id, version, stage, position);
-- The SLA job reads pending steps only.
CREATE INDEX offer_steps_pending ON offer_steps (activated_at) WHERE status = 'pending';
-- "Waiting on me" (App Home, /offers pending).
CREATE INDEX offer_steps_pending_approvers ON offer_steps USING gin (approvers) WHERE status = 'pending';

-- Every click on a decision button, including the refused ones, and every
-- customer answer. Rows are never changed or removed.
CREATE TABLE offer_decisions (
    id           bigserial PRIMARY KEY,
    request_id   bigint      NOT NULL REFERENCES offer_requests (id),
    version      int         NOT NULL,
    step_id      bigint REFERENCES offer_steps (id),
    actor        text        NOT NULL,
    action       text        NOT NULL CHECK (action IN ('approve', 'reject', 'revise', 'answer')),
    outcome      text        NOT NULL CHECK (outcome IN ('recorded', 'refused')),
    refusal      text,        -- why a refused click changed nothing
    guidance     text,        -- revise/reject guidance, or the customer's counter
    answer       text,        -- accepted, declined, countered (action = answer)
    at           timestamptz NOT NULL
);
CREATE INDEX offer_decisions_request ON offer_decisions (request_id, at, id);
-- The last line of defence against double decisions: one recorded
-- decision per step, whatever the application does.
CREATE UNIQUE INDEX offer_decisions_one_per_step ON offer_decisions (step_id)
    WHERE outcome = 'recorded' AND step_id IS NOT NULL;

CREATE FUNCTION offer_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'offer_decisions is append-only';
END
$$;
CREATE TRIGGER offer_decisions_append_only BEFORE UPDATE OR DELETE ON offer_decisions
    FOR EACH ROW EXECUTE FUNCTION offer_decisions_append_only();

-- The channel Slack reported for a delivered post: a post to a user id
-- lands in a DM (D…), and chat.update of that message needs the D… id.
ALTER TABLE outbox ADD COLUMN sent_channel text;
