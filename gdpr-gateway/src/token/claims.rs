//! The registered claims: issuer, audience, expiry, not-before, issued-at.

use serde_json::{Map, Value};

use super::TokenError;

/// What the registered claims must satisfy.
pub(crate) struct Expect<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) leeway: i64,
    pub(crate) now: i64,
}

/// Checks `iss`, `aud`, `exp` (required), `nbf` and `iat`.
pub(crate) fn check_claims(claims: &Map<String, Value>, e: &Expect<'_>) -> Result<(), TokenError> {
    if claims.get("iss").and_then(Value::as_str) != Some(e.issuer) {
        return Err(TokenError::Issuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == e.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(e.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    let number = |name: &str| {
        claims
            .get(name)
            .map(|v| v.as_i64().ok_or(TokenError::Malformed))
    };
    let exp = number("exp").ok_or(TokenError::Expired)??;
    if e.now >= exp.saturating_add(e.leeway) {
        return Err(TokenError::Expired);
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = number(name)
            && t? > e.now.saturating_add(e.leeway)
        {
            return Err(TokenError::NotYetValid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    const E: Expect<'static> = Expect {
        issuer: "https://idp",
        audience: "gw",
        leeway: 30,
        now: 1000,
    };

    #[test]
    fn registered_claims() {
        let ok = claims(r#"{"iss":"https://idp","aud":["x","gw"],"exp":1010,"iat":990}"#);
        assert_eq!(check_claims(&ok, &E), Ok(()));
        let cases = [
            (
                r#"{"iss":"https://other","aud":"gw","exp":2000}"#,
                TokenError::Issuer,
            ),
            (
                r#"{"iss":"https://idp","aud":"other","exp":2000}"#,
                TokenError::Audience,
            ),
            (r#"{"iss":"https://idp","exp":2000}"#, TokenError::Audience),
            (r#"{"iss":"https://idp","aud":"gw"}"#, TokenError::Expired),
            (
                r#"{"iss":"https://idp","aud":"gw","exp":970}"#,
                TokenError::Expired,
            ),
            (
                r#"{"iss":"https://idp","aud":"gw","exp":2000,"nbf":1031}"#,
                TokenError::NotYetValid,
            ),
            (
                r#"{"iss":"https://idp","aud":"gw","exp":2000,"iat":1100}"#,
                TokenError::NotYetValid,
            ),
            (
                r#"{"iss":"https://idp","aud":"gw","exp":"2000"}"#,
                TokenError::Malformed,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(check_claims(&claims(json), &E), Err(want), "{json}");
        }
        // Within the leeway.
        let late = claims(r#"{"iss":"https://idp","aud":"gw","exp":971,"nbf":1029}"#);
        assert_eq!(check_claims(&late, &E), Ok(()));
    }
}
