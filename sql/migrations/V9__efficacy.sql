-- Does the mentoring work: every explained check or submission linked to the same student's
-- next attempt at the same thing, whether that attempt fixed the error, and daily counters the
-- panel and the API read instead of scanning millions of rows. The write path is
-- `src/store/efficacy.rs`; the counters follow `attempt_links` through the triggers below.

-- The student behind an API check or submission: the front end's optional "user" string.
ALTER TABLE checks ADD COLUMN api_user TEXT;
ALTER TABLE submissions
    ADD COLUMN api_user TEXT,
    ADD COLUMN hints_shown INTEGER NOT NULL DEFAULT 0;  -- 💡 hints the student opened after this result

-- A second text of an entry (A/B): `{"ru": {title, what, why, hint, …}, "en": {…}}`. The round
-- grows each time a variant is set or promoted, so one experiment's counts never mix with another's.
ALTER TABLE registry_entries
    ADD COLUMN variant_texts JSONB,
    ADD COLUMN variant_round INTEGER NOT NULL DEFAULT 0;

-- Explanation events by check, for `devmentor efficacy rebuild` (results written before this
-- version carry no fingerprint of their own).
CREATE INDEX explanation_events_check ON explanation_events (check_id) WHERE check_id IS NOT NULL;

CREATE TABLE attempt_links (
    kind            TEXT        NOT NULL CHECK (kind IN ('check', 'submission')),
    attempt_id      BIGINT      NOT NULL,            -- checks.id or submissions.id
    student         TEXT        NOT NULL,            -- 'u:<telegram id>', 't:<token id>[:<user>]'
    language        TEXT        NOT NULL,
    task_slug       TEXT,                            -- submissions
    source          TEXT        NOT NULL CHECK (source IN ('registry', 'ai', 'cache', 'hint', 'none')),
    entry_id        BIGINT,                          -- registry_entries.id then; no FK: history outlives it
    entry_slug      TEXT,                            -- the entry's slug then
    variant         TEXT,                            -- '<round>a' / '<round>b' while the entry ran a split
    fingerprint     TEXT        NOT NULL,            -- the analyzer's: "the same error"
    code            TEXT        NOT NULL DEFAULT '', -- free checks: compared with the next one
    created_at      TIMESTAMPTZ NOT NULL,            -- the attempt's own (PostgreSQL's clock)
    window_ends     TIMESTAMPTZ NOT NULL,            -- unanswered until then: pending, after: not fixed
    chain_n         INTEGER     NOT NULL DEFAULT 1,  -- attempts that showed this error in a row, this one included
    chain_started   TIMESTAMPTZ NOT NULL,            -- the first of them
    next_kind       TEXT,
    next_id         BIGINT,
    link            TEXT CHECK (link IN ('submission', 'edit', 'rerun', 'similar')),
    fixed           BOOLEAN,                         -- NULL while no next attempt exists
    attempts_to_fix INTEGER,
    seconds_to_fix  DOUBLE PRECISION,
    seconds_bucket  INTEGER,                         -- `efficacy::SECONDS_EDGES` index of seconds_to_fix
    up              SMALLINT    NOT NULL DEFAULT 0,  -- the student's 👍/👎 on this explanation
    down            SMALLINT    NOT NULL DEFAULT 0,
    linked_at       TIMESTAMPTZ,
    PRIMARY KEY (kind, attempt_id)
);
CREATE INDEX attempt_links_open_checks ON attempt_links (student, language, created_at DESC)
    WHERE next_id IS NULL AND kind = 'check';
CREATE INDEX attempt_links_open_submissions ON attempt_links (student, task_slug, created_at DESC)
    WHERE next_id IS NULL AND kind = 'submission';
CREATE INDEX attempt_links_pending ON attempt_links (window_ends) WHERE next_id IS NULL;
CREATE INDEX attempt_links_entry ON attempt_links (entry_id, created_at) WHERE entry_id IS NOT NULL;

-- Per day, dimension (source / entry / variant / task / unmatched) and language.
CREATE TABLE efficacy_daily (
    dim       TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    language  TEXT   NOT NULL,
    day       DATE   NOT NULL,
    explained BIGINT NOT NULL DEFAULT 0,
    fixed     BIGINT NOT NULL DEFAULT 0,
    up        BIGINT NOT NULL DEFAULT 0,
    down      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, key, language, day)
);
CREATE INDEX efficacy_daily_day ON efficacy_daily (dim, day);

-- Histograms of the fixes: attempts (1…10, 10 = ten or more) and seconds (bucketed).
CREATE TABLE efficacy_hist (
    dim      TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    language TEXT    NOT NULL,
    day      DATE    NOT NULL,
    measure  TEXT    NOT NULL CHECK (measure IN ('attempts', 'seconds')),
    bucket   INTEGER NOT NULL,
    n        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, key, language, day, measure, bucket)
);

-- The counter rows one link row contributes to.
CREATE FUNCTION devmentor_efficacy_dims(l attempt_links) RETURNS TABLE (dim TEXT, key TEXT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT v.dim, v.key
      FROM (VALUES ('source', l.source),
                   ('entry', l.entry_id::text),
                   ('variant', l.entry_id::text || ':' || l.variant),
                   ('task', l.task_slug),
                   -- Errors no entry explained, by fingerprint: the backlog's "how many it held back".
                   ('unmatched', CASE WHEN l.entry_slug IS NULL AND l.kind = 'check' THEN l.fingerprint END)) v (dim, key)
     WHERE v.key IS NOT NULL
$$;

-- Adds (sign 1) or takes back (sign -1) one link row's contribution.
CREATE FUNCTION devmentor_efficacy_apply(l attempt_links, sign INTEGER) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO efficacy_daily AS e (dim, key, language, day, explained, fixed, up, down)
    SELECT d.dim, d.key, l.language, (l.created_at AT TIME ZONE 'UTC')::date, sign,
           sign * (l.fixed IS TRUE)::int, sign * l.up, sign * l.down
      FROM devmentor_efficacy_dims(l) d
    ON CONFLICT (dim, key, language, day) DO UPDATE
       SET explained = e.explained + EXCLUDED.explained, fixed = e.fixed + EXCLUDED.fixed,
           up = e.up + EXCLUDED.up, down = e.down + EXCLUDED.down;
    INSERT INTO efficacy_hist AS h (dim, key, language, day, measure, bucket, n)
    SELECT d.dim, d.key, l.language, (l.created_at AT TIME ZONE 'UTC')::date, m.measure, m.bucket, sign
      FROM devmentor_efficacy_dims(l) d,
           (VALUES ('attempts', least(greatest(l.attempts_to_fix, 1), 10)), ('seconds', l.seconds_bucket)) m (measure, bucket)
     WHERE l.fixed IS TRUE AND m.bucket IS NOT NULL
    ON CONFLICT (dim, key, language, day, measure, bucket) DO UPDATE SET n = h.n + EXCLUDED.n;
$$;

CREATE FUNCTION devmentor_efficacy_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM devmentor_efficacy_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM devmentor_efficacy_apply(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER attempt_links_count AFTER INSERT OR DELETE ON attempt_links
    FOR EACH ROW EXECUTE FUNCTION devmentor_efficacy_count();
CREATE TRIGGER attempt_links_recount AFTER UPDATE ON attempt_links
    FOR EACH ROW WHEN (OLD.source IS DISTINCT FROM NEW.source OR OLD.fixed IS DISTINCT FROM NEW.fixed
                       OR OLD.up <> NEW.up OR OLD.down <> NEW.down OR OLD.entry_id IS DISTINCT FROM NEW.entry_id)
    EXECUTE FUNCTION devmentor_efficacy_count();

-- The counters from the link rows alone: `devmentor efficacy rebuild` and seeded benchmarks.
CREATE FUNCTION devmentor_efficacy_recount() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE efficacy_daily, efficacy_hist;
    DROP TABLE IF EXISTS efficacy_rows;
    -- One pass over the rows into a scratch table (aggregating over the set-returning dims
    -- function directly trips PostgreSQL 15's planner: "variable not found in subplan target list").
    CREATE TEMP TABLE efficacy_rows ON COMMIT DROP AS
    SELECT d.dim, d.key, l.language, (l.created_at AT TIME ZONE 'UTC')::date AS day, l.fixed, l.up, l.down,
           least(greatest(l.attempts_to_fix, 1), 10) AS attempts, l.seconds_bucket
      FROM attempt_links l CROSS JOIN LATERAL devmentor_efficacy_dims(l) d;
    INSERT INTO efficacy_daily (dim, key, language, day, explained, fixed, up, down)
    SELECT dim, key, language, day, count(*), count(*) FILTER (WHERE fixed), sum(up), sum(down)
      FROM efficacy_rows GROUP BY 1, 2, 3, 4;
    INSERT INTO efficacy_hist (dim, key, language, day, measure, bucket, n)
    SELECT dim, key, language, day, 'attempts', attempts, count(*) FROM efficacy_rows
     WHERE fixed AND attempts IS NOT NULL GROUP BY 1, 2, 3, 4, 6
    UNION ALL
    SELECT dim, key, language, day, 'seconds', seconds_bucket, count(*) FROM efficacy_rows
     WHERE fixed AND seconds_bucket IS NOT NULL GROUP BY 1, 2, 3, 4, 6;
    DROP TABLE efficacy_rows;
END
$$;

-- A 👍/👎 on a check's explanation lands on its link row (one vote per check: its student's).
CREATE FUNCTION devmentor_efficacy_vote() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attempt_links SET up = (NEW.vote > 0)::int, down = (NEW.vote < 0)::int
     WHERE kind = 'check' AND attempt_id = NEW.check_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER feedback_efficacy AFTER INSERT OR UPDATE OF vote ON feedback
    FOR EACH ROW EXECUTE FUNCTION devmentor_efficacy_vote();
