//! XML bodies: a small writer for responses and a bounded tree parser for requests.

use quick_xml::escape::partial_escape;
use quick_xml::events::Event;

use super::error::{ApiResult, OssError};

/// Builds `<?xml ...?><Root>...</Root>` with escaped text.
pub struct XmlWriter {
    out: String,
    root: &'static str,
}

impl XmlWriter {
    pub fn new(root: &'static str) -> Self {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!("<{root}>"));
        Self { out, root }
    }

    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn elem(&mut self, name: &str, text: impl AsRef<str>) {
        self.open(name);
        push_escaped(&mut self.out, text.as_ref());
        self.close(name);
    }

    pub fn finish(mut self) -> String {
        let root = self.root;
        self.close(root);
        self.out
    }
}

/// Escape element text. Control characters other than TAB and LF (object keys may hold
/// them) become decimal character references, as the OSS SDKs write them in request
/// bodies (alibabacloud-oss-v2 `escape_xml_value`): XML 1.0 cannot carry most of them
/// literally and parsers turn a literal CR into LF. TAB and LF stay literal, as in the
/// StringToSign of OSS's SignatureDoesNotMatch body.
fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| (c as u32) < 0x20 && c != '\t' && c != '\n') {
        out.push_str(&partial_escape(&rest[..at]));
        let c = rest[at..].chars().next().expect("found above");
        out.push_str(&format!("&#{};", c as u32));
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(&partial_escape(rest));
}

/// A parsed request element: name, text and children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// A required `true`/`false` child (`<Enabled>` of the one-switch configurations).
    pub fn child_bool(&self, name: &str) -> ApiResult<bool> {
        match self.child_text(name).map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(OssError::malformed_xml(format!(
                "<{name}> must be true or false, not {v:?}"
            ))),
            None => Err(OssError::malformed_xml(format!(
                "<{}> needs <{name}>",
                self.name
            ))),
        }
    }
}

const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 50_000;

/// Parse a request body into a tree; `root` must be the document element.
pub fn parse(body: &[u8], root: &str) -> ApiResult<Element> {
    let text =
        std::str::from_utf8(body).map_err(|_| OssError::malformed_xml("the body is not UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut done: Option<Element> = None;
    let mut count = 0;
    loop {
        let event = reader.read_event().map_err(OssError::malformed_xml)?;
        match event {
            Event::Start(_) | Event::Empty(_) if done.is_some() => {
                return Err(OssError::malformed_xml(
                    "content after the document element",
                ));
            }
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(OssError::malformed_xml(
                        "the document is nested too deeply or has too many elements",
                    ));
                }
                let name = start.name().as_ref().to_owned();
                stack.push(Element {
                    name,
                    ..Default::default()
                });
            }
            Event::Empty(start) => {
                let name = start.name().as_ref().to_owned();
                let element = Element {
                    name,
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => done = Some(element),
                }
            }
            Event::Text(t) => {
                // No end-of-line normalisation: oss2 (ElementTree) sends a CR inside a
                // key literally, and the key must name the object that has it.
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let entity = format!("&{};", r.into_inner());
                    let resolved =
                        quick_xml::escape::unescape(&entity).map_err(OssError::malformed_xml)?;
                    top.text.push_str(&resolved);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(c.as_ref());
                }
            }
            Event::End(_) => {
                let mut element = stack
                    .pop()
                    .ok_or_else(|| OssError::malformed_xml("unbalanced end tag"))?;
                // Text between child elements is layout; leaf text is kept verbatim.
                if !element.children.is_empty() {
                    element.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => done = Some(element),
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(OssError::malformed_xml("DOCTYPE is not allowed")),
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(OssError::malformed_xml(
            "the document ends inside an element",
        ));
    }
    match done {
        Some(element) if element.name == root => Ok(element),
        Some(element) => Err(OssError::malformed_xml(format!(
            "expected <{root}>, found <{}>",
            element.name
        ))),
        None => Err(OssError::malformed_xml("the body is empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes() {
        let mut w = XmlWriter::new("R");
        w.open("A");
        w.elem("K", "a&b<c>\"");
        w.elem("C", "\x01\t\r\n\x0c-é\x7f");
        w.close("A");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R><A><K>a&amp;b&lt;c&gt;\"</K>\
             <C>&#1;\t&#13;\n&#12;-é\x7f</C></A></R>"
        );
    }

    #[test]
    fn parser_reads_trees_and_refuses_garbage() {
        let e = parse(
            b"<?xml version=\"1.0\"?><C><S>IA</S><x/><T>a &amp; b</T></C>",
            "C",
        )
        .unwrap();
        assert_eq!(e.child_text("S"), Some("IA"));
        assert_eq!(e.child_text("T"), Some("a & b"));
        // Character references as the SDKs write control characters in keys.
        assert!(e.child("x").is_some());
        let k = parse(b"<C><K>a&#01;&#09;&#13;&#10;&#12;b</K></C>", "C").unwrap();
        assert_eq!(k.child_text("K"), Some("a\x01\t\r\n\x0cb"));
        let k = parse(b"<C><K>a\r\nb\rc</K></C>", "C").unwrap();
        assert_eq!(k.child_text("K"), Some("a\r\nb\rc"));
        for bad in [
            &b""[..],
            b"<C>",
            b"<C></D>",
            b"<D/>",
            b"\xff",
            b"<C/><C/>",
            b"<!DOCTYPE x><C/>",
        ] {
            assert_eq!(parse(bad, "C").unwrap_err().code, "MalformedXML", "{bad:?}");
        }
        let deep = "<C>".repeat(40) + &"</C>".repeat(40);
        assert!(parse(deep.as_bytes(), "C").is_err());
    }

    #[test]
    fn child_bool_reads_true_or_false_only() {
        let doc = parse(b"<C><Enabled> TRUE </Enabled><Bad>yes</Bad></C>", "C").unwrap();
        assert!(doc.child_bool("Enabled").unwrap());
        assert_eq!(doc.child_bool("Bad").unwrap_err().code, "MalformedXML");
        let missing = doc.child_bool("Other").unwrap_err();
        assert!(
            missing.message.contains("<C> needs <Other>"),
            "{}",
            missing.message
        );
    }
}
