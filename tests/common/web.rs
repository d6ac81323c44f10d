//! A browser-like client of the web app over the router in process: it keeps cookies, reads the
//! form token from the last page, and posts forms as a browser does (urlencoded).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

/// One response: status, `Location` (redirects) and body.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `_csrf` input of the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"_csrf\" value=\"")?;
        let rest = &self.body[at + "name=\"_csrf\" value=\"".len()..];
        rest.split('"').next().map(str::to_owned)
    }
}

/// A client with a cookie jar and a language.
pub struct WebClient {
    pub router: Router,
    /// Cookies as `name=value`.
    pub cookies: Vec<(String, String)>,
    /// The `Accept-Language` sent.
    pub accept_language: String,
    /// The client address the requests come from (for the sign-in limiter).
    pub address: std::net::SocketAddr,
}

/// Percent-encodes a form value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

impl WebClient {
    pub fn new(router: Router, accept_language: &str) -> WebClient {
        WebClient {
            router,
            cookies: Vec::new(),
            accept_language: accept_language.to_owned(),
            address: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let mut request = request;
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.address));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap_or("");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                let expired = text.contains("Max-Age=0");
                if !expired {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT_LANGUAGE, &self.accept_language)
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// `POST path` with urlencoded pairs, as they are.
    pub async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Page {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT_LANGUAGE, &self.accept_language)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// `POST path` with the form token of the page at `form_page` added.
    pub async fn submit(&mut self, form_page: &str, path: &str, pairs: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        let token = page.csrf().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(pairs);
        self.post(path, &all).await
    }

    /// Signs in; panics unless it worked.
    pub async fn sign_in(&mut self, username: &str, password: &str) {
        let page = self.get("/signin").await;
        let token = page.csrf().expect("sign-in form token");
        let done = self
            .post(
                "/signin",
                &[
                    ("_csrf", &token),
                    ("username", username),
                    ("password", password),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert!(
            self.cookies.iter().any(|(k, _)| k == "shura_session"),
            "no session cookie"
        );
    }
}
