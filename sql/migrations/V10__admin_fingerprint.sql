-- The kind of an error (src/analyzer/kind.rs): language, type and the message with its numbers,
-- quoted values and paths blanked. The backlog of unmatched errors groups by it, so the same
-- mistake with another variable name or on another line is one row. Rows recorded before this
-- column existed get it from `devmentor migrate` (computed by the same Rust function); until
-- then the backlog falls back to their old fingerprint.
ALTER TABLE explanation_events ADD COLUMN kind_fingerprint TEXT;
CREATE INDEX explanation_events_unmatched_kind ON explanation_events (kind_fingerprint) WHERE entry_slug IS NULL;
