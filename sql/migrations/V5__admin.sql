-- The admin panel: accounts (argon2id hashes), sessions (only a hash of the cookie is stored),
-- and the audit log of every admin action.

CREATE TABLE admins (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,               -- argon2id, PHC string
    role          TEXT        NOT NULL DEFAULT 'staff' CHECK (role IN ('superuser', 'staff')),
    locale        TEXT        NOT NULL DEFAULT 'ru' CHECK (locale IN ('ru', 'en')),
    active        BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX admins_username ON admins (lower(username));

CREATE TABLE admin_sessions (
    token_hash   TEXT PRIMARY KEY,                     -- sha256 of the cookie value
    admin_id     BIGINT      NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip           TEXT        NOT NULL DEFAULT '',
    user_agent   TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    admin_id    BIGINT REFERENCES admins (id) ON DELETE SET NULL,
    admin_name  TEXT        NOT NULL,                  -- kept when the account is deleted
    action      TEXT        NOT NULL,                  -- e.g. user.block, settings.update
    object_type TEXT        NOT NULL,                  -- user, settings, faq, access_request, …
    object_id   TEXT        NOT NULL DEFAULT '',
    before      JSONB,
    after       JSONB,
    ip          TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- Change lists filter and sort these.
CREATE INDEX checks_verdict ON checks (verdict, created_at DESC);
CREATE INDEX checks_language ON checks (language, created_at DESC);
