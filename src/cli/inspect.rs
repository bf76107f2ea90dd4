//! `codemode inspect`: what a spec holds, for people (text) and scripts (JSON).

use sdk_gen::Api;
use serde::Serialize;
use std::fmt::Write as _;

/// The `--json` object. Field names are a stable interface for scripts.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    title: String,
    version: String,
    openapi: String,
    servers: Vec<String>,
    operations: u64,
    schemas: u64,
    security_schemes: Vec<String>,
    warnings: Vec<String>,
}

pub(crate) fn summary(api: &Api) -> Summary {
    Summary {
        title: api.title.clone(),
        version: api.version.clone(),
        openapi: api.openapi.clone(),
        servers: api.servers.iter().map(|s| s.url.clone()).collect(),
        operations: api.operations.len() as u64,
        schemas: api.types.len() as u64,
        security_schemes: api
            .security_schemes
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        warnings: api.warnings.iter().map(ToString::to_string).collect(),
    }
}

pub(crate) fn human(api: &Api) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} {} (OpenAPI {})", api.title, api.version, api.openapi);
    if api.servers.is_empty() {
        let _ = writeln!(s, "servers:    none (give a base URL when serving)");
    }
    for server in &api.servers {
        let _ = writeln!(s, "server:     {}", server.url);
    }
    let _ = writeln!(s, "operations: {}", api.operations.len());
    let _ = writeln!(s, "schemas:    {}", api.types.len());
    if !api.security_schemes.is_empty() {
        let names: Vec<&str> = api
            .security_schemes
            .iter()
            .map(|x| x.name.as_str())
            .collect();
        let _ = writeln!(s, "security:   {}", names.join(", "));
    }
    let _ = writeln!(s, "warnings:   {}", api.warnings.len());
    for w in &api.warnings {
        let _ = writeln!(s, "  - {w}");
    }
    s
}
