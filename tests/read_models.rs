//! Commands, read models, rebuild, search, time travel and the seeds, on SQLite and PostgreSQL.

mod common;

use chrono::NaiveDate;
use common::{raw_execute, raw_i64, raw_text, TestDb};
use serde_json::{json, Value};
use shura::commands::{
    consultation_state, execute, AnyCommand, CommandContext, CommandError, CommandOutcome,
};
use shura::domain::DomainError;
use shura::projections::queries::{dashboard, search};
use shura::seeds::reference;
use shura::store::{Actor, Store, StoreError};
use uuid::Uuid;

on_both_backends!(
    commands_update_read_models_in_the_same_transaction,
    validation_errors_name_the_field_and_the_rule,
    stale_expected_version_and_idempotent_retry,
    rebuild_reproduces_the_live_read_models_and_repairs_them,
    reads_are_served_during_a_rebuild,
    search_folds_arabic_and_latin_alike,
    state_as_of_a_version_or_a_time,
    seeds_load_every_fact_and_only_once,
);

fn id(name: &str) -> Uuid {
    reference(name)
}

fn command(value: Value) -> AnyCommand {
    serde_json::from_value(value).expect("a well-formed command")
}

fn ctx() -> CommandContext {
    CommandContext::new(Actor::new("tester", "Test directorate"))
}

async fn run(store: &Store, value: Value) -> CommandOutcome {
    execute(store, command(value.clone()), ctx())
        .await
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// An organisation, a person, a planned consultation in Fès-Meknès with a participant, a
/// recommendation, an agreement and a follow-up action.
async fn small_world(store: &Store) {
    run(store, json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("org/dir"), "name": {"ar": "المديرية الجهوية للصناعة والتجارة", "fr": "Direction régionale de l'industrie et du commerce de Fès"},
        "acronym": "DRIC", "kind": "regional_directorate", "region": "MA-03"})).await;
    run(
        store,
        json!({"aggregate": "person", "type": "register_person",
        "person_id": id("person/hejira"), "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id("c/1"), "kind": "regional_consultation",
        "title": {"ar": "لقاء تشاوري حول الإقتصاد الاجتماعي", "fr": "Concertation régionale à Fès"},
        "schedule": {"start": {"year": 2024, "month": 11, "day": 28}},
        "region": "MA-03", "organisers": [id("org/dir")]}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "register_participant",
        "consultation_id": id("c/1"), "participant_id": id("p/1"), "person_id": id("person/hejira"),
        "organisation_id": id("org/dir"), "role": "chair", "attendance": "invited"}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "propose_recommendation",
        "consultation_id": id("c/1"), "recommendation_id": id("r/1"),
        "text": {"ar": "تعزيز الدبلوماسية التجارية"}, "themes": ["export", "diplomacy"]}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "record_agreement",
        "consultation_id": id("c/1"), "agreement_id": id("a/1"),
        "title": {"ar": "اتفاقية إطار"}, "kind": "framework_agreement", "status": "signed",
        "parties": [{"organisation_id": id("org/dir")}],
        "budget": {"amount": "250000000.50", "currency": "MAD"},
        "programme": {"fr": "Programme d'appui"}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "action", "type": "create_action",
        "action_id": id("act/1"), "consultation_id": id("c/1"), "recommendation_ids": [id("r/1")],
        "title": {"ar": "إعداد برنامج عمل"}, "owner_organisation_id": id("org/dir"),
        "due": {"year": 2025, "month": 3}}),
    )
    .await;
}

async fn commands_update_read_models_in_the_same_transaction(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    // Every write is visible to the very next read, with its provenance.
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_consultations").await,
        1
    );
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_participants").await,
        1
    );
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM rm_themes").await, 2);
    let progress = run(
        &store,
        json!({"aggregate": "action", "type": "report_progress",
        "action_id": id("act/1"), "on": "2025-01-15", "progress": 40}),
    )
    .await;
    assert_eq!(progress.version, 2);
    let sql = format!(
        "SELECT position FROM rm_actions WHERE id = '{}'",
        id("act/1")
    );
    assert_eq!(raw_i64(&store, &sql).await, progress.position);
    let sql = format!(
        "SELECT version FROM rm_actions WHERE id = '{}'",
        id("act/1")
    );
    assert_eq!(raw_i64(&store, &sql).await, 2);
    // The participant row keeps the position of the event that registered it, not of later
    // events on the consultation.
    let registered = raw_i64(&store, "SELECT position FROM rm_participants").await;
    let consultation = raw_i64(&store, "SELECT position FROM rm_consultations").await;
    assert!(registered < consultation);
    // An event on one child moves that child's position only, live and after a rebuild (which
    // replays the consultation's events together, not one append at a time).
    let recommendation = raw_i64(&store, "SELECT position FROM rm_recommendations").await;
    let changed = run(
        &store,
        json!({"aggregate": "consultation", "type": "change_participant_role",
        "consultation_id": id("c/1"), "participant_id": id("p/1"), "role": "co_chair"}),
    )
    .await;
    for rebuilt in [false, true] {
        if rebuilt {
            store.rebuild_read_models(true).await.unwrap();
        }
        assert_eq!(
            raw_i64(&store, "SELECT position FROM rm_participants").await,
            changed.position
        );
        assert_eq!(
            raw_i64(&store, "SELECT position FROM rm_recommendations").await,
            recommendation
        );
    }

    let board = dashboard(store.pool(), NaiveDate::from_ymd_opt(2025, 6, 1).unwrap())
        .await
        .unwrap();
    assert_eq!(board.consultations_by_region[0].key, "MA-03");
    assert_eq!(board.consultations_by_month[0].key, "2024-11");
    assert_eq!(
        board
            .recommendations_by_theme
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>(),
        vec!["diplomacy", "export"]
    );
    assert_eq!(
        board.overdue_actions.len(),
        1,
        "due March 2025, 40% on 1 June 2025"
    );
    assert_eq!(board.overdue_actions[0].due_date, "2025-03-31");
    assert_eq!(board.budget.len(), 1);
    assert_eq!(board.budget[0].amount.to_string(), "250000000.5");
    assert_eq!(board.budget[0].region.as_deref(), Some("MA-03"));
    assert_eq!(board.progress.average, 40);
    let early = dashboard(store.pool(), NaiveDate::from_ymd_opt(2025, 3, 31).unwrap())
        .await
        .unwrap();
    assert!(
        early.overdue_actions.is_empty(),
        "not overdue on its last possible day"
    );
}

fn assert_rule(result: Result<CommandOutcome, CommandError>, field: &str, code: &str) {
    match result {
        Err(CommandError::Domain(e @ DomainError::Validation { .. })) => {
            assert_eq!((e.field(), e.code()), (field, code), "{e}");
        }
        other => panic!("expected {field}/{code}, got {other:?}"),
    }
}

async fn validation_errors_name_the_field_and_the_rule(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let before = raw_i64(&store, "SELECT COUNT(*) FROM events").await;
    let cases = [
        (
            json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id("c/2"), "kind": "workshop", "title": {"ar": "  "},
            "schedule": {"start": {"year": 2025}}}),
            "title.ar",
            "REQUIRED",
        ),
        (
            json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id("c/2"), "kind": "workshop", "title": {"fr": "Atelier"},
            "schedule": {"start": {"year": 2025, "month": 5}, "end": {"year": 2025, "month": 4}}}),
            "schedule.end",
            "END_BEFORE_START",
        ),
        (
            json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id("c/2"), "kind": "workshop", "title": {"fr": "Atelier"},
            "schedule": {"start": {"year": 2025}}, "region": "MA-99"}),
            "region",
            "UNKNOWN_REGION",
        ),
        (
            json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id("c/2"), "kind": "workshop", "title": {"fr": "Atelier"},
            "schedule": {"start": {"year": 2025}}, "organisers": [id("org/nobody")]}),
            "organisers[0]",
            "UNKNOWN_REFERENCE",
        ),
        (
            json!({"aggregate": "action", "type": "report_progress", "action_id": id("act/1"),
            "on": "2025-02-01", "progress": 120}),
            "progress",
            "OUT_OF_RANGE",
        ),
        (
            json!({"aggregate": "consultation", "type": "register_participant",
            "consultation_id": id("c/1"), "participant_id": id("p/2"), "person_id": id("person/hejira"),
            "organisation_id": id("org/dir"), "role": "attendee", "attendance": "invited"}),
            "person_id",
            "DUPLICATE",
        ),
        (
            json!({"aggregate": "consultation", "type": "record_attendance",
            "consultation_id": id("c/1"), "participant_id": id("p/404"), "attendance": "attended"}),
            "participant_id",
            "UNKNOWN_REFERENCE",
        ),
    ];
    for (value, field, code) in cases {
        let result = execute(&store, command(value), ctx()).await;
        assert_rule(result, field, code);
    }
    // Closing freezes attendance; cancelling forbids everything.
    run(&store, json!({"aggregate": "consultation", "type": "mark_consultation_held", "consultation_id": id("c/1")})).await;
    run(&store, json!({"aggregate": "consultation", "type": "close_consultation", "consultation_id": id("c/1")})).await;
    let late = execute(
        &store,
        command(
            json!({"aggregate": "consultation", "type": "change_participant_role",
        "consultation_id": id("c/1"), "participant_id": id("p/1"), "role": "co_chair"}),
        ),
        ctx(),
    )
    .await;
    assert!(matches!(late, Err(CommandError::Domain(_))), "{late:?}");
    let after = raw_i64(&store, "SELECT COUNT(*) FROM events").await;
    assert_eq!(after, before + 2, "refused commands append nothing");
}

async fn stale_expected_version_and_idempotent_retry(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let note = |n: &str| {
        command(
            json!({"aggregate": "consultation", "type": "add_context_note",
        "consultation_id": id("c/1"), "note": {"en": n}}),
        )
    };
    let mut stale = ctx();
    stale.expected_version = Some(1);
    match execute(&store, note("late"), stale).await {
        Err(CommandError::Store(StoreError::Conflict { actual, .. })) => assert_eq!(actual, 4),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut keyed = ctx();
    keyed.idempotency_key = Some("note-1".into());
    let first = execute(&store, note("once"), keyed.clone()).await.unwrap();
    assert_eq!(first.appended, 1);
    run(
        &store,
        json!({"aggregate": "consultation", "type": "add_context_note",
        "consultation_id": id("c/1"), "note": {"en": "another"}}),
    )
    .await;
    let retry = execute(&store, note("once"), keyed.clone()).await.unwrap();
    assert!(retry.replayed);
    assert_eq!(
        (retry.version, retry.position),
        (first.version, first.position)
    );
    let other = execute(&store, note("different"), keyed).await;
    assert!(matches!(
        other,
        Err(CommandError::Store(StoreError::IdempotencyMismatch { .. }))
    ));
}

async fn rebuild_reproduces_the_live_read_models_and_repairs_them(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let check = store.rebuild_read_models(false).await.unwrap();
    assert!(check.differences.is_empty(), "{:#?}", check.differences);
    assert_eq!(
        check.events,
        raw_i64(&store, "SELECT COUNT(*) FROM events").await
    );

    raw_execute(&store, "UPDATE rm_consultations SET title = 'forged'")
        .await
        .unwrap();
    raw_execute(&store, "DELETE FROM rm_themes WHERE theme = 'export'")
        .await
        .unwrap();
    let check = store.rebuild_read_models(false).await.unwrap();
    assert_eq!(check.differences.len(), 3, "{:#?}", check.differences);
    assert!(check
        .differences
        .iter()
        .any(|d| d.starts_with("- consultation|") && d.contains("forged")));
    assert!(check
        .differences
        .iter()
        .any(|d| d.starts_with("+ theme|") && d.contains("|export|")));
    // A check changes nothing; a rebuild repairs.
    assert_eq!(
        raw_text(&store, "SELECT title FROM rm_consultations").await,
        "forged"
    );
    store.rebuild_read_models(true).await.unwrap();
    assert!(store
        .rebuild_read_models(false)
        .await
        .unwrap()
        .differences
        .is_empty());
    assert_ne!(
        raw_text(&store, "SELECT title FROM rm_consultations").await,
        "forged"
    );
}

async fn reads_are_served_during_a_rebuild(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    for n in 0..150 {
        run(
            &store,
            json!({"aggregate": "consultation", "type": "add_context_note",
            "consultation_id": id("c/1"), "note": {"en": format!("note {n}")}}),
        )
        .await;
    }
    let reader = db.domain_store().await;
    let rebuild = {
        let store = store.clone();
        tokio::spawn(async move { store.rebuild_read_models(true).await })
    };
    let mut reads = 0;
    while !rebuild.is_finished() || reads < 3 {
        let hits = search(reader.pool(), "الاقتصاد").await.unwrap();
        assert_eq!(
            hits.len(),
            1,
            "readers see the old or the new models, never a gap"
        );
        reads += 1;
    }
    rebuild.await.unwrap().unwrap();
}

async fn search_folds_arabic_and_latin_alike(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let kinds = |hits: Vec<shura::projections::queries::SearchHit>| {
        hits.into_iter().map(|h| (h.kind, h.id)).collect::<Vec<_>>()
    };
    // Hamza on alef: "الاقتصاد" finds "الإقتصاد".
    assert_eq!(
        kinds(search(store.pool(), "الاقتصاد").await.unwrap()),
        vec![("consultation", id("c/1"))]
    );
    // Tashkeel and taa marbuta in the query.
    assert_eq!(
        kinds(search(store.pool(), "الدِّبلوماسيه").await.unwrap()),
        vec![("recommendation", id("r/1"))]
    );
    // Latin, case and accents: "fes" finds "Fès"; every word must match.
    assert_eq!(
        kinds(search(store.pool(), "FES concertation").await.unwrap()),
        vec![("consultation", id("c/1"))]
    );
    assert!(search(store.pool(), "fes rabat").await.unwrap().is_empty());
    // Names, in either script; acronyms.
    assert_eq!(
        kinds(search(store.pool(), "hejira").await.unwrap()),
        vec![("person", id("person/hejira"))]
    );
    assert_eq!(
        kinds(search(store.pool(), "عمر").await.unwrap()),
        vec![("person", id("person/hejira"))]
    );
    assert_eq!(
        kinds(search(store.pool(), "dric").await.unwrap()),
        vec![("organisation", id("org/dir"))]
    );
    // LIKE wildcards in the query are literal.
    assert!(search(store.pool(), "%").await.unwrap().is_empty());
    assert!(search(store.pool(), "_").await.unwrap().is_empty());
}

async fn state_as_of_a_version_or_a_time(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let c = id("c/1");
    let events = store.read_stream(c, None).await.unwrap();
    let planned_at = events[0].metadata.recorded_at;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    run(&store, json!({"aggregate": "consultation", "type": "mark_consultation_held", "consultation_id": c})).await;

    let at_one = consultation_state(&store, c, Some(1)).await.unwrap();
    let first = at_one.consultation.unwrap();
    assert!(first.participants.is_empty() && first.recommendations.is_empty());
    let now = consultation_state(&store, c, None)
        .await
        .unwrap()
        .consultation
        .unwrap();
    assert_eq!(now.participants.len(), 1);
    assert_eq!(shura::projections::rows::tag(&now.status), "held");

    let then = shura::commands::consultation_as_of_time(&store, c, planned_at)
        .await
        .unwrap();
    let then = then.consultation.unwrap();
    assert_eq!(shura::projections::rows::tag(&then.status), "planned");
    let before = planned_at - chrono::Duration::seconds(1);
    let nothing = shura::commands::consultation_as_of_time(&store, c, before)
        .await
        .unwrap();
    assert!(nothing.consultation.is_none());
}

/// Every Arabic string the fact sheets mark as verbatim, and every amount, must be found in the
/// read models after seeding: the seeds lose no fact on the way to what users read.
async fn seeds_load_every_fact_and_only_once(db: &TestDb) {
    let store = db.domain_store().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let files = shura::seeds::read_dir(&dir).unwrap();
    assert_eq!(files.len(), 5, "five seed consultations");
    assert_eq!(
        files,
        shura::seeds::embedded(),
        "the binary carries the seeds/ files"
    );
    let first = shura::seeds::apply(&store, &files).await.unwrap();
    assert!(first.appended > 0);
    let events = raw_i64(&store, "SELECT COUNT(*) FROM events").await;
    let again = shura::seeds::apply(&store, &files).await.unwrap();
    assert_eq!(again.appended, 0, "a second run appends nothing");
    assert_eq!(raw_i64(&store, "SELECT COUNT(*) FROM events").await, events);
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_consultations").await,
        5
    );

    let mut tx = store.pool().begin().await.unwrap();
    let dump = shura::store::Projector::dump(&shura::projections::ReadModels, &mut tx)
        .await
        .unwrap()
        .join("\n");
    drop(tx);
    let mut missing = Vec::new();
    let facts = common::facts::verbatim_facts(&dir.join("facts"));
    assert!(
        facts.len() > 300,
        "the fact sheets list {} facts",
        facts.len()
    );
    for fact in facts {
        if !dump.contains(&fact.text) {
            missing.push(fact);
        }
    }
    assert!(
        missing.is_empty(),
        "facts missing from the read models: {missing:#?}"
    );
    assert!(store
        .rebuild_read_models(false)
        .await
        .unwrap()
        .differences
        .is_empty());
    assert!(store.verify(&[]).await.unwrap().is_intact());
}
