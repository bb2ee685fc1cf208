//! `affsync check MAPPING...`: checks mapping files offline against the field catalog in the
//! mirror and a sample of their source files. Every problem of every file is printed (file,
//! line, key, hint); exit code 2 when any file has an error, 0 when all are clean.

use std::path::PathBuf;

use super::db::DbArgs;
use super::Problem;
use affsync::io::source::sample_source;
use affsync_core::mapping::check::{check, parse_failure, FileReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mapping files (TOML).
    #[arg(required = true)]
    pub mappings: Vec<PathBuf>,
    /// Print the reports as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.settings()?;
        let store = settings.open_store().await?;
        let catalog = store.catalog().await?;
        if catalog.is_empty() {
            return Err(Problem::bad_input(
                "the mirror holds no field catalog, so the mapping files cannot be checked",
                "run `affsync pull` first (`affsync pull --all-lists`)",
            )
            .into());
        }
        let refs = store.mirror_refs().await?;
        store.close().await;

        let reports: Vec<FileReport> = self
            .mappings
            .iter()
            .map(|path| {
                let file = path.display().to_string();
                match settings.load_mapping(path) {
                    Ok(m) => {
                        let sample = sample_source(&m);
                        FileReport::new(file, check(&m, &catalog, &refs, &sample))
                    }
                    Err(e) => FileReport::new(file, vec![parse_failure(path, &e)]),
                }
            })
            .collect();

        if self.json {
            let all_ok = reports.iter().all(|r| r.ok);
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"ok": all_ok, "files": reports}))?
            );
        } else {
            for r in &reports {
                for d in r.errors.iter().chain(&r.warnings) {
                    outln!("{}", super::out::style::labels(&d.to_string()));
                }
                if r.ok {
                    outln!("{}: ok", r.file);
                } else {
                    let n = r.errors.len();
                    outln!("{}: {n} error{}", r.file, if n == 1 { "" } else { "s" });
                }
            }
        }
        let bad = reports.iter().filter(|r| !r.ok).count();
        if bad > 0 {
            return Err(Problem::bad_input(
                format!(
                    "{bad} of {} mapping files {} errors",
                    reports.len(),
                    if bad == 1 { "has" } else { "have" }
                ),
                "",
            )
            .into());
        }
        Ok(())
    }
}
