-- The Telegram bot: its users, access (whitelist, requests), settings, feedback on explanations,
-- and what a check needs to be delivered (the chat, the "⏳" message that becomes the result card).

CREATE TABLE users (
    id             BIGINT PRIMARY KEY,               -- the Telegram user id
    username       TEXT,
    first_name     TEXT        NOT NULL DEFAULT '',
    last_name      TEXT,
    language_code  TEXT,                             -- from Telegram; picks the default locale
    locale         TEXT CHECK (locale IN ('ru', 'en')),  -- chosen in /settings; NULL = from language_code
    prog_language  TEXT,                             -- chosen in /language
    blocked        BOOLEAN     NOT NULL DEFAULT FALSE,   -- blocked by an admin
    bot_blocked    BOOLEAN     NOT NULL DEFAULT FALSE,   -- the user blocked the bot (Telegram said 403)
    state          JSONB       NOT NULL DEFAULT '{}',    -- dialogue state: what the bot waits for
    messages_count BIGINT      NOT NULL DEFAULT 0,
    checks_count   BIGINT      NOT NULL DEFAULT 0,
    ai_day         DATE,                             -- the day ai_count counts
    ai_count       INTEGER     NOT NULL DEFAULT 0,
    first_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_username ON users (lower(username));
CREATE INDEX users_last_seen ON users (last_seen_at);

-- Whitelist entries: a Telegram id ('123456') or a lower-case username without '@' ('alice').
-- Entries may name people who have not written to the bot yet.
CREATE TABLE whitelist (
    subject    TEXT PRIMARY KEY,
    note       TEXT        NOT NULL DEFAULT '',
    added_by   TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE access_requests (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_at TIMESTAMPTZ,
    decided_by TEXT
);
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (user_id) WHERE status = 'pending';

-- Operator settings (welcome text, whitelist and maintenance mode, limits). A missing key means
-- the built-in default; a change is announced on `settings_changed` and applied without a restart.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      JSONB       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE FUNCTION devmentor_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('settings_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION devmentor_settings_changed();

-- 👍/👎 on an explanation, one vote per user and check (a new vote replaces the old one).
CREATE TABLE feedback (
    check_id   BIGINT      NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL,
    vote       SMALLINT    NOT NULL CHECK (vote IN (-1, 1)),
    source     TEXT        NOT NULL DEFAULT '',      -- registry / ai / cache: what was rated
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (check_id, user_id)
);

ALTER TABLE checks
    ADD COLUMN chat_id           BIGINT,       -- where the result card lives
    ADD COLUMN message_id        INTEGER,      -- the "⏳" message, edited into the result card
    ADD COLUMN source_message_id INTEGER,      -- the student's message with the code (edits re-run it)
    ADD COLUMN delivered_at      TIMESTAMPTZ;  -- when the card was edited in (delivered once)
CREATE INDEX checks_user ON checks (user_id, id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX checks_undelivered ON checks (finished_at) WHERE source = 'bot' AND delivered_at IS NULL;

-- FAQ shown by /faq, per interface language, in `position` order.
CREATE TABLE faq (
    id         BIGSERIAL PRIMARY KEY,
    locale     TEXT        NOT NULL CHECK (locale IN ('ru', 'en')),
    question   TEXT        NOT NULL,
    answer     TEXT        NOT NULL,
    position   INTEGER     NOT NULL DEFAULT 0,
    published  BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX faq_order ON faq (locale, position, id) WHERE published;
