//! Jobs: named lists of steps (pull, match, push) that `affsync run` runs now and
//! `affsync schedule` runs on their cron schedules; one run at a time per job, everywhere,
//! through a lock in the store; a failed run posts an alert.

pub mod alert;
pub mod config;
pub mod lock;
pub mod run;
pub mod scheduler;
pub mod status;

pub use config::{ConfigError, Job, JobsConfig, KeySpec, Step};
pub use run::{run_step, JobRun, Outcome, Runner, StepError, StepOutcome, Trigger};
