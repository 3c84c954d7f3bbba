//! Tax IDs at rest: XChaCha20-Poly1305 (random 192-bit nonce, the row's user token as associated
//! data so a ciphertext cannot be moved to another payee) plus an HMAC-SHA-256 keyed hash of the
//! normalised TIN for duplicate detection. Both sub-keys derive from one 32-byte master key, taken
//! from `MASSPAY_TAX_KEY` (64 hex digits) or from a key file created with mode 0600 on first use.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("MASSPAY_TAX_KEY must be 64 hexadecimal digits (a 32-byte key)")]
    BadEnvKey,
    #[error("key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("a stored tax ID could not be decrypted (wrong key, or the row was altered)")]
    Decrypt,
    #[error("could not get random bytes from the operating system")]
    Random,
    #[error(
        "key file {path} not found: this store's tax IDs are encrypted with the key that was in it. \
         Restore the key file from your backup, point MASSPAY_TAX_KEY_FILE at it, or set MASSPAY_TAX_KEY"
    )]
    KeyFileMissing { path: PathBuf },
}

/// Where the master key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// The key itself (e.g. from `MASSPAY_TAX_KEY`), 64 hex digits.
    Hex(String),
    /// A key file: read it, or create it (mode 0600) when it does not exist.
    File(PathBuf),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Hex(_) => f.write_str("KeySource::Hex(<redacted>)"),
            KeySource::File(p) => write!(f, "KeySource::File({})", p.display()),
        }
    }
}

/// Encrypts and hashes tax IDs. `Debug` shows only the key fingerprint.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
    /// HMAC-SHA256 already keyed with the TIN-hash key (its inner and outer pads computed once;
    /// each hash starts from a clone).
    mac: HmacSha256,
    fingerprint: String,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault(fingerprint {})", self.fingerprint)
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    m.update(label);
    m.finalize().into_bytes().into()
}

impl Vault {
    pub fn from_master(master: [u8; 32]) -> Self {
        let enc = derive(&master, b"masspay-tax/v1/tin-encryption");
        let mac_key = derive(&master, b"masspay-tax/v1/tin-hash");
        let fp = derive(&master, b"masspay-tax/v1/fingerprint");
        Vault {
            cipher: XChaCha20Poly1305::new(&Key::from(enc)),
            mac: <HmacSha256 as Mac>::new_from_slice(&mac_key).expect("HMAC takes any key length"),
            fingerprint: hex::encode(&fp[..8]),
        }
    }

    /// Loads the master key from `source` without ever creating a key file (for a store that
    /// exists already): a missing key file is [`VaultError::KeyFileMissing`].
    pub fn load_existing(source: &KeySource) -> Result<Self, VaultError> {
        match source {
            KeySource::File(path) if !path.exists() => {
                Err(VaultError::KeyFileMissing { path: path.clone() })
            }
            _ => Vault::load(source).map(|(v, _)| v),
        }
    }

    /// Loads the master key from `source`, creating the key file on first use.
    pub fn load(source: &KeySource) -> Result<(Self, bool), VaultError> {
        match source {
            KeySource::Hex(h) => Ok((
                Vault::from_master(parse_hex_key(h).ok_or(VaultError::BadEnvKey)?),
                false,
            )),
            KeySource::File(path) => {
                load_or_create_key_file(path).map(|(k, created)| (Vault::from_master(k), created))
            }
        }
    }

    /// A short public fingerprint of the key (safe to store and print).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Encrypts `tin` for the payee `user_token`: `v1:` + hex(nonce ‖ ciphertext).
    pub fn encrypt(&self, user_token: &str, tin: &str) -> Result<String, VaultError> {
        let mut nonce = [0u8; 24];
        fill_nonce(&mut nonce)?;
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: tin.as_bytes(),
                    aad: user_token.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Decrypt)?;
        let mut out = String::with_capacity(3 + 2 * (24 + ct.len()));
        out.push_str("v1:");
        push_hex(&mut out, &nonce);
        push_hex(&mut out, &ct);
        Ok(out)
    }

    /// Decrypts what [`Self::encrypt`] produced for the same `user_token`.
    pub fn decrypt(&self, user_token: &str, stored: &str) -> Result<String, VaultError> {
        let body = stored.strip_prefix("v1:").ok_or(VaultError::Decrypt)?;
        // Decoded into a stack buffer (a TIN's or a date's sealed bytes are some 50) by
        // `const-hex` (table and SIMD): `hex::decode` collects through an iterator of
        // `Result`s into a new `Vec`, and `hex::decode_to_slice` checks a character at a time;
        // either was a tenth of a 1,000,000-payee report's CPU.
        let mut stack = [0u8; DECODE_STACK];
        let mut heap = Vec::new();
        let bytes: &mut [u8] = match body.len() / 2 {
            n if n <= DECODE_STACK => &mut stack[..n],
            n => {
                heap.resize(n, 0);
                &mut heap
            }
        };
        const_hex::decode_to_slice(body, bytes).map_err(|_| VaultError::Decrypt)?;
        if bytes.len() < 24 + 16 {
            return Err(VaultError::Decrypt);
        }
        let (nonce, ct) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
        let pt = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: user_token.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| VaultError::Decrypt)
    }

    /// Encrypts a secret field other than the TIN (e.g. `date_of_birth`), bound to the payee and
    /// the field name so it cannot be moved to another payee or column.
    pub fn encrypt_field(
        &self,
        user_token: &str,
        field: &str,
        value: &str,
    ) -> Result<String, VaultError> {
        self.encrypt(&field_aad(user_token, field), value)
    }

    /// Decrypts what [`Self::encrypt_field`] produced for the same payee and field.
    pub fn decrypt_field(
        &self,
        user_token: &str,
        field: &str,
        stored: &str,
    ) -> Result<String, VaultError> {
        self.decrypt(&field_aad(user_token, field), stored)
    }

    /// Keyed hash of a normalised TIN (digits only), for finding the same TIN on several payees
    /// without storing it in clear. Hex, 64 characters.
    pub fn tin_hash(&self, normalized: &str) -> String {
        let mut m = self.mac.clone();
        m.update(normalized.as_bytes());
        let mut out = String::with_capacity(64);
        push_hex(&mut out, &m.finalize().into_bytes());
        out
    }
}

/// Sealed values up to this many bytes are decoded on the stack ([`Vault::decrypt`]).
const DECODE_STACK: usize = 256;

/// Appends the lower-case hex of `bytes` (`hex::encode_to_slice` through a stack buffer: no
/// per-character iterator or allocation; the vault writes three hex values per payee).
fn push_hex(out: &mut String, bytes: &[u8]) {
    let mut buf = [0u8; 128];
    for chunk in bytes.chunks(64) {
        let hex = &mut buf[..chunk.len() * 2];
        if const_hex::encode_to_slice(chunk, hex).is_ok()
            && let Ok(s) = std::str::from_utf8(hex)
        {
            out.push_str(s);
        }
    }
}

/// Associated data of a secret field: the user token and the field name (the same binding the
/// W-9 table uses for its secret columns).
/// Nonces drawn from the OS CSPRNG at a time (one `getrandom` call per this many encryptions,
/// instead of a system call per value: a 1,000,000-payee sync encrypts two values a payee).
const NONCES_PER_DRAW: usize = 1024;

/// A fresh random 192-bit nonce: the next unused bytes of this thread's buffer of OS randomness,
/// refilled when used up. Each byte is handed out once. (The process never forks without an
/// exec, so no two processes share a buffer.)
fn fill_nonce(nonce: &mut [u8; 24]) -> Result<(), VaultError> {
    use std::cell::RefCell;
    const LEN: usize = 24 * NONCES_PER_DRAW;
    thread_local! {
        static POOL: RefCell<(Vec<u8>, usize)> = const { RefCell::new((Vec::new(), 0)) };
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let (buf, pos) = &mut *pool;
        if buf.len() != LEN || *pos + 24 > LEN {
            buf.resize(LEN, 0);
            getrandom::fill(buf).map_err(|_| VaultError::Random)?;
            *pos = 0;
        }
        nonce.copy_from_slice(&buf[*pos..*pos + 24]);
        *pos += 24;
        Ok(())
    })
}

fn field_aad(user_token: &str, field: &str) -> String {
    format!("{user_token}\u{1f}{field}")
}

fn parse_hex_key(h: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(h.trim()).ok()?;
    bytes.try_into().ok()
}

fn load_or_create_key_file(path: &Path) -> Result<([u8; 32], bool), VaultError> {
    let err = |reason: String| VaultError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_permissions(path);
            parse_hex_key(&text)
                .map(|k| (k, false))
                .ok_or_else(|| err("does not hold 64 hexadecimal digits".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|_| VaultError::Random)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            // Written to a temp file (mode 0600) in the same folder, flushed, then linked into
            // place only if no key file exists: a crash leaves no empty or half-written key, and
            // of two processes creating it at once one wins and the other reads its key.
            let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(d) => d.to_path_buf(),
                None => PathBuf::from("."),
            };
            let mut tmp = tempfile::Builder::new()
                .prefix(".masspay-tax-key-")
                .tempfile_in(&dir)
                .map_err(|e| err(e.to_string()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| err(e.to_string()))?;
            }
            tmp.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                .map_err(|e| err(e.to_string()))?;
            tmp.as_file().sync_all().map_err(|e| err(e.to_string()))?;
            match tmp.persist_noclobber(path) {
                Ok(_) => {
                    #[cfg(unix)]
                    if let Ok(d) = std::fs::File::open(&dir) {
                        let _ = d.sync_all();
                    }
                    tracing::info!(path = %path.display(), "created a new encryption key file (mode 0600): back it up");
                    Ok((key, true))
                }
                // Another process created it first: use theirs.
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_key_file(path)
                }
                Err(e) => Err(err(e.error.to_string())),
            }
        }
        Err(e) => Err(err(e.to_string())),
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "key file is readable by other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn check_permissions(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tin_hash_is_hmac_of_the_derived_key_every_time() {
        let master = [7u8; 32];
        let v = Vault::from_master(master);
        let key = derive(&master, b"masspay-tax/v1/tin-hash");
        for tin in ["123456789", "987654321", "123456789"] {
            let mut m = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            m.update(tin.as_bytes());
            assert_eq!(v.tin_hash(tin), hex::encode(m.finalize().into_bytes()));
        }
    }

    #[test]
    fn push_hex_is_hex_encode() {
        for n in [0usize, 1, 16, 32, 63, 64, 65, 200] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let mut out = String::from("v1:");
            push_hex(&mut out, &bytes);
            assert_eq!(out, format!("v1:{}", hex::encode(&bytes)), "{n} bytes");
        }
    }

    #[test]
    fn nonces_are_never_repeated_across_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(3 * NONCES_PER_DRAW + 7) {
            let mut n = [0u8; 24];
            fill_nonce(&mut n).unwrap();
            assert!(seen.insert(n), "a nonce came out twice");
        }
    }

    #[test]
    fn round_trip_and_binding_to_the_payee() {
        let v = Vault::from_master([7; 32]);
        let ct = v.encrypt("usr_a", "123456789").unwrap();
        assert!(!ct.contains("123456789"));
        assert_eq!(v.decrypt("usr_a", &ct).unwrap(), "123456789");
        assert!(
            v.decrypt("usr_b", &ct).is_err(),
            "ciphertext is bound to its payee"
        );
        assert!(Vault::from_master([8; 32]).decrypt("usr_a", &ct).is_err());
        assert_ne!(v.encrypt("usr_a", "123456789").unwrap(), ct, "random nonce");
        assert_eq!(v.tin_hash("123456789"), v.tin_hash("123456789"));
        assert_ne!(
            v.tin_hash("123456789"),
            Vault::from_master([8; 32]).tin_hash("123456789")
        );
        assert!(!format!("{v:?}").contains("07070707"));
    }

    /// Values sealed by a build on the AVX2 ChaCha20/Poly1305 code (before `.cargo/config.toml`
    /// chose the portable code) open unchanged: the backends compute the same cipher. Sandbox
    /// values from the emulator, under the key `22…22`.
    #[test]
    fn values_sealed_by_the_avx2_backend_still_open() {
        let v = Vault::from_master([0x22; 32]);
        let token = "usr_9fa7117d-880c-4281-a3dc-c8913f770964";
        let tin = "v1:1117c4ee890d98e3c1598e7eb7ba612027934015063d713bd506dde1cd060c10c3a5ee8062e1e6e19b56cfed834c68201e7fc8";
        let dob = "v1:0b56b259dc9a3a48be290fb709667a39f28ab28805a4745369c9f9006af843eda159e9d22dc7e301117ad518dc9c12bcafab";
        assert_eq!(v.decrypt(token, tin).unwrap(), "096-66-4084");
        assert_eq!(
            v.decrypt_field(token, crate::reads::DOB_FIELD, dob)
                .unwrap(),
            "1993-01-03"
        );
        // And what this build seals, it opens (the other way round is the same cipher).
        let again = v.encrypt(token, "096-66-4084").unwrap();
        assert_eq!(again.len(), tin.len());
        assert_eq!(v.decrypt(token, &again).unwrap(), "096-66-4084");
    }

    /// Short values open from the stack buffer, long ones from the heap, and a value that is
    /// not whole hex (odd length, a stray character, cut short) is an error, never a panic.
    #[test]
    fn sealed_values_of_any_length_open_and_broken_ones_are_errors() {
        let v = Vault::from_master([7; 32]);
        for n in [0usize, 1, 9, 200, 216, 217, 1000] {
            let clear: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let sealed = v.encrypt("usr_a", &clear).unwrap();
            assert_eq!(v.decrypt("usr_a", &sealed).unwrap(), clear, "{n} bytes");
        }
        let good = v.encrypt("usr_a", "123456789").unwrap();
        for bad in [
            "",
            "v1:",
            "v2:00",
            &good[..good.len() - 1],
            &good[..good.len() - 2],
            &format!("{}zz", &good[..good.len() - 2]),
            &format!("{good}0"),
            "v1:00",
        ] {
            assert!(v.decrypt("usr_a", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_file_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/masspay-tax.key");
        let (a, created) = Vault::load(&KeySource::File(path.clone())).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (b, created) = Vault::load(&KeySource::File(path)).unwrap();
        assert!(!created);
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn env_key_must_be_64_hex() {
        assert!(Vault::load(&KeySource::Hex("abc".into())).is_err());
        assert!(Vault::load(&KeySource::Hex("11".repeat(32))).is_ok());
    }
}
