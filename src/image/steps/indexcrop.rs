//! `indexcrop` (spec §4.2): cut into slices along one axis and keep slice `i`.

use crate::image::error::ImageError;
use crate::image::parse::{Keyed, Param};
use crate::image::raster::Picture;

const ACTION: &str = "indexcrop";
const MAX: i64 = i32::MAX as i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Axis {
    /// Slices of width `x` along the horizontal axis.
    X(u32),
    /// Slices of height `y` along the vertical axis.
    Y(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCrop {
    pub axis: Axis,
    pub i: u32,
}

impl IndexCrop {
    pub fn parse(params: &[Param<'_>]) -> Result<IndexCrop, ImageError> {
        let k = Keyed::new(ACTION, params)?;
        let x = k.int("x", 1, MAX)?;
        let y = k.int("y", 1, MAX)?;
        let i = k.int("i", 0, MAX)?.unwrap_or(0) as u32;
        // If both are given, y wins.
        let axis = match (x, y) {
            (_, Some(y)) => Axis::Y(y as u32),
            (Some(x), None) => Axis::X(x as u32),
            (None, None) => {
                return Err(ImageError::missing(
                    "The indexcrop action requires the parameter x or y.",
                ));
            }
        };
        Ok(IndexCrop { axis, i })
    }

    pub fn normalized(&self) -> String {
        match self.axis {
            Axis::X(x) => format!("indexcrop,x_{x},i_{}", self.i),
            Axis::Y(y) => format!("indexcrop,y_{y},i_{}", self.i),
        }
    }

    /// `(x, y, w, h)` of the slice, or `None` when the index is past the last slice
    /// (then the image is returned unchanged).
    pub fn rect(&self, sw: u32, sh: u32) -> Option<(u32, u32, u32, u32)> {
        match self.axis {
            Axis::X(x) => {
                let start = self.i as u64 * x as u64;
                if start >= sw as u64 {
                    return None;
                }
                let s = start as u32;
                Some((s, 0, x.min(sw - s), sh))
            }
            Axis::Y(y) => {
                let start = self.i as u64 * y as u64;
                if start >= sh as u64 {
                    return None;
                }
                let s = start as u32;
                Some((0, s, sw, y.min(sh - s)))
            }
        }
    }

    pub fn apply(&self, pic: &mut Picture) {
        let (sw, sh) = pic.dims();
        if let Some((x, y, w, h)) = self.rect(sw, sh) {
            pic.map(|img| img.crop(x, y, w, h));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    fn ic(s: &str) -> IndexCrop {
        IndexCrop::parse(&split_action(s).params).unwrap()
    }

    #[test]
    fn slices() {
        assert_eq!(
            ic("indexcrop,x_100,i_0").rect(250, 80),
            Some((0, 0, 100, 80))
        );
        assert_eq!(
            ic("indexcrop,x_100,i_2").rect(250, 80),
            Some((200, 0, 50, 80))
        );
        assert_eq!(ic("indexcrop,x_100,i_3").rect(250, 80), None);
        assert_eq!(ic("indexcrop,y_100,i_10").rect(400, 267), None);
        assert_eq!(
            ic("indexcrop,y_100,i_2").rect(400, 267),
            Some((0, 200, 400, 67))
        );
        // y wins over x.
        assert_eq!(
            ic("indexcrop,x_10,y_100,i_1").rect(400, 267),
            Some((0, 100, 400, 100))
        );
        assert!(IndexCrop::parse(&split_action("indexcrop,i_1").params).is_err());
        assert!(IndexCrop::parse(&split_action("indexcrop,x_0").params).is_err());
    }
}
