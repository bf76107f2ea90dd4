//! Settings: the TOML config file and the `serve` flags, resolved into one
//! [`Settings`]. Errors name the key (`apis[1].credentials.scheme`) and say
//! what is wrong and how to fix it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::backend::{CredentialScheme, Limits, Secret};
use super::scopes::{ScopeRule, Scopes};

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[server]`: HTTP settings.
    #[serde(default)]
    pub server: ServerSection,
    /// `[limits]`: default limits for every caller.
    #[serde(default)]
    pub limits: LimitsPatch,
    /// `[local]`: the stdio caller.
    #[serde(default)]
    pub local: LocalSection,
    /// `[[apis]]`.
    #[serde(default)]
    pub apis: Vec<ApiSection>,
    /// `[[callers]]`: HTTP bearer-token callers.
    #[serde(default)]
    pub callers: Vec<CallerSection>,
    /// `[oauth]`: accept OAuth 2.1 access tokens (JWT) as a resource server.
    pub oauth: Option<OAuthSection>,
}

/// `[server]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address to listen on for HTTP (`127.0.0.1:8787`).
    pub bind: Option<String>,
    /// The URL clients use to reach this server (`https://mcp.example.com`);
    /// the OAuth resource is `<public_url>/mcp`.
    pub public_url: Option<String>,
    /// Browser origins allowed to call (`https://app.example.com`); any other
    /// `Origin` gets 403.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// `Host` values accepted (DNS-rebinding protection); default: loopback
    /// names, the bind address and the `public_url` host.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Largest request body in bytes.
    pub max_body_bytes: Option<u64>,
    /// Let scripts call APIs on private, loopback and link-local addresses
    /// (APIs inside your network). Off: such addresses are refused.
    #[serde(default)]
    pub allow_private_network: bool,
    /// Where to cache search indexes [default: $CODEMODE_CACHE_DIR,
    /// $XDG_CACHE_HOME/codemode or ~/.cache/codemode].
    pub cache_dir: Option<PathBuf>,
}

/// Limits with every field optional, to override defaults field by field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    /// See [`Limits::timeout_ms`].
    pub timeout_ms: Option<u64>,
    /// See [`Limits::max_calls`].
    pub max_calls: Option<u32>,
    /// See [`Limits::max_result_bytes`].
    pub max_result_bytes: Option<u64>,
}

impl LimitsPatch {
    fn apply(&self, base: &Limits) -> Limits {
        Limits {
            timeout_ms: self.timeout_ms.unwrap_or(base.timeout_ms),
            max_calls: self.max_calls.unwrap_or(base.max_calls),
            max_result_bytes: self.max_result_bytes.unwrap_or(base.max_result_bytes),
        }
    }
}

/// `[local]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSection {
    /// What the stdio user may call (default: everything loaded).
    pub scopes: Option<Vec<ScopeRule>>,
    /// Limits for the stdio user.
    #[serde(default)]
    pub limits: LimitsPatch,
}

/// `[[apis]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Namespace in scripts (`github`): a JavaScript identifier.
    pub name: String,
    /// Spec path (relative to the config file) or http(s) URL.
    pub spec: String,
    /// Overrides the spec's server URL.
    pub base_url: Option<String>,
    /// One line shown to the agent (default: the spec's title).
    pub description: Option<String>,
    /// Upstream credentials.
    pub credentials: Option<CredentialsSection>,
}

/// `[apis.credentials]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    /// `bearer`, `basic` (secret is `user:password`), `header` or `query`.
    pub scheme: String,
    /// Header or query parameter name (for `header`/`query`).
    pub name: Option<String>,
    /// Environment variable holding the secret.
    pub env: Option<String>,
    /// File holding the secret (trailing newline ignored).
    pub file: Option<String>,
}

/// `[[callers]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerSection {
    /// Name in logs and audit.
    pub name: String,
    /// Hex SHA-256 of the caller's bearer token (`printf %s TOKEN | sha256sum`).
    pub token_sha256: String,
    /// What the caller may call.
    pub scopes: Vec<ScopeRule>,
    /// Overrides of the default limits.
    #[serde(default)]
    pub limits: LimitsPatch,
}

/// `[oauth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSection {
    /// Expected `iss`; also published as the authorization server.
    pub issuer: String,
    /// Expected `aud` (default: `<public_url>/mcp`).
    pub audience: Option<String>,
    /// JWKS: a file path (relative to the config file) or an https URL.
    pub jwks: String,
    /// OAuth scope → grants. A token gets the union of its scopes' grants.
    #[serde(default)]
    pub scopes: BTreeMap<String, Vec<ScopeRule>>,
    /// Limits for OAuth callers.
    #[serde(default)]
    pub limits: LimitsPatch,
}

/// A resolved API to load.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Namespace, or `None` to derive it from the spec title.
    pub name: Option<String>,
    /// Path or URL.
    pub spec: String,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Description override.
    pub description: Option<String>,
    /// Credential, resolved from its source.
    pub credential: Option<(CredentialScheme, Secret)>,
    /// Where settings came from, for error messages (`apis[0]`, `--spec`).
    pub origin: String,
}

/// A bearer-token caller.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    /// Name.
    pub name: String,
    /// SHA-256 of the token.
    pub token_sha256: [u8; 32],
    /// Grants.
    pub scopes: Scopes,
    /// Limits.
    pub limits: Limits,
}

/// OAuth resource-server settings.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Expected issuer.
    pub issuer: String,
    /// Expected audience.
    pub audience: String,
    /// JWKS path or URL.
    pub jwks: String,
    /// Scope map.
    pub scopes: BTreeMap<String, Scopes>,
    /// Limits.
    pub limits: Limits,
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// APIs to load.
    pub apis: Vec<ApiSettings>,
    /// `Some(addr)`: serve HTTP there; `None`: stdio.
    pub http: Option<SocketAddr>,
    /// Public base URL (`http://127.0.0.1:8787` by default).
    pub public_url: String,
    /// Allowed origins.
    pub allowed_origins: Vec<String>,
    /// Allowed hosts.
    pub allowed_hosts: Vec<String>,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Scripts may reach private, loopback and link-local addresses.
    pub allow_private_network: bool,
    /// Search index cache directory (`None`: the default location).
    pub cache_dir: Option<PathBuf>,
    /// The stdio caller's grants and limits.
    pub local_scopes: Scopes,
    /// The stdio caller's limits (also the default for other callers).
    pub local_limits: Limits,
    /// Bearer callers.
    pub callers: Vec<TokenCaller>,
    /// OAuth.
    pub oauth: Option<OAuthSettings>,
}

/// What `serve`'s flags say, before the config file is merged in.
#[derive(Debug, Clone, Default)]
pub struct ServeFlags {
    /// `--spec [NAME=]SPEC`, repeatable.
    pub specs: Vec<String>,
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--http [ADDR]`: `Some("")` means "use the config's bind".
    pub http: Option<String>,
    /// `--allow-origin`.
    pub allowed_origins: Vec<String>,
    /// `--allow-host`.
    pub allowed_hosts: Vec<String>,
    /// `--allow-private-network`.
    pub allow_private_network: bool,
}

/// Default request body limit: 4 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default HTTP address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";

/// Reads the config file (if any), merges the flags, checks everything.
/// `env` looks up environment variables (injected for tests).
pub fn resolve(
    flags: &ServeFlags,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Settings> {
    let (file, base_dir) = match &flags.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
            let file = parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (file, dir)
        }
        None => (ConfigFile::default(), PathBuf::new()),
    };
    resolve_file(file, &base_dir, flags, env)
}

/// Parses config text. The error quotes the bad key (toml's message shows
/// the line and the key).
pub fn parse(text: &str) -> anyhow::Result<ConfigFile> {
    toml::from_str(text).map_err(|e| anyhow::anyhow!("invalid config: {e}"))
}

fn resolve_file(
    file: ConfigFile,
    base_dir: &Path,
    flags: &ServeFlags,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Settings> {
    let relative = |p: &str| -> String {
        if p.starts_with("http://") || p.starts_with("https://") || Path::new(p).is_absolute() {
            p.to_string()
        } else {
            base_dir.join(p).to_string_lossy().into_owned()
        }
    };

    let mut apis = Vec::new();
    for (i, a) in file.apis.iter().enumerate() {
        let key = format!("apis[{i}]");
        if !sdk_gen::is_identifier(&a.name) {
            anyhow::bail!(
                "{key}.name = {:?} is not a JavaScript identifier: use letters, digits and _ (e.g. \"github\")",
                a.name
            );
        }
        if file.apis[..i].iter().any(|b| b.name == a.name) {
            anyhow::bail!(
                "{key}.name = {:?} is used twice: give each API its own name",
                a.name
            );
        }
        if let Some(url) = &a.base_url {
            check_url(url).map_err(|e| anyhow::anyhow!("{key}.base_url = {url:?}: {e}"))?;
        }
        let credential = match &a.credentials {
            None => None,
            Some(c) => Some(credential(
                c,
                &format!("{key}.credentials"),
                env,
                &relative,
            )?),
        };
        apis.push(ApiSettings {
            name: Some(a.name.clone()),
            spec: relative(&a.spec),
            base_url: a.base_url.clone(),
            description: a.description.clone(),
            credential,
            origin: key,
        });
    }
    for spec in &flags.specs {
        let (name, path) = match spec.split_once('=') {
            Some((n, p)) if sdk_gen::is_identifier(n) => (Some(n.to_string()), p.to_string()),
            Some((n, _)) if !n.contains(['/', '\\', ':', '.']) => anyhow::bail!(
                "--spec {spec:?}: {n:?} is not a valid API name: use letters, digits and _ (e.g. --spec github=api.json)"
            ),
            _ => (None, spec.clone()),
        };
        apis.push(ApiSettings {
            name,
            spec: path,
            base_url: None,
            description: None,
            credential: None,
            origin: format!("--spec {spec}"),
        });
    }

    let defaults = file.limits.apply(&Limits::default());
    let local_limits = file.local.limits.apply(&defaults);
    let local_scopes = match &file.local.scopes {
        None => Scopes::all(),
        Some(rules) => scopes(rules, "local.scopes")?,
    };

    let mut callers = Vec::new();
    for (i, c) in file.callers.iter().enumerate() {
        let key = format!("callers[{i}]");
        let token_sha256 = parse_sha256(&c.token_sha256).map_err(|e| {
            anyhow::anyhow!(
                "{key}.token_sha256: {e}; store the hex SHA-256 of the token (printf %s \"$TOKEN\" | sha256sum), never the token"
            )
        })?;
        if callers
            .iter()
            .any(|o: &TokenCaller| o.token_sha256 == token_sha256)
        {
            anyhow::bail!("{key}.token_sha256 is the same as another caller's: give each caller its own token");
        }
        callers.push(TokenCaller {
            name: c.name.clone(),
            token_sha256,
            scopes: scopes(&c.scopes, &format!("{key}.scopes"))?,
            limits: c.limits.apply(&defaults),
        });
    }

    let bind_text = match flags.http.as_deref() {
        Some("") => Some(
            file.server
                .bind
                .clone()
                .unwrap_or_else(|| DEFAULT_BIND.into()),
        ),
        Some(addr) => Some(addr.to_string()),
        None => None,
    };
    let http = match bind_text {
        Some(b) => Some(b.parse::<SocketAddr>().map_err(|e| {
            anyhow::anyhow!("HTTP address {b:?} is invalid ({e}): use IP:PORT, e.g. 127.0.0.1:8787")
        })?),
        None => None,
    };
    let public_url = match &file.server.public_url {
        Some(u) => {
            check_url(u).map_err(|e| anyhow::anyhow!("server.public_url = {u:?}: {e}"))?;
            u.trim_end_matches('/').to_string()
        }
        None => format!(
            "http://{}",
            http.map(|a| a.to_string())
                .unwrap_or_else(|| DEFAULT_BIND.into())
        ),
    };

    let oauth = match &file.oauth {
        None => None,
        Some(o) => {
            check_url(&o.issuer)
                .map_err(|e| anyhow::anyhow!("oauth.issuer = {:?}: {e}", o.issuer))?;
            if o.scopes.is_empty() {
                anyhow::bail!(
                    "oauth.scopes is empty: map at least one OAuth scope to grants, e.g. \"petstore.read\" = [{{ api = \"petstore\", read_only = true }}]"
                );
            }
            let mut map = BTreeMap::new();
            for (scope, rules) in &o.scopes {
                map.insert(
                    scope.clone(),
                    scopes(rules, &format!("oauth.scopes.{scope:?}"))?,
                );
            }
            if o.jwks.starts_with("http://") && !is_loopback_url(&o.jwks) {
                anyhow::bail!(
                    "oauth.jwks = {:?} uses plain http: serve the JWKS over https (or use a file path)",
                    o.jwks
                );
            }
            Some(OAuthSettings {
                issuer: o.issuer.clone(),
                audience: o
                    .audience
                    .clone()
                    .unwrap_or_else(|| format!("{public_url}/mcp")),
                jwks: relative(&o.jwks),
                scopes: map,
                limits: o.limits.apply(&defaults),
            })
        }
    };

    for (i, origin) in file
        .server
        .allowed_origins
        .iter()
        .chain(&flags.allowed_origins)
        .enumerate()
    {
        if origin != "null" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
            anyhow::bail!(
                "server.allowed_origins[{i}] = {origin:?} has no scheme: write it as a browser sends it, e.g. \"https://app.example.com\""
            );
        }
    }
    let mut allowed_hosts: Vec<String> = file
        .server
        .allowed_hosts
        .iter()
        .chain(&flags.allowed_hosts)
        .cloned()
        .collect();
    if allowed_hosts.is_empty() {
        allowed_hosts = vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
            "[::1]".into(),
        ];
        // The public URL's host is how clients reach us.
        if let Some(host) = public_url
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', ':']).next())
            .filter(|h| !h.is_empty() && !allowed_hosts.iter().any(|a| a == h))
        {
            allowed_hosts.push(host.to_string());
        }
        if let Some(addr) = http {
            if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
                allowed_hosts.push(addr.ip().to_string());
            }
        }
    }
    let max_body_bytes = match file.server.max_body_bytes {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(0) => anyhow::bail!("server.max_body_bytes = 0: use a positive size, e.g. 4194304"),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };

    if let Some(addr) = http {
        if !addr.ip().is_loopback() && callers.is_empty() && oauth.is_none() {
            anyhow::bail!(
                "HTTP address {addr} is reachable from other machines but no callers are configured: add [[callers]] or [oauth] to the config, or bind to 127.0.0.1"
            );
        }
    }

    // The server's own origins (same-origin requests) are always allowed.
    let mut allowed_origins: Vec<String> = file
        .server
        .allowed_origins
        .iter()
        .chain(&flags.allowed_origins)
        .cloned()
        .collect();
    let own = public_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or("")));
    allowed_origins.extend(own);
    if let Some(addr) = http.filter(|a| a.ip().is_loopback()) {
        let port = addr.port();
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            allowed_origins.push(format!("http://{host}:{port}"));
        }
    }
    allowed_origins.dedup();

    Ok(Settings {
        apis,
        http,
        public_url,
        allowed_origins,
        allowed_hosts,
        max_body_bytes,
        allow_private_network: file.server.allow_private_network || flags.allow_private_network,
        cache_dir: file.server.cache_dir.as_ref().map(|d| base_dir.join(d)),
        local_scopes,
        local_limits,
        callers,
        oauth,
    })
}

fn scopes(rules: &[ScopeRule], key: &str) -> anyhow::Result<Scopes> {
    for (i, r) in rules.iter().enumerate() {
        r.validate()
            .map_err(|e| anyhow::anyhow!("{key}[{i}]: {e}"))?;
    }
    Ok(Scopes {
        rules: rules.to_vec(),
    })
}

fn credential(
    c: &CredentialsSection,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
    relative: &dyn Fn(&str) -> String,
) -> anyhow::Result<(CredentialScheme, Secret)> {
    let need_name = |kind: &str| -> anyhow::Result<String> {
        c.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| {
            anyhow::anyhow!("{key}.name is missing: scheme \"{kind}\" needs the {kind} name, e.g. name = \"X-Api-Key\"")
        })
    };
    let scheme = match c.scheme.as_str() {
        "bearer" => CredentialScheme::Bearer,
        "basic" => CredentialScheme::Basic,
        "header" => CredentialScheme::Header(need_name("header")?),
        "query" => CredentialScheme::Query(need_name("query")?),
        other => anyhow::bail!(
            "{key}.scheme = {other:?} is unknown: use \"bearer\", \"basic\", \"header\" or \"query\""
        ),
    };
    let secret = match (&c.env, &c.file) {
        (Some(var), None) => env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
            anyhow::anyhow!("{key}.env: environment variable {var} is not set: export it before starting the server")
        })?,
        (None, Some(file)) => {
            let path = relative(file);
            std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("{key}.file: cannot read {path}: {e}"))?
                .trim_end_matches(['\r', '\n'])
                .to_string()
        }
        _ => anyhow::bail!("{key}: set exactly one of env = \"VAR\" or file = \"path\" for the secret"),
    };
    Ok((scheme, Secret::new(secret)))
}

fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("not an http(s) URL: write it like https://example.com")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host".into());
    }
    Ok(())
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn parse_sha256(hex: &str) -> Result<[u8; 32], String> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return Err(format!("expected 64 hex digits, got {}", hex.len()));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("{:?} is not hex", &hex[2 * i..2 * i + 2]))?;
    }
    Ok(out)
}

/// The environment variable holding the quick-start token of API `name`:
/// `CODEMODE_<NAME>_TOKEN` (upper case, non-alphanumerics as `_`).
pub fn token_env_var(name: &str) -> String {
    format!("CODEMODE_{}_TOKEN", env_key(name))
}

/// The environment variable overriding the base URL of API `name`:
/// `CODEMODE_<NAME>_BASE_URL`.
pub fn base_url_env_var(name: &str) -> String {
    format!("CODEMODE_{}_BASE_URL", env_key(name))
}

fn env_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_text(text: &str) -> anyhow::Result<Settings> {
        let file = parse(text)?;
        resolve_file(file, Path::new("/cfg"), &ServeFlags::default(), &|v| {
            (v == "PET_TOKEN").then(|| "s3cret".to_string())
        })
    }

    fn err(text: &str) -> String {
        format!(
            "{:#}",
            resolve_text(text).expect_err("config should be rejected")
        )
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let e = err("[server]\nbindd = \"x\"\n");
        assert!(e.contains("bindd"), "{e}");
        let e = err("[[apis]]\nname = \"pet store\"\nspec = \"p.json\"\n");
        assert!(
            e.contains("apis[0].name") && e.contains("identifier"),
            "{e}"
        );
        let e = err("[[apis]]\nname = \"pet\"\nspec = \"p.json\"\n[apis.credentials]\nscheme = \"token\"\nenv = \"PET_TOKEN\"\n");
        assert!(
            e.contains("apis[0].credentials.scheme") && e.contains("\"bearer\""),
            "{e}"
        );
        let e = err("[[apis]]\nname = \"pet\"\nspec = \"p.json\"\n[apis.credentials]\nscheme = \"bearer\"\nenv = \"NOPE\"\n");
        assert!(e.contains("NOPE is not set"), "{e}");
        let e =
            err("[[callers]]\nname = \"a\"\ntoken_sha256 = \"abc\"\nscopes = [{ api = \"*\" }]\n");
        assert!(
            e.contains("callers[0].token_sha256") && e.contains("sha256sum"),
            "{e}"
        );
        let e = err("[[callers]]\nname = \"a\"\ntoken_sha256 = \"%s\"\nscopes = [{ api = \"*\", methods = [\"FETCH\"] }]\n"
            .replace("%s", &"ab".repeat(32)).as_str());
        assert!(
            e.contains("callers[0].scopes[0]") && e.contains("FETCH"),
            "{e}"
        );
        let e = err("[oauth]\nissuer = \"https://a.example\"\njwks = \"http://a.example/jwks\"\n[oauth.scopes]\nx = [{ api = \"*\" }]\n");
        assert!(e.contains("oauth.jwks") && e.contains("https"), "{e}");
        assert!(
            is_loopback_url("http://127.0.0.1:9/jwks")
                && !is_loopback_url("http://127.0.0.1.evil.com/")
        );
        let e = err("[server]\nallowed_origins = [\"app.example.com\"]\n");
        assert!(e.contains("server.allowed_origins[0]"), "{e}");
    }

    #[test]
    fn resolves_apis_callers_and_limits() {
        let s = resolve_text(&format!(
            "[limits]\ntimeout_ms = 5000\n[[apis]]\nname = \"pet\"\nspec = \"specs/p.json\"\n[apis.credentials]\nscheme = \"header\"\nname = \"X-Key\"\nenv = \"PET_TOKEN\"\n[[callers]]\nname = \"bot\"\ntoken_sha256 = \"{}\"\nscopes = [{{ api = \"pet\", read_only = true }}]\nlimits = {{ max_calls = 3 }}\n",
            "ab".repeat(32)
        ))
        .expect("valid config");
        assert_eq!(s.apis[0].spec, "/cfg/specs/p.json");
        let (scheme, secret) = s.apis[0].credential.clone().expect("credential");
        assert_eq!(scheme, CredentialScheme::Header("X-Key".into()));
        assert_eq!(secret.expose(), "s3cret");
        assert!(!format!("{:?}", s.apis[0]).contains("s3cret"));
        assert_eq!(s.callers[0].limits.timeout_ms, 5000);
        assert_eq!(s.callers[0].limits.max_calls, 3);
        assert_eq!(s.local_scopes, Scopes::all());
        assert!(s.http.is_none());
    }

    #[test]
    fn public_url_host_is_an_allowed_host_by_default() {
        let s =
            resolve_text("[server]\npublic_url = \"https://mcp.example.com/\"\n").expect("valid");
        assert!(
            s.allowed_hosts.iter().any(|h| h == "mcp.example.com"),
            "{:?}",
            s.allowed_hosts
        );
        assert!(
            s.allowed_origins
                .iter()
                .any(|o| o == "https://mcp.example.com"),
            "{:?}",
            s.allowed_origins
        );
        let s = resolve_text(
            "[server]\npublic_url = \"https://mcp.example.com\"\nallowed_hosts = [\"a.example\"]\n",
        )
        .expect("valid");
        assert_eq!(s.allowed_hosts, vec!["a.example".to_string()]);
    }

    #[test]
    fn public_bind_without_callers_is_refused() {
        let flags = ServeFlags {
            http: Some("0.0.0.0:8787".into()),
            ..ServeFlags::default()
        };
        let e = resolve_file(ConfigFile::default(), Path::new(""), &flags, &|_| None)
            .expect_err("no auth on a public address");
        assert!(format!("{e}").contains("no callers are configured"), "{e}");
    }

    #[test]
    fn env_var_names() {
        assert_eq!(token_env_var("github"), "CODEMODE_GITHUB_TOKEN");
        assert_eq!(base_url_env_var("myApi"), "CODEMODE_MYAPI_BASE_URL");
    }
}
