//! The web app's handlers, on the HTML they answer (both backends): sign-in, sessions, form
//! tokens, languages, the dashboard; the pages' own suites follow the same pattern.

use axum::http::StatusCode;
use shura::accounts::create_user;
use shura::domain::token::Role;
use shura::store::Actor;

use crate::common::web::WebClient;
use crate::common::TestDb;
use crate::{app, Api};

pub const PASSWORD: &str = "correct horse battery staple";

/// A user of `role` in `regions`, with [`PASSWORD`].
pub async fn user(api: &Api, name: &str, role: Role, regions: &[&str]) {
    let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
    create_user(
        &api.app.store,
        name,
        None,
        role,
        &regions,
        PASSWORD,
        Actor::new("test", "Test"),
    )
    .await
    .expect("user");
}

/// A client signed in as a new user.
pub async fn signed_in(
    api: &Api,
    name: &str,
    role: Role,
    regions: &[&str],
    lang: &str,
) -> WebClient {
    user(api, name, role, regions).await;
    let mut client = WebClient::new(api.app.router.clone(), lang);
    client.sign_in(name, PASSWORD).await;
    client
}

pub async fn sign_in_sessions_and_languages(db: &TestDb) {
    let api = app(db, true).await;
    user(&api, "s.bennani", Role::Editor, &["MA-03"]).await;
    let mut client = WebClient::new(api.app.router.clone(), "en-US,en;q=0.9");

    // Signed out, every page leads to the sign-in page, and back after it.
    let home = client.get("/?region=MA-03").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(
        home.location.as_deref(),
        Some("/signin?next=%2F%3Fregion%3DMA-03")
    );
    // Arabic when unsure, right to left; French from Accept-Language.
    let form = client.get("/signin").await;
    assert!(
        form.body.contains("<html lang=\"ar\" dir=\"rtl\">"),
        "{}",
        form.body
    );
    assert!(form.body.contains("تسجيل الدخول"));
    let mut french = WebClient::new(api.app.router.clone(), "fr-FR,fr;q=0.9");
    let form_fr = french.get("/signin").await;
    assert!(form_fr.body.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(form_fr.body.contains("Connexion"));

    // A wrong password: 401, the message in the page's language, the name kept, no session.
    let token = form.csrf().unwrap();
    let wrong = client
        .post(
            "/signin",
            &[
                ("_csrf", &token),
                ("username", "s.bennani"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("اسم المستخدم أو كلمة المرور غير صحيحة"));
    assert!(wrong.body.contains("value=\"s.bennani\""));
    assert!(!client.cookies.iter().any(|(k, _)| k == "shura_session"));

    // Signing in goes back where the person was going; the session cookie is HttpOnly.
    let token = client.get("/signin").await.csrf().unwrap();
    let done = client
        .post(
            "/signin",
            &[
                ("_csrf", &token),
                ("username", "S.Bennani"),
                ("password", super::web::PASSWORD),
                ("next", "/?region=all"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/?region=all"));
    let dashboard = client.get("/").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(dashboard.body.contains("لوحة القيادة"));
    // The editor's own region is the default filter.
    assert!(dashboard.body.contains("<option value=\"MA-03\" selected>"));

    // The switch keeps the language in a cookie and comes back.
    let switched = client.get("/lang/fr?next=%2F").await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location.as_deref(), Some("/"));
    let dashboard_fr = client.get("/").await;
    assert!(dashboard_fr.body.contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(dashboard_fr.body.contains("Tableau de bord"));
    // An open redirect is not followed.
    let away = client.get("/lang/ar?next=%2F%2Fevil.example").await;
    assert_eq!(away.location.as_deref(), Some("/"));

    // Signing out needs the form token, and ends the session for good.
    let refused = client.post("/signout", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stolen = client.cookies.clone();
    let out = client.submit("/", "/signout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let mut replay = WebClient::new(api.app.router.clone(), "fr");
    replay.cookies = stolen;
    assert_eq!(replay.get("/").await.status, StatusCode::SEE_OTHER);
}

pub async fn sign_ins_are_limited_and_disabled_users_are_out(db: &TestDb) {
    let api = app(db, false).await;
    let mut client = signed_in(&api, "k.alaoui", Role::Viewer, &[], "fr").await;
    assert_eq!(client.get("/").await.status, StatusCode::OK);

    // Disabling the user ends its session at the next request.
    shura::accounts::disable_user(&api.app.store, "k.alaoui", Actor::new("test", "Test"))
        .await
        .unwrap();
    assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER);

    // Ten wrong passwords from one address for one name: the eleventh try is refused even with
    // the right password; another name from that address is not.
    user(&api, "m.idrissi", Role::Editor, &["MA-03"]).await;
    user(&api, "y.tazi", Role::Editor, &["MA-03"]).await;
    let mut guesser = WebClient::new(api.app.router.clone(), "fr");
    for _ in 0..10 {
        let token = guesser.get("/signin").await.csrf().unwrap();
        let page = guesser
            .post(
                "/signin",
                &[
                    ("_csrf", &token),
                    ("username", "m.idrissi"),
                    ("password", "wrong wrong wrong"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let token = guesser.get("/signin").await.csrf().unwrap();
    let blocked = guesser
        .post(
            "/signin",
            &[
                ("_csrf", &token),
                ("username", "m.idrissi"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("Trop de tentatives"));
    guesser.sign_in("y.tazi", PASSWORD).await;

    // A sign-in without the form's cookie (a cross-site post) is refused before any check.
    let mut forger = WebClient::new(api.app.router.clone(), "fr");
    let forged = forger
        .post(
            "/signin",
            &[
                ("_csrf", "00"),
                ("username", "y.tazi"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!forger.cookies.iter().any(|(k, _)| k == "shura_session"));
}

pub async fn pages_carry_protective_headers_and_assets_come_from_the_binary(db: &TestDb) {
    let api = app(db, false).await;
    let mut client = WebClient::new(api.app.router.clone(), "ar");
    let request = axum::http::Request::get("/signin")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(api.app.router.clone(), request)
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));
    for asset in [
        "/static/htmx-2.0.11.min.js",
        "/static/shura-1.css",
        "/static/shura-1.js",
    ] {
        let page = client.get(asset).await;
        assert_eq!(page.status, StatusCode::OK, "{asset}");
        assert!(!page.body.is_empty());
    }
    assert_eq!(
        client.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

pub async fn cookies_are_secure_behind_tls(db: &TestDb) {
    let mut config = shura::app::AppConfig::new(&db.url);
    config.secure_cookies = true;
    let api = crate::api(config).await;
    let mut client = WebClient::new(api.app.router.clone(), "fr");
    user(&api, "r.fassi", Role::Auditor, &[]).await;
    let token = client.get("/signin").await.csrf().unwrap();
    let request = axum::http::Request::post("/signin")
        .header(
            "cookie",
            client
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "_csrf={token}&username=r.fassi&password={}",
            crate::common::web::encode(PASSWORD)
        )))
        .unwrap();
    let response = tower::ServiceExt::oneshot(api.app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("shura_session="))
        .unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Max-Age=43200"] {
        assert!(session.contains(part), "{session}");
    }
}

/// The README's first lines: the serve command names the web app's address, and the first-user
/// command, run as written, makes an admin who can sign in.
pub async fn the_readme_first_user_can_sign_in(db: &TestDb) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let head: Vec<&str> = readme.lines().take(15).collect();
    assert!(head
        .iter()
        .any(|l| l.starts_with("cargo run -- serve")
            && l.contains("web app at http://127.0.0.1:8080/")));
    let line = head
        .iter()
        .find(|l| l.contains("user create"))
        .expect("the first-user command in the README's first lines");
    // printf '%s' 'PASSPHRASE' | cargo run -- user create ARGS...
    let passphrase = line.split('\'').nth(3).expect("the passphrase");
    let args: Vec<&str> = line
        .split("cargo run -- ")
        .nth(1)
        .expect("the command")
        .split_whitespace()
        .collect();
    let api = app(db, false).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(&args)
        .env("DATABASE_URL", &db.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("shura user create");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(passphrase.as_bytes()).await.unwrap();
    }
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut client = WebClient::new(api.app.router.clone(), "ar");
    client.sign_in("admin", passphrase).await;
    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    // An admin is offered the users and audit pages.
    assert!(home.body.contains("href=\"/users\""));
    assert!(home.body.contains("href=\"/audit\""));
}
