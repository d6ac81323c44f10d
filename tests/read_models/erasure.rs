//! Erasure of personal data: sealed contact details, a destroyed key, and a chain that still verifies.

use serde_json::{json, Value};
use shura::commands::{
    consultation_as_of_time, consultation_state, execute, AnyCommand, CommandContext, CommandError,
    CommandOutcome,
};
use shura::domain::consultation::Participant;
use shura::domain::Contact;
use shura::seeds::reference as id;
use shura::store::{
    Actor, AppendRequest, DbUuid, ExpectedVersion, NewEvent, Pool, Store, StoreError, WriteContext,
};
use uuid::Uuid;

use crate::common::{raw_i64, Backend, TestDb};

fn ctx() -> CommandContext {
    CommandContext::new(Actor::new("tester", "Test directorate"))
}

async fn try_run(
    store: &Store,
    value: Value,
    context: CommandContext,
) -> Result<CommandOutcome, CommandError> {
    let command: AnyCommand = serde_json::from_value(value).expect("a command");
    execute(store, command, context).await
}

async fn run(store: &Store, value: Value) -> CommandOutcome {
    try_run(store, value.clone(), ctx())
        .await
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// An organisation, two people and a consultation where both take part with contact details.
async fn world(store: &Store, contacts: [(&str, &str); 2]) {
    run(
        store,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("e/org"), "name": {"fr": "Direction régionale"},
        "kind": "regional_directorate", "region": "MA-03"}),
    )
    .await;
    for name in ["e/amina", "e/karim"] {
        run(
            store,
            json!({"aggregate": "person", "type": "register_person",
            "person_id": id(name), "name": {"latin": name}}),
        )
        .await;
    }
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
        "consultation_id": id("e/c"), "kind": "workshop", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2026, "month": 3}}, "region": "MA-03"}),
    )
    .await;
    for ((person, participant), (email, phone)) in [("e/amina", "e/p1"), ("e/karim", "e/p2")]
        .into_iter()
        .zip(contacts)
    {
        run(
            store,
            json!({"aggregate": "consultation", "type": "register_participant",
            "consultation_id": id("e/c"), "participant_id": id(participant),
            "person_id": id(person), "organisation_id": id("e/org"), "role": "attendee",
            "contact": {"email": email, "phone": phone}}),
        )
        .await;
    }
}

fn contact_of(state: &shura::domain::consultation::State, participant: &str) -> Option<Contact> {
    state
        .consultation
        .as_ref()
        .and_then(|c| c.participant(id(participant)))
        .and_then(|p: &Participant| p.contact.clone())
}

fn contact(email: &str, phone: Option<&str>) -> Contact {
    Contact {
        email: Some(email.to_owned()),
        phone: phone.map(str::to_owned),
        erased: false,
    }
}

fn erased() -> Contact {
    Contact {
        email: None,
        phone: None,
        erased: true,
    }
}

/// Rows of the log or of the read models whose text holds `needle`.
async fn rows_holding(store: &Store, needle: &str) -> i64 {
    let mut total = 0;
    for (table, column) in [
        ("events", "payload"),
        ("rm_participants", "doc"),
        ("rm_consultations", "doc"),
        ("rm_people", "doc"),
    ] {
        // Fixed table and column names; only the needle is data, and it is plain ASCII here.
        assert!(needle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.+ ".contains(c)));
        total += raw_i64(
            store,
            &format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%{needle}%'"),
        )
        .await;
    }
    total
}

/// The key sealing a person's data, as stored.
async fn secret_of(store: &Store, subject: Uuid) -> Option<Vec<u8>> {
    const SQL: &str = "SELECT secret FROM personal_keys WHERE subject_id = $1";
    match store.pool() {
        Pool::Sqlite(p) => {
            sqlx::query_scalar(SQL)
                .bind(DbUuid(subject))
                .fetch_optional(p)
                .await
        }
        Pool::Postgres(p) => {
            sqlx::query_scalar(SQL)
                .bind(DbUuid(subject))
                .fetch_optional(p)
                .await
        }
    }
    .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The SQLite database file and its write-ahead log, as bytes.
fn sqlite_bytes(db: &TestDb) -> Vec<u8> {
    let path = db.url.trim_start_matches("sqlite://");
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    bytes
}

async fn ndjson(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.export_ndjson(&mut out, 0).await.unwrap();
    out
}

/// Every byte of an open-data export.
async fn open_data_bytes(store: &Store) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    shura::open_data::export(store.pool(), dir.path())
        .await
        .unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

async fn rebuild_matches(store: &Store) {
    let report = store.rebuild_read_models(false).await.unwrap();
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

pub async fn erased_contact_details_are_gone_everywhere_and_the_chain_verifies(db: &TestDb) {
    let store = db.domain_store().await;
    let (email, phone) = ("amina.private@example.ma", "+212 6 61 98 76 54");
    let (other_email, other_phone) = ("karim.private@example.ma", "+212 6 62 11 22 33");
    world(&store, [(email, phone), (other_email, other_phone)]).await;
    run(
        &store,
        json!({"aggregate": "consultation", "type": "mark_consultation_held",
        "consultation_id": id("e/c")}),
    )
    .await;
    let before = consultation_state(&store, id("e/c"), None).await.unwrap();
    assert_eq!(
        contact_of(&before, "e/p1"),
        Some(contact(email, Some(phone)))
    );
    let version_before = i64::try_from(before.version).unwrap();
    // The log holds it sealed only; the read models in clear, for those allowed to read them.
    assert_eq!(
        raw_i64(
            &store,
            &format!("SELECT COUNT(*) FROM events WHERE payload LIKE '%{email}%'")
        )
        .await,
        0
    );
    assert_eq!(
        rows_holding(&store, email).await,
        2,
        "participant and consultation rows"
    );
    assert!(!contains(&ndjson(&store).await, email.as_bytes()));
    let secret = secret_of(&store, id("e/amina"))
        .await
        .expect("a key for the person");
    if db.backend == Backend::Sqlite {
        // The search below can find what is there.
        assert!(contains(&sqlite_bytes(db), email.as_bytes()));
    }

    // Erasure needs a reason and a person; a refusal destroys nothing.
    let erase = |reason: &str| {
        json!({"aggregate": "person", "type": "erase_contact",
        "person_id": id("e/amina"), "reason": reason})
    };
    let refused = try_run(&store, erase(" "), ctx()).await.unwrap_err();
    assert!(
        matches!(&refused, CommandError::Domain(e) if e.field() == "reason"),
        "{refused}"
    );
    assert!(
        secret_of(&store, id("e/amina")).await.is_some(),
        "nothing destroyed on refusal"
    );
    let unknown = json!({"aggregate": "person", "type": "erase_contact",
        "person_id": id("e/c"), "reason": "no such person"});
    let refused = try_run(&store, unknown, ctx()).await.unwrap_err();
    assert!(
        matches!(&refused, CommandError::Domain(e) if e.code() == "NOT_CREATED"),
        "{refused}"
    );
    let erased_at = run(&store, erase("request under law 09-08, art. 8")).await;

    // Recorded on the person's stream: what, by whom, why.
    let recorded = store.read_stream_stored(id("e/amina"), None).await.unwrap();
    let last = recorded.last().unwrap();
    assert_eq!(last.event_type, "ContactErased");
    assert_eq!(last.payload["reason"], "request under law 09-08, art. 8");
    assert_eq!(last.metadata.actor_name, "Test directorate");
    assert_eq!(last.position, erased_at.position);
    assert!(
        secret_of(&store, id("e/amina")).await.is_none(),
        "the key is destroyed"
    );

    // Folded state, time travel (by version and by time), read models: erased; the other
    // participant keeps theirs.
    let now = consultation_state(&store, id("e/c"), None).await.unwrap();
    assert_eq!(contact_of(&now, "e/p1"), Some(erased()));
    assert_eq!(
        contact_of(&now, "e/p2"),
        Some(contact(other_email, Some(other_phone)))
    );
    let then = consultation_state(&store, id("e/c"), Some(version_before))
        .await
        .unwrap();
    assert_eq!(contact_of(&then, "e/p1"), Some(erased()));
    let by_time = consultation_as_of_time(&store, id("e/c"), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(contact_of(&by_time, "e/p1"), Some(erased()));
    assert_eq!(rows_holding(&store, email).await, 0);
    assert_eq!(rows_holding(&store, other_email).await, 2);
    let row: Value = serde_json::from_str(&shura_doc(&store, "e/p1").await).unwrap();
    assert_eq!(
        row["contact"],
        json!({"email": null, "phone": null, "erased": true})
    );

    // The chain verifies, and a rebuild gives the same erased read models.
    assert!(store.verify(&[]).await.unwrap().is_intact());
    rebuild_matches(&store).await;
    store.rebuild_read_models(true).await.unwrap();
    assert_eq!(rows_holding(&store, email).await, 0);

    // No export holds it; nor does the database file.
    let exported = ndjson(&store).await;
    assert!(!contains(&exported, email.as_bytes()) && !contains(&exported, phone.as_bytes()));
    assert!(contains(&exported, b"ContactErased"));
    let open = open_data_bytes(&store).await;
    assert!(!contains(&open, email.as_bytes()) && !contains(&open, phone.as_bytes()));
    match db.backend {
        Backend::Sqlite => {
            let bytes = sqlite_bytes(db);
            assert!(
                !contains(&bytes, email.as_bytes()),
                "the e-mail is in the file"
            );
            assert!(
                !contains(&bytes, phone.as_bytes()),
                "the phone is in the file"
            );
            assert!(!contains(&bytes, &secret), "the key is in the file");
            assert!(
                contains(&bytes, other_email.as_bytes()),
                "the search finds what is there"
            );
        }
        // Live rows only (checked above): dead tuples stay until VACUUM (see the README).
        Backend::Postgres => {}
    }
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM personal_keys").await,
        1
    );

    // New details given after the erasure are sealed under a new key and read again, live and
    // after a rebuild alike.
    run(
        &store,
        json!({"aggregate": "consultation", "type": "change_participant_contact",
        "consultation_id": id("e/c"), "participant_id": id("e/p1"),
        "contact": {"email": "amina.new@example.ma"}}),
    )
    .await;
    let again = consultation_state(&store, id("e/c"), None).await.unwrap();
    assert_eq!(
        contact_of(&again, "e/p1"),
        Some(contact("amina.new@example.ma", None))
    );
    assert_ne!(secret_of(&store, id("e/amina")).await, Some(secret));
    rebuild_matches(&store).await;
    assert!(store.verify(&[]).await.unwrap().is_intact());
    store.close().await;
}

/// The participant row's document.
async fn shura_doc(store: &Store, participant: &str) -> String {
    crate::common::raw_text(
        store,
        &format!(
            "SELECT doc FROM rm_participants WHERE participant_id = '{}'",
            id(participant)
        ),
    )
    .await
}

pub async fn contact_details_can_be_changed_and_stay_sealed(db: &TestDb) {
    let store = db.domain_store().await;
    world(
        &store,
        [
            ("first@example.ma", "+212 5 35 11 11 11"),
            ("k@example.ma", "+212 5 35 22 22 22"),
        ],
    )
    .await;
    let change = |contact: Value| {
        json!({"aggregate": "consultation", "type": "change_participant_contact",
        "consultation_id": id("e/c"), "participant_id": id("e/p1"), "contact": contact})
    };
    let first_change = run(&store, change(json!({"email": "second@example.ma"}))).await;
    assert_eq!(first_change.appended, 1);
    // The same details again change nothing.
    assert_eq!(
        run(&store, change(json!({"email": "second@example.ma"})))
            .await
            .appended,
        0
    );
    let removed = json!({"aggregate": "consultation", "type": "change_participant_contact",
        "consultation_id": id("e/c"), "participant_id": id("e/p1")});
    run(&store, removed).await;
    assert_eq!(
        contact_of(
            &consultation_state(&store, id("e/c"), None).await.unwrap(),
            "e/p1"
        ),
        None
    );

    // A retry with the same key answers as the first time; other details with it are refused.
    let mut keyed = ctx();
    keyed.idempotency_key = Some("third-contact".into());
    let third = change(json!({"email": "third@example.ma", "phone": "+212 5 35 33 33 33"}));
    let first = try_run(&store, third.clone(), keyed.clone()).await.unwrap();
    let retry = try_run(&store, third, keyed.clone()).await.unwrap();
    assert!(retry.replayed && retry.appended == 0 && retry.position == first.position);
    let other = try_run(&store, change(json!({"email": "fourth@example.ma"})), keyed).await;
    assert!(
        matches!(
            other,
            Err(CommandError::Store(StoreError::IdempotencyMismatch { .. }))
        ),
        "{other:?}"
    );

    // Refusals name the field and the rule.
    for (bad, field) in [
        (json!({"email": "not-an-address"}), "contact.email"),
        (json!({"phone": "12"}), "contact.phone"),
        (
            json!({"email": "x@example.ma", "erased": true}),
            "contact.erased",
        ),
    ] {
        let refused = try_run(&store, change(bad), ctx()).await.unwrap_err();
        assert!(
            matches!(&refused, CommandError::Domain(e) if e.field() == field && e.code() == "INVALID_FORMAT"),
            "{field}: {refused}"
        );
    }

    // State, time travel and read models follow the changes; the log holds none of them in clear.
    let now = consultation_state(&store, id("e/c"), None).await.unwrap();
    assert_eq!(
        contact_of(&now, "e/p1"),
        Some(contact("third@example.ma", Some("+212 5 35 33 33 33")))
    );
    let at_first_change = consultation_state(&store, id("e/c"), Some(first_change.version))
        .await
        .unwrap();
    assert_eq!(
        contact_of(&at_first_change, "e/p1"),
        Some(contact("second@example.ma", None))
    );
    assert!(shura_doc(&store, "e/p1").await.contains("third@example.ma"));
    for email in ["first@example.ma", "second@example.ma", "third@example.ma"] {
        let in_log = raw_i64(
            &store,
            &format!("SELECT COUNT(*) FROM events WHERE payload LIKE '%{email}%'"),
        )
        .await;
        assert_eq!(in_log, 0, "{email} is in the log in clear");
        assert!(!contains(&ndjson(&store).await, email.as_bytes()));
    }
    let sealed = raw_i64(
        &store,
        "SELECT COUNT(*) FROM events WHERE payload LIKE '%\"sealed\"%'",
    )
    .await;
    assert_eq!(sealed, 4, "two registrations and two changes with details");

    // Events written before sealing existed, with details in clear, still read.
    let version = store.stream_version(id("e/c")).await.unwrap();
    let old = json!({"participant": {"participant_id": id("e/p3"), "person_id": null,
        "organisation_id": id("e/org"), "capacity": null, "role": "attendee",
        "attendance": "invited", "contact": {"email": "old@example.ma", "phone": null}}});
    store
        .append(AppendRequest {
            stream_id: id("e/c"),
            stream_type: "consultation".into(),
            expected: ExpectedVersion::Exact(version),
            events: vec![NewEvent::new("ParticipantRegistered", old)],
            context: WriteContext::new(Actor::new("tester", "Test directorate")),
        })
        .await
        .unwrap();
    let now = consultation_state(&store, id("e/c"), None).await.unwrap();
    assert_eq!(
        contact_of(&now, "e/p3"),
        Some(contact("old@example.ma", None))
    );
    assert!(store.verify(&[]).await.unwrap().is_intact());
    rebuild_matches(&store).await;
    store.close().await;
}
