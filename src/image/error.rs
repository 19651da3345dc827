//! The engine's error type: an OSS error `Code`, HTTP status, message and IMG `EC`.

use std::fmt;

/// An image-processing error, ready to be rendered as the OSS XML error envelope
/// (`<Code>`, `<Message>`, `<EC>`) with `status` as the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    /// OSS error code, e.g. `InvalidArgument`, `BadRequest`, `ImageTooLarge`.
    pub code: &'static str,
    /// HTTP status to answer with.
    pub status: u16,
    /// Human-readable message (OSS template where one is known).
    pub message: String,
    /// IMG error code for the `x-oss-ec` header, e.g. `0040-00000213`.
    pub ec: Option<&'static str>,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(ec) = self.ec {
            write!(f, " (EC {ec})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImageError {}

/// EC values of spec §13.4.
pub mod ec {
    pub const UNSUPPORTED_FORMAT: &str = "0040-00000005";
    pub const RESIZE_TOO_LARGE: &str = "0040-00000007";
    pub const SOURCE_TOO_LARGE_RESIZE: &str = "0040-00000009";
    pub const SOURCE_TOO_LARGE: &str = "0040-00000012";
    pub const WATERMARK_MISSING: &str = "0040-00000025";
    pub const WATERMARK_FORMAT: &str = "0040-00000027";
    pub const TOO_MANY_VALUES: &str = "0040-00000203";
    pub const FORMAT_INVALID: &str = "0040-00000206";
    pub const FORMAT_MISSING: &str = "0040-00000207";
    pub const CROP_GRAVITY: &str = "0040-00000209";
    pub const NO_ACTION: &str = "0040-00000212";
    pub const UNKNOWN_ACTION: &str = "0040-00000213";
    pub const WM_TEXT_BASE64: &str = "0040-00000257";
    pub const WM_TEXT_EMPTY: &str = "0040-00000258";
    pub const WM_TEXT_TOO_LONG: &str = "0040-00000259";
    pub const WM_GRAVITY: &str = "0040-00000260";
    pub const WM_X: &str = "0040-00000262";
    pub const WM_IMAGE_BASE64: &str = "0040-00000265";
    pub const WM_ORDER: &str = "0040-00000269";
    pub const WM_FILL: &str = "0040-00000274";
    pub const WM_NOTHING: &str = "0040-00000278";
    pub const RESIZE_MODE: &str = "0040-00000311";
    pub const RESIZE_EMPTY: &str = "0040-00000322";
}

impl ImageError {
    pub(crate) fn new(
        code: &'static str,
        status: u16,
        message: impl Into<String>,
        ec: Option<&'static str>,
    ) -> Self {
        ImageError {
            code,
            status,
            message: message.into(),
            ec,
        }
    }

    /// `400 InvalidArgument` with the OSS template
    /// `The value: <v> of parameter: <p> is invalid.reason:<why>`.
    pub(crate) fn invalid(param: &str, value: &str, why: impl fmt::Display) -> Self {
        Self::new(
            "InvalidArgument",
            400,
            format!("The value: {value} of parameter: {param} is invalid.reason:{why}"),
            None,
        )
    }

    /// `400 InvalidArgument` with a free-form message.
    pub(crate) fn invalid_msg(message: impl Into<String>) -> Self {
        Self::new("InvalidArgument", 400, message, None)
    }

    /// `400 MissingArgument`.
    pub(crate) fn missing(message: impl Into<String>) -> Self {
        Self::new("MissingArgument", 400, message, None)
    }

    /// `400 BadRequest`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new("BadRequest", 400, message, None)
    }

    /// `400 ImageTooLarge`.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new("ImageTooLarge", 400, message, None)
    }

    /// `400 WatermarkError`.
    pub(crate) fn watermark(message: impl Into<String>) -> Self {
        Self::new("WatermarkError", 400, message, None)
    }

    /// `501 NotImplemented`.
    pub(crate) fn not_implemented(message: impl Into<String>) -> Self {
        Self::new("NotImplemented", 501, message, None)
    }

    /// `500 InternalError`.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalError", 500, message, None)
    }

    /// Attach an EC.
    pub(crate) fn with_ec(mut self, ec: &'static str) -> Self {
        self.ec = Some(ec);
        self
    }
}
