//! GraphiQL, served from the binary itself: its page at `GET /graphql` for a browser, and its
//! scripts and styles (GraphiQL 3.9.0, React 18.3.1, vendored under `src/http/assets/graphiql`
//! with their MIT licences) at `/graphiql/3.9.0/...`. No CDN: a directorate's network without
//! internet access gets the same explorer.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The vendored GraphiQL version, part of every asset's path: a new version is a new path, so
/// the assets can be cached for good.
pub const VERSION: &str = "3.9.0";

/// The assets: name, media type, bytes.
const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "react.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/graphiql/graphiql.min.css"),
    ),
];

/// The GraphiQL page: loads the assets above from this server and talks to `/graphql`.
pub fn page() -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shura GraphQL</title>
<link rel="stylesheet" href="/graphiql/{VERSION}/graphiql.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/{VERSION}/react.js"></script>
<script src="/graphiql/{VERSION}/react-dom.js"></script>
<script src="/graphiql/{VERSION}/graphiql.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({{ url: '/graphql' }});
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {{
    fetcher,
    defaultEditorToolbarTabs: 'headers',
  }}));
</script>
</body>
</html>
"#
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self' data:; connect-src 'self'",
        ),
    );
    response
}

/// `GET /graphiql/{version}/{name}`: one asset, cached for a year (its path names its version).
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|(n, _, _)| *n == name);
    match found {
        Some((_, media, bytes)) if version == VERSION => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
