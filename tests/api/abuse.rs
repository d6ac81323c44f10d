//! The attacks of issue 11, against a real `shura serve` process on each backend: each is
//! answered with its documented error within a bound, the server still answers a normal request
//! right after, nothing was written, and its memory stayed bounded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use shura::auth::{create_token, revoke_token};
use shura::domain::token::Role;
use shura::store::{Actor, Store};
use tower::ServiceExt;

use super::mutations::{input_type, scenario};
use super::{admin_token, app};
use crate::common::server::{http, Server, Subscriber};
use crate::common::TestDb;

/// The longest any refusal below may take.
const PROMPT: Duration = Duration::from_secs(2);
/// How much the server may grow over a whole test's attacks.
const MAX_GROWTH_KIB: u64 = 64 * 1024;

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

/// Posts `body` as it is (no JSON encoding by the helper); returns status and JSON.
async fn post_raw(server: &Server, body: &str) -> (u16, Value) {
    let (status, text) = http(
        &server.addr,
        "POST",
        "/graphql",
        Some(body),
        "application/graphql-response+json",
        server.token.as_deref(),
    )
    .await
    .expect("request");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends `query` (POST) and asserts it is refused with `expected` promptly.
async fn refused(server: &Server, what: &str, query: &str, variables: Value, expected: &str) {
    let started = Instant::now();
    let (status, body) = server.graphql(query, variables).await;
    let took = started.elapsed();
    assert_eq!(code(&body), expected, "{what}: {status} {body}");
    assert!(took < PROMPT, "{what} took {took:?}");
    still_serves(server, what).await;
}

/// A normal request right after an attack succeeds.
async fn still_serves(server: &Server, after: &str) {
    let (status, body) = server.graphql("{ __typename }", json!({})).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query")),
        "after {after}: {body}"
    );
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn doubling(levels: usize) -> String {
    let mut doc = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
    for i in 1..=levels {
        doc.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    doc
}

/// Nesting, fragment doubling, aliases and depth, sent without a token.
pub async fn hostile_documents_are_refused_before_they_run(db: &TestDb) {
    let store = db.domain_store().await;
    let server = Server::start(&db.url, &["--no-seed"], &[]).await;
    still_serves(&server, "start").await;
    // After the start, which writes the first admin token.
    let before = store.head().await.expect("head").position;
    let rss = server.rss_kib();

    let lists = format!(
        "{{ __typename(x: {}1{}) }}",
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    refused(&server, "nested lists", &lists, json!({}), "LIMIT_EXCEEDED").await;
    let objects = format!(
        "mutation {{ registerOrganisation(input: {}1{}) {{ version }} }}",
        "{a:".repeat(2_000),
        "}".repeat(2_000)
    );
    refused(
        &server,
        "nested input",
        &objects,
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;
    let default = format!(
        "query Q($v: [Int] = {}1{}) {{ __typename }}",
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    refused(
        &server,
        "nested default",
        &default,
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;
    // The same over GET.
    let started = Instant::now();
    let path = format!("/graphql?query={}", percent_encode(&lists));
    let (status, text) = http(&server.addr, "GET", &path, None, "application/json", None)
        .await
        .expect("GET");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "GET: {status} {text}");
    assert!(started.elapsed() < PROMPT);
    still_serves(&server, "GET").await;
    // Nested JSON variables, counted before serde reads them.
    let deep_json = format!(
        r#"{{"query": "{{ __typename }}", "variables": {{"v": {}1{}}}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let (status, body) = post_raw(&server, &deep_json).await;
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "JSON: {status} {body}");
    still_serves(&server, "nested JSON").await;

    refused(
        &server,
        "fragment doubling",
        &doubling(30),
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;
    // Twenty aliases of an aggregate (a few fields each): their cost, not their size, refuses
    // them.
    let dashboards: String = (0..20)
        .map(|i| format!(" d{i}: dashboard {{ progress {{ actions }} }}"))
        .collect();
    refused(
        &server,
        "aliased dashboards",
        &format!("{{{dashboards} }}"),
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;
    let searches: String = (0..20)
        .map(|i| format!(" s{i}: search(text: \"fes\") {{ score }}"))
        .collect();
    refused(
        &server,
        "aliased searches",
        &format!("{{{searches} }}"),
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;
    // Deeper than the recursion limit (32) but within the bracket limit (64).
    let deep_selection = format!(
        "{{ {} __typename {} }}",
        "consultations { edges { node { ".repeat(12),
        "} } }".repeat(12)
    );
    refused(
        &server,
        "deep selection",
        &deep_selection,
        json!({}),
        "LIMIT_EXCEEDED",
    )
    .await;

    let after = store.head().await.expect("head").position;
    assert_eq!(after, before, "nothing was written");
    let grown = server.rss_kib().saturating_sub(rss);
    assert!(grown < MAX_GROWTH_KIB, "the server grew by {grown} KiB");
    server.stop().await;
    store.close().await;
}

async fn mutate(server: &Server, name: &str, input: Value, reason: Option<&str>) -> Value {
    let query = format!(
        "mutation($input: {}!, $reason: String) {{ {name}(input: $input, reason: $reason) {{ version }} }}",
        input_type(name)
    );
    server
        .graphql(&query, json!({"input": input, "reason": reason}))
        .await
        .1
}

async fn events(store: &Store) -> i64 {
    crate::common::raw_i64(store, "SELECT COUNT(*) FROM events").await
}

/// Amounts out of range, too many decimals, and NUL bytes: VALIDATION naming the field, alike
/// on both backends, nothing written, and writes keep working (the writer did not die).
pub async fn hostile_values_are_refused_with_the_field(db: &TestDb) {
    let store = db.domain_store().await;
    let token = admin_token(&store).await;
    let mut server = Server::start(&db.url, &["--no-seed"], &[]).await;
    server.token = Some(token);
    let steps = scenario();
    let record = steps
        .iter()
        .position(|(name, _)| *name == "recordAgreement")
        .expect("the scenario records an agreement");
    for (name, input) in &steps[..record] {
        let response = mutate(&server, name, input.clone(), None).await;
        assert!(response["errors"].is_null(), "{name}: {response}");
    }
    let agreement = steps[record].1.clone();
    let with_amount = |amount: Value| {
        let mut input = agreement.clone();
        input["budget"]["amount"] = amount;
        input
    };
    let written = events(&store).await;
    for (amount, rule) in [
        (json!("800000000000000000000000000"), "OUT_OF_RANGE"),
        (json!("50000000000000000"), "OUT_OF_RANGE"),
        (json!(50_000_000_000_000_000_u64), "OUT_OF_RANGE"),
        (json!("12.345"), "TOO_MANY_DECIMALS"),
        // Beyond what a Decimal holds, a float, or not a number: the Decimal scalar refuses it.
        (json!("1".repeat(40)), "INVALID_FORMAT"),
        (json!(12.5), "INVALID_FORMAT"),
        (json!("12,5"), "INVALID_FORMAT"),
    ] {
        let response = mutate(
            &server,
            "recordAgreement",
            with_amount(amount.clone()),
            None,
        )
        .await;
        let error = &response["errors"][0]["extensions"];
        assert_eq!(
            (error["code"].as_str(), error["rule"].as_str()),
            (Some("VALIDATION"), Some(rule)),
            "{amount}: {response}"
        );
        assert_eq!(
            error["field"].as_str(),
            Some("input.budget.amount"),
            "{amount}: {response}"
        );
    }
    // NUL in a title, in a reason and in a literal: the same VALIDATION on both backends.
    let mut nul_title = agreement.clone();
    nul_title["title"]["ar"] = json!("اتفاقية\u{0}");
    let response = mutate(&server, "recordAgreement", nul_title, None).await;
    assert_eq!(code(&response), "VALIDATION", "{response}");
    // Named by where it sits in the variables (the request's limits see it before GraphQL).
    assert!(
        response["errors"][0]["extensions"]["field"]
            .as_str()
            .is_some_and(|f| f.ends_with("input.title.ar")),
        "{response}"
    );
    let response = mutate(
        &server,
        "recordAgreement",
        agreement.clone(),
        Some("a\u{0}b"),
    )
    .await;
    assert_eq!(code(&response), "VALIDATION", "{response}");
    let literal = r#"{ search(text: "a\u0000b") { score } }"#;
    let (_, response) = server.graphql(literal, json!({})).await;
    assert_eq!(code(&response), "VALIDATION", "{response}");
    assert_eq!(events(&store).await, written, "nothing was written");

    // The largest accepted amount is recorded, projected and summed exactly.
    let max = "1000000000000000";
    let response = mutate(&server, "recordAgreement", with_amount(json!(max)), None).await;
    assert!(response["errors"].is_null(), "{response}");
    let (_, board) = server
        .graphql(
            "{ dashboard { committedBudgetByRegion { total { amount currency } } } }",
            json!({}),
        )
        .await;
    let budget = board["data"]["dashboard"]["committedBudgetByRegion"].to_string();
    assert!(budget.contains(max), "{board}");
    server.stop().await;
    store.close().await;
}

/// Failed logins are counted per address and token id, over HTTP and WebSocket alike; a database
/// error is a 503, never a lockout; refusals all read the same.
pub async fn authentication_failures_are_keyed_and_outages_lock_out_nobody(db: &TestDb) {
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
    let send = |request| api.app.router.clone().oneshot(request);
    // Someone else's bad tokens from a shared address do not lock out a valid token there.
    for i in 0..15 {
        let bad = format!("shura_{}_{}", uuid::Uuid::new_v4().simple(), i);
        let status = send(from("10.0.0.7", &bad)).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let status = send(from("10.0.0.7", &api.admin)).await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
    // Guessing at one token's secret locks that token out from that address only.
    let forged = format!("{}0000", &api.admin[..api.admin.len() - 4]);
    for attempt in 0..10 {
        let status = send(from("10.0.0.9", &forged)).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let blocked = send(from("10.0.0.9", &api.admin)).await.unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let status = send(from("10.0.0.10", &api.admin)).await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
    // A revoked token and an unknown one are refused with the same words.
    let revoked = create_token(
        &api.app.store,
        "revoked",
        Role::Viewer,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .unwrap();
    revoke_token(&api.app.store, revoked.id, Actor::new("test", "Test"))
        .await
        .unwrap();
    let body = |response: axum::response::Response| async move {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        value["errors"][0]["message"].clone()
    };
    let revoked_says = body(send(from("10.0.0.11", &revoked.bearer)).await.unwrap()).await;
    let unknown_says = body(send(from("10.0.0.11", &forged)).await.unwrap()).await;
    assert_eq!(revoked_says, unknown_says);
    // An outage: the database is gone. Every attempt is a 503 INTERNAL, never a 429.
    api.app.store.close().await;
    for attempt in 0..15 {
        let response = send(from("10.0.0.12", &api.admin)).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "attempt {attempt}"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("INTERNAL"));
    }
}

/// WebSocket logins share the HTTP limiter; `connection_init` must come in time; a revoked
/// token's subscription is closed with 4403 within a second; past states need the log right.
pub async fn websockets_are_held_to_the_same_rules(db: &TestDb) {
    let store = db.domain_store().await;
    let admin = admin_token(&store).await;
    let auditor = create_token(
        &store,
        "auditor",
        Role::Auditor,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .unwrap();
    let viewer = create_token(
        &store,
        "viewer",
        Role::Viewer,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .unwrap();
    let server = Server::start(&db.url, &["--no-seed"], &[]).await;

    // Wrong secrets in connection_init are counted: the eleventh is refused as too many, and
    // HTTP with the same token from the same address is then refused too.
    let forged = format!("{}0000", &auditor.bearer[..auditor.bearer.len() - 4]);
    let mut last = (0, String::new());
    for _ in 0..11 {
        let mut socket = Subscriber::connect(&server.addr).await;
        last = socket.init(Some(&forged)).await.expect_err("refused");
    }
    assert!(last.1.contains("too many"), "{last:?}");
    // graphql-transport-ws: a refused connection_init closes with 4403 (forbidden).
    assert_eq!(last.0, 4403, "{last:?}");
    let (status, _) = http(
        &server.addr,
        "POST",
        "/graphql",
        Some(&json!({"query": "{ __typename }"}).to_string()),
        "application/json",
        Some(&forged),
    )
    .await
    .unwrap();
    assert_eq!(status, 429);

    // Past states through a subscription need the same right as consultation(asOfVersion:).
    let mut as_viewer = Subscriber::subscribe(
        &server.addr,
        Some(&viewer.bearer),
        &format!(
            "subscription {{ consultationChanged(id: \"{}\", after: 0) {{ id }} }}",
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    let message = as_viewer.next_message().await;
    let errors = match message["type"].as_str() {
        Some("error") => &message["payload"],
        _ => &message["payload"]["errors"],
    };
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{message}");
    assert!(message["payload"]["data"].is_null(), "{message}");
    as_viewer.close().await;

    // Revocation closes an open subscription within a second. (Another auditor: the first is
    // locked out from this address by the guesses above.)
    let auditor = create_token(
        &store,
        "auditor 2",
        Role::Auditor,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .unwrap();
    let mut feed = Subscriber::subscribe(
        &server.addr,
        Some(&auditor.bearer),
        "subscription { eventsAppended { position } }",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    revoke_token(&store, auditor.id, Actor::new("test", "Test"))
        .await
        .unwrap();
    let closed = feed.closed_within(Duration::from_secs(1)).await;
    assert_eq!(closed, Some(4403));

    // A socket that never sends connection_init is closed with 4408.
    let mut silent = Subscriber::connect(&server.addr).await;
    let closed = silent.closed_within(Duration::from_secs(12)).await;
    assert_eq!(closed, Some(4408));

    // A message over the HTTP body's limit (1 MiB by default) closes its socket: the server
    // does not take it in (tungstenite's own limit is 64 MiB). One under it is answered.
    let ping = |padding: usize| {
        json!({"type": "ping", "payload": {"padding": "x".repeat(padding)}}).to_string()
    };
    let mut heavy = Subscriber::connect(&server.addr).await;
    heavy.init(Some(&viewer.bearer)).await.expect("admitted");
    assert!(heavy.send_text(ping(1_000)).await);
    assert_eq!(heavy.next_message().await["type"], "pong");
    if heavy.send_text(ping(2 * 1024 * 1024)).await {
        assert!(
            heavy.closed_within(Duration::from_secs(5)).await.is_some(),
            "a 2 MiB message was taken in"
        );
    }

    // And the server still serves.
    let mut server = server;
    server.token = Some(admin);
    still_serves(&server, "websockets").await;
    server.stop().await;
    store.close().await;
}

/// Pieces of GraphQL, well-formed and not, that the generated documents are made of.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "query",
    "mutation",
    "subscription",
    "fragment F on Query",
    "...F",
    "... on Query",
    "__typename",
    "dashboard",
    "search(text: \"fès\")",
    "consultations(first: 3)",
    "edges",
    "node",
    "id",
    "title",
    "totalCount",
    "$v",
    ":",
    "Int",
    "String!",
    "[Int]",
    "=",
    "1",
    "-1",
    "1e400",
    "\"s\"",
    "\"\\u0000\"",
    "\"\"\"b\"\"\"",
    "#c\n",
    "@skip(if: true)",
    "@include(if: $v)",
    "a:",
    ",",
    "regions",
    "code",
    "events(first: 2)",
    "registerOrganisation(input: {})",
    "version",
    "null",
    "[[[",
    "]]]",
    "{a:{a:1}}",
    "consultation(id: \"00000000-0000-0000-0000-000000000000\")",
    "__schema",
    "types",
    "name",
    "query Q($v: Int)",
    "\\",
    "\"",
    "\u{200f}",
    "٣",
];

/// Root selections that run.
const FIELDS: &[&str] = &[
    "__typename",
    "regions { code nameAr }",
    "consultations(first: 2) { totalCount edges { cursor node { id title status } } }",
    "dashboard { progress { actions } consultationsByRegion { key label count } }",
    "search(text: \"fes\", first: 3) { score kind node { __typename } }",
    "events(first: 2) { position eventType }",
    "organisations(first: 2) { totalCount }",
    "actions(first: 3) { edges { node { id } } }",
];

fn documents() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let piece = proptest::sample::select(PIECES);
    let valid = proptest::collection::vec(proptest::sample::select(FIELDS), 1..5).prop_map(|f| {
        let aliased: Vec<String> = f
            .iter()
            .enumerate()
            .map(|(i, field)| format!("a{i}: {field}"))
            .collect();
        format!("{{ {} }}", aliased.join(" "))
    });
    // A valid document with one piece put somewhere in it.
    let mutated = (
        valid.clone(),
        piece.clone(),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(doc, piece, at)| {
            let mut words: Vec<&str> = doc.split(' ').collect();
            words.insert(at.index(words.len() + 1), piece);
            words.join(" ")
        });
    prop_oneof![
        valid,
        mutated,
        proptest::collection::vec(piece.clone(), 0..40).prop_map(|p| p.join(" ")),
        proptest::collection::vec(piece, 0..30).prop_map(|p| format!("{{ {} }}", p.join(" "))),
        any::<String>(),
    ]
}

fn json_values() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Generated documents and variables, anonymous and as an admin, through the whole HTTP
/// request path: every answer is JSON, promptly, and every error carries one of the documented
/// codes; none is INTERNAL, and the process carries on.
pub async fn any_request_gets_a_coded_answer(db: &TestDb) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    const CODES: [&str; 6] = [
        "VALIDATION",
        "NOT_FOUND",
        "CONFLICT",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "LIMIT_EXCEEDED",
    ];
    let api = app(db, true).await;
    let mut runner = TestRunner::deterministic();
    let mut with_data = 0;
    let cases = (documents(), json_values(), proptest::bool::ANY);
    for case in 0..300 {
        let (query, variables, as_admin) = cases
            .new_tree(&mut runner)
            .expect("a generated case")
            .current();
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body))
            .expect("request");
        if as_admin {
            let value = format!("Bearer {}", api.admin).parse().expect("header");
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        let started = Instant::now();
        let response = api
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("answer");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        assert!(started.elapsed() < PROMPT, "case {case}: {query:?}");
        let answer: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("case {case}: not JSON: {query:?}"));
        if !answer["data"].is_null() {
            with_data += 1;
        }
        if let Some(errors) = answer["errors"].as_array() {
            for error in errors {
                let code = error["extensions"]["code"].as_str().unwrap_or("none");
                assert!(
                    CODES.contains(&code),
                    "case {case}: {code} for {query:?} {variables}: {answer}"
                );
            }
        }
    }
    // The generator reaches execution, not only the parser.
    assert!(with_data >= 10, "only {with_data} of the cases executed");
}
