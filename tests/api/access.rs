//! Access control through the API: who may read, write and see what, on both backends.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use shura::app::AppConfig;
use shura::auth::{create_token, revoke_token};
use shura::domain::token::Role;
use shura::seeds::reference as id;
use shura::store::Actor;
use tower::ServiceExt;

use super::mutations::{document, scenario};
use super::{api, app, code, gql, gql_as, Api};
use crate::common::{raw_i64, TestDb};

async fn token(api: &Api, role: Role, regions: &[&str]) -> String {
    let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
    create_token(
        &api.app.store,
        &format!("{role:?} {regions:?}"),
        role,
        &regions,
        Actor::new("test", "Test"),
    )
    .await
    .expect("token")
    .bearer
}

async fn events(api: &Api) -> i64 {
    raw_i64(&api.app.store, "SELECT COUNT(*) FROM events").await
}

/// Which roles may run a scenario step: the policy, stated for the test.
fn allowed(mutation: &str, input: &Value, role: &str) -> bool {
    let region = |v: &Value| v.get("region").and_then(Value::as_str).map(str::to_owned);
    // Erasing personal data is for admins only.
    if mutation == "erasePerson" {
        return role == "admin";
    }
    let target = if mutation.contains("Person") || mutation.contains("Post") {
        return matches!(role, "admin" | "editor-fes" | "editor-rabat");
    } else if mutation.contains("Organisation") {
        // Organisations: the one registered with a region is Fès-Meknès's; the other has none.
        if input["organisationId"] == json!(id("m/other")) {
            Some("MA-03".to_owned())
        } else {
            region(input)
        }
    } else if input.get("consultationId") == Some(&json!(id("m/c2"))) {
        None
    } else {
        Some("MA-03".to_owned())
    };
    match role {
        "admin" => true,
        "editor-fes" => target.as_deref() == Some("MA-03"),
        _ => false,
    }
}

pub async fn roles_by_mutations(db: &TestDb) {
    let api = app(db, false).await;
    let tokens = [
        ("anonymous", None),
        ("viewer", Some(token(&api, Role::Viewer, &[]).await)),
        ("auditor", Some(token(&api, Role::Auditor, &[]).await)),
        (
            "editor-rabat",
            Some(token(&api, Role::Editor, &["MA-04"]).await),
        ),
        (
            "editor-fes",
            Some(token(&api, Role::Editor, &["MA-03"]).await),
        ),
        ("admin", Some(api.admin.clone())),
    ];
    let mut ran_as = std::collections::BTreeMap::new();
    for (step, (mutation, input)) in scenario().into_iter().enumerate() {
        let query = document(mutation, "version");
        let mut done = false;
        for (role, bearer) in &tokens {
            if done {
                break;
            }
            let before = events(&api).await;
            let (_, response) =
                gql_as(&api, bearer.as_deref(), &query, json!({"input": input})).await;
            if allowed(mutation, &input, role) {
                assert!(
                    response["errors"].is_null(),
                    "step {step} {mutation} as {role}: {response}"
                );
                *ran_as.entry(*role).or_insert(0) += 1;
                done = true;
            } else {
                let expected = if bearer.is_none() {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(
                    code(&response),
                    expected,
                    "step {step} {mutation} as {role}: {response}"
                );
                assert_eq!(
                    events(&api).await,
                    before,
                    "a refused write appends nothing"
                );
            }
        }
        assert!(done, "step {step} {mutation}: nobody could run it");
    }
    // Editors did the writes of their region; admins only what no editor may.
    assert!(
        ran_as["editor-fes"] > 20 && ran_as["editor-rabat"] >= 4,
        "{ran_as:?}"
    );
    assert!(ran_as["admin"] >= 4, "{ran_as:?}");
    // Every event names the principal that wrote it.
    let (_, log) = gql(
        &api,
        "{ events(first: 100) { streamType actorId actorName } }",
        json!({}),
    )
    .await;
    let actors: std::collections::BTreeSet<&str> = log["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actorName"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains("Editor [\"MA-03\"]") && actors.contains("test admin"),
        "{actors:?}"
    );
    let written: Vec<&Value> = log["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["streamType"] != "token")
        .collect();
    assert_eq!(written.len(), scenario().len());
    assert!(written
        .iter()
        .all(|e| e["actorId"].as_str().unwrap().starts_with("token:")));
}

/// A well-formed write: without a token it is refused for who asks, not for what it sends.
const WRITE: &str = "mutation { addContextNote(input: {consultationId: \"6f1c1f0e-8a7e-4c1e-9a55-3f0f5a1e2b10\", note: {en: \"x\"}}) { version } }";
const READ: &str = "{ consultations(first: 50) { edges { node { id region } } } }";
const LOG: &str = "{ events(first: 5) { position actorId } }";
const CONTACT: &str =
    "query($id: UUID!) { consultation(id: $id) { participants { contact { email phone } } } }";
const AS_OF: &str = "query($id: UUID!) { consultation(id: $id, asOfVersion: 1) { status } }";

/// A consultation in Fès-Meknès with a participant who left an e-mail address.
async fn with_contact(api: &Api) {
    let c = id("x/c");
    let steps = [
        (
            "registerOrganisation",
            json!({"organisationId": id("x/org"), "name": {"ar": "غرفة التجارة"}, "kind": "CHAMBER", "region": "MA-03"}),
        ),
        (
            "planConsultation",
            json!({"consultationId": c, "kind": "WORKSHOP", "title": {"ar": "ورشة"}, "schedule": {"start": {"year": 2026}}, "region": "MA-03"}),
        ),
        (
            "registerParticipant",
            json!({"consultationId": c, "participantId": id("x/p"), "organisationId": id("x/org"), "role": "ATTENDEE", "contact": {"email": "contact@ccis-fes.ma", "phone": "+212 5 35 00 00 00"}}),
        ),
    ];
    for (mutation, input) in steps {
        let (_, r) = gql(api, &document(mutation, "version"), json!({"input": input})).await;
        assert!(r["errors"].is_null(), "{r}");
    }
}

pub async fn roles_by_reads_and_personal_data(db: &TestDb) {
    let api = app(db, true).await;
    with_contact(&api).await;
    let c = json!({"id": id("x/c")});
    let cases = [
        (
            "viewer",
            token(&api, Role::Viewer, &[]).await,
            [true, false, false, false],
        ),
        (
            "auditor",
            token(&api, Role::Auditor, &[]).await,
            [true, true, true, true],
        ),
        (
            "editor-fes",
            token(&api, Role::Editor, &["MA-03"]).await,
            [true, false, true, false],
        ),
        (
            "editor-rabat",
            token(&api, Role::Editor, &["MA-04"]).await,
            [true, false, false, false],
        ),
        ("admin", api.admin.clone(), [true, true, true, true]),
    ];
    for (role, bearer, [read, log, contact, as_of]) in cases {
        let outcomes = [
            gql_as(&api, Some(&bearer), READ, json!({})).await.1,
            gql_as(&api, Some(&bearer), LOG, json!({})).await.1,
            gql_as(&api, Some(&bearer), CONTACT, c.clone()).await.1,
            gql_as(&api, Some(&bearer), AS_OF, c.clone()).await.1,
        ];
        for (allowed, (name, response)) in [read, log, contact, as_of].into_iter().zip(
            ["read", "log", "contact", "asOf"]
                .into_iter()
                .zip(&outcomes),
        ) {
            if allowed {
                assert!(response["errors"].is_null(), "{role} {name}: {response}");
            } else {
                assert_eq!(code(response), "FORBIDDEN", "{role} {name}: {response}");
            }
        }
        if contact {
            assert_eq!(
                outcomes[2]["data"]["consultation"]["participants"][0]["contact"]["email"],
                "contact@ccis-fes.ma"
            );
        }
    }
    // Without a token: only the schema.
    let (_, typename) = gql_as(&api, None, "{ __typename }", json!({})).await;
    assert_eq!(typename["data"]["__typename"], "Query");
    let (_, schema) = gql_as(&api, None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(schema["data"]["__schema"]["queryType"]["name"], "Query");
    for query in [
        READ,
        LOG,
        "{ regions { code } }",
        "{ dashboard { __typename } }",
    ] {
        let (_, r) = gql_as(&api, None, query, json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{query}: {r}");
    }
    let (_, write) = gql_as(&api, None, WRITE, json!({})).await;
    assert_eq!(code(&write), "UNAUTHENTICATED");
}

pub async fn public_read_opens_read_models_only(db: &TestDb) {
    let mut config = AppConfig::new(&db.url);
    config.public_read = true;
    config.seed_if_empty = true;
    let api = api(config).await;
    with_contact(&api).await;
    let (_, read) = gql_as(&api, None, READ, json!({})).await;
    assert!(read["errors"].is_null(), "{read}");
    assert_eq!(
        read["data"]["consultations"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let (_, contact) = gql_as(&api, None, CONTACT, json!({"id": id("x/c")})).await;
    assert_eq!(code(&contact), "FORBIDDEN", "{contact}");
    for query in [LOG] {
        let (_, r) = gql_as(&api, None, query, json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    }
    let (_, as_of) = gql_as(&api, None, AS_OF, json!({"id": id("x/c")})).await;
    assert_eq!(code(&as_of), "UNAUTHENTICATED");
    let (_, write) = gql_as(&api, None, WRITE, json!({})).await;
    assert_eq!(code(&write), "UNAUTHENTICATED");
}

pub async fn an_editor_cannot_reach_another_region_even_with_an_id(db: &TestDb) {
    let api = app(db, true).await;
    let fes = token(&api, Role::Editor, &["MA-03"]).await;
    let before = events(&api).await;
    // The National Industry Day took place in Rabat (MA-04).
    let rabat = id("consultation/national-industry-day-2025");
    let (_, r) = gql_as(
        &api,
        Some(&fes),
        &document("addContextNote", "version"),
        json!({"input": {"consultationId": rabat, "note": {"en": "x"}}}),
    )
    .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // Nor move its own consultation out of its region.
    let fes_consultation = id("consultation/fes-meknes-export-2024");
    let details = json!({"consultationId": fes_consultation, "kind": "REGIONAL_CONSULTATION",
        "title": {"ar": "لقاء تشاوري جهوي"}, "schedule": {"start": {"year": 2024, "month": 11}},
        "region": "MA-04", "reason": "moved"});
    let revise = document("reviseConsultationDetails", "version");
    let (_, r) = gql_as(&api, Some(&fes), &revise, json!({"input": details})).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert_eq!(events(&api).await, before, "refused writes append nothing");
}

pub async fn a_revoked_token_stops_at_once(db: &TestDb) {
    let api = app(db, false).await;
    let viewer = create_token(
        &api.app.store,
        "kiosk",
        Role::Viewer,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .unwrap();
    let (status, ok) = gql_as(&api, Some(&viewer.bearer), READ, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    revoke_token(&api.app.store, viewer.id, Actor::new("test", "Test"))
        .await
        .unwrap();
    let (status, refused) = gql_as(&api, Some(&viewer.bearer), READ, json!({})).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        "{refused}"
    );
    // A wrong secret for a real id, and garbage, are refused alike.
    let forged = format!("{}{}", &viewer.bearer[..viewer.bearer.len() - 4], "0000");
    assert_eq!(
        gql_as(&api, Some(&forged), READ, json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        gql_as(&api, Some("shura_x_y"), READ, json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}

pub async fn failed_authentications_are_limited_per_address(db: &TestDb) {
    let api = app(db, false).await;
    let from = |ip: &str, token: &str| {
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(json!({"query": "{ __typename }"}).to_string()))
            .unwrap();
        let address: SocketAddr = format!("{ip}:40000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(address));
        request
    };
    // Wrong secrets for the admin's token id: counted against that id from that address.
    let forged = format!("{}0000", &api.admin[..api.admin.len() - 4]);
    for attempt in 0..10 {
        let response = api
            .app
            .router
            .clone()
            .oneshot(from("10.0.0.7", &forged))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let blocked = api
        .app
        .router
        .clone()
        .oneshot(from("10.0.0.7", &api.admin))
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = axum::body::to_bytes(blocked.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("LIMIT_EXCEEDED"));
    // Another address is not affected.
    let other = api
        .app
        .router
        .clone()
        .oneshot(from("10.0.0.8", &api.admin))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

/// Runs the `shura` binary against `url`.
fn shura(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run shura");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

pub async fn tokens_from_the_command_line_and_the_first_start(db: &TestDb) {
    // First start on an empty token table: an admin token is printed once, and works.
    let mut server = crate::common::server::Server::start(&db.url, &["--no-seed"], &[]).await;
    let printed = loop {
        let found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.strip_prefix("stdout:   ").map(str::to_owned));
        if let Some(token) = found {
            break token;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("GraphiQL") && l.contains("Authorization")));
    server.token = Some(printed.trim().to_owned());
    let (status, body) = server.graphql("{ regions { code } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    // SIGTERM: the server finishes, closes its connections (PostgreSQL's listener too), exits 0.
    assert!(server.terminate().await, "graceful shutdown on SIGTERM");

    // The command line: create prints the secret once, list never shows it, revoke stops it.
    let created = shura(
        &db.url,
        &[
            "token", "create", "--name", "DR Fès", "--role", "editor", "--region", "MA-03",
        ],
    );
    let bearer = created.lines().last().unwrap().trim().to_owned();
    assert!(bearer.starts_with("shura_"), "{created}");
    let listed = shura(&db.url, &["token", "list"]);
    assert!(
        listed.contains("DR Fès") && listed.contains("editor") && listed.contains("MA-03"),
        "{listed}"
    );
    let secret = bearer.rsplit('_').next().unwrap();
    assert!(!listed.contains(secret), "list never shows a secret");
    let id = created.split_whitespace().nth(1).unwrap();
    let store = shura::store::Store::open(shura::store::StoreConfig::new(&db.url))
        .await
        .unwrap();
    let stored = crate::common::raw_text(&store, "SELECT payload FROM events WHERE event_type = 'TokenCreated' ORDER BY position DESC LIMIT 1").await;
    assert!(
        !stored.contains(secret),
        "the log holds a hash, never the secret"
    );
    shura(&db.url, &["token", "revoke", id]);
    assert!(shura(&db.url, &["token", "list"]).contains("revoked"));
}
