//! `--help` of every command, as a person reads it: a snapshot each (a change of wording is
//! reviewed), and an `Examples:` section in each subcommand's long help. The command tree is
//! walked from the binary's own `Commands:` sections, so a new subcommand is covered by itself.

use std::process::Command;

/// `affsync ARGS --help`, with no variable that clap would show as a value.
fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(path)
        .arg("--help")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("affsync runs");
    assert!(
        out.status.success(),
        "{path:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The subcommands a help text lists under `Commands:` (`help` left out).
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Every command path, depth first: `[]`, `[pull]`, `[review]`, `[review, serve]`, ...
fn walk(path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    let text = help(&path);
    let subs = subcommands(&text);
    out.push((path.clone(), text));
    for s in subs {
        let mut p = path.clone();
        p.push(s);
        walk(p, out);
    }
}

#[test]
fn every_help_is_snapshotted_and_every_subcommand_has_examples() {
    let mut all = Vec::new();
    walk(vec![], &mut all);
    assert!(all.len() > 30, "{} commands", all.len());
    let mut missing = Vec::new();
    for (path, text) in &all {
        let name = if path.is_empty() {
            "help_affsync".to_string()
        } else {
            format!("help_affsync_{}", path.join("_").replace('-', "_"))
        };
        if !text.contains("\nExamples") || !text.contains("\n  affsync ") {
            missing.push(path.join(" "));
        }
        insta::assert_snapshot!(name, text);
    }
    assert!(
        missing.is_empty(),
        "these commands' long help has no `Examples:`: {missing:?}"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_same_tree() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_affsync"))
            .args(args)
            .output()
            .expect("affsync runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, text) = run(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}");
        assert!(
            text.contains("mapping") && text.contains("completions"),
            "{shell}: {text}"
        );
    }
    let (code, _) = run(&["completions", "tcsh"]);
    assert_eq!(code, Some(2));
    let (code, page) = run(&["man"]);
    assert_eq!(code, Some(0));
    assert!(page.contains(".TH affsync 1"), "{page}");
    assert!(page.contains("Examples (a first hour)"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _) = run(&["man", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let page = std::fs::read_to_string(dir.path().join("affsync-mapping-new.1")).unwrap();
    assert!(page.contains("Examples:"), "{page}");
}
