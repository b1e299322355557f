-- Checks (PostgreSQL is the source of truth; Redis only carries their ids) and API tokens.

CREATE TABLE api_tokens (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT        NOT NULL,
    token_hash      TEXT        NOT NULL UNIQUE,   -- sha256 hex of the token; the token itself is never stored
    rate_per_minute INTEGER     NOT NULL DEFAULT 60,
    revoked         BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at    TIMESTAMPTZ
);

CREATE TABLE checks (
    id          BIGSERIAL PRIMARY KEY,
    status      TEXT        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    source      TEXT        NOT NULL DEFAULT 'api',   -- api, bot, cli
    token_id    BIGINT REFERENCES api_tokens (id),
    user_id     BIGINT,                                -- the Telegram user, for checks from the bot
    language    TEXT        NOT NULL,
    locale      TEXT        NOT NULL DEFAULT 'ru',
    code        TEXT        NOT NULL,
    stdin       BYTEA       NOT NULL DEFAULT ''::bytea,
    verdict     TEXT,
    result      JSONB,                                 -- the `devmentor check --json` object
    attempts    INTEGER     NOT NULL DEFAULT 0,        -- times a worker started it
    enqueued    INTEGER     NOT NULL DEFAULT 1,        -- times it was put on the stream
    worker      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX checks_unfinished ON checks (updated_at) WHERE status <> 'done';
CREATE INDEX checks_created ON checks (created_at);
