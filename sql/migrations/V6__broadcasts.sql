-- Broadcasts: a message to an audience, sent by the broadcaster actor under Telegram's limits.
-- One delivery row per recipient makes a restart resume without sending anyone the message twice.

CREATE TABLE broadcasts (
    id          BIGSERIAL PRIMARY KEY,
    text        TEXT        NOT NULL,                 -- Telegram HTML
    audience    TEXT        NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'whitelisted', 'active', 'locale')),
    active_days INTEGER     NOT NULL DEFAULT 30,
    locale      TEXT        NOT NULL DEFAULT 'ru',
    status      TEXT        NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'sending', 'paused', 'cancelled', 'done')),
    created_by  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);

CREATE TABLE broadcast_deliveries (
    broadcast_id BIGINT      NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id      BIGINT      NOT NULL,
    -- pending → sending (claimed, about to call Telegram) → sent | failed | blocked.
    -- A row left in `sending` by a crash is never retried: it may have been sent.
    status       TEXT        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'unknown')),
    error        TEXT,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (broadcast_id, user_id)
);
CREATE INDEX broadcast_deliveries_pending ON broadcast_deliveries (broadcast_id) WHERE status = 'pending';

-- An admin's own Telegram id, for "send to yourself first".
ALTER TABLE admins ADD COLUMN telegram_id BIGINT;
