//! The `shura` command line: every subcommand, parsed with clap.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};

use crate::checkpoint::Checkpoint;
use crate::domain::token::Role;
use crate::progress::Reporter;
use crate::projections::ReadModels;
use crate::seeds;
use crate::store::{is_postgres_url, Actor, LogHead, Store, StoreConfig};

/// Shura: an event-sourced stakeholder consultation tracker.
#[derive(Debug, Parser)]
#[command(name = "shura", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://shura.db",
        global = true
    )]
    pub database_url: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the embedded migrations (they are also applied on every start).
    Migrate,
    /// Serve the web app at / and the GraphQL API at /graphql (GraphiQL in a browser). An empty store is seeded
    /// with the five seed consultations first, unless --no-seed.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Do not seed an empty store.
        #[arg(long)]
        no_seed: bool,
        /// Let clients without a token read the read models (never the event log, never
        /// contact details): for public dashboards.
        #[arg(long)]
        public_read: bool,
        /// Serve without ever writing to the record (e.g. a file from `shura snapshot`): GraphQL
        /// mutations answer FORBIDDEN (rule READ_ONLY), the web app's forms 403; no seeding, no
        /// first token, no checkpoints.
        #[arg(long, conflicts_with = "checkpoint_key")]
        read_only: bool,
        /// Do not keep the history of the read models behind `asOf` (a private copy of the
        /// log that the service follows, built at start or reopened where it was kept): each
        /// position asked is then a copy and replay of the log up to it.
        #[arg(long)]
        no_as_of_history: bool,
        /// Keep the history behind `asOf` in this directory across restarts (reopened at the
        /// next start instead of a catch-up from an empty copy). Default: beside a SQLite
        /// database file (`FILE.history`), except with --read-only; with PostgreSQL, not kept
        /// unless given.
        #[arg(
            long,
            env = "SHURA_AS_OF_HISTORY_DIR",
            conflicts_with = "no_as_of_history"
        )]
        as_of_history_dir: Option<std::path::PathBuf>,
        /// Mark the web app's cookies `Secure` (sent over HTTPS only): set it when the service is
        /// reached through TLS (a reverse proxy). Without it, cookies are still marked `Secure`
        /// on requests that a proxy forwards with `X-Forwarded-Proto: https`.
        #[arg(long, env = "SHURA_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Most connections open at once, WebSockets included. A connection past it is
        /// answered at once `503 Service Unavailable` (`Connection: close`) and closed. Keep the
        /// process's open-file limit (`ulimit -n`) above it.
        #[arg(
            long,
            default_value_t = crate::http::serve::DEFAULT_MAX_CONNECTIONS,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
        )]
        max_connections: usize,
        /// Seconds a client has to send a request's headers (from connecting, for the first
        /// request; from its first byte, for later ones on a kept-alive connection); past it the
        /// connection is closed without an answer.
        #[arg(
            long,
            default_value_t = crate::http::serve::DEFAULT_HEADER_TIMEOUT_SECS,
            value_parser = clap::value_parser!(u64).range(1..=86_400),
        )]
        header_timeout_secs: u64,
        /// Seconds a kept-alive connection may wait for its next request, and a request may go
        /// without a byte received or sent (a stalled upload or download); past it the
        /// connection is closed. Keep it above the request timeout (30 s): a query computing
        /// sends nothing meanwhile.
        #[arg(
            long,
            default_value_t = crate::http::serve::DEFAULT_IDLE_TIMEOUT_SECS,
            value_parser = clap::value_parser!(u64).range(1..=86_400),
        )]
        idle_timeout_secs: u64,
        /// Require `Authorization: Bearer TOKEN` on /metrics (others get 401). Without it,
        /// /metrics is open to anyone who can reach the port. Prefer the environment variable:
        /// command lines are visible to other users of the machine.
        #[arg(
            long,
            env = "SHURA_METRICS_TOKEN",
            hide_env_values = true,
            value_name = "TOKEN",
            value_parser = non_empty_token,
        )]
        metrics_token: Option<String>,
        /// Largest GraphQL request body, in bytes; a larger one is answered `413` with
        /// `LIMIT_EXCEEDED`.
        #[arg(
            long,
            default_value_t = crate::http::DEFAULT_MAX_BODY_BYTES,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1_024..=64 * 1024 * 1024),
        )]
        max_body_bytes: usize,
        /// Seconds a GraphQL request may take (reading its body included); past it the client
        /// gets `504` (`408` while the body is still arriving) with `LIMIT_EXCEEDED`.
        #[arg(
            long,
            default_value_t = crate::http::DEFAULT_REQUEST_TIMEOUT_SECS,
            value_parser = clap::value_parser!(u64).range(1..=3_600),
        )]
        request_timeout_secs: u64,
        /// Sign a checkpoint of the log with this secret key (from `shura keygen`) every
        /// --checkpoint-every events; `/checkpoints` serves them.
        #[arg(long, value_name = "KEY", requires = "checkpoint_every")]
        checkpoint_key: Option<PathBuf>,
        /// Events between two signed checkpoints.
        #[arg(
            long,
            value_name = "N",
            requires = "checkpoint_key",
            value_parser = clap::value_parser!(i64).range(1..),
        )]
        checkpoint_every: Option<i64>,
    },
    /// Write a new Ed25519 key pair for signed checkpoints: the secret to OUT (mode 0600) and
    /// the public key to OUT.pub. Never overwrites a file.
    Keygen {
        /// Where to write the secret key.
        #[arg(long, value_name = "OUT")]
        out: PathBuf,
    },
    /// Sign the log's head with KEY, store the checkpoint and print it as one JSON line.
    Checkpoint {
        /// The secret key (from `shura keygen`).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
    },
    /// Manage API tokens.
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Erase personal data (see the README's "Erasure of personal data").
    Erase {
        /// What to erase.
        #[command(subcommand)]
        what: EraseWhat,
    },
    /// Manage the people who sign in (user accounts).
    User {
        /// What to do with users.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Measure appends, contention, bulk import, rebuild and GraphQL reads against baselines
    /// taken in the same run, on a fresh database (a temporary SQLite file unless
    /// --database-url names a PostgreSQL database, where fresh schemas are used).
    Bench {
        /// Smaller sizes (under a minute), as CI runs it.
        #[arg(long)]
        quick: bool,
        /// Where to write the figures as JSON.
        #[arg(long, default_value = "bench/results.json")]
        out: PathBuf,
        /// Only these groups of figures (repeatable); every group when left out.
        #[arg(long, value_enum)]
        only: Vec<crate::bench::Group>,
    },
    /// Print the GraphQL schema (SDL), as `schema/schema.graphql` holds it.
    Schema,
    /// Apply the seed consultations (idempotent: a second run appends nothing).
    Seed {
        /// Read seed files from this folder instead of those built into the binary.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Rebuild every read model from the log while reads and appends go on: the new models are
    /// built beside the live ones and swapped in.
    Rebuild,
    /// Recompute the hash chain and check the whole log, then check that the read models equal
    /// a fresh rebuild; exit 1 naming the first bad position or the differences.
    Verify {
        /// A position and hash recorded earlier (from `shura head`), as POSITION:HASH; repeatable.
        #[arg(long = "anchor", value_name = "POSITION:HASH")]
        anchors: Vec<String>,
        /// Signed checkpoints, one JSON object per line (as `shura checkpoint` prints them or
        /// `/checkpoints` serves them): each must still match the log.
        #[arg(long, value_name = "FILE", requires = "public_key")]
        checkpoint: Option<PathBuf>,
        /// The public key the checkpoints must be signed with (KEY.pub from `shura keygen`).
        #[arg(long, value_name = "KEY.pub", requires = "checkpoint")]
        public_key: Option<PathBuf>,
    },
    /// Print the log's last position and hash, to keep outside the database as an anchor.
    Head,
    /// Write the record as it stood at a point of the log into a new SQLite database: the log
    /// cut there (its chain intact: `shura verify` passes on it) and read models rebuilt from it,
    /// for `shura serve --read-only --database-url sqlite://FILE.db`. Never overwrites a file.
    Snapshot {
        /// A log position (e.g. 42), or an RFC 3339 time (e.g. 2026-11-22T10:00:00Z): the last
        /// event recorded at or before it.
        #[arg(long, value_name = "POSITION|TIME")]
        at: crate::snapshot::At,
        /// The new SQLite file.
        #[arg(long, value_name = "FILE.db")]
        out: PathBuf,
    },
    /// Write every event, one JSON object per line: the auditor's copy.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Ndjson)]
        format: Format,
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// For `--format open-data`: the directory to write the CSV files and
        /// `datapackage.json` into (created if missing). For `--format popolo`: the file, or a
        /// directory to write `popolo.json` into.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Import follow-up progress reports from CSV (header `action,date,progress[,note][,status]
    /// [,reason]`). Every row is checked first; any refusal is printed as `row N, column C: rule`,
    /// nothing is written and the exit code is 2. A second import of the same file appends
    /// nothing.
    ImportProgress {
        /// The CSV file.
        file: PathBuf,
        /// Check every row and print what would be imported, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// E-mail each editor with an address (see `shura user email`) one digest of its regions'
    /// follow-up actions that are overdue or due within 30 days (admins: every region), in
    /// Arabic and French. Plain SMTP to a relay: for TLS, run a local relay (postfix, msmtp...)
    /// that forwards with TLS, and point --smtp at it.
    Remind {
        /// Print who would get what (address, number of actions, subject) and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// The SMTP relay, as smtp://HOST[:PORT] (port 25 by default; no TLS, see above).
        #[arg(long, env = "SHURA_SMTP_URL", value_name = "URL")]
        smtp: Option<String>,
        /// The sender's address.
        #[arg(long, env = "SHURA_MAIL_FROM", value_name = "ADDRESS")]
        from: Option<String>,
        /// The web app's address (e.g. https://shura.example.ma), to make links absolute;
        /// without it they are paths (/actions/ID).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Load an export into an empty store, keeping ids, versions, metadata and hashes.
    Import {
        /// The NDJSON file written by `shura export`.
        file: PathBuf,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once (only a hash of it is stored).
    Create {
        /// Who or what holds it.
        #[arg(long)]
        name: String,
        /// admin, editor, viewer or auditor.
        #[arg(long)]
        role: String,
        /// For editors: a region it may write (e.g. MA-03); repeatable.
        #[arg(long = "region")]
        regions: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token; it stops working at once.
    Revoke {
        /// The token's id (from `shura token list`).
        id: uuid::Uuid,
    },
}

/// Erase subcommands.
#[derive(Debug, Subcommand)]
pub enum EraseWhat {
    /// Erase a person's contact details: destroys the key they are sealed under in the log,
    /// records who did it and why, and scrubs the database file (SQLite). Names and posts stay.
    Person {
        /// The person's id.
        id: uuid::Uuid,
        /// Why (recorded in the log), e.g. the request it answers.
        #[arg(long)]
        reason: String,
    },
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user; the password is read from standard input (never from the command line,
    /// where other users of the machine could see it).
    Create {
        /// The name it signs in with: 3 to 64 characters of a-z, 0-9, '.', '_' and '-'.
        #[arg(long)]
        username: String,
        /// The name shown to others.
        #[arg(long)]
        display_name: Option<String>,
        /// admin, editor, viewer or auditor.
        #[arg(long)]
        role: String,
        /// For editors: a region it may write (e.g. MA-03); repeatable.
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Read the password (12 to 1,024 characters) from standard input; required.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Its e-mail address, for `shura remind` (kept outside the event log).
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
    },
    /// Set a user's e-mail address, where `shura remind` writes (kept outside the event log).
    Email {
        /// The user's username.
        username: String,
        /// The address.
        email: String,
    },
    /// List users (never their password hashes).
    List,
    /// Disable a user: it can no longer sign in.
    Disable {
        /// The user's username.
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The user's username.
        username: String,
    },
    /// Set a user's password (read from standard input), e.g. after an import.
    Password {
        /// The user's username.
        username: String,
        /// Read the password from standard input; required.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Open data: one CSV per entity and a Frictionless `datapackage.json`, cut at the head,
    /// without personal data (into `--out DIR`).
    OpenData,
    /// Popolo JSON (persons, organizations, memberships, posts, events) of the same facts, cut
    /// at the head, without personal data (to `--out FILE`, or `--out DIR/popolo.json`).
    Popolo,
}

/// Parses the command line, runs it, and turns the outcome into the process's exit code:
/// 0 success, 1 a verification that found tampering, 2 any other failure.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs to standard error: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for JSON
/// lines. Colours only on a terminal (and not with `NO_COLOR`): in a file or a pipe, escape codes
/// are noise that breaks `grep` and log collectors.
fn init_tracing() {
    use std::io::IsTerminal;
    // PostgreSQL's notices ("relation ... already exists, skipping", on every start's migration
    // check) are not news: shown only when asked for through RUST_LOG.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench { quick, out, only } => {
            // The default SQLite URL means "not given": benchmarks use a temporary file.
            let database_url = is_postgres_url(&cli.database_url).then(|| cli.database_url.clone());
            crate::bench::run(crate::bench::BenchConfig {
                quick,
                database_url,
                out,
                only,
            })
            .await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Serve {
            addr,
            no_seed,
            public_read,
            read_only,
            no_as_of_history,
            as_of_history_dir,
            secure_cookies,
            max_connections,
            header_timeout_secs,
            idle_timeout_secs,
            metrics_token,
            max_body_bytes,
            request_timeout_secs,
            checkpoint_key,
            checkpoint_every,
        } => {
            let mut config = crate::app::AppConfig::new(&cli.database_url);
            config.seed_if_empty = !no_seed;
            config.public_read = public_read;
            config.read_only = read_only;
            config.as_of_history = !no_as_of_history;
            config.as_of_history_dir = as_of_history_dir;
            config.secure_cookies = secure_cookies;
            config.connections = crate::app::ConnectionLimits {
                max_connections,
                header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                idle_timeout: std::time::Duration::from_secs(idle_timeout_secs),
            };
            config.metrics_token = metrics_token;
            config.limits = crate::http::Limits {
                max_body_bytes,
                request_timeout: std::time::Duration::from_secs(request_timeout_secs),
            };
            if let (Some(key), Some(every)) = (checkpoint_key, checkpoint_every) {
                let signer = crate::checkpoint::CheckpointSigner::load(&key)?;
                config.checkpoints = Some(crate::checkpoint::Schedule {
                    signer: std::sync::Arc::new(signer),
                    every,
                });
            }
            if config.connections.idle_timeout < config.limits.request_timeout {
                // A query computing reads and writes nothing: it would be cut as a stall.
                tracing::warn!(
                    idle_timeout_secs,
                    request_timeout_secs = config.limits.request_timeout.as_secs(),
                    "--idle-timeout-secs is below the request timeout: slow requests will be \
                     closed as stalled before their timeout answers them"
                );
            }
            let app = crate::app::build(config).await?;
            if !read_only && crate::auth::list_tokens(app.store.pool()).await?.is_empty() {
                let issued = crate::auth::create_token(
                    &app.store,
                    "first admin",
                    Role::Admin,
                    &[],
                    Actor::new("serve", "First start"),
                )
                .await?;
                println!("No token existed, so an admin token was created. It is shown only now:");
                println!("  {}", issued.bearer);
                println!(
                    "In GraphiQL, open Headers and paste: {{\"Authorization\": \"Bearer {}\"}}",
                    issued.bearer
                );
                println!("Create the directorates' tokens with `shura token create`.");
            }
            crate::app::serve(app, addr).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Keygen { out } => {
            let public = crate::checkpoint::write_key_pair(&out)?;
            println!(
                "wrote the secret key to {} and the public key to {} (key id {})",
                out.display(),
                crate::checkpoint::public_path(&out).display(),
                crate::checkpoint::key_id(&public)
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let mut config = StoreConfig::new(&cli.database_url);
    config.projector = Some(std::sync::Arc::new(ReadModels));
    let store = Store::open(config)
        .await
        .with_context(|| format!("opening the store at {}", redact(&cli.database_url)))?;
    let code = match cli.command {
        Command::Migrate => {
            println!("migrations applied ({})", store.backend());
            ExitCode::SUCCESS
        }
        Command::Verify {
            anchors,
            checkpoint,
            public_key,
        } => {
            let anchors = anchors
                .iter()
                .map(|a| parse_anchor(a))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let checkpoints = match (checkpoint, public_key) {
                (Some(file), Some(key)) => Some((
                    read_checkpoints(&file)?,
                    crate::checkpoint::load_public_key(&key)?,
                )),
                _ => None,
            };
            let progress = Reporter::for_stderr("verify");
            let report = store.verify_with_progress(&anchors, &progress).await?;
            progress.finish();
            let code = match &report.finding {
                None => {
                    println!(
                        "intact: {} events in {} streams, head at position {} hash {}",
                        report.events, report.streams, report.tip.position, report.tip.hash
                    );
                    let progress = Reporter::for_stderr("read models");
                    let check = store
                        .rebuild_read_models_with_progress(false, &progress)
                        .await?;
                    progress.finish();
                    if check.differences.is_empty() {
                        println!(
                            "read models match a fresh rebuild of {} events",
                            check.events
                        );
                        ExitCode::SUCCESS
                    } else {
                        println!(
                            "READ MODELS DIFFER from a fresh rebuild ({} lines; - live, + rebuilt):",
                            check.differences.len()
                        );
                        for line in &check.differences {
                            println!("{line}");
                        }
                        ExitCode::from(1)
                    }
                }
                Some(finding) => {
                    println!("TAMPERED: first bad {finding}");
                    ExitCode::from(1)
                }
            };
            match checkpoints {
                Some((checkpoints, key)) => {
                    let refused = check_checkpoints(&store, &checkpoints, &key).await?;
                    if refused {
                        ExitCode::from(1)
                    } else {
                        code
                    }
                }
                None => code,
            }
        }
        Command::Seed { dir } => {
            let files = match dir {
                Some(dir) => seeds::read_dir(&dir)?,
                None => seeds::embedded(),
            };
            let report = seeds::apply(&store, &files).await?;
            println!(
                "seeded {} files, {} commands, {} events appended",
                report.files, report.commands, report.appended
            );
            ExitCode::SUCCESS
        }
        Command::Schema
        | Command::Serve { .. }
        | Command::Bench { .. }
        | Command::Keygen { .. } => ExitCode::SUCCESS,
        Command::Checkpoint { key } => {
            let signer = crate::checkpoint::CheckpointSigner::load(&key)?;
            let checkpoint = crate::checkpoint::make(store.pool(), &signer).await?;
            println!("{}", serde_json::to_string(&checkpoint)?);
            ExitCode::SUCCESS
        }
        Command::Token { action } => {
            token(&store, action).await?;
            ExitCode::SUCCESS
        }
        Command::User { action } => {
            user(&store, action).await?;
            ExitCode::SUCCESS
        }
        Command::Erase {
            what: EraseWhat::Person { id, reason },
        } => {
            let command = crate::commands::AnyCommand::Person(
                crate::domain::person::Command::EraseContact(crate::domain::person::EraseContact {
                    person_id: id,
                    reason,
                }),
            );
            let context = crate::commands::CommandContext::new(Actor::new("cli", "Command line"));
            let outcome = crate::commands::execute(&store, command, context).await?;
            println!(
                "person {id}: contact details erased (event at position {})",
                outcome.position
            );
            ExitCode::SUCCESS
        }
        Command::Rebuild => {
            let progress = Reporter::for_stderr("rebuild");
            // No comparison with the models before: on PostgreSQL it would hold appends for
            // a read of every row (`shura verify` makes it).
            let report = store.build_new_read_models_with_progress(&progress).await?;
            progress.finish();
            println!(
                "rebuilt the read models from {} events (appends waited {} ms)",
                report.events,
                report.writes_held.as_millis()
            );
            ExitCode::SUCCESS
        }
        Command::Snapshot { at, out } => {
            let copy = Reporter::for_stderr("snapshot");
            let rebuild = Reporter::for_stderr("rebuild");
            let report = crate::snapshot::snapshot(&store, at, &out, &copy, &rebuild).await;
            copy.finish();
            rebuild.finish();
            let report =
                report.with_context(|| format!("writing the snapshot {}", out.display()))?;
            println!(
                "wrote {} at position {} (head {}); read models rebuilt from {} events",
                out.display(),
                report.head.position,
                report.head.hash,
                report.rebuilt
            );
            ExitCode::SUCCESS
        }
        Command::Head => {
            let head = store.head().await?;
            println!("{}:{}", head.position, head.hash);
            ExitCode::SUCCESS
        }
        Command::Export {
            format: Format::OpenData,
            out,
            ..
        } => {
            let Some(dir) = out else {
                anyhow::bail!("--format open-data needs --out DIR");
            };
            let report = crate::open_data::export(store.pool(), &dir)
                .await
                .with_context(|| format!("exporting open data into {}", dir.display()))?;
            for (name, rows) in &report.resources {
                eprintln!("{name}.csv: {rows} rows");
            }
            eprintln!(
                "exported open data at position {} (head {}) into {}",
                report.head.position,
                report.head.hash,
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Command::Export {
            format: Format::Popolo,
            out,
            ..
        } => {
            let Some(out) = out else {
                anyhow::bail!("--format popolo needs --out FILE_OR_DIR");
            };
            let (head, path) = crate::open_data::popolo::export(store.pool(), &out)
                .await
                .with_context(|| format!("exporting Popolo JSON to {}", out.display()))?;
            eprintln!(
                "exported Popolo JSON at position {} (head {}) to {}",
                head.position,
                head.hash,
                path.display()
            );
            ExitCode::SUCCESS
        }
        Command::Export {
            format: Format::Ndjson,
            after,
            output,
            ..
        } => {
            let progress = Reporter::for_stderr("export");
            let count = match output {
                Some(path) => {
                    let file = tokio::fs::File::create(&path)
                        .await
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut out = BufWriter::new(file);
                    let count = store
                        .export_ndjson_with_progress(&mut out, after, &progress)
                        .await?;
                    out.shutdown().await?;
                    count
                }
                None => {
                    let mut out = BufWriter::new(tokio::io::stdout());
                    store
                        .export_ndjson_with_progress(&mut out, after, &progress)
                        .await?
                }
            };
            progress.finish();
            eprintln!("exported {count} events");
            ExitCode::SUCCESS
        }
        Command::ImportProgress { file, dry_run } => {
            let text = tokio::fs::read_to_string(&file)
                .await
                .with_context(|| format!("reading {}", file.display()))?;
            let actor = Actor::new("cli", "Command line");
            match crate::progress_import::import_progress(&store, &text, dry_run, actor, |_| Ok(()))
                .await
            {
                Ok(report) => {
                    println!(
                        "{} rows: {} {}, {} already imported; {} events appended",
                        report.rows,
                        report.new_rows,
                        if report.dry_run {
                            "to import (dry run, nothing written)"
                        } else {
                            "imported"
                        },
                        report.already_imported,
                        report.appended
                    );
                    ExitCode::SUCCESS
                }
                Err(crate::progress_import::ImportError::Rows(errors)) => {
                    for error in &errors {
                        eprintln!("{error}");
                    }
                    eprintln!(
                        "{} error(s) in {}; nothing was written",
                        errors.len(),
                        file.display()
                    );
                    ExitCode::from(2)
                }
                Err(error) => {
                    store.close().await;
                    return Err(anyhow::Error::new(error)
                        .context(format!("importing progress from {}", file.display())));
                }
            }
        }
        Command::Remind {
            dry_run,
            smtp,
            from,
            base_url,
        } => {
            remind(&store, dry_run, smtp, from, base_url).await?;
            ExitCode::SUCCESS
        }
        Command::Import { file } => {
            let input = tokio::fs::File::open(&file)
                .await
                .with_context(|| format!("opening {}", file.display()))?;
            // A first quick pass counts the events, for the bar's length and the ETA.
            let expected = crate::progress::count_events(&file)
                .await
                .with_context(|| format!("reading {}", file.display()))?;
            let progress = Reporter::for_stderr("import");
            let count = store
                .import_ndjson_with_progress(&mut BufReader::new(input), Some(expected), &progress)
                .await
                .with_context(|| format!("importing {}", file.display()))?;
            progress.finish();
            let progress = Reporter::for_stderr("rebuild");
            let rebuilt = store
                .rebuild_read_models_with_progress(true, &progress)
                .await?;
            progress.finish();
            println!(
                "imported {count} events; read models rebuilt from {} events",
                rebuilt.events
            );
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

async fn token(store: &Store, action: TokenAction) -> anyhow::Result<()> {
    let by = Actor::new("cli", "Command line");
    match action {
        TokenAction::Create {
            name,
            role,
            regions,
        } => {
            let role = Role::parse("role", &role)?;
            let issued = crate::auth::create_token(store, &name, role, &regions, by).await?;
            println!("token {} created; it is shown only now:", issued.id);
            println!("{}", issued.bearer);
        }
        TokenAction::List => {
            for t in crate::auth::list_tokens(store.pool()).await? {
                let state = if t.revoked != 0 { "revoked" } else { "active" };
                println!(
                    "{}  {:8} {:8} {}  {}",
                    t.id.0, t.role, state, t.regions, t.name
                );
            }
        }
        TokenAction::Revoke { id } => {
            crate::auth::revoke_token(store, id, by).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

async fn user(store: &Store, action: UserAction) -> anyhow::Result<()> {
    let by = Actor::new("cli", "Command line");
    match action {
        UserAction::Create {
            username,
            display_name,
            role,
            regions,
            password_stdin: _,
            email,
        } => {
            let role = Role::parse("role", &role)?;
            // A bad address is refused before the user is created.
            if let Some(email) = &email {
                crate::accounts::check_email(email)?;
            }
            let password = read_password().await?;
            let id = crate::accounts::create_user(
                store,
                &username,
                display_name.as_deref(),
                role,
                &regions,
                &password,
                by,
            )
            .await?;
            println!("user {username} created ({id})");
            if let Some(email) = email {
                crate::accounts::set_email(store, &username, &email).await?;
                println!("e-mail address of {username} set");
            }
        }
        UserAction::Email { username, email } => {
            crate::accounts::set_email(store, &username, &email).await?;
            println!("e-mail address of {username} set");
        }
        UserAction::List => {
            for u in crate::accounts::list_users(store.pool()).await? {
                let state = if u.disabled != 0 {
                    "disabled"
                } else {
                    "active"
                };
                let password = if u.has_password != 0 {
                    "password set"
                } else {
                    "no password"
                };
                println!(
                    "{}  {:8} {:8} {:12} {}  {}",
                    u.username,
                    u.role,
                    state,
                    password,
                    u.regions,
                    u.display_name.as_deref().unwrap_or("")
                );
            }
        }
        UserAction::Disable { username } => {
            crate::accounts::disable_user(store, &username, by).await?;
            println!("user {username} disabled");
        }
        UserAction::Enable { username } => {
            crate::accounts::enable_user(store, &username, by).await?;
            println!("user {username} enabled");
        }
        UserAction::Password { username, .. } => {
            let password = read_password().await?;
            crate::accounts::set_password(store, &username, &password).await?;
            println!("password of {username} set");
        }
    }
    Ok(())
}

/// `shura remind`: the digests of [`crate::remind`], printed (dry run) or sent.
async fn remind(
    store: &Store,
    dry_run: bool,
    smtp: Option<String>,
    from: Option<String>,
    base_url: Option<String>,
) -> anyhow::Result<()> {
    let today = chrono::Utc::now().date_naive();
    let digests = crate::remind::digests(store.pool(), today, base_url.as_deref()).await?;
    if dry_run {
        for d in &digests {
            println!("{}\t{} actions\t{}", d.to, d.actions.len(), d.subject);
        }
        println!("{} digests (dry run, nothing sent)", digests.len());
        return Ok(());
    }
    let (Some(smtp), Some(from)) = (smtp, from) else {
        anyhow::bail!("sending needs --smtp smtp://HOST[:PORT] and --from ADDRESS (or --dry-run)");
    };
    let sent = crate::remind::send(&digests, &smtp, &from).await?;
    println!("{sent} digests sent");
    Ok(())
}

/// Reads a password from standard input: everything up to the end, less one final line break
/// (as `echo` or a terminal adds). An empty one is refused here; the length rule is the domain's.
async fn read_password() -> anyhow::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut input = String::new();
    tokio::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .await
        .context("reading the password from standard input")?;
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        anyhow::bail!("no password on standard input (pipe it in: --password-stdin)");
    }
    Ok(password.to_owned())
}

/// Refuses an empty `--metrics-token`: it would look like protection and be none.
fn non_empty_token(text: &str) -> Result<String, String> {
    let token = text.trim();
    if token.is_empty() {
        Err(
            "the metrics token must not be empty (leave the option out to keep /metrics open)"
                .into(),
        )
    } else {
        Ok(token.to_owned())
    }
}

/// Reads a file of checkpoints, one JSON object per line (blank lines skipped).
fn read_checkpoints(path: &std::path::Path) -> anyhow::Result<Vec<(usize, Checkpoint)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map(|c| (i + 1, c))
                .with_context(|| format!("{} line {}: not a checkpoint", path.display(), i + 1))
        })
        .collect()
}

/// Checks each checkpoint against the log, printing one line each; whether any was refused.
async fn check_checkpoints(
    store: &Store,
    checkpoints: &[(usize, Checkpoint)],
    key: &ed25519_dalek::VerifyingKey,
) -> anyhow::Result<bool> {
    let mut refused = false;
    for (line, checkpoint) in checkpoints {
        match checkpoint.check(store, key).await? {
            Ok(()) => println!("checkpoint line {line}, {}: holds", checkpoint.label()),
            Err(reason) => {
                refused = true;
                println!(
                    "CHECKPOINT REFUSED: line {line}, {}: {reason}",
                    checkpoint.label()
                );
            }
        }
    }
    Ok(refused)
}

fn parse_anchor(text: &str) -> anyhow::Result<LogHead> {
    let (position, hash) = text
        .split_once(':')
        .context("an anchor is POSITION:HASH, as printed by `shura head`")?;
    Ok(LogHead {
        position: position
            .parse()
            .with_context(|| format!("anchor position {position:?} is not a number"))?,
        hash: hash.to_owned(),
    })
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://shura:secret@db:5432/shura"),
            "postgres://shura:***@db:5432/shura"
        );
        assert_eq!(
            redact("postgres://root@127.0.0.1/test"),
            "postgres://root@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://shura.db"), "sqlite://shura.db");
    }

    #[test]
    fn serve_flags_have_their_documented_defaults_and_bounds() {
        let parse = |extra: &[&str]| {
            let args = [&["shura", "serve"][..], extra].concat();
            Cli::try_parse_from(args)
        };
        let Ok(Cli {
            command:
                Command::Serve {
                    max_connections,
                    header_timeout_secs,
                    idle_timeout_secs,
                    ..
                },
            ..
        }) = parse(&[])
        else {
            panic!("serve parses without options");
        };
        assert_eq!(
            (max_connections, header_timeout_secs, idle_timeout_secs),
            (1024, 10, 60)
        );
        assert!(parse(&["--max-connections", "0"]).is_err());
        assert!(parse(&["--header-timeout-secs", "0"]).is_err());
        assert!(parse(&["--metrics-token", " "]).is_err());
        assert!(parse(&["--max-connections", "50", "--idle-timeout-secs", "1"]).is_ok());
    }

    #[test]
    fn anchors_parse_or_say_why_not() {
        let anchor = parse_anchor("12:abcd").unwrap();
        assert_eq!((anchor.position, anchor.hash.as_str()), (12, "abcd"));
        assert!(parse_anchor("abcd").is_err());
        assert!(parse_anchor("x:abcd").is_err());
    }
}
