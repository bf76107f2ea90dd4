//! Who is calling over HTTP: bearer tokens checked against configured
//! SHA-256 hashes, or OAuth 2.1 access tokens (JWT) checked against a JWKS,
//! issuer and audience. Also the RFC 9728 protected-resource metadata and
//! the `WWW-Authenticate` challenges. Tokens are never logged or passed on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use super::backend::Caller;
use super::config::{OAuthSettings, Settings, TokenCaller};
use super::jwt::{self, Jwks};
use super::scopes::Scopes;

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A token was sent but is not valid; the reason is safe to show.
    Invalid(String),
}

/// Checks HTTP callers.
#[derive(Debug)]
pub struct Authenticator {
    tokens: Vec<TokenCaller>,
    oauth: Option<OAuth>,
    /// When no callers or OAuth are configured (loopback quick start), every
    /// request runs as this caller.
    anonymous: Option<Caller>,
    resource: String,
    metadata_url: String,
}

#[derive(Debug)]
struct OAuth {
    settings: OAuthSettings,
    jwks: RwLock<(Jwks, Instant)>,
}

/// Minimum time between JWKS refreshes triggered by unknown key ids.
const JWKS_REFRESH: Duration = Duration::from_secs(60);

impl Authenticator {
    /// Builds the authenticator, loading the JWKS if OAuth is configured.
    pub async fn new(settings: &Settings) -> anyhow::Result<Authenticator> {
        let oauth = match &settings.oauth {
            None => None,
            Some(o) => {
                let jwks = load_jwks(&o.jwks)
                    .await
                    .map_err(|e| anyhow::anyhow!("oauth.jwks = {:?}: {e}", o.jwks))?;
                Some(OAuth {
                    settings: o.clone(),
                    jwks: RwLock::new((jwks, Instant::now())),
                })
            }
        };
        let anonymous = (settings.callers.is_empty() && oauth.is_none()).then(|| Caller {
            id: "local".into(),
            scopes: settings.local_scopes.clone(),
            limits: settings.local_limits.clone(),
        });
        Ok(Authenticator {
            tokens: settings.callers.clone(),
            oauth,
            anonymous,
            resource: format!("{}/mcp", settings.public_url),
            metadata_url: format!(
                "{}/.well-known/oauth-protected-resource/mcp",
                settings.public_url
            ),
        })
    }

    /// Whether requests need a token.
    pub fn required(&self) -> bool {
        self.anonymous.is_none()
    }

    /// The caller for a request's `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        if let Some(anon) = &self.anonymous {
            return Ok(anon.clone());
        }
        let Some(value) = authorization else {
            return Err(AuthFailure::Missing);
        };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(AuthFailure::Invalid("use the Bearer scheme".into())),
        };
        if token.is_empty() {
            return Err(AuthFailure::Missing);
        }
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare against every hash without early exit.
        let mut found: Option<&TokenCaller> = None;
        for c in &self.tokens {
            let diff = c
                .token_sha256
                .iter()
                .zip(hash.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff == 0 {
                found = Some(c);
            }
        }
        if let Some(c) = found {
            return Ok(Caller {
                id: c.name.clone(),
                scopes: c.scopes.clone(),
                limits: c.limits.clone(),
            });
        }
        match &self.oauth {
            Some(oauth) if token.matches('.').count() == 2 => oauth.verify(token).await,
            _ => Err(AuthFailure::Invalid("unknown token".into())),
        }
    }

    /// `WWW-Authenticate` for a 401.
    pub fn challenge(&self, failure: &AuthFailure) -> String {
        match failure {
            AuthFailure::Missing => format!("Bearer resource_metadata=\"{}\"", self.metadata_url),
            AuthFailure::Invalid(reason) => format!(
                "Bearer resource_metadata=\"{}\", error=\"invalid_token\", error_description=\"{}\"",
                self.metadata_url,
                reason.replace(['"', '\\'], "'")
            ),
        }
    }

    /// `WWW-Authenticate` for a 403.
    pub fn insufficient_scope(&self) -> String {
        let mut s = format!(
            "Bearer resource_metadata=\"{}\", error=\"insufficient_scope\"",
            self.metadata_url
        );
        if let Some(o) = &self.oauth {
            let scopes: Vec<&str> = o.settings.scopes.keys().map(String::as_str).collect();
            s.push_str(&format!(", scope=\"{}\"", scopes.join(" ")));
        }
        s
    }

    /// The RFC 9728 protected-resource metadata document.
    pub fn metadata(&self) -> serde_json::Value {
        let mut doc = serde_json::json!({
            "resource": self.resource,
            "bearer_methods_supported": ["header"],
            "resource_name": "codemode",
        });
        if let Some(o) = &self.oauth {
            doc["authorization_servers"] = serde_json::json!([o.settings.issuer]);
            doc["scopes_supported"] = o.settings.scopes.keys().cloned().collect::<Vec<_>>().into();
        }
        doc
    }
}

impl OAuth {
    async fn verify(&self, token: &str) -> Result<Caller, AuthFailure> {
        // Unknown key id: the issuer may have rotated keys; refresh (rate-limited).
        if let Some(kid) = jwt::kid(token) {
            let stale = {
                let guard = self.jwks.read().await;
                !guard.0.has_kid(&kid) && guard.1.elapsed() > JWKS_REFRESH
            };
            if stale {
                let mut guard = self.jwks.write().await;
                if guard.1.elapsed() > JWKS_REFRESH {
                    match load_jwks(&self.settings.jwks).await {
                        Ok(fresh) => *guard = (fresh, Instant::now()),
                        Err(e) => {
                            tracing::warn!(error = %e, "JWKS refresh failed");
                            guard.1 = Instant::now();
                        }
                    }
                }
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let claims = {
            let guard = self.jwks.read().await;
            jwt::verify(
                token,
                &guard.0,
                &self.settings.issuer,
                &self.settings.audience,
                now,
            )
        }
        .map_err(|e| AuthFailure::Invalid(e.0))?;
        let scopes = map_scopes(&self.settings.scopes, &claims.scopes);
        Ok(Caller {
            id: format!("oauth:{}", claims.subject),
            scopes,
            limits: self.settings.limits.clone(),
        })
    }
}

/// The union of the grants of the token's OAuth scopes (unknown scopes grant nothing).
pub fn map_scopes(map: &BTreeMap<String, Scopes>, token_scopes: &[String]) -> Scopes {
    token_scopes
        .iter()
        .filter_map(|s| map.get(s))
        .fold(Scopes::none(), |acc, s| acc.union(s.clone()))
}

async fn load_jwks(source: &str) -> Result<Jwks, String> {
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client
            .get(source)
            .send()
            .await
            .map_err(|e| format!("cannot fetch: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("fetch returned HTTP {}", resp.status()));
        }
        resp.text().await.map_err(|e| e.to_string())?
    } else {
        tokio::fs::read_to_string(source)
            .await
            .map_err(|e| format!("cannot read: {e}"))?
    };
    Jwks::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::backend::Limits;
    use crate::server::config::ServeFlags;
    use crate::server::jwt::tests::TestKey;
    use crate::server::scopes::ScopeRule;

    fn settings(callers: Vec<TokenCaller>, oauth: Option<OAuthSettings>) -> Settings {
        let mut s =
            crate::server::config::resolve(&ServeFlags::default(), &|_| None).expect("defaults");
        s.callers = callers;
        s.oauth = oauth;
        s
    }

    #[tokio::test]
    async fn bearer_hashes_and_jwts() {
        let hash: [u8; 32] = Sha256::digest(b"tok-123").into();
        let key = TestKey::new("k");
        let dir = tempfile::tempdir().expect("tempdir");
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, &key.jwks).expect("write jwks");
        let mut map = BTreeMap::new();
        map.insert(
            "pet.read".to_string(),
            Scopes {
                rules: vec![ScopeRule {
                    read_only: true,
                    ..ScopeRule::api("pet")
                }],
            },
        );
        let oauth = OAuthSettings {
            issuer: "https://auth.example.com".into(),
            audience: "http://127.0.0.1:8787/mcp".into(),
            jwks: jwks_path.to_string_lossy().into_owned(),
            scopes: map,
            limits: Limits::default(),
        };
        let auth = Authenticator::new(&settings(
            vec![TokenCaller {
                name: "bot".into(),
                token_sha256: hash,
                scopes: Scopes::all(),
                limits: Limits::default(),
            }],
            Some(oauth),
        ))
        .await
        .expect("authenticator");
        assert!(auth.required());
        assert_eq!(
            auth.authenticate(None).await.expect_err("missing"),
            AuthFailure::Missing
        );
        assert_eq!(
            auth.authenticate(Some("Bearer tok-123"))
                .await
                .expect("valid")
                .id,
            "bot"
        );
        assert!(matches!(
            auth.authenticate(Some("Bearer tok-124")).await,
            Err(AuthFailure::Invalid(_))
        ));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let jwt = key.sign(
            "k",
            &serde_json::json!({"iss": "https://auth.example.com", "aud": "http://127.0.0.1:8787/mcp",
                "sub": "alice", "exp": now + 60, "scope": "pet.read unknown"}),
        );
        let caller = auth
            .authenticate(Some(&format!("Bearer {jwt}")))
            .await
            .expect("jwt");
        assert_eq!(caller.id, "oauth:alice");
        assert!(caller.scopes.allows_api("pet") && !caller.scopes.allows_api("other"));
        let challenge = auth.challenge(&AuthFailure::Missing);
        assert!(challenge.contains(
            "resource_metadata=\"http://127.0.0.1:8787/.well-known/oauth-protected-resource/mcp\""
        ));
        assert_eq!(
            auth.metadata()["authorization_servers"][0],
            "https://auth.example.com"
        );
        assert_eq!(auth.metadata()["resource"], "http://127.0.0.1:8787/mcp");
    }
}
