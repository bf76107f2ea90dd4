//! OAuth 2.1 access tokens as JWTs: signature checked against a JWKS (RS256
//! or ES256 only; `none` and HMAC are refused), then `iss`, `aud`, `exp` and
//! `nbf`. The verified claims say who the caller is and which OAuth scopes
//! the token carries.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature;
use serde::Deserialize;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: i64 = 60;

/// A set of public keys.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

/// One public key (the fields this verifier uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    /// `RSA` or `EC`.
    pub kty: String,
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// Algorithm, if pinned.
    #[serde(default)]
    pub alg: Option<String>,
    /// RSA modulus.
    #[serde(default)]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(default)]
    pub e: Option<String>,
    /// EC curve.
    #[serde(default)]
    pub crv: Option<String>,
    /// EC x.
    #[serde(default)]
    pub x: Option<String>,
    /// EC y.
    #[serde(default)]
    pub y: Option<String>,
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(text: &str) -> Result<Jwks, String> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Jwk>,
        }
        let doc: Doc = serde_json::from_str(text)
            .map_err(|e| format!("not a JWKS document ({e}): expected {{\"keys\": [...]}}"))?;
        if doc.keys.is_empty() {
            return Err("the JWKS has no keys".into());
        }
        Ok(Jwks { keys: doc.keys })
    }

    /// Whether a key with this id exists.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// Verified claims.
#[derive(Debug, Clone)]
pub struct Claims {
    /// `sub`.
    pub subject: String,
    /// OAuth scopes from `scope` (space-separated) or `scp` (array).
    pub scopes: Vec<String>,
}

/// Why a token was refused (said in `WWW-Authenticate`; never contains the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwtError(pub String);

fn err(msg: impl Into<String>) -> JwtError {
    JwtError(msg.into())
}

/// The key id a token names, if it is a JWT at all.
pub fn kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("kid").and_then(|k| k.as_str()).map(str::to_string)
}

/// Verifies `token` against `jwks`, `issuer` and `audience` at time `now` (unix seconds).
pub fn verify(
    token: &str,
    jwks: &Jwks,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err("not a JWT"));
    };
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        #[serde(default)]
        kid: Option<String>,
    }
    let header: Header = decode_json(h).map_err(|e| err(format!("bad JWT header: {e}")))?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| err("bad JWT signature encoding"))?;
    let signed = &token.as_bytes()[..h.len() + 1 + p.len()];

    let candidates: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(|k| match (&header.kid, &k.kid) {
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == header.alg))
        .collect();
    if candidates.is_empty() {
        return Err(err("no key in the JWKS matches the token's kid/alg"));
    }
    let verified = candidates
        .iter()
        .any(|k| check_signature(&header.alg, k, signed, &sig).unwrap_or(false));
    if !verified {
        if header.alg != "RS256" && header.alg != "ES256" {
            return Err(err(format!(
                "algorithm {:?} is not accepted (RS256 or ES256)",
                header.alg
            )));
        }
        return Err(err("signature does not verify"));
    }

    let claims: serde_json::Value =
        decode_json(p).map_err(|e| err(format!("bad JWT claims: {e}")))?;
    if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(err("token was issued by another issuer"));
    }
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == audience,
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(err("token was not issued for this server (audience)"));
    }
    let exp = claims
        .get("exp")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| err("token has no exp"))?;
    if now > exp + LEEWAY_SECS {
        return Err(err("token expired"));
    }
    if let Some(nbf) = claims.get("nbf").and_then(|v| v.as_i64()) {
        if now + LEEWAY_SECS < nbf {
            return Err(err("token not yet valid"));
        }
    }
    let subject = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .ok_or_else(|| err("token has no sub"))?
        .to_string();
    let mut scopes: Vec<String> = claims
        .get("scope")
        .and_then(|v| v.as_str())
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(list) = claims.get("scp").and_then(|v| v.as_array()) {
        scopes.extend(list.iter().filter_map(|s| s.as_str().map(str::to_string)));
    }
    Ok(Claims { subject, scopes })
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, String> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn b64(field: &Option<String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(field.as_deref()?).ok()
}

fn check_signature(alg: &str, key: &Jwk, signed: &[u8], sig: &[u8]) -> Option<bool> {
    match (alg, key.kty.as_str()) {
        ("RS256", "RSA") => {
            let n = b64(&key.n)?;
            let e = b64(&key.e)?;
            let public = signature::RsaPublicKeyComponents { n: &n, e: &e };
            Some(
                public
                    .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed, sig)
                    .is_ok(),
            )
        }
        ("ES256", "EC") if key.crv.as_deref() == Some("P-256") => {
            let x = b64(&key.x)?;
            let y = b64(&key.y)?;
            let mut point = Vec::with_capacity(65);
            point.push(4u8);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let public =
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point);
            Some(public.verify(signed, sig).is_ok())
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};

    /// An ES256 key and its JWKS, for tests.
    pub(crate) struct TestKey {
        pair: EcdsaKeyPair,
        pub(crate) jwks: String,
    }

    impl TestKey {
        pub(crate) fn new(kid: &str) -> TestKey {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("keygen");
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .expect("key");
            let point = pair.public_key().as_ref();
            let jwks = serde_json::json!({"keys": [{
                "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }]})
            .to_string();
            TestKey { pair, jwks }
        }

        pub(crate) fn sign(&self, kid: &str, claims: &serde_json::Value) -> String {
            let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": kid});
            let signing_input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = self
                .pair
                .sign(&SystemRandom::new(), signing_input.as_bytes())
                .expect("sign");
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
        }
    }

    const ISS: &str = "https://auth.example.com";
    const AUD: &str = "http://127.0.0.1:8787/mcp";

    #[test]
    fn verifies_signature_issuer_audience_and_expiry() {
        let key = TestKey::new("k1");
        let jwks = Jwks::parse(&key.jwks).expect("jwks");
        let now = 1_800_000_000;
        let good = serde_json::json!({"iss": ISS, "aud": [AUD], "sub": "alice", "exp": now + 600, "scope": "pet.read pet.write"});
        let claims = verify(&key.sign("k1", &good), &jwks, ISS, AUD, now).expect("valid token");
        assert_eq!(claims.subject, "alice");
        assert_eq!(claims.scopes, vec!["pet.read", "pet.write"]);

        let mut other_aud = good.clone();
        other_aud["aud"] = "https://other.example.com/mcp".into();
        let e =
            verify(&key.sign("k1", &other_aud), &jwks, ISS, AUD, now).expect_err("wrong audience");
        assert!(e.0.contains("audience"), "{e}");

        let mut other_iss = good.clone();
        other_iss["iss"] = "https://evil.example.com".into();
        assert!(verify(&key.sign("k1", &other_iss), &jwks, ISS, AUD, now).is_err());

        let mut expired = good.clone();
        expired["exp"] = (now - 3600).into();
        let e = verify(&key.sign("k1", &expired), &jwks, ISS, AUD, now).expect_err("expired");
        assert!(e.0.contains("expired"));

        let other_key = TestKey::new("k1");
        let e =
            verify(&other_key.sign("k1", &good), &jwks, ISS, AUD, now).expect_err("foreign key");
        assert!(e.0.contains("signature"), "{e}");

        // alg=none with the payload of a good token.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        assert!(verify(&none, &jwks, ISS, AUD, now).is_err());
        assert!(verify("abc", &jwks, ISS, AUD, now).is_err());
    }
}
