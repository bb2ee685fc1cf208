//! The command line: one file per subcommand, each a clap `Args` struct and its `run()`.

#[macro_use]
pub mod out;

pub mod activity;
pub mod api;
pub mod check;
pub mod completions;
pub mod config;
pub mod contacts;
pub mod db;
pub mod demo;
pub mod emulator;
pub mod export;
pub mod fields;
pub mod init;
pub mod link;
pub mod listen;
pub mod lists;
pub mod log_activity;
pub mod mapping;
pub mod match_cmd;
pub mod mcp;
pub mod pull;
pub mod push;
pub mod rate_limit;
pub mod report;
pub mod retry;
pub mod review;
pub mod run;
pub mod schedule;
pub mod status;
pub mod whoami;

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use clap::{Parser, Subcommand, ValueEnum};

/// Keeps an Affinity CRM tenant and your enrichment data in step, both ways.
#[derive(Debug, Parser)]
#[command(
    name = "affsync",
    version,
    about,
    long_about = None,
    after_long_help = "Examples (a first hour):
  affsync demo                                         # everything, against an emulated tenant
  affsync init                                         # a commented affsync.toml here
  affsync lists                                        # the tenant's lists
  affsync fields --list \"Deal Flow\"                    # what a mapping may write there
  affsync pull --list \"Deal Flow\"                      # the list into the mirror
  affsync mapping new --from companies.csv --list \"Deal Flow\"
  affsync check companies.toml && affsync push companies.toml --dry-run"
)]
pub struct Cli {
    /// How logs (on stderr) are written: `text` for people, `json` for schedulers.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Say less: no progress bars, only warnings and errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more: `-v` logs what each step does (debug), `-vv` everything (trace). `RUST_LOG`
    /// wins when set.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Colour: `auto` (on a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` forces it),
    /// `always` or `never`.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo: the emulator with a demo tenant, and everything affsync can do against it.
    #[command(
        after_long_help = "Examples:\n  affsync demo\n  affsync demo --database-url sqlite://demo.db    # keep the demo's mirror"
    )]
    Demo(demo::Args),
    /// Write a commented `affsync.toml` here, and say what to run next.
    Init(init::Args),
    /// Show the tenant, user and grant behind the API key.
    #[command(
        after_long_help = "Examples:\n  affsync whoami\n  affsync whoami --json\n  AFFINITY_BASE_URL=http://127.0.0.1:8787 affsync whoami"
    )]
    Whoami(whoami::Args),
    /// Show the per-minute and monthly request budgets and what is left of them.
    #[command(
        after_long_help = "Examples:\n  affsync rate-limit\n  affsync rate-limit --json\n  affsync rate-limit --all-members"
    )]
    RateLimit(rate_limit::Args),
    /// Show the tenant's lists (read from Affinity): id, name, kind, entries, fields.
    Lists(lists::Args),
    /// Show the field catalog (read from Affinity): what a mapping file may write.
    Fields(fields::Args),
    /// Start a mapping file: `mapping new` guesses one from an enrichment file and a list.
    #[command(
        after_long_help = "Examples:\n  affsync mapping new --from companies.csv --list \"Deal Flow\""
    )]
    Mapping(mapping::Args),
    /// Pull Affinity lists (entries, entities, field values) into the mirror.
    #[command(
        after_long_help = "Examples:\n  affsync pull --list \"Deal Flow\"\n  affsync pull --all-lists --concurrency 2\n  affsync pull --list 180026 --json"
    )]
    Pull(pull::Args),
    /// Keep the mirror current from Affinity's webhooks; run the jobs' `on_list_entry` enrichment.
    #[command(
        after_long_help = "Examples:\n  affsync listen --port 8790\n  affsync listen --bind 0.0.0.0 --public-url https://affsync.example.com --token \"$TOKEN\"\n  affsync listen --status --json"
    )]
    Listen(listen::Args),
    /// Push a mapping file's records into Affinity: create or update, add to lists, only what changed.
    #[command(
        after_long_help = "Examples:\n  affsync push mappings/companies.toml --dry-run\n  affsync push mappings/companies.toml\n  affsync push mappings/people.toml --max-calls 500 --json"
    )]
    Push(push::Args),
    /// Push again only the records that failed in a push run.
    #[command(
        after_long_help = "Examples:\n  affsync retry 42\n  affsync retry 42 --mapping mappings/companies.toml"
    )]
    Retry(retry::Args),
    /// Write what the mirror holds to a file.
    #[command(
        after_long_help = "Examples:\n  affsync export list \"Deal Flow\" --out deal-flow.csv\n  affsync export list 180026 --out deal-flow.parquet"
    )]
    Export(export::Args),
    /// Check mapping files against the field catalog in the mirror, offline.
    #[command(
        after_long_help = "Examples:\n  affsync check mappings/companies.toml\n  affsync check mappings/*.toml --json"
    )]
    Check(check::Args),
    /// Match one file against another with a `[match]` section, offline: one pair per record.
    #[command(
        after_long_help = "Examples:\n  affsync link crm-export.csv vendor.csv --config link.toml --out pairs.csv"
    )]
    Link(link::Args),
    /// Match a mapping file's records against the mirror: decisions stored, journaled, counted.
    #[command(
        after_long_help = "Examples:\n  affsync match mappings/companies.toml\n  affsync match mappings/companies.toml --out decisions.csv\n  affsync match mappings/people.toml --json"
    )]
    Match(match_cmd::Args),
    /// Run one job of `affsync.toml` now (exit code 3 when it is already running).
    #[command(
        after_long_help = "Examples:\n  affsync run nightly\n  affsync run nightly --json\n  affsync run nightly --config ops/affsync.toml"
    )]
    Run(run::Args),
    /// Run every job of `affsync.toml` on its schedule until SIGINT or SIGTERM.
    #[command(
        after_long_help = "Examples:\n  affsync schedule\n  affsync schedule --log-format json"
    )]
    Schedule(schedule::Args),
    /// Show each job's last run, next run and failures in a row.
    #[command(after_long_help = "Examples:\n  affsync status\n  affsync status --json")]
    Status(status::Args),
    /// Show the journal: the runs, one run's records, or one record's timeline.
    #[command(
        after_long_help = "Examples:\n  affsync activity\n  affsync activity 42 --status failed\n  affsync activity --record src:ACME-1\n  affsync activity 42 --out run-42.csv"
    )]
    Activity(activity::Args),
    /// Write a self-contained HTML report of a run.
    #[command(after_long_help = "Examples:\n  affsync report 42 --out run-42.html")]
    Report(report::Args),
    /// Log a communication feed (calls, voicemail, SMS, notes) into Affinity as interactions and notes.
    #[command(
        after_long_help = "Examples:\n  affsync log-activity calls.jsonl --settings activity.toml --dry-run\n  affsync log-activity calls.jsonl --settings activity.toml"
    )]
    LogActivity(log_activity::Args),
    /// Sync a contacts file with Affinity's persons, both ways.
    #[command(
        after_long_help = "Examples:\n  affsync contacts sync --file contacts.csv --mapping contacts.toml --dry-run"
    )]
    Contacts(contacts::Args),
    /// Review the records matching could not settle: a web page, or `list` and `decide` here.
    #[command(
        after_long_help = "Examples:\n  affsync review serve\n  affsync review list --mapping mappings/companies.toml\n  affsync review decide ACME-1 --mapping mappings/companies.toml --accept 202"
    )]
    Review(review::Args),
    /// Run an emulator of Affinity's API (v1 and v2) on 127.0.0.1.
    #[command(
        after_long_help = "Examples:\n  affsync emulator --port 8787\n  affsync emulator --port 8787 --seed tenant.json --fault-rate 0.05 --fault-seed 7"
    )]
    Emulator(emulator::Args),
    /// Serve Affinity and the mirror as tools for AI assistants (Model Context Protocol).
    #[command(
        after_long_help = "Examples:\n  affsync mcp\n  affsync mcp --allow-writes\n  affsync mcp --http 8800 --bind 0.0.0.0 --token \"$TOKEN\""
    )]
    Mcp(mcp::Args),
    /// Show the effective settings and where each comes from.
    #[command(after_long_help = "Examples:\n  affsync config show\n  affsync config show --json")]
    Config(config::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page, or write one per command into a folder.
    Man(completions::ManArgs),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Demo(a) => a.run().await,
            Command::Whoami(a) => a.run().await,
            Command::RateLimit(a) => a.run().await,
            Command::Pull(a) => a.run().await,
            Command::Listen(a) => a.run().await,
            Command::Push(a) => a.run().await,
            Command::Retry(a) => a.run().await,
            Command::Export(a) => a.run().await,
            Command::Check(a) => a.run().await,
            Command::Link(a) => a.run().await,
            Command::Match(a) => a.run().await,
            Command::Run(a) => a.run().await,
            Command::Schedule(a) => a.run().await,
            Command::Status(a) => a.run().await,
            Command::Activity(a) => a.run().await,
            Command::Report(a) => a.run().await,
            Command::LogActivity(a) => a.run().await,
            Command::Contacts(a) => a.run().await,
            Command::Review(a) => a.run().await,
            Command::Emulator(a) => a.run().await,
            Command::Mcp(a) => a.run().await,
            Command::Config(a) => a.run().await,
            Command::Init(a) => a.run().await,
            Command::Lists(a) => a.run().await,
            Command::Fields(a) => a.run().await,
            Command::Mapping(a) => a.run().await,
            Command::Completions(a) => a.run().await,
            Command::Man(a) => a.run().await,
        }
    }
}

/// A problem the command line itself finds (an argument that names nothing, a run that was
/// partial): its message, its class and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    pub class: ErrorClass,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    /// Bad input (arguments, files, settings): exit code 2.
    pub fn bad_input(message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            class: ErrorClass::BadInput,
            message: message.into(),
            hint: Some(hint.into()).filter(|h: &String| !h.is_empty()),
        }
    }

    /// A run that did part of its work: some records failed, or it stopped early (exit 4).
    pub fn partial(message: impl Into<String>) -> Problem {
        Problem {
            class: ErrorClass::Partial,
            message: message.into(),
            hint: None,
        }
    }

    /// A job that is already running somewhere (its lock is held and alive): exit code 3.
    pub fn already_running(message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            class: ErrorClass::AlreadyRunning,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl Diagnose for Problem {
    fn class(&self) -> ErrorClass {
        self.class
    }
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// The class and hint of one error, when its type knows them.
fn diagnosis(e: &(dyn std::error::Error + 'static)) -> Option<(ErrorClass, Option<String>)> {
    macro_rules! known {
        ($($t:ty),* $(,)?) => {$(
            if let Some(x) = e.downcast_ref::<$t>() {
                return Some((x.class(), x.hint()));
            }
        )*};
    }
    known!(
        Problem,
        affsync::push::PushError,
        affsync::matching::MatchError,
        affsync::store::StoreError,
        affsync::io::source::SourceError,
        affsync::io::export::ExportError,
        affsync::activity_log::ActivityError,
        affsync::activity::ActivityError,
        affsync::contacts::ContactsError,
        affsync::jobs::config::ConfigError,
        affsync::jobs::config::KeyError,
        affsync::jobs::run::StepError,
        affsync::jobs::run::JobError,
        affsync::review::ReviewError,
        affsync::review::server::ServeError,
        affsync::pull::PullError,
        affsync::listen::ListenError,
        affsync::listen::view::ViewError,
        affsync::settings::SettingsError,
        affsync_core::mapping::MappingError,
        affsync_core::diagnostic::FileError,
        affsync_core::matcher::ConfigError,
    );
    if let Some(x) = e.downcast_ref::<affinity_crm_emulator::EmulatorError>() {
        return Some((ErrorClass::BadInput, x.hint().map(str::to_string)));
    }
    if e.downcast_ref::<affinity_crm::ConfigError>().is_some() {
        return Some((ErrorClass::BadInput, None));
    }
    None
}

/// The class and hint of an error: those of the first error in its chain whose type knows
/// them (a failure without a hint otherwise).
pub fn diagnose(e: &anyhow::Error) -> (ErrorClass, Option<String>) {
    e.chain()
        .find_map(diagnosis)
        .unwrap_or((ErrorClass::Failure, None))
}

/// The documented exit codes: 2 for bad input, 3 for a job already running, 4 for a partial
/// run, 1 for any other failure.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    diagnose(e).0.exit_code()
}

/// An error as the command line prints it: `error: …`, then its `hint:` when it has one (the
/// labels coloured as cargo's; anstream strips the colour where it does not belong).
pub fn render_error(e: &anyhow::Error) -> String {
    use out::style::{ERROR, HINT};
    let (_, hint) = diagnose(e);
    let mut s = format!("{ERROR}error:{ERROR:#} {e:#}");
    if let Some(h) = hint {
        s.push_str(&format!("\n{HINT}hint:{HINT:#} {h}"));
    }
    s
}

/// Sets the colour choice for everything printed (anstream reads it), then the logging.
pub fn init_output(cli: &Cli) {
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    out::set_quiet(cli.quiet);
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "affsync=debug,info",
        (false, _) => "trace",
    };
    init_logging(cli.log_format, level);
}

/// Logs go to stderr through `tracing`; `RUST_LOG` sets the level (default `level`). Colour
/// only where anstream would colour stderr (a terminal, without `NO_COLOR`), never in JSON.
pub fn init_logging(format: LogFormat, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let colour = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    // A stderr whose reader has gone loses the log line, never the command: the builder's
    // default reports a failed write with `eprintln!`, which panics on that same closed stderr
    // (seen as exit 101 from `affsync push … 2>&1 | head -c1`).
    let builder = tracing_subscriber::fmt()
        .log_internal_errors(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
