//! The temporal read model behind `asOf` (`shura::history`): the record as of a position, read
//! through views on row versions, equals a rebuild of the log cut at that position, for any
//! position, while the history follows appends and erasures.

use std::sync::Arc;

use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
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

/// The read models and head of the log of `source` cut after `position` and rebuilt.
async fn rebuilt_cut(source: &Store, position: i64) -> (Vec<String>, i64) {
    let (store, _fresh) = crate::common::rebuilt_cut(source, position, Backend::Sqlite).await;
    let lines = dump(&store).await;
    let head = store.head().await.unwrap().position;
    store.close().await;
    (lines, head)
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
        let (want, head) = rebuilt_cut(source, position).await;
        assert_eq!(snapshot.head.position, head);
        let got = dump(&snapshot.store).await;
        assert!(
            got == want,
            "as of {position}: {:?}",
            diff(&got, &want).into_iter().take(6).collect::<Vec<_>>()
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

pub async fn the_history_equals_a_rebuild_of_the_log_cut_at_any_position(db: &TestDb) {
    let source = db.domain_store().await;
    shura::seeds::apply(&source, &shura::seeds::embedded())
        .await
        .unwrap();
    // A participant with contact details, changed once: personal data, sealed in the log.
    run(
        &source,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("org"), "name": {"fr": "Direction régionale"},
        "kind": "regional_directorate", "region": "MA-03"}),
    )
    .await;
    run(
        &source,
        json!({"aggregate": "person", "type": "register_person",
        "person_id": id("amina"), "name": {"latin": "Amina"}}),
    )
    .await;
    run(
        &source,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id("c"), "kind": "workshop", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2026, "month": 3}}, "region": "MA-03"}),
    )
    .await;
    run(
        &source,
        json!({"aggregate": "consultation", "type": "register_participant",
        "consultation_id": id("c"), "participant_id": id("p"), "person_id": id("amina"),
        "organisation_id": id("org"), "role": "attendee",
        "contact": {"email": "amina@example.ma"}}),
    )
    .await;
    run(
        &source,
        json!({"aggregate": "consultation", "type": "change_participant_contact",
        "consultation_id": id("c"), "participant_id": id("p"),
        "contact": {"email": "amina.new@example.ma"}}),
    )
    .await;
    let snapshots = Snapshots::with_history(source.clone());
    let head = source.head().await.unwrap().position;
    compare(&snapshots, &source, &sample(head, 12)).await;
    // The seeds' last events, each position in turn: the states inside one append's events too.
    let last: Vec<i64> = (head.saturating_sub(12)..=head).collect();
    compare(&snapshots, &source, &last).await;

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
