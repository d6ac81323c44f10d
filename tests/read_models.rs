//! Commands, read models, rebuild, search, time travel and the seeds, on SQLite and PostgreSQL.

mod common;
#[path = "read_models/erasure.rs"]
mod erasure;
#[path = "read_models/facts.rs"]
mod facts;
#[path = "read_models/history.rs"]
mod history;
#[path = "read_models/long_streams.rs"]
mod long_streams;
#[path = "read_models/online_rebuild.rs"]
mod online_rebuild;

use erasure::{
    contact_details_can_be_changed_and_stay_sealed,
    erased_contact_details_are_gone_everywhere_and_the_chain_verifies,
};
use facts::{
    agreement_budgets_count_in_their_own_scope,
    seeds_flag_inferred_facts_and_state_what_the_articles_say,
};
use history::{
    a_history_empties_its_write_ahead_log_and_answers_alike,
    a_kept_history_is_reopened_after_a_restart_unless_it_may_differ,
    the_history_equals_a_rebuild_of_the_log_cut_at_any_position,
};
use long_streams::a_long_stream_is_projected_from_its_previous_rows;
use online_rebuild::{
    appends_and_reads_go_on_during_a_rebuild, readers_never_fail_during_rebuilds,
};

use chrono::NaiveDate;
use common::{raw_execute, raw_i64, raw_text, TestDb};
use serde_json::{json, Value};
use shura::commands::{
    consultation_state, execute, fold_recorded, AnyCommand, CommandContext, CommandError,
    CommandOutcome,
};
use shura::domain::consultation;
use shura::domain::DomainError;
use shura::projections::queries::{
    dashboard_budgets, dashboard_budgets_in_scope, dashboard_counts_in_scope,
    dashboard_counts_of_region, dashboard_due_actions, dashboard_due_actions_in_scope,
    dashboard_figures, search, DashboardFigures, DashboardFilter, HitKind, RankedHit,
};
use shura::seeds::reference;
use shura::store::{Actor, Store, StoreError};
use uuid::Uuid;

on_both_backends!(
    the_history_equals_a_rebuild_of_the_log_cut_at_any_position,
    a_history_empties_its_write_ahead_log_and_answers_alike,
    a_kept_history_is_reopened_after_a_restart_unless_it_may_differ,
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
    writes_without_an_expected_version_are_decided_again_not_refused,
    dashboard_filters_select_the_same_consultations_for_every_group,
    search_matches_word_starts_and_ranks_exact_title_recent_first,
    lists_compare_partial_dates_as_far_as_known_and_count,
    graph_rows_follow_their_events_and_rebuild_alike,
    an_upgrade_that_adds_read_models_rebuilds_them,
    users_from_the_command_line_keep_their_hashes_out_of_the_log,
    a_long_stream_is_decided_on_its_cached_state_folding_only_new_events,
    open_data_is_a_reproducible_package_without_personal_data,
    seeds_flag_inferred_facts_and_state_what_the_articles_say,
    agreement_budgets_count_in_their_own_scope,
    erased_contact_details_are_gone_everywhere_and_the_chain_verifies,
    contact_details_can_be_changed_and_stay_sealed,
    a_long_stream_is_projected_from_its_previous_rows,
    a_search_finding_many_rows_pages_like_one_finding_few,
    appends_and_reads_go_on_during_a_rebuild,
    readers_never_fail_during_rebuilds,
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

    let board = dashboard(&store, 2025, 6, 1).await;
    let keys = |counts: &[shura::projections::queries::Count]| {
        counts
            .iter()
            .map(|c| c.key.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&board.counts.consultations_by_region), ["MA-03"]);
    assert_eq!(keys(&board.counts.consultations_by_month), ["2024-11"]);
    assert_eq!(
        keys(&board.counts.recommendations_by_theme),
        ["diplomacy", "export"]
    );
    assert_eq!(
        board.due.overdue.len(),
        1,
        "due March 2025, 40% on 1 June 2025"
    );
    assert_eq!(board.due.overdue[0].due_date.as_deref(), Some("2025-03-31"));
    assert_eq!(board.budgets.by_region.len(), 1);
    assert_eq!(board.budgets.by_region[0].amount.to_string(), "250000000.5");
    assert_eq!(board.budgets.by_region[0].key.as_deref(), Some("MA-03"));
    assert_eq!(
        (board.counts.progress.average, board.counts.progress.overdue),
        (40, 1)
    );
    let early = dashboard(&store, 2025, 3, 31).await;
    assert!(
        early.due.overdue.is_empty(),
        "not overdue on its last possible day"
    );
    assert_eq!(early.due.due_soon.len(), 1, "due by 31 March at the latest");
    let before = dashboard(&store, 2025, 3, 1).await;
    assert_eq!(
        (before.due.due_soon.len(), before.counts.progress.due_soon),
        (1, 1),
        "31 March is within 30 days of 1 March"
    );
    let long_before = dashboard(&store, 2025, 2, 28).await;
    assert_eq!(long_before.counts.progress.due_soon, 0);
}

/// The whole dashboard, unfiltered, on a day.
async fn dashboard(store: &Store, year: i32, month: u32, day: u32) -> DashboardFigures {
    let today = NaiveDate::from_ymd_opt(year, month, day).unwrap();
    dashboard_figures(store.pool(), &DashboardFilter::default(), today)
        .await
        .unwrap()
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
        let hits = search(reader.pool(), "الاقتصاد", 20).await.unwrap();
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
    let kinds = |hits: Vec<RankedHit>| {
        hits.into_iter()
            .map(|h| (h.record.kind(), h.id))
            .collect::<Vec<_>>()
    };
    // Hamza on alef: "الاقتصاد" finds "الإقتصاد".
    assert_eq!(
        kinds(search(store.pool(), "الاقتصاد", 20).await.unwrap()),
        vec![(HitKind::Consultation, id("c/1"))]
    );
    // Tashkeel and taa marbuta in the query.
    assert_eq!(
        kinds(search(store.pool(), "الدِّبلوماسيه", 20).await.unwrap()),
        vec![(HitKind::Recommendation, id("r/1"))]
    );
    // Latin, case and accents: "fes" finds "Fès"; every word must match.
    assert_eq!(
        kinds(search(store.pool(), "FES concertation", 20).await.unwrap()),
        vec![(HitKind::Consultation, id("c/1"))]
    );
    assert!(search(store.pool(), "fes rabat", 20)
        .await
        .unwrap()
        .is_empty());
    // Names, in either script; acronyms.
    assert_eq!(
        kinds(search(store.pool(), "hejira", 20).await.unwrap()),
        vec![(HitKind::Person, id("person/hejira"))]
    );
    assert_eq!(
        kinds(search(store.pool(), "عمر", 20).await.unwrap()),
        vec![(HitKind::Person, id("person/hejira"))]
    );
    assert_eq!(
        kinds(search(store.pool(), "dric", 20).await.unwrap()),
        vec![(HitKind::Organisation, id("org/dir"))]
    );
    // LIKE wildcards in the query are literal.
    assert!(search(store.pool(), "%", 20).await.unwrap().is_empty());
    assert!(search(store.pool(), "_", 20).await.unwrap().is_empty());
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
    let board = dashboard(&store, 2025, 6, 1).await;
    let totals: Vec<(Option<&str>, &str, String)> = board
        .budgets
        .by_programme
        .iter()
        .map(|b| (b.key.as_deref(), b.currency.as_str(), b.amount.to_string()))
        .collect();
    assert_eq!(
        totals,
        vec![
            (Some("Programme d'appui"), "MAD", "250000000.5".to_owned()),
            (None, "MAD", "1000000000000012.34".to_owned()),
            (None, "TND", "1.234".to_owned()),
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
        let board = dashboard_figures(store.pool(), &DashboardFilter::default(), today)
            .await
            .unwrap();
        let totals = |budgets: &[shura::projections::queries::Budget]| {
            budgets
                .iter()
                .map(|b| {
                    (
                        b.key.clone(),
                        b.currency.clone(),
                        b.amount.to_string(),
                        b.agreements,
                    )
                })
                .collect::<Vec<_>>()
        };
        let total = |key: Option<&str>, currency: &str, amount: &str, agreements: i64| {
            (
                key.map(str::to_owned),
                currency.to_owned(),
                amount.to_owned(),
                agreements,
            )
        };
        assert_eq!(
            totals(&board.budgets.by_programme),
            vec![
                total(Some("Programme d'appui"), "MAD", "250000000.5", 1),
                total(None, "JPY", "1999999999999999", 2),
                total(None, "MAD", "119999999999999999.4", 120),
            ]
        );
        // By region, both programmes of MA-03 together: still exact.
        assert_eq!(
            totals(&board.budgets.by_region),
            vec![
                total(Some("MA-03"), "JPY", "1999999999999999", 2),
                total(Some("MA-03"), "MAD", "120000000249999999.9", 121),
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

/// Budget totals by group (`region` or `programme`), key and currency: the exact amount as
/// text, and how many.
type Totals = std::collections::BTreeMap<(&'static str, Option<String>, String), (String, i64)>;

async fn budget_totals(store: &Store) -> Result<Totals, proptest::test_runner::TestCaseError> {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let board = dashboard_figures(store.pool(), &DashboardFilter::default(), today)
        .await
        .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("dashboard: {e}")))?;
    let groups = [
        ("region", board.budgets.by_region),
        ("programme", board.budgets.by_programme),
    ];
    Ok(groups
        .into_iter()
        .flat_map(|(group, budgets)| {
            budgets.into_iter().map(move |b| {
                let amount = b.amount.normalize().to_string();
                ((group, b.key, b.currency), (amount, b.agreements))
            })
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
        let keys = [
            ("region", case.region.map(str::to_owned)),
            ("programme", agreement.programme.map(str::to_owned)),
        ];
        for (group, key) in keys {
            let total = expected
                .entry((group, key, (*currency).to_owned()))
                .or_default();
            total.0 = total.0.checked_add(*amount).expect("a sum within Decimal");
            total.1 += 1;
        }
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

/// Ten notes added at once on one consultation, from two stores (two writers, as two processes
/// would be): without an expected version none is refused, each is decided again on the latest
/// state; with one, only the first writer wins.
async fn writes_without_an_expected_version_are_decided_again_not_refused(db: &TestDb) {
    let store = db.domain_store().await;
    let other = db.domain_store().await;
    small_world(&store).await;
    let notes_before = consultation_state(&store, id("c/1"), None)
        .await
        .unwrap()
        .consultation
        .unwrap()
        .context_notes
        .len();
    let note = |n: usize| {
        command(
            json!({"aggregate": "consultation", "type": "add_context_note",
            "consultation_id": id("c/1"), "note": {"en": format!("note {n}")}}),
        )
    };
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let store = if n % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let command = note(n);
            tokio::spawn(async move { execute(&store, command, ctx()).await })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let notes = consultation_state(&store, id("c/1"), None)
        .await
        .unwrap()
        .consultation
        .unwrap()
        .context_notes
        .len();
    assert_eq!(notes, notes_before + 10);
    // With an explicit expected version, the conflict is the answer.
    let version = consultation_state(&store, id("c/1"), None)
        .await
        .unwrap()
        .version as i64;
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let store = if n % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let command = note(100 + n);
            let mut context = ctx();
            context.expected_version = Some(version);
            tokio::spawn(async move { execute(&store, command, context).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(CommandError::Store(StoreError::Conflict { .. })) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    other.close().await;
}

/// A command on a long stream folds only the events appended since the handle's last command
/// (the state is cached per store handle by version); states from the cache equal a full fold at
/// every version, on either handle, and an idempotent retry is still decided on its older basis.
async fn a_long_stream_is_decided_on_its_cached_state_folding_only_new_events(db: &TestDb) {
    let store = db.domain_store().await;
    let other = db.domain_store().await;
    small_world(&store).await;
    let c = id("c/1");
    let note = |n: usize| {
        json!({"aggregate": "consultation", "type": "add_context_note",
            "consultation_id": c, "note": {"en": format!("note {n}")}})
    };
    for n in 0..40 {
        run(&store, note(n)).await;
    }
    let folded = |s: &Store| s.states().events_folded();

    // One more command folds only the event its predecessor appended.
    let before = folded(&store);
    let outcome = run(&store, note(40)).await;
    assert_eq!(folded(&store) - before, 1);
    assert!(outcome.version > 40, "{outcome:?}");
    // A handle (a process) that never saw the stream folds it whole once...
    let before = folded(&other);
    run(&other, note(41)).await;
    assert_eq!(folded(&other) - before, outcome.version as u64);
    // ...then only what is new, its own appends included.
    let before = folded(&other);
    for n in 42..45 {
        run(&other, note(n)).await;
    }
    assert_eq!(folded(&other) - before, 3);
    // The first handle's state is older, not wrong: it folds its own last event and the other
    // handle's four.
    let before = folded(&store);
    let last = run(&store, note(45)).await;
    assert_eq!(folded(&store) - before, 5);

    let full = |events: &[shura::store::StoredEvent]| {
        fold_recorded::<consultation::Event, _>(
            events,
            consultation::State::default(),
            consultation::apply,
        )
        .unwrap()
    };
    let all = store.read_stream(c, None).await.unwrap();
    assert_eq!(all.len() as i64, last.version);
    let latest = last.version;
    // In no particular order, so that some come from a newer entry's older neighbour.
    for version in [latest, 7, latest - 3, 1, 20, 2, latest - 1, latest] {
        let expected = full(&all[..version as usize]);
        assert_eq!(expected.version, version as u64);
        for handle in [&store, &other] {
            let cached = consultation_state(handle, c, Some(version)).await.unwrap();
            assert_eq!(cached, expected, "version {version}");
        }
    }
    assert_eq!(
        consultation_state(&store, c, None).await.unwrap(),
        full(&all)
    );

    // An idempotent retry is decided again on the state its first attempt saw, now older than
    // the stream: it is replayed, and that state is exact on both handles.
    let mut keyed = ctx();
    keyed.idempotency_key = Some("long-stream-note".to_owned());
    let first = execute(&store, command(note(100)), keyed.clone())
        .await
        .unwrap();
    for n in 101..110 {
        run(&store, note(n)).await;
    }
    for handle in [&store, &other] {
        let retry = execute(handle, command(note(100)), keyed.clone())
            .await
            .unwrap();
        assert!(retry.replayed, "{retry:?}");
        assert_eq!(retry.version, first.version);
        let basis = first.version - 1;
        let expected = full(&store.read_stream(c, Some(basis)).await.unwrap());
        assert_eq!(
            consultation_state(handle, c, Some(basis)).await.unwrap(),
            expected
        );
    }
    let all = store.read_stream(c, None).await.unwrap();
    for handle in [&store, &other] {
        assert_eq!(
            consultation_state(handle, c, None).await.unwrap(),
            full(&all)
        );
    }
    other.close().await;
}

/// A consultation of `region` starting on `start`, with one recommendation of `theme`; more in
/// `extra` (agreements, actions) as commands.
async fn consultation_with(store: &Store, name: &str, region: &str, start: Value, theme: &str) {
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id(&format!("c/{name}")), "kind": "workshop",
        "title": {"fr": format!("Atelier {name}")}, "schedule": {"start": start},
        "region": region}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "propose_recommendation",
        "consultation_id": id(&format!("c/{name}")), "recommendation_id": id(&format!("r/{name}")),
        "text": {"fr": format!("Recommandation {name}")}, "themes": [theme]}),
    )
    .await;
}

/// Region, period and theme select consultations, and every group counts what belongs to them:
/// recommendations, agreements, actions. Partial starts are compared as far as they are known.
async fn dashboard_filters_select_the_same_consultations_for_every_group(db: &TestDb) {
    let store = db.domain_store().await;
    // c/1: MA-03, 28 November 2024, a recommendation on export and diplomacy, a signed
    // agreement (Programme d'appui), an action following the recommendation up.
    small_world(&store).await;
    // c/2: MA-01, "November 2025", industry; an agreement and an action due 10 December 2025.
    consultation_with(
        &store,
        "2",
        "MA-01",
        json!({"year": 2025, "month": 11}),
        "industry",
    )
    .await;
    run(
        &store,
        json!({"aggregate": "consultation", "type": "record_agreement",
        "consultation_id": id("c/2"), "agreement_id": id("a/2"),
        "title": {"fr": "Convention B"}, "kind": "framework_agreement", "status": "signed",
        "budget": {"amount": "100", "currency": "MAD"}, "programme": {"fr": "Programme B"}}),
    )
    .await;
    run(
        &store,
        json!({"aggregate": "action", "type": "create_action",
        "action_id": id("act/2"), "consultation_id": id("c/2"), "recommendation_ids": [id("r/2")],
        "title": {"fr": "Suivi B"}, "owner_organisation_id": id("org/dir"),
        "due": {"year": 2025, "month": 12, "day": 10}}),
    )
    .await;
    // c/3: MA-03, "2025" only, export; an action that follows no recommendation up.
    consultation_with(&store, "3", "MA-03", json!({"year": 2025}), "export").await;
    run(
        &store,
        json!({"aggregate": "action", "type": "create_action",
        "action_id": id("act/3"), "consultation_id": id("c/3"),
        "title": {"fr": "Suivi C"}, "owner_organisation_id": id("org/dir"),
        "due": {"year": 2025, "month": 11, "day": 20}}),
    )
    .await;
    // c/4: MA-03, 1 November 2025 exactly, export.
    let first_of_november = json!({"year": 2025, "month": 11, "day": 1});
    consultation_with(&store, "4", "MA-03", first_of_november, "export").await;

    let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let board = |filter: DashboardFilter| {
        let store = store.clone();
        async move {
            dashboard_figures(store.pool(), &filter, today)
                .await
                .unwrap()
        }
    };
    let counts = |counts: &[shura::projections::queries::Count]| {
        counts
            .iter()
            .map(|c| (c.key.clone().unwrap_or_else(|| "?".into()), c.count))
            .collect::<Vec<_>>()
    };
    let pairs = |list: &[(&str, i64)]| {
        list.iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    let keys = |budgets: &[shura::projections::queries::Budget]| {
        budgets
            .iter()
            .map(|b| (b.key.clone().unwrap_or_default(), b.amount.to_string()))
            .collect::<Vec<_>>()
    };
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);

    let all = board(DashboardFilter::default()).await;
    assert_eq!(
        counts(&all.counts.consultations_by_region),
        pairs(&[("MA-01", 1), ("MA-03", 3)])
    );
    assert_eq!(
        counts(&all.counts.consultations_by_month),
        pairs(&[("2024-11", 1), ("2025-11", 2), ("?", 1)]),
        "a start known to the year has no month: unknown, last"
    );
    assert_eq!(all.counts.progress.actions, 3);

    // A region: its consultations, and only their recommendations, budgets and actions.
    let region = board(DashboardFilter {
        region: Some("MA-01".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        counts(&region.counts.consultations_by_region),
        pairs(&[("MA-01", 1)])
    );
    assert_eq!(
        counts(&region.counts.recommendations_by_theme),
        pairs(&[("industry", 1)])
    );
    assert_eq!(
        keys(&region.budgets.by_region),
        [("MA-01".to_owned(), "100".to_owned())]
    );
    assert_eq!(
        keys(&region.budgets.by_programme),
        [("Programme B".to_owned(), "100".to_owned())]
    );
    assert_eq!(
        counts(&region.counts.actions_by_status),
        pairs(&[("not_started", 1)])
    );
    assert_eq!(region.due.due_soon.len(), 1, "act/2, due 10 December");
    assert_eq!(region.due.due_soon[0].id.0, id("act/2"));
    assert!(region.due.overdue.is_empty());

    // 3 to 30 November 2025: "November 2025" and "2025" can be in it, 1 November cannot, nor
    // 28 November 2024.
    let period = board(DashboardFilter {
        from: day(2025, 11, 3),
        to: day(2025, 11, 30),
        ..Default::default()
    })
    .await;
    assert_eq!(
        counts(&period.counts.consultations_by_month),
        pairs(&[("2025-11", 1), ("?", 1)])
    );
    assert_eq!(
        counts(&period.counts.recommendations_by_theme),
        pairs(&[("export", 1), ("industry", 1)])
    );
    assert_eq!(
        keys(&period.budgets.by_programme),
        [("Programme B".to_owned(), "100".to_owned())]
    );
    assert_eq!(period.counts.progress.actions, 2);
    assert_eq!(
        (period.counts.progress.overdue, period.due.overdue.len()),
        (1, 1),
        "act/3, due 20 November"
    );
    // A period ending on 1 November holds 1 November and "November 2025" (which can be on it).
    let to_first = board(DashboardFilter {
        from: day(2025, 11, 1),
        to: day(2025, 11, 1),
        ..Default::default()
    })
    .await;
    assert_eq!(
        counts(&to_first.counts.consultations_by_region),
        pairs(&[("MA-01", 1), ("MA-03", 2)])
    );

    // A theme: consultations with a recommendation of it; those recommendations (by all their
    // themes); actions following one of them up; the budgets of those consultations.
    let theme = board(DashboardFilter {
        theme: Some("export".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        counts(&theme.counts.consultations_by_region),
        pairs(&[("MA-03", 3)])
    );
    assert_eq!(
        counts(&theme.counts.recommendations_by_theme),
        pairs(&[("diplomacy", 1), ("export", 3)])
    );
    assert_eq!(
        counts(&theme.counts.recommendations_by_status),
        pairs(&[("proposed", 3)])
    );
    assert_eq!(
        theme.counts.progress.actions, 1,
        "act/1 only: act/3 follows nothing up"
    );
    assert_eq!(
        keys(&theme.budgets.by_programme),
        [("Programme d'appui".to_owned(), "250000000.5".to_owned())]
    );

    // Together: MA-03 in 2025.
    let both = board(DashboardFilter {
        region: Some("MA-03".into()),
        from: day(2025, 1, 1),
        to: day(2025, 12, 31),
        theme: Some("export".into()),
    })
    .await;
    assert_eq!(
        counts(&both.counts.consultations_by_status),
        pairs(&[("planned", 2)])
    );
    assert!(both.budgets.by_region.is_empty());

    // The default dashboard (a region or none, no period or theme) is counted table by table
    // from indexes: the same counts as through the consultations in scope, for every region,
    // on this world and then on the seeds beside it.
    let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();
    let mut regions: Vec<Option<&str>> = vec![None];
    regions.extend(shura::domain::REGIONS.iter().map(|r| Some(r.code)));
    for region in regions {
        let fast = dashboard_counts_of_region(store.pool(), region, today)
            .await
            .unwrap();
        let filter = DashboardFilter {
            region: region.map(str::to_owned),
            ..DashboardFilter::default()
        };
        let scoped = dashboard_counts_in_scope(store.pool(), &filter, today)
            .await
            .unwrap();
        assert_eq!(fast, scoped, "{region:?}");
        // Budgets: by the agreements' own region, and through the consultations in scope.
        let by_region = dashboard_budgets(store.pool(), &filter).await.unwrap();
        let through_scope = dashboard_budgets_in_scope(store.pool(), &filter)
            .await
            .unwrap();
        assert_eq!(by_region, through_scope, "{region:?}");
        // Due actions: from the open actions' partial indexes, and through the consultations.
        let due = dashboard_due_actions(store.pool(), &filter, today, 100)
            .await
            .unwrap();
        let due_in_scope = dashboard_due_actions_in_scope(store.pool(), &filter, today, 100)
            .await
            .unwrap();
        assert_eq!(due, due_in_scope, "{region:?}");
        let badge = shura::projections::queries::due_action_count(store.pool(), region, today)
            .await
            .unwrap();
        assert_eq!(
            usize::try_from(badge).unwrap(),
            due.overdue.len() + due.due_soon.len(),
            "{region:?}"
        );
    }
    let all = dashboard_counts_of_region(store.pool(), None, today)
        .await
        .unwrap();
    assert!(all.progress.actions >= 3 && !all.recommendations_by_theme.is_empty());
    let budgets = dashboard_budgets(store.pool(), &DashboardFilter::default())
        .await
        .unwrap();
    assert!(budgets.by_programme.iter().any(|b| b.programme.is_some()));
}

/// Search matches words from their start ("fes" finds "Fès", not "professional") and ranks an
/// exact word over a prefix, the title over the rest, then the most recently changed.
async fn search_matches_word_starts_and_ranks_exact_title_recent_first(db: &TestDb) {
    let store = db.domain_store().await;
    let plan = |name: &str, title: &str, description: Option<&str>| {
        let mut command = json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id(&format!("s/{name}")), "kind": "workshop",
            "title": {"fr": title}, "schedule": {"start": {"year": 2025}}});
        if let Some(text) = description {
            command["description"] = json!({"fr": text});
        }
        command
    };
    run(
        &store,
        plan("body-prefix", "Atelier", Some("Avec M. Fesneau")),
    )
    .await;
    run(&store, plan("title-prefix", "Rencontre Fesneau", None)).await;
    run(&store, plan("body-exact", "Atelier", Some("Tenu à Fès"))).await;
    run(&store, plan("title-exact-old", "Forum de Fès-Meknès", None)).await;
    run(&store, plan("title-exact-new", "Journée Fès", None)).await;
    run(
        &store,
        plan("elsewhere", "Formation professionnelle", Some("Confession")),
    )
    .await;
    run(
        &store,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("org/fes"), "name": {"ar": "غرفة التجارة بفاس", "fr": "Chambre de Fès"},
        "kind": "chamber", "region": "MA-03"}),
    )
    .await;
    let ranked = |hits: Vec<RankedHit>| {
        hits.into_iter()
            .map(|h| (h.id, h.score))
            .collect::<Vec<_>>()
    };
    let hits = ranked(search(store.pool(), "FES", 20).await.unwrap());
    assert_eq!(
        hits,
        vec![
            (id("org/fes"), 4),
            (id("s/title-exact-new"), 4),
            (id("s/title-exact-old"), 4),
            (id("s/body-exact"), 3),
            (id("s/title-prefix"), 2),
            (id("s/body-prefix"), 1),
        ],
        "exact over prefix, title over body, then the latest changed; never 'professionnelle'"
    );
    // At most `limit`, best first.
    let two = ranked(search(store.pool(), "fes", 2).await.unwrap());
    assert_eq!(two, hits[..2].to_vec());
    // Arabic: the preposition joined to the word does not hide it; the article is optional.
    let arabic = search(store.pool(), "فاس", 20).await.unwrap();
    assert_eq!(
        arabic
            .iter()
            .map(|h| (h.record.kind(), h.id))
            .collect::<Vec<_>>(),
        vec![(HitKind::Organisation, id("org/fes"))]
    );
    assert_eq!(search(store.pool(), "الغرفه", 20).await.unwrap().len(), 1);
    assert!(search(store.pool(), "ession", 20).await.unwrap().is_empty());
    // The hit is the row, ready to be shown.
    let hit = &search(store.pool(), "journee", 20).await.unwrap()[0];
    assert_eq!(
        (hit.title.as_str(), hit.record.kind()),
        ("Journée Fès", HitKind::Consultation)
    );
}

fn plan_starting(name: &str, start: Value) -> Value {
    json!({"aggregate": "consultation", "type": "plan_consultation", "consultation_id": id(name),
        "kind": "workshop", "title": {"fr": name}, "schedule": {"start": start}})
}

/// The ids a list page holds, sorted.
fn sorted<T>(rows: &[T], id_of: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = rows.iter().map(id_of).collect();
    ids.sort();
    ids
}

fn named(names: &[&str]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = names.iter().map(|n| id(n)).collect();
    ids.sort();
    ids
}

/// Date filters keep what a partial date can be (compared at its precision; no year, never
/// compared); every list counts what its filters match; agreements by party; key figures by
/// region, words and period.
async fn lists_compare_partial_dates_as_far_as_known_and_count(db: &TestDb) {
    use shura::projections::lists::{self, ConsultationFilter, KeyFigureFilter};
    let store = db.domain_store().await;
    small_world(&store).await;
    for (name, start) in [
        ("c/month", json!({"year": 2025, "month": 11})),
        ("c/year", json!({"year": 2025})),
        ("c/tuesday", json!({"weekday": "tuesday"})),
    ] {
        run(&store, plan_starting(name, start)).await;
    }
    let pool = store.pool();
    let between = |from: Option<&str>, to: Option<&str>| ConsultationFilter {
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        ..ConsultationFilter::default()
    };
    // c/1 starts on 28 November 2024; c/month in November 2025; c/year in 2025; c/tuesday on
    // a Tuesday of unknown year.
    for (filter, expected) in [
        (between(Some("2025-11-15"), None), vec!["c/month", "c/year"]),
        (between(None, Some("2024-12-31")), vec!["c/1"]),
        (between(Some("2024-11-28"), Some("2024-11-28")), vec!["c/1"]),
        (
            between(Some("2025-11-30"), Some("2025-11-30")),
            vec!["c/month", "c/year"],
        ),
        (between(Some("2025-12-01"), None), vec!["c/year"]),
        (
            ConsultationFilter {
                stakeholder: Some(id("org/dir")),
                ..ConsultationFilter::default()
            },
            vec!["c/1"],
        ),
    ] {
        let page = lists::consultations(pool, &filter, false, 100, None, true)
            .await
            .unwrap();
        assert_eq!(
            sorted(&page.rows, |r| r.id.0),
            named(&expected),
            "{filter:?}"
        );
        assert_eq!(page.total, Some(expected.len() as i64), "{filter:?}");
    }
    let everything =
        lists::consultations(pool, &ConsultationFilter::default(), false, 2, None, true)
            .await
            .unwrap();
    assert_eq!((everything.rows.len(), everything.total), (2, Some(4)));
    let uncounted =
        lists::consultations(pool, &ConsultationFilter::default(), false, 2, None, false)
            .await
            .unwrap();
    assert_eq!(uncounted.total, None, "counted only when asked for");

    // Every list counts.
    let recommendations = lists::recommendations(pool, &Default::default(), 1, None, true)
        .await
        .unwrap();
    let organisations = lists::organisations(pool, &Default::default(), 1, None, true)
        .await
        .unwrap();
    let people = lists::people(pool, &Default::default(), 1, None, true)
        .await
        .unwrap();
    let actions = lists::actions(pool, &Default::default(), 1, None, true)
        .await
        .unwrap();
    let agreements = lists::agreements(pool, &Default::default(), 1, None, true)
        .await
        .unwrap();
    assert_eq!(
        [
            recommendations.total,
            organisations.total,
            people.total,
            actions.total,
            agreements.total
        ],
        [Some(1); 5]
    );
    // Recommendations over a period: their consultation's start, as far as known.
    let in_2025 = lists::RecommendationFilter {
        from: Some("2025-01-01".into()),
        ..Default::default()
    };
    let page = lists::recommendations(pool, &in_2025, 10, None, true)
        .await
        .unwrap();
    assert_eq!(page.total, Some(0), "made in November 2024");

    // Agreements by party organisation, and by the words of their objectives.
    for (party, expected) in [(id("org/dir"), 1), (Uuid::new_v4(), 0)] {
        let filter = lists::AgreementFilter {
            party: Some(party),
            ..Default::default()
        };
        let page = lists::agreements(pool, &filter, 10, None, true)
            .await
            .unwrap();
        assert_eq!(page.total, Some(expected));
    }
    run(
        &store,
        json!({"aggregate": "consultation", "type": "record_agreement",
            "consultation_id": id("c/1"), "agreement_id": id("a/2"),
            "title": {"fr": "Avenant"}, "kind": "amendment", "status": "envisaged",
            "parties": [{"participant_id": id("p/1")}],
            "objectives": [{"fr": "Développer l'économie sociale et solidaire"}]}),
    )
    .await;
    let by_objective = lists::AgreementFilter {
        search: Some("economie SOLIDAIRE".into()),
        ..Default::default()
    };
    let page = lists::agreements(pool, &by_objective, 10, None, true)
        .await
        .unwrap();
    assert_eq!(sorted(&page.rows, |r| r.id.0), vec![id("a/2")]);
    // Through its participant, a/2's party is the participant's organisation.
    let by_party = lists::AgreementFilter {
        party: Some(id("org/dir")),
        ..Default::default()
    };
    let page = lists::agreements(pool, &by_party, 10, None, true)
        .await
        .unwrap();
    assert_eq!(page.total, Some(2));

    // Key figures: the consultation's region when they state none; periods as known.
    for (figure, period, region) in [
        ("k/open", json!({"start": {"year": 2024}}), None),
        (
            "k/closed",
            json!({"start": {"year": 2020}, "end": {"year": 2022, "month": 6}}),
            Some("MA-04"),
        ),
    ] {
        let mut command = json!({"aggregate": "consultation", "type": "record_key_figure",
            "consultation_id": id("c/1"), "key_figure_id": id(figure),
            "indicator": {"fr": format!("Indicateur {figure}")}, "value": "10", "unit": "percent",
            "period": period});
        if let Some(region) = region {
            command["region"] = json!(region);
        }
        run(&store, command).await;
    }
    let figures = |filter: KeyFigureFilter| async move {
        let page = lists::key_figures(pool, &filter, 10, None, true)
            .await
            .unwrap();
        assert_eq!(page.total, Some(page.rows.len() as i64));
        sorted(&page.rows, |r| r.id.0)
    };
    let region = |r: &str| KeyFigureFilter {
        region: Some(r.into()),
        ..Default::default()
    };
    assert_eq!(figures(region("MA-03")).await, named(&["k/open"]));
    assert_eq!(figures(region("MA-04")).await, named(&["k/closed"]));
    let period = |from: Option<&str>, to: Option<&str>| KeyFigureFilter {
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        ..Default::default()
    };
    // June 2022 ends on 30 June; an open period reaches every later day.
    assert_eq!(
        figures(period(Some("2022-06-30"), None)).await,
        named(&["k/closed", "k/open"])
    );
    assert_eq!(
        figures(period(Some("2022-07-01"), None)).await,
        named(&["k/open"])
    );
    assert_eq!(
        figures(period(None, Some("2023-12-31"))).await,
        named(&["k/closed"])
    );
    let words = KeyFigureFilter {
        indicator: Some("indicateur k/closed".into()),
        ..Default::default()
    };
    assert_eq!(figures(words).await, named(&["k/closed"]));
}

/// The graph's rows (organisers, parties, key figures, posts, start bounds) follow the events
/// that change them, and a rebuild writes the same rows.
async fn graph_rows_follow_their_events_and_rebuild_alike(db: &TestDb) {
    use shura::projections::lists::{self, Related};
    let store = db.domain_store().await;
    small_world(&store).await;
    run(
        &store,
        json!({"aggregate": "organisation", "type": "register_organisation",
            "organisation_id": id("org/unit"), "name": {"fr": "Service de l'export"},
            "kind": "directorate", "parent_id": id("org/dir")}),
    )
    .await;
    for (post, organisation) in [("post/1", "org/dir"), ("post/2", "org/unit")] {
        run(
            &store,
            json!({"aggregate": "person", "type": "start_post", "person_id": id("person/hejira"),
                "post_id": id(post), "organisation_id": id(organisation), "title": {"fr": "Chef"}}),
        )
        .await;
    }
    run(
        &store,
        json!({"aggregate": "person", "type": "end_post", "person_id": id("person/hejira"),
            "post_id": id("post/1")}),
    )
    .await;
    run(
        &store,
        json!({"aggregate": "consultation", "type": "raise_point", "consultation_id": id("c/1"),
            "point_id": id("pt/1"), "text": {"ar": "تعزيز التصدير نحو إفريقيا"}}),
    )
    .await;
    let pool = store.pool();
    for rebuilt in [false, true] {
        if rebuilt {
            let report = store.rebuild_read_models(true).await.unwrap();
            assert!(report.differences.is_empty(), "{:?}", report.differences);
        }
        assert_eq!(
            raw_text(
                &store,
                "SELECT start_first || ' ' || start_last FROM rm_consultations"
            )
            .await,
            "2024-11-28 2024-11-28"
        );
        assert_eq!(
            raw_i64(&store, "SELECT COUNT(*) FROM rm_organisers").await,
            1
        );
        assert_eq!(
            raw_i64(&store, "SELECT COUNT(*) FROM rm_agreement_parties").await,
            1
        );
        assert_eq!(
            raw_i64(&store, "SELECT COUNT(*) FROM rm_posts WHERE ended = 1").await,
            1,
            "one post of two ended"
        );
        // A point is found by the consultation's text filter.
        let filter = lists::ConsultationFilter {
            search: Some("افريقيا".into()),
            ..Default::default()
        };
        let page = lists::consultations(pool, &filter, false, 10, None, true)
            .await
            .unwrap();
        assert_eq!(page.total, Some(1));
        // Reverse edges, limited per entity.
        let related = |edge: Related, of: &str, limit: i64| {
            let of = id(of);
            async move {
                lists::related(pool, edge, &[of], limit)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(from, to)| {
                        assert_eq!(from.0, of);
                        to.0
                    })
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            related(Related::Children, "org/dir", 20).await,
            vec![id("org/unit")]
        );
        assert_eq!(
            related(Related::People, "org/dir", 20).await,
            vec![id("person/hejira")]
        );
        assert_eq!(
            related(Related::CurrentPeople, "org/dir", 20).await,
            Vec::<Uuid>::new()
        );
        assert_eq!(
            related(Related::CurrentPeople, "org/unit", 20).await,
            vec![id("person/hejira")]
        );
        assert_eq!(
            related(Related::OrganisationConsultations, "org/dir", 20).await,
            vec![id("c/1")]
        );
        assert_eq!(
            related(Related::PersonConsultations, "person/hejira", 20).await,
            vec![id("c/1")]
        );
        assert_eq!(
            related(Related::ActionsOwned, "org/dir", 20).await,
            vec![id("act/1")]
        );
        assert_eq!(
            related(Related::RecommendationActions, "r/1", 20).await,
            vec![id("act/1")]
        );
        assert!(related(Related::ActionsOwned, "org/dir", 0)
            .await
            .is_empty());
    }
}

/// A database from before migration 0006 (its read-model tables and columns removed, as they
/// were) with a log in it: opening it applies the migration and rebuilds the read models, so the
/// new tables are filled, not left empty beside a full log.
async fn an_upgrade_that_adds_read_models_rebuilds_them(db: &TestDb) {
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();
    let organisers = raw_i64(&store, "SELECT COUNT(*) FROM rm_organisers").await;
    assert!(organisers > 0, "the seeds name organisers");
    for statement in [
        "DROP TABLE rm_organisers",
        "DROP TABLE rm_agreement_parties",
        "DROP TABLE rm_key_figures",
        "DROP TABLE rm_posts",
        "DROP INDEX rm_organisations_parent_id",
        // Migration 0011's indexes came later, and one of them covers `start_first`.
        "DROP INDEX rm_consultations_dashboard",
        "DROP INDEX rm_recommendations_dashboard",
        "DROP INDEX rm_themes_dashboard",
        "DROP INDEX rm_actions_dashboard",
        "DELETE FROM _sqlx_migrations WHERE version = 11",
        "ALTER TABLE rm_consultations DROP COLUMN start_first",
        "ALTER TABLE rm_consultations DROP COLUMN start_last",
        "DELETE FROM _sqlx_migrations WHERE version = 6",
    ] {
        raw_execute(&store, statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    store.close().await;
    let upgraded = db.domain_store().await;
    assert_eq!(
        raw_i64(&upgraded, "SELECT COUNT(*) FROM rm_organisers").await,
        organisers
    );
    let check = upgraded.rebuild_read_models(false).await.unwrap();
    assert!(check.differences.is_empty(), "{:?}", check.differences);
    upgraded.close().await;
}

/// Runs the `shura` binary against `url` with `stdin` on its standard input.
fn shura_cli(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run shura");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("shura's output")
}

/// Runs `shura` and expects success; returns its standard output.
fn shura_ok(url: &str, args: &[&str], stdin: &str) -> String {
    let out = shura_cli(url, args, stdin);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `shura`, expects a failure, and returns its standard error.
fn shura_refused(url: &str, args: &[&str], stdin: &str) -> String {
    let out = shura_cli(url, args, stdin);
    assert!(!out.status.success(), "{args:?} succeeded: {out:?}");
    String::from_utf8(out.stderr).expect("UTF-8 output")
}

async fn users_from_the_command_line_keep_their_hashes_out_of_the_log(db: &TestDb) {
    use shura::accounts::{set_password, verify_password};
    use shura::domain::token::Role;
    let url = db.url.as_str();
    const SALMA: &str = "correct horse battery staple";
    const ADMIN: &str = "كلمة سر طويلة جدا";
    let create = |name: &'static str, role: &'static str, region: Option<&'static str>| {
        let mut args = vec!["user", "create", "--username", name, "--role", role];
        if let Some(region) = region {
            args.extend(["--region", region]);
        }
        args.push("--password-stdin");
        args
    };
    let mut salma = create("s.bennani", "editor", Some("MA-03"));
    salma.extend(["--display-name", "Salma Bennani"]);
    let created = shura_ok(url, &salma, &format!("{SALMA}\n"));
    assert!(created.contains("user s.bennani created"), "{created}");
    shura_ok(url, &create("admin.fes", "admin", None), ADMIN);

    // Refusals name what is wrong, and create nothing.
    let empty = shura_refused(url, &create("empty.pw", "viewer", None), "");
    assert!(empty.contains("no password"), "{empty}");
    let short = shura_refused(url, &create("short.pw", "viewer", None), "short pass\n");
    assert!(short.contains("password"), "{short}");
    let taken = shura_refused(
        url,
        &create("s.bennani", "viewer", None),
        "another long one\n",
    );
    assert!(taken.contains("username"), "{taken}");
    let upper = shura_refused(url, &create("Salma", "viewer", None), "another long one\n");
    assert!(upper.contains("username"), "{upper}");
    let no_region = shura_refused(url, &create("editor.x", "editor", None), "another long one");
    assert!(no_region.contains("regions"), "{no_region}");
    let no_flag = shura_refused(
        url,
        &["user", "create", "--username", "x.y.z", "--role", "viewer"],
        "",
    );
    assert!(no_flag.contains("--password-stdin"), "{no_flag}");

    let listed = shura_ok(url, &["user", "list"], "");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with("admin.fes") && lines[0].contains("admin"),
        "{listed}"
    );
    assert!(
        lines[1].starts_with("s.bennani")
            && lines[1].contains("editor")
            && lines[1].contains("MA-03")
            && lines[1].contains("active")
            && lines[1].contains("Salma Bennani"),
        "{listed}"
    );
    assert!(!listed.contains("argon2"), "{listed}");

    let store = db.domain_store().await;
    let pool = store.pool();
    let signed_in = verify_password(pool, "s.bennani", SALMA)
        .await
        .unwrap()
        .expect("the right password");
    assert_eq!(
        (signed_in.role, signed_in.regions.clone()),
        (Role::Editor, vec!["MA-03".to_owned()])
    );
    assert_eq!(signed_in.actor().name, "Salma Bennani");
    assert!(
        verify_password(pool, "s.bennani", "correct horse battery stapl")
            .await
            .unwrap()
            .is_none()
    );
    assert!(verify_password(pool, "nobody", SALMA)
        .await
        .unwrap()
        .is_none());
    assert!(verify_password(pool, "admin.fes", ADMIN)
        .await
        .unwrap()
        .is_some());
    // A trailing line break was taken off; the password is exactly what was typed.
    assert!(verify_password(pool, "s.bennani", &format!("{SALMA}\n"))
        .await
        .unwrap()
        .is_none());
    store.close().await;

    assert!(shura_ok(url, &["user", "disable", "s.bennani"], "").contains("disabled"));
    let missing = shura_refused(url, &["user", "disable", "nobody"], "");
    assert!(missing.contains("username"), "{missing}");
    let listed = shura_ok(url, &["user", "list"], "");
    assert!(listed.contains("disabled"), "{listed}");

    let store = db.domain_store().await;
    let pool = store.pool();
    assert!(
        verify_password(pool, "s.bennani", SALMA)
            .await
            .unwrap()
            .is_none(),
        "a disabled user is refused, even with the right password"
    );
    // The log holds the users' creation and disabling, never a hash; the hashes are in
    // `credentials`, as argon2id PHC strings.
    assert_eq!(
        raw_i64(
            &store,
            "SELECT COUNT(*) FROM events WHERE stream_type = 'user'"
        )
        .await,
        3
    );
    assert_eq!(
        raw_i64(
            &store,
            "SELECT COUNT(*) FROM events WHERE payload LIKE '%argon2%' OR payload LIKE '%$argon%'"
        )
        .await,
        0
    );
    assert_eq!(
        raw_i64(
            &store,
            "SELECT COUNT(*) FROM credentials WHERE phc LIKE '$argon2id$%'"
        )
        .await,
        2
    );

    // A rebuild keeps the users (from the log) and their passwords (untouched).
    let rebuilt = store.rebuild_read_models(true).await.unwrap();
    assert!(rebuilt.differences.is_empty(), "{:?}", rebuilt.differences);
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_users WHERE disabled = 1").await,
        1
    );
    assert!(verify_password(pool, "admin.fes", ADMIN)
        .await
        .unwrap()
        .is_some());
    set_password(&store, "admin.fes", "a brand new passphrase")
        .await
        .unwrap();
    assert!(verify_password(pool, "admin.fes", ADMIN)
        .await
        .unwrap()
        .is_none());
    let too_long = "x".repeat(1_025);
    let error = set_password(&store, "admin.fes", &too_long)
        .await
        .unwrap_err();
    assert_eq!(error.validation(), Some(("password", "TOO_LONG")));
    store.close().await;

    let verified = shura_ok(url, &["verify"], "");
    assert!(verified.contains("read models match"), "{verified}");
    // Enabled again, the user signs in with the password it had.
    shura_ok(url, &["user", "enable", "s.bennani"], "");
    shura_ok(
        url,
        &["user", "password", "s.bennani", "--password-stdin"],
        "yet another passphrase\r\n",
    );
    let store = db.domain_store().await;
    assert!(
        verify_password(store.pool(), "s.bennani", "yet another passphrase")
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

/// The files of an open-data directory, by name.
fn open_data_files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

async fn open_data_is_a_reproducible_package_without_personal_data(db: &TestDb) {
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();
    small_world(&store).await;
    let (email, phone) = ("private.person@example.ma", "+212 6 61 23 45 67");
    run(
        &store,
        json!({"aggregate": "consultation", "type": "register_participant",
        "consultation_id": id("c/1"), "participant_id": id("p/2"), "organisation_id": id("org/dir"),
        "capacity": {"fr": "Chef de service"}, "role": "speaker", "attendance": "invited",
        "contact": {"email": email, "phone": phone}}),
    )
    .await;
    run(
        &store,
        json!({"aggregate": "action", "type": "report_progress", "action_id": id("act/1"),
        "on": "2025-01-15", "progress": 40, "note": {"fr": "Programme rédigé"}}),
    )
    .await;
    assert!(
        raw_i64(
            &store,
            "SELECT COUNT(*) FROM rm_participants WHERE doc LIKE '%private.person@%'"
        )
        .await
            == 1,
        "the read model keeps the contact, so the export must leave it out"
    );

    let first = tempfile::tempdir().unwrap();
    let report = shura::open_data::export(store.pool(), first.path())
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    assert_eq!(report.head, head);

    // The package: every resource, a schema whose fields are the CSV header, the cut position.
    let files = open_data_files(first.path());
    let package: Value = serde_json::from_slice(&files["datapackage.json"]).unwrap();
    assert_eq!(package["shura"]["log_position"], json!(head.position));
    assert_eq!(package["shura"]["head_hash"], json!(head.hash));
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
    assert!(!package["sources"].as_array().unwrap().is_empty());
    let names: Vec<&str> = package["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let expected = [
        "consultations",
        "participants",
        "recommendations",
        "agreements",
        "agreement_parties",
        "key_figures",
        "actions",
        "progress_reports",
        "organisations",
        "people",
        "posts",
    ];
    assert_eq!(names, expected);
    assert_eq!(files.len(), expected.len() + 1, "{:?}", files.keys());
    let mut counts = std::collections::HashMap::new();
    for resource in package["resources"].as_array().unwrap() {
        let path = resource["path"].as_str().unwrap();
        let mut reader = csv::Reader::from_reader(&files[path][..]);
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let fields: Vec<String> = resource["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(header, fields, "{path}");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert!(rows.iter().all(|r| r.len() == fields.len()), "{path}");
        counts.insert(resource["name"].as_str().unwrap().to_owned(), rows.len());
    }

    // Row counts match the read models.
    for (name, table) in [
        ("consultations", "rm_consultations"),
        ("participants", "rm_participants"),
        ("recommendations", "rm_recommendations"),
        ("agreements", "rm_agreements"),
        ("agreement_parties", "rm_agreement_parties"),
        ("key_figures", "rm_key_figures"),
        ("actions", "rm_actions"),
        ("organisations", "rm_organisations"),
        ("people", "rm_people"),
        ("posts", "rm_posts"),
    ] {
        let rows = raw_i64(&store, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(counts[name] as i64, rows, "{name}");
    }
    assert!(counts["participants"] > 1 && counts["posts"] > 0 && counts["key_figures"] > 0);
    assert_eq!(counts["progress_reports"], 1);
    assert_eq!(
        String::from_utf8_lossy(&files["people.csv"]).lines().next(),
        Some("person_id,name_arabic,name_latin,honorific_ar,honorific_fr,honorific_en")
    );
    let reports = String::from_utf8_lossy(&files["progress_reports.csv"]).into_owned();
    assert!(
        reports.contains(&format!(
            "{},1,2025-01-15,40,,Programme rédigé,\n",
            id("act/1")
        )),
        "{reports}"
    );
    assert!(
        files.values().all(|bytes| !bytes.contains(&b'\r')),
        "\\n line ends"
    );

    // The same position gives byte-identical files.
    let second = tempfile::tempdir().unwrap();
    shura::open_data::export(store.pool(), second.path())
        .await
        .unwrap();
    assert_eq!(open_data_files(second.path()), files);

    // No contact detail anywhere, in any file's raw bytes.
    let needles = [
        email.as_bytes(),
        phone.as_bytes(),
        b"@example.ma",
        b"61 23 45 67",
    ];
    for (name, bytes) in &files {
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} contains {}",
                String::from_utf8_lossy(needle)
            );
        }
    }

    // Frictionless validation (`.ci/run` installs the tool; without it the step is skipped with
    // a notice, except under CI=true, where that fails).
    let installed = std::process::Command::new("python3")
        .args(["-m", "frictionless", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if installed {
        let out = std::process::Command::new("python3")
            .args(["-m", "frictionless", "validate"])
            .arg(first.path().join("datapackage.json"))
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "frictionless validate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the frictionless tool is missing (.ci/run installs it)"
        );
        println!("notice: `frictionless` is not installed; package validation skipped");
    }
}

/// A text filter that the word index finds in many rows (more than
/// `lists::FETCH_MATCHES_AT_MOST`: SQLite then reads the list in its order, keeping the rows
/// found) pages and counts exactly as one that finds few (fetched and sorted), on the
/// organisations and the consultations.
async fn a_search_finding_many_rows_pages_like_one_finding_few(db: &TestDb) {
    use shura::projections::lists::{self, ConsultationFilter, StakeholderFilter};
    let store = db.domain_store().await;
    let many = usize::try_from(lists::FETCH_MATCHES_AT_MOST).unwrap() + 40;
    let mut cooperatives = Vec::new();
    let mut associations = Vec::new();
    for i in 0..many + 7 {
        let (name, list) = if i < many {
            (format!("Coopérative {i}"), &mut cooperatives)
        } else {
            (format!("Association {i}"), &mut associations)
        };
        let organisation_id = id(&format!("many/{i}"));
        list.push(organisation_id);
        run(
            &store,
            json!({"aggregate": "organisation", "type": "register_organisation",
            "organisation_id": organisation_id, "name": {"fr": name}, "kind": "company"}),
        )
        .await;
    }
    for (text, mut expected) in [("cooperative", cooperatives), ("Association", associations)] {
        expected.sort();
        let filter = StakeholderFilter {
            search: Some(text.to_owned()),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = lists::organisations(store.pool(), &filter, 100, after, true)
                .await
                .unwrap();
            assert_eq!(page.total, Some(expected.len() as i64), "{text}");
            seen.extend(page.rows.iter().map(|r| r.id.0));
            after = page.rows.last().map(|r| r.id.0);
            if !page.has_next {
                break;
            }
        }
        assert_eq!(seen, expected, "{text}: every row once, in id order");
        // The same text with a second filter counts through the statement, not the index.
        let filtered = StakeholderFilter {
            search: Some(text.to_owned()),
            kind: Some("company".to_owned()),
            ..Default::default()
        };
        let page = lists::organisations(store.pool(), &filtered, 5, None, true)
            .await
            .unwrap();
        assert_eq!(page.total, Some(expected.len() as i64), "{text}");
        assert_eq!(
            page.rows.iter().map(|r| r.id.0).collect::<Vec<_>>(),
            expected[..5.min(expected.len())]
        );
    }
    // Consultations: few found, by the text alone and with a region.
    small_world(&store).await;
    let filter = ConsultationFilter {
        search: Some("fes".to_owned()),
        ..Default::default()
    };
    let page = lists::consultations(store.pool(), &filter, false, 10, None, true)
        .await
        .unwrap();
    assert_eq!(page.total, Some(page.rows.len() as i64));
    assert!(!page.rows.is_empty());
}
