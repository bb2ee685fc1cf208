use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = affsync::cli::Cli::parse();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
