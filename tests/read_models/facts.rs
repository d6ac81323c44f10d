//! Facts as the sources state them: inferred facts flagged, seeds corrected, agreements' scope.

use async_graphql::Request;
use chrono::NaiveDate;
use serde_json::{json, Value};
use shura::auth::Access;
use shura::domain::consultation::{self, PointKind, ScopeLevel};
use shura::projections::queries::{dashboard_budgets, dashboard_budgets_in_scope, DashboardFilter};
use shura::store::Store;

use shura::commands::{consultation_state, execute};

use crate::common::{raw_text, TestDb};
use crate::{assert_rule, command, ctx, id, run};

/// The stored document of an entity row, as JSON.
async fn doc(store: &Store, table: &str, key: &str) -> Value {
    let sql = format!("SELECT doc FROM {table} WHERE id = '{}'", id(key));
    serde_json::from_str(&raw_text(store, &sql).await).expect("a JSON document")
}

/// The note of an `inferred` flag, or `None` when the fact is stated.
fn note(flag: &Value) -> Option<&str> {
    flag.get("note").and_then(Value::as_str)
}

async fn consultation(store: &Store, key: &str) -> consultation::Consultation {
    consultation_state(store, id(key), None)
        .await
        .expect("a consultation")
        .consultation
        .expect("planned")
}

/// Runs a GraphQL query as an anonymous reader of a public instance.
async fn graphql(store: &Store, query: &str) -> Value {
    let schema = shura::graphql::schema(shura::graphql::ApiState::new(
        store.clone(),
        Default::default(),
    ));
    let response = schema
        .execute(Request::new(query).data(Access::Anonymous { public_read: true }))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.into_json().expect("JSON data")
}

/// The seeds flag every fact the articles do not state (with a note saying how it was
/// inferred), leave the stated ones unflagged, and correct what the review found wrong; the
/// flags are in the read models and the API.
pub async fn seeds_flag_inferred_facts_and_state_what_the_articles_say(db: &TestDb) {
    let store = db.domain_store().await;
    shura::seeds::apply(&store, &shura::seeds::embedded())
        .await
        .unwrap();

    // Names: «وصرح مزور» only, so Mezzour's first name and post are inferred; so is the name
    // of the 2017 ministry (the article says «الوزارة») and of the Wilaya (only its wali).
    let mezzour = doc(&store, "rm_people", "person/ryad-mezzour").await;
    assert!(note(&mezzour["name"]["inferred"]).is_some_and(|n| n.contains("مزور")));
    assert!(note(&mezzour["posts"][0]["inferred"]).is_some());
    let hejira = doc(&store, "rm_people", "person/omar-hejira").await;
    assert!(hejira["name"].get("inferred").is_none(), "a stated name");
    assert!(
        hejira["posts"][0].get("inferred").is_none(),
        "a stated post"
    );
    for (key, inferred) in [
        ("org/miicen", true),
        ("org/wilaya-fes-meknes", true),
        ("org/cgem", false),
        ("org/mic", false),
    ] {
        let org = doc(&store, "rm_organisations", key).await;
        assert_eq!(note(&org["name_inferred"]).is_some(), inferred, "{key}");
    }
    // Acronyms: flagged unless the article writes them.
    let not_written = [
        "miicen",
        "unido",
        "mic",
        "ccis-fes-meknes",
        "cgem",
        "imanor",
        "maroc-pme",
        "ammps",
        "fmiip",
        "fcp",
        "um6p",
        "oncf",
        "map",
        "rectim",
        "ctis",
    ];
    for key in not_written {
        let org = doc(&store, "rm_organisations", &format!("org/{key}")).await;
        assert!(org["acronym"].is_string(), "{key} has an acronym");
        assert!(note(&org["acronym_inferred"]).is_some(), "{key}");
    }
    for key in ["mta", "mti", "innovx", "cetiev"] {
        let org = doc(&store, "rm_organisations", &format!("org/{key}")).await;
        assert!(
            org.get("acronym_inferred").is_none(),
            "{key} is in the text"
        );
    }

    // Parties: the State is an inferred party, the others are named.
    let unido = consultation(&store, "consultation/unido-meeting-2017").await;
    let jni = consultation(&store, "consultation/jni3-agreements-2025").await;
    for (c, agreement) in [
        (&unido, "agreement/new-morocco-unido-partnership-framework"),
        (&jni, "agreement/mta-contract-programme"),
    ] {
        let a = c.agreement(id(agreement)).expect(agreement);
        for party in &a.parties {
            let is_state = party.organisation_id == Some(id("org/state"));
            assert_eq!(party.inferred.is_some(), is_state, "{agreement}");
        }
    }
    let stated_parties = jni
        .agreements
        .iter()
        .flat_map(|a| &a.parties)
        .filter(|p| p.inferred.is_none())
        .count();
    assert_eq!(stated_parties, 4 + 5 + 1 + 8 + 3);

    // Attendance: no signatory's representative is named at the Industry Day, and Mezzour is
    // only quoted; the Fès meeting's chair is said to have chaired it.
    assert_eq!(jni.participants.len(), 16);
    assert!(jni.participants.iter().all(|p| p.inferred.is_some()));
    let cti = consultation(&store, "consultation/cti-framework-agreement-signing").await;
    let speaker = cti
        .participant(id(
            "participant/cti-framework-agreement-signing/ryad-mezzour",
        ))
        .expect("Mezzour");
    assert!(speaker.inferred.is_some());
    let export = consultation(&store, "consultation/fes-meknes-export-2024").await;
    assert!(export.participants.iter().all(|p| p.inferred.is_none()));

    // Places and regions: «بمقر الوزارة», «العاصمة الرباط», «بالدار البيضاء» state no region.
    for c in [&unido, &jni, &cti] {
        let place = c.details.place.as_ref().expect("a place");
        assert!(place.inferred.is_some(), "{}", c.id);
    }
    let fes_place = export.details.place.as_ref().expect("a place");
    assert!(fes_place.inferred.is_none(), "«بالقاعة الكبرى لعمالة فاس»");

    // Wrong facts, corrected. The signing: «يومي 3 و4 نونبر الجاري ... تم أمس توقيع».
    let schedule = &jni.details.schedule;
    assert_eq!(
        (
            schedule.start.year,
            schedule.start.month,
            schedule.start.day
        ),
        (Some(2025), Some(11), Some(3))
    );
    let end = schedule.end.expect("an end");
    assert_eq!(
        (end.year, end.month, end.day),
        (Some(2025), Some(11), Some(4))
    );
    assert!(schedule.inferred, "the year is inferred");
    // «Made in Morocco» is the Industry Day's theme, not the Fès export meeting's.
    assert!(export
        .recommendations
        .iter()
        .all(|r| !r.themes.iter().any(|t| t == "made-in-morocco")));
    let first = export
        .recommendation(id("recommendation/fes-meknes-export-2024/1"))
        .expect("the first recommendation");
    assert_eq!(first.themes, ["export-development", "export-promotion"]);
    // LI Yong met the officials during his visit: not a follow-up.
    let point = |key: &str| {
        unido
            .points
            .iter()
            .find(|p| p.point_id == id(key))
            .unwrap_or_else(|| panic!("{key}"))
    };
    assert_eq!(
        point("point/unido-meeting-2017/li-met-officials").kind,
        PointKind::Statement
    );
    // The projects' sentence keeps all five areas: each objective of the framework is in it.
    let projects = point("point/unido-meeting-2017/projects-to-carry-out")
        .text
        .ar
        .clone()
        .unwrap_or_default();
    let framework = unido
        .agreement(id("agreement/new-morocco-unido-partnership-framework"))
        .expect("the framework");
    assert_eq!(framework.objectives.len(), 5);
    for objective in &framework.objectives {
        let area = objective.ar.as_deref().unwrap_or_default();
        assert!(projects.contains(area), "{area} is cut from {projects}");
    }

    // Exposed in the API, typed, with the note.
    let data = graphql(
        &store,
        &format!(
            "{{ person: node(id: \"{}\") {{ ... on Person {{ nameInferred {{ note }} \
             posts {{ inferred {{ note }} }} }} }} \
             org: node(id: \"{}\") {{ ... on Organisation {{ nameInferred {{ note }} \
             acronymInferred {{ note }} }} }} \
             jni: node(id: \"{}\") {{ ... on Consultation {{ place {{ inferred {{ note }} }} \
             participants {{ inferred {{ note }} }} \
             agreements {{ scope {{ level region }} parties {{ inferred {{ note }} }} }} }} }} }}",
            id("person/ryad-mezzour"),
            id("org/miicen"),
            id("consultation/jni3-agreements-2025"),
        ),
    )
    .await;
    assert!(data["person"]["nameInferred"]["note"].is_string());
    assert!(data["person"]["posts"][0]["inferred"]["note"].is_string());
    assert!(data["org"]["nameInferred"]["note"].is_string());
    assert!(data["org"]["acronymInferred"]["note"].is_string());
    assert!(data["jni"]["place"]["inferred"]["note"].is_string());
    assert!(data["jni"]["participants"][0]["inferred"]["note"].is_string());
    let scopes: Vec<&Value> = data["jni"]["agreements"]
        .as_array()
        .expect("agreements")
        .iter()
        .map(|a| &a["scope"])
        .collect();
    assert_eq!(scopes.len(), 5);
    assert!(scopes
        .iter()
        .all(|s| **s == json!({"level": "NATIONAL", "region": null})));
    let inferred_parties = data["jni"]["agreements"]
        .as_array()
        .expect("agreements")
        .iter()
        .flat_map(|a| a["parties"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["inferred"]["note"].is_string())
        .count();
    assert_eq!(
        inferred_parties, 1,
        "the State, in the MTA contract programme"
    );
}

/// A signed agreement in consultation `c` with this scope and budget (MAD).
fn agreement(c: &str, key: &str, scope: Option<Value>, amount: &str) -> Value {
    let mut value = json!({"aggregate": "consultation", "type": "record_agreement",
        "consultation_id": id(c), "agreement_id": id(key), "title": {"fr": key},
        "kind": "framework_agreement", "status": "signed",
        "budget": {"amount": amount, "currency": "MAD"}});
    if let Some(scope) = scope {
        value["scope"] = scope;
    }
    value
}

/// `(region, amount)` of each budget by region.
fn by_region(budgets: &shura::projections::queries::Budgets) -> Vec<(Option<String>, String)> {
    budgets
        .by_region
        .iter()
        .map(|b| (b.key.clone(), b.amount.to_string()))
        .collect()
}

/// An agreement's budget counts in its own scope's region: a national one in no region's but in
/// the all-regions total, a regional one in its region wherever it was signed, and one recorded
/// without a scope (as every agreement before scopes) in its venue's region. Both ways of
/// reading the budgets agree, live and after a rebuild; a malformed scope is refused by field.
pub async fn agreement_budgets_count_in_their_own_scope(db: &TestDb) {
    let store = db.domain_store().await;
    for (key, region, day) in [("c/rabat", "MA-04", 3), ("c/fes", "MA-03", 20)] {
        run(
            &store,
            json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": id(key), "kind": "signing_ceremony", "title": {"fr": key},
            "schedule": {"start": {"year": 2025, "month": 11, "day": day}},
            "place": {"name": {"fr": key}, "region": region}}),
        )
        .await;
    }
    let national = json!({"level": "national"});
    let fes = json!({"level": "regional", "region": "MA-03"});
    for value in [
        agreement("c/rabat", "a/national", Some(national.clone()), "900000000"),
        agreement("c/rabat", "a/for-fes", Some(fes.clone()), "100000000"),
        agreement("c/rabat", "a/venue", None, "50000000"),
        agreement("c/fes", "a/fes-national", Some(national.clone()), "7"),
    ] {
        run(&store, value).await;
    }

    let rabat = consultation(&store, "c/rabat").await;
    let scope = |key: &str| {
        rabat
            .agreement(id(key))
            .and_then(|a| a.scope_in(rabat.region()))
            .map(|s| (s.level, s.region.map(|r| r.as_str().to_owned())))
    };
    assert_eq!(scope("a/national"), Some((ScopeLevel::National, None)));
    assert_eq!(
        scope("a/for-fes"),
        Some((ScopeLevel::Regional, Some("MA-03".to_owned())))
    );
    assert_eq!(
        scope("a/venue"),
        Some((ScopeLevel::Regional, Some("MA-04".to_owned()))),
        "without a scope: the venue's region, as before scopes"
    );

    let filter = |region: Option<&str>, from: Option<NaiveDate>| DashboardFilter {
        region: region.map(str::to_owned),
        from,
        ..DashboardFilter::default()
    };
    let s = |v: &str| v.to_owned();
    let expected = [
        (
            None,
            vec![
                (Some(s("MA-03")), s("100000000")),
                (Some(s("MA-04")), s("50000000")),
                (None, s("900000007")),
            ],
        ),
        (Some("MA-04"), vec![(Some(s("MA-04")), s("50000000"))]),
        (Some("MA-03"), vec![(Some(s("MA-03")), s("100000000"))]),
        (Some("MA-01"), vec![]),
    ];
    for rebuilt in [false, true] {
        if rebuilt {
            let report = store.rebuild_read_models(true).await.unwrap();
            assert!(report.differences.is_empty(), "{:#?}", report.differences);
        }
        for (region, want) in &expected {
            let f = filter(*region, None);
            let fast = dashboard_budgets(store.pool(), &f).await.unwrap();
            let scoped = dashboard_budgets_in_scope(store.pool(), &f).await.unwrap();
            assert_eq!(&by_region(&fast), want, "{region:?}");
            assert_eq!(fast, scoped, "{region:?}: both ways agree");
        }
        // With a period, through the consultations in scope: the Fès-Meknès budget signed in
        // Rabat on 3 November is counted for MA-03 only when Rabat's consultation is in it.
        let from = NaiveDate::from_ymd_opt(2025, 11, 10);
        let later = dashboard_budgets(store.pool(), &filter(Some("MA-03"), from))
            .await
            .unwrap();
        assert_eq!(by_region(&later), vec![]);
        let earlier = NaiveDate::from_ymd_opt(2025, 11, 1);
        let all = dashboard_budgets(store.pool(), &filter(Some("MA-03"), earlier))
            .await
            .unwrap();
        assert_eq!(by_region(&all), vec![(Some(s("MA-03")), s("100000000"))]);
    }

    // In the API: the scope of each agreement.
    let data = graphql(
        &store,
        &format!(
            "{{ node(id: \"{}\") {{ ... on Consultation {{ agreements {{ title {{ fr }} \
             scope {{ level region }} }} }} }} }}",
            id("c/rabat")
        ),
    )
    .await;
    let mut scopes: Vec<(String, Value)> = data["node"]["agreements"]
        .as_array()
        .expect("agreements")
        .iter()
        .map(|a| {
            (
                a["title"]["fr"].as_str().unwrap_or("").to_owned(),
                a["scope"].clone(),
            )
        })
        .collect();
    scopes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        scopes,
        vec![
            (
                s("a/for-fes"),
                json!({"level": "REGIONAL", "region": "MA-03"})
            ),
            (
                s("a/national"),
                json!({"level": "NATIONAL", "region": null})
            ),
            (
                s("a/venue"),
                json!({"level": "REGIONAL", "region": "MA-04"})
            ),
        ]
    );

    // A scope names its region only when regional, and a known one.
    for (scope, field, code) in [
        (json!({"level": "regional"}), "scope.region", "REQUIRED"),
        (
            json!({"level": "national", "region": "MA-03"}),
            "scope.region",
            "INVALID_FORMAT",
        ),
        (
            json!({"level": "regional", "region": "MA-13"}),
            "scope.region",
            "UNKNOWN_REGION",
        ),
    ] {
        let value = agreement("c/fes", "a/refused", Some(scope), "1");
        assert_rule(execute(&store, command(value), ctx()).await, field, code);
    }
    // An inference note is checked like any free text, and named by its field.
    run(
        &store,
        json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id("org/x"), "name": {"fr": "X"}, "kind": "other"}),
    )
    .await;
    let blank = json!({"aggregate": "consultation", "type": "register_participant",
        "consultation_id": id("c/fes"), "participant_id": id("p/x"),
        "organisation_id": id("org/x"), "role": "attendee", "inferred": {"note": " "}});
    assert_rule(
        execute(&store, command(blank), ctx()).await,
        "inferred.note",
        "REQUIRED",
    );
}
