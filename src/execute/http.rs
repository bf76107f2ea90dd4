//! The host side of an API call: credentials, egress policy, sending, and
//! reading the response under a size cap.
//!
//! - The origin is fixed by configuration; the built URL must keep the base
//!   URL's scheme, host, port and path prefix.
//! - Names are resolved by [`GuardedResolver`], which drops private,
//!   loopback, link-local (cloud metadata), CGNAT, multicast and unique-local
//!   addresses unless private networks are allowed. The client connects only
//!   to the addresses it returns, so the address actually connected to is
//!   the one checked (no DNS-rebinding gap). IP-literal hosts are checked
//!   before sending. No proxy is used.
//! - Redirects are followed by hand, only within the API's origin.
//! - Credentials are added here, after the sandbox handed over the request,
//!   and every error text is passed through [`redact`].

use super::request::Prepared;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sdk_gen::{Api, Method, ParamLocation, SecuritySchemeKind};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// A secret value. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How the credential travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<secret>)`; the secret is `user:password`.
    Basic,
    /// The secret as the value of this header.
    ApiKeyHeader(String),
    /// The secret as this query parameter.
    ApiKeyQuery(String),
    /// The secret as this cookie.
    ApiKeyCookie(String),
}

impl AuthScheme {
    /// The scheme the spec declares first (the spec-wide requirement, else
    /// the first declared scheme). OAuth 2 and OpenID Connect tokens are
    /// sent as bearer tokens.
    pub fn from_spec(api: &Api) -> Option<AuthScheme> {
        let preferred = api
            .security
            .iter()
            .flat_map(|r| r.keys())
            .collect::<Vec<_>>();
        let schemes = preferred
            .iter()
            .filter_map(|n| api.security_schemes.iter().find(|s| &&s.name == n))
            .chain(api.security_schemes.iter());
        for s in schemes {
            let scheme = match &s.kind {
                SecuritySchemeKind::ApiKey { param, location } => match location {
                    ParamLocation::Query => AuthScheme::ApiKeyQuery(param.clone()),
                    ParamLocation::Cookie => AuthScheme::ApiKeyCookie(param.clone()),
                    _ => AuthScheme::ApiKeyHeader(param.clone()),
                },
                SecuritySchemeKind::Basic => AuthScheme::Basic,
                SecuritySchemeKind::Bearer { .. }
                | SecuritySchemeKind::OAuth2 { .. }
                | SecuritySchemeKind::OpenIdConnect { .. } => AuthScheme::Bearer,
                _ => continue,
            };
            return Some(scheme);
        }
        None
    }

    /// Parses `bearer`, `basic`, `header:NAME`, `query:NAME`, `cookie:NAME`.
    pub fn parse(s: &str) -> Option<AuthScheme> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "bearer" => return Some(AuthScheme::Bearer),
            "basic" => return Some(AuthScheme::Basic),
            _ => {}
        }
        let (kind, name) = s.split_once(':')?;
        let name = name.trim().to_string();
        if name.is_empty() {
            return None;
        }
        match kind.to_ascii_lowercase().as_str() {
            "header" => Some(AuthScheme::ApiKeyHeader(name)),
            "query" => Some(AuthScheme::ApiKeyQuery(name)),
            "cookie" => Some(AuthScheme::ApiKeyCookie(name)),
            _ => None,
        }
    }
}

/// Where the secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// An environment variable, read when the executor starts.
    Env(String),
    /// A file (trailing newline trimmed), read when the executor starts.
    File(PathBuf),
    /// A value in hand.
    Value(Secret),
}

/// One API's credential configuration.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// How it is sent.
    pub scheme: AuthScheme,
    /// Where it is read from.
    pub source: SecretSource,
}

impl Credentials {
    pub(crate) fn resolve(&self) -> anyhow::Result<ResolvedCredential> {
        let secret = match &self.source {
            SecretSource::Env(var) => std::env::var(var)
                .map_err(|_| anyhow::anyhow!("credential environment variable {var} is not set"))?,
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read credential file {}: {}",
                        path.display(),
                        e.kind()
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            SecretSource::Value(s) => s.expose().to_string(),
        };
        if secret.is_empty() || secret.contains(['\r', '\n', '\0']) {
            anyhow::bail!("the credential is empty or contains line breaks");
        }
        let header_value = match &self.scheme {
            AuthScheme::Bearer => Some(format!("Bearer {secret}")),
            AuthScheme::Basic => Some(format!("Basic {}", base64(secret.as_bytes()))),
            _ => None,
        };
        let mut redactions = vec![
            secret.clone(),
            base64(secret.as_bytes()),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            percent_encoding::utf8_percent_encode(&secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        ];
        redactions.retain(|r| r.len() >= 4);
        redactions.sort_by_key(|r| std::cmp::Reverse(r.len()));
        redactions.dedup();
        Ok(ResolvedCredential {
            scheme: self.scheme.clone(),
            secret: Secret(secret),
            header_value,
            redactions,
        })
    }
}

/// A credential ready to attach.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedCredential {
    scheme: AuthScheme,
    secret: Secret,
    header_value: Option<String>,
    /// The secret in every form it may appear in (raw, base64, encoded).
    pub(crate) redactions: Vec<String>,
}

impl ResolvedCredential {
    /// The header the credential occupies, which the sandbox may not set.
    pub(crate) fn header_name(&self) -> Option<&str> {
        match &self.scheme {
            AuthScheme::ApiKeyHeader(h) => Some(h),
            AuthScheme::Bearer | AuthScheme::Basic => Some("authorization"),
            _ => None,
        }
    }
}

/// Replaces every form of every secret with `[redacted]`.
pub(crate) fn redact(text: &str, redactions: &[String]) -> String {
    let mut out = text.to_string();
    for r in redactions {
        if out.contains(r.as_str()) {
            out = out.replace(r.as_str(), "[redacted]");
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether an address is one the sandbox may not reach by default.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 64:ff9b::/96
                || (s[0] == 0x2002) // 6to4 may embed private v4
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible ::a.b.c.d
        }
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240 // reserved
}

const REFUSED: &str = "resolves only to private, loopback or link-local addresses, which are refused (the operator can allow them with --allow-private-network)";

/// DNS resolution that refuses private addresses (unless allowed).
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allow || !is_private(a.ip()))
                .collect();
            if ok.is_empty() {
                return Err(format!("{host} {REFUSED}").into());
            }
            Ok(Box::new(ok.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client one worker uses: no proxy, no automatic redirects,
/// guarded DNS.
pub(crate) fn client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("codemode/", env!("CARGO_PKG_VERSION")));
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// Where one API's calls go.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) base: Url,
    pub(crate) allow_private: bool,
    pub(crate) credential: Option<ResolvedCredential>,
}

/// A successful (2xx) reply.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Non-2xx: status, message, bounded body excerpt.
    Api {
        status: u16,
        message: String,
        body: String,
    },
    /// A size limit.
    Limit(String),
    /// Refused by the egress policy.
    Egress(String),
    /// Transport failure or timeout.
    Network(String),
}

const MAX_REDIRECTS: usize = 5;
const EXCERPT_CHARS: usize = 1000;

/// Builds `base + path + ?query` and checks it stays under the base URL.
pub(crate) fn build_url(
    base: &Url,
    path: &str,
    query: &[(String, String)],
) -> Result<Url, CallError> {
    let mut s = base.clone();
    s.set_query(None);
    s.set_fragment(None);
    let mut text = s.as_str().trim_end_matches('/').to_string();
    text.push_str(path);
    if !query.is_empty() {
        text.push('?');
        text.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish(),
        );
    }
    let url =
        Url::parse(&text).map_err(|e| CallError::Egress(format!("invalid request URL: {e}")))?;
    let base_path = base.path().trim_end_matches('/');
    if !same_origin(&url, base)
        || !url.path().starts_with(base_path)
        || url.username() != ""
        || url.password().is_some()
    {
        return Err(CallError::Egress(
            "the request would leave the API's base URL; refused".into(),
        ));
    }
    Ok(url)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn check_literal(url: &Url, allow_private: bool) -> Result<(), CallError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(CallError::Egress("the URL has no host".into())),
    };
    if !allow_private && is_private(ip) {
        return Err(CallError::Egress(format!(
            "{ip} is a private, loopback or link-local address; refused (the operator can allow it with --allow-private-network)"
        )));
    }
    Ok(())
}

fn to_reqwest(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Put => reqwest::Method::PUT,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
        Method::Options => reqwest::Method::OPTIONS,
        Method::Head => reqwest::Method::HEAD,
        Method::Patch => reqwest::Method::PATCH,
        Method::Trace => reqwest::Method::TRACE,
    }
}

/// Sends a prepared request and reads the reply.
pub(crate) async fn send(
    client: &reqwest::Client,
    target: &Target,
    req: Prepared,
    max_bytes: usize,
    deadline: Instant,
) -> Result<Reply, CallError> {
    let redactions: &[String] = target.credential.as_ref().map_or(&[], |c| &c.redactions);
    let net = |e: reqwest::Error| {
        let chain = source_chain(&e);
        if chain.contains(REFUSED) {
            return CallError::Egress(redact(&chain, redactions));
        }
        let what = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            format!("could not connect: {chain}")
        } else {
            chain
        };
        CallError::Network(redact(&format!("request failed: {what}"), redactions))
    };
    let mut url = build_url(&target.base, &req.path, &req.query)?;
    let mut method = req.method;
    let mut body = req.body;
    for hop in 0..=MAX_REDIRECTS {
        check_literal(&url, target.allow_private)?;
        let mut send_url = url.clone();
        let mut rb_headers = reqwest::header::HeaderMap::new();
        for (k, v) in &req.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| CallError::Egress(format!("invalid header name {k:?}")))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| CallError::Egress(format!("invalid value for header {k:?}")))?;
            rb_headers.append(name, value);
        }
        if let Some(c) = target.credential.as_ref().filter(|_| !req.anonymous) {
            let mut set = |name: &str, value: String| -> Result<(), CallError> {
                let n = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| CallError::Egress("invalid credential header name".into()))?;
                let mut v = reqwest::header::HeaderValue::from_str(&value)
                    .map_err(|_| CallError::Egress("invalid credential value".into()))?;
                v.set_sensitive(true);
                rb_headers.insert(n, v);
                Ok(())
            };
            match &c.scheme {
                AuthScheme::Bearer | AuthScheme::Basic => {
                    set("authorization", c.header_value.clone().unwrap_or_default())?
                }
                AuthScheme::ApiKeyHeader(h) => set(h, c.secret.expose().to_string())?,
                AuthScheme::ApiKeyCookie(name) => {
                    set("cookie", format!("{name}={}", c.secret.expose()))?
                }
                AuthScheme::ApiKeyQuery(name) => {
                    send_url
                        .query_pairs_mut()
                        .append_pair(name, c.secret.expose());
                }
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(CallError::Network(
                "request not sent: the execution's time is up".into(),
            ));
        }
        let mut rb = client
            .request(to_reqwest(method), send_url)
            .headers(rb_headers)
            .timeout(remaining);
        if let Some(b) = &body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, b.content_type.as_str())
                .body(b.bytes.clone());
        }
        let mut resp = rb.send().await.map_err(net)?;
        let status = resp.status();
        if status.is_redirection() {
            if let Some(loc) = resp.headers().get(reqwest::header::LOCATION) {
                let loc = loc.to_str().unwrap_or("");
                let next = url
                    .join(loc)
                    .map_err(|_| CallError::Egress("upstream sent an invalid redirect".into()))?;
                if !same_origin(&next, &target.base) {
                    return Err(CallError::Egress(format!(
                        "upstream redirected to another host ({}); redirects off the API's host are not followed",
                        redact(next.host_str().unwrap_or("?"), redactions)
                    )));
                }
                if hop == MAX_REDIRECTS {
                    return Err(CallError::Network("too many redirects".into()));
                }
                if status == reqwest::StatusCode::SEE_OTHER
                    || (matches!(status.as_u16(), 301 | 302) && method == Method::Post)
                {
                    method = Method::Get;
                    body = None;
                }
                url = next;
                continue;
            }
        }
        if let Some(len) = resp.content_length() {
            if len as usize > max_bytes {
                return Err(too_big(max_bytes));
            }
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(net)? {
            if buf.len() + chunk.len() > max_bytes {
                return Err(too_big(max_bytes));
            }
            buf.extend_from_slice(&chunk);
        }
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let text = redact(&String::from_utf8_lossy(&buf), redactions);
        let code = status.as_u16();
        if !status.is_success() {
            let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
            let more = if text.chars().count() > EXCERPT_CHARS {
                "…"
            } else {
                ""
            };
            return Err(CallError::Api {
                status: code,
                message: format!(
                    "{} {} returned {} {}",
                    method,
                    url.path(),
                    code,
                    status.canonical_reason().unwrap_or("")
                ),
                body: format!("{excerpt}{more}"),
            });
        }
        let trimmed = text.trim_start();
        let body = if trimmed.is_empty() {
            Value::Null
        } else if is_json || trimmed.starts_with('{') || trimmed.starts_with('[') {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        return Ok(Reply { status: code, body });
    }
    Err(CallError::Network("too many redirects".into()))
}

fn too_big(max: usize) -> CallError {
    CallError::Limit(format!(
        "the response body is larger than the {max}-byte limit; ask for less (a smaller page size, fewer fields, a narrower filter)"
    ))
}

fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    // reqwest's Display includes the URL (possibly with an API key in the
    // query); walk the sources instead and skip the top-level message.
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    if parts.is_empty() {
        "network error".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            assert!(is_private(ip), "{ip}");
        }
        for ip in ["8.8.8.8", "140.82.112.3", "2606:4700::1111"] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
            assert!(!is_private(ip), "{ip}");
        }
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn url_stays_under_base() {
        let base = Url::parse("https://api.example.com/v1/").unwrap_or_else(|_| unreachable!());
        let u = build_url(&base, "/users/a%2F..%2Fb", &[("q".into(), "a b&c".into())])
            .map_err(|_| ())
            .unwrap_or_else(|()| unreachable!());
        assert_eq!(
            u.as_str(),
            "https://api.example.com/v1/users/a%2F..%2Fb?q=a+b%26c"
        );
        assert!(build_url(&base, "/../admin", &[]).is_err());
    }
}
