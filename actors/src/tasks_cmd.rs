//! `devmentor tasks import [PATH]` (the starter set, or a folder of tasks: new ones are added,
//! ones teachers have not edited are updated, edited ones are kept) and `devmentor tasks list`.

use devmentor::store::tasks::{self as store, Imported};
use devmentor::store::Store;
use devmentor::tasks::catalogue;
use devmentor::Config;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum TasksCommand {
    /// Load tasks: the built-in starter set, or the task folders under PATH.
    Import { path: Option<PathBuf> },
    /// The tasks in the database: slug, topic, tests, published.
    List,
}

/// Loads the starter set into an empty `tasks` table (`devmentor migrate`).
pub async fn load_starter_if_empty(store: &Store) -> anyhow::Result<()> {
    let mut client = store.client().await?;
    if store::count(&client).await? > 0 {
        println!(
            "tasks: {} (use `devmentor tasks import` to update from the starter set)",
            store::count(&client).await?
        );
        return Ok(());
    }
    let set = catalogue::builtin()?;
    for l in &set {
        store::import(&mut client, l).await?;
    }
    println!("tasks were empty: loaded {} starter tasks", set.len());
    Ok(())
}

pub async fn run(config: &Config, what: TasksCommand) -> anyhow::Result<ExitCode> {
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(10)).await?;
    store.migrate().await?;
    let mut client = store.client().await?;
    match what {
        TasksCommand::Import { path } => {
            let set = match &path {
                Some(p) => catalogue::load_dir(p)?,
                None => catalogue::builtin()?,
            };
            if set.is_empty() {
                eprintln!(
                    "error: no task folders (with a task.toml) under {}",
                    path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                );
                return Ok(ExitCode::from(2));
            }
            let (mut added, mut updated, mut kept) = (0, 0, 0);
            for l in &set {
                match store::import(&mut client, l).await? {
                    Imported::Added => added += 1,
                    Imported::Updated => updated += 1,
                    Imported::KeptEdited => kept += 1,
                }
            }
            println!(
                "imported {} tasks: {added} new, {updated} updated, {kept} kept as a teacher edited them",
                set.len()
            );
        }
        TasksCommand::List => {
            for t in store::published(&client).await? {
                let n = store::tests(&client, t.id).await?.len();
                println!("{:<28} {:<10} {n:>3} tests  {}", t.slug, t.topic, t.title_en);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
