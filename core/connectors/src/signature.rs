//! Webhook signature verification: the host holds the secret and compares in
//! constant time; a plugin only names the header and the encoding.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::types::{SignatureEncoding, WebhookAuth};

/// True when `signature` (as sent in the header) is the HMAC-SHA256 of
/// `body` under `secret`. An empty secret never verifies.
pub fn verify_signature(auth: &WebhookAuth, secret: &str, signature: &str, body: &[u8]) -> bool {
    if secret.is_empty() {
        return false;
    }
    let sent = match auth.encoding {
        SignatureEncoding::Base64 => {
            base64::engine::general_purpose::STANDARD.decode(signature.trim())
        }
        SignatureEncoding::Hex => {
            hex::decode(signature.trim()).map_err(|_| base64::DecodeError::InvalidLength(0))
        }
    };
    let Ok(sent) = sent else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time: it goes through
    // `subtle::ConstantTimeEq` (hmac's `CtOutput`), never `==` on the bytes,
    // so how long a refusal takes does not tell where the signatures differ.
    mac.verify_slice(&sent).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(header: &str) -> WebhookAuth {
        WebhookAuth {
            header: header.into(),
            encoding: SignatureEncoding::Base64,
        }
    }

    #[test]
    fn shopify_vectors() {
        let auth = b64("X-Shopify-Hmac-Sha256");
        // From ../shared/fixtures/README.md: a JSON string body and an empty body.
        assert!(verify_signature(
            &auth,
            "hush",
            "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI=",
            b"\"my secret message\""
        ));
        let zeros = "00000000000000000000000000000000";
        assert!(verify_signature(
            &auth,
            zeros,
            "vhwRQys0GZozEzsl9+bjquUnCkjSE7r1YPgl9S0CY1E=",
            b""
        ));
        assert!(!verify_signature(
            &auth,
            zeros,
            "vhwRQys0GZozEzsl9+bjquUnCkjSE7r1YPgl9S0CY1F=",
            b""
        ));
        assert!(!verify_signature(
            &auth,
            "",
            "vhwRQys0GZozEzsl9+bjquUnCkjSE7r1YPgl9S0CY1E=",
            b""
        ));
        assert!(!verify_signature(&auth, zeros, "not base64!", b""));
    }

    /// A signature differing from the right one only in its last byte, or
    /// only in its first, is refused (the comparison is the MAC's own
    /// constant-time `verify_slice`, not an early-exit `==`).
    #[test]
    fn one_wrong_byte_anywhere_is_refused() {
        let body = b"{\"id\": 1}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let right = mac.finalize().into_bytes().to_vec();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let auth = WebhookAuth {
            header: "X-Sig".into(),
            encoding: SignatureEncoding::Base64,
        };
        assert!(verify_signature(&auth, "s3cret", &b64(&right), body));
        let mut last = right.clone();
        *last.last_mut().unwrap() ^= 0x01;
        assert!(!verify_signature(&auth, "s3cret", &b64(&last), body));
        let mut first = right.clone();
        first[0] ^= 0x80;
        assert!(!verify_signature(&auth, "s3cret", &b64(&first), body));
        // Same in hex, and a prefix of the right signature is refused too.
        let hex_auth = WebhookAuth {
            header: "X-Sig".into(),
            encoding: SignatureEncoding::Hex,
        };
        assert!(verify_signature(
            &hex_auth,
            "s3cret",
            &hex::encode(&right),
            body
        ));
        assert!(!verify_signature(
            &hex_auth,
            "s3cret",
            &hex::encode(&last),
            body
        ));
        assert!(!verify_signature(
            &hex_auth,
            "s3cret",
            &hex::encode(&first),
            body
        ));
        assert!(!verify_signature(
            &hex_auth,
            "s3cret",
            &hex::encode(&right[..31]),
            body
        ));
    }

    #[test]
    fn hex_encoding() {
        let auth = WebhookAuth {
            header: "X-Sig".into(),
            encoding: SignatureEncoding::Hex,
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(b"k").unwrap();
        mac.update(b"body");
        let sig = hex::encode(mac.finalize().into_bytes());
        assert!(verify_signature(&auth, "k", &sig, b"body"));
        assert!(verify_signature(&auth, "k", &sig.to_uppercase(), b"body"));
        assert!(!verify_signature(&auth, "k", &sig, b"other"));
    }
}
