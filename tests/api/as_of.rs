//! `asOf(position, time)`: the whole graph as a fresh rebuild of the log cut at a position would
//! answer it, beside live fields in the same request, for auditors and admins only.

use serde_json::{json, Value};
use shura::app::AppConfig;

use super::common::{rebuilt_cut, TestDb};
use super::{admin_token, gql, gql_as, Api};

/// Root fields across every read model, the log and the graph's edges. Nothing in it depends on
/// the clock (the dashboard's day is given).
const ROOT: &str = r#"
  logHead { position hash }
  dashboard(today: "2026-01-15") {
    consultationsByStatus { key count } consultationsByRegion { key count }
    consultationsByMonth { key count } recommendationsByTheme { key count }
    actionsByStatus { key count }
    committedBudgetByRegion { key total { amount currency } agreements }
    committedBudgetByProgramme { key agreements }
    progress { actions done average overdue dueSoon }
    overdueActions(first: 5) { id title }
  }
  scoped: dashboard(today: "2026-01-15", region: "MA-03", from: "2024-01-01", theme: "export-development") {
    consultationsByStatus { key count } consultationsByMonth { key count }
    recommendationsByTheme { key count } actionsByStatus { key count }
    committedBudgetByRegion { key agreements } committedBudgetByProgramme { key agreements }
    progress { actions overdue dueSoon } overdueActions(first: 5) { id }
  }
  consultations(first: 15) { totalCount nodes { id version position status title region
    participants { id role attendance contact { email phone erased }
      person { name } organisation { name } }
    recommendations { id status themes }
    agreements { id status budget { amount } scope { level region } parties { __typename } }
    keyFigures { id value unit }
    actions { id progress status reports { on progress } } } }
  actions(first: 20) { totalCount nodes { id progress owner { name } } }
  agreements(first: 20) { totalCount nodes { id title { ar fr } } }
  keyFigures(first: 20) { totalCount nodes { id value unit } }
  organisations(first: 20) { totalCount nodes { id name kind } }
  people(first: 20) { totalCount nodes { id name posts { id } } }
  recommendations(first: 20) { totalCount nodes { id status } }
  search(text: "فاس", first: 10) { score kind title }
  events(after: 0, first: 100) { position hash eventType }
"#;

fn rule(response: &Value) -> (&str, &str) {
    let extensions = &response["errors"][0]["extensions"];
    (
        extensions["code"].as_str().unwrap_or("none"),
        extensions["rule"].as_str().unwrap_or("none"),
    )
}

pub async fn as_of_answers_as_a_rebuild_of_the_log_cut_there(db: &TestDb) {
    let source = db.domain_store().await;
    // The token first, so that it is valid at every position sampled.
    let admin = admin_token(&source).await;
    let from = source.head().await.unwrap().position;
    shura::seeds::apply(&source, &shura::seeds::embedded())
        .await
        .unwrap();
    let mut config = AppConfig::new(&db.url);
    config.seed_if_empty = false;
    let api = Api {
        app: shura::app::build(config).await.unwrap(),
        admin,
    };
    let seeded = source.head().await.unwrap().position;
    // After the seeds, changes that reach seeded entities through the graph's edges (an
    // action of a seeded consultation, its progress, a renamed organisation): a field under
    // `asOf(position: seeded)` that read the live record would show them.
    let (seeded_consultation, org, action) = (
        shura::seeds::reference("consultation/fes-meknes-export-2024"),
        shura::seeds::reference("org/ccis-fes-meknes"),
        uuid::Uuid::new_v4(),
    );
    for (mutation, input) in [
        (
            "createAction(input: $p)",
            json!({"actionId": action, "consultationId": seeded_consultation,
                "title": {"fr": "Suivi tardif"}, "ownerOrganisationId": org,
                "due": {"year": 2026, "month": 6}}),
        ),
        (
            "reportProgress(input: $p)",
            json!({"actionId": action, "on": "2026-04-01", "progress": 30}),
        ),
        (
            "renameOrganisation(input: $p)",
            json!({"organisationId": org, "name": {"fr": "Chambre renommée"}, "reason": "test"}),
        ),
    ] {
        let kind = mutation.split('(').next().unwrap();
        let input_type = format!("{}{}Input", kind[..1].to_uppercase(), &kind[1..]);
        let (_, made) = gql(
            &api,
            &format!("mutation($p: {input_type}!) {{ {mutation} {{ version }} }}"),
            json!({"p": input}),
        )
        .await;
        assert!(made["errors"].is_null(), "{made}");
    }
    // A participant with contact details (sealed with the person's key).
    let (consultation, person, participant) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let (_, made) = gql(
        &api,
        "mutation($p: PlanConsultationInput!) { planConsultation(input: $p) { version } }",
        json!({"p": {"consultationId": consultation, "kind": "WORKSHOP",
            "title": {"fr": "Atelier témoin"}, "schedule": {"start": {"year": 2026}},
            "region": "MA-03"}}),
    )
    .await;
    assert!(made["errors"].is_null(), "{made}");
    let (_, made) = gql(
        &api,
        "mutation($p: RegisterPersonInput!) { registerPerson(input: $p) { version } }",
        json!({"p": {"personId": person, "name": {"latin": "Témoin Asof"}}}),
    )
    .await;
    assert!(made["errors"].is_null(), "{made}");
    let (_, made) = gql(
        &api,
        "mutation($p: RegisterParticipantInput!) { registerParticipant(input: $p) { version } }",
        json!({"p": {"consultationId": consultation, "participantId": participant,
            "personId": person, "role": "ATTENDEE", "attendance": "INVITED",
            "contact": {"email": "temoin@example.ma"}}}),
    )
    .await;
    assert!(made["errors"].is_null(), "{made}");
    let head = source.head().await.unwrap().position;

    // Random positions (printed on failure), the first after the token, and the head.
    let seed = uuid::Uuid::new_v4().as_u128();
    let span = u128::try_from(head - from).unwrap();
    let mut positions: Vec<i64> = (0..3u32)
        .map(|i| from + 1 + i64::try_from((seed >> (i * 32)) % span).unwrap())
        .collect();
    positions.extend([from + 1, seeded, head]);
    for position in positions {
        let (_, answered) = gql(
            &api,
            &format!("query($p: Int) {{ asOf(position: $p) {{ {ROOT} }} }}"),
            json!({"p": position}),
        )
        .await;
        assert!(
            answered["errors"].is_null(),
            "position {position}: {answered}"
        );
        let (cut, fresh) = rebuilt_cut(&source, position, db.backend).await;
        let mut config = AppConfig::new(&fresh.url);
        config.read_only = true;
        let rebuilt = Api {
            app: shura::app::build(config).await.unwrap(),
            admin: api.admin.clone(),
        };
        // Read-only writes nothing beside the file it serves, not even the asOf history.
        if let Some(file) = fresh.url.strip_prefix("sqlite://") {
            assert!(!std::path::Path::new(&format!("{file}.history")).exists());
        }
        let (_, expected) = gql(&rebuilt, &format!("{{ {ROOT} }}"), json!({})).await;
        assert!(expected["errors"].is_null(), "{expected}");
        assert_eq!(
            answered["data"]["asOf"], expected["data"],
            "asOf(position: {position}) differs from a rebuild of the log cut there (head {head}, seed {seed})"
        );
        assert_eq!(
            answered["data"]["asOf"]["logHead"]["position"],
            json!(position)
        );
        rebuilt.app.store.close().await;
        cut.close().await;
        fresh.cleanup().await;
    }

    // At most KEPT snapshots stay, whatever the positions asked about, and a position kept is
    // answered from its snapshot rather than built again.
    let snapshots = shura::time_travel::Snapshots::new(source.clone());
    let mut built = Vec::new();
    for position in [from + 1, from + 2, head] {
        let snapshot = snapshots.at(position).await.unwrap();
        assert_eq!(snapshot.head.position, position);
        built.push(snapshot);
    }
    assert_eq!(snapshots.kept().await.unwrap(), shura::time_travel::KEPT);
    let again = snapshots.at(head).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&again, &built[2]));
    drop((again, built, snapshots));

    // Live fields beside asOf in one request read the live record.
    let middle = from + (head - from) / 2;
    let (_, both) = gql(
        &api,
        "query($p: Int) { logHead { position } asOf(position: $p) { logHead { position } \
         consultations(first: 1) { totalCount } } consultations(first: 1) { totalCount } }",
        json!({"p": middle}),
    )
    .await;
    assert_eq!(both["data"]["logHead"]["position"], json!(head), "{both}");
    assert_eq!(
        both["data"]["asOf"]["logHead"]["position"],
        json!(middle),
        "{both}"
    );

    // A time stands for the last event recorded at or before it.
    let events = source.read_all_stored(0, head).await.unwrap();
    let instant = events[usize::try_from(middle - 1).unwrap()]
        .metadata
        .recorded_at;
    let expected = events
        .iter()
        .filter(|e| e.metadata.recorded_at <= instant)
        .map(|e| e.position)
        .max()
        .unwrap();
    let (_, timed) = gql(
        &api,
        "query($t: DateTime) { asOf(time: $t) { logHead { position } } }",
        json!({"t": instant.to_rfc3339()}),
    )
    .await;
    assert_eq!(
        timed["data"]["asOf"]["logHead"]["position"],
        json!(expected),
        "{timed}"
    );

    // Bad arguments name the field and the rule.
    for (args, field_rule) in [
        (format!("position: {}", head + 1), "PAST_HEAD"),
        ("position: -1".to_owned(), "NEGATIVE"),
        (String::new(), "REQUIRED"),
        (
            "position: 1, time: \"2026-01-01T00:00:00Z\"".to_owned(),
            "EXCLUSIVE",
        ),
    ] {
        let query = if args.is_empty() {
            "{ asOf { logHead { position } } }".to_owned()
        } else {
            format!("{{ asOf({args}) {{ logHead {{ position }} }} }}")
        };
        let (_, refused) = gql(&api, &query, json!({})).await;
        assert_eq!(rule(&refused), ("VALIDATION", field_rule), "{refused}");
    }
    let (_, nested) = gql(
        &api,
        "{ asOf(position: 1) { asOf(position: 2) { logHead { position } } } }",
        json!({}),
    )
    .await;
    assert_eq!(rule(&nested), ("VALIDATION", "NESTED"), "{nested}");

    // Auditors and admins only.
    let editor = shura::auth::create_token(
        &api.app.store,
        "editor",
        shura::domain::token::Role::Editor,
        &["MA-03".to_owned()],
        shura::store::Actor::new("test", "Test"),
    )
    .await
    .unwrap()
    .bearer;
    let query = "{ asOf(position: 1) { logHead { position } } }";
    let (_, refused) = gql_as(&api, Some(&editor), query, json!({})).await;
    assert_eq!(rule(&refused).0, "FORBIDDEN", "{refused}");
    let (_, refused) = gql_as(&api, None, query, json!({})).await;
    assert_eq!(rule(&refused).0, "UNAUTHENTICATED", "{refused}");

    // Contact details read as they do live: erased once the person is erased, even at a
    // position asked about (and kept) before the erasure.
    let contact = "query($p: Int, $c: UUID!) { asOf(position: $p) { consultation(id: $c) { \
                   participants { id contact { email erased } } } } }";
    let of = |answer: &Value| {
        answer["data"]["asOf"]["consultation"]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == json!(participant))
            .map(|p| p["contact"].clone())
            .unwrap()
    };
    let (_, before) = gql(&api, contact, json!({"p": head, "c": consultation})).await;
    assert_eq!(
        of(&before),
        json!({"email": "temoin@example.ma", "erased": false}),
        "{before}"
    );
    let (_, erased) = gql(
        &api,
        "mutation($p: ErasePersonInput!) { erasePerson(input: $p) { version } }",
        json!({"p": {"personId": person, "reason": "request under law 09-08"}}),
    )
    .await;
    assert!(erased["errors"].is_null(), "{erased}");
    let (_, after) = gql(&api, contact, json!({"p": head, "c": consultation})).await;
    assert_eq!(
        of(&after),
        json!({"email": null, "erased": true}),
        "{after}"
    );
    // On SQLite the history is kept beside the database file (for the next start); the
    // erasure removed the one holding the details: no file there holds them in clear.
    if let Some(file) = db.url.strip_prefix("sqlite://") {
        let dir = std::path::PathBuf::from(format!("{file}.history"));
        assert!(dir.is_dir(), "the history is kept beside {file}");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(17).any(|w| w == b"temoin@example.ma"),
                "{} holds the erased details",
                path.display()
            );
        }
    }
    api.app.store.close().await;
}

/// A record not ready within the wait is answered `UNAVAILABLE` with when to ask again (the
/// build goes on); asked again, it is answered. The dashboard's day under `asOf` is the cut's.
pub async fn an_as_of_being_prepared_says_when_to_ask_again(db: &TestDb) {
    let source = db.domain_store().await;
    let admin = admin_token(&source).await;
    shura::seeds::apply(&source, &shura::seeds::embedded())
        .await
        .unwrap();
    let mut config = AppConfig::new(&db.url);
    config.seed_if_empty = false;
    // No wait: every record not kept yet is "being prepared". Built by a copy and replay of
    // the log (no history), which takes long enough to be seen unfinished.
    config.as_of_wait = std::time::Duration::ZERO;
    config.as_of_history = false;
    let api = Api {
        app: shura::app::build(config).await.unwrap(),
        admin,
    };
    let position = source.head().await.unwrap().position - 3;
    let query = format!(
        "{{ asOf(position: {position}) {{ logHead {{ position }} dashboard {{ today }} }} \
         events(after: {}, first: 1) {{ recordedAt }} }}",
        position - 1
    );
    let (_, first) = gql(&api, &query, json!({})).await;
    let error = &first["errors"][0];
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{first}");
    assert!(
        error["extensions"]["retryAfter"].as_u64().unwrap() >= 1,
        "{first}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("position {position}")),
        "{first}"
    );
    // The live field beside it is answered.
    assert!(first["data"]["events"].is_array(), "{first}");
    let answer = until_ready(&api, &query).await;
    assert_eq!(answer["data"]["asOf"]["logHead"]["position"], position);
    // The dashboard's day: the day the cut's last event was recorded.
    let recorded = answer["data"]["events"][0]["recordedAt"].as_str().unwrap();
    assert_eq!(
        answer["data"]["asOf"]["dashboard"]["today"]
            .as_str()
            .unwrap(),
        &recorded[..10],
        "{answer}"
    );
    // By time: the instant's day, even past the last event.
    let by_time = until_ready(
        &api,
        "{ asOf(time: \"2031-05-04T12:00:00Z\") { dashboard { today } } }",
    )
    .await;
    assert_eq!(by_time["data"]["asOf"]["dashboard"]["today"], "2031-05-04");
    api.app.store.close().await;
}

/// Asks `query` until it is answered without error; every refusal meanwhile must be
/// `UNAVAILABLE` (a record being prepared).
async fn until_ready(api: &Api, query: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, answer) = gql(api, query, json!({})).await;
        if answer["errors"].is_null() {
            return answer;
        }
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "UNAVAILABLE",
            "{answer}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "never ready: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
