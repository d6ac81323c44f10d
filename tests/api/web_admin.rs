//! The stakeholders, audit and users admin pages, on the HTML they answer (both backends, seeds
//! on): search and records, contact details by access, the chain's state and verification, the
//! feed and a stream's history, the NDJSON export, and accounts created, refused and disabled.

use axum::http::StatusCode;
use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::token::Role;
use shura::seeds::reference;
use shura::store::{Actor, Store};

use crate::common::web::WebClient;
use crate::common::TestDb;
use crate::web::{signed_in, PASSWORD};
use crate::{app, Api};

async fn run(store: &Store, command: Value) {
    let parsed: AnyCommand =
        serde_json::from_value(command.clone()).unwrap_or_else(|e| panic!("{command}: {e}"));
    execute(
        store,
        parsed,
        CommandContext::new(Actor::new("test", "Tests")),
    )
    .await
    .unwrap_or_else(|e| panic!("{command}: {e}"));
}

pub async fn web_stakeholders_audit_and_users(db: &TestDb) {
    let api = app(db, true).await;
    stakeholders(&api).await;
    contacts_follow_access(&api).await;
    audit(&api).await;
    users(&api).await;
}

async fn stakeholders(api: &Api) {
    let mut viewer = signed_in(api, "h.berrada", Role::Viewer, &[], "ar").await;
    let ccis = reference("org/ccis-fes-meknes").to_string();
    let export = reference("consultation/fes-meknes-export-2024").to_string();

    // The chamber is found by an Arabic word and by a French one.
    let arabic = viewer.get("/stakeholders?q=%D8%BA%D8%B1%D9%81%D8%A9").await; // غرفة
    assert_eq!(arabic.status, StatusCode::OK, "{}", arabic.body);
    assert!(arabic
        .body
        .contains(&format!("/stakeholders/organisations/{ccis}")));
    assert!(arabic
        .body
        .contains("غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس"));
    let french = viewer.get("/stakeholders?q=Chambre&region=MA-03").await;
    assert!(french
        .body
        .contains(&format!("/stakeholders/organisations/{ccis}")));
    // A word nobody has finds nothing, and says so.
    let none = viewer.get("/stakeholders?q=zzzqqq").await;
    assert!(!none.body.contains("/stakeholders/organisations/"));
    assert!(none.body.contains("لا توجد أي هيئة"), "{}", none.body);
    // Another region's filter leaves the chamber out.
    let elsewhere = viewer.get("/stakeholders?q=Chambre&region=MA-04").await;
    assert!(!elsewhere.body.contains(&ccis));
    // Too many words are refused next to the box, not with an error page.
    let wordy = viewer.get("/stakeholders?q=a+b+c+d+e").await;
    assert_eq!(wordy.status, StatusCode::OK);
    assert!(wordy.body.contains("notice error"));

    // The chamber's page: both names, its kind and region, and the consultation it co-chaired.
    let page = viewer
        .get(&format!("/stakeholders/organisations/{ccis}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Chambre de Commerce, d&#39;Industrie")
            || page.body.contains("Chambre de Commerce, d&#x27;Industrie"),
        "{}",
        page.body
    );
    assert!(page.body.contains("غرفة مهنية"));
    assert!(page.body.contains("فاس"));
    assert!(page.body.contains(&format!("/consultations/{export}")));
    // A viewer is offered no history link; unknown and malformed ids are answered as such.
    assert!(!page.body.contains("/audit/streams/"));
    let missing = viewer
        .get(&format!(
            "/stakeholders/organisations/{}",
            reference("nobody")
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        viewer.get("/stakeholders/people/not-an-id").await.status,
        StatusCode::BAD_REQUEST
    );

    // In French, the page is in French.
    let mut french_viewer = WebClient::new(api.app.router.clone(), "fr");
    french_viewer.sign_in("h.berrada", PASSWORD).await;
    let page_fr = french_viewer
        .get(&format!("/stakeholders/organisations/{ccis}"))
        .await;
    assert!(page_fr.body.contains("Chambre professionnelle"));
    assert!(page_fr
        .body
        .contains("Consultations auxquelles il a pris part"));
}

async fn contacts_follow_access(api: &Api) {
    let store = &api.app.store;
    let person = reference("web-admin/person");
    let consultation = reference("web-admin/consultation");
    run(
        store,
        json!({"aggregate": "person", "type": "register_person", "person_id": person,
            "name": {"arabic": "سناء العلوي", "latin": "Sanaa Alaoui"}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "person", "type": "start_post", "person_id": person,
            "post_id": reference("web-admin/post"), "organisation_id": reference("org/ccis-fes-meknes"),
            "title": {"ar": "مديرة الدعم", "fr": "Directrice de l'appui"}, "start": {"year": 2023, "month": 5}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation",
            "consultation_id": consultation, "kind": "workshop",
            "title": {"ar": "ورشة المواكبة", "fr": "Atelier d'accompagnement"},
            "schedule": {"start": {"year": 2025, "month": 11, "day": 3}}, "region": "MA-03"}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "register_participant",
            "consultation_id": consultation, "participant_id": reference("web-admin/participant"),
            "person_id": person, "role": "speaker",
            "contact": {"email": "s.alaoui@ccis-fm.ma", "phone": "+212 535 00 00 00"}}),
    )
    .await;
    let path = format!("/stakeholders/people/{person}");

    // A viewer sees the person, the post and the workshop, never the contact.
    let mut viewer = WebClient::new(api.app.router.clone(), "ar");
    viewer.sign_in("h.berrada", PASSWORD).await;
    let seen = viewer.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("سناء العلوي") && seen.body.contains("Sanaa Alaoui"));
    assert!(seen.body.contains("مديرة الدعم"));
    assert!(seen
        .body
        .contains(&format!("/consultations/{consultation}")));
    assert!(!seen.body.contains("s.alaoui@ccis-fm.ma"), "{}", seen.body);
    assert!(!seen.body.contains("+212 535"));
    assert!(seen.body.contains("id=\"contacts-hidden\""));
    // The organisation lists her through her post.
    let org = viewer
        .get(&format!(
            "/stakeholders/organisations/{}",
            reference("org/ccis-fes-meknes")
        ))
        .await;
    assert!(org.body.contains(&path) && org.body.contains("مديرة الدعم"));

    // An editor of another region does not either; one of Fès-Meknès and an admin do.
    let mut other = signed_in(api, "o.rabat", Role::Editor, &["MA-04"], "fr").await;
    assert!(!other.get(&path).await.body.contains("s.alaoui@ccis-fm.ma"));
    let mut own = signed_in(api, "o.fes", Role::Editor, &["MA-03"], "fr").await;
    assert!(own.get(&path).await.body.contains("s.alaoui@ccis-fm.ma"));
    let mut admin = signed_in(api, "a.admin", Role::Admin, &[], "fr").await;
    let full = admin.get(&path).await;
    assert!(full.body.contains("s.alaoui@ccis-fm.ma") && full.body.contains("+212 535 00 00 00"));
    assert!(!full.body.contains("id=\"contacts-hidden\""));
    // The admin is offered the person's history in the log.
    assert!(full.body.contains(&format!("/audit/streams/{person}")));
}

async fn audit(api: &Api) {
    let store = &api.app.store;
    let mut auditor = signed_in(api, "r.auditor", Role::Auditor, &[], "ar").await;
    let head = store.head().await.unwrap();
    assert!(head.position > 50, "the seeds and this suite wrote events");

    // The chain's state: head position and hash.
    let page = auditor.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<dd id=\"head-position\">{}</dd>", head.position)),
        "{}",
        page.body
    );
    assert!(page.body.contains(&head.hash));
    // The feed, newest first: the head's event is on the first page, 50 rows, and a next page.
    assert!(page
        .body
        .contains(&format!("<th scope=\"row\">{}</th>", head.position)));
    assert_eq!(page.body.matches("<tr>").count(), 51, "header + 50 rows");
    assert!(page
        .body
        .contains(&format!("/audit?before={}", head.position - 49)));
    // By position from 1, the first event is the first row.
    let first = auditor.get("/audit?from=1").await;
    assert!(first.body.contains("<th scope=\"row\">1</th>"));
    // Filtered by stream type: only people's streams.
    let people = auditor.get("/audit?stream_type=person").await;
    assert!(people
        .body
        .contains("<code dir=\"ltr\">PersonRegistered</code>"));
    assert!(!people
        .body
        .contains("<code dir=\"ltr\">OrganisationRegistered</code>"));
    // Filtered by actor: this suite's test actor only.
    let tests = auditor.get("/audit?actor=test").await;
    assert!(tests.body.contains("PostStarted"));
    assert!(
        !tests.body.contains("OrganisationRegistered"),
        "seed events are the seeder's"
    );
    // A malformed filter is a bad request.
    assert_eq!(
        auditor.get("/audit?from_date=yesterday").await.status,
        StatusCode::BAD_REQUEST
    );

    // Verifying needs the form token, then reads the whole log: intact.
    assert_eq!(
        auditor.post("/audit/verify", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let verified = auditor.submit("/audit", "/audit/verify", &[]).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert!(
        verified.body.contains("data-result=\"ok\""),
        "{}",
        verified.body
    );
    // (Fluent isolates its arguments with FSI/PDI marks.)
    let plain = verified.body.replace(['\u{2068}', '\u{2069}'], "");
    assert!(plain.contains(&format!("السجل سليم إلى غاية الموضع {}", head.position)));

    // A stream's whole history, with its payload (escaped) and metadata.
    let ccis = reference("org/ccis-fes-meknes");
    let stream = auditor.get(&format!("/audit/streams/{ccis}")).await;
    assert_eq!(stream.status, StatusCode::OK, "{}", stream.body);
    assert!(stream.body.contains("OrganisationRegistered"));
    assert!(stream.body.contains("<pre"));
    assert!(
        stream
            .body
            .contains("\"ar\": \"غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس\"")
            || stream
                .body
                .contains("&#34;ar&#34;: &#34;غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس&#34;")
            || stream.body.contains(
                "&quot;ar&quot;: &quot;غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس&quot;"
            ),
        "{}",
        stream.body
    );
    assert!(stream
        .body
        .contains(&format!("/stakeholders/organisations/{ccis}")));
    let events = store.read_stream_stored(ccis, None).await.unwrap();
    assert!(stream.body.contains(&events[0].hash));
    assert!(stream
        .body
        .contains(&events[0].metadata.correlation_id.to_string()));
    assert_eq!(
        auditor
            .get(&format!("/audit/streams/{}", reference("nothing")))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The NDJSON export: one line per event, each the stored event.
    let exported = auditor.get("/audit/export/log.ndjson").await;
    assert_eq!(exported.status, StatusCode::OK);
    let head = store.head().await.unwrap();
    let lines: Vec<&str> = exported.body.lines().collect();
    assert_eq!(lines.len() as i64, head.position);
    let last: Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    assert_eq!(last["hash"], json!(head.hash));

    // Editors and viewers reach none of it.
    let mut editor = signed_in(api, "e.meknes", Role::Editor, &["MA-03"], "fr").await;
    for path in [
        "/audit",
        "/audit/export/log.ndjson",
        &format!("/audit/streams/{ccis}"),
        "/users",
    ] {
        assert_eq!(
            editor.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        editor.submit("/", "/audit/verify", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!editor.get("/").await.body.contains("href=\"/audit\""));
    // An auditor reads the log but does not administer users.
    assert_eq!(auditor.get("/users").await.status, StatusCode::FORBIDDEN);
}

async fn users(api: &Api) {
    let store = &api.app.store;
    let mut admin = signed_in(api, "k.admin", Role::Admin, &[], "ar").await;
    let list = admin.get("/users").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("k.admin") && list.body.contains("r.auditor"));

    // A password too short: refused next to the password field, the rest kept, nothing written.
    let before = store.head().await.unwrap().position;
    let short = admin
        .submit(
            "/users",
            "/users",
            &[
                ("username", "n.fassi"),
                ("display_name", "نادية الفاسي"),
                ("role", "editor"),
                ("regions", "MA-03"),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert!(
        short
            .body
            .replace(['\u{2068}', '\u{2069}'], "")
            .contains("<p class=\"field-error\" id=\"password-error\">يجب أن تتكون كلمة المرور من 12 حرفا على الأقل.</p>"),
        "{}",
        short.body
    );
    assert!(short.body.contains("value=\"n.fassi\"") && short.body.contains("نادية الفاسي"));
    assert!(short.body.contains("value=\"MA-03\" checked"));
    assert!(
        !short.body.contains("value=\"short\""),
        "passwords are never drawn back"
    );
    assert_eq!(store.head().await.unwrap().position, before);
    // Two different passwords are refused at the confirmation.
    let mismatch = admin
        .submit(
            "/users",
            "/users",
            &[
                ("username", "n.fassi"),
                ("role", "editor"),
                ("regions", "MA-03"),
                ("password", PASSWORD),
                ("password_confirmation", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("id=\"password_confirmation-error\""));
    // A malformed address is refused next to its field, before any account exists.
    let bad_email = admin
        .submit(
            "/users",
            "/users",
            &[
                ("username", "n.fassi"),
                ("email", "n.fassi at industrie"),
                ("role", "editor"),
                ("regions", "MA-03"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_email.body.contains("id=\"email-error\""),
        "{}",
        bad_email.body
    );
    assert_eq!(store.head().await.unwrap().position, before);
    // No form token, no user.
    let forged = admin
        .post("/users", &[("username", "x.forged"), ("role", "viewer")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Created: an editor of Fès-Meknès who signs in, written by the admin.
    let created = admin
        .submit(
            "/users",
            "/users",
            &[
                ("username", "n.fassi"),
                ("display_name", "نادية الفاسي"),
                ("email", "n.fassi@industrie.gov.ma"),
                ("role", "editor"),
                ("regions", "MA-03"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location.as_deref(), Some("/users?created=n.fassi"));
    let shown = admin.get("/users?created=n.fassi").await;
    let plain = shown.body.replace(['\u{2068}', '\u{2069}'], "");
    assert!(
        plain.contains("تم إنشاء المستخدم n.fassi"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("محرر") && shown.body.contains("فاس"));
    let user_stream = shura::accounts::user_id("n.fassi");
    let admin_id = shura::accounts::user_id("k.admin");
    let written = store.read_stream_stored(user_stream, None).await.unwrap();
    assert_eq!(written[0].metadata.actor_id, format!("user:{admin_id}"));
    let emails = shura::accounts::users_with_email(store.pool())
        .await
        .unwrap();
    assert!(emails
        .iter()
        .any(|u| u.username == "n.fassi" && u.email == "n.fassi@industrie.gov.ma"));
    let mut fassi = WebClient::new(api.app.router.clone(), "ar");
    fassi.sign_in("n.fassi", PASSWORD).await;
    assert_eq!(fassi.get("/").await.status, StatusCode::OK);
    // The same name again is refused next to the username.
    let again = admin
        .submit(
            "/users",
            "/users",
            &[
                ("username", "n.fassi"),
                ("role", "viewer"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("id=\"username-error\""));

    // Disabled through the page: signed out at once, and the event is the admin's.
    let disabled = admin.submit("/users", "/users/n.fassi/disable", &[]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    let out = fassi.get("/").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.location.as_deref().unwrap_or("").starts_with("/signin"));
    let written = store.read_stream_stored(user_stream, None).await.unwrap();
    let last = written.last().unwrap();
    assert_eq!(last.event_type, "UserDisabled");
    assert_eq!(last.metadata.actor_id, format!("user:{admin_id}"));
    assert!(admin
        .get("/users")
        .await
        .body
        .contains("/users/n.fassi/enable"));
    // Enabled again, the user signs in again.
    let enabled = admin.submit("/users", "/users/n.fassi/enable", &[]).await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    fassi.sign_in("n.fassi", PASSWORD).await;
    // An admin may not disable itself, nor act on a name that does not exist.
    assert_eq!(
        admin
            .submit("/users", "/users/k.admin/disable", &[])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin
            .submit("/users", "/users/nobody.here/disable", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Only admins: an editor may neither list nor disable.
    let mut editor = WebClient::new(api.app.router.clone(), "fr");
    editor.sign_in("e.meknes", PASSWORD).await;
    assert_eq!(
        editor
            .submit("/", "/users/n.fassi/disable", &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
