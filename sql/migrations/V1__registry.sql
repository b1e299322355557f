-- The common-error registry, explanation events (for the "unmatched errors" backlog) and the
-- AI answer cache. PostgreSQL is the source of truth; the worker keeps a compiled copy of the
-- registry in memory and reloads it on the `registry_changed` notification.

CREATE TABLE registry_entries (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT        NOT NULL UNIQUE,
    language        TEXT        NOT NULL,          -- a language name, or '*' for every language
    error_type      TEXT        NOT NULL,
    pattern         TEXT        NOT NULL,          -- Rust regex over the error message, named captures
    line_pattern    TEXT,                          -- optional regex over the failing source line
    priority        INTEGER     NOT NULL DEFAULT 50,
    enabled         BOOLEAN     NOT NULL DEFAULT TRUE,
    sample_error    TEXT        NOT NULL,          -- a message the pattern must match
    sample_program  TEXT,
    sample_stdin    TEXT,
    sample_line     INTEGER,
    edited_by_admin BOOLEAN     NOT NULL DEFAULT FALSE,  -- `registry import` never overwrites these
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX registry_entries_lookup ON registry_entries (language, error_type);

CREATE TABLE registry_texts (
    entry_id     BIGINT NOT NULL REFERENCES registry_entries (id) ON DELETE CASCADE,
    locale       TEXT   NOT NULL CHECK (locale IN ('ru', 'en')),
    title        TEXT   NOT NULL DEFAULT '',
    what         TEXT   NOT NULL DEFAULT '',
    why          TEXT   NOT NULL DEFAULT '',
    hint         TEXT   NOT NULL DEFAULT '',
    example_bad  TEXT   NOT NULL DEFAULT '',
    example_good TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (entry_id, locale)
);

-- One row per explanation given: which entry matched, or the fingerprint of an unmatched error.
CREATE TABLE explanation_events (
    id          BIGSERIAL PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    check_id    BIGINT,
    language    TEXT NOT NULL,
    error_type  TEXT NOT NULL,
    message     TEXT NOT NULL,
    source_line TEXT,
    fingerprint TEXT NOT NULL,
    entry_slug  TEXT,
    source      TEXT NOT NULL CHECK (source IN ('registry', 'ai', 'cache', 'none')),
    locale      TEXT NOT NULL
);
CREATE INDEX explanation_events_unmatched ON explanation_events (fingerprint) WHERE entry_slug IS NULL;
CREATE INDEX explanation_events_created ON explanation_events (created_at);

CREATE TABLE ai_cache (
    fingerprint    TEXT PRIMARY KEY,
    language       TEXT        NOT NULL,
    model          TEXT        NOT NULL,
    prompt_version TEXT        NOT NULL,
    locale         TEXT        NOT NULL,
    error_type     TEXT        NOT NULL,
    message        TEXT        NOT NULL,
    answer         TEXT        NOT NULL,
    hits           BIGINT      NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_hit_at    TIMESTAMPTZ
);

CREATE FUNCTION devmentor_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registry_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER registry_entries_changed AFTER INSERT OR UPDATE OR DELETE ON registry_entries
    FOR EACH STATEMENT EXECUTE FUNCTION devmentor_registry_changed();
CREATE TRIGGER registry_texts_changed AFTER INSERT OR UPDATE OR DELETE ON registry_texts
    FOR EACH STATEMENT EXECUTE FUNCTION devmentor_registry_changed();
