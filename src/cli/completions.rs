//! `affsync completions SHELL`: a completion script for the shell (clap_complete), and
//! `affsync man`: the manual pages (clap_mangen), both from the same command tree as `--help`.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::aot::Shell;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  affsync completions bash > ~/.local/share/bash-completion/completions/affsync
  affsync completions zsh > \"${fpath[1]}/_affsync\"
  affsync completions fish > ~/.config/fish/completions/affsync.fish")]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let mut cmd = super::Cli::command();
        let mut buf: Vec<u8> = Vec::new();
        clap_complete::aot::generate(self.shell, &mut cmd, "affsync", &mut buf);
        super::out::write_out_bytes(&buf);
        Ok(())
    }
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  affsync man | man -l -
  affsync man --out /usr/local/share/man/man1    # affsync.1, affsync-pull.1, ...")]
pub struct ManArgs {
    /// Write one page per command (`affsync.1`, `affsync-pull.1`, ...) into this folder,
    /// instead of the main page to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl ManArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let cmd = super::Cli::command();
        match self.out {
            Some(dir) => {
                std::fs::create_dir_all(&dir)?;
                clap_mangen::generate_to(cmd, &dir).map_err(|e| {
                    anyhow::anyhow!("cannot write the pages into `{}`: {e}", dir.display())
                })?;
                outln!("wrote the manual pages into `{}`", dir.display());
            }
            None => {
                let mut buf: Vec<u8> = Vec::new();
                clap_mangen::Man::new(cmd).render(&mut buf)?;
                super::out::write_out_bytes(&buf);
            }
        }
        Ok(())
    }
}
