//! `interlace,<0|1>` (spec §8.3): progressive JPEG output. PNG output is never
//! interlaced (the `png` encoder cannot write Adam7).

use crate::image::error::ImageError;
use crate::image::parse::{Param, int_in, single};

const ACTION: &str = "interlace";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interlace {
    pub on: bool,
}

impl Interlace {
    pub fn parse(params: &[Param<'_>]) -> Result<Interlace, ImageError> {
        let v = single(ACTION, params)?
            .ok_or_else(|| ImageError::missing("The interlace action requires a value."))?;
        Ok(Interlace {
            on: int_in(ACTION, ACTION, v, 0, 1)? == 1,
        })
    }

    pub fn normalized(&self) -> String {
        format!("interlace,{}", self.on as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse::split_action;

    #[test]
    fn parse() {
        assert!(
            Interlace::parse(&split_action("interlace,1").params)
                .unwrap()
                .on
        );
        assert!(Interlace::parse(&split_action("interlace,2").params).is_err());
        assert!(Interlace::parse(&split_action("interlace").params).is_err());
    }
}
