-- Audit records the sealer refused to link into the chain (a recorded_at that goes backwards against seq:
-- a row inserted directly and backdated). They stay in place, unsealed, as evidence; verify reports them.
ALTER TABLE audit_records ADD COLUMN seal_refused TEXT NULL;

-- Sharing groups whose membership is itself sensitive: 'private' groups are visible, and nameable as an
-- audience, only to their members and operators. Existing groups keep the behaviour they were created with.
ALTER TABLE sharing_groups ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
