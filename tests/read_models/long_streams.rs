//! Long streams: appends and projections cost the new events, not the stream's length.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::action;
use shura::projections::ReadModels;
use shura::store::{
    Actor, AppendRequest, BoxFuture, ExpectedVersion, NewEvent, Projector, Store, StoreError,
    StoredEvent, Tx, WriteContext,
};
use uuid::Uuid;

use crate::common::{raw_execute, raw_text, TestDb};

/// The read models, counting the events each append hands them.
#[derive(Debug, Default)]
struct Counting {
    events: Arc<AtomicU64>,
}

impl Projector for Counting {
    fn project<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.events.fetch_add(events.len() as u64, Ordering::SeqCst);
        ReadModels.project(tx, events)
    }

    fn reset<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        ReadModels.reset(tx)
    }

    fn dump<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        ReadModels.dump(tx)
    }

    fn rebuilt<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        ReadModels.rebuilt(tx)
    }
}

fn actor() -> Actor {
    Actor::new("tester", "Test directorate")
}

async fn run(store: &Store, value: Value) {
    let command: AnyCommand = serde_json::from_value(value.clone()).expect("a command");
    execute(store, command, CommandContext::new(actor()))
        .await
        .unwrap_or_else(|e| panic!("{value}: {e}"));
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2001, 1, 1)
        .and_then(|d| d.checked_add_days(chrono::Days::new(n)))
        .expect("a day")
}

/// A new action of `organisation` on `consultation`, its stream filled to `events` events with
/// monthly-style progress reports appended in one batch.
async fn action_of(store: &Store, organisation: Uuid, consultation: Uuid, events: u64) -> Uuid {
    let id = Uuid::new_v4();
    run(
        store,
        json!({"aggregate": "action", "type": "create_action", "action_id": id,
            "consultation_id": consultation, "title": {"ar": "متابعة البرنامج", "fr": "Suivi du programme"},
            "owner_organisation_id": organisation, "due": {"year": 2040}}),
    )
    .await;
    let reports: Vec<NewEvent> = (1..events)
        .map(|n| {
            let event = action::Event::ProgressReported {
                on: day(n),
                progress: u8::try_from(n % 90).expect("under 90"),
                note: Some(
                    serde_json::from_value(json!({"fr": format!("rapport {n}")})).expect("a text"),
                ),
                reason: Some("revue".to_owned()),
            };
            NewEvent {
                event_id: None,
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                payload: event.to_payload(),
            }
        })
        .collect();
    if !reports.is_empty() {
        store
            .append(AppendRequest {
                stream_id: id,
                stream_type: action::STREAM_TYPE.to_owned(),
                expected: ExpectedVersion::Exact(1),
                events: reports,
                context: WriteContext::new(actor()),
            })
            .await
            .expect("the reports are appended");
    }
    id
}

fn report(id: Uuid, on: u64) -> Value {
    json!({"aggregate": "action", "type": "report_progress", "action_id": id,
        "on": day(on), "progress": 95, "note": {"ar": "تقرير شهري"}})
}

/// The projector updates an action's row from the row it wrote before and the events of the
/// append, never from the whole stream: each command hands it one event, on a stream of 10 as on
/// one of 2,000; a change made to the stored row (which a fold of the whole stream would undo)
/// is carried on by the next append; and the rows so kept equal a fresh rebuild of the log.
pub async fn a_long_stream_is_projected_from_its_previous_rows(db: &TestDb) {
    let handed = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        events: handed.clone(),
    };
    let store = db
        .store_with(|config| config.projector = Some(Arc::new(counting)))
        .await;
    let (organisation, consultation) = (Uuid::new_v4(), Uuid::new_v4());
    run(
        &store,
        json!({"aggregate": "organisation", "type": "register_organisation",
            "organisation_id": organisation, "name": {"fr": "Direction régionale"},
            "kind": "regional_directorate", "region": "MA-03"}),
    )
    .await;
    run(
        &store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": consultation, "kind": "regional_consultation",
            "title": {"fr": "Concertation"}, "schedule": {"start": {"year": 2024, "month": 11}},
            "region": "MA-03"}),
    )
    .await;
    let short = action_of(&store, organisation, consultation, 10).await;
    let long = action_of(&store, organisation, consultation, 2_000).await;

    // One command, one event handed to the projector, whatever the stream's length.
    for (id, length) in [(short, 10), (long, 2_000)] {
        for n in 0..3 {
            let before = handed.load(Ordering::SeqCst);
            run(&store, report(id, 5_000 + n)).await;
            assert_eq!(
                handed.load(Ordering::SeqCst) - before,
                1,
                "a command on a stream of {length} events"
            );
        }
    }
    let version = |id: Uuid| {
        let store = store.clone();
        async move {
            raw_text(
                &store,
                &format!("SELECT CAST(version AS TEXT) FROM rm_actions WHERE id = '{id}'"),
            )
            .await
        }
    };
    assert_eq!(version(long).await, "2003");
    assert_eq!(version(short).await, "13");

    // The rows kept append by append are the rows a replay of the whole log writes.
    let fresh = store.rebuild_read_models(true).await.expect("rebuild");
    assert!(fresh.differences.is_empty(), "{:?}", fresh.differences);

    // The next append starts from the stored row: a change made to it survives the append
    // (a projector folding the whole stream would have undone it)...
    raw_execute(
        &store,
        &format!(
            "UPDATE rm_actions SET doc = replace(doc, 'Suivi du programme', 'Suivi retouché') \
             WHERE id = '{long}'"
        ),
    )
    .await
    .expect("the row is changed behind the projector's back");
    run(&store, report(long, 6_000)).await;
    let doc = raw_text(
        &store,
        &format!("SELECT doc FROM rm_actions WHERE id = '{long}'"),
    )
    .await;
    assert!(
        doc.contains("Suivi retouché"),
        "the row was rebuilt from the stream"
    );
    // The action's own row does not grow with its reports: it holds the latest only, and
    // each report is a row of its own, written once by the event that recorded it.
    assert!(
        !doc.contains("rapport 1"),
        "the action's document holds its old reports"
    );
    assert!(
        doc.contains(&day(6_000).to_string()),
        "the latest report is not the action's"
    );
    let newest = raw_text(
        &store,
        &format!(
            "SELECT doc FROM rm_progress_reports WHERE action_id = '{long}' \
             ORDER BY position DESC LIMIT 1"
        ),
    )
    .await;
    assert!(
        newest.contains(&day(6_000).to_string()),
        "the new report is not the action's last: {newest}"
    );
    assert_eq!(
        raw_text(
            &store,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM rm_progress_reports WHERE action_id = '{long}'"
            ),
        )
        .await,
        "2003",
        "1,999 reports appended at once, three and one more by commands"
    );
    assert_eq!(version(long).await, "2004");
    // ...which is why `verify` compares the rows with a replay: it finds the change, and the
    // replay repairs it.
    let repaired = store.rebuild_read_models(true).await.expect("rebuild");
    assert!(
        repaired
            .differences
            .iter()
            .any(|d| d.contains("Suivi retouché")),
        "{:?}",
        repaired.differences
    );
    let again = store.rebuild_read_models(true).await.expect("rebuild");
    assert!(again.differences.is_empty(), "{:?}", again.differences);
    store.close().await;
}
