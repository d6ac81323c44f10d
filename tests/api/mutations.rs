//! Every mutation through GraphQL: a scenario that runs each one on its happy path, and each one
//! refusing malformed input with `VALIDATION` naming the missing field.

use serde_json::{json, Value};
use shura::seeds::reference as id;

use super::{app, code, gql};
use crate::common;
use common::TestDb;

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
            json!({"organisation_id": org, "name": {"ar": "وزارة الصناعة والتجارة"}, "kind": "ministry"}),
        ),
        (
            "registerOrganisation",
            json!({"organisation_id": other, "name": {"fr": "Chambre de commerce"}, "kind": "chamber", "region": "MA-03"}),
        ),
        (
            "renameOrganisation",
            json!({"organisation_id": org, "name": {"ar": "وزارة الصناعة والتجارة", "fr": "Ministère de l'Industrie et du Commerce"}, "acronym": "MIC", "reason": "official name"}),
        ),
        (
            "correctOrganisationDetails",
            json!({"organisation_id": other, "name": {"fr": "Chambre de commerce de Fès"}, "kind": "chamber", "region": "MA-03", "reason": "typo"}),
        ),
        (
            "changeOrganisationParent",
            json!({"organisation_id": other, "parent_id": org, "reason": "supervision"}),
        ),
        (
            "registerPerson",
            json!({"person_id": person, "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}}),
        ),
        (
            "startPost",
            json!({"person_id": person, "post_id": id("m/post"), "organisation_id": org, "title": {"fr": "Secrétaire d'État"}}),
        ),
        (
            "endPost",
            json!({"person_id": person, "post_id": id("m/post"), "end": {"year": 2026}, "reason": "term ended"}),
        ),
        (
            "correctPersonName",
            json!({"person_id": person, "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}, "honorific": {"fr": "M."}, "reason": "honorific"}),
        ),
        (
            "planConsultation",
            json!({"consultation_id": c, "kind": "regional_consultation", "title": {"ar": "لقاء تشاوري"}, "schedule": {"start": {"year": 2026, "month": 3}}, "region": "MA-03", "organisers": [org]}),
        ),
        (
            "reviseConsultationDetails",
            json!({"consultation_id": c, "kind": "regional_consultation", "title": {"ar": "لقاء تشاوري جهوي"}, "schedule": {"start": {"year": 2026, "month": 3, "day": 10}}, "region": "MA-03", "reason": "date fixed"}),
        ),
        (
            "addOrganiser",
            json!({"consultation_id": c, "organisation_id": other}),
        ),
        (
            "addSource",
            json!({"consultation_id": c, "source": {"publisher": {"fr": "MAP"}, "url": "https://example.org/a"}}),
        ),
        (
            "addContextNote",
            json!({"consultation_id": c, "note": {"en": "prepares the 2027 programme"}}),
        ),
        (
            "registerParticipant",
            json!({"consultation_id": c, "participant_id": p, "person_id": person, "organisation_id": org, "role": "speaker", "attendance": "invited"}),
        ),
        (
            "changeParticipantRole",
            json!({"consultation_id": c, "participant_id": p, "role": "chair"}),
        ),
        ("markConsultationHeld", json!({"consultation_id": c})),
        (
            "recordAttendance",
            json!({"consultation_id": c, "participant_id": p, "attendance": "attended"}),
        ),
        (
            "proposeRecommendation",
            json!({"consultation_id": c, "recommendation_id": r, "text": {"ar": "تعزيز التكوين"}, "themes": ["training"], "proposer": p}),
        ),
        (
            "proposeRecommendation",
            json!({"consultation_id": c, "recommendation_id": r2, "text": {"ar": "تعزيز التكوين المستمر"}, "themes": ["training"]}),
        ),
        (
            "reviseRecommendationText",
            json!({"consultation_id": c, "recommendation_id": r, "text": {"ar": "تعزيز التكوين والتكوين المستمر"}, "reason": "merged wording"}),
        ),
        (
            "changeRecommendationStatus",
            json!({"consultation_id": c, "recommendation_id": r2, "to": {"status": "merged", "into": r}, "reason": "duplicate"}),
        ),
        (
            "recordAgreement",
            json!({"consultation_id": c, "agreement_id": a, "title": {"ar": "اتفاقية شراكة"}, "kind": "partnership_agreement", "status": "signed", "parties": [{"organisation_id": org}], "budget": {"amount": "1000000", "currency": "MAD"}, "period": {"start": {"year": 2026}, "end": {"year": 2028}}}),
        ),
        (
            "addAgreementSignatory",
            json!({"consultation_id": c, "agreement_id": a, "party": {"organisation_id": other}}),
        ),
        (
            "reviseAgreementBudget",
            json!({"consultation_id": c, "agreement_id": a, "budget": {"amount": "1250000.50", "currency": "MAD"}, "reason": "co-funding"}),
        ),
        (
            "recordKeyFigure",
            json!({"consultation_id": c, "key_figure_id": id("m/kf"), "indicator": {"en": "industrial exports"}, "value": "2600000000", "unit": "MAD"}),
        ),
        (
            "raisePoint",
            json!({"consultation_id": c, "point_id": id("m/pt"), "text": {"ar": "إحداث فضاءات للعمل المشترك"}, "speakers": [p]}),
        ),
        (
            "createAction",
            json!({"action_id": act, "consultation_id": c, "recommendation_ids": [r], "agreement_id": a, "title": {"fr": "Plan de formation"}, "owner_organisation_id": org, "due": {"year": 2026, "month": 6}}),
        ),
        (
            "reportProgress",
            json!({"action_id": act, "on": "2026-04-01", "progress": 30}),
        ),
        (
            "changeActionStatus",
            json!({"action_id": act, "to": "blocked", "reason": "awaiting funds"}),
        ),
        (
            "extendDeadline",
            json!({"action_id": act, "to": {"year": 2026, "month": 12}, "reason": "funds late"}),
        ),
        (
            "reassignOwner",
            json!({"action_id": act, "to": other, "reason": "chamber leads"}),
        ),
        (
            "reviseActionBudget",
            json!({"action_id": act, "to": {"amount": "300000", "currency": "MAD"}, "reason": "scope"}),
        ),
        (
            "changeActionStatus",
            json!({"action_id": act, "to": "cancelled", "reason": "merged into the regional plan"}),
        ),
        (
            "reopenAction",
            json!({"action_id": act, "reason": "regional plan dropped"}),
        ),
        ("closeConsultation", json!({"consultation_id": c})),
        (
            "planConsultation",
            json!({"consultation_id": c2, "kind": "workshop", "title": {"fr": "Atelier"}, "schedule": {"start": {"year": 2026}}}),
        ),
        (
            "cancelConsultation",
            json!({"consultation_id": c2, "reason": "postponed sine die"}),
        ),
    ]
}

pub async fn every_mutation_has_a_happy_path(db: &TestDb) {
    let app = app(db, false).await;
    let mut seen = std::collections::BTreeSet::new();
    for (n, (mutation, input)) in scenario().into_iter().enumerate() {
        let query = format!("mutation($input: JSON!) {{ {mutation}(input: $input) {{ streamId version position appended }} }}");
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
        .collect();
    assert_eq!(all.len(), 34);
    assert_eq!(seen, all, "mutations without a happy path");
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

pub async fn every_mutation_names_the_missing_field(db: &TestDb) {
    let app = app(db, false).await;
    let mut names: Vec<&str> = scenario().iter().map(|(m, _)| *m).collect();
    names.dedup();
    for mutation in names {
        let query = format!("mutation {{ {mutation}(input: {{}}) {{ version }} }}");
        let (_, response) = gql(&app, &query, json!({})).await;
        assert_eq!(code(&response), "VALIDATION", "{mutation}: {response}");
        let field = response["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("");
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            field.starts_with("input") && message.contains("missing field"),
            "{mutation}: {response}"
        );
    }
}
