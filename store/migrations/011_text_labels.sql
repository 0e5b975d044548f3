-- Labelled examples from Slack: a person clicked "Not churn intent" or
-- "Wrong sentiment" on a text-driven card. One row per signal, label and
-- person, so a redelivered or repeated click stores nothing twice. The
-- text and what the offline models said are kept as they were, for
-- retraining (holdfast export labels).
CREATE TABLE text_labels (
    id              bigserial PRIMARY KEY,
    signal_id       bigint      NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
    label           text        NOT NULL CHECK (label IN ('not_churn_intent', 'wrong_sentiment')),
    labelled_by     text        NOT NULL,  -- Slack user id
    labelled_at     timestamptz NOT NULL,
    text            text        NOT NULL,
    sentiment       double precision,      -- the stored reading when labelled
    churn_intent    boolean     NOT NULL,
    model_version   text        NOT NULL,
    UNIQUE (signal_id, label, labelled_by)
);
CREATE INDEX text_labels_time ON text_labels (labelled_at, id);
