//! `affsync demo`: the emulator with the demo tenant, in-process on a free port, and everything
//! affsync can do so far run against it.

use std::time::Instant;

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::{demo_seed, Emulator, EmulatorConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's mirror here (default: a temporary SQLite file, removed at the end).
    #[arg(long)]
    pub database_url: Option<String>,
}

const DEMO_KEY: &str = "demo-key";

/// The demo's mapping file and enrichment sample, written to a scratch folder at run time.
const DEMO_FILES: &[(&str, &str)] = &[
    (
        "mappings/companies.toml",
        include_str!("../../mappings/companies.toml"),
    ),
    (
        "fixtures/enrichment/companies.csv",
        include_str!("../../fixtures/enrichment/companies.csv"),
    ),
];

/// A push's activity summary.
fn print_push(r: &affsync::push::PushReport) {
    let c = &r.counts;
    outln!(
        "{} records: {} created, {} updated, {} unchanged, {} awaiting review, {} skipped, {} failed; {} added to the list, {} written, {} skipped; {} ({})",
        c.records,
        c.created,
        c.updated,
        c.unchanged,
        c.awaiting_review,
        c.skipped_no_match + c.rejected,
        c.failed,
        c.added_to_list,
        super::out::count(c.fields_written as u64, "field"),
        super::out::count(c.values_skipped as u64, "value"),
        super::out::count(c.api_calls, "API call"),
        super::out::count(c.write_calls, "write")
    );
    for (label, why) in r.failures() {
        outln!("  failed {label}: {why}");
    }
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let config = EmulatorConfig {
            api_key: Some(DEMO_KEY.into()),
            ..Default::default()
        };
        let emu = Emulator::start(config, demo_seed()).await?;
        outln!("emulator: the demo tenant at {}\n", emu.base_url());
        let client = Client::new(
            Config::new(ApiKey::new(DEMO_KEY), KeySource::Code).with_base_url(&emu.base_url())?,
        )?;

        outln!("== whoami");
        let who = client.whoami_v2().await?;
        out!("{}", super::whoami::render(&who, &client, false));

        outln!("\n== rate limits");
        let limits = client.rate_limit_v1().await?;
        out!("{}", super::rate_limit::render(&limits, false));

        outln!("\n== pull: every list of the demo tenant into the mirror");
        let tmp = tempfile::tempdir()?;
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", tmp.path().join("demo.db").display()),
        };
        let store = affsync::store::Store::open(&url).await?;
        outln!("mirror: {}", affsync::store::redact_url(&url));
        let opts = affsync::pull::PullOptions::default();
        let show = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let summary = super::pull::run_pull(&client, &store, &opts, show).await?;
        out!("{}", super::pull::render(&summary));

        outln!("\n== pull again: nothing changed in Affinity, so nothing is written");
        let again = super::pull::run_pull(&client, &store, &opts, false).await?;
        out!("{}", super::pull::render(&again));

        // The enrichment samples and their mapping files, as a data team keeps them in git.
        let work = tmp.path().join("work");
        std::fs::create_dir_all(work.join("mappings"))?;
        std::fs::create_dir_all(work.join("fixtures/enrichment"))?;
        for (path, text) in DEMO_FILES {
            std::fs::write(work.join(path), text)?;
        }
        let mapping = affsync::io::load_mapping(&work.join("mappings/companies.toml"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        outln!("\n== match: fixtures/enrichment/companies.csv against the mirror");
        let m = affsync::matching::run_match(&store, &mapping, None).await?;
        let c = &m.counts;
        outln!(
            "{} records: {} matched (key {}, fuzzy {}), {} to review, {} unmatched, {} errors",
            c.records,
            c.matched,
            c.matched_by_key,
            c.matched_by_fuzzy,
            c.review,
            c.unmatched,
            c.error
        );

        outln!("\n== push, dry run: what would be written");
        let mut popts = affsync::push::PushOptions {
            dry_run: true,
            ..Default::default()
        };
        let quiet = affsync::push::apply::Quiet;
        let dry = affsync::push::push(&store, &client, &mapping, &popts, &quiet).await?;
        outln!(
            "{} found in Affinity by their search term ({} term searches; the mirror holds only the pulled lists)",
            dry.counts.found_in_affinity,
            dry.counts.term_searches
        );
        outln!(
            "estimated calls: {} ({} writes)",
            dry.counts.estimated_calls,
            dry.counts.estimated_write_calls
        );

        outln!("\n== push: create + update, onto the Deal Flow list");
        popts.dry_run = false;
        let pushed = affsync::push::push(&store, &client, &mapping, &popts, &quiet).await?;
        print_push(&pushed);

        outln!("\n== push again: nothing changed, so nothing is written");
        let again = affsync::push::push(&store, &client, &mapping, &popts, &quiet).await?;
        print_push(&again);
        store.close().await;

        let stats = client.stats();
        outln!(
            "\ndone in {:.2} s: {} API calls ({} retries, {} waits for rate limits)",
            started.elapsed().as_secs_f64(),
            stats.calls,
            stats.retries,
            stats.rate_limited
        );
        emu.stop().await;
        Ok(())
    }
}
