//! A temporal store: a SQLite store whose read models also keep every version of every row, with
//! the log positions between which it held, so that the whole record as of any position is a
//! set of views away (see [`crate::history`]).
//!
//! For each read-model table `t`, [`install`] adds `h_t`: the same columns, plus the row's
//! `rowid` in `t` and `valid_from`/`valid_to` (a version holds at positions `valid_from <= P <
//! valid_to`, `valid_to` NULL while it is current). Triggers on `t` write the versions: an insert
//! opens one (or reopens the same row's version closed at the same position: a row deleted and
//! inserted again unchanged did not change), an update that changes a column closes the current
//! one and opens the next, a delete closes it, each at the position of the one-row
//! `temporal_cursor`, which the projector moves to each event's
//! position before projecting it. A word index `t_words` gets its twin over the versions,
//! `h_t_words`, kept by triggers on `h_t`. A [`Narrow`] (some columns of `t`, named `n`) gets
//! `h_n` in the same way, whose versions change only when those columns do: a statement that
//! reads them alone through the view `n` reads a few versions per row, where `h_t` holds one
//! per change of any column (a consultation's document changes at each of its events). Nothing
//! here is written by hand per table: columns, types, indexes and word indexes are read from
//! SQLite's catalogue, so a migration that adds a column is followed.
//!
//! A connection opened with [`open_as_of`] then creates temporary views named like the tables
//! (`t`, `t_words`, `events`, `log_head`) that show what held at one position. SQLite resolves
//! an unqualified name in the `temp` schema first, so every read of the read models runs
//! unchanged and reads the past. The statements are written once, at [`install`], into
//! `temporal_views`.
//!
//! The DDL is assembled from catalogue names (quoted), never from input.

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Row, SqlitePool};

use super::{StoreError, Tx};

/// The one-row table whose position the triggers stamp versions with.
const CURSOR: &str = "temporal_cursor";

/// A catalogue name quoted as an SQL identifier.
pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A failure of the catalogue to look as [`install`] expects.
fn unexpected(what: String) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("temporal store: {what}")))
}

/// One column of a table: its name and declared type.
struct Column {
    name: String,
    declared: String,
}

async fn columns(c: &mut SqliteConnection, table: &str) -> Result<Vec<Column>, StoreError> {
    const SQL: &str = "SELECT name, type FROM pragma_table_info($1) ORDER BY cid";
    let rows = sqlx::query(SQL).bind(table).fetch_all(&mut *c).await?;
    let columns: Vec<Column> = rows
        .iter()
        .map(|r| Column {
            name: r.get::<String, _>(0),
            declared: r.get::<String, _>(1),
        })
        .collect();
    if columns.is_empty() {
        return Err(unexpected(format!("no table {table}")));
    }
    for c in &columns {
        // Declared types are our migrations' (`TEXT`, `BIGINT`, `NUMERIC(10, 2)`...).
        if !c
            .declared
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || " _(),".contains(ch))
        {
            return Err(unexpected(format!(
                "{table}.{}: unexpected type {}",
                c.name, c.declared
            )));
        }
    }
    Ok(columns)
}

/// The part of `sql` inside the parenthesis that opens at byte `open`, and what follows it.
fn parenthesised(sql: &str, open: usize) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, ch) in sql.char_indices().skip_while(|(i, _)| *i < open) {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some((sql.get(open + 1..i)?, sql.get(i + 1..)?));
                }
            }
            _ => {}
        }
    }
    None
}

/// The table `history` of the versions of the columns `cols` of the table `t` (quoted; all of
/// its columns or some), and the triggers on `t` that write them, each named after it.
fn versioning(t: &str, history: &str, cols: &[&Column]) -> Vec<String> {
    let h = quoted(history);
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("{} {}", quoted(&c.name), c.declared))
        .collect();
    let names: Vec<String> = cols.iter().map(|c| quoted(&c.name)).collect();
    let cursor = format!("(SELECT position FROM {CURSOR})");
    let news: Vec<String> = names.iter().map(|n| format!("NEW.{n}")).collect();
    let open = format!(
        "INSERT INTO {h} ({}, row_id, valid_from) VALUES ({}, NEW.rowid, {cursor});",
        names.join(", "),
        news.join(", ")
    );
    // A version opened and closed at the same position never held: it goes.
    let close = format!(
        "DELETE FROM {h} WHERE row_id = OLD.rowid AND valid_to IS NULL \
         AND valid_from = {cursor}; \
         UPDATE {h} SET valid_to = {cursor} WHERE row_id = OLD.rowid AND valid_to IS NULL;"
    );
    // A projector replaces a consultation's children (deletes them all, inserts them
    // again) on each of its events: a row inserted just as a version closed at the same
    // position held it is that version still, reopened, not a new one (the history would
    // otherwise hold every child again at every event, and index its words again). Versions of
    // some columns only may reopen another row's version with the same values: what held at
    // each position, the rows' values, is the same.
    let same: Vec<String> = names.iter().map(|n| format!("v.{n} IS NEW.{n}")).collect();
    let reopen = format!(
        "UPDATE {h} SET valid_to = NULL, row_id = NEW.rowid WHERE rowid = \
         (SELECT v.rowid FROM {h} AS v WHERE v.valid_to = {cursor} AND {} LIMIT 1);",
        same.join(" AND ")
    );
    let open_unless_reopened = format!(
        "INSERT INTO {h} ({}, row_id, valid_from) SELECT {}, NEW.rowid, {cursor} \
         WHERE NOT EXISTS (SELECT 1 FROM {h} WHERE row_id = NEW.rowid AND valid_to IS NULL);",
        names.join(", "),
        news.join(", ")
    );
    // A projector rewrites rows with what they held already (a consultation's
    // participants, on each of its events): no new version for them.
    let changed: Vec<String> = names
        .iter()
        .map(|n| format!("OLD.{n} IS NOT NEW.{n}"))
        .collect();
    vec![
        format!(
            "CREATE TABLE {h} ({}, row_id INTEGER NOT NULL, valid_from INTEGER NOT NULL, \
             valid_to INTEGER)",
            defs.join(", ")
        ),
        format!(
            "CREATE INDEX {} ON {h} (row_id) WHERE valid_to IS NULL",
            quoted(&format!("{history}_current"))
        ),
        format!(
            "CREATE TRIGGER {} AFTER INSERT ON {t} BEGIN {reopen} {open_unless_reopened} END",
            quoted(&format!("{history}_insert"))
        ),
        format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {t} WHEN OLD.rowid IS NOT NEW.rowid OR {} \
             BEGIN {close} {open} END",
            quoted(&format!("{history}_update")),
            changed.join(" OR ")
        ),
        format!(
            "CREATE TRIGGER {} AFTER DELETE ON {t} BEGIN {close} END",
            quoted(&format!("{history}_delete"))
        ),
    ]
}

/// The filter of the versions that held at the as-of position.
const HELD: &str = "h.valid_from <= (SELECT position FROM temp.as_of) \
    AND (h.valid_to IS NULL OR h.valid_to > (SELECT position FROM temp.as_of))";

/// Some columns of a read-model table, versioned on their own in a temporal store (see the
/// module's doc), and read as of a position by the view `name`. Declared by the read models
/// for their statements that read those columns alone (the dashboard's counts).
#[derive(Debug, Clone, Copy)]
pub struct Narrow {
    /// The view an as-of connection reads them by (only there: the live store has none).
    pub name: &'static str,
    /// The table.
    pub table: &'static str,
    /// Its columns, in the order of the versions' index.
    pub columns: &'static [&'static str],
}

/// Adds the history of every table of `tables` and of every [`Narrow`] of `narrows` to the
/// SQLite database of `pool` (a new store's: its tables must be empty), and the statements of
/// its views. Idempotent: a store installed already is left as it is.
pub async fn install(
    pool: &SqlitePool,
    tables: &[&str],
    narrows: &[Narrow],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let c = &mut *tx;
    let done: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1")
            .bind(CURSOR)
            .fetch_optional(&mut *c)
            .await?;
    if done.is_some() {
        return Ok(());
    }
    let mut ddl: Vec<String> = vec![
        format!("CREATE TABLE {CURSOR} (position INTEGER NOT NULL)"),
        format!("INSERT INTO {CURSOR} (position) VALUES (0)"),
        "CREATE TABLE temporal_views (seq INTEGER PRIMARY KEY, sql TEXT NOT NULL)".to_owned(),
    ];
    let mut views: Vec<String> = Vec::new();
    for &table in tables {
        let t = quoted(table);
        let history_name = format!("h_{table}");
        let h = quoted(&history_name);
        let cols = columns(c, table).await?;
        let names: Vec<String> = cols.iter().map(|c| quoted(&c.name)).collect();
        ddl.extend(versioning(
            &t,
            &history_name,
            &cols.iter().collect::<Vec<_>>(),
        ));
        // The table's indexes on its versions, with the validity appended (read by the views'
        // filters without visiting the rows); its key's too (SQLite's own indexes have no SQL).
        let indexes = sqlx::query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
             ORDER BY name",
        )
        .bind(table)
        .fetch_all(&mut *c)
        .await?;
        for index in &indexes {
            let name: String = index.get(0);
            let sql: Option<String> = index.get(1);
            let (list, rest) = match &sql {
                Some(sql) => {
                    let on = sql
                        .find(&format!(" ON {table}"))
                        .ok_or_else(|| unexpected(format!("index {name}: {sql}")))?;
                    let open = sql[on..]
                        .find('(')
                        .map(|i| i + on)
                        .ok_or_else(|| unexpected(format!("index {name}: {sql}")))?;
                    let (list, rest) = parenthesised(sql, open)
                        .ok_or_else(|| unexpected(format!("index {name}: {sql}")))?;
                    (list.to_owned(), rest.to_owned())
                }
                None => {
                    let keys: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                            .bind(&name)
                            .fetch_all(&mut *c)
                            .await?;
                    let keys: Vec<String> = keys.iter().map(|k| quoted(k)).collect();
                    (keys.join(", "), String::new())
                }
            };
            ddl.push(format!(
                "CREATE INDEX {} ON {h} ({list}, valid_from, valid_to){rest}",
                quoted(&format!("h_{name}"))
            ));
        }
        views.push(format!(
            "CREATE TEMP VIEW {t} AS SELECT h.rowid AS rowid, {} FROM main.{h} AS h WHERE {HELD}",
            names
                .iter()
                .map(|n| format!("h.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // Its word index, if it has one: the live one's triggers go (nothing reads it here),
        // and a twin indexes every version.
        let words_name = format!("{table}_words");
        let words: Option<String> =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(&words_name)
                .fetch_optional(&mut *c)
                .await?;
        if let Some(words_sql) = words {
            let triggers: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1 \
                 AND sql LIKE '%' || $2 || '%'",
            )
            .bind(table)
            .bind(&words_name)
            .fetch_all(&mut *c)
            .await?;
            for trigger in triggers {
                ddl.push(format!("DROP TRIGGER {}", quoted(&trigger)));
            }
            let using = words_sql
                .find(" USING ")
                .ok_or_else(|| unexpected(format!("word index {words_name}: {words_sql}")))?;
            let history_words = format!("h_{words_name}");
            ddl.push(format!(
                "CREATE VIRTUAL TABLE {}{}",
                quoted(&history_words),
                &words_sql[using..]
            ));
            let indexed: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&words_name)
                    .fetch_all(&mut *c)
                    .await?;
            let indexed: Vec<String> = indexed.iter().map(|n| quoted(n)).collect();
            let hw = quoted(&history_words);
            ddl.push(format!(
                "CREATE TRIGGER {} AFTER INSERT ON {h} BEGIN INSERT INTO {hw} (rowid, {}) \
                 VALUES (NEW.rowid, {}); END",
                quoted(&format!("{history_words}_insert")),
                indexed.join(", "),
                indexed
                    .iter()
                    .map(|n| format!("NEW.{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            ddl.push(format!(
                "CREATE TRIGGER {} AFTER DELETE ON {h} BEGIN DELETE FROM {hw} \
                 WHERE rowid = OLD.rowid; END",
                quoted(&format!("{history_words}_delete"))
            ));
            // `t_words MATCH ...` on the view is `h_t_words MATCH ...` on the twin (SQLite
            // flattens the view), restricted to the versions that held.
            views.push(format!(
                "CREATE TEMP VIEW {} AS SELECT w.rowid AS rowid, w.{hw} AS {} \
                 FROM main.{hw} AS w JOIN main.{h} AS h ON h.rowid = w.rowid WHERE {HELD}",
                quoted(&words_name),
                quoted(&words_name),
            ));
        }
    }
    // Some columns of a table, versioned on their own: a version only when one of them
    // changes, so that a statement reading them alone reads a few versions per row, not one
    // per change of the row's other columns.
    for narrow in narrows {
        let t = quoted(narrow.table);
        let history_name = format!("h_{}", narrow.name);
        let h = quoted(&history_name);
        let all = columns(c, narrow.table).await?;
        let cols = narrow
            .columns
            .iter()
            .map(|name| {
                all.iter().find(|c| c.name == *name).ok_or_else(|| {
                    unexpected(format!(
                        "{}: no column {name} in {}",
                        narrow.name, narrow.table
                    ))
                })
            })
            .collect::<Result<Vec<&Column>, StoreError>>()?;
        ddl.extend(versioning(&t, &history_name, &cols));
        let names: Vec<String> = cols.iter().map(|c| quoted(&c.name)).collect();
        // What the insert trigger's reopening looks for: the versions closed at the cursor
        // with the same values (several rows may share them). Closed versions only, so that
        // the view's readers scan the versions (as narrow as this index) rather than look each
        // one up from here.
        ddl.push(format!(
            "CREATE INDEX {} ON {h} (valid_to, {}) WHERE valid_to IS NOT NULL",
            quoted(&format!("{history_name}_closed")),
            names.join(", ")
        ));
        // What the view's readers read, alone, in the columns' order.
        ddl.push(format!(
            "CREATE INDEX {} ON {h} ({}, valid_from, valid_to)",
            quoted(&format!("{history_name}_read")),
            names.join(", ")
        ));
        views.push(format!(
            "CREATE TEMP VIEW {} AS SELECT {} FROM main.{h} AS h WHERE {HELD}",
            quoted(narrow.name),
            names
                .iter()
                .map(|n| format!("h.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // The log as it stood: its events up to the position, and its head there.
    views.push(
        "CREATE TEMP VIEW events AS SELECT * FROM main.events \
         WHERE position <= (SELECT position FROM temp.as_of)"
            .to_owned(),
    );
    views.push(format!(
        "CREATE TEMP VIEW log_head AS SELECT 1 AS id, a.position AS position, \
         COALESCE(e.hash, '{}') AS hash, e.recorded_at AS recorded_at \
         FROM temp.as_of AS a LEFT JOIN main.events AS e ON e.position = a.position",
        super::GENESIS_HASH
    ));
    for statement in &ddl {
        sqlx::query(statement).execute(&mut *c).await?;
    }
    for (seq, view) in views.iter().enumerate() {
        sqlx::query("INSERT INTO temporal_views (seq, sql) VALUES ($1, $2)")
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(view)
            .execute(&mut *c)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Moves the position the next versions are stamped with (inside the projection's transaction).
pub async fn set_cursor(tx: &mut Tx, position: i64) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE temporal_cursor SET position = $1";
    if let Tx::Sqlite(c) = tx {
        sqlx::query(SQL).bind(position).execute(&mut **c).await?;
    }
    Ok(())
}

/// Makes a connection to a temporal store show the record as it stood after `position`: its
/// temporary views shadow the read models, the log and its head (see the module's doc).
pub async fn open_as_of(c: &mut SqliteConnection, position: i64) -> Result<(), StoreError> {
    let views: Vec<String> = sqlx::query_scalar("SELECT sql FROM main.temporal_views ORDER BY seq")
        .fetch_all(&mut *c)
        .await?;
    let mut tx = c.begin().await?;
    sqlx::query("CREATE TEMP TABLE as_of (position INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO temp.as_of (position) VALUES ($1)")
        .bind(position)
        .execute(&mut *tx)
        .await?;
    for view in &views {
        sqlx::query(view).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_column_list_is_found_with_nested_parentheses_and_quotes() {
        let sql = "CREATE INDEX o ON rm_c (COALESCE(start_date, ')'), id) WHERE s NOT IN ('a')";
        let open = sql.find('(').unwrap();
        assert_eq!(
            parenthesised(sql, open),
            Some(("COALESCE(start_date, ')'), id", " WHERE s NOT IN ('a')"))
        );
        assert_eq!(parenthesised("x (a", 2), None);
    }

    #[test]
    fn names_are_quoted_as_identifiers() {
        assert_eq!(quoted("rm_x"), "\"rm_x\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
