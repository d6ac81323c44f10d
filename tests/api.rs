//! The GraphQL API over HTTP and WebSocket, on SQLite and PostgreSQL: transport rules, every
//! error code, concurrency, pagination, the dashboard against a hand count, time travel, limits,
//! statement counts, and subscriptions across processes.

#[path = "api/abuse.rs"]
mod abuse;
#[path = "api/access.rs"]
mod access;
#[path = "api/as_of.rs"]
mod as_of;
#[path = "api/browser.rs"]
mod browser;
#[path = "api/checkpoints.rs"]
mod checkpoints;
mod common;
#[path = "api/connections.rs"]
mod connections;
#[path = "api/edge.rs"]
mod edge;
#[path = "api/graph.rs"]
mod graph;
#[path = "api/mutations.rs"]
mod mutations;
#[path = "api/open_data.rs"]
mod open_data;
#[path = "api/progress_import.rs"]
mod progress_import;
#[path = "api/recipes.rs"]
mod recipes;
#[path = "api/web.rs"]
mod web;
#[path = "api/web_admin.rs"]
mod web_admin;
#[path = "api/web_board.rs"]
mod web_board;
#[path = "api/web_consultations.rs"]
mod web_consultations;
#[path = "api/web_meeting.rs"]
mod web_meeting;

use abuse::{
    any_request_gets_a_coded_answer, authentication_failures_are_keyed_and_outages_lock_out_nobody,
    hostile_documents_are_refused_before_they_run, hostile_values_are_refused_with_the_field,
    websockets_are_held_to_the_same_rules,
};
use access::{
    a_revoked_token_stops_at_once, an_editor_cannot_reach_another_region_even_with_an_id,
    failed_authentications_are_limited_per_address, public_read_opens_read_models_only,
    roles_by_mutations, roles_by_reads_and_personal_data,
    tokens_from_the_command_line_and_the_first_start,
};
use edge::{
    answers_follow_graphql_over_http, graphiql_is_served_from_the_binary,
    the_graphql_over_http_audit_passes, the_readme_first_steps_run,
    the_standard_introspection_query_rebuilds_the_schema,
};
use graph::{
    a_consultation_record_is_typed_and_linked, a_refused_field_is_null_and_its_parents_stay,
    every_list_counts_and_filters_by_typed_values, int_arguments_outside_32_bits_are_refused,
    partial_dates_are_compared_as_far_as_known, stakeholders_and_nodes_are_reached_by_id,
};
use open_data::{
    a_snapshot_serves_the_read_models_as_of_its_position, open_data_latest_zip_and_popolo,
};
use progress_import::{
    a_bad_row_writes_nothing_and_is_named, a_good_file_imports_once_and_a_dry_run_writes_nothing,
    the_mutation_keeps_editors_to_their_regions,
};

use as_of::{
    an_as_of_being_prepared_says_when_to_ask_again, as_of_answers_as_a_rebuild_of_the_log_cut_there,
};
use browser::browser_flows;
use checkpoints::serve_signs_checkpoints_and_verify_checks_them;
use connections::{
    a_metrics_token_closes_metrics_to_others, connections_past_the_cap_are_refused_clearly,
    idle_kept_alive_connections_are_closed_after_the_idle_timeout,
    metrics_stay_small_whatever_operation_names_clients_send,
    slow_request_heads_are_closed_after_the_header_timeout,
};
use mutations::{
    every_mutation_has_a_happy_path, every_mutation_names_the_missing_field,
    malformed_inputs_are_refused_in_the_api_terms,
};
use recipes::{
    dashboard_recipes_answer_in_one_request,
    the_dashboard_and_search_take_a_constant_number_of_statements,
};
use web::{
    cookies_are_secure_behind_tls, pages_carry_protective_headers_and_assets_come_from_the_binary,
    sign_in_sessions_and_languages, sign_ins_are_limited_and_disabled_users_are_out,
    the_readme_first_user_can_sign_in,
};
use web_admin::web_stakeholders_audit_and_users;
use web_board::web_follow_up_board_and_reminders;
use web_consultations::web_consultation_pages;
use web_meeting::web_meeting_flow;

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::server::{Server, Subscriber};
use common::TestDb;
use serde_json::{json, Value};
use shura::app::{build, App, AppConfig};
use shura::domain::token::Role;
use shura::seeds::reference;
use shura::store::Actor;
use tower::ServiceExt;
use uuid::Uuid;

on_both_backends!(
    graphql_over_http_rules,
    serve_signs_checkpoints_and_verify_checks_them,
    connections_past_the_cap_are_refused_clearly,
    slow_request_heads_are_closed_after_the_header_timeout,
    idle_kept_alive_connections_are_closed_after_the_idle_timeout,
    metrics_stay_small_whatever_operation_names_clients_send,
    a_metrics_token_closes_metrics_to_others,
    mutations_return_the_entity_and_errors_carry_codes,
    concurrent_mutations_with_one_expected_version_have_one_winner,
    pages_have_no_duplicates_or_holes,
    a_page_shows_changes_made_through_another_instance,
    dashboard_matches_a_hand_count_of_the_seeds,
    consultations_as_they_were,
    as_of_answers_as_a_rebuild_of_the_log_cut_there,
    an_as_of_being_prepared_says_when_to_ask_again,
    limits_answer_limit_exceeded,
    a_page_of_twenty_takes_a_constant_number_of_statements,
    subscribers_get_appends_from_another_process_and_resume,
    hundreds_of_subscribers_share_one_feed_reader,
    idle_websockets_cost_no_token_reads,
    a_subscriber_behind_the_buffer_catches_up_without_holding_others,
    every_mutation_has_a_happy_path,
    every_mutation_names_the_missing_field,
    malformed_inputs_are_refused_in_the_api_terms,
    roles_by_mutations,
    roles_by_reads_and_personal_data,
    public_read_opens_read_models_only,
    an_editor_cannot_reach_another_region_even_with_an_id,
    a_revoked_token_stops_at_once,
    failed_authentications_are_limited_per_address,
    tokens_from_the_command_line_and_the_first_start,
    hostile_documents_are_refused_before_they_run,
    hostile_values_are_refused_with_the_field,
    authentication_failures_are_keyed_and_outages_lock_out_nobody,
    websockets_are_held_to_the_same_rules,
    any_request_gets_a_coded_answer,
    a_consultation_record_is_typed_and_linked,
    stakeholders_and_nodes_are_reached_by_id,
    every_list_counts_and_filters_by_typed_values,
    partial_dates_are_compared_as_far_as_known,
    a_refused_field_is_null_and_its_parents_stay,
    int_arguments_outside_32_bits_are_refused,
    answers_follow_graphql_over_http,
    the_standard_introspection_query_rebuilds_the_schema,
    graphiql_is_served_from_the_binary,
    the_graphql_over_http_audit_passes,
    the_readme_first_steps_run,
    a_good_file_imports_once_and_a_dry_run_writes_nothing,
    a_bad_row_writes_nothing_and_is_named,
    open_data_latest_zip_and_popolo,
    a_snapshot_serves_the_read_models_as_of_its_position,
    the_mutation_keeps_editors_to_their_regions,
    dashboard_recipes_answer_in_one_request,
    the_dashboard_and_search_take_a_constant_number_of_statements,
    sign_in_sessions_and_languages,
    sign_ins_are_limited_and_disabled_users_are_out,
    pages_carry_protective_headers_and_assets_come_from_the_binary,
    cookies_are_secure_behind_tls,
    the_readme_first_user_can_sign_in,
    web_consultation_pages,
    web_meeting_flow,
    web_follow_up_board_and_reminders,
    web_stakeholders_audit_and_users,
    browser_flows,
);

/// The service and an admin token for it.
pub struct Api {
    pub app: App,
    pub admin: String,
}

async fn admin_token(store: &shura::store::Store) -> String {
    shura::auth::create_token(
        store,
        "test admin",
        Role::Admin,
        &[],
        Actor::new("test", "Test"),
    )
    .await
    .expect("admin token")
    .bearer
}

async fn api(config: AppConfig) -> Api {
    let app = build(config).await.expect("app");
    let admin = admin_token(&app.store).await;
    Api { app, admin }
}

async fn app(db: &TestDb, seed: bool) -> Api {
    let mut config = AppConfig::new(&db.url);
    config.seed_if_empty = seed;
    api(config).await
}

/// Sends one request through the router as it is; returns status, content type and body.
async fn raw(api: &Api, request: Request<Body>) -> (StatusCode, String, String) {
    let response = api
        .app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Sends one request as the admin unless it carries its own `Authorization`.
async fn send(api: &Api, mut request: Request<Body>) -> (StatusCode, String, String) {
    if !request.headers().contains_key(header::AUTHORIZATION) {
        let value = format!("Bearer {}", api.admin).parse().unwrap();
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    raw(api, request).await
}

fn post(body: &str, accept: &str) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(Body::from(body.to_owned()))
        .expect("request")
}

/// A GraphQL POST with `token` (`None`: anonymous); returns status and JSON.
async fn gql_as(
    api: &Api,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut request = post(&body, "application/graphql-response+json");
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let (status, _, text) = raw(api, request).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A GraphQL POST as the admin accepting `application/graphql-response+json`.
async fn gql(api: &Api, query: &str, variables: Value) -> (StatusCode, Value) {
    gql_as(api, Some(&api.admin), query, variables).await
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

async fn graphql_over_http_rules(db: &TestDb) {
    let app = app(db, false).await;
    let query = json!({"query": "{ regions { code } }"}).to_string();
    let (status, media, body) = send(&app, post(&query, "application/graphql-response+json")).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/graphql-response+json")
    );
    assert!(body.contains("MA-03"));
    let (status, media, _) = send(&app, post(&query, "application/json")).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/json")
    );

    // Parse and validation errors: 400 with the new media type, 200 with application/json.
    let broken = json!({"query": "{ regions { code "}).to_string();
    let (status, _, body) = send(&app, post(&broken, "application/graphql-response+json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("\"code\":\"VALIDATION\""), "{body}");
    let (status, _, _) = send(&app, post(&broken, "application/json")).await;
    assert_eq!(status, StatusCode::OK);
    let unknown = json!({"query": "{ nothingHere }"}).to_string();
    let (status, _, _) = send(&app, post(&unknown, "application/graphql-response+json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(&app, post("{not json", "application/json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // GET runs queries; never mutations.
    let get = |uri: &str, accept: &str| {
        Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(
        &app,
        get("/graphql?query=%7Bregions%7Bcode%7D%7D", "application/json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("MA-12"));
    let mutation = "/graphql?query=mutation%7BmarkConsultationHeld(input%3A%7B%7D)%7Bversion%7D%7D";
    let mut request = get(mutation, "application/json");
    let bearer = format!("Bearer {}", app.admin).parse().unwrap();
    request.headers_mut().insert(header::AUTHORIZATION, bearer);
    let response = app.app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers().get(header::ALLOW).unwrap(), "POST");

    // Content negotiation and media types.
    let (status, _, _) = send(&app, post(&query, "text/plain")).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let wrong_type = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(query.clone()))
        .unwrap();
    assert_eq!(
        send(&app, wrong_type).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let (status, media, page) =
        send(&app, get("/graphql", "text/html,application/xhtml+xml")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        media.starts_with("text/html") && page.contains("graphiql"),
        "{media}"
    );

    // Health, readiness, metrics.
    assert_eq!(send(&app, get("/healthz", "*/*")).await.0, StatusCode::OK);
    let (status, _, ready) = send(&app, get("/readyz", "*/*")).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let (_, _, metrics) = send(&app, get("/metrics", "*/*")).await;
    assert!(
        metrics.contains("shura_graphql_requests_total{operation=\"anonymous\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("shura_append_conflicts_total 0"));
}

const REGISTER_ORG: &str = "mutation($input: RegisterOrganisationInput!, $key: String) {
    registerOrganisation(input: $input, idempotencyKey: $key) {
        streamId version position appended replayed stakeholder { name ... on Organisation { kind } }
    } }";

const ADD_NOTE: &str = "mutation($input: AddContextNoteInput!, $v: Int) {
    addContextNote(input: $input, expectedVersion: $v) {
        version consultation { version contextNotes { en } } } }";

async fn mutations_return_the_entity_and_errors_carry_codes(db: &TestDb) {
    let app = app(db, false).await;
    let org = json!({"organisationId": reference("org/t"), "name": {"ar": "مجلس جهة فاس مكناس"}, "kind": "REGIONAL_COUNCIL"});
    let (status, first) = gql(&app, REGISTER_ORG, json!({"input": org, "key": "k1"})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let result = &first["data"]["registerOrganisation"];
    assert_eq!(result["version"], 1);
    assert_eq!(result["stakeholder"]["name"], "مجلس جهة فاس مكناس");
    assert_eq!(result["stakeholder"]["kind"], "REGIONAL_COUNCIL");

    // An idempotent retry answers the same, writes nothing.
    let (_, retry) = gql(&app, REGISTER_ORG, json!({"input": org, "key": "k1"})).await;
    assert_eq!(retry["data"]["registerOrganisation"]["replayed"], true);
    assert_eq!(
        retry["data"]["registerOrganisation"]["position"],
        result["position"]
    );

    // VALIDATION names the field and the rule: domain rules, malformed input, references.
    let (_, blank) = gql(
        &app,
        REGISTER_ORG,
        json!({"input": {"organisationId": Uuid::new_v4(), "name": {"ar": " "}, "kind": "AGENCY"}}),
    )
    .await;
    assert_eq!(code(&blank), "VALIDATION");
    assert_eq!(blank["errors"][0]["extensions"]["field"], "input.name.ar");
    assert_eq!(blank["errors"][0]["extensions"]["rule"], "REQUIRED");
    let (_, malformed) = gql(
        &app,
        REGISTER_ORG,
        json!({"input": {"organisationId": Uuid::new_v4(), "name": {"ar": "x"}, "kind": "CASTLE"}}),
    )
    .await;
    assert_eq!(code(&malformed), "VALIDATION");
    assert!(
        malformed["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"input.kind\"")),
        "{malformed}"
    );
    let (_, orphan) = gql(&app, REGISTER_ORG, json!({"input": {"organisationId": Uuid::new_v4(), "name": {"ar": "x"}, "kind": "AGENCY", "parentId": Uuid::new_v4()}})).await;
    assert_eq!(
        orphan["errors"][0]["extensions"]["rule"],
        "UNKNOWN_REFERENCE"
    );
    let (_, duplicate) = gql(&app, REGISTER_ORG, json!({"input": org, "key": "k2"})).await;
    assert_eq!(code(&duplicate), "VALIDATION");
    let (_, reused) = gql(&app, REGISTER_ORG, json!({"input": {"organisationId": Uuid::new_v4(), "name": {"ar": "y"}, "kind": "AGENCY"}, "key": "k1"})).await;
    assert_eq!(
        reused["errors"][0]["extensions"]["rule"],
        "IDEMPOTENCY_KEY_REUSED"
    );

    // A consultation: the mutation returns the entity as of the new version.
    let plan = "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version consultation { id status title region } } }";
    let c = reference("c/api");
    let (_, planned) = gql(
        &app,
        plan,
        json!({"input": {"consultationId": c, "kind": "WORKSHOP",
        "title": {"ar": "ورشة"}, "schedule": {"start": {"year": 2025}}, "region": "MA-03"}}),
    )
    .await;
    assert_eq!(
        planned["data"]["planConsultation"]["consultation"]["status"], "PLANNED",
        "{planned}"
    );
    let (_, noted) = gql(
        &app,
        ADD_NOTE,
        json!({"input": {"consultationId": c, "note": {"en": "first"}}, "v": 1}),
    )
    .await;
    assert_eq!(noted["data"]["addContextNote"]["version"], 2, "{noted}");
    assert_eq!(
        noted["data"]["addContextNote"]["consultation"]["contextNotes"][0]["en"],
        "first"
    );
    // CONFLICT carries the expected and actual versions.
    let (_, stale) = gql(
        &app,
        ADD_NOTE,
        json!({"input": {"consultationId": c, "note": {"en": "late"}}, "v": 1}),
    )
    .await;
    assert_eq!(code(&stale), "CONFLICT");
    assert_eq!(stale["errors"][0]["extensions"]["actual"], 2);
    // Both versions are numbers.
    assert_eq!(stale["errors"][0]["extensions"]["expected"], 1);
    // NOT_FOUND is not an error for a missing consultation: it is null.
    let (_, missing) = gql(
        &app,
        "query($id: UUID!) { consultation(id: $id) { id } }",
        json!({"id": Uuid::new_v4()}),
    )
    .await;
    assert_eq!(missing["data"]["consultation"], Value::Null);
    // No internal detail ever reaches a client.
    for response in [&blank, &malformed, &orphan, &duplicate, &reused, &stale] {
        let text = response.to_string().to_lowercase();
        assert!(!text.contains("sql") && !text.contains("src/"), "{text}");
    }
}

async fn concurrent_mutations_with_one_expected_version_have_one_winner(db: &TestDb) {
    let app = app(db, false).await;
    let c = reference("c/race");
    let plan =
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }";
    gql(
        &app,
        plan,
        json!({"input": {"consultationId": c, "kind": "WORKSHOP",
        "title": {"fr": "Atelier"}, "schedule": {"start": {"year": 2025}}}}),
    )
    .await;
    let mut handles = Vec::new();
    for n in 0..16 {
        let router = app.app.router.clone();
        let bearer = format!("Bearer {}", app.admin);
        handles.push(tokio::spawn(async move {
            let body = json!({"query": ADD_NOTE, "variables": {"input": {"consultationId": c, "note": {"en": format!("note {n}")}}, "v": 1}}).to_string();
            let mut request = post(&body, "application/json");
            request.headers_mut().insert(header::AUTHORIZATION, bearer.parse().unwrap());
            let response = router.oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }));
    }
    let (mut wins, mut conflicts) = (0, 0);
    for handle in handles {
        let response = handle.await.unwrap();
        if response["data"]["addContextNote"]["version"] == 2 {
            wins += 1;
        } else {
            assert_eq!(code(&response), "CONFLICT", "{response}");
            conflicts += 1;
        }
    }
    assert_eq!((wins, conflicts), (1, 15));
}

async fn pages_have_no_duplicates_or_holes(db: &TestDb) {
    let app = app(db, true).await;
    let plan =
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }";
    for n in 0..23 {
        let (_, r) = gql(&app, plan, json!({"input": {"consultationId": reference(&format!("c/page/{n}")),
            "kind": "WORKSHOP", "title": {"fr": format!("Essai {n}")},
            "schedule": {"start": {"year": 2020 + n % 5, "month": 1 + n % 12, "day": 1 + n % 28}}, "region": "MA-03"}})).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let page = "query($after: String, $desc: ConsultationSort) { consultations(first: 4, after: $after, sort: $desc) {
        totalCount pageInfo { hasNextPage } edges { cursor node { id schedule { start { earliest } } } } } }";
    for sort in ["START_DATE_ASC", "START_DATE_DESC"] {
        let (mut after, mut seen, mut dates) = (Value::Null, Vec::new(), Vec::new());
        loop {
            let (_, r) = gql(&app, page, json!({"after": after, "desc": sort})).await;
            let conn = &r["data"]["consultations"];
            assert_eq!(conn["totalCount"], 28, "{r}");
            let edges = conn["edges"].as_array().unwrap();
            for edge in edges {
                seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
                // The first day the start can be (a start known to the month has no day).
                let start = &edge["node"]["schedule"]["start"]["earliest"];
                dates.push(start.as_str().unwrap_or("").to_owned());
            }
            if conn["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = edges.last().unwrap()["cursor"].clone();
        }
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(
            (seen.len(), unique.len()),
            (28, 28),
            "{sort}: no duplicate, no hole"
        );
        let mut sorted = dates.clone();
        sorted.sort();
        if sort == "START_DATE_DESC" {
            sorted.reverse();
        }
        assert_eq!(dates, sorted, "{sort}");
    }
    let (_, filtered) = gql(
        &app,
        "{ consultations(filter: {region: \"MA-03\", search: \"essai\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(filtered["data"]["consultations"]["totalCount"], 23);
    let (_, big) = gql(
        &app,
        "{ consultations(first: 1000) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&big), "LIMIT_EXCEEDED");
}

/// The numbers below were counted by hand in the five articles (see seeds/facts).
/// Pages reuse consultations parsed at the same row position; a change written by another
/// instance on the same database moves the position, so the next page shows it.
async fn a_page_shows_changes_made_through_another_instance(db: &TestDb) {
    let (reader, writer) = (app(db, false).await, app(db, false).await);
    let c = reference("c/cached");
    let plan =
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }";
    let (_, r) = gql(
        &writer,
        plan,
        json!({"input": {"consultationId": c, "kind": "WORKSHOP",
        "title": {"fr": "Atelier"}, "schedule": {"start": {"year": 2025}}}}),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let page = "{ consultations(first: 5) { edges { node { id version contextNotes { en } } } } }";
    let notes = |r: &Value| r["data"]["consultations"]["edges"][0]["node"].clone();
    let (_, before) = gql(&reader, page, json!({})).await;
    assert_eq!(notes(&before)["contextNotes"], json!([]), "{before}");
    let (_, again) = gql(&reader, page, json!({})).await;
    assert_eq!(notes(&again), notes(&before), "a second read is the same");
    let (_, r) = gql(
        &writer,
        ADD_NOTE,
        json!({"input": {"consultationId": c, "note": {"en": "later"}}, "v": 1}),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let (_, after) = gql(&reader, page, json!({})).await;
    assert_eq!(
        notes(&after),
        json!({"id": c, "version": 2, "contextNotes": [{"en": "later"}]}),
        "{after}"
    );
}

async fn dashboard_matches_a_hand_count_of_the_seeds(db: &TestDb) {
    let app = app(db, true).await;
    let group = "{ key label fr: label(language: FR) count }";
    let query = format!(
        "{{ dashboard(today: \"2026-11-22\") {{ today
        consultationsByStatus {group} consultationsByRegion {group} consultationsByMonth {group}
        recommendationsByStatus {group} recommendationsByTheme {group} actionsByStatus {group}
        overdueActions {{ id }} actionsDueSoon {{ id }}
        committedBudgetByRegion {{ key fr: label(language: FR) total {{ amount currency }} agreements }}
        committedBudgetByProgramme {{ key label en: label(language: EN) total {{ amount currency }} agreements }}
        progress {{ actions done average overdue dueSoon }} }} }}"
    );
    let (_, r) = gql(&app, &query, json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
    let d = &r["data"]["dashboard"];
    assert_eq!(d["today"], "2026-11-22");
    let counts = |key: &str| -> Vec<(String, i64)> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().unwrap_or("null").to_owned(),
                    c["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let labels = |key: &str, language: &str| -> Vec<String> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[language].as_str().unwrap().to_owned())
            .collect()
    };
    // Five consultations: two in Fès-Meknès (001, 003), two in Rabat (000 at the ministry,
    // 002 the National Industry Day), one in Casablanca (004); all held and closed. Keys are
    // what the filters take (the enum's value, the region code); labels are for reading.
    assert_eq!(counts("consultationsByStatus"), vec![("CLOSED".into(), 5)]);
    assert_eq!(
        (
            labels("consultationsByStatus", "label"),
            labels("consultationsByStatus", "fr")
        ),
        (vec!["مختتم".to_owned()], vec!["clôturée".to_owned()])
    );
    assert_eq!(
        counts("consultationsByRegion"),
        vec![
            ("MA-03".into(), 2),
            ("MA-04".into(), 2),
            ("MA-06".into(), 1)
        ]
    );
    assert_eq!(
        labels("consultationsByRegion", "fr"),
        vec!["Fès-Meknès", "Rabat-Salé-Kénitra", "Casablanca-Settat"]
    );
    // Known months: October 2017 (000), November 2024 (001), November 2025 (002); 003 and 004
    // give only "a Tuesday": no key, last.
    assert_eq!(
        counts("consultationsByMonth"),
        vec![
            ("2017-10".into(), 1),
            ("2024-11".into(), 1),
            ("2025-11".into(), 1),
            ("null".into(), 2)
        ]
    );
    assert_eq!(
        labels("consultationsByMonth", "label")[2..],
        ["نونبر 2025", "تاريخ غير محدد"]
    );
    assert_eq!(labels("consultationsByMonth", "fr")[0], "octobre 2017");
    // Five recommendations in 001, four in 003.
    assert_eq!(
        counts("recommendationsByStatus"),
        vec![("PROPOSED".into(), 9)]
    );
    let themes = counts("recommendationsByTheme");
    // 001's first recommendation no longer carries `made-in-morocco` (the Industry Day's).
    assert_eq!(themes.iter().map(|(_, n)| n).sum::<i64>(), 18, "{themes:?}");
    assert!(
        !themes.iter().any(|(theme, _)| theme == "made-in-morocco"),
        "{themes:?}"
    );
    assert!(
        themes.contains(&("export-development".into(), 2)),
        "{themes:?}"
    );
    assert!(themes.contains(&("governance".into(), 2)), "{themes:?}");
    // Committed budgets of signed agreements: 900 million MAD (002, innovation support
    // programme) and 250 million MAD (004, CTI plan 2022-2025, its own programme); the 290
    // million of the previous plan is not a new commitment.
    let budgets = |key: &str, language: &str| -> Vec<(String, String, String, i64)> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b[language].as_str().unwrap().to_owned(),
                    b["total"]["amount"].as_str().unwrap().to_owned(),
                    b["total"]["currency"].as_str().unwrap().to_owned(),
                    b["agreements"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let total = |label: &str, amount: &str, agreements: i64| {
        (
            label.to_owned(),
            amount.to_owned(),
            "MAD".to_owned(),
            agreements,
        )
    };
    // Both are national in scope (signed in Rabat and Casablanca, for the whole country): in no
    // region's budget, only under the null key of the all-regions total.
    assert_eq!(
        budgets("committedBudgetByRegion", "fr"),
        vec![total("national (aucune région)", "1150000000", 2)]
    );
    assert!(d["committedBudgetByRegion"][0]["key"].is_null());
    assert_eq!(
        budgets("committedBudgetByProgramme", "en"),
        vec![
            total(
                "Industrial Technical Centres Development Plan 2022-2025",
                "250000000",
                1
            ),
            total("Industrial Innovation Support Programme", "900000000", 1)
        ]
    );
    assert_eq!(
        d["committedBudgetByProgramme"][1]["key"], "برنامج دعم الابتكار الصناعي",
        "the key is the programme as shown, Arabic first"
    );
    // One follow-up action (004's objective contracts), not started, no due date.
    assert_eq!(counts("actionsByStatus"), vec![("NOT_STARTED".into(), 1)]);
    assert_eq!(
        (&d["overdueActions"], &d["actionsDueSoon"]),
        (&json!([]), &json!([]))
    );
    assert_eq!(
        d["progress"],
        json!({"actions": 1, "done": 0, "average": 0, "overdue": 0, "dueSoon": 0})
    );
    // Arguments out of their range are refused, naming them.
    for (query, expected) in [
        (
            "{ dashboard(region: \"MA-13\") { today } }",
            ("VALIDATION", Some("region")),
        ),
        (
            "{ dashboard(from: \"2025-02-01\", to: \"2025-01-31\") { today } }",
            ("VALIDATION", Some("to")),
        ),
        (
            "{ dashboard { overdueActions(first: 0) { id } } }",
            ("LIMIT_EXCEEDED", None),
        ),
        (
            "{ search(text: \"fes\", first: 51) { score } }",
            ("LIMIT_EXCEEDED", None),
        ),
    ] {
        let (_, r) = gql(&app, query, json!({})).await;
        let field = r["errors"][0]["extensions"]["field"].as_str();
        assert_eq!((code(&r), field), expected, "{query}: {r}");
    }
    // Agreements: five signed on the National Industry Day, one in 004.
    let (_, a) = gql(
        &app,
        "{ agreements(status: SIGNED, first: 50) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        a["data"]["agreements"]["edges"].as_array().unwrap().len(),
        6
    );
}

async fn consultations_as_they_were(db: &TestDb) {
    let app = app(db, true).await;
    let id = reference("consultation/fes-meknes-export-2024");
    let q = "query($id: UUID!, $v: Int, $t: DateTime) { consultation(id: $id, asOfVersion: $v, asOf: $t) {
        version status participants { role } recommendations { id } } }";
    let (_, now) = gql(&app, q, json!({"id": id})).await;
    let now = &now["data"]["consultation"];
    assert_eq!(now["status"], "CLOSED", "{now}");
    let (_, first) = gql(&app, q, json!({"id": id, "v": 1})).await;
    let first = &first["data"]["consultation"];
    assert_eq!(
        (first["version"].as_i64(), first["status"].as_str()),
        (Some(1), Some("PLANNED"))
    );
    assert_eq!(first["participants"], json!([]));
    let (_, events) = gql(
        &app,
        "query($id: UUID!) { streamEvents(streamId: $id) { version recordedAt actorName hash } }",
        json!({"id": id}),
    )
    .await;
    let events = events["data"]["streamEvents"].as_array().unwrap();
    assert!(events.len() > 5);
    assert!(events.iter().all(|e| e["actorName"] == "Seed loader"));
    let at = events[0]["recordedAt"].as_str().unwrap();
    let (_, then) = gql(&app, q, json!({"id": id, "t": at})).await;
    assert!(then["data"]["consultation"]["version"].as_i64().unwrap() >= 1);
    let (_, both) = gql(&app, q, json!({"id": id, "v": 1, "t": at})).await;
    assert_eq!(code(&both), "VALIDATION");
    // The history of one recommendation: the events that name it.
    let rec = now["recommendations"][0]["id"].as_str().unwrap();
    let (_, history) = gql(
        &app,
        "query($s: UUID!, $e: UUID!) { history(streamId: $s, entityId: $e) { eventType actorId } }",
        json!({"s": id, "e": rec}),
    )
    .await;
    assert_eq!(
        history["data"]["history"][0]["eventType"], "RecommendationProposed",
        "{history}"
    );
}

async fn limits_answer_limit_exceeded(db: &TestDb) {
    let mut config = AppConfig::new(&db.url);
    config.limits.max_body_bytes = 2048;
    let app = api(config).await;
    let deep = format!(
        "{{ consultations {{ edges {{ node {{ {} }} }} }} }}",
        "a { ".repeat(20) + &"}".repeat(20)
    );
    let (_, r) = gql(&app, &deep, json!({})).await;
    assert_eq!(
        code(&r),
        "VALIDATION",
        "unknown fields fail validation first: {r}"
    );
    let nested = "{ consultations { edges { node { actions { reports { progress } } recommendations { text { ar } } participants { capacity { ar } } } } } }";
    let (_, ok) = gql(&app, nested, json!({})).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let complex = format!("{{ {} }}", (0..60).map(|i| format!("a{i}: consultations(first: 100) {{ edges {{ node {{ id title recommendations {{ id }} }} }} }}")).collect::<Vec<_>>().join(" "));
    let big = json!({"query": complex}).to_string();
    let (status, _, body) = send(&app, post(&big, "application/json")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("LIMIT_EXCEEDED"));

    let mut config = AppConfig::new(&db.url);
    config.limits.request_timeout = Duration::ZERO;
    let slow = api(config).await;
    let (status, _, body) = send(
        &slow,
        post(
            &json!({"query": "{ dashboard { progress { actions } } }"}).to_string(),
            "application/json",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(body.contains("LIMIT_EXCEEDED"));

    let app = api(AppConfig::new(&db.url)).await;
    let (_, r) = gql(&app, &complex, json!({})).await;
    assert_eq!(code(&r), "LIMIT_EXCEEDED", "{r}");
    // Thirteen levels of real fields: refused (introspection's `ofType` chains are not counted:
    // the tools' own query nests them; see the_standard_introspection_query_rebuilds_the_schema).
    let too_deep = format!(
        "{{ organisation(id: \"{}\") {{ {} id {} }} }}",
        uuid::Uuid::nil(),
        "parent { ".repeat(12),
        "}".repeat(12)
    );
    let (_, r) = gql(&app, &too_deep, json!({})).await;
    assert_eq!(code(&r), "LIMIT_EXCEEDED", "{r}");
    let deep_enough = format!(
        "{{ organisation(id: \"{}\") {{ {} id {} }} }}",
        uuid::Uuid::nil(),
        "parent { ".repeat(10),
        "}".repeat(10)
    );
    let (_, r) = gql(&app, &deep_enough, json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
}

/// A page of 20 consultations with participants, recommendations and actions, counted from the
/// statements a real server logs (sqlx logs every statement at debug level).
async fn a_page_of_twenty_takes_a_constant_number_of_statements(db: &TestDb) {
    let seeded = app(db, true).await;
    let plan =
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }";
    let action = "mutation($input: CreateActionInput!) { createAction(input: $input) { version } }";
    let owner = reference("org/mic");
    for n in 0..20 {
        let c = reference(&format!("c/n1/{n}"));
        gql(&seeded, plan, json!({"input": {"consultationId": c, "kind": "WORKSHOP",
            "title": {"fr": format!("Atelier {n}")}, "schedule": {"start": {"year": 2026, "month": 1}}}})).await;
        let (_, r) = gql(
            &seeded,
            action,
            json!({"input": {"actionId": reference(&format!("a/n1/{n}")),
            "consultationId": c, "title": {"fr": "Suivi"}, "ownerOrganisationId": owner}}),
        )
        .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    // Each of them with a named participant who signs an agreement for their organisation.
    let run = |command: Value| {
        let store = seeded.app.store.clone();
        async move {
            let parsed = serde_json::from_value(command.clone()).expect("a command");
            let context = shura::commands::CommandContext::new(Actor::new("test", "Test"));
            shura::commands::execute(&store, parsed, context)
                .await
                .unwrap_or_else(|e| panic!("{command}: {e}"));
        }
    };
    let signer = reference("person/n1");
    run(
        json!({"aggregate": "person", "type": "register_person", "person_id": signer,
        "name": {"latin": "Signataire"}}),
    )
    .await;
    run(
        json!({"aggregate": "person", "type": "start_post", "person_id": signer,
        "post_id": reference("post/n1"), "organisation_id": owner, "title": {"fr": "Directeur"}}),
    )
    .await;
    for n in 0..20 {
        let (c, p) = (
            reference(&format!("c/n1/{n}")),
            reference(&format!("p/n1/{n}")),
        );
        run(
            json!({"aggregate": "consultation", "type": "add_organiser", "consultation_id": c,
            "organisation_id": reference("org/direction-promotion-economie-sociale")}),
        )
        .await;
        run(
            json!({"aggregate": "consultation", "type": "register_participant",
            "consultation_id": c, "participant_id": p, "person_id": signer,
            "organisation_id": owner, "role": "signatory", "attendance": "invited"}),
        )
        .await;
        run(
            json!({"aggregate": "consultation", "type": "record_agreement",
            "consultation_id": c, "agreement_id": reference(&format!("ag/n1/{n}")),
            "title": {"fr": "Convention"}, "kind": "memorandum",
            "parties": [{"participant_id": p, "signatory_person_id": signer}]}),
        )
        .await;
    }
    let token = seeded.admin.clone();
    drop(seeded);
    let mut server = Server::start(
        &db.url,
        // Statements are counted from the log: the asOf history's own would mix in.
        &["--no-seed", "--no-as-of-history"],
        &[("RUST_LOG", "sqlx::query=debug")],
    )
    .await;
    server.token = Some(token);
    let query = "{ consultations(first: 20) { totalCount edges { node { id participants { role } recommendations { id } agreements { id } actions { id title } } } } }";
    // A first request opens the pool's connections (their set-up statements are not the page's);
    // it reads no consultation, so the first page below finds no parsed document.
    server
        .graphql(
            "{ organisations(first: 20) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let mut counts = Vec::new();
    for _ in 0..3 {
        let (count, body) = statements_of(&server, query).await;
        let nodes = body["data"]["consultations"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), 20);
        assert!(nodes
            .iter()
            .any(|n| !n["node"]["actions"].as_array().unwrap().is_empty()));
        counts.push(count);
    }
    // The token check, the page, the total count, and one batched load of the actions: 4
    // statements, whatever the page size, plus one batched read of the documents the process
    // has not parsed yet (the first time).
    assert_eq!(counts, vec![5, 4, 4], "statements per request");

    // Every edge of the graph on the same page (the newest consultations: the 20 above, each
    // with an organiser that has a parent and a child, a named participant who signs, and an
    // action). Each kind of key is read with one statement per depth of the query where it is
    // asked for, whatever the page's size: a pass of the request's resolution asks for a whole
    // depth at once, and its batches are read when it pauses. Depths reached by different
    // branches (the organisers' parents, the actions' owners) share a statement or not as their
    // reads return together or not: hence a range, the same for 20 as for 5.
    let graph = "query($first: Int) { consultations(first: $first, sort: START_DATE_DESC) {
        totalCount edges { node { id
        organisers { name parent { name } children { name } people { name }
            consultations { title } actionsOwned { title } }
        participants { role person { name posts { title { fr } organisation { name } } }
            organisation { name } }
        recommendations { id proposer { role } }
        agreements { id budget { amount } parties { organisation { name } signatory { name } role } }
        keyFigures { value } points { speakers { role } }
        actions { id title owner { name } consultation { title } recommendations { id }
            agreement { id } } } } } }";
    // The first reads documents this process has not parsed yet.
    statements_of_with(&server, graph, json!({ "first": 20 })).await;
    let mut measured: Vec<(usize, usize)> = Vec::new();
    for first in [20, 5, 20, 5, 20, 5] {
        let (count, body) = statements_of_with(&server, graph, json!({ "first": first })).await;
        assert!(body["errors"].is_null(), "{body}");
        let nodes = body["data"]["consultations"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), first);
        let text = body.to_string();
        for edge in [
            "\"owner\":{\"name\"",
            "\"signatory\":{\"name\"",
            "\"parent\":{\"name\"",
            "\"posts\":[{",
            "\"children\":[{",
        ] {
            assert!(text.contains(edge), "{edge} in {text}");
        }
        measured.push((first, count));
    }
    server.stop().await;
    eprintln!("statements per page of the whole graph (page size, statements): {measured:?}");
    assert!(
        measured
            .iter()
            .all(|(_, count)| (MIN_GRAPH_STATEMENTS..=MAX_GRAPH_STATEMENTS).contains(count)),
        "{measured:?}: not within {MIN_GRAPH_STATEMENTS}-{MAX_GRAPH_STATEMENTS}"
    );
}

/// The statements of a page of consultations with every edge of the graph, whatever its size:
/// the token, the page and the count; then organisations, people and actions for the page's
/// nodes; then the organisers' parents, their four lists (children, people, consultations,
/// actions owned) and the actions' consultations; then the nodes of those lists not read yet in
/// the request. How many of these share a statement depends on which reads return together:
/// 13-21 measured, the same for 5 nodes as for 20, also on a loaded machine (CI). One statement
/// per node and edge would be well over 100 for 20 nodes; fewer than 10 would mean the log was
/// not read.
const MIN_GRAPH_STATEMENTS: usize = 10;
/// See [`MIN_GRAPH_STATEMENTS`].
const MAX_GRAPH_STATEMENTS: usize = 30;

/// Runs `query` on `server` and counts the SQL statements it logged (sqlx logs each at debug).
async fn statements_of(server: &Server, query: &str) -> (usize, Value) {
    statements_of_with(server, query, json!({})).await
}

async fn statements_of_with(server: &Server, query: &str, variables: Value) -> (usize, Value) {
    let before = server.log.lock().unwrap().len();
    let (status, body) = server.graphql(query, variables).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log.lock().unwrap();
    // Opening a new pool connection runs its set-up PRAGMAs once: not the page's statements.
    let statements: Vec<&String> = log[before..]
        .iter()
        .filter(|l| l.contains("sqlx::query") && !l.contains("PRAGMA "))
        .collect();
    if std::env::var_os("SHOW_STATEMENTS").is_some() {
        eprintln!("{statements:#?}");
    }
    (statements.len(), body)
}
async fn subscribers_get_appends_from_another_process_and_resume(db: &TestDb) {
    let store = db.domain_store().await;
    let token = admin_token(&store).await;
    let mut server = Server::start(&db.url, &["--no-seed"], &[]).await;
    server.token = Some(token.clone());
    let subscription = |after: i64| {
        format!(
            "subscription {{ eventsAppended(after: {after}) {{ position eventType streamId }} }}"
        )
    };
    let after = store.head().await.unwrap().position;
    let mut subscriber =
        Subscriber::subscribe(&server.addr, Some(&token), &subscription(after)).await;
    // This test process appends: another process than the server, on the same database.
    shura::seeds::apply(&store, &shura::seeds::embedded()[..1])
        .await
        .unwrap();
    let total = store.head().await.unwrap().position;
    let mut positions = Vec::new();
    while positions.len() < 10 {
        let data = subscriber.next_data().await;
        positions.push(data["eventsAppended"]["position"].as_i64().unwrap());
    }
    assert_eq!(positions, (after + 1..=after + 10).collect::<Vec<_>>());
    subscriber.close().await;

    // Reconnect from the last position seen: the rest, each once, in order.
    let mut resumed =
        Subscriber::subscribe(&server.addr, Some(&token), &subscription(after + 10)).await;
    let mut rest = Vec::new();
    while rest.len() < (total - after - 10) as usize {
        rest.push(
            resumed.next_data().await["eventsAppended"]["position"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(rest, (after + 11..=total).collect::<Vec<_>>());
    // A write through the server itself arrives too, and nothing else.
    let (_, r) = server.graphql("mutation($i: RegisterOrganisationInput!) { registerOrganisation(input: $i) { position } }",
        json!({"i": {"organisationId": Uuid::new_v4(), "name": {"fr": "Nouvelle"}, "kind": "AGENCY"}})).await;
    let position = r["data"]["registerOrganisation"]["position"]
        .as_i64()
        .unwrap();
    assert_eq!(
        resumed.next_data().await["eventsAppended"]["position"],
        position
    );
    assert!(resumed.quiet_for(Duration::from_millis(300)).await);
    resumed.close().await;
    server.stop().await;
}

/// 200 subscriptions at once each receive every append once and in order, and the feed reads
/// from the store during the appends do not grow with the subscribers: one reader per schema
/// fans the events out in memory.
/// Open WebSockets cost nothing while nothing is appended: a token can change only through an
/// append, so every socket's token is checked when the log head moves, once per token and head
/// for all of them, not each on a timer. Counted from the statements the server process logs, so
/// that any path reading `rm_tokens` counts, and the appends come from another process (this
/// test's store), as a revocation by `shura token revoke` would.
async fn idle_websockets_cost_no_token_reads(db: &TestDb) {
    use common::server::Subscriber;
    const SOCKETS: usize = 30;
    let store = db.domain_store().await;
    let admin = admin_token(&store).await;
    let server = Server::start(
        &db.url,
        // Statements are counted from the log: the asOf history's own would mix in.
        &["--no-seed", "--no-as-of-history"],
        &[("RUST_LOG", "sqlx::query=debug")],
    )
    .await;
    let token_reads = || {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("sqlx::query") && l.contains("rm_tokens"))
            .count()
    };
    // From the head before anything is appended: a subscription without `after` starts at the
    // head when the server gets to it, which may already include the first append.
    let start = store.head().await.unwrap().position;
    let query = format!("subscription {{ eventsAppended(after: {start}) {{ position }} }}");
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(Subscriber::subscribe(&server.addr, Some(&admin), &query).await);
    }
    let append = |n: usize| {
        let store = store.clone();
        async move {
            shura::auth::create_token(
                &store,
                &format!("moves the head {n}"),
                Role::Viewer,
                &[],
                Actor::new("test", "Test"),
            )
            .await
            .unwrap();
        }
    };
    let receive_all = |sockets: &mut Vec<Subscriber>| {
        let sockets = std::mem::take(sockets);
        async move {
            let mut back = Vec::new();
            for mut socket in sockets {
                let message = socket.next_message().await;
                assert_eq!(message["type"], "next", "{message}");
                back.push(socket);
            }
            back
        }
    };
    // Once every socket has an event, all are open and watched.
    append(0).await;
    sockets = receive_all(&mut sockets).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_from = token_reads();
    // Several of the hub's head polls pass: nothing is read for the idle sockets (a socket
    // checking its token on a timer would read it about 4 times a second each).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(token_reads(), idle_from, "idle sockets read tokens");
    // Each append: one read for the one token every socket and subscription uses (fewer when
    // the server sees two appends as one move of the head).
    for n in 1..=3 {
        append(n).await;
        sockets = receive_all(&mut sockets).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reads = token_reads() - idle_from;
    assert!(
        (1..=3).contains(&reads),
        "{reads} token reads for 3 appends and {SOCKETS} sockets"
    );
    drop(sockets);
    server.stop().await;
}

async fn hundreds_of_subscribers_share_one_feed_reader(db: &TestDb) {
    use async_graphql::Request as GqlRequest;
    use shura::auth::Access;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const SUBSCRIBERS: usize = 200;
    const WRITERS: usize = 4;
    const APPENDS_PER_WRITER: usize = 10;
    let appends = (WRITERS * APPENDS_PER_WRITER) as i64;
    let store = db.domain_store().await;
    let bearer = admin_token(&store).await;
    let principal = shura::auth::authenticate(store.pool(), &bearer)
        .await
        .unwrap()
        .unwrap();
    let access = Access::Token(principal);
    let state = shura::graphql::ApiState::new(store.clone(), Default::default());
    let feed = state.feed.clone();
    let schema = shura::graphql::schema(state);
    let start = store.head().await.unwrap().position;
    // The warm-up event and then the appends, each one event.
    let expected: Vec<i64> = (start + 1..=start + 1 + appends).collect();

    let register = |schema: shura::graphql::ShuraSchema, access: Access| async move {
        let response = schema
            .execute(
                GqlRequest::new(
                    "mutation($i: RegisterOrganisationInput!) { \
                     registerOrganisation(input: $i) { position } }",
                )
                .variables(async_graphql::Variables::from_json(json!({"i": {
                    "organisationId": Uuid::new_v4(), "name": {"fr": "Abonnés"}, "kind": "AGENCY"
                }})))
                .data(access),
            )
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    };

    let warmed = Arc::new(AtomicUsize::new(0));
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let schema = schema.clone();
        let access = access.clone();
        let warmed = warmed.clone();
        let want = expected.len();
        subscribers.push(tokio::spawn(async move {
            use futures_util::StreamExt;
            let request = GqlRequest::new(format!(
                "subscription {{ eventsAppended(after: {start}) {{ position }} }}"
            ))
            .data(access);
            let mut stream = schema.execute_stream(request);
            let mut positions = Vec::new();
            while positions.len() < want {
                let response = tokio::time::timeout(Duration::from_secs(60), stream.next())
                    .await
                    .expect("an event within a minute")
                    .expect("the stream goes on");
                assert!(response.errors.is_empty(), "{:?}", response.errors);
                let data = response.data.into_json().unwrap();
                positions.push(data["eventsAppended"]["position"].as_i64().unwrap());
                if positions.len() == 1 {
                    warmed.fetch_add(1, Ordering::SeqCst);
                }
            }
            // Nothing more: no event is delivered twice.
            let more = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
            assert!(more.is_err(), "an extra event: {more:?}");
            positions
        }));
    }

    // The warm-up append: once every subscription has it, all have joined the shared feed.
    register(schema.clone(), access.clone()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while warmed.load(Ordering::SeqCst) < SUBSCRIBERS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers never joined"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let reads_before = feed.store_reads();
    let checks_before = feed.token_checks();
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let schema = schema.clone();
            let access = access.clone();
            tokio::spawn(async move {
                for _ in 0..APPENDS_PER_WRITER {
                    register(schema.clone(), access.clone()).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    for subscriber in subscribers {
        assert_eq!(subscriber.await.unwrap(), expected);
    }
    let reads = feed.store_reads() - reads_before;
    // The subscribers share one token: it is checked once per head it is seen at, not once per
    // subscriber and event.
    let checks = feed.token_checks() - checks_before;
    assert!(
        checks <= appends as u64 + 1,
        "{checks} token checks for {appends} appends and {SUBSCRIBERS} subscribers"
    );
    assert_eq!(
        store.head().await.unwrap().position,
        *expected.last().unwrap()
    );
    // At most a read that finds events and one that finds none per append, whatever the number
    // of subscribers (following the feed each, they made at least 200 per append).
    assert!(
        reads <= 2 * appends as u64 + 2,
        "{reads} feed reads for {appends} appends and {SUBSCRIBERS} subscribers"
    );
    store.close().await;
}

/// A subscription that is not read while more events are appended than the shared buffer
/// holds still gets each of them once and in order (from the store), and one that keeps up is
/// not held back by it.
async fn a_subscriber_behind_the_buffer_catches_up_without_holding_others(db: &TestDb) {
    use async_graphql::Request as GqlRequest;
    use futures_util::StreamExt;
    use shura::store::{AppendRequest, ExpectedVersion, NewEvent, WriteContext};

    const EVENTS: i64 = 1_500; // more than the hub's buffer of 1,024
    let store = db.domain_store().await;
    let bearer = admin_token(&store).await;
    let principal = shura::auth::authenticate(store.pool(), &bearer)
        .await
        .unwrap()
        .unwrap();
    let access = shura::auth::Access::Token(principal);
    let schema = shura::graphql::schema(shura::graphql::ApiState::new(
        store.clone(),
        Default::default(),
    ));
    let start = store.head().await.unwrap().position;
    let append = |count: i64| AppendRequest {
        stream_id: Uuid::new_v4(),
        stream_type: "feedtest".into(),
        expected: ExpectedVersion::NoStream,
        events: (0..count)
            .map(|i| NewEvent::new("Ticked", json!({ "i": i })))
            .collect(),
        context: WriteContext::new(Actor::new("test", "Test")),
    };
    let open = || {
        schema.execute_stream(
            GqlRequest::new(format!(
                "subscription {{ eventsAppended(after: {start}) {{ position }} }}"
            ))
            .data(access.clone()),
        )
    };
    let position = |response: async_graphql::Response| {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response.data.into_json().unwrap()["eventsAppended"]["position"]
            .as_i64()
            .unwrap()
    };
    let (mut slow, mut fast) = (open(), open());
    store.append(append(1)).await.unwrap();
    async fn first(
        stream: &mut (impl futures_util::Stream<Item = async_graphql::Response> + Unpin),
    ) -> Option<Option<async_graphql::Response>> {
        tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .ok()
    }
    assert_eq!(
        position(first(&mut slow).await.unwrap().unwrap()),
        start + 1
    );
    assert_eq!(
        position(first(&mut fast).await.unwrap().unwrap()),
        start + 1
    );

    // Appended in batches so that the reader broadcasts them all while `slow` is not read.
    for _ in 0..(EVENTS / 100) {
        store.append(append(100)).await.unwrap();
    }
    let expected: Vec<i64> = (start + 2..=start + 1 + EVENTS).collect();
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        seen.push(position(first(&mut fast).await.unwrap().unwrap()));
    }
    assert_eq!(seen, expected, "the subscription that keeps up");
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        seen.push(position(first(&mut slow).await.unwrap().unwrap()));
    }
    assert_eq!(seen, expected, "the subscription that fell behind");
    for stream in [&mut slow, &mut fast] {
        let more = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
        assert!(more.is_err(), "an extra event: {more:?}");
    }
    store.close().await;
}

#[test]
fn schema_file_matches_the_served_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == shura::graphql::sdl(),
        "schema/schema.graphql differs from the served schema; regenerate it with \
         `cargo run -- schema > schema/schema.graphql`"
    );
}
