//! `X-Hub-Signature: <method>=<hex HMAC of the raw body>` (WebSub §8),
//! keyed with the subscription's hub.secret. Methods: sha1, sha256,
//! sha384, sha512. The comparison is the `hmac` crate's constant-time
//! `verify_slice`.

use hmac::{Hmac, Mac};

/// What a push's signature says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Signed with our secret.
    Valid,
    /// No `X-Hub-Signature` header.
    Missing,
    /// Present but wrong, malformed or of an unknown method.
    Invalid,
}

fn check<M: Mac + hmac::digest::KeyInit>(secret: &[u8], body: &[u8], sig: &[u8]) -> bool {
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(sig).is_ok()
}

/// Verify a push's `X-Hub-Signature` header against `secret`.
pub fn verify(header: Option<&[u8]>, secret: &str, body: &[u8]) -> Verdict {
    let Some(raw) = header else {
        return Verdict::Missing;
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Verdict::Invalid;
    };
    let Some((method, hex_sig)) = text.trim().split_once('=') else {
        return Verdict::Invalid;
    };
    let Ok(sig) = hex::decode(hex_sig.trim()) else {
        return Verdict::Invalid;
    };
    let key = secret.as_bytes();
    let ok = match method.trim().to_ascii_lowercase().as_str() {
        "sha1" => check::<Hmac<sha1::Sha1>>(key, body, &sig),
        "sha256" => check::<Hmac<sha2::Sha256>>(key, body, &sig),
        "sha384" => check::<Hmac<sha2::Sha384>>(key, body, &sig),
        "sha512" => check::<Hmac<sha2::Sha512>>(key, body, &sig),
        _ => false,
    };
    if ok { Verdict::Valid } else { Verdict::Invalid }
}

/// `sha256=<hex>` of `body` (tests and the bench sign with it).
pub fn sign_sha256(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac_hex<M: Mac + hmac::digest::KeyInit>(key: &str, body: &[u8]) -> String {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key.as_bytes()).unwrap();
        m.update(body);
        hex::encode(m.finalize().into_bytes())
    }

    #[test]
    fn every_method_verifies_and_a_wrong_one_does_not() {
        let body = b"<feed/>";
        let cases = [
            ("sha1", hmac_hex::<Hmac<sha1::Sha1>>("k", body)),
            ("sha256", hmac_hex::<Hmac<sha2::Sha256>>("k", body)),
            ("sha384", hmac_hex::<Hmac<sha2::Sha384>>("k", body)),
            ("sha512", hmac_hex::<Hmac<sha2::Sha512>>("k", body)),
        ];
        for (m, h) in cases {
            let header = format!("{m}={h}");
            assert_eq!(
                verify(Some(header.as_bytes()), "k", body),
                Verdict::Valid,
                "{m}"
            );
            assert_eq!(
                verify(Some(header.as_bytes()), "other", body),
                Verdict::Invalid,
                "{m}"
            );
            assert_eq!(
                verify(Some(header.as_bytes()), "k", b"<feed />"),
                Verdict::Invalid,
                "{m}"
            );
        }
        assert_eq!(verify(None, "k", body), Verdict::Missing);
        for bad in ["", "sha256", "sha256=zz", "md5=00", "sha256="] {
            assert_eq!(
                verify(Some(bad.as_bytes()), "k", body),
                Verdict::Invalid,
                "{bad}"
            );
        }
        assert_eq!(verify(Some(&[0xff, 0xfe]), "k", body), Verdict::Invalid);
        assert_eq!(
            verify(Some(sign_sha256("k", body).as_bytes()), "k", body),
            Verdict::Valid
        );
    }
}
