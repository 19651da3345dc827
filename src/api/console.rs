//! The web console's files (`console/` in the repository), compiled into the binary.

/// Content type and bytes of the console file at `path` (relative to `/-/console/`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match path {
        "" | "index.html" => (
            "text/html; charset=utf-8",
            include_bytes!("../../console/index.html"),
        ),
        _ => return None,
    })
}
