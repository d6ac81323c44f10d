//! The README's "Dashboard recipes", run as the README writes them (each one request, with the
//! defaults of its variables) against the seeds, and their answers checked.

use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::seeds::reference;
use shura::store::{Actor, Store};

use super::{app, gql, statements_of, Api};
use crate::common::server::Server;
use crate::common::TestDb;

const README: &str = include_str!("../../README.md");

/// The recipes the section must hold, each checked below.
const RECIPES: [&str; 4] = [
    "OverdueFollowUps",
    "BudgetByProgramme",
    "RecommendationsOverAPeriod",
    "ConsultationRecord",
];

/// The `graphql` blocks of the README's "Dashboard recipes" section.
fn recipes() -> Vec<&'static str> {
    let start = README
        .find("\n## Dashboard recipes\n")
        .expect("the README has a Dashboard recipes section");
    let section = &README[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .split("```graphql\n")
        .skip(1)
        .map(|block| &block[..block.find("```").expect("a closed block")])
        .collect()
}

/// The recipe whose operation is `name`.
fn recipe(name: &str) -> &'static str {
    let operation = format!("query {name}(");
    let found: Vec<_> = recipes()
        .into_iter()
        .filter(|block| block.starts_with(&operation))
        .collect();
    assert_eq!(found.len(), 1, "one recipe named {name}");
    found[0]
}

/// Runs a recipe as written (the defaults of its variables), or with `variables`: one request,
/// no error.
async fn run(api: &Api, name: &str, variables: Value) -> Value {
    let (_, response) = gql(api, recipe(name), variables).await;
    assert!(response["errors"].is_null(), "{name}: {response}");
    response["data"].clone()
}

async fn command(store: &Store, value: Value) {
    let command: AnyCommand = serde_json::from_value(value.clone()).expect("a command");
    execute(
        store,
        command,
        CommandContext::new(Actor::new("test", "Test")),
    )
    .await
    .unwrap_or_else(|e| panic!("{value}: {e}"));
}

/// A follow-up action of a seed consultation.
fn action(name: &str, consultation: &str, owner: &str, title: &str, due: Value) -> Value {
    json!({"aggregate": "action", "type": "create_action",
        "action_id": reference(&format!("action/{name}")),
        "consultation_id": reference(consultation),
        "owner_organisation_id": reference(owner),
        "title": {"fr": title}, "due": due})
}

fn texts<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| item[field].as_str().unwrap_or("null"))
        .collect()
}

pub async fn dashboard_recipes_answer_in_one_request(db: &TestDb) {
    let names: Vec<String> = recipes()
        .iter()
        .map(|block| {
            let name = block.trim_start_matches("query ");
            name[..name.find('(').unwrap_or(0)].to_owned()
        })
        .collect();
    assert_eq!(names, RECIPES, "every recipe of the README is checked here");
    let api = app(db, true).await;
    let store = &api.app.store;

    // Follow-ups added to the seeds: in Fès-Meknès, one overdue on 22 November 2026 (due June
    // 2025, 30% done), one due later, one cancelled although past due; in Casablanca-Settat, one
    // overdue.
    let export = "consultation/fes-meknes-export-2024";
    let chamber = "org/ccis-fes-meknes";
    let overdue = action(
        "overdue",
        export,
        chamber,
        "Plan d'action export 2025",
        json!({"year": 2025, "month": 6}),
    );
    command(store, overdue).await;
    command(
        store,
        json!({"aggregate": "action", "type": "report_progress",
            "action_id": reference("action/overdue"), "on": "2025-05-02", "progress": 30}),
    )
    .await;
    command(
        store,
        json!({"aggregate": "action", "type": "change_action_status",
            "action_id": reference("action/overdue"), "to": "in_progress"}),
    )
    .await;
    let later = action(
        "later",
        export,
        chamber,
        "Salon export 2027",
        json!({"year": 2027, "month": 3}),
    );
    command(store, later).await;
    let cancelled = action(
        "cancelled",
        "consultation/fes-meknes-sse-hub-workshop",
        chamber,
        "Étude annulée",
        json!({"year": 2025, "month": 1, "day": 15}),
    );
    command(store, cancelled).await;
    command(
        store,
        json!({"aggregate": "action", "type": "change_action_status",
            "action_id": reference("action/cancelled"), "to": "cancelled",
            "reason": "Remplacée par le plan export"}),
    )
    .await;
    let casablanca = action(
        "casablanca",
        "consultation/cti-framework-agreement-signing",
        "org/mic",
        "Contrats-objectifs signés",
        json!({"year": 2025, "month": 1}),
    );
    command(store, casablanca).await;

    // Overdue follow-ups of Fès-Meknès with their owner and consultation.
    let data = run(&api, "OverdueFollowUps", json!({})).await;
    let board = &data["dashboard"];
    assert_eq!(board["progress"], json!({"overdue": 1, "dueSoon": 0}));
    assert_eq!(
        board["overdueActions"],
        json!([{
            "title": "Plan d'action export 2025", "status": "IN_PROGRESS", "progress": 30,
            "due": {"text": "2025-06", "latest": "2025-06-30"},
            "owner": {"name": "غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس",
                "acronym": "CCIS Fès-Meknès"},
            "consultation": {
                "title": "لقاء تشاوري جهوي لتعزيز مكانة جهة فاس – مكناس في مجال الصناعات التصديرية",
                "startDate": "2024-11-28", "region": "MA-03"}
        }])
    );
    // Another region, another day: the same request with variables.
    let data = run(
        &api,
        "OverdueFollowUps",
        json!({"region": "MA-06", "today": "2026-11-22"}),
    )
    .await;
    let overdue = &data["dashboard"]["overdueActions"];
    assert_eq!(texts(overdue, "title"), ["Contrats-objectifs signés"]);
    assert_eq!(overdue[0]["owner"]["name"], "وزارة الصناعة والتجارة");
    let data = run(&api, "OverdueFollowUps", json!({"today": "2025-06-30"})).await;
    assert_eq!(
        data["dashboard"]["overdueActions"],
        json!([]),
        "not overdue on its last possible day"
    );
    assert_eq!(data["dashboard"]["progress"]["dueSoon"], 1);

    // Budget committed by programme (and by region).
    let data = run(&api, "BudgetByProgramme", json!({})).await;
    let board = &data["dashboard"];
    let by_programme = &board["committedBudgetByProgramme"];
    assert_eq!(
        texts(by_programme, "fr"),
        [
            "Plan de développement des Centres Techniques Industriels 2022-2025",
            "Programme d'appui à l'innovation industrielle"
        ],
        "{by_programme}"
    );
    assert_eq!(
        by_programme
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["total"].clone(), b["agreements"].clone()))
            .collect::<Vec<_>>(),
        vec![
            (json!({"amount": "250000000", "currency": "MAD"}), json!(1)),
            (json!({"amount": "900000000", "currency": "MAD"}), json!(1)),
        ]
    );
    // Both agreements are national in scope: in no region's budget, under the null key.
    assert_eq!(
        texts(&board["committedBudgetByRegion"], "label"),
        ["national (aucune région)"]
    );
    assert!(board["committedBudgetByRegion"][0]["key"].is_null());
    // Signed in Casablanca, the CTI plan is not Casablanca-Settat's budget.
    let data = run(&api, "BudgetByProgramme", json!({"region": "MA-06"})).await;
    assert_eq!(data["dashboard"]["committedBudgetByProgramme"], json!([]));

    // Recommendations by theme and status over 2024: the Fès-Meknès export consultation.
    let data = run(&api, "RecommendationsOverAPeriod", json!({})).await;
    let board = &data["dashboard"];
    assert_eq!(
        board["recommendationsByStatus"],
        json!([{"key": "PROPOSED", "label": "مقترحة", "fr": "proposée", "count": 5}])
    );
    let themes = board["recommendationsByTheme"].as_array().unwrap();
    let total: i64 = themes.iter().filter_map(|t| t["count"].as_i64()).sum();
    // Ten themes, twelve tags less `made-in-morocco` (the Industry Day's, not this meeting's).
    assert_eq!((themes.len(), total), (10, 11), "{themes:?}");
    assert!(themes.contains(
        &json!({"key": "export-development", "label": "export-development", "count": 2})
    ));
    assert_eq!(
        board["consultationsByMonth"],
        json!([{"key": "2024-11", "label": "novembre 2024", "count": 1}])
    );
    // A theme over 2024 and 2025: its recommendations only, by status.
    let data = run(
        &api,
        "RecommendationsOverAPeriod",
        json!({"from": "2024-01-01", "to": "2025-12-31", "theme": "certification"}),
    )
    .await;
    assert_eq!(data["dashboard"]["recommendationsByStatus"][0]["count"], 1);

    // A consultation's full record: the CTI framework agreement signing.
    let data = run(&api, "ConsultationRecord", json!({})).await;
    let record = &data["consultation"];
    assert_eq!(
        (&record["status"], &record["kind"], &record["region"]),
        (
            &json!("CLOSED"),
            &json!("SIGNING_CEREMONY"),
            &json!("MA-06")
        )
    );
    assert_eq!(
        record["titleText"]["fr"],
        "Signature de la convention-cadre pour la mise en œuvre du plan de développement des CTI 2022-2025"
    );
    assert_eq!(
        record["startDate"],
        Value::Null,
        "only the weekday is known"
    );
    assert_eq!(texts(&record["organisers"], "acronym"), ["MIC"]);
    let agreements = record["agreements"].as_array().unwrap();
    assert_eq!(
        agreements
            .iter()
            .map(|a| (a["status"].clone(), a["budget"]["amount"].clone()))
            .collect::<Vec<_>>(),
        vec![
            (json!("SIGNED"), json!("250000000")),
            (json!("PREVIOUS"), json!("290000000"))
        ]
    );
    let parties = agreements[0]["parties"].as_array().unwrap();
    assert!(
        parties.len() >= 3
            && parties
                .iter()
                .all(|p| p["organisation"]["name"].is_string()),
        "{parties:?}"
    );
    assert_eq!(record["keyFigures"].as_array().map(Vec::len), Some(3));
    assert_eq!(record["points"].as_array().map(Vec::len), Some(10));
    let participants = record["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 4);
    assert!(participants
        .iter()
        .any(|p| p["role"] == "SPEAKER" && p["person"]["name"].is_string()));
    let actions = record["actions"].as_array().unwrap();
    assert_eq!(
        texts(&record["actions"], "status"),
        ["NOT_STARTED", "NOT_STARTED"],
        "the seed's action and the one added above"
    );
    assert!(actions
        .iter()
        .all(|a| a["owner"]["name"] == "وزارة الصناعة والتجارة"));
    assert!(!record["sources"].as_array().unwrap().is_empty());
}

/// A whole dashboard (every group, overdue actions with their owner and consultation) takes the
/// same few statements whatever the number of actions; counts alone take one, a search one.
pub async fn the_dashboard_and_search_take_a_constant_number_of_statements(db: &TestDb) {
    let api = app(db, true).await;
    let overdue = |n: usize| {
        action(
            &format!("statements/{n}"),
            "consultation/fes-meknes-export-2024",
            if n.is_multiple_of(2) {
                "org/ccis-fes-meknes"
            } else {
                "org/mic"
            },
            &format!("Suivi {n}"),
            json!({"year": 2025, "month": 1 + n % 12}),
        )
    };
    for n in 0..3 {
        command(&api.app.store, overdue(n)).await;
    }
    let token = api.admin.clone();
    drop(api);
    let mut server = Server::start(
        &db.url,
        // Statements are counted from the log: the asOf history's own would mix in.
        &["--no-seed", "--no-as-of-history"],
        &[("RUST_LOG", "sqlx::query=debug")],
    )
    .await;
    server.token = Some(token);
    let group = "{ key label count }";
    let counts = format!(
        "{{ dashboard(today: \"2026-11-22\") {{ consultationsByStatus {group}
        consultationsByRegion {group} consultationsByMonth {group} recommendationsByStatus {group}
        recommendationsByTheme {group} actionsByStatus {group}
        progress {{ actions done average overdue dueSoon }} }} }}"
    );
    let whole = format!(
        "{{ dashboard(today: \"2026-11-22\", region: \"MA-03\") {{ consultationsByStatus {group}
        consultationsByRegion {group} consultationsByMonth {group} recommendationsByStatus {group}
        recommendationsByTheme {group} actionsByStatus {group}
        progress {{ actions done average overdue dueSoon }}
        overdueActions(first: 100) {{ title owner {{ name }} consultation {{ title }} }}
        actionsDueSoon {{ title owner {{ name }} }}
        committedBudgetByRegion {{ key total {{ amount }} }}
        committedBudgetByProgramme {{ key label total {{ amount }} }} }} }}"
    );
    let search = "{ search(text: \"fes\") { score kind title } }";
    // The token check alone, once the pool's connections are open.
    server.graphql("{ regions { code } }", json!({})).await;
    // The fewest of three runs: a statement of the server's own (the feed's periodic head
    // read) may fall in a run's window.
    let least = |query: String| {
        let server = &server;
        async move {
            let mut least = usize::MAX;
            let mut last = Value::Null;
            for _ in 0..3 {
                let (count, body) = statements_of(server, &query).await;
                assert!(body["errors"].is_null(), "{body}");
                least = least.min(count);
                last = body;
            }
            (least, last)
        }
    };
    let (token_only, _) = least("{ regions { code } }".to_owned()).await;
    let (counted, _) = least(counts.clone()).await;
    assert_eq!(
        counted,
        token_only + 2,
        "every count and progress: two statements, read at once"
    );
    let (searched, body) = least(search.to_owned()).await;
    assert!(
        !body["data"]["search"].as_array().unwrap().is_empty(),
        "{body}"
    );
    assert_eq!(searched, token_only + 1, "a search: one statement");
    let (few, body) = least(whole.clone()).await;
    assert_eq!(
        body["data"]["dashboard"]["overdueActions"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let store = db.domain_store().await;
    for n in 3..23 {
        command(&store, overdue(n)).await;
    }
    let (many, body) = least(whole).await;
    assert_eq!(
        body["data"]["dashboard"]["overdueActions"]
            .as_array()
            .map(Vec::len),
        Some(23)
    );
    server.stop().await;
    // The token, counts (two statements read at once), budgets (their sums, then their
    // programmes' names by id) and due actions (5), then one batch per edge (owner,
    // consultation), whatever the number of actions.
    assert_eq!(
        few, many,
        "as many statements for 23 overdue actions as for 3"
    );
    assert!(
        many <= token_only + 5 + 2,
        "{many} statements, the token check being {token_only}"
    );
}
