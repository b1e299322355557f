//! What the bot says and understands, with no Telegram client inside: code extraction from
//! messages and documents, the result card (HTML), callback data, and the fake Bot API server
//! the tests and the playground drive the real client against.

pub mod callback;
pub mod code;
pub mod detect;
pub mod fake;
pub mod faq;
pub mod history;
pub mod html;
pub mod limits;
pub mod playground;
pub mod render;
pub mod task_card;

#[cfg(test)]
mod card_tests;
