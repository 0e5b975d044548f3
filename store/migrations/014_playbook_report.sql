-- The at-risk playbook's figures: /atrisk report, the weekly digest's
-- Saves section and the monthly at-risk ARR chart.

-- One row per monthly chart and channel: claimed in the transaction that
-- uploads it (a failed upload rolls the claim back, so the next run
-- retries), so replicas and repeated runs post each month's chart once.
CREATE TABLE playbook_chart_posts (
    month      text        NOT NULL,   -- the last month the chart shows: 2026-11
    channel_id text        NOT NULL,
    file_id    text        NOT NULL DEFAULT '',
    posted_at  timestamptz NOT NULL,
    PRIMARY KEY (month, channel_id)
);
