//! The temporal read model behind `asOf` (`shura::history`): the record as of a position, read
//! through views on row versions, equals a rebuild of the log cut at that position, for any
//! position, while the history follows appends and erasures.

use std::sync::Arc;

use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::history::{Followed, History, WAL_KEPT};
use shura::projections::queries::COUNTED;
use shura::projections::ReadModels;
use shura::store::{Actor, Projector, Store};
use shura::time_travel::Snapshots;
use uuid::Uuid;

use crate::common::{Backend, TestDb};

async fn run(store: &Store, value: Value) {
    let command: AnyCommand = serde_json::from_value(value.clone()).expect("a command");
    execute(
        store,
        command,
        CommandContext::new(Actor::new("tester", "Test directorate")),
    )
    .await
    .unwrap_or_else(|e| panic!("{value}: {e}"));
}

fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("history/{name}").as_bytes())
}

/// Every read-model row, as `verify` compares them.
async fn dump(store: &Store) -> Vec<String> {
    let mut tx = store.pool().begin().await.unwrap();
    let lines = ReadModels.dump(&mut tx).await.unwrap();
    tx.rollback().await.unwrap();
    lines
}

/// The columns of each of the dashboard's narrow histories (`COUNTED`), one sorted list of rows
/// per narrow: from its view (`narrow`, an as-of store), or from its table's rows.
async fn counted(store: &Store, narrow: bool) -> Vec<Vec<String>> {
    let shura::store::Pool::Sqlite(pool) = store.pool() else {
        panic!("a history and its rebuilt cut are SQLite files");
    };
    let mut all = Vec::new();
    for n in COUNTED {
        let row: Vec<String> = n.columns.iter().map(|c| format!("quote({c})")).collect();
        let from = if narrow { n.name } else { n.table };
        let sql = format!("SELECT {} FROM {from}", row.join(" || '|' || "));
        let mut rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap();
        rows.sort();
        all.push(rows);
    }
    all
}

/// The read models, the narrow histories' columns and the head of the log of `source` cut
/// after `position` and rebuilt.
async fn rebuilt_cut(source: &Store, position: i64) -> (Vec<String>, Vec<Vec<String>>, i64) {
    let (store, _fresh) = crate::common::rebuilt_cut(source, position, Backend::Sqlite).await;
    let lines = dump(&store).await;
    let columns = counted(&store, false).await;
    let head = store.head().await.unwrap().position;
    store.close().await;
    (lines, columns, head)
}

/// Positions to compare: both ends, and a sample drawn from a seed printed for a rerun.
fn sample(head: i64, count: usize) -> Vec<i64> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    println!("history sample seed: {seed}");
    let mut state = seed | 1;
    let mut positions = vec![0, 1, head];
    for _ in 0..count {
        // xorshift64: enough to spread the sample.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        positions.push(i64::try_from(state % u64::try_from(head + 1).unwrap()).unwrap());
    }
    positions
}

async fn compare(snapshots: &Arc<Snapshots>, source: &Store, positions: &[i64]) {
    for &position in positions {
        let snapshot = snapshots.at(position).await.unwrap();
        let (want, columns, head) = rebuilt_cut(source, position).await;
        assert_eq!(snapshot.head.position, head);
        let got = dump(&snapshot.store).await;
        assert!(
            got == want,
            "as of {position}: {:?}",
            diff(&got, &want).into_iter().take(6).collect::<Vec<_>>()
        );
        assert_eq!(
            counted(&snapshot.store, true).await,
            columns,
            "the narrow histories as of {position}"
        );
        assert_eq!(snapshot.store.head().await.unwrap().position, position);
    }
}

fn diff(got: &[String], want: &[String]) -> Vec<String> {
    let only_got = got
        .iter()
        .filter(|l| !want.contains(l))
        .map(|l| format!("+ {l}"));
    let only_want = want
        .iter()
        .filter(|l| !got.contains(l))
        .map(|l| format!("- {l}"));
    only_got.chain(only_want).collect()
}

/// The seeds, then a workshop (`c`) in Fès-Meknès.
async fn seeds_and_workshop(db: &TestDb) -> Store {
    let source = db.domain_store().await;
    shura::seeds::apply(&source, &shura::seeds::embedded())
        .await
        .unwrap();
    run(
        &source,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id("c"), "kind": "workshop", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2026, "month": 3}}, "region": "MA-03"}),
    )
    .await;
    source
}

/// Registers the person `name` and makes them the workshop's participant `participant` (of
/// `organisation`, if given) with the address `name@example.ma`: personal data, sealed in the log.
async fn attendee(source: &Store, name: &str, participant: &str, organisation: Option<Uuid>) {
    run(
        source,
        json!({"aggregate": "person", "type": "register_person",
        "person_id": id(name), "name": {"latin": name}}),
    )
    .await;
    run(
        source,
        json!({"aggregate": "consultation", "type": "register_participant",
        "consultation_id": id("c"), "participant_id": id(participant), "person_id": id(name),
        "organisation_id": organisation, "role": "attendee",
        "contact": {"email": format!("{name}@example.ma")}}),
    )
    .await;
}

pub async fn the_history_equals_a_rebuild_of_the_log_cut_at_any_position(db: &TestDb) {
    let source = seeds_and_workshop(db).await;
    // A participant with contact details, changed once: personal data, sealed in the log.
    run(
        &source,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("org"), "name": {"fr": "Direction régionale"},
        "kind": "regional_directorate", "region": "MA-03"}),
    )
    .await;
    attendee(&source, "amina", "p", Some(id("org"))).await;
    run(
        &source,
        json!({"aggregate": "consultation", "type": "change_participant_contact",
        "consultation_id": id("c"), "participant_id": id("p"),
        "contact": {"email": "amina.new@example.ma"}}),
    )
    .await;
    let snapshots = Snapshots::with_history(source.clone(), None);
    let head = source.head().await.unwrap().position;
    compare(&snapshots, &source, &sample(head, 12)).await;
    // The seeds' last events, each position in turn: the states inside one append's events too.
    let last: Vec<i64> = (head.saturating_sub(12)..=head).collect();
    compare(&snapshots, &source, &last).await;
    // The narrow histories (versioned only when their columns change, several rows sharing
    // values) show at every position what the whole rows' versions show.
    for position in 0..=head {
        let snapshot = snapshots.at(position).await.unwrap();
        assert_eq!(
            counted(&snapshot.store, true).await,
            counted(&snapshot.store, false).await,
            "the narrow histories as of {position}"
        );
    }

    // Appends after it started are followed.
    run(
        &source,
        json!({"aggregate": "consultation", "type": "mark_consultation_held",
        "consultation_id": id("c")}),
    )
    .await;
    let moved = source.head().await.unwrap().position;
    assert!(moved > head);
    compare(&snapshots, &source, &[moved, head]).await;
    // The event changed the consultation's row, none of its children, which its projection
    // deletes and inserts again: they keep their versions (one each, not one per event).
    let opened = |table: &'static str| {
        let snapshots = snapshots.clone();
        async move {
            let snapshot = snapshots.at(moved).await.unwrap();
            let shura::store::Pool::Sqlite(pool) = snapshot.store.pool() else {
                panic!("a history is a SQLite file");
            };
            let sql = format!("SELECT COUNT(*) FROM main.h_{table} WHERE valid_from = $1");
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(moved)
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(opened("rm_consultations").await, 1);
    assert_eq!(opened("rm_participants").await, 0, "unchanged participants");

    // An erasure: the history starts anew without the key, and every position, before the
    // erasure too, shows the details as erased, as a rebuild of the log does.
    run(
        &source,
        json!({"aggregate": "person", "type": "erase_contact",
        "person_id": id("amina"), "reason": "request under law 09-08"}),
    )
    .await;
    let erased = source.head().await.unwrap().position;
    compare(&snapshots, &source, &[erased, moved, head]).await;
    let seen = dump(&snapshots.at(moved).await.unwrap().store).await;
    assert!(
        !seen.iter().any(|l| l.contains("@example.ma")),
        "contact details after their erasure"
    );
    source.close().await;
}

/// A history leaves no write-ahead log of a catch-up's size behind (`History::follow` empties
/// it past `WAL_KEPT`; here past nothing), and answers alike after, appends included.
pub async fn a_history_empties_its_write_ahead_log_and_answers_alike(db: &TestDb) {
    let source = seeds_and_workshop(db).await;
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("history.db");
    let history = History::create(&path, false).await.unwrap();
    assert_eq!(history.follow(&source).await.unwrap(), Followed::CaughtUp);
    let wal = || std::fs::metadata(temp.path().join("history.db-wal")).map_or(0, |m| m.len());
    let caught_up = wal();
    assert!(
        caught_up > 0 && caught_up <= WAL_KEPT,
        "the seeds' catch-up leaves a log under WAL_KEPT: {caught_up} bytes"
    );
    assert!(
        !history.settle(caught_up).await.unwrap(),
        "not past the bound"
    );
    assert_eq!(wal(), caught_up);
    assert!(history.settle(0).await.unwrap());
    assert_eq!(wal(), 0, "emptied");
    let head = source.head().await.unwrap().position;
    run(
        &source,
        json!({"aggregate": "consultation", "type": "mark_consultation_held",
        "consultation_id": id("c")}),
    )
    .await;
    assert_eq!(history.follow(&source).await.unwrap(), Followed::CaughtUp);
    let moved = source.head().await.unwrap().position;
    for position in [head, moved, 1] {
        let (want, columns, _) = rebuilt_cut(&source, position).await;
        let as_of = history.at(position).await.unwrap();
        assert_eq!(dump(&as_of.store).await, want, "as of {position}");
        assert_eq!(counted(&as_of.store, true).await, columns);
        as_of.store.close().await;
    }
    drop(history);
    source.close().await;
}

/// The history files in a kept directory.
fn kept_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    names.sort();
    names
}

/// Drops `snapshots` as a process ending does, and waits for its follower to let go of the
/// kept directory's lock (it holds the snapshots for the few milliseconds of a poll).
async fn stop(snapshots: Arc<Snapshots>, dir: &std::path::Path) {
    drop(snapshots);
    let lock = std::fs::File::open(dir.join("lock")).unwrap();
    for _ in 0..200 {
        if lock.try_lock().is_ok() {
            lock.unlock().unwrap();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the history's lock was never let go");
}

pub async fn a_kept_history_is_reopened_after_a_restart_unless_it_may_differ(db: &TestDb) {
    let source = seeds_and_workshop(db).await;
    attendee(&source, "amina", "p", None).await;
    attendee(&source, "karim", "p2", None).await;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("kept");
    let first_head = source.head().await.unwrap().position;
    let snapshots = Snapshots::with_history(source.clone(), Some(dir.clone()));
    compare(&snapshots, &source, &[first_head]).await;
    let made = kept_files(&dir);
    assert_eq!(made.len(), 1, "{made:?}");
    stop(snapshots, &dir).await;
    assert_eq!(
        kept_files(&dir),
        made,
        "the file stays when the process stops"
    );

    // Appends while it is stopped: the next process reopens the same file and follows on.
    run(
        &source,
        json!({"aggregate": "consultation", "type": "mark_consultation_held",
        "consultation_id": id("c")}),
    )
    .await;
    let head = source.head().await.unwrap().position;
    let snapshots = Snapshots::with_history(source.clone(), Some(dir.clone()));
    compare(&snapshots, &source, &[head, first_head, 1]).await;
    assert_eq!(kept_files(&dir), made, "reopened, not made again");
    // Another process on the same directory meanwhile keeps its own history elsewhere.
    let other = Snapshots::with_history(source.clone(), Some(dir.clone()));
    compare(&other, &source, &[head]).await;
    assert_eq!(kept_files(&dir), made);
    drop(other);
    stop(snapshots, &dir).await;

    // Made by another binary (its projections may differ): not reopened.
    {
        let url = format!("sqlite://{}", dir.join(&made[0]).display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE history_made_by SET sha256 = 'another build'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let snapshots = Snapshots::with_history(source.clone(), Some(dir.clone()));
    compare(&snapshots, &source, &[head]).await;
    let remade = kept_files(&dir);
    assert!(remade.len() == 1 && remade != made, "{remade:?}");
    stop(snapshots, &dir).await;

    // An erasure made while it is stopped (another process's, with the history elsewhere than
    // beside the database): the next process does not read the details it holds in clear.
    run(
        &source,
        json!({"aggregate": "person", "type": "erase_contact",
        "person_id": id("amina"), "reason": "request under law 09-08"}),
    )
    .await;
    let erased = source.head().await.unwrap().position;
    let snapshots = Snapshots::with_history(source.clone(), Some(dir.clone()));
    compare(&snapshots, &source, &[erased, head]).await;
    let after = kept_files(&dir);
    assert!(after.len() == 1 && after != remade, "{after:?}");
    let bytes = std::fs::read(dir.join(&after[0])).unwrap();
    assert!(!bytes.windows(16).any(|w| w == b"amina@example.ma"));
    stop(snapshots, &dir).await;

    // A log that does not hold its last event (another database at the same place).
    let other_db = match db.backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await.unwrap(),
    };
    let replaced = other_db.domain_store().await;
    shura::seeds::apply(&replaced, &shura::seeds::embedded())
        .await
        .unwrap();
    let snapshots = Snapshots::with_history(replaced.clone(), Some(dir.clone()));
    let replaced_head = replaced.head().await.unwrap().position;
    compare(&snapshots, &replaced, &[replaced_head]).await;
    let last = kept_files(&dir);
    assert!(last.len() == 1 && last != after, "{last:?}");
    stop(snapshots, &dir).await;
    replaced.close().await;

    // Beside a SQLite database, where an erasure finds it: removed at once, though no process
    // follows it (as `shura erase` does while the service is stopped).
    if let Some(file) = source.database_file().await.unwrap() {
        let beside = shura::history::kept_beside(&file);
        let snapshots = Snapshots::with_history(source.clone(), Some(beside.clone()));
        let head = source.head().await.unwrap().position;
        compare(&snapshots, &source, &[head]).await;
        assert_eq!(kept_files(&beside).len(), 1);
        stop(snapshots, &beside).await;
        run(
            &source,
            json!({"aggregate": "person", "type": "erase_contact",
            "person_id": id("karim"), "reason": "request under law 09-08"}),
        )
        .await;
        assert!(kept_files(&beside).is_empty(), "{:?}", kept_files(&beside));
    }
    source.close().await;
}
