//! Seed files: consultations written as ordered domain commands in TOML, applied idempotently.
//!
//! Format (see `seeds/README.md`): one file per consultation, `[[commands]]` in order, each with
//! `aggregate` (`organisation`, `person`, `consultation`, `action`) and the command's fields
//! (`type = "plan_consultation"`, ...). A string starting with `@` is a reference: `"@org/mic"`
//! becomes the UUID v5 of `shura:org/mic` in the URL namespace, so files name things instead of
//! carrying UUIDs. Every command is appended with the idempotency key `seed:FILE:INDEX`, so a
//! second run appends nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;
use uuid::Uuid;

use crate::commands::{execute, AnyCommand, CommandContext};
use crate::store::{Actor, Store};

macro_rules! embed {
    ($file:literal) => {
        ($file, include_str!(concat!("../seeds/", $file)))
    };
}

/// The seed files shipped in the binary, in load order (the same files as `seeds/`; a test
/// checks that they are all here).
pub const EMBEDDED: [(&str, &str); 5] = [
    embed!("01-unido-partnership-2017.toml"),
    embed!("02-fes-meknes-export-consultation-2024.toml"),
    embed!("03-national-industry-day-agreements-2025.toml"),
    embed!("04-fes-meknes-sse-hub-workshop.toml"),
    embed!("05-cti-framework-agreement-2022-2025.toml"),
];

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file could not be read.
    #[error("{file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// A command is malformed or was refused.
    #[error("{file}, command {index}: {reason}")]
    Command {
        /// The file.
        file: String,
        /// 0-based index of the command in the file.
        index: usize,
        /// What went wrong.
        reason: String,
    },
}

/// What a seeding run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Files read.
    pub files: usize,
    /// Commands in them.
    pub commands: usize,
    /// Events appended by this run (0 on a second run).
    pub appended: usize,
}

/// The id a seed reference names: UUID v5 of `shura:NAME` in the URL namespace.
pub fn reference(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("shura:{name}").as_bytes())
}

/// Parses one seed file into commands.
pub fn parse(file: &str, text: &str) -> Result<Vec<AnyCommand>, SeedError> {
    let file_error = |reason: String| SeedError::File {
        file: file.to_owned(),
        reason,
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| file_error(e.to_string()))?;
    let mut json = serde_json::to_value(table).map_err(|e| file_error(e.to_string()))?;
    resolve_references(&mut json);
    let commands = match json.get_mut("commands") {
        Some(Value::Array(items)) => std::mem::take(items),
        _ => return Err(file_error("has no [[commands]]".to_owned())),
    };
    commands
        .into_iter()
        .enumerate()
        .map(|(index, command)| {
            serde_json::from_value(command).map_err(|e| SeedError::Command {
                file: file.to_owned(),
                index,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Replaces every `"@name"` string with the UUID it names (`"@@x"` stays the literal `"@x"`).
fn resolve_references(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(literal) = s.strip_prefix("@@") {
                *s = format!("@{literal}");
            } else if let Some(name) = s.strip_prefix('@') {
                *s = reference(name).to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(resolve_references),
        Value::Object(map) => map.values_mut().for_each(resolve_references),
        _ => {}
    }
}

/// Applies seed files in order; each command once, however often this runs.
pub async fn apply(store: &Store, files: &[(String, String)]) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    for (file, text) in files {
        let commands = parse(file, text)?;
        report.files += 1;
        for (index, command) in commands.into_iter().enumerate() {
            let mut context = CommandContext::new(Actor::new("seed", "Seed loader"));
            context.idempotency_key = Some(format!("seed:{file}:{index}"));
            let outcome =
                execute(store, command, context)
                    .await
                    .map_err(|e| SeedError::Command {
                        file: file.clone(),
                        index,
                        reason: e.to_string(),
                    })?;
            report.commands += 1;
            report.appended += outcome.appended;
        }
    }
    Ok(report)
}

/// Reads every `*.toml` file of `dir` (not its subfolders), in file-name order.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, SeedError> {
    let unreadable = |reason: String| SeedError::File {
        file: dir.display().to_string(),
        reason,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(e.to_string()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::read_to_string(&path)
                .map(|text| (name, text))
                .map_err(|e| unreadable(e.to_string()))
        })
        .collect()
}

/// The embedded seed files.
pub fn embedded() -> Vec<(String, String)> {
    EMBEDDED
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect()
}
