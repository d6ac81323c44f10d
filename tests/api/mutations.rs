//! Every mutation through GraphQL: a scenario that runs each one on its happy path with typed
//! inputs, and each one refusing malformed input with `VALIDATION` naming the field by its
//! GraphQL path.

use serde_json::{json, Value};
use shura::seeds::reference as id;

use super::{app, code, gql};
use crate::common;
use common::TestDb;

/// The input type of a mutation: `registerOrganisation` takes a `RegisterOrganisationInput!`.
pub fn input_type(mutation: &str) -> String {
    let mut chars = mutation.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}Input", chars.as_str())
}

/// A document running `mutation` with `$input` of its input type, selecting `selection`.
pub fn document(mutation: &str, selection: &str) -> String {
    format!(
        "mutation($input: {}!) {{ {mutation}(input: $input) {{ {selection} }} }}",
        input_type(mutation)
    )
}

/// Every mutation of the schema, in an order where each one's happy path can follow the last.
pub fn scenario() -> Vec<(&'static str, Value)> {
    let (org, other, person, c, c2, p, r, r2, a, act) = (
        id("m/org"),
        id("m/other"),
        id("m/person"),
        id("m/c"),
        id("m/c2"),
        id("m/p"),
        id("m/r"),
        id("m/r2"),
        id("m/a"),
        id("m/act"),
    );
    vec![
        (
            "registerOrganisation",
            json!({"organisationId": org, "name": {"ar": "وزارة الصناعة والتجارة"}, "kind": "MINISTRY"}),
        ),
        (
            "registerOrganisation",
            json!({"organisationId": other, "name": {"fr": "Chambre de commerce"}, "kind": "CHAMBER", "region": "MA-03"}),
        ),
        (
            "renameOrganisation",
            json!({"organisationId": org, "name": {"ar": "وزارة الصناعة والتجارة", "fr": "Ministère de l'Industrie et du Commerce"}, "acronym": "MIC", "reason": "official name"}),
        ),
        (
            "correctOrganisationDetails",
            json!({"organisationId": other, "name": {"fr": "Chambre de commerce de Fès"}, "kind": "CHAMBER", "region": "MA-03", "reason": "typo"}),
        ),
        (
            "changeOrganisationParent",
            json!({"organisationId": other, "parentId": org, "reason": "supervision"}),
        ),
        (
            "registerPerson",
            json!({"personId": person, "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}, "honorific": {"ar": "السيد"}}),
        ),
        (
            "startPost",
            json!({"personId": person, "postId": id("m/post"), "organisationId": org, "title": {"fr": "Secrétaire d'État"}, "start": {"year": 2021, "month": 10}, "attestedOn": {"year": 2024, "month": 11, "day": 29, "weekday": "FRIDAY"}}),
        ),
        (
            "endPost",
            json!({"personId": person, "postId": id("m/post"), "end": {"year": 2026}, "reason": "term ended"}),
        ),
        (
            "correctPersonName",
            json!({"personId": person, "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}, "honorific": {"fr": "M."}, "reason": "honorific"}),
        ),
        (
            "planConsultation",
            json!({"consultationId": c, "kind": "REGIONAL_CONSULTATION", "title": {"ar": "لقاء تشاوري"},
                "description": {"fr": "Préparation du programme régional"},
                "schedule": {"start": {"year": 2026, "month": 3}, "startTime": "10:00", "asStated": {"ar": "شهر مارس"}, "inferred": true},
                "place": {"name": {"ar": "مقر الولاية"}, "city": {"fr": "Fès"}, "region": "MA-03"}, "region": "MA-03",
                "purpose": {"en": "prepare the 2027 programme"},
                "occasion": {"name": {"fr": "Journée régionale de l'industrie"}, "period": {"start": {"year": 2026, "month": 3}}},
                "patronage": {"fr": "Sous l'égide du wali"}, "organisers": [org],
                "sources": [{"document": "m.txt", "publishedOn": {"year": 2026, "month": 2}, "title": {"fr": "Annonce"}, "author": {"fr": "MAP"}}],
                "contextNotes": [{"en": "first of a series"}]}),
        ),
        (
            "reviseConsultationDetails",
            json!({"consultationId": c, "kind": "REGIONAL_CONSULTATION", "title": {"ar": "لقاء تشاوري جهوي"}, "schedule": {"start": {"year": 2026, "month": 3, "day": 10, "weekday": "TUESDAY"}, "end": {"year": 2026, "month": 3, "day": 10}, "startTime": "10:00", "endTime": "13:30:00"}, "region": "MA-03", "reason": "date fixed"}),
        ),
        (
            "addOrganiser",
            json!({"consultationId": c, "organisationId": other}),
        ),
        (
            "addSource",
            json!({"consultationId": c, "source": {"publisher": {"fr": "MAP"}, "url": "https://example.org/a"}}),
        ),
        (
            "addContextNote",
            json!({"consultationId": c, "note": {"en": "prepares the 2027 programme"}}),
        ),
        (
            "registerParticipant",
            json!({"consultationId": c, "participantId": p, "personId": person, "organisationId": org, "capacity": {"fr": "Secrétaire d'État"}, "role": "SPEAKER", "attendance": "INVITED", "contact": {"email": "p@example.ma", "phone": "+212 5 35 00 00 00"}}),
        ),
        (
            "changeParticipantRole",
            json!({"consultationId": c, "participantId": p, "role": "CHAIR"}),
        ),
        (
            "changeParticipantContact",
            json!({"consultationId": c, "participantId": p, "contact": {"email": "p.new@example.ma"}}),
        ),
        (
            "erasePerson",
            json!({"personId": person, "reason": "request under law 09-08"}),
        ),
        ("markConsultationHeld", json!({"consultationId": c})),
        (
            "recordAttendance",
            json!({"consultationId": c, "participantId": p, "attendance": "ATTENDED"}),
        ),
        (
            "proposeRecommendation",
            json!({"consultationId": c, "recommendationId": r, "text": {"ar": "تعزيز التكوين"}, "themes": ["training"], "proposer": p}),
        ),
        (
            "proposeRecommendation",
            json!({"consultationId": c, "recommendationId": r2, "text": {"ar": "تعزيز التكوين المستمر"}, "themes": ["training"]}),
        ),
        (
            "reviseRecommendationText",
            json!({"consultationId": c, "recommendationId": r, "text": {"ar": "تعزيز التكوين والتكوين المستمر"}, "reason": "merged wording"}),
        ),
        (
            "changeRecommendationStatus",
            json!({"consultationId": c, "recommendationId": r2, "to": {"status": "MERGED", "into": r}, "reason": "duplicate"}),
        ),
        (
            "recordAgreement",
            json!({"consultationId": c, "agreementId": a, "title": {"ar": "اتفاقية شراكة"}, "kind": "PARTNERSHIP_AGREEMENT", "status": "SIGNED", "parties": [{"organisationId": org, "signatoryPersonId": person, "commitments": [{"fr": "financer la formation"}]}],
                "budget": {"amount": "1000000", "currency": "MAD"}, "period": {"start": {"year": 2026}, "end": {"year": 2028}},
                "programme": {"fr": "Programme régional de formation"}, "objectives": [{"fr": "former 500 jeunes"}],
                "notes": [{"en": "co-funded"}], "signedOn": {"year": 2026, "month": 3, "day": 10}}),
        ),
        (
            "addAgreementSignatory",
            json!({"consultationId": c, "agreementId": a, "party": {"organisationId": other, "signatoryCapacity": {"fr": "Président de la chambre"}}}),
        ),
        (
            "reviseAgreementBudget",
            json!({"consultationId": c, "agreementId": a, "budget": {"amount": "1250000.50", "currency": "MAD"}, "reason": "co-funding"}),
        ),
        (
            "changeAgreementScope",
            json!({"consultationId": c, "agreementId": a, "scope": {"level": "REGIONAL", "region": "MA-06"}, "reason": "Casablanca-Settat's programme"}),
        ),
        (
            "recordKeyFigure",
            json!({"consultationId": c, "keyFigureId": id("m/kf"), "indicator": {"en": "industrial exports"}, "value": "2600000000", "unit": "MAD",
                "period": {"start": {"year": 2024}}, "asOf": {"year": 2024, "month": 12}, "region": "MA-03",
                "source": {"publisher": {"fr": "HCP"}}, "stated": {"ar": "2,6 مليار درهم"}, "notes": [{"fr": "hors phosphates"}]}),
        ),
        (
            "raisePoint",
            json!({"consultationId": c, "pointId": id("m/pt"), "text": {"ar": "إحداث فضاءات للعمل المشترك"}, "kind": "ASSESSMENT", "speakers": [p], "themes": ["exports"]}),
        ),
        (
            "createAction",
            json!({"actionId": act, "consultationId": c, "recommendationIds": [r], "agreementId": a, "title": {"fr": "Plan de formation"}, "description": {"fr": "Sessions de formation"}, "ownerOrganisationId": org, "due": {"year": 2026, "month": 6}, "budget": {"amount": "250000", "currency": "MAD"}}),
        ),
        (
            "reportProgress",
            json!({"actionId": act, "on": "2026-04-01", "progress": 30, "note": {"fr": "deux sessions tenues"}}),
        ),
        (
            "changeActionStatus",
            json!({"actionId": act, "to": "BLOCKED", "reason": "awaiting funds"}),
        ),
        (
            "extendDeadline",
            json!({"actionId": act, "to": {"year": 2026, "month": 12}, "reason": "funds late"}),
        ),
        (
            "reassignOwner",
            json!({"actionId": act, "to": other, "reason": "chamber leads"}),
        ),
        (
            "reviseActionBudget",
            json!({"actionId": act, "to": {"amount": "300000", "currency": "MAD"}, "reason": "scope"}),
        ),
        (
            "changeActionStatus",
            json!({"actionId": act, "to": "CANCELLED", "reason": "merged into the regional plan"}),
        ),
        (
            "reopenAction",
            json!({"actionId": act, "reason": "regional plan dropped"}),
        ),
        ("closeConsultation", json!({"consultationId": c})),
        (
            "planConsultation",
            json!({"consultationId": c2, "kind": "WORKSHOP", "title": {"fr": "Atelier"}, "schedule": {"start": {"year": 2026}}}),
        ),
        (
            "cancelConsultation",
            json!({"consultationId": c2, "reason": "postponed sine die"}),
        ),
    ]
}

pub async fn every_mutation_has_a_happy_path(db: &TestDb) {
    let app = app(db, false).await;
    let mut seen = std::collections::BTreeSet::new();
    for (n, (mutation, input)) in scenario().into_iter().enumerate() {
        let query = document(mutation, "streamId version position appended");
        let (_, response) = gql(&app, &query, json!({"input": input})).await;
        let result = &response["data"][mutation];
        assert!(
            response["errors"].is_null(),
            "step {n} {mutation}: {response}"
        );
        assert_eq!(
            result["appended"].as_i64(),
            Some(1),
            "step {n} {mutation}: {response}"
        );
        seen.insert(mutation);
    }
    // Every mutation of the schema was run.
    let sdl = shura::graphql::sdl();
    let block = &sdl[sdl.find("type Mutation {").unwrap()..];
    let block = &block[..block.find("\n}").unwrap()];
    let all: std::collections::BTreeSet<&str> = block
        .lines()
        .filter(|l| l.starts_with('\t') && l[1..].starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.trim().split_once('(').map(|(name, _)| name))
        // Not a command: a batch of them, with its own tests (tests/api/progress_import.rs).
        .filter(|name| *name != "importProgress")
        .collect();
    assert_eq!(all.len(), 37);
    assert_eq!(seen, all, "mutations without a happy path");
    // The erased person's contact details read as erased.
    let (_, record) = gql(
        &app,
        "query($c: UUID!) { consultation(id: $c) { participants { contact { email phone erased } } } }",
        json!({"c": id("m/c")}),
    )
    .await;
    assert_eq!(
        record["data"]["consultation"]["participants"][0]["contact"],
        json!({"email": null, "phone": null, "erased": true}),
        "{record}"
    );
    // The agreement's scope, changed from its venue's region (Fès-Meknès) to Casablanca-Settat,
    // puts its budget in that region's.
    let (_, board) = gql(
        &app,
        "{ dashboard { committedBudgetByRegion { key total { amount currency } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        board["data"]["dashboard"]["committedBudgetByRegion"],
        json!([{"key": "MA-06", "total": {"amount": "1250000.5", "currency": "MAD"}}]),
        "{board}"
    );
    // The action's progress report, read back through the graph (reports are rows of their
    // own, batch-loaded beside the action).
    let (_, action) = gql(
        &app,
        "query($c: UUID!) { consultation(id: $c) { actions { reports { on progress note { fr } } } } }",
        json!({"c": id("m/c")}),
    )
    .await;
    assert_eq!(
        action["data"]["consultation"]["actions"][0]["reports"],
        json!([{"on": "2026-04-01", "progress": 30, "note": {"fr": "deux sessions tenues"}}]),
        "{action}"
    );
    // The audit trail of the action names the slippage and its reasons.
    let (_, history) = gql(
        &app,
        "query($s: UUID!) { history(streamId: $s) { eventType payload } }",
        json!({"s": id("m/act")}),
    )
    .await;
    let types: Vec<&str> = history["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"DeadlineExtended")
            && types.contains(&"OwnerReassigned")
            && types.contains(&"BudgetRevised"),
        "{types:?}"
    );
    let store_check = shura::store::Store::open(shura::store::StoreConfig::new(&db.url))
        .await
        .unwrap();
    assert!(store_check.verify(&[]).await.unwrap().is_intact());
}

/// The error's `extensions.field` and `extensions.rule`.
fn field_and_rule(response: &Value) -> (&str, &str) {
    let extensions = &response["errors"][0]["extensions"];
    (
        extensions["field"].as_str().unwrap_or("none"),
        extensions["rule"].as_str().unwrap_or("none"),
    )
}

pub async fn every_mutation_names_the_missing_field(db: &TestDb) {
    let app = app(db, false).await;
    let mut steps = scenario();
    steps.dedup_by_key(|(mutation, _)| *mutation);
    for (mutation, complete) in steps {
        let (_, response) = gql(&app, &document(mutation, "version"), json!({"input": {}})).await;
        assert_eq!(code(&response), "VALIDATION", "{mutation}: {response}");
        // GraphQL validation names the argument and the first missing field, in camelCase.
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        let missing = message
            .split("field \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        assert!(
            message.contains("argument \"input\"")
                && message.contains("is required but not provided")
                && complete.get(missing).is_some(),
            "{mutation}: {response}"
        );
    }
    // Required inside a value the schema cannot require (a text needs one language of three, a
    // source one of publisher, URL or document): the domain's error, named by its GraphQL path.
    let org = json!({"organisationId": id("m/missing"), "name": {}, "kind": "AGENCY"});
    let (_, response) = gql(
        &app,
        &document("registerOrganisation", "version"),
        json!({"input": org}),
    )
    .await;
    assert_eq!(code(&response), "VALIDATION", "{response}");
    assert_eq!(field_and_rule(&response), ("input.name", "REQUIRED"));
    let message = response["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("`input.name`"), "{response}");
    let plan = json!({"consultationId": id("m/missing"), "kind": "WORKSHOP", "title": {"fr": "Atelier"},
        "schedule": {"start": {"year": 2026}}, "sources": [{"document": "a.txt"}, {"author": {"fr": "MAP"}}]});
    let (_, response) = gql(
        &app,
        &document("planConsultation", "version"),
        json!({"input": plan}),
    )
    .await;
    assert_eq!(
        field_and_rule(&response),
        ("input.sources[1].publisher", "REQUIRED"),
        "{response}"
    );
}

/// Shapes GraphQL itself refuses: an unknown field, a wrong enum value, a wrong type; and
/// values it lets through but that do not parse (a malformed UUID, an Int beyond 32 bits) or
/// that the domain refuses. Each is VALIDATION, names the field, and carries no Rust wording.
pub async fn malformed_inputs_are_refused_in_the_api_terms(db: &TestDb) {
    let app = app(db, false).await;
    let register = document("registerOrganisation", "version");
    let org =
        || json!({"organisationId": id("m/malformed"), "name": {"fr": "Agence"}, "kind": "AGENCY"});
    let with = |field: &str, value: Value| {
        let mut input = org();
        input[field] = value;
        input
    };
    let refusals = [
        // An unknown field, in the domain's snake_case or any other: named by GraphQL validation.
        (
            with("organisation_id", json!(id("m/malformed"))),
            "\"organisation_id\"",
        ),
        (with("colour", json!("blue")), "\"colour\""),
        // A value outside an enum.
        (with("kind", json!("CASTLE")), "\"CASTLE\""),
        (with("kind", json!("agency")), "\"agency\""),
        // A wrong type.
        (with("kind", json!(3)), "input.kind"),
        (with("acronym", json!(3)), "input.acronym"),
    ];
    for (input, named) in refusals {
        let (_, response) = gql(&app, &register, json!({"input": input})).await;
        assert_eq!(code(&response), "VALIDATION", "{input}: {response}");
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(named), "{input}: {response}");
        assert!(response.get("data").is_none(), "not executed: {response}");
    }
    // The same refusal as a literal in the document.
    let literal = "mutation { registerOrganisation(input: {organisationId: \"6f1c1f0e-8a7e-4c1e-9a55-3f0f5a1e2b10\", name: {fr: \"A\"}, kind: AGENCY, colour: \"blue\"}) { version } }";
    let (_, response) = gql(&app, literal, json!({})).await;
    assert_eq!(code(&response), "VALIDATION", "{response}");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"colour\"")),
        "{response}"
    );

    // Past GraphQL validation: named by the GraphQL path, with the rule.
    let cases = [
        (
            "registerOrganisation",
            with("parentId", json!("not-a-uuid")),
            ("input.parentId", "INVALID_FORMAT"),
        ),
        // GraphQL validation lets a scalar through where an input object is expected.
        (
            "registerOrganisation",
            with("name", json!("Agence")),
            ("input.name", "INVALID_FORMAT"),
        ),
        (
            "registerOrganisation",
            with("name", json!({"fr": " "})),
            ("input.name.fr", "REQUIRED"),
        ),
        (
            "registerOrganisation",
            with("region", json!("MA-13")),
            ("input.region", "UNKNOWN_REGION"),
        ),
        (
            "planConsultation",
            json!({"consultationId": id("m/malformed"), "kind": "WORKSHOP", "title": {"fr": "Atelier"},
                "schedule": {"start": {"year": 2026, "month": 300}}}),
            ("input.schedule.start.month", "OUT_OF_RANGE"),
        ),
        (
            "planConsultation",
            json!({"consultationId": id("m/malformed"), "kind": "WORKSHOP", "title": {"fr": "Atelier"},
                "schedule": {"start": {"year": 2026, "month": 13}}}),
            ("input.schedule.start.month", "OUT_OF_RANGE"),
        ),
        (
            "planConsultation",
            json!({"consultationId": id("m/malformed"), "kind": "WORKSHOP", "title": {"fr": "Atelier"},
                "schedule": {"start": {"year": 2026}, "startTime": "25h"}}),
            ("input.schedule.startTime", "INVALID_FORMAT"),
        ),
        (
            "planConsultation",
            json!({"consultationId": id("m/malformed"), "kind": "WORKSHOP", "title": {"fr": "Atelier"},
                "schedule": {"start": {"year": 2026}}, "organisers": [id("m/org"), "x"]}),
            ("input.organisers[1]", "INVALID_FORMAT"),
        ),
        (
            "reportProgress",
            json!({"actionId": id("m/malformed"), "on": "2026-04-01", "progress": 1_u64 << 40}),
            ("input.progress", "OUT_OF_RANGE"),
        ),
        (
            "reportProgress",
            json!({"actionId": id("m/malformed"), "on": "2026-02-30", "progress": 1}),
            ("input.on", "INVALID_FORMAT"),
        ),
        (
            "reviseActionBudget",
            json!({"actionId": id("m/malformed"), "to": {"amount": 2.5, "currency": "MAD"}, "reason": "x"}),
            ("input.to.amount", "INVALID_FORMAT"),
        ),
        (
            "changeRecommendationStatus",
            json!({"consultationId": id("m/malformed"), "recommendationId": id("m/r"),
                "to": {"status": "MERGED"}, "reason": "duplicate"}),
            ("input.to.into", "REQUIRED"),
        ),
    ];
    for (mutation, input, (field, rule)) in cases {
        let (_, response) = gql(
            &app,
            &document(mutation, "version"),
            json!({"input": input}),
        )
        .await;
        assert_eq!(
            code(&response),
            "VALIDATION",
            "{mutation} {input}: {response}"
        );
        assert_eq!(
            field_and_rule(&response),
            (field, rule),
            "{mutation} {input}: {response}"
        );
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(&format!("`{field}`")), "{response}");
        for rust in [
            "invalid type",
            "invalid value",
            "expected u8",
            "struct ",
            "variant",
            "Failed to parse",
        ] {
            assert!(!message.contains(rust), "{mutation}: {message}");
        }
    }
}
