// The push of a connector built for a world before 0.3.0, one change per
// call, shared by the `world-0-1` and `world-0-2` test plugins (whose
// bindings name the same types): a stock level goes to
// `POST {base_url}/poshub/stock-levels` as the canonical connector sends it,
// with the world it was planned in; other changes send nothing.
use crate::poshub::connector::types::*;

pub fn plan(ctx: &CallContext, change: &Change, world: &str) -> Result<Vec<HttpRequest>, Error> {
    let base = ctx
        .config
        .iter()
        .find(|e| e.key == "base_url")
        .map(|e| e.value.trim_end_matches('/').to_string())
        .ok_or_else(|| Error {
            kind: ErrorKind::Config,
            message: "the store has no base_url".into(),
            retryable: false,
        })?;
    let Change::Stock(s) = change else {
        return Ok(vec![]);
    };
    let body = serde_json::json!({
        "reference_code": s.reference_code,
        "external_id": s.external_id,
        "location": s.location,
        "available": s.available,
        "world": world,
    });
    Ok(vec![HttpRequest {
        method: "POST".into(),
        url: format!("{base}/poshub/stock-levels"),
        headers: vec![Header {
            name: "content-type".into(),
            value: "application/json".into(),
        }],
        body: Some(body.to_string().into_bytes()),
    }])
}

pub fn interpret(response: &HttpResponse) -> Outcome {
    match response.status {
        200..=299 => Outcome::Done,
        429 => Outcome::RetryAfter(1),
        status => Outcome::Failed(Error {
            kind: ErrorKind::Upstream,
            message: format!("storefront answered {status}"),
            retryable: status >= 500,
        }),
    }
}
