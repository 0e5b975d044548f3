-- Connectors: signals from the tools a team already uses (Zendesk,
-- Intercom, HubSpot, Salesforce, Segment, Gong), replay-safe by the tool's
-- own event id, mapped to accounts, and held while no account matches.

-- One row per tool event handled (stored or quarantined), written in the
-- transaction that stores what the event became: a redelivery finds its
-- row and changes nothing.
CREATE TABLE connector_events (
    connector   text        NOT NULL,
    event_id    text        NOT NULL,
    account_id  bigint      REFERENCES accounts (id),  -- null while quarantined
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector, event_id)
);

-- Events whose account is not known yet. The event is kept as parsed, so
-- mapping its key later replays it exactly as it would have been stored.
CREATE TABLE connector_quarantine (
    id          bigserial   PRIMARY KEY,
    connector   text        NOT NULL,
    event_id    text        NOT NULL,
    key_kind    text        NOT NULL,  -- organization, company, group_id, email_domain, crm_id, external_id, deal
    key_value   text        NOT NULL,
    event       jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connector, event_id)
);
CREATE INDEX connector_quarantine_key ON connector_quarantine (connector, key_kind, key_value);

-- A tool's key mapped to an account by hand (a Zendesk organisation, an
-- Intercom company, a Segment groupId, an e-mail domain).
CREATE TABLE connector_mappings (
    connector  text        NOT NULL,
    key_kind   text        NOT NULL,
    key_value  text        NOT NULL,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector, key_kind, key_value)
);

-- What a tool told about how its own keys relate: a HubSpot deal's
-- company, a Segment user's group. A key without a mapping of its own
-- resolves through its link.
CREATE TABLE connector_links (
    connector  text        NOT NULL,
    key_kind   text        NOT NULL,
    key_value  text        NOT NULL,
    to_kind    text        NOT NULL,
    to_value   text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connector, key_kind, key_value)
);

-- Daily product usage per account, summed from the usage stream (Segment
-- track calls). A finished day becomes one usage signal for scoring.
CREATE TABLE connector_usage (
    account_id bigint           NOT NULL REFERENCES accounts (id),
    day        date             NOT NULL,
    value      double precision NOT NULL DEFAULT 0,
    events     bigint           NOT NULL DEFAULT 0,
    updated_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, day)
);

-- Account traits a CRM sends (HubSpot company properties, Salesforce
-- Account fields), kept as the CRM named them.
CREATE TABLE connector_traits (
    account_id bigint      NOT NULL REFERENCES accounts (id),
    connector  text        NOT NULL,
    name       text        NOT NULL,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, connector, name)
);
