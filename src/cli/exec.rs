//! `codemode exec`: run code once against one API, print the outcome.

use super::args::ExecArgs;
use crate::execute::{
    AuthScheme, CancellationToken, Credentials, ExecOutcome, Executor, ExecutorConfig, LoadedApi,
    Scopes, SecretSource,
};
use anyhow::Context as _;
use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

pub(crate) fn run(a: ExecArgs) -> anyhow::Result<ExitCode> {
    let code = match (&a.code, &a.file) {
        (Some(c), _) => c.clone(),
        (None, Some(f)) if f.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the code from stdin")?;
            s
        }
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        (None, None) => anyhow::bail!("give the code with --code or --file"),
    };
    let api = super::load(&a.spec)?;
    let name = match &a.namespace {
        Some(n) => n.clone(),
        None => sdk_gen::typescript::default_namespace(&api),
    };
    let credentials = credentials_from_env(&name, &api)?;
    let mut config = ExecutorConfig {
        workers: 1,
        allow_private_network: a.allow_private_network,
        ..Default::default()
    };
    config.limits.timeout = std::time::Duration::from_millis(a.timeout_ms);
    let loaded = LoadedApi {
        name,
        api: Arc::new(api),
        base_url: a.base_url.clone(),
        credentials,
    };
    let executor = Executor::new(vec![loaded], config)?;
    let scopes = if a.read_only {
        Scopes::read_only()
    } else {
        Scopes::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(executor.execute(&code, &scopes, CancellationToken::new(), None));
    drop(executor);
    let text = if a.json {
        format!("{}\n", serde_json::to_string(&out)?)
    } else {
        human(&out)
    };
    if a.json || out.ok {
        super::print_all(&text)?;
    } else {
        eprint!("{text}");
    }
    Ok(if out.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `CODEMODE_<API>_TOKEN` (+ optional `CODEMODE_<API>_AUTH`).
fn credentials_from_env(name: &str, api: &sdk_gen::Api) -> anyhow::Result<Option<Credentials>> {
    let prefix = format!("CODEMODE_{}", name.to_ascii_uppercase());
    let var = format!("{prefix}_TOKEN");
    if std::env::var_os(&var).is_none() {
        return Ok(None);
    }
    let scheme = match std::env::var(format!("{prefix}_AUTH")) {
        Ok(s) => AuthScheme::parse(&s).with_context(|| {
            format!("{prefix}_AUTH must be bearer, basic, header:NAME, query:NAME or cookie:NAME")
        })?,
        Err(_) => AuthScheme::from_spec(api).unwrap_or(AuthScheme::Bearer),
    };
    Ok(Some(Credentials {
        scheme,
        source: SecretSource::Env(var),
    }))
}

fn human(out: &ExecOutcome) -> String {
    let mut s = String::new();
    for l in &out.logs {
        s.push_str(&format!("log: {l}\n"));
    }
    for c in &out.calls {
        let status = c.status.map_or("-".to_string(), |s| s.to_string());
        s.push_str(&format!(
            "call: {} {} → {status} ({} ms)\n",
            c.method, c.path, c.ms
        ));
    }
    match &out.error {
        None => {
            s.push_str(&serde_json::to_string_pretty(&out.result).unwrap_or_default());
            s.push('\n');
        }
        Some(e) => {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            s.push_str(&format!("error ({kind}): {}\n", e.message));
        }
    }
    if let Some(t) = &out.truncated {
        s.push_str(&format!("note: {t}\n"));
    }
    s
}
