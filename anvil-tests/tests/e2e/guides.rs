//! The guides' commands match the tools (issue 67): every command in the repository's Markdown that runs one of the
//! operator's tools — a line of a fenced shell block, or an inline code span (a span may wrap lines) — names only
//! subcommands and flags that tool's own help lists, as the built binary prints it. The Nile guide once passed
//! `--rpc-url` to `referral-deploy tron-multisig`, which refuses it; this finds such a line before an operator does.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use anvil_tests::services::service_binary;

/// The tools a guide has the operator run with flags, and which print their flags on `--help` (clap's help, or the
/// usage line of those that take no more than a flag or two).
const TOOLS: [&str; 7] =
    ["referral-deploy", "referral-asset", "preflight", "signer", "signer-store", "solvency-verify", "tron-devnode"];

/// Every Markdown file of the repository but dependencies' and build output's.
fn markdown_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') && !["node_modules", "target", "dist", "lib"].contains(&name) {
                markdown_files(&path, found)?;
            }
        } else if name.ends_with(".md") {
            found.push(path);
        }
    }
    Ok(())
}

/// The commands of one Markdown text: fenced shell blocks' lines (continuations joined), then inline code spans of
/// the rest (its lines joined, so that a span wrapped over two lines is one command).
fn commands(text: &str) -> Vec<String> {
    let (mut found, mut prose, mut fence, mut pending) = (Vec::new(), String::new(), false, String::new());
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            let line = line.trim();
            match line.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => found.push(std::mem::take(&mut pending) + line),
            }
        } else {
            prose.push(' ');
            prose.push_str(line.trim());
        }
    }
    found.extend(prose.split('`').skip(1).step_by(2).map(str::to_owned));
    found
}

/// `(tool, words)` of a command that runs one of [`TOOLS`]: leading `VAR=value` assignments skipped, a comment and
/// anything after a shell operator cut.
fn invocation(command: &str) -> Option<(&'static str, Vec<&str>)> {
    let command = command.split(" #").next()?.split(['|', ';', '&', '>', '<', ')']).next()?;
    let mut words = command.split_whitespace().skip_while(|w| w.contains('=') && !w.starts_with('-'));
    let first = words.next()?;
    let tool = TOOLS.into_iter().find(|t| *t == first)?;
    Some((tool, words.collect()))
}

/// What `tool [sub] --help` prints (stdout and stderr: a tool without clap prints its usage on an unknown argument).
fn help(tool: &str, sub: Option<&str>) -> eyre::Result<String> {
    let out = Command::new(service_binary(tool)?).args(sub).arg("--help").env("RUST_BACKTRACE", "0").output()?;
    Ok(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Whether `help` names `flag` as a whole word (`--rpc` is not `--rpc-url`).
fn names(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        !help[at + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            && !help[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn every_tool_command_in_the_guides_uses_flags_the_tool_has() -> eyre::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    markdown_files(&root, &mut files)?;
    files.sort();
    let mut helps: BTreeMap<(String, Option<String>), String> = BTreeMap::new();
    let (mut checked, mut wrong) = (0, Vec::new());
    for file in &files {
        let shown = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        for command in commands(&std::fs::read_to_string(file)?) {
            let Some((tool, words)) = invocation(&command) else { continue };
            // A subcommand: one the help lists, or (solvency-verify's are left out of its summary) a bare word whose
            // own help is that subcommand's.
            let sub = match words.first().filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-')) {
                Some(word) => {
                    let key = (tool.to_owned(), Some(word.to_string()));
                    if !helps.contains_key(&key) {
                        helps.insert(key.clone(), help(tool, Some(word))?);
                    }
                    helps[&key].contains(&format!("Usage: {tool} {word}")).then(|| word.to_string())
                }
                None => None,
            };
            let key = (tool.to_owned(), sub.clone());
            if !helps.contains_key(&key) {
                helps.insert(key.clone(), help(tool, sub.as_deref())?);
            }
            let text = &helps[&key];
            checked += 1;
            for flag in words.iter().filter(|w| w.starts_with("--") && w.len() > 2) {
                let flag = flag.split('=').next().unwrap_or(flag).trim_end_matches([',', '.', '`', '"', '\'']);
                if !names(text, flag) {
                    wrong.push(format!(
                        "{shown}: `{}` — {tool}{} has no {flag}",
                        command.trim(),
                        sub.as_deref().map(|s| format!(" {s}")).unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(checked >= 40, "the guides' tool commands were found ({checked} of them)");
    assert!(wrong.is_empty(), "guide commands the tools refuse:\n{}", wrong.join("\n"));
    // The check itself: the line the Nile guide once had is caught.
    let old = "referral-deploy tron-multisig --profile tron-nile --rpc-url \"$NILE_RPC\" --threshold 2";
    let (tool, words) = invocation(old).expect("a tool command");
    let text = help(tool, Some(words[0]))?;
    assert!(names(&text, "--threshold") && !names(&text, "--rpc-url"), "{text}");
    Ok(())
}

/// The front door's map (README.md, "Map"; issue 68): a row for every top-level folder the repository tracks and for
/// every crate of the workspace, with that crate's name, and no row for a folder that is not there.
#[test]
fn the_readme_map_names_every_folder_and_crate() -> eyre::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md"))?;
    assert!(readme.lines().count() < 150, "README.md is a front door: under 150 lines");
    let map = readme.split("\n## Map\n").nth(1).and_then(|m| m.split("\n## ").next()).expect("a Map section");
    // `| `path/` | `crate` or — | what |` rows.
    let rows: BTreeMap<String, String> = map
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let path = cells.get(1)?.strip_prefix('`')?.strip_suffix("/`")?;
            Some((path.to_owned(), cells.get(2)?.trim_matches('`').to_owned()))
        })
        .collect();
    for path in rows.keys() {
        assert!(root.join(path).is_dir(), "the map names {path}/, which is no folder");
    }
    let tracked = Command::new("git").arg("-C").arg(&root).args(["ls-files", "-z"]).output()?;
    assert!(tracked.status.success(), "git ls-files");
    let folders: std::collections::BTreeSet<String> = String::from_utf8(tracked.stdout)?
        .split('\0')
        .filter_map(|f| f.split_once('/').map(|(top, _)| top.to_owned()))
        .filter(|top| !top.starts_with('.'))
        .collect();
    for folder in &folders {
        assert!(rows.contains_key(folder), "README.md's map has no row for {folder}/");
    }
    let workspace: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))?.parse()?;
    let members = workspace["workspace"]["members"].as_array().expect("members");
    assert!(members.len() >= 10, "{members:?}");
    for member in members.iter().filter_map(|m| m.as_str()) {
        let manifest: toml::Table = std::fs::read_to_string(root.join(member).join("Cargo.toml"))?.parse()?;
        let name = manifest["package"]["name"].as_str().expect("a package name");
        assert_eq!(rows.get(member).map(String::as_str), Some(name), "README.md's map: {member}/ is crate {name}");
    }
    Ok(())
}

/// The listener and the reconciler take their configuration file as their one argument; `--help` is no file name
/// (it was read as one: "reading --help: No such file or directory", with a backtrace).
#[test]
fn the_listener_and_the_reconciler_answer_help_with_their_usage() -> eyre::Result<()> {
    for (service, example) in
        [("listener", "listener/listener.example.toml"), ("reconciler", "reconciler/reconciler.example.toml")]
    {
        let out = Command::new(service_binary(service)?).arg("--help").output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{service} --help: {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.starts_with(&format!("usage: {service} <config.toml>")) && text.contains(example), "{text}");
    }
    Ok(())
}
