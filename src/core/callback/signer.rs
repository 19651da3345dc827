//! The RSA key that signs callback requests as OSS does: `authorization` is the
//! base64 PKCS#1 v1.5 signature with MD5 of the string to sign, and the public key is
//! served as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) for `x-oss-pub-key-url`.

use std::io;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};

/// Modulus size of a generated key.
const KEY_BITS: usize = 2048;

pub struct Signer {
    key: rsa::PrivateKey,
    public_pem: String,
}

impl std::fmt::Debug for Signer {
    // Never the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl Signer {
    pub fn generate() -> io::Result<Self> {
        let key = rsa::PrivateKey::new(&mut rand::rng(), KEY_BITS).map_err(invalid)?;
        Self::from_key(key)
    }

    fn from_key(key: rsa::PrivateKey) -> io::Result<Self> {
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(invalid)?;
        Ok(Self { key, public_pem })
    }

    /// A PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> io::Result<Self> {
        Self::from_key(rsa::PrivateKey::from_pkcs8_pem(pem).map_err(invalid)?)
    }

    fn to_pem(&self) -> io::Result<String> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(invalid)?
            .to_string())
    }

    /// The key kept in `path`, generated and written there (mode 0600) when the file
    /// does not exist. Several processes starting on one directory agree on one key:
    /// the file appears whole (written aside, then linked into place) and the first
    /// one wins. Returns whether this call generated it.
    pub fn load_or_create(path: &Path) -> io::Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(pem) => return Ok((Self::from_pem(&pem)?, false)),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let signer = Self::generate()?;
        let aside = path.with_extension(format!("tmp-{}", std::process::id()));
        write_private(&aside, signer.to_pem()?.as_bytes())?;
        let linked = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        match linked {
            Ok(()) => Ok((signer, true)),
            // Another process created it meanwhile: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Ok((Self::from_pem(&std::fs::read_to_string(path)?)?, false))
            }
            Err(e) => Err(e),
        }
    }

    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Base64 RSA signature (PKCS#1 v1.5, MD5) of `data`.
    pub fn sign(&self, data: &[u8]) -> String {
        let signature = self
            .key
            .pkcs1v15_sign::<md5::Md5>(data)
            .expect("a 2048-bit key signs an MD5 digest");
        STANDARD.encode(signature)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey;

    #[test]
    fn signs_and_keeps_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("callback-private-key.pem");
        let (first, created) = Signer::load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = Signer::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.public_pem(), again.public_pem());
        assert!(
            first
                .public_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let data = b"/index.php?id=1&index=2\nbucket=yonghu-test";
        let signature = STANDARD.decode(again.sign(data)).unwrap();
        let public = rsa::PublicKey::from_public_key_pem(first.public_pem()).unwrap();
        public
            .pkcs1v15_verify::<md5::Md5>(data, &signature)
            .unwrap();
        assert!(
            public
                .pkcs1v15_verify::<md5::Md5>(b"other", &signature)
                .is_err()
        );
        std::fs::write(&path, "not a key").unwrap();
        assert!(Signer::load_or_create(&path).is_err());
    }
}
