//! Additional body checksums (S3's `x-amz-checksum-*`): CRC-32, CRC-32C, CRC-64/NVME,
//! SHA-1 and SHA-256, computed while a body streams in, verified against what the
//! client sent (in a header or a trailer), stored with the object and returned on
//! request. Multipart objects get S3's checksum of the part checksums (`…-N`), or for
//! CRCs the full-object CRC combined from the parts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crc_fast::{CrcAlgorithm, Digest};
use serde::{Deserialize, Serialize};
use sha1::Digest as _;

use super::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The name S3 uses in `x-amz-checksum-algorithm` (`CRC32`, `CRC64NVME`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// By S3's name, in any case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Self::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Self::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            Self::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            Self::Sha1 | Self::Sha256 => None,
        }
    }

    /// Digest length in bytes.
    fn len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    pub fn hasher(self) -> Hasher {
        Hasher(match self.crc() {
            Some(crc) => State::Crc(self, Digest::new(crc)),
            None if self == Self::Sha1 => State::Sha1(sha1::Sha1::new()),
            None => State::Sha256(sha2::Sha256::new()),
        })
    }

    /// Does `value` (base64) have the shape of a digest of this algorithm?
    pub fn is_valid(self, value: &str) -> bool {
        STANDARD
            .decode(value)
            .is_ok_and(|bytes| bytes.len() == self.len())
    }
}

/// How a stored checksum covers the object (S3's `x-amz-checksum-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumType {
    FullObject,
    /// The checksum of the part checksums, with `-N` appended.
    Composite,
}

impl ChecksumType {
    pub fn name(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }
}

/// A checksum kept with an object or a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64 of the digest; `…-N` for a composite one.
    pub value: String,
    pub kind: ChecksumType,
}

enum State {
    Crc(ChecksumAlgorithm, Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

pub struct Hasher(State);

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Crc(_, d) => d.update(data),
            State::Sha1(d) => d.update(data),
            State::Sha256(d) => d.update(data),
        }
    }

    /// The digest, base64 as S3 sends it.
    pub fn finish(self) -> String {
        let bytes = match self.0 {
            State::Crc(a, d) => crc_bytes(a, d.finalize()),
            State::Sha1(d) => d.finalize().to_vec(),
            State::Sha256(d) => d.finalize().to_vec(),
        };
        STANDARD.encode(bytes)
    }
}

fn crc_bytes(algorithm: ChecksumAlgorithm, crc: u64) -> Vec<u8> {
    if algorithm.len() == 4 {
        (crc as u32).to_be_bytes().to_vec()
    } else {
        crc.to_be_bytes().to_vec()
    }
}

fn crc_value(value: &str) -> Option<u64> {
    let bytes = STANDARD.decode(value).ok()?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Where the client's value for a body checksum comes from.
pub enum Claimed {
    /// Compute and store it, nothing to compare (`x-amz-checksum-algorithm` alone,
    /// or a multipart upload's algorithm).
    Nothing,
    /// A header sent before the body.
    Value(String),
    /// A trailer read once the body has ended; `None` when it never came.
    Trailer(Box<dyn FnOnce() -> Option<String> + Send>),
}

/// A checksum to compute over a body, and what the client claims it is.
pub struct ChecksumRequest {
    pub algorithm: ChecksumAlgorithm,
    pub claimed: Claimed,
}

impl ChecksumRequest {
    /// Compare the computed `value` with the claim; the checksum to store.
    pub fn verify(self, value: String) -> CoreResult<Checksum> {
        let claimed = match self.claimed {
            Claimed::Nothing => None,
            Claimed::Value(v) => Some(v),
            Claimed::Trailer(read) => Some(read().ok_or_else(|| {
                CoreError::InvalidRequest(format!(
                    "The x-amz-checksum-{} trailer was announced but not sent.",
                    self.algorithm.name().to_ascii_lowercase()
                ))
            })?),
        };
        if let Some(claimed) = claimed
            && claimed != value
        {
            return Err(CoreError::BadChecksum {
                algorithm: self.algorithm,
            });
        }
        Ok(Checksum {
            algorithm: self.algorithm,
            value,
            kind: ChecksumType::FullObject,
        })
    }
}

/// The checksum of a multipart object from its parts' checksums (in part order,
/// with each part's size): S3's composite checksum, or for a CRC with
/// `FULL_OBJECT`, the CRC of the whole object.
pub fn of_parts(
    algorithm: ChecksumAlgorithm,
    kind: ChecksumType,
    parts: &[(&Checksum, u64)],
) -> CoreResult<Checksum> {
    let value = match (kind, algorithm.crc()) {
        (ChecksumType::FullObject, Some(crc)) => {
            let mut total = None;
            for (part, size) in parts {
                let c = crc_value(&part.value).ok_or_else(|| CoreError::internal("bad CRC"))?;
                total = Some(match total {
                    None => c,
                    Some(t) => crc_fast::checksum_combine(crc, t, c, *size),
                });
            }
            STANDARD.encode(crc_bytes(algorithm, total.unwrap_or(0)))
        }
        (ChecksumType::FullObject, None) => {
            return Err(CoreError::InvalidRequest(format!(
                "The FULL_OBJECT checksum type is not supported for {}.",
                algorithm.name()
            )));
        }
        (ChecksumType::Composite, _) => {
            let mut hasher = algorithm.hasher();
            for (part, _) in parts {
                hasher.update(&STANDARD.decode(&part.value).unwrap_or_default());
            }
            format!("{}-{}", hasher.finish(), parts.len())
        }
    };
    Ok(Checksum {
        algorithm,
        value,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(a: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn check_values() {
        // The standard check input "123456789".
        let b64 = |bytes: &[u8]| STANDARD.encode(bytes);
        let data = b"123456789";
        assert_eq!(
            digest(ChecksumAlgorithm::Crc32, data),
            b64(&0xCBF4_3926u32.to_be_bytes())
        );
        assert_eq!(
            digest(ChecksumAlgorithm::Crc32c, data),
            b64(&0xE306_9283u32.to_be_bytes())
        );
        assert_eq!(
            digest(ChecksumAlgorithm::Crc64Nvme, data),
            b64(&0xAE8B_1486_0A79_9888u64.to_be_bytes())
        );
        // SHA-256 of the empty string.
        assert_eq!(
            digest(ChecksumAlgorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn full_object_crc_combines_parts() {
        let a = ChecksumAlgorithm::Crc32c;
        let part = |data: &[u8]| Checksum {
            algorithm: a,
            value: digest(a, data),
            kind: ChecksumType::FullObject,
        };
        let (p1, p2) = (part(b"hello "), part(b"world"));
        let whole = of_parts(a, ChecksumType::FullObject, &[(&p1, 6), (&p2, 5)]).unwrap();
        assert_eq!(whole.value, digest(a, b"hello world"));
        let composite = of_parts(a, ChecksumType::Composite, &[(&p1, 6), (&p2, 5)]).unwrap();
        assert!(composite.value.ends_with("-2"));
    }

    #[test]
    fn verify_refuses_a_wrong_claim() {
        let a = ChecksumAlgorithm::Sha1;
        let request = ChecksumRequest {
            algorithm: a,
            claimed: Claimed::Value(digest(a, b"x")),
        };
        assert!(matches!(
            request.verify(digest(a, b"y")),
            Err(CoreError::BadChecksum { .. })
        ));
        let missing = ChecksumRequest {
            algorithm: a,
            claimed: Claimed::Trailer(Box::new(|| None)),
        };
        assert!(matches!(
            missing.verify(digest(a, b"y")),
            Err(CoreError::InvalidRequest(_))
        ));
    }
}
