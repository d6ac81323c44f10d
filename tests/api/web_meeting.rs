//! "Log a meeting" on the HTML it answers (both backends): a whole meeting logged in Arabic
//! step by step (plan, an organisation and a person registered inline and chosen, a participant,
//! a recommendation, an agreement with an exact budget and a party, a follow-up action, held,
//! closed), with the signed-in person as every event's actor; one in French; refused values next
//! to their field with the rest kept and nothing appended; another region read-only and a forged
//! write refused; a conflict shown with what changed, then applied on top.

use axum::http::StatusCode;
use serde_json::json;
use shura::accounts::user_id;
use shura::domain::token::Role;
use shura::projections::lists;
use shura::store::Store;
use uuid::Uuid;

use crate::app;
use crate::common::web::{Page, WebClient};
use crate::common::TestDb;
use crate::web::signed_in;

/// The value of the input `name` inside the form `form` of a page, if it has one.
fn try_input(page: &Page, form: &str, name: &str) -> Option<String> {
    let body = &page.body;
    let start = body
        .find(&format!("id=\"form-{form}\""))
        .unwrap_or_else(|| panic!("no form {form}: {body}"));
    let end = body[start..]
        .find("</form>")
        .map_or(body.len(), |e| start + e);
    let scope = &body[start..end];
    let at = scope.find(&format!("name=\"{name}\""))?;
    let tag = scope[at..].split('>').next()?;
    let value = tag.split("value=\"").nth(1)?;
    value.split('"').next().map(str::to_owned)
}

/// The value of the input `name` inside the form `form` of a page.
fn input(page: &Page, form: &str, name: &str) -> String {
    try_input(page, form, name).unwrap_or_else(|| panic!("no input {name} in form {form}"))
}

/// Posts the form `form` of `page` to `path` with its hidden values (`_csrf`, `_key`,
/// `_version`, fresh ids) and `pairs`.
async fn send(
    client: &mut WebClient,
    page: &Page,
    form: &str,
    path: &str,
    hidden: &[&str],
    pairs: &[(&str, &str)],
) -> Page {
    let mut values: Vec<(String, String)> = vec![("_csrf".into(), page.csrf().unwrap())];
    if let Some(version) = try_input(page, form, "_version") {
        values.push(("_version".into(), version));
    }
    for name in ["_key"].iter().chain(hidden) {
        values.push(((*name).to_owned(), input(page, form, name)));
    }
    for (k, v) in pairs {
        values.push(((*k).to_owned(), (*v).to_owned()));
    }
    let borrowed: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.post(path, &borrowed).await
}

/// How many events the log holds.
async fn log_length(store: &Store) -> usize {
    store.read_all(0, 10_000).await.unwrap().len()
}

/// The consultation id of a redirect to one of its steps.
fn meeting_of(page: &Page) -> Uuid {
    let location = page.location.as_deref().expect("a redirect");
    let id = location
        .strip_prefix("/meetings/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{location}"));
    Uuid::parse_str(id).unwrap()
}

fn assert_redirect(page: &Page, to: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().unwrap_or("");
    assert!(location.starts_with(to), "{location} is not {to}");
}

pub async fn web_meeting_flow(db: &TestDb) {
    let api = app(db, false).await;
    let store = &api.app.store;
    let mut ar = signed_in(&api, "n.fassi", Role::Editor, &["MA-03"], "ar").await;
    let actor = format!("user:{}", user_id("n.fassi"));

    // The first step: the editor's region chosen, the steps bar with the current step.
    let new = ar.get("/meetings/new").await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    assert!(new.body.contains("<option value=\"MA-03\" selected>"));
    assert!(new.body.contains("<ol class=\"steps\">"));
    assert!(new
        .body
        .contains("<span aria-current=\"step\">البرمجة</span>"));
    assert!(new
        .body
        .contains("hx-get=\"/meetings/suggest?kind=organisation"));

    // Refused values: the rule next to its field, every typed value kept, nothing appended.
    let before = log_length(store).await;
    let place = ("place.name.ar", "مقر ولاية جهة فاس مكناس");
    let untitled = send(
        &mut ar,
        &new,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "workshop"),
            ("title.ar", " "),
            ("title.fr", ""),
            ("schedule.start.year", "2025"),
            place,
            ("region", "MA-03"),
        ],
    )
    .await;
    assert_eq!(
        untitled.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        untitled.body
    );
    assert!(untitled
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"f-title-ar-error\""));
    assert!(untitled
        .body
        .contains("<p class=\"field-error\" id=\"f-title-ar-error\">هذا الحقل إلزامي.</p>"));
    assert!(untitled.body.contains("value=\"مقر ولاية جهة فاس مكناس\""));
    assert!(untitled
        .body
        .contains("<option value=\"workshop\" selected>"));
    let thirteenth = send(
        &mut ar,
        &untitled,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "workshop"),
            ("title.ar", "لقاء تشاوري"),
            ("schedule.start.year", "2025"),
            ("schedule.start.month", "13"),
            place,
            ("region", "MA-03"),
        ],
    )
    .await;
    assert_eq!(
        thirteenth.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        thirteenth.body
    );
    assert!(thirteenth
        .body
        .contains("aria-describedby=\"f-schedule-start-month-error\""));
    let error = thirteenth
        .body
        .split("id=\"f-schedule-start-month-error\">")
        .nth(1)
        .unwrap();
    assert!(error.starts_with("يجب أن تكون القيمة بين"), "{error}");
    assert!(thirteenth.body.contains("value=\"لقاء تشاوري\""));
    assert!(thirteenth.body.contains("value=\"13\""));
    // A city without the place's name: the place's name is at fault (serde, reading the
    // flattened details, names only `name`).
    let nameless = send(
        &mut ar,
        &thirteenth,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "workshop"),
            ("title.ar", "لقاء تشاوري"),
            ("schedule.start.year", "2025"),
            ("place.city.ar", "فاس"),
            ("region", "MA-03"),
        ],
    )
    .await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nameless
            .body
            .contains("aria-describedby=\"f-place-name-ar-error\""),
        "{}",
        nameless.body
    );
    assert!(nameless.body.contains("value=\"فاس\""));
    assert_eq!(log_length(store).await, before);

    // 1. Planned, in Arabic, as precisely as known; a resubmission is the same command.
    let title = "لقاء تشاوري حول تنمية الصادرات بجهة فاس مكناس";
    let plan = [
        ("kind", "regional_consultation"),
        ("title.ar", title),
        ("schedule.start.year", "2025"),
        ("schedule.start.month", "11"),
        ("schedule.start.day", "4"),
        ("schedule.start_time", "10:00"),
        ("schedule.as_stated.ar", "الثلاثاء المقبل"),
        place,
        ("place.city.ar", "فاس"),
        ("region", "MA-03"),
        ("purpose.ar", "تشخيص عراقيل التصدير واقتراح حلول عملية"),
        ("sources.publisher.ar", "هسبريس"),
        (
            "sources.url",
            "https://www.hespress.com/economie/export-fes-meknes",
        ),
    ];
    let planned = send(
        &mut ar,
        &thirteenth,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &plan,
    )
    .await;
    assert_redirect(&planned, "/meetings/");
    let id = meeting_of(&planned);
    assert_eq!(
        planned.location.as_deref(),
        Some(format!("/meetings/{id}/participants?saved=1").as_str())
    );
    let again = send(
        &mut ar,
        &thirteenth,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &plan,
    )
    .await;
    assert_redirect(&again, &format!("/meetings/{id}/participants"));
    assert_eq!(store.read_stream(id, None).await.unwrap().len(), 1);

    // 2. Participants: an organisation and a person registered on the page, then chosen.
    let participants_path = format!("/meetings/{id}/participants");
    let page = ar.get(&format!("{participants_path}?saved=1")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("تم الحفظ."));
    assert!(page.body.contains(&format!(
        "<a href=\"{participants_path}\" aria-current=\"step\">المشاركون</a>"
    )));
    assert!(page.body.contains(title));
    assert!(page.body.contains(&format!("href=\"/consultations/{id}\"")));
    assert!(page
        .body
        .contains("<strong id=\"meeting-status\">مبرمجة</strong>"));
    let chamber = "غرفة التجارة والصناعة والخدمات لجهة فاس مكناس";
    let registered = send(
        &mut ar,
        &page,
        "organisations",
        &format!("/meetings/{id}/organisations"),
        &["organisation_id"],
        &[
            ("name.ar", chamber),
            ("kind", "chamber"),
            ("region", "MA-03"),
        ],
    )
    .await;
    let org = input(&page, "organisations", "organisation_id");
    assert_redirect(
        &registered,
        &format!("{participants_path}?organisation_id={org}"),
    );
    let chosen = ar.get(registered.location.as_deref().unwrap()).await;
    assert_eq!(input(&chosen, "participants", "organisation_id"), org);
    assert!(chosen.body.contains(&format!(
        "id=\"f-organisation_id-chosen\" aria-live=\"polite\">{chamber}</p>"
    )));
    // Found as one types (htmx), and without JavaScript as a radio choice.
    let suggested = ar
        .get(&format!(
            "/meetings/suggest?kind=organisation&target=f-organisation_id&q={}",
            crate::common::web::encode("غرفة فاس")
        ))
        .await;
    assert_eq!(suggested.status, StatusCode::OK);
    assert!(suggested.body.contains(&format!(
        "data-pick-id=\"{org}\" data-pick-target=\"f-organisation_id\""
    )));
    assert!(!suggested.body.contains("<html"));
    let bad_target = ar
        .get("/meetings/suggest?kind=person&target=%22onclick&q=x")
        .await;
    assert_eq!(bad_target.status, StatusCode::BAD_REQUEST);
    let searched = ar
        .get(&format!(
            "{participants_path}?pick=organisation_id&q={}",
            crate::common::web::encode("غرفة")
        ))
        .await;
    assert!(searched.body.contains(&format!(
        "<input type=\"radio\" name=\"organisation_id\" value=\"{org}\">"
    )));
    let person_page = send(
        &mut ar,
        &chosen,
        "people",
        &format!("/meetings/{id}/people"),
        &["person_id"],
        &[
            ("name.arabic", "محمد العلمي"),
            ("name.latin", "Mohammed Alami"),
        ],
    )
    .await;
    let person = input(&chosen, "people", "person_id");
    assert_redirect(
        &person_page,
        &format!("{participants_path}?person_id={person}"),
    );
    let page = ar.get(person_page.location.as_deref().unwrap()).await;
    let participant = input(&page, "participants", "participant_id");
    let done = send(
        &mut ar,
        &page,
        "participants",
        &participants_path,
        &["participant_id", "person_id"],
        &[
            ("organisation_id", &org),
            ("capacity.ar", "رئيس الغرفة"),
            ("role", "chair"),
            ("attendance", "invited"),
        ],
    )
    .await;
    assert_redirect(&done, &participants_path);
    let page = ar.get(&participants_path).await;
    let table = page.body.split("id=\"participants\"").nth(1).unwrap();
    assert!(table.contains("<th scope=\"row\">الرئاسة</th>"), "{table}");
    assert!(table.contains(chamber) && table.contains("محمد العلمي"));
    assert!(page.body.contains("مشارك واحد"));

    // 3. A recommendation, made by that participant.
    let path = format!("/meetings/{id}/recommendations");
    let page = ar.get(&path).await;
    assert!(page.body.contains(&format!(
        "<option value=\"{participant}\">محمد العلمي (Mohammed Alami) (رئيس الغرفة)</option>"
    )));
    let recommendation = input(&page, "recommendations", "recommendation_id");
    let text = "إحداث منصة جهوية لمواكبة المقاولات المصدرة";
    let done = send(
        &mut ar,
        &page,
        "recommendations",
        &path,
        &["recommendation_id"],
        &[
            ("text.ar", text),
            ("themes", "export, accompagnement"),
            ("proposer", &participant),
        ],
    )
    .await;
    assert_redirect(&done, &path);
    let page = ar.get(&path).await;
    assert!(page.body.contains(text) && page.body.contains("مقترحة"));

    // 4. An agreement with an exact budget, then a party and its signatory.
    let path = format!("/meetings/{id}/agreements");
    let page = ar.get(&path).await;
    assert_eq!(input(&page, "agreements", "budget.currency"), "MAD");
    // No agreement yet: no party to add.
    assert!(!page.body.contains("id=\"form-signatories\""));
    let agreement = input(&page, "agreements", "agreement_id");
    // A regional scope needs its region: refused at that field, and nothing is written.
    let refused = send(
        &mut ar,
        &page,
        "agreements",
        &format!("/meetings/{id}/agreements"),
        &["agreement_id"],
        &[
            ("title.ar", "اتفاقية بلا جهة"),
            ("kind", "partnership_agreement"),
            ("scope.level", "regional"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"f-scope-region-error\""),
        "{}",
        refused.body
    );
    let done = send(
        &mut ar,
        &page,
        "agreements",
        &format!("/meetings/{id}/agreements"),
        &["agreement_id"],
        &[
            ("title.ar", "اتفاقية شراكة لدعم المقاولات المصدرة"),
            ("kind", "partnership_agreement"),
            ("status", "signed"),
            ("budget.amount", "1 250 000,50"),
            ("budget.currency", "MAD"),
            ("scope.level", "regional"),
            ("scope.region", "MA-03"),
            ("period.start.year", "2025"),
            ("period.end.year", "2027"),
            ("programme.ar", "برنامج دعم التصدير"),
            ("signed_on.year", "2025"),
            ("signed_on.month", "11"),
            ("signed_on.day", "4"),
        ],
    )
    .await;
    assert_redirect(&done, &path);
    let page = ar.get(&path).await;
    assert!(
        page.body.contains("1.250.000,50\u{a0}د.م."),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<option value=\"partnership_agreement\">اتفاقية شراكة</option>"));
    let done = send(
        &mut ar,
        &page,
        "signatories",
        &format!("/meetings/{id}/signatories"),
        &[],
        &[
            ("agreement_id", &agreement),
            ("party.organisation_id", &org),
            ("party.signatory_person_id", &person),
            ("party.signatory_capacity.ar", "رئيس الغرفة"),
            ("party.commitments.ar", "مواكبة 50 مقاولة سنويا"),
        ],
    )
    .await;
    assert_redirect(&done, &path);
    let page = ar.get(&path).await;
    // The consultation's page says what the agreement covers.
    let record = ar.get(&format!("/consultations/{id}")).await;
    let region = shura::domain::region::Region::find("MA-03")
        .unwrap()
        .name_ar;
    assert!(
        record
            .body
            .contains(&format!("<dt>النطاق</dt><dd>{region}</dd>")),
        "{}",
        record.body
    );
    let table = page.body.split("id=\"agreements\"").nth(1).unwrap();
    assert!(
        table.contains(&format!("{chamber} (محمد العلمي (Mohammed Alami))")),
        "{table}"
    );

    // 5. A follow-up action on the recommendation.
    let path = format!("/meetings/{id}/actions");
    let page = ar.get(&path).await;
    let action = input(&page, "actions", "action_id");
    let done = send(
        &mut ar,
        &page,
        "actions",
        &path,
        &["action_id"],
        &[
            ("title.ar", "إعداد دليل المصدر الجهوي"),
            ("owner_organisation_id", &org),
            ("due.year", "2026"),
            ("due.month", "3"),
            ("recommendation_ids", &recommendation),
        ],
    )
    .await;
    assert_redirect(&done, &path);
    let page = ar.get(&path).await;
    assert!(page.body.contains(&format!("/actions/{action}")));
    assert!(page.body.contains("إعداد دليل المصدر الجهوي") && page.body.contains("لم يبدأ"));

    // 6-7. Held, then closed.
    let page = ar.get(&format!("/meetings/{id}/held")).await;
    let done = send(
        &mut ar,
        &page,
        "held",
        &format!("/meetings/{id}/held"),
        &[],
        &[],
    )
    .await;
    assert_redirect(&done, &format!("/meetings/{id}/close"));
    let page = ar.get(&format!("/meetings/{id}/close")).await;
    assert!(page
        .body
        .contains("<strong id=\"meeting-status\">منعقدة</strong>"));
    let done = send(
        &mut ar,
        &page,
        "close",
        &format!("/meetings/{id}/close"),
        &[],
        &[],
    )
    .await;
    assert_redirect(&done, &format!("/meetings/{id}/close"));
    let page = ar.get(&format!("/meetings/{id}/close")).await;
    assert!(page
        .body
        .contains("<strong id=\"meeting-status\">مغلقة</strong>"));
    assert!(!page.body.contains("id=\"form-close\""));

    // The log holds every step, each by the signed-in person.
    let events = store.read_stream(id, None).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ConsultationPlanned",
            "ParticipantRegistered",
            "RecommendationProposed",
            "AgreementRecorded",
            "AgreementSignatoryAdded",
            "ConsultationHeld",
            "ConsultationClosed"
        ]
    );
    let org_id = Uuid::parse_str(&org).unwrap();
    let action_id = Uuid::parse_str(&action).unwrap();
    for stream in [id, org_id, Uuid::parse_str(&person).unwrap(), action_id] {
        for event in store.read_stream(stream, None).await.unwrap() {
            assert_eq!(event.metadata.actor_id, actor);
            assert_eq!(event.metadata.actor_name, "n.fassi");
        }
    }
    let planned = &events[0].payload;
    assert_eq!(planned["details"]["title"], json!({"ar": title}));
    assert_eq!(
        planned["details"]["schedule"]["start"],
        json!({"year": 2025, "month": 11, "day": 4})
    );
    assert_eq!(
        planned["details"]["schedule"]["as_stated"]["ar"],
        "الثلاثاء المقبل"
    );
    assert_eq!(planned["sources"][0]["publisher"]["ar"], "هسبريس");
    assert_eq!(
        events[3].payload["agreement"]["budget"],
        json!({"amount": "1250000.50", "currency": "MAD"})
    );
    assert_eq!(
        events[3].payload["agreement"]["scope"],
        json!({"level": "regional", "region": "MA-03"})
    );
    assert_eq!(
        events[4].payload["party"]["commitments"],
        json!([{"ar": "مواكبة 50 مقاولة سنويا"}])
    );
    assert_eq!(
        events[2].payload["themes"],
        json!(["export", "accompagnement"])
    );
    // And the read models show them.
    let pool = store.pool();
    let record = &lists::consultations_by_ids(pool, &[id]).await.unwrap()[0];
    assert_eq!(
        (record.status.as_str(), record.region.as_deref()),
        ("closed", Some("MA-03"))
    );
    let actions = lists::actions_of(pool, &[id]).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].owner_id.0, org_id);
    let agreements = lists::agreements(
        pool,
        &lists::AgreementFilter {
            consultation: Some(id),
            ..Default::default()
        },
        10,
        None,
        false,
    )
    .await
    .unwrap();
    assert_eq!(agreements.rows.len(), 1);

    // In French: the organisation registered above as organiser, words and rules in French.
    let mut fr = signed_in(&api, "c.durand", Role::Editor, &["MA-03"], "fr").await;
    let new = fr.get("/meetings/new").await;
    assert!(new.body.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(new.body.contains("Type de réunion"));
    let refused = send(
        &mut fr,
        &new,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "workshop"),
            ("title.fr", "Atelier"),
            ("schedule.start.year", "2025"),
            ("schedule.start.month", "13"),
            ("region", "MA-03"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .body
        .contains("id=\"f-schedule-start-month-error\">La valeur doit être comprise entre"));
    let planned = send(
        &mut fr,
        &new,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "workshop"),
            (
                "title.fr",
                "Atelier régional sur l’économie sociale et solidaire",
            ),
            ("schedule.start.year", "2026"),
            ("schedule.start.month", "2"),
            ("place.name.fr", "Chambre de commerce de Meknès"),
            ("place.city.fr", "Meknès"),
            ("region", "MA-03"),
            ("organisers", &org),
        ],
    )
    .await;
    let fr_id = meeting_of(&planned);
    let page = fr.get(planned.location.as_deref().unwrap()).await;
    assert!(page.body.contains("Enregistré."));
    assert!(page.body.contains("aria-current=\"step\">Participants</a>"));
    assert!(page
        .body
        .contains("<strong id=\"meeting-status\">Prévue</strong>"));
    let plan_page = fr.get(&format!("/meetings/{fr_id}/plan")).await;
    assert!(plan_page.body.contains(chamber), "the organiser is named");
    assert!(plan_page.body.contains("février 2026"));
    let fr_events = store.read_stream(fr_id, None).await.unwrap();
    assert_eq!(fr_events[0].payload["organisers"], json!([org]));
    assert_eq!(
        fr_events[0].metadata.actor_id,
        format!("user:{}", user_id("c.durand"))
    );
    // A revision keeps what the form does not show and needs its reason.
    let revised = send(
        &mut fr,
        &plan_page,
        "plan",
        &format!("/meetings/{fr_id}/plan"),
        &[],
        &[
            ("kind", "workshop"),
            (
                "title.fr",
                "Atelier régional sur l’économie sociale et solidaire",
            ),
            ("schedule.start.year", "2026"),
            ("schedule.start.month", "3"),
            ("place.name.fr", "Chambre de commerce de Meknès"),
            ("region", "MA-03"),
            ("reason", "Report annoncé par la Chambre"),
        ],
    )
    .await;
    assert_redirect(&revised, &format!("/meetings/{fr_id}/plan"));
    let fr_events = store.read_stream(fr_id, None).await.unwrap();
    assert_eq!(fr_events[1].event_type, "ConsultationDetailsRevised");
    assert_eq!(
        fr_events[1].payload["details"]["schedule"]["start"],
        json!({"year": 2026, "month": 3})
    );
    assert_eq!(
        fr_events[1].payload["reason"],
        "Report annoncé par la Chambre"
    );

    // The conflict: a form drawn, someone else writes, the form sent: 409 with what changed,
    // the typed values and the new version; sent again, it applies on top.
    let rec_path = format!("/meetings/{fr_id}/recommendations");
    let drawn = fr.get(&rec_path).await;
    let drawn_version = input(&drawn, "recommendations", "_version");
    assert_eq!(drawn_version, "2");
    let mut other = signed_in(&api, "a.berrada", Role::Editor, &["MA-03"], "ar").await;
    let their = other.get(&format!("/meetings/{fr_id}/participants")).await;
    let wrote = send(
        &mut other,
        &their,
        "participants",
        &format!("/meetings/{fr_id}/participants"),
        &["participant_id"],
        &[("organisation_id", &org), ("role", "host")],
    )
    .await;
    assert_redirect(&wrote, &format!("/meetings/{fr_id}/participants"));
    let typed = "Créer un guichet unique pour les coopératives";
    let conflict = send(
        &mut fr,
        &drawn,
        "recommendations",
        &rec_path,
        &["recommendation_id"],
        &[("text.fr", typed), ("themes", "ess")],
    )
    .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert!(conflict
        .body
        .contains("Quelqu’un d’autre a modifié cette consultation"));
    let changes = conflict.body.split("id=\"changes\"").nth(1).unwrap();
    assert!(
        changes.contains("Participant inscrit") && changes.contains("a.berrada"),
        "{changes}"
    );
    assert!(conflict.body.contains(typed) && conflict.body.contains("value=\"ess\""));
    assert_eq!(input(&conflict, "recommendations", "_version"), "3");
    assert_eq!(
        input(&conflict, "recommendations", "recommendation_id"),
        input(&drawn, "recommendations", "recommendation_id")
    );
    assert_eq!(store.read_stream(fr_id, None).await.unwrap().len(), 3);
    let applied = send(
        &mut fr,
        &conflict,
        "recommendations",
        &rec_path,
        &["recommendation_id"],
        &[("text.fr", typed), ("themes", "ess")],
    )
    .await;
    assert_redirect(&applied, &rec_path);
    let types: Vec<String> = store
        .read_stream(fr_id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "ConsultationPlanned",
            "ConsultationDetailsRevised",
            "ParticipantRegistered",
            "RecommendationProposed"
        ]
    );

    // Another region: its pages read only, a forged write refused with nothing appended.
    let mut admin = signed_in(&api, "admin.web", Role::Admin, &[], "ar").await;
    let new = admin.get("/meetings/new").await;
    let planned = send(
        &mut admin,
        &new,
        "new",
        "/meetings/new",
        &["consultation_id"],
        &[
            ("kind", "working_meeting"),
            ("title.ar", "اجتماع عمل بطنجة"),
            ("schedule.start.year", "2025"),
            ("region", "MA-01"),
        ],
    )
    .await;
    let tangier = meeting_of(&planned);
    let path = format!("/meetings/{tangier}/participants");
    let page = ar.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("الصفحة للاطلاع فقط"));
    assert!(!page.body.contains("id=\"form-participants\""));
    assert!(!page.body.contains("id=\"form-organisations\""));
    let before = log_length(store).await;
    let token = page.csrf().unwrap();
    let forged = ar
        .post(
            &path,
            &[
                ("_csrf", &token),
                ("_key", "forged-key-1"),
                ("participant_id", &Uuid::new_v4().to_string()),
                ("organisation_id", &org),
                ("role", "attendee"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.body.contains("دورك لا يسمح بالكتابة هنا"),
        "{}",
        forged.body
    );
    assert_eq!(log_length(store).await, before);
    assert_eq!(store.read_stream(tangier, None).await.unwrap().len(), 1);
    // Without the form token nothing is even tried; a viewer cannot start a meeting.
    let no_token = ar.post(&format!("/meetings/{id}/held"), &[]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let mut viewer = signed_in(&api, "v.idrissi", Role::Viewer, &[], "fr").await;
    assert_eq!(
        viewer.get("/meetings/new").await.status,
        StatusCode::FORBIDDEN
    );
    let read = viewer.get(&format!("/meetings/{id}/agreements")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.contains("lecture seule") && !read.body.contains("id=\"form-agreements\""));
    assert_eq!(
        ar.get(&format!("/meetings/{}/plan", Uuid::new_v4()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ar.get(&format!("/meetings/{id}/nowhere")).await.status,
        StatusCode::NOT_FOUND
    );
}
