-- Tasks: exercises with tests, graded in the sandbox. A submission is a job on the same Redis
-- stream as a check, with the same crash recovery and exactly-once finish.

CREATE TABLE tasks (
    id            BIGSERIAL PRIMARY KEY,
    slug          TEXT        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    topic         TEXT        NOT NULL DEFAULT 'io',
    position      INTEGER     NOT NULL DEFAULT 0,       -- order within the topic
    title_ru      TEXT        NOT NULL,
    title_en      TEXT        NOT NULL,
    statement_ru  TEXT        NOT NULL,                 -- Telegram-HTML subset
    statement_en  TEXT        NOT NULL,
    languages     TEXT[]      NOT NULL DEFAULT '{}',    -- empty: any language
    checker       TEXT        NOT NULL DEFAULT 'lines' CHECK (checker IN ('exact', 'lines', 'tokens', 'float')),
    float_epsilon DOUBLE PRECISION NOT NULL DEFAULT 1e-6,
    stop_at_first_failure BOOLEAN NOT NULL DEFAULT TRUE,
    limits        JSONB,                                -- {"timeout_s", "memory_mb"} over the language's
    hints         JSONB       NOT NULL DEFAULT '[]',    -- [{"ru", "en"}], in order
    solutions     JSONB       NOT NULL DEFAULT '{}',    -- {"python": "...", "cpp": "..."}
    published     BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Loaded from the starter set and not edited since: `devmentor tasks import` may update it.
    from_catalogue BOOLEAN    NOT NULL DEFAULT FALSE,
    validated_at  TIMESTAMPTZ,                          -- the references passed every test
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE task_tests (
    id        BIGSERIAL PRIMARY KEY,
    task_id   BIGINT  NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    stdin     TEXT    NOT NULL DEFAULT '',
    expected  TEXT    NOT NULL,
    hidden    BOOLEAN NOT NULL DEFAULT FALSE,
    note_ru   TEXT,
    note_en   TEXT,
    UNIQUE (task_id, position)
);

CREATE TABLE submissions (
    id          BIGSERIAL PRIMARY KEY,
    task_id     BIGINT      NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    status      TEXT        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    source      TEXT        NOT NULL DEFAULT 'api',     -- api, bot
    token_id    BIGINT REFERENCES api_tokens (id),
    user_id     BIGINT,
    language    TEXT        NOT NULL,
    locale      TEXT        NOT NULL DEFAULT 'ru',
    code        TEXT        NOT NULL,
    verdict     TEXT,
    passed      INTEGER     NOT NULL DEFAULT 0,
    total       INTEGER     NOT NULL DEFAULT 0,
    result      JSONB,                                  -- the graded result (tests, compile output, explanation)
    attempts    INTEGER     NOT NULL DEFAULT 0,
    enqueued    INTEGER     NOT NULL DEFAULT 1,
    worker      TEXT,
    chat_id     BIGINT,
    message_id  INTEGER,
    delivered_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX submissions_unfinished ON submissions (updated_at) WHERE status <> 'done';
CREATE INDEX submissions_task ON submissions (task_id, created_at);
CREATE INDEX submissions_user ON submissions (user_id, task_id) WHERE user_id IS NOT NULL;

-- Tells waiting API requests that a submission finished.
CREATE FUNCTION devmentor_submission_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('submission_done', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER submissions_done AFTER UPDATE OF status ON submissions
    FOR EACH ROW WHEN (NEW.status = 'done' AND OLD.status IS DISTINCT FROM 'done')
    EXECUTE FUNCTION devmentor_submission_done();
