//! The typed graph on both backends: every value typed, relations as objects, global ids and
//! `node`, totals and typed filters on every list, partial dates compared as far as known, a
//! refused nullable field nulled alone, and 32-bit `Int`s.

use serde_json::{json, Value};
use shura::auth::create_token;
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::token::Role;
use shura::seeds::reference as id;
use shura::store::{Actor, Store};
use uuid::Uuid;

use super::{app, code, gql, gql_as, Api};
use crate::common::TestDb;

async fn run(store: &Store, command: Value) {
    let parsed: AnyCommand =
        serde_json::from_value(command.clone()).unwrap_or_else(|e| panic!("{command}: {e}"));
    execute(
        store,
        parsed,
        CommandContext::new(Actor::new("test", "Graph tests")),
    )
    .await
    .unwrap_or_else(|e| panic!("{command}: {e}"));
}

fn organisation(name: &str, fields: Value) -> Value {
    let mut command = json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id(name)});
    merge(&mut command, fields);
    command
}

fn consultation(kind: &str, fields: Value) -> Value {
    let mut command = json!({"aggregate": "consultation", "type": kind});
    merge(&mut command, fields);
    command
}

fn merge(into: &mut Value, fields: Value) {
    if let (Some(into), Value::Object(fields)) = (into.as_object_mut(), fields) {
        into.extend(fields);
    }
}

/// A ministry, a regional directorate under it and a regional council; a person with a current
/// post at the ministry and a past one at the directorate; a consultation in Fès-Meknès known to
/// be in November 2025, with its organiser, sources, two participants, a recommendation, an
/// agreement with two parties, two key figures, a point and an action due "in March 2026"; and
/// four workshops whose starts are known to the day, the month, the year, and only as "a
/// Tuesday".
async fn world(store: &Store) {
    let c = id("g/c");
    let commands = [
        organisation(
            "g/ministry",
            json!({"name": {"ar": "وزارة الصناعة والتجارة", "fr": "Ministère de l'Industrie et du Commerce"},
                "acronym": "MIC", "kind": "ministry"}),
        ),
        organisation(
            "g/dir",
            json!({"name": {"fr": "Direction régionale de Fès"}, "kind": "regional_directorate",
                "parent_id": id("g/ministry"), "region": "MA-03"}),
        ),
        organisation(
            "g/council",
            json!({"name": {"ar": "مجلس جهة فاس مكناس"}, "kind": "regional_council", "region": "MA-03"}),
        ),
        json!({"aggregate": "person", "type": "register_person", "person_id": id("g/hejira"),
            "name": {"arabic": "عمر حجيرة", "latin": "Omar Hejira"}}),
        json!({"aggregate": "person", "type": "start_post", "person_id": id("g/hejira"),
            "post_id": id("g/post/now"), "organisation_id": id("g/ministry"),
            "title": {"fr": "Secrétaire d'État"}, "start": {"year": 2024, "month": 10}}),
        json!({"aggregate": "person", "type": "start_post", "person_id": id("g/hejira"),
            "post_id": id("g/post/before"), "organisation_id": id("g/dir"),
            "title": {"fr": "Directeur"}, "start": {"year": 2015}}),
        json!({"aggregate": "person", "type": "end_post", "person_id": id("g/hejira"),
            "post_id": id("g/post/before"), "end": {"year": 2019}}),
        consultation(
            "plan_consultation",
            json!({"consultation_id": c, "kind": "regional_consultation",
                "title": {"fr": "Concertation régionale sur l'export"},
                "schedule": {"start": {"year": 2025, "month": 11}, "as_stated": {"fr": "en novembre"}, "inferred": true},
                "place": {"name": {"fr": "Wilaya de Fès"}, "city": {"fr": "Fès"}, "region": "MA-03"},
                "region": "MA-03", "organisers": [id("g/dir")],
                "sources": [{"publisher": {"fr": "MAP"}, "url": "https://www.mapexpress.ma/export",
                    "published_on": {"year": 2025, "month": 11, "day": 4}}],
                "context_notes": [{"fr": "Troisième édition"}]}),
        ),
        consultation(
            "register_participant",
            json!({"consultation_id": c, "participant_id": id("g/p1"), "person_id": id("g/hejira"),
                "organisation_id": id("g/ministry"), "role": "chair", "attendance": "invited",
                "contact": {"email": "hejira@mic.gov.ma"}}),
        ),
        consultation(
            "register_participant",
            json!({"consultation_id": c, "participant_id": id("g/p2"),
                "organisation_id": id("g/council"), "role": "speaker", "attendance": "invited"}),
        ),
        consultation(
            "propose_recommendation",
            json!({"consultation_id": c, "recommendation_id": id("g/r1"),
                "text": {"fr": "Créer un guichet unique de l'export"}, "themes": ["export"],
                "proposer": id("g/p2")}),
        ),
        consultation(
            "record_agreement",
            json!({"consultation_id": c, "agreement_id": id("g/a1"),
                "title": {"fr": "Convention pour l'export"}, "kind": "framework_agreement",
                "status": "signed",
                "parties": [{"participant_id": id("g/p2"), "signatory_person_id": id("g/hejira")},
                    {"organisation_id": id("g/ministry"), "signatory_capacity": {"fr": "Le secrétaire général"}}],
                "budget": {"amount": "1250000.50", "currency": "MAD"},
                "period": {"start": {"year": 2026}, "end": {"year": 2028}},
                "objectives": [{"fr": "Aménager des zones logistiques"}]}),
        ),
        consultation(
            "record_key_figure",
            json!({"consultation_id": c, "key_figure_id": id("g/k1"),
                "indicator": {"fr": "Exportations industrielles"}, "value": "2600000000",
                "unit": "MAD", "period": {"start": {"year": 2024}}}),
        ),
        consultation(
            "record_key_figure",
            json!({"consultation_id": c, "key_figure_id": id("g/k2"),
                "indicator": {"fr": "Taux de chômage"}, "value": "12.5", "unit": "percent",
                "period": {"start": {"year": 2020}, "end": {"year": 2022}}, "region": "MA-04"}),
        ),
        consultation(
            "raise_point",
            json!({"consultation_id": c, "point_id": id("g/pt1"), "kind": "result_reported",
                "text": {"fr": "La plateforme logistique de Meknès est opérationnelle"},
                "speakers": [id("g/p1")], "themes": ["logistics"]}),
        ),
        json!({"aggregate": "action", "type": "create_action", "action_id": id("g/act1"),
            "consultation_id": c, "recommendation_ids": [id("g/r1")], "agreement_id": id("g/a1"),
            "title": {"fr": "Ouvrir le guichet"}, "owner_organisation_id": id("g/council"),
            "due": {"year": 2026, "month": 3}}),
        consultation(
            "plan_consultation",
            json!({"consultation_id": id("g/c-day"), "kind": "workshop",
                "title": {"fr": "Atelier du 3 novembre"}, "schedule": {"start": {"year": 2025, "month": 11, "day": 3}},
                "region": "MA-03"}),
        ),
        consultation(
            "plan_consultation",
            json!({"consultation_id": id("g/c-october"), "kind": "workshop",
                "title": {"fr": "Atelier d'octobre"}, "schedule": {"start": {"year": 2025, "month": 10}}}),
        ),
        consultation(
            "plan_consultation",
            json!({"consultation_id": id("g/c-year"), "kind": "workshop",
                "title": {"fr": "Atelier de 2025"}, "schedule": {"start": {"year": 2025}}}),
        ),
        consultation(
            "plan_consultation",
            json!({"consultation_id": id("g/c-tuesday"), "kind": "workshop",
                "title": {"fr": "Atelier d'un mardi"}, "schedule": {"start": {"weekday": "tuesday"}}}),
        ),
    ];
    for command in commands {
        run(store, command).await;
    }
}

async fn graph_app(db: &TestDb) -> Api {
    let api = app(db, false).await;
    world(&api.app.store).await;
    api
}

/// Runs a query as the admin and returns its `data`, failing on any error.
async fn data(api: &Api, query: &str, variables: Value) -> Value {
    let (_, response) = gql(api, query, variables).await;
    assert!(response["errors"].is_null(), "{query}: {response}");
    response["data"].clone()
}

const RECORD: &str = "query($id: UUID!) { consultation(id: $id) {
    id kind status region startDate month title
    schedule { start { year month day weekday precision date earliest latest text } end { year }
        startTime asStated { fr } inferred }
    place { name { fr } city { fr } region }
    organisers { id name acronym kind parent { name acronym } }
    sources { publisher { fr } url publishedOn { date precision } }
    contextNotes { fr }
    participants { id role attendance capacity { fr }
        person { name latinName arabicName posts { title { fr } from { text } to { text } ended organisation { acronym } } }
        organisation { name kind } }
    recommendations { id status themes text { fr } proposer { id organisation { name } }
        consultation { id } actions { id } mergedInto { id } }
    agreements { id kind status title { fr } budget { amount currency }
        period { start { year } end { year } } objectives { fr } consultation { id }
        parties { organisation { name } participant { id } signatory { latinName }
            signatoryCapacity { fr } role commitments { fr } } }
    keyFigures { id indicator { fr } value unit region period { start { year } end { year } } }
    points { id kind statement { fr } themes speakers { id person { latinName } } }
    actions { id version title progress status region owner { name kind } consultation { id }
        recommendations { id } agreement { id } due { precision latest } dueDate budget { amount } }
} }";

/// A consultation's full record in one request: every value typed, every relation an object.
pub async fn a_consultation_record_is_typed_and_linked(db: &TestDb) {
    let api = graph_app(db).await;
    let d = data(&api, RECORD, json!({"id": id("g/c")})).await;
    let c = &d["consultation"];
    assert_eq!(c["id"], json!(id("g/c")));
    assert_eq!(
        (&c["kind"], &c["status"], &c["region"]),
        (
            &json!("REGIONAL_CONSULTATION"),
            &json!("PLANNED"),
            &json!("MA-03")
        )
    );
    // Known to the month: no day is served as its start.
    assert_eq!(c["startDate"], Value::Null);
    assert_eq!(c["month"], "2025-11");
    assert_eq!(
        c["schedule"],
        json!({"start": {"year": 2025, "month": 11, "day": null, "weekday": null,
            "precision": "MONTH", "date": null, "earliest": "2025-11-01", "latest": "2025-11-30",
            "text": "2025-11"}, "end": null, "startTime": null, "asStated": {"fr": "en novembre"},
            "inferred": true})
    );
    assert_eq!(
        c["place"],
        json!({"name": {"fr": "Wilaya de Fès"}, "city": {"fr": "Fès"}, "region": "MA-03"})
    );
    assert_eq!(
        c["organisers"],
        json!([{"id": id("g/dir"), "name": "Direction régionale de Fès", "acronym": null,
            "kind": "REGIONAL_DIRECTORATE",
            "parent": {"name": "وزارة الصناعة والتجارة", "acronym": "MIC"}}])
    );
    assert_eq!(
        c["sources"],
        json!([{"publisher": {"fr": "MAP"}, "url": "https://www.mapexpress.ma/export",
            "publishedOn": {"date": "2025-11-04", "precision": "DAY"}}])
    );
    assert_eq!(c["contextNotes"], json!([{"fr": "Troisième édition"}]));

    let chair = &c["participants"][0];
    assert_eq!(
        (&chair["id"], &chair["role"], &chair["attendance"]),
        (&json!(id("g/p1")), &json!("CHAIR"), &json!("INVITED"))
    );
    assert_eq!(chair["person"]["name"], "عمر حجيرة (Omar Hejira)");
    assert_eq!(
        chair["person"]["posts"],
        json!([
            {"title": {"fr": "Secrétaire d'État"}, "from": {"text": "2024-10"}, "to": null,
                "ended": false, "organisation": {"acronym": "MIC"}},
            {"title": {"fr": "Directeur"}, "from": {"text": "2015"}, "to": {"text": "2019"},
                "ended": true, "organisation": {"acronym": null}}
        ])
    );
    assert_eq!(chair["organisation"]["kind"], "MINISTRY");
    assert_eq!(c["participants"][1]["person"], Value::Null);
    assert_eq!(
        c["participants"][1]["organisation"]["name"],
        "مجلس جهة فاس مكناس"
    );

    let recommendation = &c["recommendations"][0];
    assert_eq!(recommendation["status"], "PROPOSED");
    assert_eq!(recommendation["proposer"]["id"], json!(id("g/p2")));
    assert_eq!(
        recommendation["proposer"]["organisation"]["name"],
        "مجلس جهة فاس مكناس"
    );
    assert_eq!(recommendation["consultation"]["id"], json!(id("g/c")));
    assert_eq!(recommendation["actions"], json!([{"id": id("g/act1")}]));
    assert_eq!(recommendation["mergedInto"], Value::Null);

    let agreement = &c["agreements"][0];
    assert_eq!(
        (&agreement["kind"], &agreement["status"]),
        (&json!("FRAMEWORK_AGREEMENT"), &json!("SIGNED"))
    );
    // Money keeps every digit, as a string.
    assert_eq!(
        agreement["budget"],
        json!({"amount": "1250000.50", "currency": "MAD"})
    );
    assert_eq!(
        agreement["period"],
        json!({"start": {"year": 2026}, "end": {"year": 2028}})
    );
    assert_eq!(
        agreement["objectives"],
        json!([{"fr": "Aménager des zones logistiques"}])
    );
    // A party named by its participant has that participant's organisation and role.
    assert_eq!(
        agreement["parties"],
        json!([
            {"organisation": {"name": "مجلس جهة فاس مكناس"}, "participant": {"id": id("g/p2")},
                "signatory": {"latinName": "Omar Hejira"}, "signatoryCapacity": null,
                "role": "SPEAKER", "commitments": []},
            {"organisation": {"name": "وزارة الصناعة والتجارة"}, "participant": null,
                "signatory": null, "signatoryCapacity": {"fr": "Le secrétaire général"},
                "role": null, "commitments": []}
        ])
    );

    assert_eq!(
        c["keyFigures"],
        json!([
            {"id": id("g/k1"), "indicator": {"fr": "Exportations industrielles"},
                "value": "2600000000", "unit": "MAD", "region": "MA-03",
                "period": {"start": {"year": 2024}, "end": null}},
            {"id": id("g/k2"), "indicator": {"fr": "Taux de chômage"}, "value": "12.5",
                "unit": "percent", "region": "MA-04",
                "period": {"start": {"year": 2020}, "end": {"year": 2022}}}
        ])
    );
    assert_eq!(
        c["points"],
        json!([{"id": id("g/pt1"), "kind": "RESULT_REPORTED",
            "statement": {"fr": "La plateforme logistique de Meknès est opérationnelle"},
            "themes": ["logistics"],
            "speakers": [{"id": id("g/p1"), "person": {"latinName": "Omar Hejira"}}]}])
    );

    // Due "in March 2026": no due day is served; its last possible day is.
    assert_eq!(
        c["actions"],
        json!([{"id": id("g/act1"), "version": 1, "title": "Ouvrir le guichet", "progress": 0,
            "status": "NOT_STARTED", "region": "MA-03",
            "owner": {"name": "مجلس جهة فاس مكناس", "kind": "REGIONAL_COUNCIL"},
            "consultation": {"id": id("g/c")}, "recommendations": [{"id": id("g/r1")}],
            "agreement": {"id": id("g/a1")}, "due": {"precision": "MONTH", "latest": "2026-03-31"},
            "dueDate": null, "budget": null}])
    );

    // Lists give the same nodes, with their edges loaded from the read models.
    let lists = data(
        &api,
        "{ recommendations { edges { node { id proposer { id role } consultation { title } } } }
           agreements { edges { node { parties { organisation { name } role } consultation { id } } } }
           keyFigures(filter: {region: \"MA-03\"}) { edges { node { id consultation { id } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        lists["recommendations"]["edges"][0]["node"],
        json!({"id": id("g/r1"), "proposer": {"id": id("g/p2"), "role": "SPEAKER"},
            "consultation": {"title": "Concertation régionale sur l'export"}})
    );
    assert_eq!(
        lists["agreements"]["edges"][0]["node"]["parties"],
        json!([{"organisation": {"name": "مجلس جهة فاس مكناس"}, "role": "SPEAKER"},
            {"organisation": {"name": "وزارة الصناعة والتجارة"}, "role": null}])
    );
    assert_eq!(
        lists["keyFigures"]["edges"],
        json!([{"node": {"id": id("g/k1"), "consultation": {"id": id("g/c")}}}])
    );
}

/// Organisations and people with their edges, and `node(id:)` for every type.
pub async fn stakeholders_and_nodes_are_reached_by_id(db: &TestDb) {
    let api = graph_app(db).await;
    let query = "query($id: UUID!) { organisation(id: $id) { id kind name nameText { ar fr }
        parent { id } children { id } people { id } current: people(current: true) { id }
        consultations { id } actionsOwned { id } } }";
    let of = |name: &str| json!({"id": id(name)});
    let ministry = data(&api, query, of("g/ministry")).await["organisation"].clone();
    assert_eq!(ministry["kind"], "MINISTRY");
    assert_eq!(ministry["name"], "وزارة الصناعة والتجارة");
    assert_eq!(ministry["parent"], Value::Null);
    assert_eq!(ministry["children"], json!([{"id": id("g/dir")}]));
    assert_eq!(ministry["people"], json!([{"id": id("g/hejira")}]));
    assert_eq!(ministry["current"], json!([{"id": id("g/hejira")}]));
    // A participant and an agreement party of g/c: the consultation once.
    assert_eq!(ministry["consultations"], json!([{"id": id("g/c")}]));
    assert_eq!(ministry["actionsOwned"], json!([]));
    let directorate = data(&api, query, of("g/dir")).await["organisation"].clone();
    assert_eq!(directorate["parent"], json!({"id": id("g/ministry")}));
    assert_eq!(directorate["people"], json!([{"id": id("g/hejira")}]));
    assert_eq!(directorate["current"], json!([]), "the post there ended");
    assert_eq!(
        directorate["consultations"],
        json!([{"id": id("g/c")}]),
        "as organiser"
    );
    let council = data(&api, query, of("g/council")).await["organisation"].clone();
    assert_eq!(council["actionsOwned"], json!([{"id": id("g/act1")}]));
    assert_eq!(council["consultations"], json!([{"id": id("g/c")}]));

    let person = data(
        &api,
        "query($id: UUID!) { person(id: $id) { id name latinName version position
            posts { organisation { id } } consultations { id } } }",
        of("g/hejira"),
    )
    .await["person"]
        .clone();
    assert_eq!(person["latinName"], "Omar Hejira");
    assert_eq!(person["version"], 4);
    assert_eq!(
        person["consultations"],
        json!([{"id": id("g/c")}]),
        "participant and signatory"
    );
    let missing = data(
        &api,
        "query($id: UUID!) { organisation(id: $id) { id } person(id: $id) { id } }",
        json!({"id": Uuid::new_v4()}),
    )
    .await;
    assert_eq!(missing, json!({"organisation": null, "person": null}));

    // Every node type answers to its own id.
    let node = "query($id: ID!) { node(id: $id) { __typename id
        ... on Consultation { title } ... on Organisation { kind } ... on Person { latinName }
        ... on Action { title } ... on Recommendation { themes } ... on Agreement { kind } } }";
    for (name, typename) in [
        ("g/c", "Consultation"),
        ("g/ministry", "Organisation"),
        ("g/hejira", "Person"),
        ("g/act1", "Action"),
        ("g/r1", "Recommendation"),
        ("g/a1", "Agreement"),
    ] {
        let found = data(&api, node, json!({"id": id(name)})).await;
        assert_eq!(found["node"]["__typename"], typename, "{found}");
        assert_eq!(found["node"]["id"], json!(id(name)));
    }
    for unknown in [json!(Uuid::new_v4()), json!("not a uuid")] {
        let found = data(&api, node, json!({ "id": unknown })).await;
        assert_eq!(found["node"], Value::Null);
    }
    let (_, anonymous) = gql_as(
        &api,
        None,
        "{ node(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
}

fn total(d: &Value, list: &str) -> i64 {
    d[list]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{list}: {d}"))
}

fn ids(d: &Value, list: &str) -> Vec<Value> {
    d[list]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}: {d}"))
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect()
}

/// Every connection counts; enum filters; agreements by party; key figures by region,
/// indicator and period; points and objectives found by the text filters.
pub async fn every_list_counts_and_filters_by_typed_values(db: &TestDb) {
    let api = graph_app(db).await;
    let d = data(
        &api,
        "{ consultations(filter: {kind: WORKSHOP}, first: 1) { totalCount }
           all: consultations(first: 1) { totalCount }
           organisations(first: 1) { totalCount } people { totalCount }
           recommendations(status: PROPOSED) { totalCount } actions(status: NOT_STARTED) { totalCount }
           agreements(status: SIGNED, kind: FRAMEWORK_AGREEMENT) { totalCount }
           keyFigures { totalCount } ministries: organisations(kind: MINISTRY) { totalCount }
           accepted: recommendations(status: ACCEPTED) { totalCount } }",
        json!({}),
    )
    .await;
    for (list, expected) in [
        ("consultations", 4),
        ("all", 5),
        ("organisations", 3),
        ("people", 1),
        ("recommendations", 1),
        ("actions", 1),
        ("agreements", 1),
        ("keyFigures", 2),
        ("ministries", 1),
        ("accepted", 0),
    ] {
        assert_eq!(total(&d, list), expected, "{list}");
    }
    // A value outside the enum is refused by validation, before anything runs.
    let (_, refused) = gql(
        &api,
        "{ agreements(status: \"signed\") { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&refused), "VALIDATION", "{refused}");

    // Agreements by party: an organisation itself, or through its participant.
    let by_party =
        "query($p: UUID!) { agreements(partyId: $p) { totalCount edges { node { id } } } }";
    for (party, expected) in [("g/ministry", 1), ("g/council", 1), ("g/dir", 0)] {
        let d = data(&api, by_party, json!({"p": id(party)})).await;
        assert_eq!(total(&d, "agreements"), expected, "{party}");
    }
    // Objectives and points are found by the text filters (accents and case folded).
    let d = data(
        &api,
        "{ agreements(search: \"LOGISTIQUES\") { totalCount }
           consultations(filter: {search: \"plateforme meknes\"}) { totalCount edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(total(&d, "agreements"), 1);
    assert_eq!(ids(&d, "consultations"), vec![json!(id("g/c"))]);
    // Consultations of a stakeholder: participant, organiser or party.
    let d = data(
        &api,
        "query($s: UUID!) { consultations(filter: {stakeholder: $s}) { totalCount } }",
        json!({"s": id("g/dir")}),
    )
    .await;
    assert_eq!(total(&d, "consultations"), 1, "the organiser's");

    // Key figures: region (its own, else its consultation's), indicator, period as known.
    let figures = "query($f: KeyFigureFilter) { keyFigures(filter: $f) { totalCount edges { node { id } } } }";
    for (filter, expected) in [
        (json!({"region": "MA-03"}), vec!["g/k1"]),
        (json!({"region": "MA-04"}), vec!["g/k2"]),
        (json!({"indicator": "chomage"}), vec!["g/k2"]),
        (json!({"unit": "MAD"}), vec!["g/k1"]),
        // 2020-2022 ends before 2023; an open period from 2024 reaches every later day.
        (json!({"from": "2023-01-01"}), vec!["g/k1"]),
        (json!({"from": "2030-06-01"}), vec!["g/k1"]),
        (json!({"to": "2021-06-30"}), vec!["g/k2"]),
        (
            json!({"from": "2022-12-31", "to": "2024-01-01"}),
            vec!["g/k1", "g/k2"],
        ),
        (json!({"consultationId": id("g/c-day")}), vec![]),
    ] {
        let d = data(&api, figures, json!({ "f": filter })).await;
        let mut found = ids(&d, "keyFigures");
        found.sort_by_key(|v| v.to_string());
        let mut wanted: Vec<Value> = expected.iter().map(|n| json!(id(n))).collect();
        wanted.sort_by_key(|v| v.to_string());
        assert_eq!(found, wanted, "{filter}");
        assert_eq!(total(&d, "keyFigures"), wanted.len() as i64, "{filter}");
    }
    // Key figures page by cursor, without repeating or skipping one.
    let page = "query($a: String) { keyFigures(first: 1, after: $a) { pageInfo { hasNextPage }
        edges { cursor node { id } } } }";
    let first = data(&api, page, json!({})).await;
    assert_eq!(first["keyFigures"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["keyFigures"]["edges"][0]["cursor"].clone();
    let second = data(&api, page, json!({ "a": cursor })).await;
    assert_eq!(second["keyFigures"]["pageInfo"]["hasNextPage"], false);
    let mut both = [ids(&first, "keyFigures"), ids(&second, "keyFigures")].concat();
    both.sort_by_key(|v| v.to_string());
    let mut all = vec![json!(id("g/k1")), json!(id("g/k2"))];
    all.sort_by_key(|v| v.to_string());
    assert_eq!(both, all);
}

/// A start or a due date is compared as far as it is known, and never served as a day it is
/// not.
pub async fn partial_dates_are_compared_as_far_as_known(db: &TestDb) {
    let api = graph_app(db).await;
    let query = "query($f: ConsultationFilter) { consultations(filter: $f, first: 100) {
        totalCount edges { node { id startDate } } } }";
    let titles = |d: &Value| -> Vec<String> {
        let mut found: Vec<String> = ids(d, "consultations")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect();
        found.sort();
        found
    };
    let named = |names: &[&str]| -> Vec<String> {
        let mut wanted: Vec<String> = names.iter().map(|n| id(n).to_string()).collect();
        wanted.sort();
        wanted
    };
    for (filter, expected) in [
        // "November 2025" can be any day of November: inside 3-30 November as far as known.
        (
            json!({"from": "2025-11-03", "to": "2025-11-30"}),
            vec!["g/c", "g/c-day", "g/c-year"],
        ),
        // After November: only "some day of 2025" can still be.
        (json!({"from": "2025-12-01"}), vec!["g/c-year"]),
        (json!({"to": "2025-10-31"}), vec!["g/c-october", "g/c-year"]),
        (
            json!({"from": "2025-11-04", "to": "2025-11-04"}),
            vec!["g/c", "g/c-year"],
        ),
        (json!({"from": "2026-01-01"}), vec![]),
        // "A Tuesday" has no year: no date filter keeps it, no filter at all does.
        (
            json!({"kind": "WORKSHOP"}),
            vec!["g/c-day", "g/c-october", "g/c-year", "g/c-tuesday"],
        ),
    ] {
        let d = data(&api, query, json!({ "f": filter })).await;
        assert_eq!(titles(&d), named(&expected), "{filter}");
        assert_eq!(
            total(&d, "consultations"),
            expected.len() as i64,
            "{filter}"
        );
    }
    let d = data(&api, query, json!({})).await;
    let start_of = |name: &str| {
        d["consultations"]["edges"]
            .as_array()
            .and_then(|edges| edges.iter().find(|e| e["node"]["id"] == json!(id(name))))
            .map(|e| e["node"]["startDate"].clone())
            .unwrap_or_else(|| panic!("{name}: {d}"))
    };
    assert_eq!(start_of("g/c-day"), "2025-11-03");
    for name in ["g/c", "g/c-october", "g/c-year", "g/c-tuesday"] {
        assert_eq!(start_of(name), Value::Null, "{name}");
    }
    let weekday = data(
        &api,
        "query($id: UUID!) { consultation(id: $id) { schedule { start { precision weekday year earliest text } } } }",
        json!({"id": id("g/c-tuesday")}),
    )
    .await;
    assert_eq!(
        weekday["consultation"]["schedule"]["start"],
        json!({"precision": "WEEKDAY", "weekday": "TUESDAY", "year": null, "earliest": null, "text": "Tuesday"})
    );
    // Due "in March 2026": overdue only once every day of March has passed.
    let overdue = "query($d: Date!) { actions(overdueOn: $d) { totalCount } due: actions(dueBefore: $d) { totalCount } }";
    for (day, expected) in [("2026-03-31", 0), ("2026-04-01", 1)] {
        let d = data(&api, overdue, json!({ "d": day })).await;
        assert_eq!(
            (total(&d, "actions"), total(&d, "due")),
            (expected, expected),
            "{day}"
        );
    }
    let (_, bad) = gql(
        &api,
        "{ consultations(filter: {from: \"2025-02-30\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&bad), "VALIDATION", "{bad}");
}

/// A refused personal field is null, alone, with its error; the participants around it stay.
pub async fn a_refused_field_is_null_and_its_parents_stay(db: &TestDb) {
    let api = graph_app(db).await;
    let token = |role: Role, regions: &[&str]| {
        let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
        let store = api.app.store.clone();
        async move {
            create_token(&store, "graph", role, &regions, Actor::new("test", "Test"))
                .await
                .expect("token")
                .bearer
        }
    };
    let viewer = token(Role::Viewer, &[]).await;
    let rabat = token(Role::Editor, &["MA-04"]).await;
    let fes = token(Role::Editor, &["MA-03"]).await;
    let c = json!({"id": id("g/c")});
    let only_contact =
        "query($id: UUID!) { consultation(id: $id) { participants { contact { email } } } }";
    let with_role =
        "query($id: UUID!) { consultation(id: $id) { title participants { role contact { email } } } }";
    for bearer in [&viewer, &rabat] {
        let (_, r) = gql_as(&api, Some(bearer), only_contact, c.clone()).await;
        assert_eq!(
            r["data"]["consultation"]["participants"],
            json!([{"contact": null}, {"contact": null}]),
            "{r}"
        );
        let (_, r) = gql_as(&api, Some(bearer), with_role, c.clone()).await;
        assert_eq!(
            r["data"]["consultation"],
            json!({"title": "Concertation régionale sur l'export",
                "participants": [{"role": "CHAIR", "contact": null}, {"role": "SPEAKER", "contact": null}]}),
            "{r}"
        );
        let errors = r["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors
                .iter()
                .all(|e| e["extensions"]["code"] == "FORBIDDEN"),
            "{r}"
        );
        let mut paths: Vec<String> = errors.iter().map(|e| e["path"].to_string()).collect();
        paths.sort();
        assert_eq!(
            paths,
            vec![
                json!(["consultation", "participants", 0, "contact"]).to_string(),
                json!(["consultation", "participants", 1, "contact"]).to_string(),
            ],
            "{r}"
        );
    }
    for bearer in [&fes, &api.admin] {
        let (_, r) = gql_as(&api, Some(bearer), with_role, c.clone()).await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(
            r["data"]["consultation"]["participants"][0]["contact"]["email"],
            "hejira@mic.gov.ma"
        );
        assert_eq!(
            r["data"]["consultation"]["participants"][1]["contact"],
            Value::Null
        );
    }
}

/// GraphQL's `Int` is 32-bit: larger arguments and variables are refused by validation, and
/// counts, pages, versions and positions are `Int`s.
pub async fn int_arguments_outside_32_bits_are_refused(db: &TestDb) {
    let api = graph_app(db).await;
    for (query, variables) in [
        ("{ events(after: 18813396227) { position } }", json!({})),
        (
            "query($a: Int!) { events(after: $a) { position } }",
            json!({"a": 18813396227_i64}),
        ),
        ("{ consultations(first: 4294967297) { totalCount } }", json!({})),
        (
            "query($v: Int) { consultation(id: \"00000000-0000-0000-0000-000000000000\", asOfVersion: $v) { id } }",
            json!({"v": 2147483648_i64}),
        ),
        (
            "query($v: Int) { streamEvents(streamId: \"00000000-0000-0000-0000-000000000000\", upToVersion: $v) { position } }",
            json!({"v": -2147483649_i64}),
        ),
    ] {
        let (_, r) = gql(&api, query, variables).await;
        assert_eq!(code(&r), "VALIDATION", "{query}: {r}");
        // Nothing ran: no data, or (for a variable, which async-graphql coerces as the field
        // runs) the field null.
        let data = r.get("data").cloned().unwrap_or(Value::Null);
        assert!(
            data.is_null() || data.as_object().is_some_and(|o| o.values().all(Value::is_null)),
            "{query}: {r}"
        );
    }
    let d = data(
        &api,
        "{ events(after: 2147483647) { position } big: events(after: 0, first: 1) { position version } }",
        json!({}),
    )
    .await;
    assert_eq!(d["events"], json!([]));
    assert_eq!(d["big"], json!([{"position": 1, "version": 1}]));
}
