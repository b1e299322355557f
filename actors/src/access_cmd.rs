//! `devmentor whitelist add|remove|list [ID_OR_USERNAME]`: the bot's whitelist from the shell.

use devmentor::store::{access, Store};
use devmentor::Config;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum WhitelistCommand {
    /// Allow a Telegram user (numeric id, or @username) to use the bot.
    Add { id_or_username: String },
    /// Take the permission back.
    Remove { id_or_username: String },
    /// Show every whitelist entry.
    List,
}

fn subject(text: &str) -> anyhow::Result<String> {
    access::normalize_subject(text).ok_or_else(|| {
        anyhow::anyhow!(
            "{text:?} is neither a Telegram id (a positive number, e.g. 123456789) nor a username \
             (5–32 letters, digits or _, e.g. @alice_smith)"
        )
    })
}

pub async fn run(config: &Config, what: WhitelistCommand) -> anyhow::Result<ExitCode> {
    // Validate before connecting: bad input gets its message even with the database down.
    let target = match &what {
        WhitelistCommand::Add { id_or_username } | WhitelistCommand::Remove { id_or_username } => {
            Some(subject(id_or_username)?)
        }
        WhitelistCommand::List => None,
    };
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(5)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    let client = store.client().await?;
    match (what, target) {
        (WhitelistCommand::Add { .. }, Some(s)) => {
            if access::whitelist_add(&client, &s, "cli").await? {
                let approved = access::approve_requests_of(&client, &s, "cli").await?;
                println!("added {s} to the whitelist");
                if approved > 0 {
                    println!("approved their pending access request");
                }
            } else {
                println!("{s} is already on the whitelist");
            }
        }
        (WhitelistCommand::Remove { .. }, Some(s)) => {
            if access::whitelist_remove(&client, &s).await? {
                println!("removed {s} from the whitelist");
            } else {
                println!("{s} was not on the whitelist");
            }
        }
        _ => {
            let rows = access::whitelist_list(&client).await?;
            if rows.is_empty() {
                println!("the whitelist is empty");
            }
            for (subject, added_by, name) in rows {
                let name = name.map(|n| format!("  ({n})")).unwrap_or_default();
                println!("{subject}{name}  added by {added_by}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
