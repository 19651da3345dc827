//! CRC-64/XZ (`x-oss-hash-crc64ecma`), streamed and combined the way the SDKs
//! combine part CRCs.

use crc_fast::{CrcAlgorithm, Digest};

pub struct Crc64(Digest);

impl Default for Crc64 {
    fn default() -> Self {
        Self(Digest::new(CrcAlgorithm::Crc64Xz))
    }
}

impl Crc64 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(&self) -> u64 {
        self.0.finalize()
    }
}

/// CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)`.
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(data: &[u8]) -> u64 {
        let mut c = Crc64::default();
        c.update(data);
        c.finish()
    }

    #[test]
    fn check_values_from_the_spec() {
        assert_eq!(crc(b"123456789"), 11051210869376104954);
        assert_eq!(crc(b"hello world"), 5981764153023615706);
        assert_eq!(crc(b""), 0);
    }

    #[test]
    fn combine_equals_crc_of_concatenation() {
        assert_eq!(
            combine(crc(b"hello "), crc(b"world"), 5),
            crc(b"hello world")
        );
        assert_eq!(combine(crc(b"abc"), crc(b""), 0), crc(b"abc"));
        assert_eq!(combine(0, crc(b"abc"), 3), crc(b"abc"));
    }
}
