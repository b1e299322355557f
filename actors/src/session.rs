//! Sessions: one actor per user, spawned on first contact and stopped after an idle timeout,
//! handling that user's updates in order. A session checks access on every update kind, keeps
//! the per-user limits (one running check, a rate limit), and turns code into a check: a
//! `checks` row, a job on the stream, and the "⏳" message that delivery edits into the result.
//! Dialogue state lives in PostgreSQL (`users.state`), so a restart loses nothing.

use crate::bot::{BotCtx, SendError};
use devmentor::check::{validate_source, CheckError};
use devmentor::i18n::{t, tf};
use devmentor::registry::Locale;
use devmentor::store::checks::{self, NewCheck};
use devmentor::store::settings::Settings;
use devmentor::store::users::{self, Contact, Dialogue, User};
use devmentor::store::{access, Client};
use devmentor::telegram::callback::Callback;
use devmentor::telegram::code::{self, Incoming};
use devmentor::telegram::render::{self, escape, Button, ResultView};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::future::IntoFuture;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use teloxide::net::Download;
use teloxide::payloads::{AnswerCallbackQuerySetters, SendDocumentSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{
    ChatAction, ForceReply, InputFile, KeyboardButton, KeyboardMarkup, MaybeInaccessibleMessage, Message, ParseMode,
    ReplyMarkup, Update, UpdateKind,
};

pub const SUPERVISOR_NAME: &str = "bot_sessions";
const LANGUAGE_MENU: [&str; 7] = ["python", "javascript", "c", "cpp", "java", "go", "rust"];
const HISTORY_PAGE: i64 = 8;

// ---- the session supervisor ----

pub enum SupervisorMsg {
    Route(i64, Box<Update>, Instant),
    Sweep,
}

pub struct SessionSupervisor;

pub struct SupervisorState {
    ctx: Arc<BotCtx>,
    sessions: HashMap<i64, (ActorRef<SessionMsg>, Instant)>,
    by_actor: HashMap<ractor::ActorId, i64>,
}

impl Actor for SessionSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Arc<BotCtx>,
    ) -> Result<Self::State, ActorProcessingErr> {
        let every = Duration::from_secs((ctx.config.session_idle_seconds / 4).clamp(1, 60));
        myself.send_interval(every, || SupervisorMsg::Sweep);
        Ok(SupervisorState {
            ctx,
            sessions: HashMap::new(),
            by_actor: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Route(user, update, received) => {
                let now = Instant::now();
                if let Some((a, last)) = st.sessions.get_mut(&user) {
                    *last = now;
                    if a.cast(SessionMsg::Update(update.clone(), received)).is_ok() {
                        return Ok(());
                    }
                }
                let (a, _) = Actor::spawn_linked(None, Session, (st.ctx.clone(), user), myself.get_cell()).await?;
                a.cast(SessionMsg::Update(update, received))?;
                st.by_actor.insert(a.get_id(), user);
                st.sessions.insert(user, (a, now));
                st.ctx
                    .metrics
                    .bot_sessions
                    .store(st.sessions.len() as u64, Ordering::Relaxed);
            }
            SupervisorMsg::Sweep => {
                let idle = Duration::from_secs(st.ctx.config.session_idle_seconds);
                let now = Instant::now();
                st.sessions.retain(|_, (a, last)| {
                    let keep = now.duration_since(*last) < idle;
                    if !keep {
                        a.stop(Some("idle".into()));
                    }
                    keep
                });
                st.ctx
                    .metrics
                    .bot_sessions
                    .store(st.sessions.len() as u64, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, failure) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, Some(err.to_string())),
            SupervisionEvent::ActorTerminated(cell, _, _) => (cell, None),
            _ => return Ok(()),
        };
        if let Some(user) = st.by_actor.remove(&cell.get_id()) {
            if st.sessions.get(&user).is_some_and(|(a, _)| a.get_id() == cell.get_id()) {
                st.sessions.remove(&user);
            }
            if let Some(reason) = failure {
                // The next update of this user starts a fresh session; its state is in PostgreSQL.
                st.ctx.metrics.actor_restarted("session");
                tracing::warn!(user, %reason, "a session actor failed; it restarts on the user's next update");
            }
        }
        Ok(())
    }
}

// ---- one user's session ----

pub enum SessionMsg {
    Update(Box<Update>, Instant),
}

pub struct Session;

pub struct SessionState {
    ctx: Arc<BotCtx>,
    user: i64,
    /// Start times of recent checks (the rate limit's window).
    recent: VecDeque<Instant>,
    /// When the last "busy"/"too fast" notice went out (notices are not repeated within seconds,
    /// so a burst of messages gets one answer, not fifty).
    last_notice: Option<Instant>,
}

impl Actor for Session {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = (Arc<BotCtx>, i64);

    async fn pre_start(
        &self,
        _: ActorRef<SessionMsg>,
        (ctx, user): Self::Arguments,
    ) -> Result<SessionState, ActorProcessingErr> {
        Ok(SessionState {
            ctx,
            user,
            recent: VecDeque::new(),
            last_notice: None,
        })
    }

    async fn handle(
        &self,
        _: ActorRef<SessionMsg>,
        msg: SessionMsg,
        st: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        let SessionMsg::Update(update, received) = msg;
        st.ctx.metrics.bot_updates.fetch_add(1, Ordering::Relaxed);
        // Boxed: the handler's state machine is large, and unboxed it would live inside every
        // idle session's task (the difference between ~30 KiB and a few KiB per session).
        if let Err(e) = Box::pin(handle_update(st, *update, received)).await {
            tracing::warn!(user = st.user, error = %e, "handling an update failed");
            let _ = st
                .ctx
                .send(st.user, &escape(&t(Locale::Ru, "bot.internal")), None, None)
                .await;
        }
        Ok(())
    }
}

type R<T = ()> = anyhow::Result<T>;

/// Everything a handler needs about the update's sender.
struct Who {
    user: User,
    locale: Locale,
    chat: i64,
    settings: Settings,
}

fn contact(u: &teloxide::types::User) -> Contact {
    Contact {
        id: u.id.0 as i64,
        username: u.username.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        language_code: u.language_code.clone(),
    }
}

async fn db(ctx: &BotCtx) -> R<Client> {
    Ok(ctx.store.client().await?)
}

async fn handle_update(st: &mut SessionState, update: Update, received: Instant) -> R {
    let ctx = st.ctx.clone();
    let (from, chat) = match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => match &m.from {
            Some(f) => (f.clone(), m.chat.id.0),
            None => return Ok(()),
        },
        UpdateKind::CallbackQuery(q) => (
            q.from.clone(),
            q.message.as_ref().map(|m| m.chat().id.0).unwrap_or(q.from.id.0 as i64),
        ),
        _ => return Ok(()),
    };
    if chat != from.id.0 as i64 {
        // Groups are not supported: the bot works in private chats.
        return Ok(());
    }
    let client = db(&ctx).await?;
    let user = users::touch(&client, &contact(&from)).await?;
    let settings = ctx.settings.get();
    let who = Who {
        locale: user.locale(),
        user,
        chat,
        settings,
    };
    drop(client);

    // Access, for every kind of update.
    if let Some(refusal) = refusal(&ctx, &who)? {
        match &update.kind {
            UpdateKind::CallbackQuery(q) => {
                if refusal == Refusal::NotWhitelisted && q.data.as_deref() == Some(&Callback::RequestAccess.encode()) {
                    answer(&ctx, q, None).await;
                    let filed = access::request_access(&db(&ctx).await?, who.user.id).await?;
                    let key = if filed {
                        "bot.access.requested"
                    } else {
                        "bot.access.already"
                    };
                    ctx.send(chat, &escape(&t(who.locale, key)), None, None).await.ok();
                    return Ok(());
                }
                answer(&ctx, q, Some(&refusal_text(&who, refusal))).await;
            }
            UpdateKind::EditedMessage(_) => {}
            _ => {
                let buttons = (refusal == Refusal::NotWhitelisted).then(|| {
                    vec![vec![(
                        t(who.locale, "bot.button.request_access"),
                        Callback::RequestAccess.encode(),
                    )]]
                });
                let html = match refusal {
                    Refusal::NotWhitelisted => tf(who.locale, "bot.denied", &[("id", &who.user.id.to_string())]),
                    _ => escape(&refusal_text(&who, refusal)),
                };
                ctx.send(chat, &html, buttons.as_deref(), None).await.ok();
            }
        }
        return Ok(());
    }

    match update.kind {
        UpdateKind::Message(m) => on_message(st, &who, &m, received).await,
        UpdateKind::EditedMessage(m) => on_edit(st, &who, &m).await,
        UpdateKind::CallbackQuery(q) => on_callback(st, &who, &q).await,
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Refusal {
    Blocked,
    Maintenance,
    NotWhitelisted,
}

fn refusal(ctx: &BotCtx, who: &Who) -> R<Option<Refusal>> {
    if who.user.blocked {
        return Ok(Some(Refusal::Blocked));
    }
    if who.settings.maintenance_mode {
        return Ok(Some(Refusal::Maintenance));
    }
    let playground_visitor = ctx.playground && devmentor::telegram::playground::PLAYGROUND_IDS.contains(&who.user.id);
    if who.settings.whitelist_mode && !playground_visitor && !who.user.whitelisted {
        return Ok(Some(Refusal::NotWhitelisted));
    }
    Ok(None)
}

fn refusal_text(who: &Who, r: Refusal) -> String {
    match r {
        Refusal::Blocked => t(who.locale, "bot.blocked"),
        Refusal::Maintenance => who
            .settings
            .maintenance_message(who.locale)
            .map(String::from)
            .unwrap_or_else(|| t(who.locale, "bot.maintenance")),
        Refusal::NotWhitelisted => {
            let s = tf(who.locale, "bot.denied", &[("id", &who.user.id.to_string())]);
            s.replace("<code>", "").replace("</code>", "")
        }
    }
}

async fn answer(ctx: &BotCtx, q: &teloxide::types::CallbackQuery, text: Option<&str>) {
    let r = ctx
        .call(q.from.id.0 as i64, || {
            let mut r = ctx.tg.answer_callback_query(q.id.clone());
            if let Some(t) = text {
                r = r.text(t.to_string());
            }
            r.into_future()
        })
        .await;
    if let Err(e) = r {
        tracing::debug!(?e, "answerCallbackQuery failed");
    }
}

async fn say(ctx: &BotCtx, who: &Who, key: &str) -> R {
    ctx.send(who.chat, &escape(&t(who.locale, key)), None, None).await.ok();
    Ok(())
}

fn main_menu(locale: Locale) -> KeyboardMarkup {
    let b = |k: &str| KeyboardButton::new(t(locale, k));
    KeyboardMarkup::new(vec![
        vec![b("bot.menu.run"), b("bot.menu.language")],
        vec![b("bot.menu.history"), b("bot.menu.faq")],
        vec![b("bot.menu.settings"), b("bot.menu.help")],
    ])
    .resize_keyboard()
}

/// The command a text is: `/cmd`, `/cmd@bot`, or a main-menu button label in either language.
fn command_of(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('/') {
        let word = rest.split_whitespace().next().unwrap_or("");
        let name = word.split('@').next().unwrap_or("");
        return Some(name.to_ascii_lowercase());
    }
    for locale in [Locale::Ru, Locale::En] {
        for c in ["run", "language", "history", "faq", "settings", "help"] {
            if text == t(locale, &format!("bot.menu.{c}")) {
                return Some(c.to_string());
            }
        }
    }
    None
}

async fn on_message(st: &mut SessionState, who: &Who, m: &Message, received: Instant) -> R {
    let ctx = st.ctx.clone();
    if let Some(text) = m.text() {
        if let Some(cmd) = command_of(text) {
            return on_command(st, who, m, &cmd, received).await;
        }
    }
    // Input for a check the student asked to re-run with stdin.
    if let Dialogue::Stdin { check } = &who.user.dialogue {
        if let Some(text) = m.text() {
            let check = *check;
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
            return rerun_with_stdin(st, who, check, text, m.id.0, received).await;
        }
    }
    if let Some(doc) = m.document() {
        return on_document(st, who, m, doc, received).await;
    }
    let Some(text) = m.text() else {
        return say(&ctx, who, "bot.unsupported").await;
    };
    if matches!(who.user.dialogue, Dialogue::Code) {
        users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
    }
    let incoming = code::from_text(text, &ctx.languages);
    submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await
}

async fn on_document(
    st: &mut SessionState,
    who: &Who,
    m: &Message,
    doc: &teloxide::types::Document,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let size = doc.file.size as u64;
    let limit = ctx
        .config
        .max_document_bytes
        .min(ctx.limits.max_source_bytes as u64 * 4);
    if size > limit {
        let html = escape(&tf(
            who.locale,
            "bot.doc_too_large",
            &[("size", &human_size(size)), ("limit", &human_size(limit))],
        ));
        ctx.send(who.chat, &html, None, Some(m.id.0)).await.ok();
        return Ok(());
    }
    let file = ctx.tg.get_file(doc.file.id.clone()).await?;
    let mut bytes = Vec::with_capacity(size as usize);
    ctx.tg.download_file(&file.path, &mut bytes).await?;
    let name = doc.file_name.clone().unwrap_or_default();
    let text = match validate_source(&bytes, &ctx.limits) {
        Ok(t) => t,
        Err(e) => return refuse_source(&ctx, who, &e, m.id.0).await,
    };
    let incoming = code::from_document(&name, text, &ctx.languages);
    submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

async fn refuse_source(ctx: &BotCtx, who: &Who, e: &CheckError, reply_to: i32) -> R {
    let text = match e {
        CheckError::EmptySource => t(who.locale, "bot.empty"),
        CheckError::SourceTooLarge { size, limit } => tf(
            who.locale,
            "bot.too_large",
            &[("size", &size.to_string()), ("limit", &limit.to_string())],
        ),
        CheckError::NotText => t(who.locale, "bot.binary"),
        other => other.to_string(),
    };
    ctx.send(who.chat, &escape(&text), None, Some(reply_to)).await.ok();
    Ok(())
}

async fn on_command(st: &mut SessionState, who: &Who, m: &Message, cmd: &str, received: Instant) -> R {
    let ctx = st.ctx.clone();
    let chat = who.chat;
    match cmd {
        "start" => {
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
            let text = match who.settings.welcome_text(who.locale) {
                Some(w) => escape(&w.replace("{name}", &who.user.first_name)),
                None => escape(&tf(who.locale, "bot.welcome", &[("name", &who.user.first_name)])),
            };
            ctx.pace(chat).await;
            ctx.call(chat, || {
                ctx.tg
                    .send_message(ChatId(chat), text.clone())
                    .parse_mode(ParseMode::Html)
                    .reply_markup(ReplyMarkup::Keyboard(main_menu(who.locale)))
                    .into_future()
            })
            .await
            .ok();
        }
        "help" => {
            let html = tf(who.locale, "bot.help", &[("languages", &escape(&language_list(&ctx)))]);
            ctx.send(chat, &html, None, None).await.ok();
        }
        "run" => {
            // `/run` as a reply to a message with code runs that code.
            if let Some(r) = m.reply_to_message() {
                if let Some(doc) = r.document() {
                    return on_document(st, who, r, doc, received).await;
                }
                if let Some(text) = r.text().filter(|t| command_of(t).is_none()) {
                    let incoming = code::from_text(text, &ctx.languages);
                    return submit(st, who, incoming, Vec::new(), Some(r.id.0), None, received).await;
                }
            }
            // `/run <code>` on one message.
            let inline = m
                .text()
                .and_then(|t| t.trim().split_once(char::is_whitespace))
                .map(|(_, c)| c.trim());
            if let Some(code_text) = inline.filter(|c| !c.is_empty()) {
                let incoming = code::from_text(code_text, &ctx.languages);
                return submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await;
            }
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Code).await?;
            say(&ctx, who, "bot.send_code").await?;
        }
        "language" => {
            let html = escape(&t(who.locale, "bot.choose_language"));
            ctx.send(chat, &html, Some(&language_buttons(&ctx)), None).await.ok();
        }
        "settings" => {
            let buttons = vec![vec![
                ("🇷🇺 Русский".to_string(), Callback::Locale(Locale::Ru).encode()),
                ("🇬🇧 English".to_string(), Callback::Locale(Locale::En).encode()),
            ]];
            ctx.send(chat, &escape(&t(who.locale, "bot.settings")), Some(&buttons), None)
                .await
                .ok();
        }
        "history" => history(&ctx, who, 0, None).await?,
        "faq" => {
            let entries = devmentor::store::settings::faq(&db(&ctx).await?, who.locale).await?;
            if entries.is_empty() {
                return say(&ctx, who, "bot.faq.empty").await;
            }
            let mut html = format!("<b>{}</b>", escape(&t(who.locale, "bot.faq.title")));
            for (q, a) in entries {
                let item = format!("\n\n<b>{}</b>\n{}", escape(&q), escape(&a));
                if render::visible_len(&html) + render::visible_len(&item) > 4000 {
                    break;
                }
                html.push_str(&item);
            }
            ctx.send(chat, &html, None, None).await.ok();
        }
        "cancel" => {
            let key = if who.user.dialogue == Dialogue::Idle {
                "bot.nothing_to_cancel"
            } else {
                users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
                "bot.cancelled"
            };
            ctx.pace(chat).await;
            ctx.call(chat, || {
                ctx.tg
                    .send_message(ChatId(chat), t(who.locale, key))
                    .reply_markup(ReplyMarkup::Keyboard(main_menu(who.locale)))
                    .into_future()
            })
            .await
            .ok();
        }
        _ => say(&ctx, who, "bot.unknown_command").await?,
    }
    Ok(())
}

fn language_list(ctx: &BotCtx) -> String {
    ctx.languages
        .names()
        .iter()
        .map(|n| ctx.display_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn language_buttons(ctx: &BotCtx) -> Vec<Vec<Button>> {
    let mut names: Vec<String> = LANGUAGE_MENU
        .iter()
        .filter(|n| ctx.languages.find(n).is_some())
        .map(|n| n.to_string())
        .collect();
    for n in ctx.languages.names() {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    names
        .chunks(3)
        .map(|row| {
            row.iter()
                .map(|n| (ctx.display_name(n), Callback::Language(n.clone()).encode()))
                .collect()
        })
        .collect()
}

/// Code in: resolve the language, apply the per-user limits, then start the check.
#[allow(clippy::too_many_arguments)]
async fn submit(
    st: &mut SessionState,
    who: &Who,
    incoming: Incoming,
    stdin: Vec<u8>,
    source_message: Option<i32>,
    card: Option<i32>,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let reply_to = source_message.unwrap_or(0);
    if let Err(e) = validate_source(incoming.code.as_bytes(), &ctx.limits) {
        return refuse_source(&ctx, who, &e, reply_to).await;
    }
    let language = incoming
        .language
        .clone()
        .or_else(|| {
            incoming
                .unknown_tag
                .is_none()
                .then(|| who.user.prog_language.clone())
                .flatten()
        })
        .or_else(|| {
            let d = &who.settings.default_language;
            (incoming.unknown_tag.is_none() && ctx.languages.find(d).is_some()).then(|| d.clone())
        });
    let Some(language) = language else {
        // Ask, keeping the code until a language button is pressed.
        let d = Dialogue::Language {
            code: incoming.code.clone(),
            source_message_id: reply_to,
        };
        users::set_dialogue(&db(&ctx).await?, who.user.id, &d).await?;
        let text = match &incoming.unknown_tag {
            Some(tag) => tf(
                who.locale,
                "bot.unknown_tag",
                &[("tag", tag), ("languages", &language_list(&ctx))],
            ),
            None => t(who.locale, "bot.ask_language"),
        };
        ctx.send(who.chat, &escape(&text), Some(&language_buttons(&ctx)), Some(reply_to))
            .await
            .ok();
        return Ok(());
    };
    start_check(
        st,
        who,
        &language,
        &incoming.code,
        stdin,
        source_message,
        card,
        received,
    )
    .await
}

/// A notice that is not repeated within a few seconds (a burst of messages gets one answer).
async fn notice(st: &mut SessionState, who: &Who, html: &str, reply_to: Option<i32>) {
    if st.last_notice.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
        return;
    }
    st.last_notice = Some(Instant::now());
    st.ctx.send(who.chat, html, None, reply_to).await.ok();
}

#[allow(clippy::too_many_arguments)]
async fn start_check(
    st: &mut SessionState,
    who: &Who,
    language: &str,
    code_text: &str,
    stdin: Vec<u8>,
    source_message: Option<i32>,
    card: Option<i32>,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    if stdin.len() > ctx.limits.max_stdin_bytes {
        let html = escape(&format!(
            "{} ({} / {})",
            t(who.locale, "bot.stdin_placeholder"),
            stdin.len(),
            ctx.limits.max_stdin_bytes
        ));
        ctx.send(who.chat, &html, None, source_message).await.ok();
        return Ok(());
    }
    // One running check per user (read with the user's row at the start of this update).
    if who.user.unfinished_check.is_some() {
        let html = escape(&t(who.locale, "bot.busy"));
        notice(st, who, &html, source_message).await;
        return Ok(());
    }
    // The rate limit: checks started in the last minute.
    let per_minute = who.settings.rate_limit_per_minute as usize;
    while st
        .recent
        .front()
        .is_some_and(|t| t.elapsed() >= Duration::from_secs(60))
    {
        st.recent.pop_front();
    }
    if per_minute > 0 && st.recent.len() >= per_minute {
        let wait = st
            .recent
            .front()
            .map(|t| 60u64.saturating_sub(t.elapsed().as_secs()).max(1))
            .unwrap_or(1);
        let html = escape(&tf(who.locale, "bot.rate_limited", &[("seconds", &wait.to_string())]));
        notice(st, who, &html, source_message).await;
        return Ok(());
    }
    // "⏳" first: the card exists before the check does, so delivery always has a message to edit.
    let running = tf(who.locale, "bot.running", &[("language", &ctx.display_name(language))]);
    let card = match card {
        Some(id) => match ctx.edit(who.chat, id, &escape(&running), &[]).await {
            Ok(()) => id,
            Err(SendError::Blocked) => return Ok(()),
            Err(_) => ctx
                .send(who.chat, &escape(&running), None, source_message)
                .await
                .map_err(send_err)?,
        },
        None => ctx
            .send(who.chat, &escape(&running), None, source_message)
            .await
            .map_err(send_err)?,
    };
    ctx.metrics.bot_ack_seconds.observe(received.elapsed().as_secs_f64());
    let new = NewCheck {
        language: language.to_string(),
        code: code_text.to_string(),
        stdin,
        locale: who.locale,
        source: "bot".into(),
        user_id: Some(who.user.id),
        chat_id: Some(who.chat),
        message_id: Some(card),
        source_message_id: source_message,
        ..Default::default()
    };
    let id = checks::insert(&db(&ctx).await?, &new).await?;
    st.recent.push_back(Instant::now());
    if let Err(e) = ctx.queue.enqueue(id).await {
        // The row is queued in PostgreSQL: the reaper re-enqueues it when Redis is back.
        tracing::warn!(check = id, error = %e, "enqueue failed; the reaper will re-enqueue the check");
    }
    typing(ctx, who.chat, id);
    Ok(())
}

fn send_err(e: SendError) -> anyhow::Error {
    anyhow::anyhow!("sending to Telegram failed: {e:?}")
}

/// Refreshes the "typing…" action while check `id` runs.
fn typing(ctx: Arc<BotCtx>, chat: i64, id: i64) {
    if let Ok(mut s) = ctx.inflight.lock() {
        s.insert(id);
    }
    tokio::spawn(async move {
        let until = Instant::now() + ctx.exec_timeout * 3 + Duration::from_secs(60);
        while Instant::now() < until && ctx.inflight.lock().map(|s| s.contains(&id)).unwrap_or(false) {
            let _ = ctx.tg.send_chat_action(ChatId(chat), ChatAction::Typing).await;
            tokio::select! {
                _ = ctx.stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(4)) => {}
            }
        }
        if let Ok(mut s) = ctx.inflight.lock() {
            s.remove(&id);
        }
    });
}

async fn on_edit(st: &mut SessionState, who: &Who, m: &Message) -> R {
    let ctx = st.ctx.clone();
    let Some(text) = m.text() else { return Ok(()) };
    if command_of(text).is_some() {
        return Ok(());
    }
    let Some(prev) = checks::by_source_message(&db(&ctx).await?, who.chat, m.id.0).await? else {
        return Ok(());
    };
    if prev.user_id != Some(who.user.id) {
        return Ok(());
    }
    let mut incoming = code::from_text(text, &ctx.languages);
    if incoming.language.is_none() && incoming.unknown_tag.is_none() {
        incoming.language = Some(prev.language.clone());
    }
    submit(
        st,
        who,
        incoming,
        prev.stdin.clone(),
        Some(m.id.0),
        prev.message_id,
        Instant::now(),
    )
    .await
}

async fn rerun_with_stdin(
    st: &mut SessionState,
    who: &Who,
    check: i64,
    text: &str,
    reply_to: i32,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let Some(row) = checks::get(&db(&ctx).await?, check).await? else {
        return say(&ctx, who, "bot.check_missing").await;
    };
    if row.user_id != Some(who.user.id) {
        return say(&ctx, who, "bot.callback.not_yours").await;
    }
    let mut stdin = text.as_bytes().to_vec();
    if !stdin.ends_with(b"\n") {
        stdin.push(b'\n');
    }
    start_check(st, who, &row.language, &row.code, stdin, Some(reply_to), None, received).await
}

async fn on_callback(st: &mut SessionState, who: &Who, q: &teloxide::types::CallbackQuery) -> R {
    let ctx = st.ctx.clone();
    let Some(cb) = q.data.as_deref().and_then(Callback::parse) else {
        answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
        return Ok(());
    };
    let source_message = q.message.as_ref().map(|m| m.id().0);
    // Buttons about a check: only its owner may press them.
    let owned = |row: &Option<checks::CheckRow>| -> Result<checks::CheckRow, &'static str> {
        match row {
            None => Err("bot.check_missing"),
            Some(r) if r.user_id != Some(who.user.id) => Err("bot.callback.not_yours"),
            Some(r) => Ok(r.clone()),
        }
    };
    let check_id = match &cb {
        Callback::Rerun(id) | Callback::Explain(id) | Callback::FullOutput(id) | Callback::Input(id) => Some(*id),
        Callback::Vote(id, _) => Some(*id),
        _ => None,
    };
    let row = match check_id {
        Some(id) => match owned(&checks::get(&db(&ctx).await?, id).await?) {
            Ok(r) => Some(r),
            Err(key) => {
                answer(&ctx, q, Some(&t(who.locale, key))).await;
                return Ok(());
            }
        },
        None => None,
    };
    match cb {
        Callback::Rerun(_) => {
            answer(&ctx, q, None).await;
            let r = row.expect("owned row");
            start_check(
                st,
                who,
                &r.language,
                &r.code,
                r.stdin.clone(),
                None,
                None,
                Instant::now(),
            )
            .await?;
        }
        Callback::Input(id) => {
            answer(&ctx, q, None).await;
            ask_stdin(&ctx, who.user.id, who.chat, who.locale, id, false).await?;
        }
        Callback::FullOutput(id) => {
            let r = row.expect("owned row");
            let view: ResultView = r
                .result
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let mut out = String::new();
            out.push_str(&render::clean(&view.stdout));
            if !view.stderr.is_empty() {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&render::clean(&view.stderr));
            }
            if out.is_empty() {
                answer(&ctx, q, Some(&t(who.locale, "bot.full.empty"))).await;
                return Ok(());
            }
            answer(&ctx, q, None).await;
            let caption = tf(who.locale, "bot.full.caption", &[("id", &id.to_string())]);
            let bytes = out.into_bytes();
            ctx.pace(who.chat).await;
            ctx.call(who.chat, || {
                ctx.tg
                    .send_document(
                        ChatId(who.chat),
                        InputFile::memory(bytes.clone()).file_name(format!("output-{id}.txt")),
                    )
                    .caption(caption.clone())
                    .into_future()
            })
            .await
            .ok();
        }
        Callback::Vote(id, up) => {
            let r = row.expect("owned row");
            let source = r
                .result
                .as_ref()
                .and_then(|v| v.pointer("/explanation/source"))
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_string();
            users::vote(&db(&ctx).await?, id, who.user.id, if up { 1 } else { -1 }, &source).await?;
            answer(&ctx, q, Some(&t(who.locale, "bot.callback.vote_thanks"))).await;
        }
        Callback::Explain(id) => {
            answer(&ctx, q, None).await;
            explain_more(&ctx, who, row.expect("owned row"), id).await?;
        }
        Callback::History(page) => {
            answer(&ctx, q, None).await;
            let edit = q
                .message
                .as_ref()
                .and_then(|m| match m {
                    MaybeInaccessibleMessage::Regular(m) => m.text(),
                    _ => None,
                })
                .is_some_and(|t| t.starts_with("🕘"));
            history(&ctx, who, page, if edit { source_message } else { None }).await?;
        }
        Callback::Language(name) => {
            let Some(pack) = ctx.languages.find(&name) else {
                answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
                return Ok(());
            };
            let name = pack.name.clone();
            let client = db(&ctx).await?;
            users::set_prog_language(&client, who.user.id, &name).await?;
            let text = tf(
                who.locale,
                "bot.language_set",
                &[("language", &ctx.display_name(&name))],
            );
            answer(&ctx, q, Some(&text)).await;
            if let Dialogue::Language {
                code,
                source_message_id,
            } = &who.user.dialogue
            {
                users::set_dialogue(&client, who.user.id, &Dialogue::Idle).await?;
                drop(client);
                let incoming = Incoming {
                    code: code.clone(),
                    language: Some(name),
                    unknown_tag: None,
                };
                let src = (*source_message_id != 0).then_some(*source_message_id);
                return submit(st, who, incoming, Vec::new(), src, None, Instant::now()).await;
            }
            if let Some(mid) = source_message {
                ctx.edit(who.chat, mid, &escape(&text), &[]).await.ok();
            }
        }
        Callback::Locale(locale) => {
            users::set_locale(&db(&ctx).await?, who.user.id, locale).await?;
            answer(&ctx, q, None).await;
            let text = t(locale, "bot.settings_set");
            let chat = who.chat;
            ctx.pace(chat).await;
            ctx.call(chat, || {
                ctx.tg
                    .send_message(ChatId(chat), text.clone())
                    .reply_markup(ReplyMarkup::Keyboard(main_menu(locale)))
                    .into_future()
            })
            .await
            .ok();
        }
        Callback::RequestAccess => {
            // Already allowed in: nothing to request.
            answer(&ctx, q, Some(&t(who.locale, "bot.access.approved"))).await;
        }
    }
    Ok(())
}

/// Asks for a check's standard input with ForceReply; the answer re-runs the check with it.
/// `offer` adds why (delivery offers it when the program failed waiting for input).
pub async fn ask_stdin(ctx: &BotCtx, user_id: i64, chat: i64, locale: Locale, check: i64, offer: bool) -> R {
    users::set_dialogue(&db(ctx).await?, user_id, &Dialogue::Stdin { check }).await?;
    let prompt = tf(locale, "bot.stdin_prompt", &[("id", &check.to_string())]);
    let text = if offer {
        format!("{}\n\n{prompt}", t(locale, "bot.stdin_offer"))
    } else {
        prompt
    };
    ctx.pace(chat).await;
    ctx.call(chat, || {
        ctx.tg
            .send_message(ChatId(chat), text.clone())
            .reply_markup(ReplyMarkup::ForceReply(
                ForceReply::new().input_field_placeholder(Some(t(locale, "bot.stdin_placeholder"))),
            ))
            .into_future()
    })
    .await
    .ok();
    Ok(())
}

async fn explain_more(ctx: &BotCtx, who: &Who, row: checks::CheckRow, id: i64) -> R {
    let view: ResultView = row
        .result
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    if view.verdict == "ok" || view.verdict.is_empty() {
        return say(ctx, who, "bot.ai_nothing").await;
    }
    let Some(ai) = ctx.ai.clone() else {
        return say(ctx, who, "bot.ai_unavailable").await;
    };
    let quota = who.settings.ai_daily_quota;
    if !users::take_ai_quota(&db(ctx).await?, who.user.id, quota).await? {
        let html = escape(&tf(who.locale, "bot.ai_quota", &[("quota", &quota.to_string())]));
        ctx.send(who.chat, &html, None, row.message_id).await.ok();
        return Ok(());
    }
    let Some(pack) = ctx.languages.find(&row.language) else {
        return say(ctx, who, "bot.check_missing").await;
    };
    let verdict: devmentor::sandbox::Verdict = serde_json::from_value(serde_json::Value::String(view.verdict.clone()))
        .unwrap_or(devmentor::sandbox::Verdict::RuntimeError);
    let file_name = pack.file_name_for(&row.code);
    let failure = devmentor::analyzer::Failure {
        language: &pack.name,
        verdict,
        exit_code: view.exit_code,
        signal: view.signal.as_deref(),
        stderr: &view.stderr,
        python_report: None,
        code: &row.code,
        file_name: &file_name,
        output_limit_hit: view.truncated,
        timeout_s: pack.run_limits.timeout_s,
        memory_mb: pack.run_limits.memory_mb,
        output_kb: pack.run_limits.output_kb,
        locale: who.locale,
        check_id: Some(id),
    };
    let Some(error) = devmentor::analyzer::Analyzer::error_of(&failure) else {
        return say(ctx, who, "bot.ai_nothing").await;
    };
    let thinking = ctx
        .send(
            who.chat,
            &escape(&t(who.locale, "bot.ai_thinking")),
            None,
            row.message_id,
        )
        .await
        .map_err(send_err)?;
    let html = match ai.explain(&pack.name, who.locale, &error, &row.code).await {
        Ok(answer) => render::explanation_html(
            &render::ExplanationView {
                source: "ai".into(),
                error_type: error.error_type.clone(),
                line: error.line,
                title: t(who.locale, "analyzer.ai.title"),
                text: answer.text,
                hint: None,
                source_line: error.source_line.clone(),
                suggestion: None,
            },
            who.locale,
        ),
        Err(e) => {
            tracing::warn!(check = id, error = %e, "explain more: the AI call failed");
            escape(&t(who.locale, "bot.ai_unavailable"))
        }
    };
    let buttons = vec![vec![
        (t(who.locale, "bot.button.up"), Callback::Vote(id, true).encode()),
        (t(who.locale, "bot.button.down"), Callback::Vote(id, false).encode()),
    ]];
    ctx.edit(who.chat, thinking, &html, &buttons).await.ok();
    Ok(())
}

async fn history(ctx: &BotCtx, who: &Who, page: i64, edit: Option<i32>) -> R {
    let page = page.clamp(0, 10_000);
    let rows = checks::history(&db(ctx).await?, who.user.id, page * HISTORY_PAGE, HISTORY_PAGE + 1).await?;
    if rows.is_empty() && page == 0 {
        return say(ctx, who, "bot.history.empty").await;
    }
    let more = rows.len() as i64 > HISTORY_PAGE;
    let mut html = escape(&tf(
        who.locale,
        "bot.history.title",
        &[("page", &(page + 1).to_string())],
    ));
    let mut buttons: Vec<Vec<Button>> = Vec::new();
    for r in rows.iter().take(HISTORY_PAGE as usize) {
        let emoji = match r.verdict.as_deref() {
            Some("ok") => "✅",
            Some("runtime_error") => "❌",
            Some("compile_error") => "🛠",
            Some("timeout") => "⏱",
            Some("memory_limit") => "💾",
            Some(_) => "⚠️",
            None => "⏳",
        };
        let first = r.code.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let first: String = first.chars().take(40).collect();
        html.push_str(&format!(
            "\n{emoji} <b>#{}</b> · {} · <code>{}</code>",
            r.id,
            escape(&ctx.display_name(&r.language)),
            escape(&first)
        ));
        buttons.push(vec![(
            format!("🔁 #{} {}", r.id, ctx.display_name(&r.language)),
            Callback::Rerun(r.id).encode(),
        )]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((t(who.locale, "bot.button.newer"), Callback::History(page - 1).encode()));
    }
    if more {
        nav.push((t(who.locale, "bot.button.more"), Callback::History(page + 1).encode()));
    }
    if !nav.is_empty() {
        buttons.push(nav);
    }
    match edit {
        Some(mid) => ctx.edit(who.chat, mid, &html, &buttons).await.ok(),
        None => ctx.send(who.chat, &html, Some(&buttons), None).await.ok().map(|_| ()),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::command_of;

    #[test]
    fn commands_and_menu_labels() {
        assert_eq!(command_of("/start").as_deref(), Some("start"));
        assert_eq!(command_of("/run@devmentor_bot print(1)").as_deref(), Some("run"));
        assert_eq!(command_of("🕘 История").as_deref(), Some("history"));
        assert_eq!(command_of("ℹ️ Help").as_deref(), Some("help"));
        assert_eq!(command_of("print(1)"), None);
    }
}
