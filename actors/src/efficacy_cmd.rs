//! `devmentor efficacy rebuild`: the lineage of explanations (which explained attempt the
//! student's next try fixed) and its counters, recomputed from the history of checks and
//! submissions. The service keeps them up to date by itself; this is for a database migrated
//! from a version without them, or after restoring a backup.

use clap::Subcommand;
use devmentor::store::{efficacy, Store};
use devmentor::Config;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum EfficacyCommand {
    /// Recompute every link and counter from the stored checks and submissions (in the order
    /// they were made). Stop the workers first (`make down-prod`, or stop `devmentor run`):
    /// while it runs the figures are half rebuilt, and an attempt a worker finishes meanwhile
    /// could be linked twice.
    Rebuild,
}

pub async fn run(config: &Config, what: EfficacyCommand) -> anyhow::Result<ExitCode> {
    match what {
        EfficacyCommand::Rebuild => {
            let store = Store::connect(config.database_url.expose(), Duration::from_secs(10)).await?;
            devmentor::store::ensure_migrated(&store).await?;
            let started = Instant::now();
            let (read, rows) = efficacy::rebuild(&mut store.client().await?).await?;
            println!(
                "efficacy rebuilt: {read} finished attempts replayed, {rows} explained attempts linked ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
