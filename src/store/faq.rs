//! The FAQ the bot shows (`/faq`), as the admin panel edits it.

use super::{Client, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaqItem {
    pub id: Option<i64>,
    pub locale: String,
    pub question: String,
    pub answer: String,
    pub position: i32,
    pub published: bool,
}

fn row_to_item(r: &tokio_postgres::Row) -> FaqItem {
    FaqItem {
        id: Some(r.get(0)),
        locale: r.get(1),
        question: r.get(2),
        answer: r.get(3),
        position: r.get(4),
        published: r.get(5),
    }
}

pub async fn get(c: &Client, id: i64) -> Result<Option<FaqItem>, StoreError> {
    Ok(c.query_opt(
        "SELECT id, locale, question, answer, position, published FROM faq WHERE id = $1",
        &[&id],
    )
    .await?
    .as_ref()
    .map(row_to_item))
}

/// The published items of `locale`, in their order (what the bot's `/faq` lists).
pub async fn published(c: &Client, locale: &str) -> Result<Vec<FaqItem>, StoreError> {
    Ok(c.query(
        "SELECT id, locale, question, answer, position, published FROM faq
          WHERE published AND locale = $1 ORDER BY position, id",
        &[&locale],
    )
    .await?
    .iter()
    .map(row_to_item)
    .collect())
}

/// Every item, by locale and position.
pub async fn list(c: &Client) -> Result<Vec<FaqItem>, StoreError> {
    Ok(c.query(
        "SELECT id, locale, question, answer, position, published FROM faq ORDER BY locale, position, id",
        &[],
    )
    .await?
    .iter()
    .map(row_to_item)
    .collect())
}

/// Saves `item` (its `id` None: a new one); returns the id, or None when the item to update is
/// gone.
pub async fn save(c: &Client, item: &FaqItem) -> Result<Option<i64>, StoreError> {
    let FaqItem {
        locale,
        question,
        answer,
        position,
        published,
        ..
    } = item;
    let row = match item.id {
        Some(id) => {
            c.query_opt(
                "UPDATE faq SET locale = $2, question = $3, answer = $4, position = $5, published = $6, updated_at = now()
                  WHERE id = $1 RETURNING id",
                &[&id, locale, question, answer, position, published],
            )
            .await?
        }
        None => {
            c.query_opt(
                "INSERT INTO faq (locale, question, answer, position, published) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[locale, question, answer, position, published],
            )
            .await?
        }
    };
    Ok(row.map(|r| r.get(0)))
}

pub async fn delete(c: &Client, id: i64) -> Result<(), StoreError> {
    c.execute("DELETE FROM faq WHERE id = $1", &[&id]).await?;
    Ok(())
}
