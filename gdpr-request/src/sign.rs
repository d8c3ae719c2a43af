//! Signed JSON documents (export manifests, certificates): Ed25519 with the
//! audit log's keys ([`gdpr_audit::Signer`], C2SP `signed-note` key text),
//! over a context line and the document's canonical JSON (object keys
//! sorted, no spaces), so a signature is bound to its kind of document.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gdpr_audit::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Fault;

/// A detached signature and the public key (verifier key text) that made
/// it; the key is checked against the one the verifier is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DocumentSignature {
    /// `<name>+<hash>+<base64 key>`, the audit log's `public.key` format.
    pub key: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub value: String,
}

/// The canonical bytes of `value`: keys sorted at every level, compact.
pub(crate) fn canonical(value: &Value) -> Vec<u8> {
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(&Value::String((*k).clone()), out);
                    out.push(b':');
                    write(&map[k.as_str()], out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            // Scalars have one serde_json form.
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn message(context: &str, body: &Value) -> Vec<u8> {
    let mut m = format!("{context}\n").into_bytes();
    m.extend_from_slice(&canonical(body));
    m
}

/// Signs `body` for `context` (e.g. `"gdpr-request certificate v1"`).
pub(crate) fn sign(context: &str, body: &Value, signer: &Signer) -> DocumentSignature {
    DocumentSignature {
        key: signer.verifier().to_string(),
        value: STANDARD.encode(signer.sign_detached(&message(context, body))),
    }
}

/// Checks `signature` over `body` for `context` under `verifier`.
///
/// # Errors
/// [`Fault::ForeignKey`] when another key signed; [`Fault::BadSignature`].
pub(crate) fn verify(
    context: &str,
    body: &Value,
    signature: &DocumentSignature,
    verifier: &Verifier,
) -> Result<(), Fault> {
    if signature.key.trim() != verifier.to_string() {
        return Err(Fault::ForeignKey);
    }
    let raw = STANDARD
        .decode(&signature.value)
        .map_err(|_| Fault::BadSignature)?;
    if verifier.verify_detached(&message(context, body), &raw) {
        Ok(())
    } else {
        Err(Fault::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": [{"z": 1, "a": "x\"y"}], "a": null});
        assert_eq!(
            String::from_utf8(canonical(&v)).unwrap(),
            r#"{"a":null,"b":[{"a":"x\"y","z":1}]}"#
        );
    }

    #[test]
    fn a_signature_holds_only_for_its_context_body_and_key() {
        let s = Signer::generate("example.org/audit").unwrap();
        let body = serde_json::json!({"n": 1});
        let sig = sign("ctx", &body, &s);
        assert_eq!(verify("ctx", &body, &sig, &s.verifier()), Ok(()));
        assert_eq!(
            verify("other", &body, &sig, &s.verifier()),
            Err(Fault::BadSignature)
        );
        let changed = serde_json::json!({"n": 2});
        assert_eq!(
            verify("ctx", &changed, &sig, &s.verifier()),
            Err(Fault::BadSignature)
        );
        let other = Signer::generate("example.org/audit").unwrap();
        assert_eq!(
            verify("ctx", &body, &sig, &other.verifier()),
            Err(Fault::ForeignKey)
        );
    }
}
