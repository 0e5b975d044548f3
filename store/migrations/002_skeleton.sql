-- Outbox references: a feature names a message it posts (ref) so it can
-- later edit it (target_ref) before or after delivery, and read its ts.
-- Ephemeral messages need the user they are shown to.
ALTER TABLE outbox DROP CONSTRAINT outbox_op_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_op_check CHECK (op IN ('post', 'update', 'ephemeral'));
ALTER TABLE outbox ADD COLUMN ref text;
ALTER TABLE outbox ADD COLUMN target_ref text;
ALTER TABLE outbox ADD COLUMN user_id text;
CREATE UNIQUE INDEX outbox_ref ON outbox (ref) WHERE ref IS NOT NULL;
CREATE INDEX outbox_target_ref_pending ON outbox (target_ref, id)
    WHERE target_ref IS NOT NULL AND delivered_at IS NULL AND failed_at IS NULL;

-- The top driver of the latest score, so /atrisk can say why without
-- reading snapshots.
ALTER TABLE accounts ADD COLUMN health_driver text NOT NULL DEFAULT '';
