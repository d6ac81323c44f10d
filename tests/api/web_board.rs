//! The follow-up pages on the HTML they answer and the log they write (both backends): the board
//! by status with its overdue actions marked, an action's page and its forms (progress with the
//! dashboard following, the domain's rules next to their fields, another region's editor and a
//! viewer refused, a conflict listed and then applied), the reminders, and `shura remind` against
//! a tiny SMTP server in the test (the function, then the binary, dry run included).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{json, Value};
use shura::commands::{execute, AnyCommand, CommandContext};
use shura::domain::token::Role;
use shura::seeds::reference;
use shura::store::{Actor, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::common::web::{Page, WebClient};
use crate::common::TestDb;
use crate::web::{signed_in, user};
use crate::{app, Api};

async fn command(store: &Store, value: Value) {
    let command: AnyCommand = serde_json::from_value(value.clone()).expect("a command");
    execute(
        store,
        command,
        CommandContext::new(Actor::new("test", "Test")),
    )
    .await
    .unwrap_or_else(|e| panic!("{value}: {e}"));
}

/// A follow-up action of a seed consultation.
fn create(name: &str, consultation: &str, owner: &str, ar: &str, fr: &str, due: Value) -> Value {
    json!({"aggregate": "action", "type": "create_action",
        "action_id": reference(&format!("action/{name}")),
        "consultation_id": reference(consultation),
        "owner_organisation_id": reference(owner),
        "title": {"ar": ar, "fr": fr}, "due": due})
}

fn id(name: &str) -> Uuid {
    reference(&format!("action/{name}"))
}

/// The value of hidden input `name` in the form posting to `action` on `page`.
fn hidden(page: &Page, action: &str, name: &str) -> String {
    let at = page
        .body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form to {action}: {}", page.body));
    let rest = &page.body[at..];
    let marker = format!("name=\"{name}\" value=\"");
    let start = rest.find(&marker).expect("hidden input") + marker.len();
    rest[start..].split('"').next().unwrap().to_owned()
}

/// Without Fluent's bidi isolation marks around the values placed in messages.
fn unmarked(text: &str) -> String {
    text.replace(['\u{2068}', '\u{2069}'], "")
}

/// The part of `body` from `start` to the next `end`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("no {start}: {body}"));
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The dashboard's average progress as shown.
async fn average(client: &mut WebClient) -> String {
    let page = client.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    between(&page.body, "id=\"kpi-average\">", "<")
        .trim_start_matches("id=\"kpi-average\">")
        .to_owned()
}

/// Posts the form to `/actions/{id}/{slot}` drawn on `page`, with its hidden values.
async fn post_form(
    client: &mut WebClient,
    page: &Page,
    action: Uuid,
    slot: &str,
    pairs: &[(&str, &str)],
) -> Page {
    let path = format!("/actions/{action}/{slot}");
    let csrf = hidden(page, &path, "_csrf");
    let key = hidden(page, &path, "_key");
    let version = hidden(page, &path, "_version");
    let mut all = vec![
        ("_csrf", csrf.as_str()),
        ("_key", key.as_str()),
        ("_version", version.as_str()),
    ];
    all.extend_from_slice(pairs);
    client.post(&path, &all).await
}

async fn stream_len(store: &Store, action: Uuid) -> usize {
    store.read_stream(action, None).await.unwrap().len()
}

pub async fn web_follow_up_board_and_reminders(db: &TestDb) {
    let api = app(db, true).await;
    let store = &api.app.store;
    let today = chrono::Utc::now().date_naive();
    let export = "consultation/fes-meknes-export-2024";
    let chamber = "org/ccis-fes-meknes";
    let council = "org/conseil-region-fes-meknes";

    // The seeds' only follow-up action is in Casablanca-Settat and has no due date; Fès-Meknès
    // gets five, one of each status: one overdue (due March 2025), one due in ten days, one
    // under way and due in two years, one blocked, one done although past due (not overdue).
    // Casablanca-Settat gets an overdue one (due January 2025).
    command(
        store,
        create(
            "late",
            export,
            chamber,
            "تنظيم قافلة جهوية للتصدير",
            "Caravane régionale de l’export",
            json!({"year": 2025, "month": 3}),
        ),
    )
    .await;
    let soon = today.checked_add_days(Days::new(10)).unwrap();
    command(
        store,
        create(
            "soon",
            export,
            council,
            "إحداث شباك جهوي للمصدرين",
            "Guichet régional des exportateurs",
            json!({"year": soon.year(), "month": soon.month(), "day": soon.day()}),
        ),
    )
    .await;
    command(
        store,
        create(
            "later",
            export,
            council,
            "برنامج تكوين في التجارة الدولية",
            "Formation au commerce international",
            json!({"year": today.year() + 2}),
        ),
    )
    .await;
    let report = |name: &str, progress: i64| {
        json!({"aggregate": "action", "type": "report_progress", "action_id": id(name),
            "on": "2025-01-15", "progress": progress})
    };
    let status = |name: &str, to: &str, reason: Option<&str>| {
        json!({"aggregate": "action", "type": "change_action_status", "action_id": id(name),
            "to": to, "reason": reason})
    };
    command(store, report("later", 20)).await;
    command(store, status("later", "in_progress", None)).await;
    command(
        store,
        create(
            "blocked",
            export,
            chamber,
            "دراسة حول اللوجستيك الجهوي",
            "Étude sur la logistique régionale",
            Value::Null,
        ),
    )
    .await;
    command(
        store,
        status("blocked", "blocked", Some("في انتظار التمويل")),
    )
    .await;
    command(
        store,
        create(
            "done",
            export,
            chamber,
            "لقاء تواصلي مع المصدرين",
            "Rencontre avec les exportateurs",
            json!({"year": 2025, "month": 1}),
        ),
    )
    .await;
    command(store, report("done", 100)).await;
    command(store, status("done", "done", None)).await;
    command(
        store,
        create(
            "casa",
            "consultation/cti-framework-agreement-signing",
            "org/mic",
            "عقد أهداف مع المركز التقني للنسيج",
            "Contrat-objectifs avec le centre technique du textile",
            json!({"year": 2025, "month": 1}),
        ),
    )
    .await;

    board_marks_overdue_actions_by_status(&api).await;
    let mut editor = signed_in(&api, "h.alami", Role::Editor, &["MA-03"], "ar").await;
    forms_write_through_the_domain(&api, &mut editor, today).await;
    other_regions_and_viewers_are_refused(&api).await;
    a_conflict_is_listed_then_applied(&api, &mut editor).await;
    reminders_list_what_is_due(&api, today).await;
    remind_sends_one_digest_per_person(&api, db, today).await;
}

async fn board_marks_overdue_actions_by_status(api: &Api) {
    let mut client = signed_in(api, "s.fassi", Role::Editor, &["MA-03"], "ar").await;
    let board = client.get("/board").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    // The person's region by default.
    assert!(board.body.contains("<option value=\"MA-03\" selected>"));
    let column = |status: &str| {
        between(
            &board.body,
            &format!("id=\"column-{status}\""),
            "</section>",
        )
    };
    for (status, names) in [
        ("not_started", &["late", "soon"][..]),
        ("in_progress", &["later"][..]),
        ("blocked", &["blocked"][..]),
        ("done", &["done"][..]),
    ] {
        for name in names {
            assert!(
                column(status).contains(&format!("id=\"action-{}\"", id(name))),
                "{name} under {status}: {}",
                column(status)
            );
        }
    }
    assert!(column("cancelled").contains("لا يوجد أي إجراء"));
    assert!(column("not_started").contains("إجراءان"), "two, in Arabic");
    // Another region's actions are not on this board, the seed's included.
    assert!(!board.body.contains(&id("casa").to_string()));
    assert!(!board
        .body
        .contains(&reference("action/cti-objective-contracts").to_string()));
    // The overdue one stands out, with a word; the one done past its due date does not.
    let late = between(
        &board.body,
        &format!("id=\"action-{}\"", id("late")),
        "</li>",
    );
    assert!(board.body.contains(&format!(
        "class=\"board-card late\" id=\"action-{}\"",
        id("late")
    )));
    assert!(late.contains("<dd class=\"due is-overdue\">"), "{late}");
    assert!(late.contains("متأخر"), "{late}");
    assert!(late.contains("مارس 2025"), "{late}");
    assert!(late.contains("غرفة التجارة والصناعة والخدمات لجهة فاس-مكناس"));
    assert!(late.contains(&format!("href=\"/actions/{}\"", id("late"))));
    for name in ["done", "soon", "later"] {
        assert!(board
            .body
            .contains(&format!("class=\"board-card\" id=\"action-{}\"", id(name))));
    }
    assert!(board.body.contains("value=\"20\""), "the progress bar");
    // Another region is readable, read-only.
    let casa = client.get("/board?region=MA-06").await;
    assert!(casa.body.contains(&id("casa").to_string()));
    assert!(casa.body.contains("id=\"read-only\""));
    assert!(!board.body.contains("id=\"read-only\""));
    // In French too.
    let mut french = signed_in(api, "m.berrada", Role::Viewer, &[], "fr").await;
    let all = french.get("/board?region=MA-03").await;
    assert!(all.body.contains("En retard"));
    assert!(all.body.contains("Caravane régionale de l’export"));
}

async fn forms_write_through_the_domain(api: &Api, editor: &mut WebClient, today: NaiveDate) {
    let store = &api.app.store;
    let late = id("late");
    // The dashboard of Fès-Meknès: (0 + 0 + 20 + 0 + 100) / 5 = 24.
    assert_eq!(average(editor).await, "24%");

    let page = editor.get(&format!("/actions/{late}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("تنظيم قافلة جهوية للتصدير"));
    assert!(page.body.contains(&format!(
        "href=\"/consultations/{}\"",
        reference("consultation/fes-meknes-export-2024")
    )));
    assert!(page.body.contains("id=\"due\" class=\"is-overdue\""));
    for slot in [
        "progress", "deadline", "owner", "start", "block", "complete", "cancel",
    ] {
        assert!(page
            .body
            .contains(&format!("action=\"/actions/{late}/{slot}\"")));
    }
    assert!(!page
        .body
        .contains(&format!("action=\"/actions/{late}/reopen\"")));
    assert_eq!(
        hidden(&page, &format!("/actions/{late}/progress"), "_version"),
        "1"
    );

    // Progress 40 with a note: the event, by the signed-in person; the dashboard follows.
    let on = today.format("%Y-%m-%d").to_string();
    let pairs = [
        ("on", on.as_str()),
        ("progress", "40"),
        ("note.ar", "تم التواصل مع 12 مقاولة مصدرة"),
    ];
    let done = post_form(editor, &page, late, "progress", &pairs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/actions/{late}?saved=progress").as_str())
    );
    let events = store.read_stream(late, None).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "ProgressReported");
    assert_eq!(last.payload["progress"], 40);
    assert_eq!(last.payload["note"]["ar"], "تم التواصل مع 12 مقاولة مصدرة");
    assert_eq!(last.metadata.actor_name, "h.alami");
    assert_eq!(
        last.metadata.actor_id,
        format!("user:{}", shura::accounts::user_id("h.alami"))
    );
    assert_eq!(average(editor).await, "32%", "(40 + 0 + 20 + 0 + 100) / 5");
    // The same form sent again (an answer lost on the way): the same command, nothing added.
    let again = post_form(editor, &page, late, "progress", &pairs).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(stream_len(store, late).await, 2);
    let shown = editor.get(&format!("/actions/{late}?saved=progress")).await;
    assert!(shown.body.contains("تم حفظ التعديل"));
    assert!(shown.body.contains("<span id=\"progress\">40%</span>"));
    assert!(shown.body.contains("تم التواصل مع 12 مقاولة مصدرة"));
    assert!(
        shown.body.contains("تسجيل التقدم"),
        "the history names the change"
    );

    // Done at 40 %: the domain's rule, next to the progress field, nothing written.
    let refused = post_form(editor, &shown, late, "complete", &[]).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let rule = "لا يُعتبر الإجراء منجزًا إلا عند بلوغ 100٪.";
    assert!(between(&refused.body, "id=\"progress-f-progress-error\"", "</p>").contains(rule));
    assert!(between(&refused.body, "id=\"form-complete\"", "</details>").contains(rule));
    assert_eq!(stream_len(store, late).await, 2);

    // A deadline moved earlier is refused at its year, what was typed kept; a later one is
    // recorded with its reason, and the deadline's history shows it.
    let earlier = [("to.year", "2024"), ("to.month", "6"), ("reason", "خطأ")];
    let refused = post_form(editor, &shown, late, "deadline", &earlier).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let field = between(&refused.body, "id=\"deadline-f-to-year-error\"", "</p>");
    assert!(
        field.contains("لا يمكن أن يسبق هذا التاريخ التاريخ السابق"),
        "{field}"
    );
    assert!(refused.body.contains("value=\"2024\""));
    let reason = "في انتظار مصادقة المجلس الجهوي";
    let next_year = (today.year() + 1).to_string();
    let moved = post_form(
        editor,
        &shown,
        late,
        "deadline",
        &[
            ("to.year", &next_year),
            ("to.month", "12"),
            ("reason", reason),
        ],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let page = editor.get(&format!("/actions/{late}")).await;
    let deadlines = between(&page.body, "id=\"deadlines\"", "</section>");
    assert!(deadlines.contains("مارس 2025"), "{deadlines}");
    assert!(deadlines.contains(&format!("دجنبر {next_year}")) && deadlines.contains(reason));
    assert!(
        !page.body.contains("class=\"is-overdue\""),
        "no longer overdue"
    );

    // Reassigned to the regional council, chosen among the consultation's organisations.
    let council = reference("org/conseil-region-fes-meknes").to_string();
    assert!(page.body.contains(&format!("<option value=\"{council}\">")));
    let given = post_form(
        editor,
        &page,
        late,
        "owner",
        &[("to", &council), ("reason", "المجلس يتولى التنسيق")],
    )
    .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let page = editor.get(&format!("/actions/{late}")).await;
    assert!(between(&page.body, "id=\"owner\"", "</dd>").contains("مجلس جهة فاس-مكناس"));

    // Blocking needs a reason: the domain says so at the field.
    let refused = post_form(editor, &page, late, "block", &[("reason", "  ")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        between(&refused.body, "id=\"block-f-reason-error\"", "</p>")
            .contains("اذكر سبب هذا التغيير")
    );
    assert_eq!(stream_len(store, late).await, 4);
    // Without the form token, nothing.
    let path = format!("/actions/{late}/block");
    let forged = editor.post(&path, &[("reason", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(stream_len(store, late).await, 4);
}

async fn other_regions_and_viewers_are_refused(api: &Api) {
    let store = &api.app.store;
    let late = id("late");
    let before = stream_len(store, late).await;
    for (name, role, regions) in [
        ("r.bennis", Role::Editor, &["MA-06"][..]),
        ("a.viewer", Role::Viewer, &[][..]),
    ] {
        let mut client = signed_in(api, name, role, regions, "fr").await;
        let page = client.get(&format!("/actions/{late}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Caravane régionale de l’export"));
        assert!(
            !page.body.contains(&format!("action=\"/actions/{late}/")),
            "no forms"
        );
        assert!(
            page.body.contains("L’historique détaillé"),
            "who wrote what is not shown"
        );
        let csrf = page.csrf().unwrap();
        let forged = client
            .post(
                &format!("/actions/{late}/progress"),
                &[
                    ("_csrf", &csrf),
                    ("_key", "forged-key"),
                    ("on", "2026-01-10"),
                    ("progress", "90"),
                ],
            )
            .await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{name}: {}",
            forged.body
        );
        assert!(forged.body.contains("Vous n’avez pas accès"));
        assert_eq!(
            stream_len(store, late).await,
            before,
            "{name}: nothing appended"
        );
    }
    // An auditor reads the history, writes nothing.
    let mut auditor = signed_in(api, "l.auditrice", Role::Auditor, &[], "fr").await;
    let page = auditor.get(&format!("/actions/{late}")).await;
    assert!(between(&page.body, "id=\"history\"", "</section>").contains("h.alami"));
    assert!(!page.body.contains("name=\"_key\""));
    // No such action, or no id at all.
    assert_eq!(
        auditor
            .get(&format!("/actions/{}", Uuid::new_v4()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        auditor.get("/actions/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_conflict_is_listed_then_applied(api: &Api, editor: &mut WebClient) {
    let store = &api.app.store;
    let soon = id("soon");
    let drawn = editor.get(&format!("/actions/{soon}")).await;
    // Meanwhile a colleague reports progress.
    let mut colleague = signed_in(api, "n.chraibi", Role::Editor, &["MA-03"], "fr").await;
    let theirs = colleague.get(&format!("/actions/{soon}")).await;
    let pairs = [("on", "2026-01-05"), ("progress", "10")];
    let done = post_form(&mut colleague, &theirs, soon, "progress", &pairs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // The first form, sent on the old version: the changes are listed, the typing kept.
    let note = "اجتماع مع الوكالة الجهوية للاستثمار";
    let mine = [("on", "2026-01-06"), ("progress", "30"), ("note.ar", note)];
    let conflict = post_form(editor, &drawn, soon, "progress", &mine).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    let listed = between(&conflict.body, "id=\"conflict\"", "</section>");
    assert!(listed.contains("عدّل شخص آخر هذا الإجراء"), "{listed}");
    assert!(
        listed.contains("تسجيل التقدم") && listed.contains("n.chraibi"),
        "{listed}"
    );
    assert!(listed.contains("10 %"), "{listed}");
    assert!(conflict.body.contains(note));
    assert!(conflict.body.contains("value=\"30\""));
    let path = format!("/actions/{soon}/progress");
    assert_eq!(hidden(&conflict, &path, "_version"), "2");
    assert_eq!(stream_len(store, soon).await, 2);

    // Sent again from there: applied on top.
    let applied = post_form(editor, &conflict, soon, "progress", &mine).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let events = store.read_stream(soon, None).await.unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].payload["progress"], 30);
    assert_eq!(events[2].metadata.actor_name, "h.alami");
    assert_eq!(events[1].metadata.actor_name, "n.chraibi");
}

async fn reminders_list_what_is_due(api: &Api, today: NaiveDate) {
    let pool = api.app.store.pool();
    let mut editor = signed_in(api, "o.tazi", Role::Editor, &["MA-03"], "ar").await;
    let page = editor.get("/reminders").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("aria-current=\"page\">التذكيرات"));
    // The late one was moved to December next year.
    let overdue = between(&page.body, "id=\"overdue-heading\"", "</section>");
    let due_soon = between(&page.body, "id=\"due-soon-heading\"", "</section>");
    assert!(
        due_soon.contains(&format!("id=\"reminder-{}\"", id("soon"))),
        "{due_soon}"
    );
    assert!(
        unmarked(due_soon).contains("الأجل بعد 10 أيام"),
        "{due_soon}"
    );
    for name in ["late", "later", "done", "blocked", "casa"] {
        assert!(
            !page.body.contains(&format!("reminder-{}", id(name))),
            "{name}"
        );
    }
    assert!(overdue.contains("لا توجد إجراءات متأخرة"), "{overdue}");
    let mine = shura::web::pages::board::reminder_count(pool, &["MA-03".to_owned()], today)
        .await
        .unwrap();
    assert_eq!(mine, 1);

    // An admin's: every region, the most overdue first.
    let mut admin = signed_in(api, "y.admin", Role::Admin, &[], "fr").await;
    let page = admin.get("/reminders").await;
    let overdue = between(&page.body, "id=\"overdue-heading\"", "</section>");
    assert!(
        overdue.contains(&format!("id=\"reminder-{}\"", id("casa"))),
        "{overdue}"
    );
    assert!(overdue.contains("En retard de") || overdue.contains("en retard de"));
    assert!(overdue.contains("Casablanca-Settat"), "{overdue}");
    let all = shura::web::pages::board::reminder_count(pool, &[], today)
        .await
        .unwrap();
    assert_eq!(all, mine + 1);
}

/// One message as the test's SMTP server received it.
#[derive(Debug, Clone, Default)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A tiny SMTP server on 127.0.0.1 that accepts everything and keeps what it was sent.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let keep = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let _ = smtp_session(socket, keep).await;
            });
        }
    });
    (port, received)
}

async fn smtp_session(socket: TcpStream, keep: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 test.local ESMTP\r\n").await?;
    let mut mail = Mail::default();
    loop {
        let mut line = Vec::new();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = line.to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-test.local\r\n250 8BITMIME\r\n"
        } else if verb.starts_with("MAIL FROM:") {
            mail = Mail::default();
            b"250 OK\r\n"
        } else if verb.starts_with("RCPT TO:") {
            let address = line["RCPT TO:".len()..].trim();
            let address = address.split_whitespace().next().unwrap_or("");
            mail.to.push(address.trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if verb == "DATA" {
            write.write_all(b"354 go on\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut line = Vec::new();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" {
                    break;
                }
                data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
            }
            mail.data = decoded(&String::from_utf8_lossy(&data));
            keep.lock().unwrap().push(std::mem::take(&mut mail));
            b"250 queued\r\n"
        } else if verb == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// A single-part message's headers, then its body decoded from base64 or quoted-printable.
fn decoded(message: &str) -> String {
    let (headers, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let encoding = headers.to_ascii_lowercase();
    let bytes: Vec<u8> = if encoding.contains("content-transfer-encoding: base64") {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let digits: Vec<u8> = body
            .bytes()
            .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
            .map(value)
            .collect();
        digits
            .chunks(4)
            .flat_map(|c| {
                let n = c.iter().fold(0u32, |n, d| n << 6 | u32::from(*d)) << (6 * (4 - c.len()));
                n.to_be_bytes()[1..c.len()].to_vec()
            })
            .collect()
    } else if encoding.contains("content-transfer-encoding: quoted-printable") {
        let mut out = Vec::new();
        let raw = body.replace("=\r\n", "");
        let mut bytes = raw.bytes();
        while let Some(b) = bytes.next() {
            if b == b'=' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            } else {
                out.push(b);
            }
        }
        out
    } else {
        body.as_bytes().to_vec()
    };
    format!("{headers}\r\n\r\n{}", String::from_utf8(bytes).unwrap())
}

async fn remind_sends_one_digest_per_person(api: &Api, db: &TestDb, today: NaiveDate) {
    let store = &api.app.store;
    let pool = store.pool();
    // h.alami and n.chraibi (MA-03) and r.bennis (MA-06) exist already.
    user(api, "s.idrissi", Role::Editor, &["MA-03"]).await;
    user(api, "k.ancien", Role::Editor, &["MA-03"]).await;
    user(api, "dr.admin", Role::Admin, &[]).await;
    for (name, email) in [
        ("h.alami", "h.alami@dr-fes-meknes.ma"),
        ("n.chraibi", "n.chraibi@dr-fes-meknes.ma"),
        ("r.bennis", "r.bennis@dr-casablanca.ma"),
        ("a.viewer", "a.viewer@example.ma"),
        ("k.ancien", "k.ancien@dr-fes-meknes.ma"),
        ("dr.admin", "admin@industrie.gov.ma"),
    ] {
        shura::accounts::set_email(store, name, email)
            .await
            .unwrap();
    }
    // Replaced, not added.
    shura::accounts::set_email(store, "h.alami", " h.alami@dr-fes-meknes.ma ")
        .await
        .unwrap();
    let bad = shura::accounts::set_email(store, "s.idrissi", "pas une adresse")
        .await
        .unwrap_err();
    assert_eq!(bad.validation(), Some(("email", "INVALID_FORMAT")));
    assert!(shura::accounts::set_email(store, "personne", "x@y.ma")
        .await
        .is_err());
    shura::accounts::disable_user(store, "k.ancien", Actor::new("test", "Test"))
        .await
        .unwrap();

    // Who gets what: each follower of a region, its region's due actions, exactly.
    let fes: BTreeSet<Uuid> = shura::remind::due_by_region(pool, &["MA-03".to_owned()], today)
        .await
        .unwrap()
        .iter()
        .flat_map(|d| d.overdue.iter().chain(&d.due_soon).map(|a| a.id.0))
        .collect();
    assert!(fes.contains(&id("soon")) && !fes.contains(&id("casa")));
    let casa = BTreeSet::from([id("casa")]);
    let digests = shura::remind::digests(pool, today, Some("https://shura.example.ma/"))
        .await
        .unwrap();
    let by_user: BTreeMap<&str, BTreeSet<Uuid>> = digests
        .iter()
        .map(|d| (d.username.as_str(), d.actions.iter().copied().collect()))
        .collect();
    let all: BTreeSet<Uuid> = fes.union(&casa).copied().collect();
    assert_eq!(
        by_user,
        BTreeMap::from([
            ("dr.admin", all.clone()),
            ("h.alami", fes.clone()),
            ("n.chraibi", fes.clone()),
            ("r.bennis", casa.clone()),
        ]),
        "no digest for a viewer, a user without an address, or a disabled one"
    );
    let alami = digests.iter().find(|d| d.username == "h.alami").unwrap();
    assert_eq!(alami.to, "h.alami@dr-fes-meknes.ma");
    assert!(alami
        .body
        .contains(&format!("https://shura.example.ma/actions/{}", id("soon"))));
    let body = unmarked(&alami.body);
    assert!(body.contains("السلام عليكم h.alami") && body.contains("Bonjour h.alami"));
    assert!(alami.body.contains("فاس - مكناس") || alami.body.contains("فاس-مكناس"));
    assert!(alami.subject.contains("شورى") && alami.subject.contains("Shura"));

    // Sent through a relay: one message each, listing exactly its actions.
    let (port, received) = smtp_server().await;
    let relay = format!("smtp://127.0.0.1:{port}");
    let sent = shura::remind::send(&digests, &relay, "rappels@dr-fes-meknes.ma")
        .await
        .unwrap();
    assert_eq!(sent, 4);
    let check = |mails: &[Mail]| {
        assert_eq!(mails.len(), 4, "{mails:?}");
        let expected = [
            ("admin@industrie.gov.ma", &all),
            ("h.alami@dr-fes-meknes.ma", &fes),
            ("n.chraibi@dr-fes-meknes.ma", &fes),
            ("r.bennis@dr-casablanca.ma", &casa),
        ];
        for (to, actions) in expected {
            let mail = mails
                .iter()
                .find(|m| m.to == [to])
                .unwrap_or_else(|| panic!("no mail to {to}: {mails:?}"));
            for action in [id("late"), id("soon"), id("casa"), id("later"), id("done")] {
                assert_eq!(
                    mail.data.contains(&format!("/actions/{action}")),
                    actions.contains(&action),
                    "{to}, {action}: {}",
                    mail.data
                );
            }
            assert!(mail.data.contains("Bonjour"), "{}", mail.data);
            assert!(mail.data.contains("السلام عليكم"), "{}", mail.data);
        }
    };
    check(&received.lock().unwrap());
    received.lock().unwrap().clear();

    // The command line: a dry run prints and sends nothing; then it sends.
    // Run off the test's runtime: the SMTP server above must keep answering meanwhile.
    let url = db.url.clone();
    let shura = move |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run shura");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let dry = tokio::task::spawn_blocking({
        let shura = shura.clone();
        move || shura(&["remind", "--dry-run", "--smtp", "smtp://127.0.0.1:9"])
    })
    .await
    .unwrap();
    assert!(dry.contains("4 digests (dry run, nothing sent)"), "{dry}");
    assert!(
        dry.contains("r.bennis@dr-casablanca.ma\t1 actions"),
        "{dry}"
    );
    assert!(received.lock().unwrap().is_empty());
    let out = tokio::task::spawn_blocking(move || {
        shura(&[
            "remind",
            "--smtp",
            &relay,
            "--from",
            "rappels@dr-fes-meknes.ma",
        ])
    })
    .await
    .unwrap();
    assert!(out.contains("4 digests sent"), "{out}");
    check(&received.lock().unwrap());
}
