//! Open data over HTTP and Popolo: the latest package as a zip (access, cache by head, ETag,
//! failures), Popolo JSON, and read-only snapshots served by `serve --read-only`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use shura::app::AppConfig;
use shura::open_data::{popolo, Package};
use shura::store::{Projector, Store};
use tower::ServiceExt;

use crate::checkpoints::shura;

use crate::common::{raw_execute, raw_i64, TestDb};
use crate::{admin_token, app, gql_as, Api};

const ZIP_PATH: &str = "/open-data/latest.zip";
const EMAIL: &str = "private.person@example.ma";
const PHONE: &str = "+212 6 61 23 45 67";

/// A GET through the router; returns status, headers and body bytes.
async fn get(
    api: &Api,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = api
        .app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The entries of a zip archive, in the archive's order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().unwrap().into_owned(), content)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_contact(name: &str, bytes: &[u8]) {
    for needle in [
        EMAIL.as_bytes(),
        PHONE.as_bytes(),
        b"@example.ma",
        b"61 23 45 67",
    ] {
        assert!(
            !contains(bytes, needle),
            "{name} contains {}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// Runs `frictionless validate` on a package directory when the tool is installed (CI installs
/// it); otherwise says so and skips.
fn frictionless_validates(dir: &Path) {
    let installed = std::process::Command::new("python3")
        .args(["-m", "frictionless", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the frictionless tool is missing (.ci/run installs it)"
        );
        println!("notice: `frictionless` is not installed; package validation skipped");
        return;
    }
    let out = std::process::Command::new("python3")
        .args(["-m", "frictionless", "validate"])
        .arg(dir.join("datapackage.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "frictionless validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Plans a consultation and registers a participant with an e-mail and a phone in it.
async fn participant_with_contact(api: &Api) {
    let (_, ids) = gql_as(
        api,
        Some(&api.admin),
        "{ organisations(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let organisation = ids["data"]["organisations"]["edges"][0]["node"]["id"].clone();
    assert!(organisation.is_string(), "{ids}");
    let consultation = uuid::Uuid::new_v4();
    let (_, planned) = gql_as(
        api,
        Some(&api.admin),
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }",
        json!({"input": {"consultationId": consultation, "kind": "WORKSHOP",
            "title": {"fr": "Atelier ouvert"}, "schedule": {"start": {"year": 2026, "month": 12}},
            "region": "MA-03"}}),
    )
    .await;
    assert!(planned.get("errors").is_none(), "{planned}");
    let (_, registered) = gql_as(
        api,
        Some(&api.admin),
        "mutation($input: RegisterParticipantInput!) { registerParticipant(input: $input) { version } }",
        json!({"input": {"consultationId": consultation, "participantId": uuid::Uuid::new_v4(),
            "organisationId": organisation, "role": "SPEAKER",
            "capacity": {"fr": "Chef de service"},
            "contact": {"email": EMAIL, "phone": PHONE}}}),
    )
    .await;
    assert!(registered.get("errors").is_none(), "{registered}");
}

pub async fn open_data_latest_zip_and_popolo(db: &TestDb) {
    let api = app(db, true).await;
    let store = api.app.store.clone();
    participant_with_contact(&api).await;

    // Without a token (and without --public-read): 401, as for GraphQL; a bad token too.
    let (status, headers, _) = get(&api, ZIP_PATH, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    let forged = bearer("shura_00000000000000000000000000000000_x");
    let (status, _, _) = get(&api, ZIP_PATH, &[(header::AUTHORIZATION, &forged)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // With a token: the package of the head, zipped, named and tagged with the head's hash.
    let admin = bearer(&api.admin);
    let auth = [(header::AUTHORIZATION, admin.as_str())];
    let (status, headers, zipped) = get(&api, ZIP_PATH, &auth).await;
    assert_eq!(status, StatusCode::OK);
    let head = store.head().await.unwrap();
    let etag = format!("\"{}\"", head.hash);
    assert_eq!(headers[header::ETAG], etag.as_str());
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!(
            "attachment; filename=\"shura-open-data-{}.zip\"",
            head.position
        )
        .as_str()
    );
    let entries = unzip(&zipped);
    let package = Package::current(store.pool()).await.unwrap();
    assert_eq!(package.head, head);
    assert_eq!(
        entries, package.files,
        "the zip holds the package, in order"
    );
    let descriptor: Value = serde_json::from_slice(&entries.last().unwrap().1).unwrap();
    assert_eq!(descriptor["shura"]["log_position"], json!(head.position));
    // Foreign keys are declared, and each names a resource of the package and its key.
    let resources: BTreeMap<String, Value> = descriptor["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    let participants = &resources["participants"]["schema"]["foreignKeys"];
    assert!(participants.as_array().unwrap().contains(&json!({
        "fields": ["consultation_id"],
        "reference": {"resource": "consultations", "fields": ["consultation_id"]}
    })));
    for (name, resource) in &resources {
        for key in resource["schema"]["foreignKeys"].as_array().unwrap() {
            let target = key["reference"]["resource"].as_str().unwrap();
            let target = if target.is_empty() { name } else { target };
            assert_eq!(
                resources[target]["schema"]["primaryKey"], key["reference"]["fields"],
                "{name} refers to {target}'s key"
            );
        }
    }
    for (name, bytes) in &entries {
        assert_no_contact(name, bytes);
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in &entries {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    frictionless_validates(dir.path());

    // Kept while the head stays: the same bytes, at once and to concurrent clients; a client
    // holding the tag gets 304 without a body.
    let concurrent = futures_util::future::join_all((0..4).map(|_| get(&api, ZIP_PATH, &auth)));
    for (status, headers, bytes) in concurrent.await {
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::ETAG], etag.as_str());
        assert!(bytes == zipped, "the kept zip");
    }
    let (status, _, body) = get(
        &api,
        ZIP_PATH,
        &[
            (header::AUTHORIZATION, admin.as_str()),
            (header::IF_NONE_MATCH, etag.as_str()),
        ],
    )
    .await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));

    // Popolo: the same facts, deterministic, every reference resolving, no contact details.
    let out = tempfile::tempdir().unwrap();
    let (popolo_head, path) = popolo::export(store.pool(), out.path()).await.unwrap();
    assert_eq!(popolo_head, head);
    assert_eq!(path, out.path().join("popolo.json"));
    let bytes = std::fs::read(&path).unwrap();
    let again = out.path().join("again.json");
    popolo::export(store.pool(), &again).await.unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        bytes,
        "same head, same bytes"
    );
    let cli_file = out.path().join("cli.json");
    let cli = shura(
        &db.url,
        &[
            "export",
            "--format",
            "popolo",
            "--out",
            cli_file.to_str().unwrap(),
        ],
    );
    assert!(cli.status.success(), "{cli:?}");
    assert_eq!(
        std::fs::read(&cli_file).unwrap(),
        bytes,
        "the CLI writes the same"
    );
    assert_no_contact("popolo.json", &bytes);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["meta"]["shura"]["head_hash"], json!(head.hash));
    let ids = |list: &str| -> BTreeSet<String> {
        doc[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (persons, organizations, posts) = (ids("persons"), ids("organizations"), ids("posts"));
    let csv_rows = |name: &str| {
        let resource = &package.resources;
        resource.iter().find(|(n, _)| n == name).unwrap().1
    };
    assert_eq!(persons.len(), csv_rows("people"));
    assert_eq!(organizations.len(), csv_rows("organisations"));
    assert_eq!(posts.len(), csv_rows("posts"));
    assert_eq!(ids("events").len(), csv_rows("consultations"));
    assert_eq!(ids("memberships").len(), posts.len());
    assert!(!persons.is_empty() && !posts.is_empty());
    for m in doc["memberships"].as_array().unwrap() {
        assert!(persons.contains(m["person_id"].as_str().unwrap()), "{m}");
        assert!(
            organizations.contains(m["organization_id"].as_str().unwrap()),
            "{m}"
        );
        assert!(posts.contains(m["post_id"].as_str().unwrap()), "{m}");
    }
    let mut attendees = 0;
    for e in doc["events"].as_array().unwrap() {
        assert!(e["name"].is_string(), "{e}");
        // Popolo's dates: YYYY, YYYY-MM or YYYY-MM-DD; left out when unknown.
        for key in ["start_date", "end_date"] {
            if let Some(date) = e.get(key) {
                let date = date.as_str().unwrap();
                let parts: Vec<&str> = date.split('-').collect();
                assert!(parts.len() <= 3 && parts[0].len() == 4, "{e}");
                assert!(date.bytes().all(|b| b.is_ascii_digit() || b == b'-'), "{e}");
            }
        }
        if let Some(organizer) = e.get("organization_id") {
            assert!(organizations.contains(organizer.as_str().unwrap()), "{e}");
        }
        for a in e["attendees"].as_array().unwrap() {
            assert!(persons.contains(a["id"].as_str().unwrap()), "{e}");
            attendees += 1;
        }
    }
    assert!(attendees > 0, "the seeds record people who attended");
    for o in doc["organizations"].as_array().unwrap() {
        if let Some(parent) = o.get("parent_id") {
            assert!(organizations.contains(parent.as_str().unwrap()), "{o}");
        }
    }

    // The log moves on: the next download is the new head's package, with its tag.
    let second_admin = admin_token(&store).await;
    let (status, headers, newer) = get(&api, ZIP_PATH, &auth).await;
    let moved = store.head().await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_ne!(moved, head);
    assert_eq!(
        headers[header::ETAG],
        format!("\"{}\"", moved.hash).as_str()
    );
    assert!(unzip(&newer) == Package::current(store.pool()).await.unwrap().files);

    // --public-read: anyone may download it.
    let mut config = AppConfig::new(&db.url);
    config.public_read = true;
    let public = crate::api(config).await;
    let (status, _, open) = get(&public, ZIP_PATH, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let current = Package::current(store.pool()).await.unwrap();
    assert!(
        unzip(&open) == current.files,
        "the public zip is the head's package"
    );
    public.app.store.close().await;

    // A package that cannot be built is a 503 with nothing of the cause: a read-model document
    // that no longer parses, after the head moved (so the kept zip is stale).
    admin_token(&store).await;
    raw_execute(
        &store,
        "UPDATE rm_organisations SET doc = '{\"broken\": true}'",
    )
    .await
    .unwrap();
    let (status, headers, body) = get(
        &api,
        ZIP_PATH,
        &[(header::AUTHORIZATION, bearer(&second_admin).as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key(header::RETRY_AFTER));
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("cannot be built"), "{body}");
    for secret in ["rm_organisations", "parse", "missing field", "broken"] {
        assert!(!body.contains(secret), "{body}");
    }
    store.close().await;
}

/// The read models of a store, row by row, as the rebuild compares them.
async fn dump(store: &Store) -> Vec<String> {
    let mut tx = store.pool().begin().await.unwrap();
    let rows = shura::projections::ReadModels.dump(&mut tx).await.unwrap();
    tx.rollback().await.unwrap();
    rows
}

/// A fresh SQLite store holding the first `position` events of `source`, read models rebuilt:
/// what a snapshot at `position` must equal, made the other way (export, cut, import).
async fn rebuilt_cut(source: &Store, position: i64, dir: &Path) -> Store {
    let cut = crate::common::log_cut(source, position).await;
    let mut config =
        shura::store::StoreConfig::new(format!("sqlite://{}", dir.join("cut.db").display()));
    config.projector = Some(std::sync::Arc::new(shura::projections::ReadModels));
    let store = Store::open(config).await.unwrap();
    store
        .import_ndjson(&mut tokio::io::BufReader::new(cut.as_bytes()))
        .await
        .unwrap();
    store.rebuild_read_models(true).await.unwrap();
    store
}

pub async fn a_snapshot_serves_the_read_models_as_of_its_position(db: &TestDb) {
    let source = db.domain_store().await;
    // A token first, so that it is valid in the snapshot: its holder is refused writes there
    // because the server is read-only, not because it is unknown.
    let admin = admin_token(&source).await;
    shura::seeds::apply(&source, &shura::seeds::embedded())
        .await
        .unwrap();
    let head = source.head().await.unwrap();
    let position = head.position / 2;
    assert!(position > 2, "{head:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.db");
    let file_arg = file.to_str().unwrap();
    let at = position.to_string();

    let made = shura(&db.url, &["snapshot", "--at", &at, "--out", file_arg]);
    assert!(made.status.success(), "{made:?}");
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(said.contains(&format!("at position {position}")), "{said}");
    // Never an overwrite; past the head and nonsense are refused, naming --at.
    let before = std::fs::read(&file).unwrap();
    let again = shura(&db.url, &["snapshot", "--at", &at, "--out", file_arg]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(
        std::fs::read(&file).unwrap() == before,
        "the file is untouched"
    );
    let past = (head.position + 1).to_string();
    let other = dir.path().join("other.db");
    let refused = shura(
        &db.url,
        &["snapshot", "--at", &past, "--out", other.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--at"));
    assert!(!other.exists(), "nothing is left behind");
    let nonsense = shura(
        &db.url,
        &[
            "snapshot",
            "--at",
            "yesterday",
            "--out",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(nonsense.status.code(), Some(2), "{nonsense:?}");
    assert!(String::from_utf8_lossy(&nonsense.stderr).contains("--at"));

    // The chain is intact and the read models match a rebuild: `shura verify` on the file.
    let url = format!("sqlite://{file_arg}");
    let verified = shura(&url, &["verify"]);
    assert!(verified.status.success(), "{verified:?}");
    let events = source.read_all_stored(0, position).await.unwrap();
    let cut_head = shura(&url, &["head"]);
    assert_eq!(
        String::from_utf8_lossy(&cut_head.stdout).trim(),
        format!("{position}:{}", events.last().unwrap().hash)
    );

    // Served read-only: the read models are those of a fresh rebuild of the log cut there.
    let mut config = AppConfig::new(&url);
    config.read_only = true;
    // Not `api()`: that appends a token of its own; the token made before the cut is used.
    let served = Api {
        app: shura::app::build(config).await.unwrap(),
        admin: admin.clone(),
    };
    assert_eq!(served.app.store.head().await.unwrap().position, position);
    let expected = rebuilt_cut(&source, position, dir.path()).await;
    let rows = dump(&served.app.store).await;
    assert!(!rows.is_empty());
    assert_eq!(rows, dump(&expected).await);
    assert_ne!(rows, dump(&source).await, "the cut is not the whole log");
    let (_, count) = gql_as(
        &served,
        Some(&admin),
        "{ consultations(first: 50) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        count["data"]["consultations"]["totalCount"],
        json!(raw_i64(&expected, "SELECT COUNT(*) FROM rm_consultations").await),
        "{count}"
    );

    // Every write is refused, with a code, and nothing is appended.
    let (status, refused) = gql_as(
        &served,
        Some(&admin),
        "mutation($input: PlanConsultationInput!) { planConsultation(input: $input) { version } }",
        json!({"input": {"consultationId": uuid::Uuid::new_v4(), "kind": "WORKSHOP",
            "title": {"fr": "Refusé"}, "schedule": {"start": {"year": 2026}}, "region": "MA-03"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let extensions = &refused["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "FORBIDDEN", "{refused}");
    assert_eq!(extensions["rule"], "READ_ONLY", "{refused}");
    let (status, _, body) = crate::raw(
        &served,
        Request::post("/meetings/new")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("title.fr=Refus%C3%A9"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("READ_ONLY"), "{body}");
    let (status, _, _) = get(&served, "/signin", &[]).await;
    assert_eq!(status, StatusCode::OK, "reading pages still works");
    assert_eq!(served.app.store.head().await.unwrap().position, position);
    served.app.store.close().await;
    expected.close().await;

    // A time cuts after the last event recorded at or before it.
    let all = source.read_all_stored(0, head.position).await.unwrap();
    let instant = all[usize::try_from(position).unwrap() - 1]
        .metadata
        .recorded_at;
    let prefix = all
        .iter()
        .take_while(|e| e.metadata.recorded_at <= instant)
        .count();
    let timed = dir.path().join("timed.db");
    let text = instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let made = shura(
        &db.url,
        &["snapshot", "--at", &text, "--out", timed.to_str().unwrap()],
    );
    assert!(made.status.success(), "{made:?}");
    let timed_head = shura(&format!("sqlite://{}", timed.display()), &["head"]);
    assert_eq!(
        String::from_utf8_lossy(&timed_head.stdout).trim(),
        format!("{prefix}:{}", all[prefix - 1].hash)
    );
    source.close().await;
}
