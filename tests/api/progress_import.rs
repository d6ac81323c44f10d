//! Bulk import of follow-up progress from CSV, on SQLite and PostgreSQL: a good file imports, a
//! bad row writes nothing and is named, a second import and a dry run append nothing, and the
//! `importProgress` mutation keeps editors to their regions.

use std::sync::Arc;

use crate::common::{raw_i64, TestDb};
use serde_json::{json, Value};
use shura::auth::{Access, Principal};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::token::Role;
use shura::graphql::{schema, ApiState};
use shura::progress_import::{import_progress, ImportError, ImportReport, RowError};
use shura::projections::lists;
use shura::store::{Actor, Store};
use uuid::Uuid;

fn tester() -> Actor {
    Actor::new("test", "Test")
}

async fn run(store: &Store, command: Value) {
    let command: AnyCommand = serde_json::from_value(command).expect("command");
    execute(store, command, CommandContext::new(tester()))
        .await
        .expect("command runs");
}

/// An organisation, a consultation in MA-03 and two actions following it up.
async fn two_actions(store: &Store) -> (Uuid, Uuid) {
    let org = Uuid::new_v4();
    let consultation = Uuid::new_v4();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    run(
        store,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": org, "name": {"fr": "CRI Fès-Meknès"}, "kind": "agency",
        "region": "MA-03"}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": consultation, "kind": "workshop", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2026, "month": 1}}, "region": "MA-03"}),
    )
    .await;
    for id in [a, b] {
        run(
            store,
            json!({"aggregate": "action", "type": "create_action", "action_id": id,
            "consultation_id": consultation, "title": {"fr": "Suivi"},
            "owner_organisation_id": org}),
        )
        .await;
    }
    (a, b)
}

async fn progress(store: &Store, id: Uuid) -> (i64, String) {
    let row = lists::action(store.pool(), id)
        .await
        .expect("read model")
        .expect("action row");
    (row.progress, row.status)
}

async fn events(store: &Store) -> i64 {
    raw_i64(store, "SELECT COUNT(*) FROM events").await
}

async fn import(store: &Store, csv: &str, dry_run: bool) -> Result<ImportReport, ImportError> {
    import_progress(store, csv, dry_run, tester(), |_| Ok(())).await
}

fn good_file(a: Uuid, b: Uuid) -> String {
    format!(
        "action,date,progress,note,status\n\
         {a},2026-02-01,30,\"premier point, avec virgule\",in_progress\n\
         {b},2026-02-03,10,,\n\
         {a},2026-03-01,100,تم الإنجاز,done\n"
    )
}

pub async fn a_good_file_imports_once_and_a_dry_run_writes_nothing(db: &TestDb) {
    let store = db.domain_store().await;
    let (a, b) = two_actions(&store).await;
    let csv = good_file(a, b);
    let before = events(&store).await;

    let dry = import(&store, &csv, true).await.expect("dry run");
    assert_eq!((dry.rows, dry.new_rows, dry.appended), (3, 3, 0));
    assert!(dry.dry_run);
    assert_eq!(events(&store).await, before, "a dry run writes nothing");
    assert_eq!(progress(&store, a).await, (0, "not_started".into()));

    let first = import(&store, &csv, false).await.expect("import");
    // Three reports and two status changes (in progress, then done).
    assert_eq!(
        (
            first.rows,
            first.new_rows,
            first.already_imported,
            first.appended
        ),
        (3, 3, 0, 5)
    );
    assert_eq!(events(&store).await, before + 5);
    assert_eq!(progress(&store, a).await, (100, "done".into()));
    assert_eq!(progress(&store, b).await, (10, "not_started".into()));

    let again = import(&store, &csv, false).await.expect("second import");
    assert_eq!(
        (
            again.rows,
            again.new_rows,
            again.already_imported,
            again.appended
        ),
        (3, 0, 3, 0)
    );
    assert_eq!(
        events(&store).await,
        before + 5,
        "a second import appends nothing"
    );
    // Reordered columns and cells padded with spaces are the same rows.
    let reordered = format!("progress,action,date\n 10 ,{b}, 2026-02-03\n");
    let same = import(&store, &reordered, false).await.expect("reordered");
    assert_eq!((same.already_imported, same.appended), (1, 0));
    store.close().await;
}

fn refused(result: Result<ImportReport, ImportError>) -> Vec<(usize, String, String)> {
    match result {
        Err(ImportError::Rows(errors)) => errors
            .iter()
            .map(
                |RowError {
                     row, column, rule, ..
                 }| (*row, column.clone(), rule.clone()),
            )
            .collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

pub async fn a_bad_row_writes_nothing_and_is_named(db: &TestDb) {
    let store = db.domain_store().await;
    let (a, b) = two_actions(&store).await;
    let before = events(&store).await;
    let good = format!("{a},2026-02-01,30,,in_progress\n{b},2026-02-03,10,,\n");
    let header = "action,date,progress,note,status\n";
    let unknown = Uuid::new_v4();
    let cases = [
        (
            format!("{unknown},2026-02-05,20,,"),
            "action",
            "UNKNOWN_REFERENCE",
        ),
        (format!("{a},2026-02-30,20,,"), "date", "INVALID_FORMAT"),
        (format!("{a},2026-02-05,150,,"), "progress", "OUT_OF_RANGE"),
        (
            format!("{a},2026-02-05,20,,finished"),
            "status",
            "INVALID_FORMAT",
        ),
        // The domain's own rules, decided on the state the rows before leave.
        (format!("{a},2026-01-05,40,,"), "date", "BEFORE_PREVIOUS"),
        (format!("{a},2026-02-05,20,,"), "reason", "REASON_REQUIRED"),
        (
            format!("{b},2026-02-05,50,,done"),
            "status",
            "DONE_REQUIRES_FULL_PROGRESS",
        ),
    ];
    for (bad, column, rule) in cases {
        let csv = format!("{header}{good}{bad}\n");
        let errors = refused(import(&store, &csv, false).await);
        assert_eq!(errors, [(3, column.to_owned(), rule.to_owned())], "{bad}");
        assert_eq!(events(&store).await, before, "{bad}: nothing written");
    }
    // Every refusal is listed, not only the first.
    let csv = format!("{header}{a},2026-13-01,20,,\n{good}{b},x,abc,,\n");
    let errors = refused(import(&store, &csv, false).await);
    assert_eq!(
        errors,
        [
            (1, "date".into(), "INVALID_FORMAT".into()),
            (4, "date".into(), "INVALID_FORMAT".into()),
            (4, "progress".into(), "INVALID_FORMAT".into()),
        ]
    );
    // A missing column is named on the header row.
    let errors = refused(import(&store, &format!("action,progress\n{a},20\n"), false).await);
    assert_eq!(errors, [(0, "date".into(), "REQUIRED".into())]);
    assert_eq!(events(&store).await, before);
    assert_eq!(progress(&store, a).await, (0, "not_started".into()));
    store.close().await;
}

fn principal(role: Role, regions: &[&str]) -> Access {
    Access::Token(Principal {
        token_id: Uuid::new_v4(),
        name: format!("{role:?}"),
        role,
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
    })
}

pub async fn the_mutation_keeps_editors_to_their_regions(db: &TestDb) {
    let store = db.domain_store().await;
    let (a, b) = two_actions(&store).await;
    let api = schema(ApiState::new(store.clone(), Arc::new(Default::default())));
    let csv = good_file(a, b);
    let ask = |access: Access, csv: String, dry_run: bool| {
        let request = async_graphql::Request::new(
            "mutation($csv: String!, $dryRun: Boolean) { importProgress(csv: $csv, dryRun: $dryRun) \
             { rows newRows alreadyImported appended dryRun } }",
        )
        .variables(async_graphql::Variables::from_json(json!({"csv": csv, "dryRun": dry_run})))
        .data(access);
        let api = api.clone();
        async move { serde_json::to_value(api.execute(request).await).expect("json") }
    };
    let before = events(&store).await;

    let other_region = ask(principal(Role::Editor, &["MA-04"]), csv.clone(), false).await;
    assert_eq!(
        other_region["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{other_region}"
    );
    let viewer = ask(principal(Role::Viewer, &[]), csv.clone(), false).await;
    assert_eq!(
        viewer["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{viewer}"
    );
    assert_eq!(events(&store).await, before);

    let bad = format!("action,date,progress\n{a},2026-02-01,30\n{b},2026-02-01,150\n");
    let refused = ask(principal(Role::Editor, &["MA-03"]), bad, false).await;
    let extensions = &refused["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "VALIDATION", "{refused}");
    assert_eq!(extensions["field"], "csv[2].progress");
    assert_eq!(extensions["rule"], "OUT_OF_RANGE");
    assert_eq!(events(&store).await, before);

    let dry = ask(principal(Role::Editor, &["MA-03"]), csv.clone(), true).await;
    assert_eq!(
        dry["data"]["importProgress"],
        json!({"rows": 3, "newRows": 3, "alreadyImported": 0, "appended": 0, "dryRun": true}),
        "{dry}"
    );
    assert_eq!(events(&store).await, before);

    let own = ask(principal(Role::Editor, &["MA-03"]), csv.clone(), false).await;
    assert_eq!(
        own["data"]["importProgress"],
        json!({"rows": 3, "newRows": 3, "alreadyImported": 0, "appended": 5, "dryRun": false}),
        "{own}"
    );
    let admin = ask(principal(Role::Admin, &[]), csv, false).await;
    assert_eq!(
        admin["data"]["importProgress"],
        json!({"rows": 3, "newRows": 0, "alreadyImported": 3, "appended": 0, "dryRun": false}),
        "{admin}"
    );
    assert_eq!(events(&store).await, before + 5);
    assert_eq!(progress(&store, a).await, (100, "done".into()));
    store.close().await;
}
