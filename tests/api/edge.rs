//! The HTTP edge's answers, as GraphQL over HTTP and the README say: request errors carry no
//! `data`, transport errors no false `locations`, a missing token is a 401 whatever the media
//! type, and versions in a conflict are numbers.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};

use super::{app, post, raw};
use crate::common::TestDb;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub async fn answers_follow_graphql_over_http(db: &TestDb) {
    let api = app(db, true).await;
    let send = |body: String, accept: &'static str, token: Option<String>| {
        let mut request = post(&body, accept);
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        raw(&api, request)
    };
    let admin = Some(api.admin.clone());
    // A request that does not validate: 400 (or 200 for application/json), and no `data` key.
    for (accept, status) in [
        (GRAPHQL_RESPONSE, StatusCode::BAD_REQUEST),
        ("application/json", StatusCode::OK),
    ] {
        let body = json!({"query": "{ noSuchField }"}).to_string();
        let (got, _, text) = send(body, accept, admin.clone()).await;
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(got, status, "{accept}: {text}");
        assert!(answer.get("data").is_none(), "{accept}: {text}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "VALIDATION");
        // The parser's own locations are real ones (from line 1).
        assert!(answer["errors"][0]["locations"][0]["line"].as_i64() >= Some(1));
    }
    // An input GraphQL validation refuses names its field and rule like every other.
    let body = json!({
        "query": "mutation($input: RegisterOrganisationInput!) { registerOrganisation(input: $input) { version } }",
        "variables": {"input": {"organisationId": uuid::Uuid::new_v4(), "name": {"ar": "وزارة"},
            "kind": "MINISTRY", "colour": "blue"}}
    })
    .to_string();
    let (_, _, text) = send(body, GRAPHQL_RESPONSE, admin.clone()).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    let extensions = &answer["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "VALIDATION", "{text}");
    assert_eq!(extensions["field"], "input.colour", "{text}");
    assert_eq!(extensions["rule"], "UNKNOWN_FIELD", "{text}");
    // A transport error points at no place in a document: no `locations`.
    let (status, _, text) = send("{not json".into(), GRAPHQL_RESPONSE, admin.clone()).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["errors"][0].get("locations").is_none(), "{text}");
    // No token where one is needed: 401 with a Bearer challenge, for both media types; what
    // anonymous clients may run (introspection, __typename) still answers 200.
    for accept in [GRAPHQL_RESPONSE, "application/json"] {
        let body = json!({"query": "{ regions { code } }"}).to_string();
        let request = post(&body, accept);
        let response = tower::ServiceExt::oneshot(api.app.router.clone(), request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{accept}");
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let body = json!({"query": "{ __typename }"}).to_string();
        let (status, _, text) = send(body, accept, None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    // Int is 32-bit: a larger argument is refused as input, not wrapped or accepted.
    let body = json!({"query": "{ events(after: 18813396227) { position } }"}).to_string();
    let (_, _, text) = send(body, GRAPHQL_RESPONSE, admin).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "VALIDATION",
        "{text}"
    );
}

/// The standard introspection query (graphql-js's, as GraphiQL, graphql-codegen and gql send
/// it) answers with and without a token, within the depth and complexity limits, and the schema
/// rebuilt from its answer is the checked-in SDL: every type with every field and argument.
pub async fn the_standard_introspection_query_rebuilds_the_schema(db: &TestDb) {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    use std::collections::BTreeSet;
    let api = app(db, false).await;
    let query = include_str!("../fixtures/introspection.graphql");
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql");
    let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    // Every "Type.field(arg, ...)" the SDL declares.
    let mut expected = BTreeSet::new();
    for definition in &document.definitions {
        if let TypeSystemDefinition::Type(t) = definition {
            let name = t.node.name.node.to_string();
            expected.insert(name.clone());
            let fields = match &t.node.kind {
                TypeKind::Object(o) => Some(&o.fields),
                TypeKind::Interface(i) => Some(&i.fields),
                _ => None,
            };
            for f in fields.into_iter().flatten() {
                let args: Vec<String> = f
                    .node
                    .arguments
                    .iter()
                    .map(|a| a.node.name.node.to_string())
                    .collect();
                expected.insert(format!("{name}.{}({})", f.node.name.node, args.join(",")));
            }
            match &t.node.kind {
                TypeKind::InputObject(o) => {
                    for f in &o.fields {
                        expected.insert(format!("{name}.{}", f.node.name.node));
                    }
                }
                TypeKind::Enum(e) => {
                    for v in &e.values {
                        expected.insert(format!("{name}::{}", v.node.value.node));
                    }
                }
                _ => {}
            }
        }
    }
    for token in [None, Some(api.admin.clone())] {
        let body = json!({"query": query, "operationName": "IntrospectionQuery"}).to_string();
        let mut request = post(&body, GRAPHQL_RESPONSE);
        if let Some(token) = &token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        let (status, _, text) = raw(&api, request).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert!(answer.get("errors").is_none(), "{text}");
        let mut rebuilt = BTreeSet::new();
        for t in answer["data"]["__schema"]["types"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap().to_owned();
            if name.starts_with("__") || t["kind"] == "SCALAR" && is_builtin(&name) {
                continue;
            }
            rebuilt.insert(name.clone());
            for f in t["fields"].as_array().into_iter().flatten() {
                let args: Vec<&str> = f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["name"].as_str().unwrap())
                    .collect();
                rebuilt.insert(format!(
                    "{name}.{}({})",
                    f["name"].as_str().unwrap(),
                    args.join(",")
                ));
            }
            for f in t["inputFields"].as_array().into_iter().flatten() {
                rebuilt.insert(format!("{name}.{}", f["name"].as_str().unwrap()));
            }
            for v in t["enumValues"].as_array().into_iter().flatten() {
                rebuilt.insert(format!("{name}::{}", v["name"].as_str().unwrap()));
            }
        }
        let expected: BTreeSet<String> = expected
            .iter()
            .filter(|e| !is_builtin(e))
            .cloned()
            .collect();
        // Every type, field, argument and enum value says what it is (the connection types
        // are async-graphql's own, which take no description).
        let mut undescribed = Vec::new();
        let described = |v: &Value| {
            v["description"]
                .as_str()
                .is_some_and(|d| !d.trim().is_empty())
        };
        for t in answer["data"]["__schema"]["types"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            if name.starts_with("__") || is_builtin(name) || name.ends_with("Connection") {
                continue;
            }
            if !described(t) {
                undescribed.push(name.to_owned());
            }
            for f in t["fields"].as_array().into_iter().flatten() {
                let field = format!("{name}.{}", f["name"].as_str().unwrap());
                if !described(f) {
                    undescribed.push(field.clone());
                }
                for a in f["args"].as_array().into_iter().flatten() {
                    if !described(a) {
                        undescribed.push(format!("{field}({})", a["name"].as_str().unwrap()));
                    }
                }
            }
            for f in t["inputFields"].as_array().into_iter().flatten() {
                if !described(f) {
                    undescribed.push(format!("{name}.{}", f["name"].as_str().unwrap()));
                }
            }
            for v in t["enumValues"].as_array().into_iter().flatten() {
                if !described(v) {
                    undescribed.push(format!("{name}::{}", v["name"].as_str().unwrap()));
                }
            }
        }
        assert!(
            undescribed.is_empty(),
            "without a description: {undescribed:?}"
        );
        let missing: Vec<&String> = expected.difference(&rebuilt).collect();
        let extra: Vec<&String> = rebuilt.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "token: {}; in the SDL only: {missing:?}; in the answer only: {extra:?}",
            token.is_some()
        );
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID")
}

/// GraphiQL comes from this server: its page loads only this server's assets, and each of them
/// is served with its media type.
pub async fn graphiql_is_served_from_the_binary(db: &TestDb) {
    let api = app(db, false).await;
    let request = axum::http::Request::get("/graphql")
        .header(header::ACCEPT, "text/html")
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, media, page) = raw(&api, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(media.starts_with("text/html"), "{media}");
    for external in ["http://", "https://", "//unpkg", "//cdn", "jsdelivr"] {
        assert!(!page.contains(external), "the page names {external}");
    }
    let version = shura::http::explorer::VERSION;
    for (asset, expected) in [
        ("react.js", "text/javascript"),
        ("react-dom.js", "text/javascript"),
        ("graphiql.js", "text/javascript"),
        ("graphiql.css", "text/css"),
    ] {
        let path = format!("/graphiql/{version}/{asset}");
        assert!(page.contains(&path), "the page loads {path}");
        let request = axum::http::Request::get(&path)
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, media, body) = raw(&api, request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(media.starts_with(expected), "{path}: {media}");
        assert!(body.len() > 5_000, "{path}");
    }
    let request = axum::http::Request::get("/graphiql/0.0.1/graphiql.js")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(raw(&api, request).await.0, StatusCode::NOT_FOUND);
}

/// graphql-http's GraphQL over HTTP audit (`tests/audit`, installed by `.ci/run` with
/// `npm ci`) passes every MUST and SHOULD against a real server. Without node or the audit's
/// packages it is skipped with a notice, except under CI=true, where that fails.
pub async fn the_graphql_over_http_audit_passes(db: &TestDb) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/audit");
    let ready = std::path::Path::new(dir)
        .join("node_modules/graphql-http")
        .exists()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            !ci,
            "CI=true but node or tests/audit/node_modules is missing (.ci/run installs them)"
        );
        eprintln!("notice: node or tests/audit/node_modules missing; skipping the GraphQL over HTTP audit (npm ci --prefix tests/audit)");
        return;
    }
    let server = crate::common::server::Server::start(&db.url, &["--no-seed"], &[]).await;
    let url = format!("http://{}/graphql", server.addr);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg(format!("{dir}/audit.mjs"))
            .arg(&url)
            .current_dir(dir)
            .output(),
    )
    .await
    .expect("the audit finishes within 2 minutes")
    .expect("node runs");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let results: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON result per line"))
        .collect();
    assert!(results.len() > 30, "the audit ran: {text}");
    let failed: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "error" || r["status"] == "warn")
        .collect();
    assert!(failed.is_empty(), "MUST/SHOULD failures: {failed:#?}");
    server.stop().await;
}

/// The README's first query and first mutation run as written, against the seeds.
pub async fn the_readme_first_steps_run(db: &TestDb) {
    let api = app(db, true).await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let block_after = |marker: &str| {
        let rest = &readme[readme.find(marker).expect("the README section")..];
        let start = rest.find("```graphql\n").expect("a graphql block") + "```graphql\n".len();
        let end = rest[start..].find("```").expect("the block's end");
        rest[start..start + end].to_owned()
    };
    for marker in ["A first query:", "A first mutation"] {
        let query = block_after(marker);
        let body = json!({ "query": query }).to_string();
        let mut request = post(&body, GRAPHQL_RESPONSE);
        let value = format!("Bearer {}", api.admin).parse().unwrap();
        request.headers_mut().insert(header::AUTHORIZATION, value);
        let (status, _, text) = raw(&api, request).await;
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, StatusCode::OK, "{marker}: {text}");
        assert!(answer.get("errors").is_none(), "{marker}: {text}");
        assert!(!answer["data"].is_null(), "{marker}: {text}");
    }
}
