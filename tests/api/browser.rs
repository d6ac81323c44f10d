//! The web app in a real headless Chromium, with axe-core: `tests/browser/flows.mjs` (node,
//! playwright-core driving `/usr/bin/chromium`, installed by `.ci/run`) runs the scenarios of
//! the issue against a real `shura serve` on the seeds: signing in and switching language,
//! logging whole meetings in Arabic and in French, reporting progress, a region's editor
//! refused elsewhere, a conflict resolved, a phone's width. Here: the server, the users, and
//! what the browser wrote, read back from the log.
//!
//! Without Chromium, node or the packages it is skipped with a notice, except under CI=true,
//! where that fails.

use std::path::Path;
use std::time::Duration;

use shura::accounts::create_user;
use shura::domain::token::Role;
use shura::seeds::reference;
use shura::store::Actor;

use crate::common::server::Server;
use crate::common::{Backend, TestDb};
use crate::web::PASSWORD;

const CHROMIUM: &str = "/usr/bin/chromium";
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");

/// Why the browser flows cannot run here, if they cannot.
fn missing() -> Option<String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let packages = ["playwright-core", "axe-core"]
        .iter()
        .all(|p| Path::new(DIR).join("node_modules").join(p).exists());
    if !Path::new(CHROMIUM).exists() {
        Some(format!("{CHROMIUM} is missing (apt-get install chromium)"))
    } else if !node {
        Some("node is missing".into())
    } else if !packages {
        Some("tests/browser/node_modules is missing (npm ci --prefix tests/browser)".into())
    } else {
        None
    }
}

pub async fn browser_flows(db: &TestDb) {
    if let Some(why) = missing() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the browser tests cannot run: {why} (.ci/run installs it)"
        );
        eprintln!("notice: browser tests skipped: {why}");
        return;
    }
    // The seeds, then the users: creating a user is an event, so the server would not seed.
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .expect("seeds");
    let users = [
        (
            "salma.fes",
            "سلمى بناني",
            Role::Editor,
            vec!["MA-03".to_owned()],
        ),
        (
            "karim.fes",
            "Karim Alaoui",
            Role::Editor,
            vec!["MA-03".to_owned()],
        ),
        ("nadia.admin", "Nadia Tazi", Role::Admin, vec![]),
    ];
    for (name, display, role, regions) in &users {
        create_user(
            &store,
            name,
            Some(display),
            *role,
            regions,
            PASSWORD,
            Actor::new("test", "Test"),
        )
        .await
        .expect("user");
    }
    // A follow-up of MA-03 for the conflict: its editors may both write it.
    let own_action = uuid::Uuid::new_v4();
    let create = serde_json::json!({
        "aggregate": "action", "type": "create_action", "action_id": own_action,
        "consultation_id": reference("consultation/fes-meknes-export-2024"),
        "owner_organisation_id": reference("org/ccis-fes-meknes"),
        "title": {"ar": "إحداث منصة رقمية لمواكبة المصدّرين", "fr": "Plateforme numérique d’accompagnement des exportateurs"},
        "due": {"year": 2026, "month": 6}
    });
    shura::commands::execute(
        &store,
        serde_json::from_value(create).expect("a create_action command"),
        shura::commands::CommandContext::new(Actor::new("test", "Test")),
    )
    .await
    .expect("the follow-up of MA-03");
    let head = store.head().await.expect("head").position;
    store.close().await;

    let server = Server::start(&db.url, &["--no-seed"], &[]).await;
    let backend = match db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/target/browser").to_owned() + "/" + backend;
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let action = reference("action/cti-objective-contracts").to_string();
    let elsewhere = reference("consultation/unido-meeting-2017").to_string();
    let run = tokio::process::Command::new("node")
        .arg(format!("{DIR}/flows.mjs"))
        .current_dir(DIR)
        .env("SHURA_URL", format!("http://{}", server.addr))
        .env("SHURA_PASSWORD", PASSWORD)
        .env("SHURA_EDITOR", users[0].0)
        .env("SHURA_EDITOR2", users[1].0)
        .env("SHURA_ADMIN", users[2].0)
        .env("SHURA_ACTION", &action)
        .env("SHURA_ELSEWHERE", &elsewhere)
        .env("SHURA_OWN_ACTION", own_action.to_string())
        .env("SHURA_SHOTS", &shots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(150), run)
        .await
        .expect("the browser flows finish within 150 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    server.stop().await;
    assert!(output.status.success(), "browser flows failed (see above)");

    // What the browser wrote is in the log, by the people who were signed in.
    let store = db.store().await;
    let written = store
        .read_all(head, 1_000)
        .await
        .expect("the log after the set-up");
    let by = |user: &str, event: &str| {
        let id = format!("user:{}", shura::accounts::user_id(user));
        written
            .iter()
            .filter(|e| e.metadata.actor_id == id && e.event_type == event)
            .count()
    };
    // One meeting in Arabic and one in French, each closed; the progress; the conflict: one
    // save each, the second after seeing the first.
    assert_eq!(by("salma.fes", "ConsultationClosed"), 2, "{written:#?}");
    assert_eq!(by("nadia.admin", "ProgressReported"), 1, "{written:#?}");
    // The forged submits of another region's editor wrote nothing there.
    let touched = |id: &str| {
        written
            .iter()
            .filter(|e| e.stream_id.to_string() == id)
            .map(|e| (e.event_type.as_str(), e.metadata.actor_name.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(touched(&action), [("ProgressReported", "Nadia Tazi")]);
    assert_eq!(touched(&elsewhere), []);
    let reports: Vec<(&str, i64)> = written
        .iter()
        .filter(|e| e.stream_id == own_action && e.event_type == "ProgressReported")
        .map(|e| {
            let progress = e.payload["progress"].as_i64().unwrap_or(-1);
            (e.metadata.actor_name.as_str(), progress)
        })
        .collect();
    assert_eq!(
        reports,
        [("سلمى بناني", 30), ("Karim Alaoui", 40)],
        "the conflict's saves"
    );
    store.close().await;
    for scenario in ["a ", "b ", "c ", "d ", "e ", "f "] {
        assert!(
            stdout.contains(&format!("PASS {scenario}")),
            "scenario {scenario}did not pass"
        );
    }
}
