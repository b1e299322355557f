//! `devmentor createsuperuser`: an admin account for the panel, interactively (password asked
//! twice, not echoed) or for automation with `--username NAME --password-stdin`.

use devmentor::store::{admins, Store};
use devmentor::Config;
use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct CreateSuperuserArgs {
    /// The login name (asked for when absent).
    #[arg(long)]
    pub username: Option<String>,
    /// Read the password from standard input (one line) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// Create a staff account (no access to settings and admins) instead of a superuser.
    #[arg(long)]
    pub staff: bool,
}

pub async fn create_superuser(config: &Config, args: CreateSuperuserArgs) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    let username = match args.username {
        Some(u) => u,
        None => {
            anyhow::ensure!(
                !args.password_stdin,
                "--password-stdin needs --username (standard input carries the password)"
            );
            eprint!("Username: ");
            let mut line = String::new();
            stdin.lock().read_line(&mut line)?;
            line.trim().to_string()
        }
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password (again): ")?;
        anyhow::ensure!(first == second, "the passwords differ; nothing was created");
        first
    };
    // Bad input is refused before touching the database.
    admins::check_new_credentials(&username, &password).map_err(|e| anyhow::anyhow!("{e}; nothing was created"))?;
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(5)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    match admins::create(&store.client().await?, &username, &password, !args.staff).await? {
        Some(id) => {
            let role = if args.staff { "staff" } else { "superuser" };
            println!(
                "created {role} {:?} (id {id}); log in at http://{}/admin/",
                username.trim(),
                config.http_addr
            );
            Ok(ExitCode::SUCCESS)
        }
        None => anyhow::bail!(
            "an admin named {:?} exists already; nothing was created",
            username.trim()
        ),
    }
}
