//! `quality,q_<1..100>` (relative) / `quality,Q_<1..100>` (absolute) (spec §8.2).

use crate::image::error::ImageError;
use crate::image::parse::{Keyed, Param};

const ACTION: &str = "quality";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quality {
    /// `q`: output = source quality × q %.
    Relative(u8),
    /// `Q`: output = min(source quality, Q).
    Absolute(u8),
}

impl Quality {
    pub fn parse(params: &[Param<'_>]) -> Result<Quality, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let rel = k.int("q", 1, 100)?;
        let abs = k.int("Q", 1, 100)?;
        match (abs, rel) {
            (Some(q), _) => Ok(Quality::Absolute(q as u8)),
            (None, Some(q)) => Ok(Quality::Relative(q as u8)),
            (None, None) => Err(ImageError::missing(
                "The quality action requires the parameter q or Q.",
            )),
        }
    }

    pub fn normalized(&self) -> String {
        match self {
            Quality::Relative(q) => format!("quality,q_{q}"),
            Quality::Absolute(q) => format!("quality,Q_{q}"),
        }
    }

    /// Effective encoder quality given the source's (estimated) quality.
    /// `relative_applies` is false for outputs where `q` behaves like `Q` (WebP).
    pub fn effective(&self, source_quality: u8, relative_applies: bool) -> u8 {
        match *self {
            Quality::Absolute(q) => q.min(source_quality),
            Quality::Relative(q) if relative_applies => {
                ((source_quality as u32 * q as u32 + 50) / 100).clamp(1, 100) as u8
            }
            Quality::Relative(q) => q.min(source_quality),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn doc_examples() {
        let q90 = Quality::parse(&split_action("quality,q_90").params).unwrap();
        assert_eq!(q90.effective(100, true), 90);
        assert_eq!(q90.effective(80, true), 72);
        let big = Quality::parse(&split_action("quality,Q_90").params).unwrap();
        assert_eq!(big.effective(95, true), 90);
        assert_eq!(big.effective(80, true), 80);
        // Q wins when both are given.
        assert_eq!(
            Quality::parse(&split_action("quality,q_50,Q_70").params).unwrap(),
            Quality::Absolute(70)
        );
        assert!(Quality::parse(&split_action("quality,q_0").params).is_err());
        assert!(Quality::parse(&split_action("quality,88").params).is_err());
        assert!(Quality::parse(&split_action("quality").params).is_err());
    }
}
