//! The consultations pages on the HTML they answer (both backends, with the five seed
//! consultations): the list's filters, Arabic-aware search and pages; a record's facts, names,
//! exact amounts, follow-up actions, contact details by role; its history and earlier states
//! (auditors and admins only, as GraphQL's); unknown ids; both languages and directions.

use axum::http::StatusCode;
use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::token::Role;
use shura::seeds::reference as id;
use shura::store::{Actor, Store};

use crate::app;
use crate::common::web::{Page, WebClient};
use crate::common::TestDb;
use crate::web::signed_in;

async fn run(store: &Store, command: Value) {
    let parsed: AnyCommand =
        serde_json::from_value(command.clone()).unwrap_or_else(|e| panic!("{command}: {e}"));
    execute(
        store,
        parsed,
        CommandContext::new(Actor::new("test", "Salma Bennani")),
    )
    .await
    .unwrap_or_else(|e| panic!("{command}: {e}"));
}

/// Pages without Fluent's bidi isolation marks around its arguments (U+2068, U+2069), so
/// that assertions read as the text does.
trait Plain {
    async fn page(&mut self, path: &str) -> Page;
}

impl Plain for WebClient {
    async fn page(&mut self, path: &str) -> Page {
        let mut page = self.get(path).await;
        page.body = page.body.replace(['\u{2068}', '\u{2069}'], "");
        page
    }
}

/// The consultation ids a list page links to, in order.
fn listed(body: &str) -> Vec<String> {
    body.split("<a href=\"/consultations/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The `after` cursor of the page's "next page" link.
fn next_cursor(body: &str) -> Option<String> {
    let at = body.find("id=\"next-page\"")?;
    let rest = &body[at..];
    let start = rest.find("after=")? + "after=".len();
    rest[start..].split('"').next().map(str::to_owned)
}

async fn list_filters_search_and_pages(admin: &mut WebClient, editor: &mut WebClient) {
    let seeds = [
        id("consultation/unido-meeting-2017"),
        id("consultation/fes-meknes-export-2024"),
        id("consultation/jni3-agreements-2025"),
        id("consultation/fes-meknes-sse-hub-workshop"),
        id("consultation/cti-framework-agreement-signing"),
    ]
    .map(|u| u.to_string());

    // Every region: the five seeds, their count in Arabic (3-10 is "few": مشاورات).
    let all = admin.page("/consultations?region=all").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(all.body.contains("<html lang=\"ar\" dir=\"rtl\">"));
    let mut ids = listed(&all.body);
    ids.sort();
    let mut expected = seeds.to_vec();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(all.body.contains("5 مشاورات"), "{}", all.body);
    assert!(all.body.contains("<option value=\"all\" selected>"));
    // Titles in Arabic, kinds and statuses from the catalogue, the date as known.
    assert!(all
        .body
        .contains("لقاء تشاوري جهوي لتعزيز مكانة جهة فاس – مكناس في مجال الصناعات التصديرية"));
    assert!(all.body.contains("مشاورة جهوية"));
    assert!(all.body.contains("مغلقة"));
    assert!(all.body.contains("28 نونبر 2024"));
    assert!(all.body.contains("فاس - مكناس") || all.body.contains("فاس-مكناس"));
    assert!(!all.body.contains("id=\"next-page\""));

    // The editor's own region by default: only the two Fès-Meknès consultations.
    let own = editor.page("/consultations").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(own.body.contains("<option value=\"MA-03\" selected>"));
    let mut ids = listed(&own.body);
    ids.sort();
    let mut fes = vec![seeds[1].clone(), seeds[3].clone()];
    fes.sort();
    assert_eq!(ids, fes);
    assert!(own.body.contains("مشاورتان"), "{}", own.body);
    // A kind and a status narrow it further.
    let workshops = editor
        .page("/consultations?region=MA-03&kind=workshop")
        .await;
    assert_eq!(listed(&workshops.body), vec![seeds[3].clone()]);
    let none = editor
        .page("/consultations?region=MA-03&status=cancelled")
        .await;
    assert!(listed(&none.body).is_empty());
    assert!(none.body.contains("لا توجد أي مشاورة تستوفي هذه المعايير"));
    // A period: only what started in 2024.
    let in_2024 = admin
        .page("/consultations?region=all&from=2024-01-01&to=2024-12-31")
        .await;
    assert_eq!(listed(&in_2024.body), vec![seeds[1].clone()]);

    // Search, Arabic-aware: a title's word, and the same word with haa for taa marbuta.
    for q in ["التصديرية", "التصديريه"] {
        let path = format!(
            "/consultations?region=all&q={}",
            crate::common::web::encode(q)
        );
        let found = admin.page(&path).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        assert_eq!(listed(&found.body), vec![seeds[1].clone()], "{q}");
        assert!(found.body.contains("مشاورة واحدة"), "{}", found.body);
    }
    // French words, accents folded ("Fes" meets "Fès").
    let mut french = WebClient::new(admin.router.clone(), "fr");
    french.cookies = admin.cookies.clone();
    let found = french
        .page("/consultations?region=all&q=industries+exportatrices")
        .await;
    assert!(found.body.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert_eq!(listed(&found.body), vec![seeds[1].clone()]);
    assert!(found.body.contains("1 consultation"), "{}", found.body);
    assert!(found.body.contains("Rencontre régionale de concertation"));
    let hub = french
        .page("/consultations?region=all&q=pole+solidaire+Fes")
        .await;
    assert_eq!(listed(&hub.body), vec![seeds[3].clone()]);
    // Too many words: a notice, not an error page, and the list unsearched.
    let long = french
        .page("/consultations?region=all&q=un+deux+trois+quatre+cinq")
        .await;
    assert_eq!(long.status, StatusCode::OK);
    assert!(long.body.contains("au plus 4 mots"));
    assert_eq!(listed(&long.body).len(), 5);

    // Pages of two: 2 + 2 + 1, each consultation once, the total on every page.
    let mut seen = Vec::new();
    let mut path = "/consultations?region=all&first=2".to_owned();
    let mut pages = 0;
    loop {
        let page = admin.page(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("5 مشاورات"));
        seen.extend(listed(&page.body));
        pages += 1;
        match next_cursor(&page.body) {
            Some(after) => {
                assert!(page.body.contains("first=2"));
                path = format!("/consultations?region=all&first=2&after={after}");
            }
            None => break,
        }
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, expected);
    // The newest first.
    let first_page = admin.page("/consultations?region=all&first=1").await;
    assert_eq!(listed(&first_page.body), vec![seeds[2].clone()]);
    // Junk parameters are a bad request, not an error of the server.
    for bad in [
        "/consultations?first=0",
        "/consultations?first=1000",
        "/consultations?after=zz",
        "/consultations?from=2024-13-01",
    ] {
        assert_eq!(
            admin.page(bad).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

async fn a_record_shows_its_facts(admin: &mut WebClient, editor: &mut WebClient) {
    let export = id("consultation/fes-meknes-export-2024");
    let page = admin.page(&format!("/consultations/{export}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("<html lang=\"ar\" dir=\"rtl\">"));
    // Title (each language kept), kind, status, date as known and as stated, place, purpose.
    assert!(body.contains(
        "<title>لقاء تشاوري جهوي لتعزيز مكانة جهة فاس – مكناس في مجال الصناعات التصديرية"
    ));
    assert!(body.contains("lang=\"fr\" dir=\"auto\">Rencontre régionale de concertation"));
    assert!(body.contains("مشاورة جهوية"));
    assert!(body.contains("مغلقة"));
    assert!(body.contains("28 نونبر 2024"));
    assert!(body.contains("يوم الثلاثاء 28 نونبر الجاري"));
    assert!(body.contains("القاعة الكبرى لعمالة فاس"));
    assert!(body.contains("الإعداد لبرنامج عمل التجارة الخارجية لسنة 2025"));
    // Organiser, participants by role, with their names linked to their pages.
    let hejira = id("person/omar-hejira");
    assert!(body.contains(&format!(
        "<a href=\"/stakeholders/people/{hejira}\">عمر حجيرة</a>"
    )));
    assert!(body.contains(&format!(
        "/stakeholders/organisations/{}",
        id("org/sec-commerce-exterieur")
    )));
    assert!(body.contains("الرئاسة"));
    assert!(body.contains("إلى جانب الرئاسة"));
    assert!(body.contains("رئيس مجلس جهة فاس-مكناس"));
    assert!(body.contains("(حاضر)"));
    // Recommendations with status and themes; the key figure to the dirham; a point's speaker.
    assert!(body.contains("تحسين الإطار التنظيمي والتشريعي لدعم الصادرات"));
    assert!(body.contains("مقترحة"));
    assert!(
        body.contains("<span dir=\"auto\">الإطار التنظيمي</span>"),
        "a theme by its Arabic name"
    );
    assert!(body.contains("2.600.000.000\u{a0}د.م."), "{body}");
    assert!(body.contains("بلغت قيمتها الإجمالية 2,6 مليار درهم"));
    assert!(body.contains("اقتباس"));
    // Sources and context notes.
    assert!(body.contains("حدث كم"));
    assert!(body.contains("001_bb1eded32c76a2d6.txt"));
    assert!(body.contains("ويأتي هذا اللقاء في إطار الإعداد"));
    // No follow-up action on this one; the admin may continue logging it.
    assert!(body.contains("لا يوجد أي إجراء تتبع حتى الآن"));
    assert!(body.contains(&format!("href=\"/meetings/{export}/plan\"")));

    // The history: each event, who, when, and a link to the state after it.
    assert!(body.contains("id=\"history\""));
    assert!(body.contains("برمجة المشاورة"));
    assert!(body.contains("تسجيل مشارك"));
    assert!(body.contains("إغلاق البطاقة"));
    assert!(body.contains("Seed loader"));
    assert!(body.contains("(UTC)"));
    assert!(body.contains(&format!("/consultations/{export}?as_of_version=1\"")));

    // Agreements: budget with every digit, in each language's convention; parties linked.
    let jni = id("consultation/jni3-agreements-2025");
    let ar = admin.page(&format!("/consultations/{jni}")).await;
    assert_eq!(ar.status, StatusCode::OK, "{}", ar.body);
    assert!(ar.body.contains("900.000.000\u{a0}د.م."), "{}", ar.body);
    assert!(ar.body.contains("من 2026 إلى 2028"));
    assert!(ar.body.contains("/stakeholders/organisations/"));
    let mut french = WebClient::new(admin.router.clone(), "fr");
    french.cookies = admin.cookies.clone();
    let fr = french.page(&format!("/consultations/{jni}")).await;
    assert!(fr.body.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(
        fr.body.contains("900\u{202f}000\u{202f}000\u{a0}MAD"),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("du 2026 au 2028"));
    assert!(fr.body.contains("Cérémonie de signature"));
    assert!(fr.body.contains("Consultation programmée"));
    // The French page shows people in Latin script.
    let fr_export = french.page(&format!("/consultations/{export}")).await;
    assert!(fr_export.body.contains(">Omar Hejira</a>"));
    assert!(fr_export.body.contains("Présidence"));

    // The seed's follow-up action, linked, with its progress.
    let cti = id("consultation/cti-framework-agreement-signing");
    let with_action = admin.page(&format!("/consultations/{cti}")).await;
    let action = id("action/cti-objective-contracts");
    assert!(with_action
        .body
        .contains(&format!("<a href=\"/actions/{action}\">عقود الأهداف")));
    assert!(with_action
        .body
        .contains("<progress max=\"100\" value=\"0\""));
    assert!(with_action.body.contains("لم يبدأ"));
    assert!(with_action.body.contains("250.000.000\u{a0}د.م."));

    // An editor of Fès-Meknès may continue logging its region's record, and reads its history;
    // another region's record is read-only and its history is not shown.
    let own = editor.page(&format!("/consultations/{export}")).await;
    assert!(own
        .body
        .contains(&format!("href=\"/meetings/{export}/plan\"")));
    assert!(own.body.contains("Seed loader"));
    assert!(own.body.contains("id=\"history\""));
    let other = editor.page(&format!("/consultations/{jni}")).await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.body.contains("/plan\""));
    assert!(other.body.contains("هذه البطاقة للاطلاع فقط بالنسبة إليك"));
    assert!(!other.body.contains("Seed loader"));
    assert!(other.body.contains("id=\"history-restricted\""));

    // Unknown ids, another kind of stream and junk: the not-found page.
    for path in [
        format!("/consultations/{}", id("consultation/nowhere")),
        format!("/consultations/{}", id("org/mic")),
        "/consultations/not-a-uuid".to_owned(),
    ] {
        let missing = admin.page(&path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert!(missing.body.contains("هذه الصفحة أو هذا السجل غير موجود"));
    }
}

async fn earlier_states(admin: &mut WebClient, viewer: &mut WebClient) {
    let export = id("consultation/fes-meknes-export-2024");
    // Before the first event: a notice on the page, not an error.
    let before = admin
        .page(&format!("/consultations/{export}?as_of=2000-01-01"))
        .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert!(before
        .body
        .contains("لم تكن هذه المشاورة مسجلة بعد في 1 يناير 2000"));
    assert!(before.body.contains("id=\"as-of-banner\""));
    assert!(!before.body.contains("عمر حجيرة"));
    // Today: the whole record, with the banner and the way back.
    let today = chrono::Utc::now().date_naive();
    let now = admin
        .page(&format!(
            "/consultations/{export}?as_of={}",
            today.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(now.status, StatusCode::OK);
    assert!(now.body.contains("البطاقة كما كانت في"));
    assert!(now.body.contains("/stakeholders/people/"));
    assert!(now
        .body
        .contains(&format!("value=\"{}\"", today.format("%Y-%m-%d"))));
    assert!(now.body.contains(&format!(
        "<a href=\"/consultations/{export}\">العودة إلى البطاقة الحالية"
    )));
    // After the first change: planned, nobody registered yet.
    let v1 = admin
        .page(&format!("/consultations/{export}?as_of_version=1"))
        .await;
    assert_eq!(v1.status, StatusCode::OK);
    assert!(v1.body.contains("البطاقة كما كانت بعد التغيير رقم 1"));
    assert!(v1.body.contains("مبرمجة"));
    // (The description names the chair; no participant is registered yet.)
    assert!(!v1.body.contains("/stakeholders/people/"));
    assert!(!v1.body.contains("id=\"participants\""));
    assert!(v1.body.contains("aria-current=\"true\""));
    // Version 0: nothing yet.
    let v0 = admin
        .page(&format!("/consultations/{export}?as_of_version=0"))
        .await;
    assert!(v0
        .body
        .contains("لم تكن هذه المشاورة مسجلة بعد في هذه النسخة"));
    for bad in [
        "as_of=2024-02-30",
        "as_of_version=-1",
        "as_of=2024-01-01&as_of_version=1",
    ] {
        let page = admin.page(&format!("/consultations/{export}?{bad}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Earlier states are read from the log: not for a viewer.
    let refused = viewer
        .page(&format!("/consultations/{export}?as_of_version=1"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let current = viewer.page(&format!("/consultations/{export}")).await;
    assert_eq!(current.status, StatusCode::OK);
    assert!(!current.body.contains("id=\"history\""));
    assert!(!current.body.contains("name=\"as_of\""));
}

async fn contacts_and_overdue_actions(api: &crate::Api, clients: &mut [(&mut WebClient, bool)]) {
    let store = &api.app.store;
    let c = id("web-consultations/c");
    run(
        store,
        json!({"aggregate": "organisation", "type": "register_organisation",
            "organisation_id": id("web-consultations/dr"), "kind": "regional_directorate",
            "region": "MA-03", "name": {"ar": "المديرية الجهوية للصناعة والتجارة بفاس", "fr": "Direction régionale de Fès"}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "plan_consultation", "consultation_id": c,
            "kind": "working_meeting", "region": "MA-03",
            "title": {"ar": "اجتماع عمل حول تتبع التوصيات", "fr": "Réunion de travail sur le suivi"},
            "schedule": {"start": {"year": 2025, "month": 3, "day": 4}, "start_time": "10:00:00", "end_time": "12:30:00"},
            "sources": [{"publisher": {"fr": "MAP"}, "url": "https://www.mapexpress.ma/suivi"}]}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "consultation", "type": "register_participant", "consultation_id": c,
            "participant_id": id("web-consultations/p"), "organisation_id": id("web-consultations/dr"),
            "role": "attendee", "contact": {"email": "suivi@mcinet.gov.ma", "phone": "+212535000000"}}),
    )
    .await;
    run(
        store,
        json!({"aggregate": "action", "type": "create_action", "action_id": id("web-consultations/a"),
            "consultation_id": c, "owner_organisation_id": id("web-consultations/dr"),
            "title": {"ar": "إعداد جدول التتبع"}, "due": {"year": 2020, "month": 1}}),
    )
    .await;
    for (client, sees) in clients.iter_mut() {
        let page = client.page(&format!("/consultations/{c}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(
            page.body.contains("suivi@mcinet.gov.ma"),
            *sees,
            "{}",
            page.body
        );
        assert_eq!(page.body.contains("+212535000000"), *sees);
        // Overdue: unfinished and past January 2020.
        assert!(page.body.contains("class=\"is-overdue\""));
        assert!(page.body.contains("يناير 2020"));
        assert!(page.body.contains("<span class=\"badge\">متأخر</span>"));
        // The source's web address is a link that leaks nothing.
        assert!(page
            .body
            .contains("<a href=\"https://www.mapexpress.ma/suivi\" rel=\"noopener noreferrer\""));
        assert!(page.body.contains("من 10:00 إلى 12:30"));
        assert!(page.body.contains("اجتماع عمل"));
    }
}

pub async fn web_consultation_pages(db: &TestDb) {
    let api = app(db, true).await;
    let mut admin = signed_in(&api, "n.admin", Role::Admin, &[], "ar").await;
    let mut editor = signed_in(&api, "s.bennani", Role::Editor, &["MA-03"], "ar").await;
    let mut outsider = signed_in(&api, "r.tanger", Role::Editor, &["MA-01"], "ar").await;
    let mut viewer = signed_in(&api, "k.alaoui", Role::Viewer, &[], "ar").await;
    let mut auditor = signed_in(&api, "h.audit", Role::Auditor, &[], "ar").await;

    // Signed out: to the sign-in page.
    let mut anonymous = WebClient::new(api.app.router.clone(), "ar");
    let away = anonymous.page("/consultations").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(
        away.location.as_deref(),
        Some("/signin?next=%2Fconsultations")
    );

    list_filters_search_and_pages(&mut admin, &mut editor).await;
    a_record_shows_its_facts(&mut admin, &mut editor).await;
    earlier_states(&mut admin, &mut viewer).await;
    // An auditor reads the history too.
    let export = id("consultation/fes-meknes-export-2024");
    let audited = auditor.page(&format!("/consultations/{export}")).await;
    assert!(audited.body.contains("Seed loader"));
    assert!(audited.body.contains("هذه البطاقة للاطلاع فقط بالنسبة إليك"));
    // Facts the sources do not state are marked with how they were inferred, and an
    // agreement says what it covers (the Day's national programme is nobody's region).
    let day = auditor
        .page(&format!(
            "/consultations/{}",
            id("consultation/jni3-agreements-2025")
        ))
        .await;
    assert!(
        day.body
            .contains("لا تذكره المصادر، مستنتج: The article says the organisation signed"),
        "{}",
        day.body
    );
    assert!(day.body.contains("<dt>النطاق</dt><dd>وطني</dd>"));
    contacts_and_overdue_actions(
        &api,
        &mut [
            (&mut admin, true),
            (&mut editor, true),
            (&mut outsider, false),
            (&mut viewer, false),
        ],
    )
    .await;
}
