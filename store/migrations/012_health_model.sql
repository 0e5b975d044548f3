-- Health you can trust: typed account traits, past outcomes, fitted
-- models with their versions, and stated intent as a state.

-- A trait key is typed the first time it is seen and keeps that type, so a
-- model's encoding of it stays meaningful.
CREATE TABLE trait_keys (
    key        text PRIMARY KEY,
    type       text        NOT NULL CHECK (type IN ('number', 'category', 'date', 'bool')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Traits as JSON: numbers and bools as JSON values, categories as strings,
-- dates as YYYY-MM-DD strings; the type is in trait_keys.
ALTER TABLE accounts ADD COLUMN traits jsonb NOT NULL DEFAULT '{}';
-- Outcomes a history import brings (and a churn later records): what a
-- model learns from.
ALTER TABLE accounts ADD COLUMN churned_at timestamptz;
ALTER TABLE accounts ADD COLUMN renewed_at timestamptz;

-- Every fitted model, one row per version.
CREATE TABLE health_models (
    id             bigserial PRIMARY KEY,
    fitted_by      text        NOT NULL,
    fitted_at      timestamptz NOT NULL DEFAULT now(),
    horizon_days   int         NOT NULL CHECK (horizon_days > 0),
    cutoffs        date[]      NOT NULL,
    accounts       int         NOT NULL,
    examples       int         NOT NULL,
    churns         int         NOT NULL,
    model          jsonb       NOT NULL,  -- encoder, coefficients, calibration, band lines
    backtest       jsonb       NOT NULL,  -- out-of-fold figures of the fit
    -- The accounts the model learned from, so a later backtest can leave them out.
    train_accounts bigint[]    NOT NULL
);

-- Which model scores now: the latest row wins; model_id NULL means the
-- hand-set weights. The log is a stack: `use` pushes, a rollback row pops
-- and names what scores again.
CREATE TABLE health_model_activations (
    id           bigserial PRIMARY KEY,
    model_id     bigint REFERENCES health_models (id),
    rollback     boolean     NOT NULL DEFAULT false,
    activated_by text        NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT now()
);

-- Stated intent is a state: an account's intent is open while it has an
-- intent signal newer than the last one resolved in Slack.
CREATE INDEX signals_intent ON signals (account_id, id DESC) WHERE churn_intent;
CREATE TABLE intent_resolutions (
    id                bigserial PRIMARY KEY,
    account_id        bigint      NOT NULL REFERENCES accounts (id),
    through_signal_id bigint      NOT NULL REFERENCES signals (id),  -- every intent up to this one is resolved
    resolution        text        NOT NULL CHECK (resolution IN ('saved', 'churned', 'not_intent')),
    resolved_by       text        NOT NULL,  -- Slack user id
    resolved_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, through_signal_id)
);
-- Texts a person said were not intent to cancel: labelled examples for the
-- text model.
CREATE TABLE intent_examples (
    id          bigserial PRIMARY KEY,
    signal_id   bigint      NOT NULL UNIQUE REFERENCES signals (id),
    text        text        NOT NULL,
    label       text        NOT NULL CHECK (label IN ('not_intent')),
    labelled_by text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
