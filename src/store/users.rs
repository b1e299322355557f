//! The bot's users: one row per Telegram user, upserted on every contact.

use super::{Client, StoreError};
use crate::registry::Locale;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Who wrote, as Telegram describes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
}

/// What the bot is waiting for from this user; kept in PostgreSQL so it survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "await", rename_all = "snake_case")]
pub enum Dialogue {
    #[default]
    Idle,
    /// After `/run` with nothing to run: the next message is code.
    Code,
    /// After ⌨️ on check N: the next message is its standard input.
    Stdin { check: i64 },
    /// Code without a recognisable language: it waits in check-less form for a language button.
    /// `code`/`source_message_id`/`stdin` is the newest program; `earlier` holds the ones sent
    /// before it that still wait (each question's buttons name its program's message), so a
    /// second program without a language does not silently replace the first.
    Language {
        code: String,
        source_message_id: i32,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stdin: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        earlier: Vec<WaitingProgram>,
    },
    /// Task mode: the next code is a solution to this task.
    Task { task: i64 },
}

/// A program waiting for its language (see [`Dialogue::Language`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitingProgram {
    pub code: String,
    pub source_message_id: i32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stdin: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub language_code: Option<String>,
    pub locale: Option<Locale>,
    pub prog_language: Option<String>,
    pub blocked: bool,
    pub bot_blocked: bool,
    pub dialogue: Dialogue,
    pub checks_count: i64,
    pub last_seen_at: SystemTime,
    /// On the whitelist by id or username (read with the row, to save a round trip).
    pub whitelisted: bool,
    /// The user's latest unfinished check of the last 15 minutes (one running check per user).
    pub unfinished_check: Option<i64>,
}

impl User {
    /// The interface language: the user's choice, else Telegram's `language_code`, else Russian.
    pub fn locale(&self) -> Locale {
        self.locale
            .unwrap_or_else(|| locale_for_code(self.language_code.as_deref()))
    }
}

/// Russian unless Telegram says the user's app speaks English (or another language we do not
/// have, where English is the better guess than Russian for anyone outside the CIS).
pub fn locale_for_code(code: Option<&str>) -> Locale {
    match code.map(|c| c.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase()) {
        None => Locale::Ru,
        Some(c) if c.is_empty() => Locale::Ru,
        Some(c) if ["ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az", "ka"].contains(&c.as_str()) => Locale::Ru,
        Some(_) => Locale::En,
    }
}

/// A statement returning a user's columns (as [`row_to_user`] reads them) between `$before`
/// and `$after`: one constant string each, no SQL assembled at run time.
macro_rules! user_columns {
    ($before:literal, $after:literal) => {
        concat!(
            $before,
            " ",
            "id, username, first_name, language_code, locale, prog_language, blocked, bot_blocked, state, \
                       checks_count, last_seen_at, \
                       EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = users.id::text \
                                  OR w.subject = lower(users.username)), \
                       (SELECT c.id FROM checks c WHERE c.user_id = users.id AND c.status <> 'done' \
                           AND c.created_at > now() - interval '15 minutes' ORDER BY c.id DESC LIMIT 1)",
            " ",
            $after
        )
    };
}

fn row_to_user(r: &tokio_postgres::Row) -> User {
    let state: serde_json::Value = r.get(8);
    User {
        id: r.get(0),
        username: r.get(1),
        first_name: r.get(2),
        language_code: r.get(3),
        locale: r.get::<_, Option<&str>>(4).and_then(Locale::parse),
        prog_language: r.get(5),
        blocked: r.get(6),
        bot_blocked: r.get(7),
        dialogue: serde_json::from_value(state).unwrap_or_default(),
        checks_count: r.get(9),
        last_seen_at: r.get(10),
        whitelisted: r.get(11),
        unfinished_check: r.get(12),
    }
}

/// Records a contact (new user or returning one) and returns the row. A user who had blocked
/// the bot and writes again has evidently unblocked it.
pub async fn touch(client: &Client, c: &Contact) -> Result<User, StoreError> {
    let row = client
        .query_one(
            user_columns!(
                "INSERT INTO users (id, username, first_name, last_name, language_code, messages_count)
                 VALUES ($1, $2, $3, $4, $5, 1)
                 ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, first_name = EXCLUDED.first_name,
                     last_name = EXCLUDED.last_name,
                     language_code = COALESCE(EXCLUDED.language_code, users.language_code),
                     messages_count = users.messages_count + 1, last_seen_at = now(), bot_blocked = FALSE
                 RETURNING",
                ""
            ),
            &[&c.id, &c.username, &c.first_name, &c.last_name, &c.language_code],
        )
        .await?;
    Ok(row_to_user(&row))
}

pub async fn get(client: &Client, id: i64) -> Result<Option<User>, StoreError> {
    let row = client
        .query_opt(user_columns!("SELECT", "FROM users WHERE id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(row_to_user))
}

pub async fn set_dialogue(client: &Client, id: i64, d: &Dialogue) -> Result<(), StoreError> {
    let v = serde_json::to_value(d).unwrap_or_default();
    client
        .execute("UPDATE users SET state = $2 WHERE id = $1", &[&id, &v])
        .await?;
    Ok(())
}

pub async fn set_locale(client: &Client, id: i64, locale: Locale) -> Result<(), StoreError> {
    client
        .execute("UPDATE users SET locale = $2 WHERE id = $1", &[&id, &locale.as_str()])
        .await?;
    Ok(())
}

pub async fn set_prog_language(client: &Client, id: i64, language: &str) -> Result<(), StoreError> {
    client
        .execute("UPDATE users SET prog_language = $2 WHERE id = $1", &[&id, &language])
        .await?;
    Ok(())
}

/// Telegram answered 403: the user blocked the bot. Broadcasts skip them until they write again.
pub async fn mark_bot_blocked(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute("UPDATE users SET bot_blocked = TRUE WHERE id = $1", &[&id])
        .await?;
    Ok(())
}

/// Takes one AI call from the user's daily quota; false when today's quota is used up.
pub async fn take_ai_quota(client: &Client, id: i64, daily: i32) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE users SET ai_count = CASE WHEN ai_day = current_date THEN ai_count + 1 ELSE 1 END,
                              ai_day = current_date
              WHERE id = $1 AND (ai_day IS DISTINCT FROM current_date OR ai_count < $2)",
            &[&id, &daily],
        )
        .await?;
    Ok(n == 1)
}

/// A 👍 (+1) or 👎 (-1) on the explanation of a check.
pub async fn vote(client: &Client, check_id: i64, user_id: i64, vote: i16, source: &str) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO feedback (check_id, user_id, vote, source) VALUES ($1, $2, $3, $4)
             ON CONFLICT (check_id, user_id) DO UPDATE SET vote = EXCLUDED.vote, created_at = now()",
            &[&check_id, &user_id, &vote, &source],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_from_telegram_language_code() {
        assert_eq!(locale_for_code(None), Locale::Ru);
        assert_eq!(locale_for_code(Some("ru")), Locale::Ru);
        assert_eq!(locale_for_code(Some("uk-UA")), Locale::Ru);
        assert_eq!(locale_for_code(Some("en")), Locale::En);
        assert_eq!(locale_for_code(Some("de")), Locale::En);
    }

    #[test]
    fn dialogue_round_trips_through_json() {
        for d in [
            Dialogue::Idle,
            Dialogue::Code,
            Dialogue::Stdin { check: 7 },
            Dialogue::Language {
                code: "print(1)".into(),
                source_message_id: 3,
                stdin: String::new(),
                earlier: Vec::new(),
            },
            Dialogue::Language {
                code: "print(2)".into(),
                source_message_id: 5,
                stdin: "7".into(),
                earlier: vec![WaitingProgram {
                    code: "print(1)".into(),
                    source_message_id: 3,
                    stdin: String::new(),
                }],
            },
        ] {
            let v = serde_json::to_value(&d).unwrap();
            assert_eq!(serde_json::from_value::<Dialogue>(v).unwrap(), d);
        }
        assert_eq!(
            serde_json::from_str::<Dialogue>("{}").unwrap_or_default(),
            Dialogue::Idle
        );
    }
}
