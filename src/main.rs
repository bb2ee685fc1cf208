//! The `affsync` binary: parse arguments, dispatch, map errors to exit codes; nothing else.

#[macro_use]
mod cli;

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
    match runtime.block_on(cli.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            errln!("{}", cli::render_error(&e));
            std::process::ExitCode::from(cli::exit_code(&e))
        }
    }
}
