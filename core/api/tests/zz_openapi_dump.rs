// TEMPORARY (not committed): writes the served OpenAPI document's bytes.
#[test]
fn dump_openapi() {
    use utoipa::OpenApi;
    let doc = poshub_api::ApiDoc::openapi();
    let out = std::env::var("OPENAPI_OUT").unwrap();
    std::fs::write(out, serde_json::to_vec(&doc).unwrap()).unwrap();
}
