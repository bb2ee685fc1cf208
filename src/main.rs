//! The `affsync` binary: parse arguments, dispatch, map errors to exit codes; nothing else.

#[macro_use]
mod cli;

/// mimalloc: less resident memory than glibc's per-thread arenas on the matcher's many small
/// allocations, and faster (BENCHMARKS.md, matching at a million).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_output(&cli);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let result = runtime.block_on(cli.run());
    // A task still running when the command is done (a database pool's upkeep, a blocking
    // read) must not keep the process alive: it was seen spinning at exit after a push whose
    // answer was lost, and the runtime's drop waits for blocking tasks without end.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            errln!("{}", cli::render_error(&e));
            std::process::ExitCode::from(cli::exit_code(&e))
        }
    }
}
