//! What `SECRET_KEY` does: it signs the admin session cookie and the login form's CSRF token
//! (HMAC-SHA256). A cookie that was not made by this service (a forged or planted one, say from a
//! sibling subdomain) is refused before any database lookup, and changing `SECRET_KEY` ends every
//! admin session at once.
//!
//! HMAC is written out here (RFC 2104, a dozen lines over `sha2`) rather than pulling a crate in.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Signs values with one key (`SECRET_KEY`; empty in development, where a missing key is
/// allowed — production refuses to start without one).
#[derive(Clone)]
pub struct Signer {
    key: crate::Secret,
}

impl Signer {
    pub fn new(key: crate::Secret) -> Signer {
        Signer { key }
    }

    fn mac(&self, purpose: &str, value: &str) -> String {
        let message = format!("{purpose}\0{value}");
        hex(&hmac(self.key.expose().as_bytes(), message.as_bytes()))
    }

    /// The session cookie's value: `token.signature`.
    pub fn session_cookie(&self, token: &str) -> String {
        format!("{token}.{}", self.mac("session", token))
    }

    /// The session token of a cookie this service signed; None for any other cookie.
    pub fn session_token<'a>(&self, cookie: &'a str) -> Option<&'a str> {
        let (token, sig) = cookie.rsplit_once('.')?;
        constant_time_eq(sig, &self.mac("session", token)).then_some(token)
    }

    /// A login CSRF token: 32 hex digits of `nonce`, then 32 of its signature (64 in all, the
    /// length of every other form token).
    pub fn login_token(&self, nonce: &str) -> String {
        let nonce: String = nonce.chars().take(32).collect();
        let sig = self.mac("login", &nonce);
        format!("{nonce}{}", &sig[..32])
    }

    pub fn login_token_valid(&self, token: &str) -> bool {
        token.len() == 64 && token.is_ascii() && constant_time_eq(token, &self.login_token(&token[..32]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn cookies_are_bound_to_the_key() {
        let a = Signer::new(crate::Secret::new("key one, long enough"));
        let b = Signer::new(crate::Secret::new("key two, long enough"));
        let cookie = a.session_cookie("abc123");
        assert_eq!(a.session_token(&cookie), Some("abc123"));
        assert_eq!(b.session_token(&cookie), None, "another key: refused");
        assert_eq!(a.session_token("abc123"), None, "unsigned: refused");
        assert_eq!(a.session_token("abc124.0000"), None);
        let t = a.login_token(&"f".repeat(64));
        assert_eq!(t.len(), 64);
        assert!(a.login_token_valid(&t));
        assert!(!b.login_token_valid(&t));
        assert!(!a.login_token_valid(&"f".repeat(64)));
    }
}
