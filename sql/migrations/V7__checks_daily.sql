-- Pre-aggregated finished checks per day, verdict and language: the dashboard and the checks
-- filters read these instead of scanning a table of millions of checks.

CREATE TABLE checks_daily (
    day      DATE   NOT NULL,
    verdict  TEXT   NOT NULL,
    language TEXT   NOT NULL,
    n        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, verdict, language)
);

-- Who was active on which day (a check from the bot), for the analytics' active-users chart.
CREATE TABLE user_days (
    day     DATE   NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (day, user_id)
);

CREATE FUNCTION devmentor_checks_daily() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.user_id IS NOT NULL THEN
        INSERT INTO user_days (day, user_id) VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.user_id)
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.verdict IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.verdict IS NULL) THEN
        INSERT INTO checks_daily (day, verdict, language, n)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.verdict, NEW.language, 1)
        ON CONFLICT (day, verdict, language) DO UPDATE SET n = checks_daily.n + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER checks_daily_count AFTER INSERT OR UPDATE OF verdict ON checks
    FOR EACH ROW EXECUTE FUNCTION devmentor_checks_daily();

-- What existed before this migration.
INSERT INTO checks_daily (day, verdict, language, n)
SELECT (created_at AT TIME ZONE 'UTC')::date, verdict, language, count(*)
  FROM checks WHERE verdict IS NOT NULL GROUP BY 1, 2, 3;
INSERT INTO user_days (day, user_id)
SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, user_id FROM checks WHERE user_id IS NOT NULL;

-- The checks list filtered by explanation source, newest first.
CREATE INDEX checks_explanation_source ON checks ((result->'explanation'->>'source'), id DESC);
