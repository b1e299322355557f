//! Sessions: one actor per user, spawned on first contact and stopped after an idle timeout,
//! handling that user's updates in order. A session checks access on every update kind
//! (`access`), answers commands (`commands`) and buttons (`callbacks`), and turns code into a
//! check through admission (`programs`): a `checks` row, a job on the stream, and the "⏳"
//! message that delivery edits into the result. The session owns the dialogue: the "typing…"
//! indicator while its checks run, and the prompt for input when delivery tells it a program
//! wanted some. Dialogue state lives in PostgreSQL (`users.state`), so a restart loses nothing.
//! Before an update is handled, `intake` joins a long paste Telegram split and queues a
//! program sent while the previous one runs.

mod access;
mod callbacks;
pub mod commands;
mod faq;
mod history;
mod intake;
mod programs;
mod progress;
mod tasks;

use super::{BotCtx, SendError};
use devmentor::i18n::t;
use devmentor::registry::Locale;
use devmentor::store::settings::Settings;
use devmentor::store::users::{self, Contact, User};
use devmentor::store::Client;
use devmentor::telegram::render::escape;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use teloxide::types::{Update, UpdateKind};

pub const SUPERVISOR_NAME: &str = "bot_sessions";

/// "typing…" is refreshed this often while a check runs (Telegram shows it for ~5 s).
const TYPING_EVERY: Duration = Duration::from_secs(4);

/// Delivery's word to a session: check `check` is on the student's screen.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub user: i64,
    pub chat: i64,
    pub locale: Locale,
    pub check: i64,
    /// The program failed waiting for input it did not get: offer to send some.
    pub wants_input: bool,
}

/// Tells the student's session (through the session supervisor of this process) that a card
/// was delivered. Without a running bot role here there is no session to tell.
pub fn tell(d: Delivered) {
    if let Some(cell) = ractor::registry::where_is(SUPERVISOR_NAME) {
        let sup: ActorRef<SupervisorMsg> = cell.into();
        if sup.cast(SupervisorMsg::Delivered(d)).is_err() {
            tracing::debug!("the session supervisor is restarting; a delivery notice was dropped");
        }
    }
}

// ---- the session supervisor ----

pub enum SupervisorMsg {
    Route(i64, Box<Update>, Instant),
    Delivered(Delivered),
    Sweep,
}

pub struct SessionSupervisor;

pub struct SupervisorState {
    ctx: Arc<BotCtx>,
    sessions: HashMap<i64, (ActorRef<SessionMsg>, Instant)>,
    by_actor: HashMap<ractor::ActorId, i64>,
}

impl SupervisorState {
    /// Hands `msg` to `user`'s session, starting one when there is none (or it just stopped).
    async fn hand_to_session(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        user: i64,
        msg: SessionMsg,
    ) -> Result<(), ActorProcessingErr> {
        let now = Instant::now();
        let msg = match self.sessions.get_mut(&user) {
            Some((a, last)) => {
                *last = now;
                match a.cast(msg) {
                    Ok(()) => return Ok(()),
                    Err(ractor::MessagingErr::SendErr(m)) => m,
                    Err(e) => return Err(e.to_string().into()),
                }
            }
            None => msg,
        };
        let (a, _) = Actor::spawn_linked(None, Session, (self.ctx.clone(), user), myself.get_cell()).await?;
        a.cast(msg)?;
        self.by_actor.insert(a.get_id(), user);
        self.sessions.insert(user, (a, now));
        self.ctx
            .metrics
            .bot_sessions
            .store(self.sessions.len() as u64, Ordering::Relaxed);
        Ok(())
    }
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
                st.hand_to_session(&myself, user, SessionMsg::Update(update, received))
                    .await?;
            }
            SupervisorMsg::Delivered(d) => {
                st.hand_to_session(&myself, d.user, SessionMsg::Delivered(d)).await?;
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
    Delivered(Delivered),
    /// Time to refresh "typing…".
    Typing,
    /// The joining window of held paste N ended.
    Flush(u64),
    /// Try the queued programs again.
    Drain,
    /// Time to show how long check N has been running.
    Elapsed(i64),
}

pub struct Session;

pub struct SessionState {
    ctx: Arc<BotCtx>,
    user: i64,
    myself: ActorRef<SessionMsg>,
    /// When the last "busy"/"too fast" notice went out (notices are not repeated within seconds,
    /// so a burst of messages gets one answer, not fifty).
    last_notice: Option<Instant>,
    /// This user's checks on their way: chat, and when to stop showing "typing…" regardless.
    running: HashMap<i64, (i64, Instant)>,
    typing_due: bool,
    /// The update being handled (kept when admission says "busy", to run it later).
    current: Option<(Box<Update>, Instant)>,
    /// Programs waiting for the running one (see `intake`).
    queue: VecDeque<(Box<Update>, Instant)>,
    /// Handling a queued update again (a "busy" then keeps its place, silently).
    replaying: bool,
    /// The last handled update was refused as busy.
    busy: bool,
    /// A long paste being joined, and its generation (the window timer names it).
    parts: Option<intake::Parts>,
    parts_generation: u64,
    /// Running checks whose "⏳" message shows the elapsed time and ⏹ (see `progress`).
    ticking: HashMap<i64, progress::Ticking>,
}

impl SessionState {
    /// A check started: "typing…" until it is delivered (or long past its time limit).
    fn started(&mut self, check: i64, chat: i64) {
        let until = Instant::now() + self.ctx.exec_timeout * 3 + Duration::from_secs(60);
        self.running.insert(check, (chat, until));
    }

    /// Shows "typing…" in the chats of running checks and schedules the next refresh.
    async fn keep_typing(&mut self) {
        let now = Instant::now();
        self.running.retain(|_, (_, until)| *until > now);
        let mut chats: Vec<i64> = self.running.values().map(|(c, _)| *c).collect();
        chats.dedup();
        for chat in chats {
            self.ctx.typing(chat).await;
        }
        if !self.running.is_empty() && !self.typing_due && !self.ctx.stop.is_cancelled() {
            self.typing_due = true;
            self.myself.send_after(TYPING_EVERY, || SessionMsg::Typing);
        }
    }
}

impl Actor for Session {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = (Arc<BotCtx>, i64);

    async fn pre_start(
        &self,
        myself: ActorRef<SessionMsg>,
        (ctx, user): Self::Arguments,
    ) -> Result<SessionState, ActorProcessingErr> {
        Ok(SessionState {
            ctx,
            user,
            myself,
            last_notice: None,
            running: HashMap::new(),
            typing_due: false,
            current: None,
            queue: VecDeque::new(),
            replaying: false,
            busy: false,
            parts: None,
            parts_generation: 0,
            ticking: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        _: ActorRef<SessionMsg>,
        msg: SessionMsg,
        st: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        let updates = match msg {
            SessionMsg::Update(update, received) => intake::take(st, update, received),
            SessionMsg::Flush(generation) => intake::flush(st, generation).into_iter().collect(),
            SessionMsg::Drain => {
                drain(st).await;
                return Ok(());
            }
            SessionMsg::Delivered(d) => {
                st.running.remove(&d.check);
                st.ticking.remove(&d.check);
                if !st.queue.is_empty() {
                    // The next program runs now; its own card offers ⌨️ if it needs input, and
                    // a prompt here would take the queued program for this one's input.
                    drain(st).await;
                } else if d.wants_input {
                    if let Err(e) = callbacks::ask_stdin(&st.ctx, d.user, d.chat, d.locale, d.check, true).await {
                        tracing::warn!(user = st.user, error = %e, "offering to send input failed");
                    }
                }
                return Ok(());
            }
            SessionMsg::Typing => {
                st.typing_due = false;
                st.keep_typing().await;
                return Ok(());
            }
            SessionMsg::Elapsed(check) => {
                progress::tick(st, check).await;
                return Ok(());
            }
        };
        for (update, received) in updates {
            st.ctx.metrics.bot_updates.fetch_add(1, Ordering::Relaxed);
            run_update(st, update, received).await;
        }
        Ok(())
    }
}

/// Handles one update, keeping it at hand in case admission says "busy" (`intake`).
async fn run_update(st: &mut SessionState, update: Box<Update>, received: Instant) {
    st.current = Some((update.clone(), received));
    st.busy = false;
    // Boxed: the handler's state machine is large, and unboxed it would live inside every
    // idle session's task (the difference between ~30 KiB and a few KiB per session).
    if let Err(e) = Box::pin(handle_update(st, *update, received)).await {
        tracing::warn!(user = st.user, error = %e, "handling an update failed");
        let _ = st
            .ctx
            .send(st.user, &escape(&t(Locale::Ru, "bot.internal")), None, None)
            .await;
    }
    st.current = None;
}

/// Runs queued programs while nothing of this session's runs; stops at the first that is
/// still refused as busy (a timer tries again).
async fn drain(st: &mut SessionState) {
    while let Some((update, received)) = intake::next(st) {
        st.replaying = true;
        run_update(st, update, received).await;
        st.replaying = false;
        if st.busy {
            break;
        }
    }
}

type R<T = ()> = anyhow::Result<T>;

/// Everything a handler needs about the update's sender.
struct Who {
    pub(super) user: User,
    pub(super) locale: Locale,
    pub(super) chat: i64,
    pub(super) settings: Settings,
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

pub(super) async fn db(ctx: &BotCtx) -> R<Client> {
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
    if let Some(refusal) = access::refusal(&ctx, &who) {
        return access::refuse(&ctx, &who, &update, refusal).await;
    }

    match update.kind {
        UpdateKind::Message(m) => programs::on_message(st, &who, &m, received).await,
        UpdateKind::EditedMessage(m) => programs::on_edit(st, &who, &m).await,
        UpdateKind::CallbackQuery(q) => callbacks::on_callback(st, &who, &q).await,
        _ => Ok(()),
    }
}

/// A notice that is not repeated within a few seconds (a burst of messages gets one answer).
async fn notice(st: &mut SessionState, who: &Who, html: &str, reply_to: Option<i32>) {
    if st.last_notice.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
        return;
    }
    st.last_notice = Some(Instant::now());
    st.ctx.send(who.chat, html, None, reply_to).await.ok();
}

async fn say(ctx: &BotCtx, who: &Who, key: &str) -> R {
    ctx.send(who.chat, &escape(&t(who.locale, key)), None, None).await.ok();
    Ok(())
}

fn send_err(e: SendError) -> anyhow::Error {
    anyhow::anyhow!("sending to Telegram failed: {e}")
}

#[cfg(test)]
mod tests {
    use super::commands::Command;

    #[test]
    fn commands_and_menu_labels() {
        assert_eq!(Command::parse("/start"), Some(Command::Start));
        assert_eq!(Command::parse("/run@devmentor_bot print(1)"), Some(Command::Run));
        assert_eq!(Command::parse("🕘 История"), Some(Command::History));
        assert_eq!(Command::parse("ℹ️ Help"), Some(Command::Help));
        assert_eq!(Command::parse("print(1)"), None);
    }
}
