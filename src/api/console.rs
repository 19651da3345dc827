//! The web console's files (`console/` in the repository), compiled into the binary.
//! Plain ES modules that the browser loads as they are: no build step.

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! file {
    ($path:literal, $content_type:expr) => {
        (
            $path,
            $content_type,
            include_bytes!(concat!("../../console/", $path)) as &'static [u8],
        )
    };
}

/// Every console file: path (relative to `console/`), content type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    file!("index.html", HTML),
    file!("app.css", CSS),
    file!("js/app.js", JS),
    file!("js/crypto.js", JS),
    file!("js/image.js", JS),
    file!("js/objects.js", JS),
    file!("js/oss.js", JS),
    file!("js/settings.js", JS),
    file!("js/state.js", JS),
    file!("js/styles.js", JS),
    file!("js/ui.js", JS),
    file!("vendor/noble-hashes/LICENSE", TEXT),
    file!("vendor/noble-hashes/_md.js", JS),
    file!("vendor/noble-hashes/_u64.js", JS),
    file!("vendor/noble-hashes/hmac.js", JS),
    file!("vendor/noble-hashes/legacy.js", JS),
    file!("vendor/noble-hashes/sha2.js", JS),
    file!("vendor/noble-hashes/utils.js", JS),
];

/// Content type and bytes of the console file at `path` (relative to `/-/console/`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = if path.is_empty() { "index.html" } else { path };
    FILES
        .iter()
        .find(|(name, _, _)| *name == path)
        .map(|(_, content_type, bytes)| (*content_type, *bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_str().unwrap().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_console_file_is_served() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        assert!(files.len() >= 3, "{files:?}");
        for file in &files {
            let (content_type, bytes) =
                asset(file).unwrap_or_else(|| panic!("console/{file} is not in FILES"));
            assert_eq!(bytes, std::fs::read(root.join(file)).unwrap(), "{file}");
            let want = match file.rsplit_once('.').map(|(_, ext)| ext) {
                Some("html") => HTML,
                Some("css") => CSS,
                Some("js") => JS,
                _ => TEXT,
            };
            assert_eq!(content_type, want, "{file}");
        }
        assert_eq!(files.len(), FILES.len(), "FILES lists a file twice");
    }

    #[test]
    fn index_and_unknown_paths() {
        assert_eq!(asset("").unwrap().0, HTML);
        assert_eq!(asset("").unwrap().1, asset("index.html").unwrap().1);
        for path in [
            "nope.js",
            "js/",
            "js",
            "../Cargo.toml",
            "/index.html",
            "region",
        ] {
            assert!(asset(path).is_none(), "{path}");
        }
    }
}
