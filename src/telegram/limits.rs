//! Telegram's sending limits, kept by the bot itself: about 30 messages per second overall, one
//! per second and 20 per minute in one chat. A message under the limits goes at once; one over
//! them waits exactly as long as needed. (teloxide's `Throttle` releases queued requests on a
//! 250 ms tick, which adds up to 250 ms to every message even when nothing is near a limit.)

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct RateGate {
    per_second: u32,
    per_chat_minute: u32,
    per_chat_second: u32,
    overall: VecDeque<Instant>,
    chats: HashMap<i64, VecDeque<Instant>>,
}

impl RateGate {
    pub fn new(per_second: u32, per_chat_minute: u32) -> RateGate {
        RateGate {
            per_second: per_second.max(1),
            per_chat_minute: per_chat_minute.max(1),
            per_chat_second: 1,
            overall: VecDeque::new(),
            chats: HashMap::new(),
        }
    }

    /// Takes a slot for a message to `chat` at `now`: `Duration::ZERO` when it may go now (the
    /// slot is recorded), else how long to wait before asking again.
    pub fn reserve(&mut self, chat: i64, now: Instant) -> Duration {
        while self.overall.front().is_some_and(|t| now.duration_since(*t) >= SECOND) {
            self.overall.pop_front();
        }
        let mut wait = Duration::ZERO;
        if self.overall.len() as u32 >= self.per_second {
            wait = wait.max(SECOND - now.duration_since(self.overall[0]));
        }
        let sent = self.chats.entry(chat).or_default();
        while sent.front().is_some_and(|t| now.duration_since(*t) >= MINUTE) {
            sent.pop_front();
        }
        if sent.len() as u32 >= self.per_chat_minute {
            wait = wait.max(MINUTE - now.duration_since(sent[0]));
        }
        let last_second = sent
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < SECOND)
            .count() as u32;
        if last_second >= self.per_chat_second {
            let oldest = sent[sent.len() - last_second as usize];
            wait = wait.max(SECOND - now.duration_since(oldest));
        }
        if wait.is_zero() {
            sent.push_back(now);
            self.overall.push_back(now);
        }
        // Forget chats with nothing in the window, so the map does not grow with every user ever.
        if self.chats.len() > 10_000 {
            self.chats
                .retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < MINUTE));
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_limits_nothing_waits() {
        let mut g = RateGate::new(30, 20);
        let t = Instant::now();
        for chat in 0..30 {
            assert_eq!(g.reserve(chat, t), Duration::ZERO);
        }
        // The 31st message in the same second waits for the window.
        assert!(g.reserve(99, t) > Duration::ZERO);
        assert_eq!(g.reserve(99, t + SECOND), Duration::ZERO);
    }

    #[test]
    fn one_chat_gets_one_message_a_second_and_twenty_a_minute() {
        let mut g = RateGate::new(1000, 20);
        let t = Instant::now();
        assert_eq!(g.reserve(1, t), Duration::ZERO);
        let w = g.reserve(1, t + Duration::from_millis(300));
        assert_eq!(w, Duration::from_millis(700));
        for i in 1..20 {
            assert_eq!(g.reserve(1, t + SECOND * i), Duration::ZERO, "message {i}");
        }
        let w = g.reserve(1, t + SECOND * 20);
        assert_eq!(w, Duration::from_secs(40));
        assert_eq!(
            g.reserve(2, t + SECOND * 20),
            Duration::ZERO,
            "other chats are not held up"
        );
    }
}
