//! The merchant console: a small single-page front end (plain HTML, CSS and
//! JavaScript, no build step) embedded in the binary and served at
//! `/console`. It holds no logic of its own beyond presentation: every
//! action is a call to the admin API with the admin token.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../console/index.html");
const SCRIPT: &str = include_str!("../console/console.js");
const STYLE: &str = include_str!("../console/console.css");

/// Same origin only: no inline script, no third-party anything.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /console`: the page.
pub async fn index() -> Response {
    asset(INDEX, "text/html; charset=utf-8")
}

/// `GET /console/{file}`: the script and the style sheet.
pub async fn file(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "console.js" => asset(SCRIPT, "text/javascript; charset=utf-8"),
        "console.css" => asset(STYLE, "text/css; charset=utf-8"),
        "" | "index.html" => index().await,
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
