//! The event store conformance suite, run on SQLite and on PostgreSQL.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::{
    append, disable_append_only_triggers, event, one, raw_execute, raw_i64, raw_text, TestDb,
};
use serde_json::json;
use shura::store::{
    chain_hash, write_line, AppendRequest, AppendResult, BoxFuture, CommitGate, ExpectedVersion,
    Projector, Store, StoreError, StoredEvent, Tx, Upcasters, WriteContext, GENESIS_HASH,
};
use tokio::sync::{oneshot, Barrier};
use uuid::Uuid;

on_both_backends!(
    expected_version_semantics,
    appends_are_atomic_and_validated,
    exact_version_race_has_one_winner_per_version,
    appends_to_distinct_streams_all_succeed,
    a_failing_append_fails_alone_in_a_shared_batch,
    idempotent_retry_returns_the_first_result,
    feed_stops_before_an_open_transaction,
    triggers_reject_update_and_delete,
    verify_detects_a_modified_event,
    verify_detects_a_deleted_event,
    verify_detects_an_inserted_event,
    verify_detects_reordered_events,
    verify_detects_a_removed_tail_and_broken_anchor,
    export_import_round_trip_is_byte_identical,
    arabic_text_round_trips_byte_for_byte,
    old_schema_versions_are_upcast_on_read,
    reads_by_stream_and_by_page,
    commits_are_durable_by_configuration,
    cli_verifies_exports_and_imports,
    a_panic_while_writing_fails_its_batch_and_the_writer_carries_on,
    checkpoints_catch_a_rewritten_history_and_refuse_forgeries,
    progress_hook_gets_a_total_and_advances_to_it,
    cli_progress_is_plain_lines_on_stderr_and_stdout_stays_ndjson,
);

async fn expected_version_semantics(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();

    let first = store
        .append(one(s, ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    assert_eq!((first.first_version, first.last_version), (1, 1));

    let again = store.append(one(s, ExpectedVersion::NoStream, 2)).await;
    assert_conflict(again, ExpectedVersion::NoStream, 1);

    store
        .append(one(s, ExpectedVersion::Exact(1), 2))
        .await
        .unwrap();
    assert_conflict(
        store.append(one(s, ExpectedVersion::Exact(1), 3)).await,
        ExpectedVersion::Exact(1),
        2,
    );
    assert_conflict(
        store.append(one(s, ExpectedVersion::Exact(7), 3)).await,
        ExpectedVersion::Exact(7),
        2,
    );
    let any = store.append(one(s, ExpectedVersion::Any, 3)).await.unwrap();
    assert_eq!(any.last_version, 3);

    // Exact(0) is "no event yet", like NoStream.
    let fresh = Uuid::new_v4();
    store
        .append(one(fresh, ExpectedVersion::Exact(0), 1))
        .await
        .unwrap();

    // Conflicts wrote nothing.
    assert_eq!(store.stream_version(s).await.unwrap(), 3);
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 4);
    assert!(store.verify(&[]).await.unwrap().is_intact());
}

fn assert_conflict(
    result: Result<AppendResult, StoreError>,
    expected: ExpectedVersion,
    actual: i64,
) {
    match result {
        Err(StoreError::Conflict {
            expected: e,
            actual: a,
            ..
        }) => assert_eq!((e, a), (expected, actual)),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn appends_are_atomic_and_validated(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();
    let three = append(
        s,
        ExpectedVersion::NoStream,
        (1..=3).map(|n| event("Noted", json!({ "n": n }))).collect(),
    );
    let result = store.append(three).await.unwrap();
    assert_eq!((result.first_version, result.last_version), (1, 3));
    assert_eq!(result.last_position - result.first_position, 2);

    let cases: Vec<(AppendRequest, &str)> = vec![
        (append(s, ExpectedVersion::Any, vec![]), "events"),
        (
            append(s, ExpectedVersion::Any, vec![event(" ", json!({}))]),
            "events[0].event_type",
        ),
        (
            append(
                s,
                ExpectedVersion::Any,
                vec![event("Noted", json!({})), event("Noted", json!([1, 2]))],
            ),
            "events[1].payload",
        ),
        (
            AppendRequest {
                stream_type: "stakeholder".into(),
                ..one(s, ExpectedVersion::Any, 9)
            },
            "stream_type",
        ),
        (
            AppendRequest {
                context: WriteContext::new(shura::store::Actor::new("", "nobody")),
                ..one(s, ExpectedVersion::Any, 9)
            },
            "actor.id",
        ),
        (one(s, ExpectedVersion::Exact(-1), 9), "expected_version"),
    ];
    for (request, field) in cases {
        match store.append(request).await {
            Err(StoreError::Validation { field: f, rule }) => {
                assert_eq!(f, field);
                assert!(!rule.is_empty());
            }
            other => panic!("{field}: expected a validation error, got {other:?}"),
        }
    }

    // A reused event id fails that append alone, and writes none of its events.
    let first = appended_with_fixed_id(&store).await;
    let other = Uuid::new_v4();
    let two = append(
        other,
        ExpectedVersion::NoStream,
        vec![event("Noted", json!({"fine": true})), first],
    );
    match store.append(two).await {
        Err(StoreError::Validation { field, .. }) => assert_eq!(field, "events[1].event_id"),
        other => panic!("expected a duplicate id error, got {other:?}"),
    }
    assert_eq!(store.stream_version(other).await.unwrap(), 0);
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 4);
    assert!(store.verify(&[]).await.unwrap().is_intact());
}

/// 32 tasks, spread over 4 stores (separate pools and writers, as separate processes would be),
/// race for each version of one stream with `Exact(v)`.
async fn exact_version_race_has_one_winner_per_version(db: &TestDb) {
    const TASKS: usize = 32;
    const ROUNDS: i64 = 6;
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(db.store().await);
    }
    let stream = Uuid::new_v4();
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = stores[task % stores.len()].clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for round in 0..ROUNDS {
                barrier.wait().await;
                let request = one(stream, ExpectedVersion::Exact(round), task as i64);
                outcomes.push((round, store.append(request).await));
                barrier.wait().await;
            }
            outcomes
        }));
    }
    let mut winners = vec![0; ROUNDS as usize];
    let mut successes = 0;
    for handle in handles {
        for (round, outcome) in handle.await.unwrap() {
            match outcome {
                Ok(result) => {
                    assert_eq!(result.last_version, round + 1);
                    winners[round as usize] += 1;
                    successes += 1;
                }
                Err(StoreError::Conflict {
                    expected, actual, ..
                }) => {
                    assert_eq!(expected, ExpectedVersion::Exact(round));
                    assert_eq!(actual, round + 1, "a loser sees the winner's version");
                }
                Err(other) => panic!("a loser must get Conflict, got {other}"),
            }
        }
    }
    assert_eq!(
        winners,
        vec![1; ROUNDS as usize],
        "exactly one winner per version"
    );
    let events = stores[0].read_stream(stream, None).await.unwrap();
    let versions: Vec<i64> = events.iter().map(|e| e.version).collect();
    assert_eq!(
        versions,
        (1..=ROUNDS).collect::<Vec<_>>(),
        "no version duplicated or skipped"
    );
    assert_eq!(events.len(), successes);
    assert_eq!(
        raw_i64(&stores[0], "SELECT COUNT(*) FROM events").await,
        successes as i64
    );
    assert!(stores[0].verify(&[]).await.unwrap().is_intact());
}

async fn appends_to_distinct_streams_all_succeed(db: &TestDb) {
    const TASKS: usize = 32;
    const PER_TASK: i64 = 5;
    let mut stores = Vec::new();
    for _ in 0..2 {
        stores.push(db.store().await);
    }
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = stores[task % stores.len()].clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            let stream = Uuid::new_v4();
            barrier.wait().await;
            let mut positions = Vec::new();
            for n in 0..PER_TASK {
                let result = store
                    .append(one(stream, ExpectedVersion::Exact(n), n))
                    .await
                    .expect("every append to its own stream succeeds");
                assert_eq!(result.last_version, n + 1);
                positions.push(result.last_position);
            }
            positions
        }));
    }
    let mut positions = BTreeSet::new();
    for handle in handles {
        for p in handle.await.unwrap() {
            assert!(positions.insert(p), "position {p} handed out twice");
        }
    }
    let total = TASKS as i64 * PER_TASK;
    assert_eq!(
        positions,
        (1..=total).collect::<BTreeSet<_>>(),
        "positions have no hole"
    );
    let report = stores[1].verify(&[]).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.finding);
    assert_eq!(report.events, total);
    // Group commit: concurrent appends shared transactions (and fsyncs).
    let commits: u64 = stores.iter().map(Store::commits).sum();
    eprintln!("{total} appends in {commits} commits");
    assert!(
        commits < total as u64,
        "{total} appends took {commits} commits"
    );
}

/// Appends an event with an id of its own choosing to a new stream, and returns that event:
/// appending it again reuses its id.
async fn appended_with_fixed_id(store: &Store) -> shura::store::NewEvent {
    let mut first = event("Noted", json!({"first": true}));
    first.event_id = Some(Uuid::new_v4());
    store
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            vec![first.clone()],
        ))
        .await
        .unwrap();
    first
}

/// Starts an append whose transaction stays open, rows written, until the returned sender fires
/// (or is dropped): the append's task, its (uncommitted) result, and that sender.
async fn hold_open(
    store: &Store,
    n: i64,
) -> (
    tokio::task::JoinHandle<Result<AppendResult, StoreError>>,
    AppendResult,
    oneshot::Sender<()>,
) {
    let (written_tx, written_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let store = store.clone();
    let held = tokio::spawn(async move {
        let gate = CommitGate {
            written: written_tx,
            release: release_rx,
        };
        store
            .append_gated(one(Uuid::new_v4(), ExpectedVersion::NoStream, n), gate)
            .await
    });
    let open = written_rx.await.unwrap().unwrap();
    (held, open, release_tx)
}

/// A batch is first written with one insert for all its appends. When one of them cannot be
/// written (its event id is already in the log), the batch is written again one append at a
/// time: that append fails alone, and the others, a same-batch retry included, keep their answers.
async fn a_failing_append_fails_alone_in_a_shared_batch(db: &TestDb) {
    let store = db.store().await;
    let first = appended_with_fixed_id(&store).await;

    // Hold the writer on one append so that the next ones queue up into one batch.
    let (held, _, release_tx) = hold_open(&store, 0).await;
    let keyed = Uuid::new_v4();
    let mut requests = Vec::new();
    for n in 0..12 {
        let request = match n {
            5 => append(
                Uuid::new_v4(),
                ExpectedVersion::NoStream,
                vec![first.clone()],
            ),
            3 | 8 => {
                let mut request = one(keyed, ExpectedVersion::Any, 3);
                request.context = request.context.with_idempotency_key("k-batch");
                request
            }
            _ => one(Uuid::new_v4(), ExpectedVersion::NoStream, n),
        };
        requests.push(request);
    }
    let mut handles = Vec::new();
    for request in requests {
        let store = store.clone();
        handles.push(tokio::spawn(async move { store.append(request).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let commits = store.commits();
    release_tx.send(()).unwrap();
    held.await.unwrap().unwrap();

    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    assert_eq!(
        store.commits(),
        commits + 2,
        "the held append's commit, then one for all the queued appends"
    );
    match &outcomes[5] {
        Err(StoreError::Validation { field, .. }) => assert_eq!(field, "events[0].event_id"),
        other => panic!("expected the reused id to fail, got {other:?}"),
    }
    // The two requests with one key reach the writer in either order: one writes, one replays.
    let (third, eighth) = (outcomes[3].as_ref().unwrap(), outcomes[8].as_ref().unwrap());
    assert_eq!(third.first_position, eighth.first_position);
    assert!(third.replayed != eighth.replayed);
    let mut positions: Vec<i64> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .filter(|result| !result.replayed)
        .map(|result| result.first_position)
        .collect();
    positions.sort_unstable();
    assert_eq!(
        positions,
        (3..=12).collect::<Vec<_>>(),
        "no hole, nothing twice"
    );
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 12);
    assert!(store.verify(&[]).await.unwrap().is_intact());
}

async fn idempotent_retry_returns_the_first_result(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();
    let keyed = |key: &str, n: i64| {
        let mut request = one(s, ExpectedVersion::Any, n);
        request.context = request.context.with_idempotency_key(key);
        request
    };
    let first = store.append(keyed("k-1", 1)).await.unwrap();
    assert!(!first.replayed);
    let retry = store.append(keyed("k-1", 1)).await.unwrap();
    assert!(retry.replayed);
    assert_eq!(
        (retry.first_position, retry.last_version),
        (first.first_position, first.last_version)
    );
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 1);

    // The same key with other content is an error, and writes nothing.
    match store.append(keyed("k-1", 2)).await {
        Err(StoreError::IdempotencyMismatch { key }) => assert_eq!(key, "k-1"),
        other => panic!("expected an idempotency mismatch, got {other:?}"),
    }
    let mut elsewhere = one(Uuid::new_v4(), ExpectedVersion::Any, 1);
    elsewhere.context = elsewhere.context.with_idempotency_key("k-1");
    assert!(matches!(
        store.append(elsewhere).await,
        Err(StoreError::IdempotencyMismatch { .. })
    ));

    // A retry after the stream moved on still answers with the first result, not a conflict.
    let mut late = one(s, ExpectedVersion::Exact(1), 7);
    late.context = late.context.with_idempotency_key("k-late");
    let late_first = store.append(late.clone()).await.unwrap();
    store
        .append(one(s, ExpectedVersion::Exact(2), 5))
        .await
        .unwrap();
    let late_retry = store.append(late).await.unwrap();
    assert!(late_retry.replayed);
    assert_eq!(late_retry.last_position, late_first.last_position);

    // Sixteen clients retrying the same request at once: one write, sixteen equal answers.
    let other_store = db.store().await;
    let mut handles = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 {
            store.clone()
        } else {
            other_store.clone()
        };
        let mut request = one(Uuid::nil(), ExpectedVersion::Any, 42);
        request.stream_id = s;
        request.context = request.context.with_idempotency_key("k-storm");
        handles.push(tokio::spawn(async move { store.append(request).await }));
    }
    let mut answers = HashSet::new();
    for handle in handles {
        let result = handle.await.unwrap().unwrap();
        answers.insert((result.first_position, result.last_version));
    }
    assert_eq!(answers.len(), 1);
    assert_eq!(
        raw_i64(
            &store,
            "SELECT COUNT(*) FROM events WHERE idempotency_key = 'k-storm'"
        )
        .await,
        1
    );
}

/// Holds one append's transaction open with its rows written, then lets later appends (from
/// this store and from another one, as another process would) try to commit. The feed must stop
/// before the open append's position until it commits, and then show everything with no hole.
async fn feed_stops_before_an_open_transaction(db: &TestDb) {
    let store = db.store().await;
    let other = db.store().await;
    for n in 0..3 {
        store
            .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, n))
            .await
            .unwrap();
    }

    let (held, open, release_tx) = hold_open(&store, 99).await;
    assert_eq!(open.first_position, 4, "the open append holds position 4");

    let mut later = Vec::new();
    for n in 0..6 {
        let writer = if n % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        later.push(tokio::spawn(async move {
            writer
                .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, n))
                .await
        }));
    }
    // Give the later appends every chance to commit ahead of the open one.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let reader = db.store().await;
    let seen = reader.read_all(0, 100).await.unwrap();
    let positions: Vec<i64> = seen.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        vec![1, 2, 3],
        "the feed stops before the open transaction"
    );
    assert!(
        later.iter().all(|h| !h.is_finished()),
        "no later append may commit while an earlier position is open"
    );
    // A reader resuming from the last position it saw gets nothing yet, rather than a skip.
    assert!(reader.read_all(3, 100).await.unwrap().is_empty());

    release_tx.send(()).unwrap();
    held.await.unwrap().unwrap();
    for handle in later {
        handle.await.unwrap().unwrap();
    }
    let after: Vec<i64> = reader
        .read_all(3, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(
        after,
        (4..=10).collect::<Vec<_>>(),
        "everything, in order, no hole"
    );
    assert!(reader.verify(&[]).await.unwrap().is_intact());
}

async fn triggers_reject_update_and_delete(db: &TestDb) {
    let store = db.store().await;
    store
        .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    store
        .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, 2))
        .await
        .unwrap();
    let before = raw_text(&store, "SELECT payload FROM events WHERE position = 1").await;

    let mut attacks = vec![
        "UPDATE events SET payload = '{\"n\":666}' WHERE position = 1",
        "UPDATE events SET actor_name = 'someone else'",
        "DELETE FROM events WHERE position = 2",
        "DELETE FROM events",
        "DELETE FROM log_head",
        "UPDATE log_head SET position = 0",
    ];
    if db.backend == common::Backend::Postgres {
        attacks.push("TRUNCATE events");
    }
    for sql in attacks {
        let error = raw_execute(&store, sql).await.expect_err(sql);
        assert!(
            error.to_string().contains("append-only") || error.to_string().contains("log head"),
            "{sql}: {error}"
        );
    }
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 2);
    assert_eq!(
        raw_text(&store, "SELECT payload FROM events WHERE position = 1").await,
        before
    );
    assert!(store.verify(&[]).await.unwrap().is_intact());
}

/// Six events over two streams, then triggers off: the log as an attacker finds it.
async fn tamperable_log(db: &TestDb) -> Store {
    let store = db.store().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for n in 0..3 {
        store
            .append(one(a, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
        store
            .append(one(b, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
    }
    assert!(store.verify(&[]).await.unwrap().is_intact());
    disable_append_only_triggers(&store).await;
    store
}

async fn first_bad_position(store: &Store) -> i64 {
    let report = store.verify(&[]).await.unwrap();
    report
        .finding
        .expect("verify must find the tampering")
        .position
}

async fn verify_detects_a_modified_event(db: &TestDb) {
    let store = tamperable_log(db).await;
    raw_execute(
        &store,
        "UPDATE events SET payload = '{\"n\":7}' WHERE position = 3",
    )
    .await
    .unwrap();
    assert_eq!(first_bad_position(&store).await, 3);

    // Metadata is covered too. The second database is bound to a name: a temporary would
    // delete its SQLite directory at the end of this statement, while the pool still needs it.
    let second = fresh(db).await;
    let store = tamperable_log(&second).await;
    raw_execute(
        &store,
        "UPDATE events SET actor_name = 'Mallory' WHERE position = 5",
    )
    .await
    .unwrap();
    assert_eq!(first_bad_position(&store).await, 5);
}

async fn verify_detects_a_deleted_event(db: &TestDb) {
    let store = tamperable_log(db).await;
    raw_execute(&store, "DELETE FROM events WHERE position = 2")
        .await
        .unwrap();
    let report = store.verify(&[]).await.unwrap();
    let finding = report.finding.unwrap();
    assert_eq!(finding.position, 2);
    assert!(finding.problem.contains("missing"), "{}", finding.problem);
}

async fn verify_detects_an_inserted_event(db: &TestDb) {
    let store = tamperable_log(db).await;
    // A forged event after the last one, copying its neighbour with a made-up hash.
    let forged = Uuid::new_v4();
    let sql = format!(
        "INSERT INTO events (position, stream_id, stream_type, version, event_id, event_type, \
         schema_version, payload, actor_id, actor_name, recorded_at, correlation_id, causation_id, \
         reason, idempotency_key, hash) \
         SELECT 7, stream_id, stream_type, 4, '{forged}', event_type, schema_version, payload, \
         actor_id, actor_name, recorded_at, correlation_id, causation_id, reason, NULL, \
         '{hash}' FROM events WHERE position = 6",
        hash = "ab".repeat(32)
    );
    raw_execute(&store, &sql).await.unwrap();
    assert_eq!(first_bad_position(&store).await, 7);
}

async fn verify_detects_reordered_events(db: &TestDb) {
    let store = tamperable_log(db).await;
    raw_execute(
        &store,
        "UPDATE events SET position = 1000 WHERE position = 3; \
         UPDATE events SET position = 3 WHERE position = 4; \
         UPDATE events SET position = 4 WHERE position = 1000;",
    )
    .await
    .unwrap();
    assert_eq!(first_bad_position(&store).await, 3);
}

async fn verify_detects_a_removed_tail_and_broken_anchor(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();
    for n in 0..4 {
        store
            .append(one(s, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
    }
    let anchor = store.head().await.unwrap();
    assert_eq!(anchor.position, 4);
    assert!(store
        .verify(std::slice::from_ref(&anchor))
        .await
        .unwrap()
        .is_intact());
    disable_append_only_triggers(&store).await;
    raw_execute(&store, "DELETE FROM events WHERE position = 4")
        .await
        .unwrap();
    let finding = store.verify(&[]).await.unwrap().finding.unwrap();
    assert_eq!(finding.position, 4, "{finding}");
    // Even with the head rewritten too, the anchor kept outside the database catches it.
    if db.backend == common::Backend::Postgres {
        raw_execute(&store, "ALTER TABLE log_head DISABLE TRIGGER USER")
            .await
            .unwrap();
    } else {
        raw_execute(&store, "DROP TRIGGER log_head_no_rewind")
            .await
            .unwrap();
    }
    raw_execute(
        &store,
        "UPDATE log_head SET position = 3, hash = (SELECT hash FROM events WHERE position = 3)",
    )
    .await
    .unwrap();
    assert!(
        store.verify(&[]).await.unwrap().is_intact(),
        "a clean cut fools the chain alone"
    );
    let finding = store.verify(&[anchor]).await.unwrap().finding.unwrap();
    assert_eq!(finding.position, 4, "{finding}");
}

/// A second empty database on the same backend.
async fn fresh(db: &TestDb) -> TestDb {
    match db.backend {
        common::Backend::Sqlite => TestDb::sqlite().await,
        common::Backend::Postgres => TestDb::postgres().await.expect("postgres"),
    }
}

async fn export_import_round_trip_is_byte_identical(db: &TestDb) {
    let store = db.store().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut context = WriteContext::new(common::tester()).with_reason("سبب التعديل: تصحيح");
    context.causation_id = Some(Uuid::new_v4());
    context.correlation_id = Some(Uuid::new_v4());
    let mut request = append(
        a,
        ExpectedVersion::NoStream,
        vec![
            event(
                "ConsultationPlanned",
                json!({"title": {"ar": "لقاء تشاوري جهوي", "fr": "Fès"}}),
            ),
            event(
                "Noted",
                json!({"amount": "900000000.00", "nested": {"z": 1, "a": [1.5, null]}}),
            ),
        ],
    );
    request.context = context.with_idempotency_key("import-key");
    store.append(request).await.unwrap();
    for n in 0..5 {
        store
            .append(one(b, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
    }

    let mut first = Vec::new();
    assert_eq!(store.export_ndjson(&mut first, 0).await.unwrap(), 7);

    let target_db = fresh(db).await;
    let target = target_db.store().await;
    assert_eq!(
        target.import_ndjson(&mut first.as_slice()).await.unwrap(),
        7
    );
    let mut second = Vec::new();
    target.export_ndjson(&mut second, 0).await.unwrap();
    assert_eq!(first, second, "export, import, export gives the same bytes");
    assert!(target.verify(&[]).await.unwrap().is_intact());
    assert_eq!(target.head().await.unwrap(), store.head().await.unwrap());
    // The imported log goes on: the next append chains from the imported head.
    target
        .append(one(b, ExpectedVersion::Exact(5), 5))
        .await
        .unwrap();
    assert!(target.verify(&[]).await.unwrap().is_intact());
    // Idempotency keys survive the trip.
    let mut retry = one(Uuid::new_v4(), ExpectedVersion::Any, 0);
    retry.context = retry.context.with_idempotency_key("import-key");
    assert!(matches!(
        target.append(retry).await,
        Err(StoreError::IdempotencyMismatch { .. })
    ));

    // The log's unique indexes hold after an import (PostgreSQL builds them once the rows are
    // in): an imported event's id, and a second first version of an imported stream, are refused.
    let imported: serde_json::Value =
        serde_json::from_slice(first.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let mut reused = event("Noted", json!({"reused": true}));
    reused.event_id = Some(imported["event_id"].as_str().unwrap().parse().unwrap());
    match target
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            vec![reused],
        ))
        .await
    {
        Err(StoreError::Validation { field, .. }) => assert_eq!(field, "events[0].event_id"),
        other => panic!("expected a duplicate id error, got {other:?}"),
    }
    assert!(matches!(
        target.append(one(b, ExpectedVersion::NoStream, 0)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(raw_i64(&target, "SELECT COUNT(*) FROM events").await, 8);

    // Import needs an empty store.
    assert!(matches!(
        target.import_ndjson(&mut first.as_slice()).await,
        Err(StoreError::Validation { .. })
    ));

    // An altered file is refused at the altered line, and nothing of it is written.
    let text = String::from_utf8(first.clone()).unwrap();
    let altered = text.replacen("لقاء تشاوري جهوي", "لقاء آخر", 1);
    let altered_db = fresh(db).await;
    let altered_store = altered_db.store().await;
    match altered_store.import_ndjson(&mut altered.as_bytes()).await {
        Err(StoreError::Import { line, reason }) => {
            assert_eq!(line, 1);
            assert!(reason.contains("hash mismatch"), "{reason}");
        }
        other => panic!("expected the import to be refused, got {other:?}"),
    }
    assert_eq!(
        raw_i64(&altered_store, "SELECT COUNT(*) FROM events").await,
        0
    );

    // A file whose hashes chain but which repeats an event id (refused by the log's unique
    // index, which PostgreSQL builds once the rows are in and SQLite checks with `OR FAIL`), or
    // a stream's version (refused by the chain check), is refused whole: nothing of it is
    // written, and the store can still take a good file.
    for repeated in ["event_id", "version"] {
        let mut rows: Vec<StoredEvent> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        if repeated == "event_id" {
            rows[3].event_id = rows[1].event_id;
        } else {
            rows[3].stream_id = rows[1].stream_id;
            rows[3].version = rows[1].version;
        }
        let (mut file, mut previous) = (Vec::new(), GENESIS_HASH.to_owned());
        for row in rows {
            let mut row = row.encoded();
            row.hash = chain_hash(&previous, &row);
            previous.clone_from(&row.hash);
            write_line(&mut file, &row.decoded().unwrap())
                .await
                .unwrap();
        }
        let refused_db = fresh(db).await;
        let refused = refused_db.store().await;
        assert!(
            refused.import_ndjson(&mut file.as_slice()).await.is_err(),
            "a repeated {repeated} was imported"
        );
        assert_eq!(raw_i64(&refused, "SELECT COUNT(*) FROM events").await, 0);
        assert_eq!(refused.head().await.unwrap().position, 0);
        assert_eq!(
            refused.import_ndjson(&mut first.as_slice()).await.unwrap(),
            7
        );
        refused_db.cleanup().await;
    }

    // Partial export from a position.
    let mut tail = Vec::new();
    assert_eq!(store.export_ndjson(&mut tail, 5).await.unwrap(), 2);
    altered_db.cleanup().await;
    target_db.cleanup().await;
}

async fn arabic_text_round_trips_byte_for_byte(db: &TestDb) {
    let store = db.store().await;
    // Hamza and alef forms, taa marbuta, alef maqsura, tashkeel, tatweel, RTL marks, a
    // decomposed sequence, and Latin with accents: nothing may be normalised.
    let texts = [
        "الإقتصاد الاجتماعي والتضامني",
        "أُطلق مشروعُ المنصّة",
        "مدينة فاس — جهة فاس-مكناس",
        "عـــاجل",
        "\u{200F}نص من اليمين\u{200E} Fès",
        "e\u{301}conomie sociale",
        "مولاي حفيظ العلمي ومحمد السادس",
    ];
    let s = Uuid::new_v4();
    let events = texts
        .iter()
        .map(|t| event("Noted", json!({ "text": t })))
        .collect();
    store
        .append(append(s, ExpectedVersion::NoStream, events))
        .await
        .unwrap();
    let read = store.read_stream(s, None).await.unwrap();
    for (event, text) in read.iter().zip(texts) {
        assert_eq!(
            event.payload["text"].as_str().unwrap().as_bytes(),
            text.as_bytes()
        );
    }
    let stored = raw_text(&store, "SELECT payload FROM events WHERE version = 1").await;
    assert_eq!(stored, format!("{{\"text\":\"{}\"}}", texts[0]));
}

async fn old_schema_versions_are_upcast_on_read(db: &TestDb) {
    // Written by an older release: `PersonRegistered` v1 had one `name` field.
    let old = db.store().await;
    let person = Uuid::new_v4();
    let mut v1 = event("PersonRegistered", json!({"name": "عمر حجيرة"}));
    v1.schema_version = 1;
    let mut request = append(person, ExpectedVersion::NoStream, vec![v1]);
    request.stream_type = "person".into();
    old.append(request).await.unwrap();
    old.close().await;

    // This release reads it as v2, where the name is split by script.
    let current = db
        .store_with(|config| {
            config.upcasters = Upcasters::new().register("PersonRegistered", 1, |mut payload| {
                let name = payload["name"].take();
                Ok(json!({ "name": { "ar": name, "latin": null } }))
            });
        })
        .await;
    let read = current.read_stream(person, None).await.unwrap();
    assert_eq!(read[0].schema_version, 2);
    assert_eq!(
        read[0].payload,
        json!({"name": {"ar": "عمر حجيرة", "latin": null}})
    );
    // The log itself is untouched, and still verifies.
    let stored = current.read_stream_stored(person, None).await.unwrap();
    assert_eq!(stored[0].schema_version, 1);
    assert_eq!(stored[0].payload, json!({"name": "عمر حجيرة"}));
    assert!(current.verify(&[]).await.unwrap().is_intact());

    // New events are written at v2 directly and pass through untouched.
    let mut v2 = event(
        "PersonRegistered",
        json!({"name": {"ar": "رياض مزور", "latin": "Ryad Mezzour"}}),
    );
    v2.schema_version = 2;
    let mut request = append(Uuid::new_v4(), ExpectedVersion::NoStream, vec![v2]);
    request.stream_type = "person".into();
    let result = current.append(request).await.unwrap();
    let page = current
        .read_all(result.first_position - 1, 1)
        .await
        .unwrap();
    assert_eq!(page[0].payload["name"]["latin"], "Ryad Mezzour");
}

async fn reads_by_stream_and_by_page(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();
    for n in 0..5 {
        store
            .append(one(s, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
        store
            .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, n))
            .await
            .unwrap();
    }
    let upto = store.read_stream(s, Some(3)).await.unwrap();
    assert_eq!(
        upto.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(store.read_stream(s, None).await.unwrap().len(), 5);
    assert!(store
        .read_stream(Uuid::new_v4(), None)
        .await
        .unwrap()
        .is_empty());

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 3).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        seen.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    assert!(matches!(
        store.read_all(0, 0).await,
        Err(StoreError::Validation { field, .. }) if field == "limit"
    ));

    let all = store.read_all_stored(0, 100).await.unwrap();
    assert!(all
        .windows(2)
        .all(|w| w[0].metadata.recorded_at <= w[1].metadata.recorded_at));
    assert!(all.iter().all(|e| e.metadata.actor_id == "test"));
    let head = store.head().await.unwrap();
    assert_eq!(
        (head.position, head.hash.as_str()),
        (10, all[9].hash.as_str())
    );
    let mut watch = store.watch_head();
    assert_eq!(*watch.borrow_and_update(), 10);
}

async fn commits_are_durable_by_configuration(db: &TestDb) {
    let store = db.store().await;
    match db.backend {
        common::Backend::Sqlite => {
            assert_eq!(raw_text(&store, "PRAGMA journal_mode").await, "wal");
            assert_eq!(
                raw_i64(&store, "PRAGMA synchronous").await,
                2,
                "synchronous=FULL"
            );
        }
        common::Backend::Postgres => {
            assert_eq!(raw_text(&store, "SHOW synchronous_commit").await, "on");
            assert_eq!(raw_text(&store, "SHOW fsync").await, "on");
        }
    }
}

/// Runs the `shura` binary against `url`.
fn shura(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run shura")
}

async fn cli_verifies_exports_and_imports(db: &TestDb) {
    let store = db.store().await;
    let s = Uuid::new_v4();
    for n in 0..4 {
        store
            .append(one(s, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
    }
    let verified = shura(&db.url, &["verify"]);
    assert!(verified.status.success(), "{verified:?}");
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("intact: 4 events"));

    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.ndjson");
    let second = dir.path().join("second.ndjson");
    let exported = shura(
        &db.url,
        &[
            "export",
            "--format",
            "ndjson",
            "-o",
            first.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{exported:?}");

    let target = fresh(db).await;
    let imported = shura(&target.url, &["import", first.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");
    let again = shura(&target.url, &["export", "-o", second.to_str().unwrap()]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
    assert!(shura(&target.url, &["verify"]).status.success());
    let head = String::from_utf8(shura(&target.url, &["head"]).stdout).unwrap();
    assert!(head.starts_with("4:"), "{head}");

    disable_append_only_triggers(&store).await;
    raw_execute(
        &store,
        "UPDATE events SET reason = 'backdated' WHERE position = 2",
    )
    .await
    .unwrap();
    let tampered = shura(&db.url, &["verify"]);
    assert_eq!(tampered.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&tampered.stdout);
    assert!(stdout.contains("position 2"), "{stdout}");
    // The anchor printed by `head` before the change also fails the tampered log.
    let anchored = shura(&db.url, &["verify", "--anchor", head.trim()]);
    assert_eq!(anchored.status.code(), Some(1));
    target.cleanup().await;
}

/// A projector with a bug: it records each event it projects in `projected`, and panics on
/// events of one type (after recording them, so that the row must go with the rolled-back batch).
#[derive(Debug)]
struct PanicsOn(&'static str);

impl Projector for PanicsOn {
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            for event in events {
                let sql = "INSERT INTO projected (position) VALUES ($1)";
                match &mut *tx {
                    Tx::Sqlite(t) => sqlx::query(sql)
                        .bind(event.position)
                        .execute(&mut **t)
                        .await
                        .map(drop)?,
                    Tx::Postgres(t) => sqlx::query(sql)
                        .bind(event.position)
                        .execute(&mut **t)
                        .await
                        .map(drop)?,
                }
                if event.event_type == self.0 {
                    panic!("projector bug on a {} event", event.event_type);
                }
            }
            Ok(())
        })
    }

    fn reset<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn dump<'a>(&'a self, _tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A panic while a batch is written (here in a projector) fails that batch, writes nothing of
/// it, and leaves the writer running for the next append.
async fn a_panic_while_writing_fails_its_batch_and_the_writer_carries_on(db: &TestDb) {
    let store = db
        .store_with(|config| config.projector = Some(Arc::new(PanicsOn("Poison"))))
        .await;
    raw_execute(&store, "CREATE TABLE projected (position BIGINT NOT NULL)")
        .await
        .unwrap();
    let s = Uuid::new_v4();
    store
        .append(one(s, ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let head = store.head().await.unwrap();

    for _ in 0..2 {
        let poisoned = store
            .append(append(
                s,
                ExpectedVersion::Exact(1),
                vec![
                    event("Noted", json!({"n": 2})),
                    event("Poison", json!({"n": 3})),
                ],
            ))
            .await;
        assert!(
            matches!(poisoned, Err(StoreError::Panicked)),
            "{poisoned:?}"
        );
        assert!(store.writer_alive());
        // Nothing of the batch is written: no event, no projected row, the head unmoved.
        assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, 1);
        assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM projected").await, 1);
        assert_eq!(store.head().await.unwrap(), head);
        assert_eq!(store.stream_version(s).await.unwrap(), 1);
    }

    // The next appends are written, by the same writer, without waiting for anything.
    let next = tokio::time::timeout(
        Duration::from_secs(10),
        store.append(one(s, ExpectedVersion::Exact(1), 2)),
    )
    .await
    .expect("the writer answers after a panic")
    .unwrap();
    assert_eq!((next.last_version, next.last_position), (2, 2));
    let mut handles = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .append(one(Uuid::new_v4(), ExpectedVersion::NoStream, n))
                .await
        }));
    }
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM projected").await, 10);
    assert!(store.verify(&[]).await.unwrap().is_intact());

    // The writer's end is seen: pending while it runs, resolved once it stops.
    assert!(store.writer_alive());
    let stopped = store.writer_stopped();
    tokio::pin!(stopped);
    assert!(
        tokio::time::timeout(Duration::from_millis(50), &mut stopped)
            .await
            .is_err(),
        "the writer is still running"
    );
    store.close().await;
    drop(store);
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the writer stops once every handle is dropped");
}

/// Runs one statement with binds, as someone with direct database access would.
async fn raw_bound(store: &Store, sql: &str, binds: &[&str], position: i64) {
    match store.pool() {
        shura::store::Pool::Sqlite(p) => {
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            query.bind(position).execute(p).await.map(|_| ())
        }
        shura::store::Pool::Postgres(p) => {
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            query.bind(position).execute(p).await.map(|_| ())
        }
    }
    .expect("raw bound statement");
}

async fn checkpoints_catch_a_rewritten_history_and_refuse_forgeries(db: &TestDb) {
    use shura::checkpoint::{self, CheckpointSigner};
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let (key_path, other_path) = (dir.path().join("key"), dir.path().join("other"));
    let public = checkpoint::write_key_pair(&key_path).unwrap();
    let other_public = checkpoint::write_key_pair(&other_path).unwrap();
    let signer = CheckpointSigner::load(&key_path).unwrap();
    let other = CheckpointSigner::load(&other_path).unwrap();
    assert!(matches!(
        checkpoint::make(store.pool(), &signer).await,
        Err(checkpoint::CheckpointError::EmptyLog)
    ));

    let s = Uuid::new_v4();
    let mut made = Vec::new();
    for n in 0..6 {
        store
            .append(one(s, ExpectedVersion::Exact(n), n))
            .await
            .unwrap();
        if [1, 3, 6].contains(&(n + 1)) {
            made.push(checkpoint::make(store.pool(), &signer).await.unwrap());
        }
    }
    assert_eq!(
        made.iter().map(|c| c.position).collect::<Vec<_>>(),
        [1, 3, 6]
    );
    // Stored beside the log, newest first; never events.
    let listed = checkpoint::list(store.pool(), 1_000).await.unwrap();
    assert_eq!(listed, made.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(store.head().await.unwrap().position, 6);
    for c in &made {
        assert_eq!(c.check(&store, &public).await.unwrap(), Ok(()), "{c:?}");
    }

    // Forgeries: an altered signature, another key, another key relabelled with ours, a moved
    // position.
    let good = made[1].clone();
    let mut altered = good.clone();
    let flipped = if altered.signature.starts_with('0') {
        "1"
    } else {
        "0"
    };
    altered.signature.replace_range(0..1, flipped);
    let reason = altered.check(&store, &public).await.unwrap().unwrap_err();
    assert!(reason.contains("does not verify"), "{reason}");
    let foreign = other.sign(good.position, &good.hash, chrono::Utc::now());
    let reason = foreign.check(&store, &public).await.unwrap().unwrap_err();
    assert!(reason.contains("key id"), "{reason}");
    assert_eq!(foreign.check(&store, &other_public).await.unwrap(), Ok(()));
    let mut relabelled = foreign;
    relabelled.key_id = good.key_id.clone();
    let reason = relabelled
        .check(&store, &public)
        .await
        .unwrap()
        .unwrap_err();
    assert!(reason.contains("does not verify"), "{reason}");
    let mut moved = good.clone();
    moved.position = 2;
    assert!(moved.check(&store, &public).await.unwrap().is_err());

    // A rewritten history: position 2's payload changed and every later hash recomputed, the
    // head too, so the chain alone verifies.
    let events = store.read_all_stored(0, 100).await.unwrap();
    let mut sealer = shura::store::Sealer::default();
    disable_append_only_triggers(&store).await;
    if db.backend == common::Backend::Postgres {
        raw_execute(&store, "ALTER TABLE log_head DISABLE TRIGGER USER")
            .await
            .unwrap();
    } else {
        raw_execute(&store, "DROP TRIGGER log_head_no_rewind")
            .await
            .unwrap();
    }
    let mut last_hash = String::new();
    for mut e in events {
        if e.position == 2 {
            e.payload = json!({"n": 1000});
        }
        let e = sealer.seal(e);
        if e.position >= 2 {
            let payload = shura::store::canonical_json(&e.payload);
            raw_bound(
                &store,
                "UPDATE events SET payload = $1, hash = $2 WHERE position = $3",
                &[&payload, &e.hash],
                e.position,
            )
            .await;
        }
        last_hash = e.hash;
    }
    raw_bound(
        &store,
        "UPDATE log_head SET hash = $1 WHERE position = $2",
        &[&last_hash],
        6,
    )
    .await;
    assert!(
        store.verify(&[]).await.unwrap().is_intact(),
        "a rewrite with every hash recomputed fools the chain alone"
    );
    assert_eq!(made[0].check(&store, &public).await.unwrap(), Ok(()));
    for c in &made[1..] {
        let reason = c.check(&store, &public).await.unwrap().unwrap_err();
        assert!(reason.contains("rewritten"), "{reason}");
    }

    // The command line names the refused checkpoints and exits 1.
    let file = dir.path().join("checkpoints.ndjson");
    let lines: Vec<String> = made
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let public_path = checkpoint::public_path(&key_path);
    let args = [
        "verify",
        "--checkpoint",
        file.to_str().unwrap(),
        "--public-key",
        public_path.to_str().unwrap(),
    ];
    let out = shura(&db.url, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("line 1, position 1 "), "{stdout}");
    assert!(!stdout.contains("REFUSED: line 1,"), "{stdout}");
    assert!(stdout.contains("REFUSED: line 2, position 3 "), "{stdout}");
    assert!(stdout.contains("REFUSED: line 3, position 6 "), "{stdout}");
    // Only the honest one: it passes.
    std::fs::write(&file, format!("{}\n", lines[0])).unwrap();
    let out = shura(&db.url, &args);
    assert!(out.status.success(), "{out:?}");
}

/// A progress hook that records what a long operation reports through it.
#[derive(Debug, Default)]
struct Counting {
    totals: std::sync::Mutex<Vec<u64>>,
    done: std::sync::atomic::AtomicU64,
    advances: std::sync::atomic::AtomicU64,
    advanced_before_a_total: std::sync::atomic::AtomicBool,
}

impl shura::store::Progress for Counting {
    fn total(&self, events: u64) {
        self.totals.lock().unwrap().push(events);
    }

    fn advance(&self, events: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.totals.lock().unwrap().is_empty() {
            self.advanced_before_a_total.store(true, SeqCst);
        }
        self.done.fetch_add(events, SeqCst);
        self.advances.fetch_add(1, SeqCst);
    }
}

impl Counting {
    /// Asserts that a total of `events` came first and that the advances summed to it.
    fn assert_reached(&self, what: &str, events: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let totals = self.totals.lock().unwrap().clone();
        assert_eq!(totals, vec![events], "{what}: the totals reported");
        assert_eq!(
            self.done.load(SeqCst),
            events,
            "{what}: advanced to the total"
        );
        assert!(self.advances.load(SeqCst) >= 1, "{what}: advanced at all");
        assert!(
            !self.advanced_before_a_total.load(SeqCst),
            "{what}: the total comes before the first advance"
        );
    }
}

async fn progress_hook_gets_a_total_and_advances_to_it(db: &TestDb) {
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();
    let events = u64::try_from(store.head().await.unwrap().position).unwrap();
    assert!(events > 10, "the seeds make a log worth counting: {events}");

    let progress = Counting::default();
    let mut export = Vec::new();
    let count = store
        .export_ndjson_with_progress(&mut export, 0, &progress)
        .await
        .unwrap();
    assert_eq!(count, events);
    progress.assert_reached("export", events);

    let progress = Counting::default();
    let mut tail = Vec::new();
    store
        .export_ndjson_with_progress(&mut tail, 3, &progress)
        .await
        .unwrap();
    progress.assert_reached("export after 3", events - 3);

    let progress = Counting::default();
    let report = store.verify_with_progress(&[], &progress).await.unwrap();
    assert!(report.is_intact());
    progress.assert_reached("verify", events);

    for keep in [false, true] {
        let progress = Counting::default();
        let report = store
            .rebuild_read_models_with_progress(keep, &progress)
            .await
            .unwrap();
        assert!(report.differences.is_empty(), "{:?}", report.differences);
        progress.assert_reached(&format!("rebuild (keep {keep})"), events);
    }

    let target_db = fresh(db).await;
    let target = target_db.domain_store().await;
    let progress = Counting::default();
    let imported = target
        .import_ndjson_with_progress(&mut export.as_slice(), Some(events), &progress)
        .await
        .unwrap();
    assert_eq!(imported, events);
    progress.assert_reached("import", events);
    target.close().await;
    target_db.cleanup().await;

    // Without the caller's count, import reports its total once it knows it, at the end.
    let target_db = fresh(db).await;
    let target = target_db.store().await;
    let progress = Counting::default();
    target
        .import_ndjson_with_progress(&mut export.as_slice(), None, &progress)
        .await
        .unwrap();
    assert_eq!(*progress.totals.lock().unwrap(), vec![events]);
    assert_eq!(
        progress.done.load(std::sync::atomic::Ordering::SeqCst),
        events
    );
    target.close().await;
    target_db.cleanup().await;
}

/// Runs the `shura` binary against `url` with its info log on, stderr piped (not a terminal).
fn shura_logged(url: &str, args: &[&str]) -> (std::process::Output, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("LOG_FORMAT")
        .output()
        .expect("run shura");
    assert!(out.status.success(), "shura {args:?}: {out:?}");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(
        !stderr.contains('\u{1b}'),
        "shura {args:?}: no escape codes on a pipe: {stderr:?}"
    );
    (out, stderr)
}

async fn cli_progress_is_plain_lines_on_stderr_and_stdout_stays_ndjson(db: &TestDb) {
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();
    let n = store.head().await.unwrap().position;
    store.close().await;
    let has = |stderr: &str, line: &str| {
        assert!(stderr.contains(line), "{line:?} missing from {stderr}");
    };

    let (exported, stderr) = shura_logged(&db.url, &["export"]);
    has(&stderr, &format!("export: 0/{n} events (0%)"));
    has(&stderr, &format!("export: done, {n} events in "));
    let stdout = String::from_utf8(exported.stdout).unwrap();
    let positions: Vec<i64> = stdout
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout is pure NDJSON, not {line:?}: {e}"));
            event["position"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(positions, (1..=n).collect::<Vec<_>>());

    let (_, stderr) = shura_logged(&db.url, &["verify"]);
    has(&stderr, &format!("verify: 0/{n} events (0%)"));
    has(&stderr, &format!("verify: done, {n} events in "));
    has(&stderr, &format!("read models: done, {n} events in "));

    let (_, stderr) = shura_logged(&db.url, &["rebuild"]);
    has(&stderr, &format!("rebuild: 0/{n} events (0%)"));
    has(&stderr, &format!("rebuild: done, {n} events in "));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.ndjson");
    std::fs::write(&file, &stdout).unwrap();
    let target = fresh(db).await;
    let (_, stderr) = shura_logged(&target.url, &["import", file.to_str().unwrap()]);
    has(&stderr, &format!("import: 0/{n} events (0%)"));
    has(&stderr, &format!("import: done, {n} events in "));
    has(&stderr, &format!("rebuild: done, {n} events in "));
    target.cleanup().await;
}
