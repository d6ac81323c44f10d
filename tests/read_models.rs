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
    money_out_of_range_or_too_precise_is_refused,
    budget_totals_are_exact_beyond_64_bit_minor_units,
    arbitrary_valid_budgets_add_up_on_the_dashboard,
    control_characters_and_blank_metadata_are_the_same_validation_on_both_backends,
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

/// A `record_agreement` command on `c/1`: a signed framework agreement with this budget.
fn agreement_with_budget(agreement: Uuid, amount: &str, currency: &str) -> Value {
    json!({"aggregate": "consultation", "type": "record_agreement",
        "consultation_id": id("c/1"), "agreement_id": agreement,
        "title": {"fr": "Convention"}, "kind": "framework_agreement", "status": "signed",
        "budget": {"amount": amount, "currency": currency}})
}

/// Amounts have a documented range (0 to 10^15) and at most the currency's minor-unit digits:
/// anything else is a VALIDATION error naming the amount, and nothing is written.
async fn money_out_of_range_or_too_precise_is_refused(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let before = raw_i64(&store, "SELECT COUNT(*) FROM events").await;
    let cases = [
        ("800000000000000000000000000", "MAD", "OUT_OF_RANGE"),
        ("50000000000000000", "MAD", "OUT_OF_RANGE"),
        ("92233720368547759", "MAD", "OUT_OF_RANGE"),
        ("1000000000000000.01", "MAD", "OUT_OF_RANGE"),
        ("12.345", "MAD", "TOO_MANY_DECIMALS"),
        ("12.5", "JPY", "TOO_MANY_DECIMALS"),
        ("1.2345", "TND", "TOO_MANY_DECIMALS"),
        ("-0.01", "MAD", "NEGATIVE_AMOUNT"),
    ];
    for (amount, currency, code) in cases {
        let recorded = agreement_with_budget(Uuid::new_v4(), amount, currency);
        assert_rule(
            execute(&store, command(recorded), ctx()).await,
            "budget.amount",
            code,
        );
        let revised = json!({"aggregate": "consultation", "type": "revise_agreement_budget",
            "consultation_id": id("c/1"), "agreement_id": id("a/1"), "reason": "Revision",
            "budget": {"amount": amount, "currency": currency}});
        assert_rule(
            execute(&store, command(revised), ctx()).await,
            "budget.amount",
            code,
        );
    }
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM events").await,
        before,
        "refused amounts append nothing"
    );
    // The largest amount, and trailing zeros, are accepted; the text keeps what was given.
    run(
        &store,
        agreement_with_budget(id("a/max"), "1000000000000000", "MAD"),
    )
    .await;
    run(
        &store,
        agreement_with_budget(id("a/zeros"), "12.340", "MAD"),
    )
    .await;
    run(&store, agreement_with_budget(id("a/tnd"), "1.234", "TND")).await;
    let sql = format!(
        "SELECT amount_minor FROM rm_agreements WHERE id = '{}'",
        id("a/tnd")
    );
    assert_eq!(raw_i64(&store, &sql).await, 1_234, "millimes for TND");
    let board = dashboard(store.pool(), NaiveDate::from_ymd_opt(2025, 6, 1).unwrap())
        .await
        .unwrap();
    let totals: Vec<(Option<&str>, &str, String)> = board
        .budget
        .iter()
        .map(|b| {
            (
                b.programme.as_deref(),
                b.currency.as_str(),
                b.amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            (None, "MAD", "1000000000000012.34".to_owned()),
            (None, "TND", "1.234".to_owned()),
            (Some("Programme d'appui"), "MAD", "250000000.5".to_owned()),
        ]
    );
}

/// Budget totals are exact even when their minor units exceed an i64 (120 agreements near the
/// largest amount), on both backends, live and after a rebuild.
async fn budget_totals_are_exact_beyond_64_bit_minor_units(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    for n in 0..120 {
        let amount = if n % 2 == 0 {
            "1000000000000000"
        } else {
            "999999999999999.99"
        };
        let agreement = id(&format!("a/large/{n}"));
        run(&store, agreement_with_budget(agreement, amount, "MAD")).await;
    }
    for (n, amount) in ["1000000000000000", "999999999999999"].iter().enumerate() {
        let agreement = id(&format!("a/yen/{n}"));
        run(&store, agreement_with_budget(agreement, amount, "JPY")).await;
    }
    let large = "FROM rm_agreements WHERE currency = 'MAD' AND programme IS NULL";
    let rows = raw_i64(&store, &format!("SELECT COUNT(*) {large}")).await;
    let least = raw_i64(&store, &format!("SELECT MIN(amount_minor) {large}")).await;
    assert_eq!((rows, least), (120, 99_999_999_999_999_999));
    assert!(
        i128::from(rows) * i128::from(least) > i128::from(i64::MAX),
        "their centimes add up past i64::MAX"
    );
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    for rebuilt in [false, true] {
        if rebuilt {
            let report = store.rebuild_read_models(true).await.unwrap();
            assert!(report.differences.is_empty(), "{:#?}", report.differences);
        }
        let board = dashboard(store.pool(), today).await.unwrap();
        let totals: Vec<(Option<&str>, &str, String, i64)> = board
            .budget
            .iter()
            .map(|b| {
                let programme = b.programme.as_deref();
                (
                    programme,
                    b.currency.as_str(),
                    b.amount.to_string(),
                    b.agreements,
                )
            })
            .collect();
        assert_eq!(
            totals,
            vec![
                (None, "JPY", "1999999999999999".to_owned(), 2),
                (None, "MAD", "119999999999999999.4".to_owned(), 120),
                (
                    Some("Programme d'appui"),
                    "MAD",
                    "250000000.5".to_owned(),
                    1
                ),
            ]
        );
    }
}

/// Currencies the property test draws from, with their minor-unit digits (ISO 4217), written
/// here independently of the domain's table.
const CURRENCIES: [(&str, u32); 4] = [("MAD", 2), ("JPY", 0), ("TND", 3), ("EUR", 2)];
/// The documented largest amount, in major units.
const LARGEST: i128 = 1_000_000_000_000_000;
const REGIONS: [Option<&str>; 3] = [Some("MA-03"), Some("MA-01"), None];
const PROGRAMMES: [Option<&str>; 3] = [None, Some("Programme A"), Some("برنامج ب")];
const STATUSES: [&str; 3] = ["signed", "envisaged", "previous"];

/// A generated budget: its text as sent, its value, and the rule it breaks, if any.
#[derive(Debug, Clone)]
struct GenMoney {
    currency: &'static str,
    text: String,
    value: rust_decimal::Decimal,
    refusal: Option<&'static str>,
}

impl GenMoney {
    /// `mantissa / 10^scale`, written with `pad` trailing zeros when they fit a Decimal.
    fn new(
        currency: &'static str,
        mantissa: i128,
        scale: u32,
        pad: u32,
        refusal: Option<&'static str>,
    ) -> GenMoney {
        use rust_decimal::Decimal;
        let value = Decimal::try_from_i128_with_scale(mantissa, scale).expect("a decimal");
        let padded = mantissa
            .checked_mul(10_i128.pow(pad))
            .and_then(|m| Decimal::try_from_i128_with_scale(m, scale + pad).ok())
            .unwrap_or(value);
        GenMoney {
            currency,
            text: padded.to_string(),
            value,
            refusal,
        }
    }
}

/// Any budget: mostly valid (zero, the largest, near it, small, anywhere in range), sometimes
/// with one decimal too many or above the range.
fn gen_money() -> impl proptest::strategy::Strategy<Value = GenMoney> {
    use proptest::prelude::*;
    (0..CURRENCIES.len()).prop_flat_map(|c| {
        let (currency, digits) = CURRENCIES[c];
        let max = LARGEST * 10_i128.pow(digits);
        let valid = prop_oneof![
            Just(0_i128),
            Just(max),
            Just(max - 1),
            0..1_000_000_i128,
            0..=max,
        ]
        .prop_map(move |m| (m, digits, None));
        let too_precise = (0..max, 1..=9_i128)
            .prop_map(move |(k, d)| (k * 10 + d, digits + 1, Some("TOO_MANY_DECIMALS")));
        let too_large =
            prop_oneof![Just(max + 1), (max + 1)..=(max * 1_000),].prop_map(move |m| (m, digits));
        let too_large = prop_oneof![
            too_large,
            // The amount of the issue that killed the writer.
            Just((800_000_000_000_000_000_000_000_000_i128, 0)),
        ]
        .prop_map(|(m, scale)| (m, scale, Some("OUT_OF_RANGE")));
        (
            prop_oneof![6 => valid, 1 => too_precise, 1 => too_large],
            0_u32..=2,
        )
            .prop_map(move |((mantissa, scale, refusal), pad)| {
                GenMoney::new(currency, mantissa, scale, pad, refusal)
            })
    })
}

/// A generated agreement.
#[derive(Debug, Clone)]
struct GenAgreement {
    status: &'static str,
    programme: Option<&'static str>,
    budget: Option<GenMoney>,
}

/// One consultation's worth of commands: its region, its agreements, and budget revisions of
/// some of them.
#[derive(Debug, Clone)]
struct GenCase {
    region: Option<&'static str>,
    agreements: Vec<GenAgreement>,
    revisions: Vec<(proptest::sample::Index, GenMoney)>,
}

fn gen_case() -> impl proptest::strategy::Strategy<Value = GenCase> {
    use proptest::prelude::*;
    let agreement = (
        proptest::sample::select(STATUSES.to_vec()),
        proptest::sample::select(PROGRAMMES.to_vec()),
        proptest::option::weighted(0.85, gen_money()),
    )
        .prop_map(|(status, programme, budget)| GenAgreement {
            status,
            programme,
            budget,
        });
    (
        proptest::sample::select(REGIONS.to_vec()),
        proptest::collection::vec(agreement, 1..=8),
        proptest::collection::vec((any::<proptest::sample::Index>(), gen_money()), 0..=3),
    )
        .prop_map(|(region, agreements, revisions)| GenCase {
            region,
            agreements,
            revisions,
        })
}

/// Budget totals by (region, programme, currency): the exact amount as text, and how many.
type Totals = std::collections::BTreeMap<(Option<String>, Option<String>, String), (String, i64)>;

async fn budget_totals(store: &Store) -> Result<Totals, proptest::test_runner::TestCaseError> {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let board = dashboard(store.pool(), today)
        .await
        .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("dashboard: {e}")))?;
    Ok(board
        .budget
        .into_iter()
        .map(|b| {
            let amount = b.amount.normalize().to_string();
            ((b.region, b.programme, b.currency), (amount, b.agreements))
        })
        .collect())
}

/// Checks that a command was accepted (`refusal` is `None`) or refused with exactly that
/// VALIDATION rule on `budget.amount`; anything else (an internal error) fails the case.
fn expect_outcome(
    result: &Result<CommandOutcome, CommandError>,
    refusal: Option<&str>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prop_assert_eq;
    match (result, refusal) {
        (Ok(_), None) => Ok(()),
        (Err(CommandError::Domain(e @ DomainError::Validation { .. })), Some(code)) => {
            prop_assert_eq!((e.field(), e.code()), ("budget.amount", code));
            Ok(())
        }
        (other, expected) => Err(proptest::test_runner::TestCaseError::fail(format!(
            "expected {expected:?}, got {other:?}"
        ))),
    }
}

/// Runs one generated consultation and checks that the dashboard's budget moved by exactly the
/// signed agreements' budgets, summed here as decimals.
async fn check_case(
    store: &Store,
    case: &GenCase,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prop_assert_eq;
    let before = budget_totals(store).await?;
    let consultation = Uuid::new_v4();
    let mut plan = json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": consultation, "kind": "workshop", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2025, "month": 6}}});
    if let Some(region) = case.region {
        plan["region"] = json!(region);
    }
    expect_outcome(&execute(store, command(plan), ctx()).await, None)?;
    // What the test knows of each recorded agreement: id, status, programme, budget.
    let mut recorded = Vec::new();
    for agreement in &case.agreements {
        let agreement_id = Uuid::new_v4();
        let mut value = json!({"aggregate": "consultation", "type": "record_agreement",
            "consultation_id": consultation, "agreement_id": agreement_id,
            "title": {"fr": "Convention"}, "kind": "framework_agreement",
            "status": agreement.status});
        if let Some(programme) = agreement.programme {
            value["programme"] = json!({"ar": programme});
        }
        if let Some(budget) = &agreement.budget {
            value["budget"] = json!({"amount": budget.text, "currency": budget.currency});
        }
        let refusal = agreement.budget.as_ref().and_then(|b| b.refusal);
        expect_outcome(&execute(store, command(value), ctx()).await, refusal)?;
        if refusal.is_none() {
            let budget = agreement.budget.as_ref().map(|b| (b.currency, b.value));
            recorded.push((agreement_id, agreement, budget));
        }
    }
    for (index, budget) in &case.revisions {
        if recorded.is_empty() {
            break;
        }
        let target = index.index(recorded.len());
        let value = json!({"aggregate": "consultation", "type": "revise_agreement_budget",
            "consultation_id": consultation, "agreement_id": recorded[target].0,
            "reason": "Révision du budget",
            "budget": {"amount": budget.text, "currency": budget.currency}});
        expect_outcome(&execute(store, command(value), ctx()).await, budget.refusal)?;
        if budget.refusal.is_none() {
            recorded[target].2 = Some((budget.currency, budget.value));
        }
    }

    let mut expected: std::collections::BTreeMap<_, (rust_decimal::Decimal, i64)> = before
        .into_iter()
        .map(|(key, (amount, count))| (key, (amount.parse().unwrap(), count)))
        .collect();
    for (_, agreement, budget) in &recorded {
        let Some((currency, amount)) = budget else {
            continue;
        };
        if agreement.status != "signed" {
            continue;
        }
        let key = (
            case.region.map(str::to_owned),
            agreement.programme.map(str::to_owned),
            (*currency).to_owned(),
        );
        let total = expected.entry(key).or_default();
        total.0 = total.0.checked_add(*amount).expect("a sum within Decimal");
        total.1 += 1;
    }
    let expected: Totals = expected
        .into_iter()
        .map(|(key, (amount, count))| (key, (amount.normalize().to_string(), count)))
        .collect();
    prop_assert_eq!(budget_totals(store).await?, expected);
    Ok(())
}

/// Property: for arbitrary agreements (any valid amount of MAD, JPY, TND or EUR, any status,
/// programme and region, budget revisions) and some invalid amounts, every command is accepted
/// or refused with the expected VALIDATION rule, and the dashboard's budget always equals an
/// independent decimal sum. The cases share one store, so totals grow across them; the read
/// models are then rebuilt and must come out the same.
async fn arbitrary_valid_budgets_add_up_on_the_dashboard(db: &TestDb) {
    use proptest::test_runner::{Config, TestRunner};
    let store = db.domain_store().await;
    let handle = tokio::runtime::Handle::current();
    let runner_store = store.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut config = Config::with_cases(24);
        config.failure_persistence = None;
        config.max_shrink_iters = 64;
        let mut runner = TestRunner::new(config);
        runner
            .run(&gen_case(), |case| {
                handle.block_on(check_case(&runner_store, &case))
            })
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap();
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let live = budget_totals(&store).await.unwrap();
    let report = store.rebuild_read_models(true).await.unwrap();
    assert!(report.differences.is_empty(), "{:#?}", report.differences);
    assert_eq!(budget_totals(&store).await.unwrap(), live);
}

/// A NUL in a text, a reason or an idempotency key is the same VALIDATION on SQLite and
/// PostgreSQL (whose TEXT cannot hold it), and so are invisible, oversized and negative context
/// values; nothing is written. The store refuses the same when appended to directly.
async fn control_characters_and_blank_metadata_are_the_same_validation_on_both_backends(
    db: &TestDb,
) {
    let store = db.domain_store().await;
    small_world(&store).await;
    let before = raw_i64(&store, "SELECT COUNT(*) FROM events").await;
    let note = || {
        command(
            json!({"aggregate": "consultation", "type": "add_context_note",
            "consultation_id": id("c/1"), "note": {"fr": "Une note"}}),
        )
    };
    let plan = command(
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id("c/nul"), "kind": "workshop", "title": {"fr": "Atelier\u{0}ESS"},
        "schedule": {"start": {"year": 2026}}, "region": "MA-03"}),
    );
    assert_rule(
        execute(&store, plan, ctx()).await,
        "title.fr",
        "CONTROL_CHARACTER",
    );
    let with = |reason: Option<&str>, key: Option<&str>, expected: Option<i64>| {
        let mut context = ctx();
        context.reason = reason.map(str::to_owned);
        context.idempotency_key = key.map(str::to_owned);
        context.expected_version = expected;
        context
    };
    let too_long_reason = "x".repeat(2_001);
    let too_long_key = "k".repeat(201);
    let cases = [
        (
            with(Some("why\u{0}"), None, None),
            "reason",
            "CONTROL_CHARACTER",
        ),
        (
            with(None, Some("key\u{0}"), None),
            "idempotencyKey",
            "CONTROL_CHARACTER",
        ),
        (
            with(Some("\u{200f}\u{202e}"), None, None),
            "reason",
            "REASON_REQUIRED",
        ),
        (
            with(None, Some("\u{200b}"), None),
            "idempotencyKey",
            "REQUIRED",
        ),
        (
            with(Some(&too_long_reason), None, None),
            "reason",
            "TOO_LONG",
        ),
        (
            with(None, Some(&too_long_key), None),
            "idempotencyKey",
            "TOO_LONG",
        ),
        (
            with(None, None, Some(-1)),
            "expectedVersion",
            "OUT_OF_RANGE",
        ),
    ];
    for (context, field, code) in cases {
        assert_rule(execute(&store, note(), context).await, field, code);
    }
    // The store itself refuses the same metadata, whoever appends.
    let direct = |reason: Option<&str>, key: Option<&str>| {
        let mut request = common::one(Uuid::new_v4(), shura::store::ExpectedVersion::Any, 1);
        request.context.reason = reason.map(str::to_owned);
        request.context.idempotency_key = key.map(str::to_owned);
        request
    };
    for (request, field) in [
        (direct(Some("why\u{0}"), None), "reason"),
        (direct(Some(&too_long_reason), None), "reason"),
        (direct(None, Some("key\u{0}")), "idempotency_key"),
        (direct(None, Some(&too_long_key)), "idempotency_key"),
    ] {
        match store.append(request).await {
            Err(StoreError::Validation { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected a validation error, got {other:?}"),
        }
    }
    assert!(matches!(
        store.idempotent_result("key\u{0}").await,
        Err(StoreError::Validation { .. })
    ));
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM events").await,
        before,
        "refused commands append nothing"
    );
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_consultations").await,
        1
    );
    // Tab and line breaks are fine, and limits count characters, not bytes.
    let reason = format!("سبب\tوجيه\r\n{}", "ب".repeat(2_000 - 10));
    let key = "م".repeat(200);
    assert_eq!(reason.chars().count(), 2_000);
    let done = execute(&store, note(), with(Some(&reason), Some(&key), None))
        .await
        .expect("a long Arabic reason and key are accepted");
    assert_eq!(done.appended, 1);
    let stored = raw_text(
        &store,
        "SELECT reason FROM events ORDER BY position DESC LIMIT 1",
    )
    .await;
    assert_eq!(stored, reason);
}
