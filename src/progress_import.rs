//! Bulk import of follow-up progress from CSV: `shura import-progress FILE.csv [--dry-run]` and
//! the `importProgress` mutation both run [`import_progress`].
//!
//! The file has a header and one row per progress report. Columns: `action` (the action's
//! UUID), `date` (YYYY-MM-DD), `progress` (0-100), and optionally `note` (text, stored as Arabic
//! when it holds an Arabic letter, else as French), `status` (an action status in snake_case,
//! e.g. `in_progress`, `done`) and `reason` (why progress went down, or why the action is
//! blocked or cancelled). Row 0 is the header; row N is the Nth report.
//!
//! Every row is checked before anything is written: its cells, that the action exists, that the
//! caller may write it, and the domain's rules, by deciding the row's commands on the action's
//! current state (and on the states left by the rows before it) without appending. Any refusal
//! lists row, column and rule, and nothing is written.
//!
//! A row's commands carry idempotency keys derived from a SHA-256 of the row's content, so a
//! second import of the same file replays and appends nothing; a row already imported is counted
//! as such and not checked again. Should a write fail after the check (another writer got in
//! between), the rows before it stay written and running the import again completes it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands::{execute, fold_recorded, AnyCommand, CommandContext, CommandError};
use crate::domain::action::{self, ActionStatus};
use crate::domain::common::Text;
use crate::domain::{DomainError, Rule};
use crate::error::{ApiError, Code};
use crate::store::{Actor, Store};

/// Most report rows in one file.
pub const MAX_ROWS: usize = 10_000;
/// Largest file accepted, in bytes (the API's body limit is smaller by default).
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The columns a file may have, required first.
const COLUMNS: [&str; 6] = ["action", "date", "progress", "note", "status", "reason"];
const REQUIRED: usize = 3;

/// One refused cell (or row, or header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row: 0 for the header, N for the Nth report.
    pub row: usize,
    /// The column at fault.
    pub column: String,
    /// The rule's stable code, e.g. `OUT_OF_RANGE`.
    pub rule: String,
    /// A predicate for people, e.g. "must be between 0 and 100".
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, column {}: {} ({})",
            self.row, self.column, self.message, self.rule
        )
    }
}

/// Why an import wrote nothing (or, for `Command`, stopped).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows broke rules; nothing was written.
    #[error("{} row error(s); nothing was written", .0.len())]
    Rows(Vec<RowError>),
    /// The file is larger than [`MAX_BYTES`] or has more than [`MAX_ROWS`] rows.
    #[error("{0}")]
    TooLarge(String),
    /// The caller may not write one of the actions; nothing was written.
    #[error("{}", .0.message)]
    Forbidden(ApiError),
    /// The store failed, or a write was refused after the check.
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl From<crate::store::StoreError> for ImportError {
    fn from(error: crate::store::StoreError) -> Self {
        ImportError::Command(error.into())
    }
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Report rows in the file.
    pub rows: usize,
    /// Rows not imported before: imported now, or to be imported on a dry run.
    pub new_rows: usize,
    /// Rows an earlier import already wrote (or repeated in the file).
    pub already_imported: usize,
    /// Events appended (0 on a dry run).
    pub appended: usize,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// One parsed row.
#[derive(Debug, Clone)]
struct Row {
    number: usize,
    action_id: Uuid,
    on: NaiveDate,
    progress: i32,
    note: Option<String>,
    status: Option<ActionStatus>,
    reason: Option<String>,
}

impl Row {
    /// The idempotency key of the row's commands, from a hash of its content.
    fn key(&self, command: &str) -> String {
        let content = format!(
            "{}|{}|{}|{}|{}|{}",
            self.action_id,
            self.on,
            self.progress,
            self.note.as_deref().unwrap_or(""),
            self.status.map_or("", ActionStatus::as_str),
            self.reason.as_deref().unwrap_or(""),
        );
        let hash = hex::encode(Sha256::digest(content.as_bytes()));
        format!("import-progress:{hash}:{command}")
    }

    fn report(&self) -> action::ReportProgress {
        let note = self.note.as_ref().map(|n| {
            if n.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)) {
                Text::ar(n.clone())
            } else {
                Text::fr(n.clone())
            }
        });
        action::ReportProgress {
            action_id: self.action_id,
            on: self.on,
            progress: self.progress,
            note,
            reason: self.reason.clone(),
        }
    }

    fn status_change(&self, to: ActionStatus) -> action::ChangeActionStatus {
        action::ChangeActionStatus {
            action_id: self.action_id,
            to,
            reason: self.reason.clone(),
        }
    }
}

/// A row as it will be written: its report, and a status change when the status moves.
struct Planned {
    row: Row,
    change_status: Option<ActionStatus>,
}

fn cell_error(row: usize, column: &str, rule: &Rule) -> RowError {
    RowError {
        row,
        column: column.to_owned(),
        rule: rule.code().to_owned(),
        message: rule.to_string(),
    }
}

fn format_error(row: usize, column: &str, expected: &str) -> RowError {
    cell_error(
        row,
        column,
        &Rule::InvalidFormat {
            expected: expected.to_owned(),
        },
    )
}

/// The CSV column a domain field of a row's command comes from.
fn column_of(field: &str, status_command: bool) -> &'static str {
    match field.split(['.', '[']).next().unwrap_or("") {
        "action_id" => "action",
        "on" => "date",
        "note" => "note",
        "reason" => "reason",
        "progress" if !status_command => "progress",
        _ => "status",
    }
}

fn domain_error(row: usize, error: &DomainError, status_command: bool) -> RowError {
    match error {
        DomainError::Validation { field, rule } => {
            cell_error(row, column_of(field, status_command), rule)
        }
        other => RowError {
            row,
            column: "action".to_owned(),
            rule: other.code().to_owned(),
            message: other.to_string(),
        },
    }
}

/// Parses the file: header, size bounds, then each row's cells.
fn parse(csv_text: &str) -> Result<(Vec<Row>, Vec<RowError>), ImportError> {
    if csv_text.len() > MAX_BYTES {
        return Err(ImportError::TooLarge(format!(
            "the file has {} bytes; at most {MAX_BYTES} are accepted",
            csv_text.len()
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let mut errors = Vec::new();
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
        Err(e) => {
            return Err(ImportError::Rows(vec![format_error(
                0,
                "header",
                &format!("a CSV header ({e})"),
            )]))
        }
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        match COLUMNS.iter().find(|c| **c == name.as_str()) {
            Some(column) if index.insert(column, i).is_some() => {
                errors.push(cell_error(0, column, &Rule::Duplicate));
            }
            Some(_) => {}
            None => errors.push(format_error(
                0,
                name,
                &format!("one of {}", COLUMNS.join(", ")),
            )),
        }
    }
    for column in &COLUMNS[..REQUIRED] {
        if !index.contains_key(column) {
            errors.push(cell_error(0, column, &Rule::Required));
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let number = i + 1;
        if number > MAX_ROWS {
            return Err(ImportError::TooLarge(format!(
                "the file has more than {MAX_ROWS} rows"
            )));
        }
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                errors.push(format_error(number, "*", &format!("a CSV row ({e})")));
                continue;
            }
        };
        if record.len() != header.len() {
            errors.push(format_error(
                number,
                "*",
                &format!("{} cells, as the header has", header.len()),
            ));
            continue;
        }
        let cell = |column: &str| {
            index
                .get(column)
                .and_then(|&i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let before = errors.len();
        let action_id = match cell("action").map(Uuid::parse_str) {
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.push(format_error(number, "action", "an action's UUID"));
                None
            }
            None => {
                errors.push(cell_error(number, "action", &Rule::Required));
                None
            }
        };
        let on = match cell("date").map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
            Some(Ok(on)) => Some(on),
            Some(Err(_)) => {
                errors.push(format_error(number, "date", "a date as YYYY-MM-DD"));
                None
            }
            None => {
                errors.push(cell_error(number, "date", &Rule::Required));
                None
            }
        };
        let progress = match cell("progress").map(str::parse::<i64>) {
            Some(Ok(p)) if (0..=100).contains(&p) => i32::try_from(p).ok(),
            Some(Ok(_)) => {
                errors.push(cell_error(
                    number,
                    "progress",
                    &Rule::OutOfRange { min: 0, max: 100 },
                ));
                None
            }
            Some(Err(_)) => {
                errors.push(format_error(
                    number,
                    "progress",
                    "a whole number from 0 to 100",
                ));
                None
            }
            None => {
                errors.push(cell_error(number, "progress", &Rule::Required));
                None
            }
        };
        let status = match cell("status") {
            None => None,
            Some(s) => match serde_json::from_value::<ActionStatus>(serde_json::json!(s)) {
                Ok(status) => Some(status),
                Err(_) => {
                    errors.push(format_error(
                        number,
                        "status",
                        "one of not_started, in_progress, done, blocked, cancelled",
                    ));
                    None
                }
            },
        };
        if let (Some(action_id), Some(on), Some(progress), true) =
            (action_id, on, progress, errors.len() == before)
        {
            rows.push(Row {
                number,
                action_id,
                on,
                progress,
                note: cell("note").map(str::to_owned),
                status,
                reason: cell("reason").map(str::to_owned),
            });
        }
    }
    Ok((rows, errors))
}

/// Checks every row of `csv_text` and, unless `dry_run` or a row is refused, writes each new
/// row's progress report (and status change, when its status differs from the action's) as
/// `actor`. `may_write` is asked about the regions of each action named (see
/// [`crate::auth::write_scope`]) before anything is decided.
pub async fn import_progress(
    store: &Store,
    csv_text: &str,
    dry_run: bool,
    actor: Actor,
    may_write: impl Fn(&[Option<String>]) -> Result<(), ApiError>,
) -> Result<ImportReport, ImportError> {
    let (rows, mut errors) = parse(csv_text)?;
    let mut report = ImportReport {
        rows: rows.len() + errors.iter().map(|e| e.row).collect::<HashSet<_>>().len(),
        dry_run,
        ..ImportReport::default()
    };
    // The actions named: each must exist, and be the caller's to write.
    let mut states: HashMap<Uuid, Option<action::State>> = HashMap::new();
    for row in &rows {
        if states.contains_key(&row.action_id) {
            continue;
        }
        let exists =
            store.stream_type_of(row.action_id).await?.as_deref() == Some(action::STREAM_TYPE);
        let state = if exists {
            let command = AnyCommand::Action(action::Command::ReportProgress(row.report()));
            let scope = crate::auth::write_scope(store, &command).await?;
            may_write(&scope).map_err(ImportError::Forbidden)?;
            let events = store.read_stream(row.action_id, None).await?;
            Some(
                fold_recorded::<action::Event, _>(&events, action::State::default(), action::apply)
                    .map_err(CommandError::from)?,
            )
        } else {
            None
        };
        states.insert(row.action_id, state);
    }
    // Every row decided in order on the state the rows before it leave, nothing appended.
    let mut planned = Vec::new();
    let mut seen = HashSet::new();
    for row in rows {
        let Some(Some(state)) = states.get_mut(&row.action_id) else {
            errors.push(cell_error(
                row.number,
                "action",
                &Rule::UnknownReference {
                    what: "action".into(),
                },
            ));
            continue;
        };
        let key = row.key("report");
        if !seen.insert(key.clone()) || store.idempotent_result(&key).await?.is_some() {
            report.already_imported += 1;
            continue;
        }
        let command = action::Command::ReportProgress(row.report());
        let mut next = state.clone();
        match action::decide(&next, command) {
            Ok(events) => next = events.iter().fold(next, action::apply),
            Err(error) => {
                errors.push(domain_error(row.number, &error, false));
                continue;
            }
        }
        let current = next.action.as_ref().map(|a| a.status);
        let change_status = row.status.filter(|to| Some(*to) != current);
        if let Some(to) = change_status {
            let command = action::Command::ChangeActionStatus(row.status_change(to));
            match action::decide(&next, command) {
                Ok(events) => next = events.iter().fold(next, action::apply),
                Err(error) => {
                    errors.push(domain_error(row.number, &error, true));
                    continue;
                }
            }
        }
        *state = next;
        planned.push(Planned { row, change_status });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ImportError::Rows(errors));
    }
    report.new_rows = planned.len();
    if dry_run {
        return Ok(report);
    }
    let correlation_id = Uuid::new_v4();
    for Planned { row, change_status } in planned {
        let mut commands = vec![("report", action::Command::ReportProgress(row.report()))];
        if let Some(to) = change_status {
            commands.push((
                "status",
                action::Command::ChangeActionStatus(row.status_change(to)),
            ));
        }
        for (name, command) in commands {
            let mut context = CommandContext::new(actor.clone());
            context.idempotency_key = Some(row.key(name));
            context.correlation_id = Some(correlation_id);
            let outcome = execute(store, AnyCommand::Action(command), context).await?;
            report.appended += outcome.appended;
        }
    }
    Ok(report)
}

impl ImportError {
    /// The error for an API client: `VALIDATION` naming the first refused cell as
    /// `csv[row].column` (every refusal is listed in the message), `LIMIT_EXCEEDED`,
    /// `FORBIDDEN`, or the command's own.
    pub fn into_api(self) -> ApiError {
        match self {
            ImportError::Rows(errors) => {
                let field = errors.first().map_or_else(
                    || "csv".to_owned(),
                    |e| format!("csv[{}].{}", e.row, e.column),
                );
                let rule = errors
                    .first()
                    .map_or_else(|| "INVALID_FORMAT".to_owned(), |e| e.rule.clone());
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                ApiError::validation(
                    field,
                    rule,
                    format!("Nothing was imported: {}.", lines.join("; ")),
                )
            }
            ImportError::TooLarge(message) => ApiError::new(Code::LimitExceeded, message),
            ImportError::Forbidden(error) => error,
            ImportError::Command(error) => ApiError::from(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (Vec<Row>, Vec<RowError>) {
        match parse(text) {
            Ok(parsed) => parsed,
            Err(ImportError::Rows(errors)) => (Vec::new(), errors),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn cells_are_checked_and_named_by_row_and_column() {
        let id = Uuid::from_u128(7);
        let text = format!(
            "action,date,progress,note,status\n\
             {id},2026-01-31,40,\"a note, quoted\",in_progress\n\
             not-a-uuid,2026-02-30,150,,finished\n"
        );
        let (rows, errors) = parsed(&text);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].note.as_deref(), Some("a note, quoted"));
        let named: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                (2, "action", "INVALID_FORMAT"),
                (2, "date", "INVALID_FORMAT"),
                (2, "progress", "OUT_OF_RANGE"),
                (2, "status", "INVALID_FORMAT"),
            ]
        );
    }

    #[test]
    fn the_header_is_checked_and_the_key_follows_the_content() {
        let (_, errors) = parsed("action,date,percent\n");
        let named: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(named, [(0, "percent"), (0, "progress")]);
        let id = Uuid::from_u128(7);
        let (a, _) = parsed(&format!("action,date,progress\n{id},2026-01-31,40\n"));
        let (b, _) = parsed(&format!("progress,date,action\n40, 2026-01-31 ,{id}\n"));
        let (c, _) = parsed(&format!("action,date,progress\n{id},2026-01-31,41\n"));
        assert_eq!(a[0].key("report"), b[0].key("report"));
        assert_ne!(a[0].key("report"), c[0].key("report"));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let id = Uuid::from_u128(7);
        let mut text = String::from("action,date,progress\n");
        for _ in 0..=MAX_ROWS {
            text.push_str(&format!("{id},2026-01-31,40\n"));
        }
        assert!(matches!(parse(&text), Err(ImportError::TooLarge(_))));
    }
}
