//! Policy documents (RAM policies and bucket policies share the syntax) and their
//! evaluation against one request.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    effect: Effect,
    /// `Action` (true) or `NotAction` (false) patterns.
    action: (bool, Vec<String>),
    /// `Resource` (true) or `NotResource` (false) patterns.
    resource: (bool, Vec<String>),
    /// Bucket policies only; `None` in RAM policies.
    principal: Option<Vec<String>>,
    /// `NotPrincipal` (allowed with `Deny` only): the statement applies to everyone
    /// except `principal`.
    not_principal: bool,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    operator: Operator,
    /// `...IfExists`: the condition holds when the request has no such key.
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    IpAddress,
    NotIpAddress,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Bool,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "Bool" => Bool,
            _ => return None,
        })
    }
}

/// Facts about the request that condition keys refer to.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub source_ip: IpAddr,
    pub secure_transport: bool,
    pub current_time: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// `oss:Prefix` / `oss:Delimiter` of a listing.
    pub prefix: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    /// Signed in an `Authorization` header (not anonymous, not a presigned URL):
    /// hotlink protection lets such requests through.
    pub header_signed: bool,
    /// The requester accepts the charges of a pay-by-requester bucket
    /// (`x-oss-request-payer: requester`, S3's `x-amz-request-payer`).
    pub request_payer: bool,
    /// Keys the request itself gives, by their policy names: S3's `s3:x-amz-acl`,
    /// `s3:x-amz-copy-source`, ... (lower case) and `oss:RequestObjectTag/<key>`.
    pub request: &'a [(String, String)],
    /// The tags of the object the request acts on (`oss:ExistingObjectTag/<key>`).
    pub object_tags: &'a [(String, String)],
}

/// Condition keys that name an object tag: `<prefix><tag key>`, the tag key as given.
const EXISTING_TAG: &str = "oss:existingobjecttag/";
const REQUEST_TAG: &str = "oss:requestobjecttag/";

fn tag_key<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &key[prefix.len()..])
}

fn lookup(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

impl Context<'_> {
    fn value(&self, key: &str) -> Option<String> {
        if let Some(tag) = tag_key(key, EXISTING_TAG) {
            return lookup(self.object_tags, tag);
        }
        if let Some(tag) = tag_key(key, REQUEST_TAG) {
            return lookup(self.request, &format!("oss:RequestObjectTag/{tag}"));
        }
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("s3:x-amz-") {
            return lookup(self.request, &lower);
        }
        match lower.as_str() {
            "acs:sourceip" => Some(self.source_ip.to_string()),
            "acs:securetransport" => Some(self.secure_transport.to_string()),
            "acs:currenttime" => Some(self.current_time.to_rfc3339()),
            "acs:useragent" => self.user_agent.map(str::to_owned),
            "acs:referer" => self.referer.map(str::to_owned),
            "oss:prefix" => self.prefix.map(str::to_owned),
            "oss:delimiter" => self.delimiter.map(str::to_owned),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy document: {0}")]
pub struct PolicyError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

/// A string or an array of strings, as policy documents allow for most fields.
fn strings(value: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => err(format!("{field} must hold strings")),
            })
            .collect(),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        _ => err(format!("{field} must be a string or an array of strings")),
    }
}

impl Policy {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| PolicyError(format!("not valid JSON: {e}")))?;
        let Some(doc) = doc.as_object() else {
            return err("the document must be a JSON object");
        };
        // "1" is RAM's grammar; S3's documents say 2012-10-17 (or 2008-10-17).
        match doc.get("Version") {
            Some(Value::String(v)) if v == "1" || v == "2012-10-17" || v == "2008-10-17" => {}
            _ => return err("\"Version\" must be \"1\" (or S3's \"2012-10-17\")"),
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(list)) => list,
            _ => return err("\"Statement\" must be an array"),
        };
        let statements = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                parse_statement(s).map_err(|e| PolicyError(format!("Statement[{i}]: {}", e.0)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { statements })
    }

    /// The decision of this document alone: `Some(Deny)` if a matching statement
    /// denies, `Some(Allow)` if one allows, `None` if none applies. `principal` is
    /// the list of names the requester answers to (checked only for statements
    /// that have a `Principal`, i.e. bucket policies).
    pub fn evaluate(
        &self,
        principal: &[String],
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Option<Effect> {
        self.evaluate_blocking(principal, action, resource, context, false)
    }

    /// [`Policy::evaluate`]; with `block_public`, public statements (see
    /// [`Policy::is_public`]) are ignored, as Block Public Access makes OSS ignore them.
    pub fn evaluate_blocking(
        &self,
        principal: &[String],
        action: &str,
        resource: &str,
        context: &Context,
        block_public: bool,
    ) -> Option<Effect> {
        let mut decision = None;
        for statement in &self.statements {
            if block_public && statement.is_public() {
                continue;
            }
            if statement.applies(principal, action, resource, context) {
                if statement.effect == Effect::Deny {
                    return Some(Effect::Deny);
                }
                decision = Some(Effect::Allow);
            }
        }
        decision
    }
}

fn parse_statement(value: &Value) -> Result<Statement, PolicyError> {
    let Some(s) = value.as_object() else {
        return err("a statement must be a JSON object");
    };
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return err("\"Effect\" must be \"Allow\" or \"Deny\""),
    };
    let either = |positive: &str, negative: &str| -> Result<(bool, Vec<String>), PolicyError> {
        match (s.get(positive), s.get(negative)) {
            (Some(v), None) => Ok((true, strings(v, positive)?)),
            (None, Some(v)) => Ok((false, strings(v, negative)?)),
            _ => err(format!(
                "exactly one of \"{positive}\" and \"{negative}\" is required"
            )),
        }
    };
    let mut action = either("Action", "NotAction")?;
    for pattern in &mut action.1 {
        if let Some(s3) = s3_action(pattern) {
            *pattern = s3;
        } else if !(pattern == "*" || pattern.to_ascii_lowercase().starts_with("oss:")) {
            return err(format!(
                "action {pattern:?} must look like \"oss:GetObject\" or \"s3:GetObject\""
            ));
        }
    }
    let mut resource = either("Resource", "NotResource")?;
    for pattern in &mut resource.1 {
        // S3's `arn:aws:s3:::bucket/key` is `acs:oss:*:*:bucket/key`.
        if let Some(path) = pattern.strip_prefix("arn:aws:s3:::") {
            *pattern = format!("acs:oss:*:*:{path}");
        }
    }
    let not_principal = s.contains_key("NotPrincipal");
    if not_principal && s.contains_key("Principal") {
        return err("a statement takes \"Principal\" or \"NotPrincipal\", not both");
    }
    if not_principal && effect == Effect::Allow {
        return err("\"NotPrincipal\" is supported only with \"Effect\": \"Deny\"");
    }
    let principal = match s.get("Principal").or_else(|| s.get("NotPrincipal")) {
        None => None,
        // S3 writes `{"AWS": [...]}`.
        Some(Value::Object(o)) => match o.get("AWS") {
            Some(v) => Some(
                strings(v, "Principal.AWS")?
                    .iter()
                    .map(|p| s3_principal(p))
                    .collect(),
            ),
            None => return err("\"Principal\" must name \"AWS\" principals or be \"*\""),
        },
        // `[]` behaves like `["*"]`.
        Some(v) => {
            Some(strings(v, "Principal")?).map(|p| if p.is_empty() { vec!["*".into()] } else { p })
        }
    };
    let mut conditions = Vec::new();
    if let Some(block) = s.get("Condition") {
        let Some(block) = block.as_object() else {
            return err("\"Condition\" must be an object");
        };
        for (operator, keys) in block {
            let (name, if_exists) = match operator.strip_suffix("IfExists") {
                Some(name) => (name, true),
                None => (operator.as_str(), false),
            };
            let Some(op) = Operator::parse(name) else {
                return err(format!("unsupported condition operator {operator:?}"));
            };
            let Some(keys) = keys.as_object() else {
                return err(format!("condition {operator:?} must map keys to values"));
            };
            for (key, values) in keys {
                let key = &s3_condition_key(key);
                let values = strings(values, key)?;
                for v in &values {
                    validate_condition_value(op, key, v)?;
                }
                conditions.push(Condition {
                    operator: op,
                    if_exists,
                    key: key.clone(),
                    values,
                });
            }
        }
    }
    Ok(Statement {
        effect,
        action,
        resource,
        principal,
        not_principal,
        conditions,
    })
}

fn validate_condition_value(op: Operator, key: &str, value: &str) -> Result<(), PolicyError> {
    use Operator::*;
    let ok = match op {
        IpAddress | NotIpAddress => parse_net(value).is_some(),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => parse_date(value).is_some(),
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => value.parse::<f64>().is_ok(),
        Bool => value == "true" || value == "false",
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        err(format!(
            "value {value:?} of condition key {key:?} does not fit its operator"
        ))
    }
}

fn parse_net(value: &str) -> Option<ipnet::IpNet> {
    value
        .parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| value.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// An S3 action as the OSS action it covers (`s3:ListBucket` is `oss:ListObjects`);
/// None when `pattern` is not an S3 action.
fn s3_action(pattern: &str) -> Option<String> {
    let name = pattern
        .strip_prefix("s3:")
        .or_else(|| pattern.strip_prefix("S3:"))?;
    let oss = match name {
        "ListBucket" => "ListObjects",
        "ListBucketVersions" => "ListObjectVersions",
        "ListAllMyBuckets" => "ListBuckets",
        "CreateBucket" => "PutBucket",
        "ListBucketMultipartUploads" => "ListMultipartUploads",
        "ListMultipartUploadParts" => "ListParts",
        "GetBucketCORS" => "GetBucketCors",
        "PutBucketCORS" => "PutBucketCors",
        "GetLifecycleConfiguration" => "GetBucketLifecycle",
        "PutLifecycleConfiguration" => "PutBucketLifecycle",
        "DeleteBucketPolicy" | "GetBucketPolicy" | "PutBucketPolicy" => name,
        "GetEncryptionConfiguration" => "GetBucketEncryption",
        "PutEncryptionConfiguration" => "PutBucketEncryption",
        other => other,
    };
    Some(format!("oss:{oss}"))
}

/// `arn:aws:iam::<account>:root` is the account; `arn:aws:iam::<account>:user/<name>`
/// the RAM user, as a RAM policy names them.
fn s3_principal(p: &str) -> String {
    let Some(rest) = p.strip_prefix("arn:aws:iam::") else {
        return p.to_owned();
    };
    match rest.split_once(':') {
        Some((account, "root")) => account.to_owned(),
        Some((account, user)) => match user.strip_prefix("user/") {
            Some(name) => format!("acs:ram::{account}:user/{name}"),
            None => p.to_owned(),
        },
        None => p.to_owned(),
    }
}

/// S3's condition keys as the access engine names them.
fn s3_condition_key(key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "aws:sourceip" => "acs:SourceIp",
        "aws:securetransport" => "acs:SecureTransport",
        "aws:currenttime" => "acs:CurrentTime",
        "aws:useragent" => "acs:UserAgent",
        "aws:referer" => "acs:Referer",
        "s3:prefix" => "oss:Prefix",
        "s3:delimiter" => "oss:Delimiter",
        lower => {
            if let Some(tag) = tag_key(key, "s3:ExistingObjectTag/") {
                return format!("oss:ExistingObjectTag/{tag}");
            }
            if let Some(tag) = tag_key(key, "s3:RequestObjectTag/") {
                return format!("oss:RequestObjectTag/{tag}");
            }
            if lower.starts_with("s3:x-amz-") {
                return lower.to_owned();
            }
            key
        }
    }
    .to_owned()
}

fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Condition keys that tie a statement to known requesters: a statement restricted by
/// one of them to fixed values is not public (OSS's Block Public Access rules).
const RESTRICTING_KEYS: &[&str] = &[
    "acs:sourceip",
    "acs:sourcevpc",
    "acs:sourcevpcid",
    "acs:accessid",
    "aws:sourcevpc",
    "aws:sourcevpce",
];

impl Policy {
    /// Whether a statement grants access to anyone: an `Allow` whose `Principal` holds a
    /// wildcard, or that names no `Principal` (it then applies to every requester: OSS
    /// reports such a policy public), and whose conditions do not restrict it to fixed
    /// sources (GetBucketPolicyStatus's `IsPublic`).
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(Statement::is_public)
    }
}

impl Statement {
    fn is_public(&self) -> bool {
        let wildcard = |v: &String| v.contains('*');
        self.effect == Effect::Allow
            && self
                .principal
                .as_ref()
                .is_none_or(|p| p.iter().any(wildcard))
            && !self.conditions.iter().any(|c| {
                RESTRICTING_KEYS.contains(&c.key.to_ascii_lowercase().as_str())
                    && !c.values.is_empty()
                    && !c.values.iter().any(|v| wildcard(v) || v == "0.0.0.0/0")
            })
    }

    fn applies(
        &self,
        principal: &[String],
        action: &str,
        resource: &str,
        context: &Context,
    ) -> bool {
        if let Some(named) = &self.principal {
            let listed = named
                .iter()
                .any(|p| p == "*" || principal.iter().any(|name| name == p));
            if listed == self.not_principal {
                return false;
            }
        }
        let (positive, patterns) = &self.action;
        // Action names are case-insensitive, as in RAM.
        if patterns
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            != *positive
        {
            return false;
        }
        let (positive, patterns) = &self.resource;
        if patterns.iter().any(|p| glob(p, resource)) != *positive {
            return false;
        }
        self.conditions.iter().all(|c| c.holds(context))
    }
}

impl Condition {
    fn holds(&self, context: &Context) -> bool {
        use Operator::*;
        let actual = context.value(&self.key);
        let negated = matches!(
            self.operator,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NotIpAddress
                | DateNotEquals
                | NumericNotEquals
        );
        let Some(actual) = actual else {
            // A key absent from the request matches only the negated operators, and
            // every `...IfExists` one.
            return negated || self.if_exists;
        };
        let any = |f: &dyn Fn(&str) -> bool| self.values.iter().any(|v| f(v));
        match self.operator {
            StringEquals => any(&|v| v == actual),
            StringNotEquals => !any(&|v| v == actual),
            StringEqualsIgnoreCase => any(&|v| v.eq_ignore_ascii_case(&actual)),
            StringNotEqualsIgnoreCase => !any(&|v| v.eq_ignore_ascii_case(&actual)),
            StringLike => any(&|v| glob(v, &actual)),
            StringNotLike => !any(&|v| glob(v, &actual)),
            IpAddress | NotIpAddress => {
                let Ok(ip) = actual.parse::<IpAddr>() else {
                    return false;
                };
                let inside = any(&|v| parse_net(v).is_some_and(|net| net.contains(&ip)));
                inside == (self.operator == IpAddress)
            }
            Bool => any(&|v| v.eq_ignore_ascii_case(&actual)),
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => {
                let Some(now) = parse_date(&actual) else {
                    return false;
                };
                let cmp = |v: &str| parse_date(v).map(|d| now.cmp(&d));
                compare(self.operator, &self.values, &cmp)
            }
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                let Ok(n) = actual.parse::<f64>() else {
                    return false;
                };
                let cmp = |v: &str| v.parse::<f64>().ok().and_then(|x| n.partial_cmp(&x));
                compare(self.operator, &self.values, &cmp)
            }
        }
    }
}

fn compare(
    op: Operator,
    values: &[String],
    cmp: &dyn Fn(&str) -> Option<std::cmp::Ordering>,
) -> bool {
    use Operator::*;
    use std::cmp::Ordering::*;
    let any =
        |want: &dyn Fn(std::cmp::Ordering) -> bool| values.iter().any(|v| cmp(v).is_some_and(want));
    match op {
        DateEquals | NumericEquals => any(&|o| o == Equal),
        DateNotEquals | NumericNotEquals => !any(&|o| o == Equal),
        DateLessThan | NumericLessThan => any(&|o| o == Less),
        DateLessThanEquals | NumericLessThanEquals => any(&|o| o != Greater),
        DateGreaterThan | NumericGreaterThan => any(&|o| o == Greater),
        DateGreaterThanEquals | NumericGreaterThanEquals => any(&|o| o != Less),
        _ => false,
    }
}

/// Glob match: `*` matches any run of characters, `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            source_ip: "10.1.2.3".parse().unwrap(),
            secure_transport: false,
            current_time: "2026-01-01T00:00:00Z".parse().unwrap(),
            user_agent: Some("curl/8"),
            referer: None,
            prefix: Some("photos/"),
            delimiter: None,
            header_signed: true,
            request_payer: false,
            request: &[],
            object_tags: &[],
        }
    }

    const OBJ: &str = "acs:oss:oss-cn-hangzhou:1000000000000001:photos/a.jpg";

    #[test]
    fn glob_cases() {
        for (p, t, want) in [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("acs:oss:*:*:photos/*", OBJ, true),
            ("acs:oss:*:*:photos", OBJ, false),
            ("*/a.jpg", OBJ, true),
        ] {
            assert_eq!(glob(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn decision_table() {
        let allow_get = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:photos/*"]}]}"#;
        let deny_wins = r#"{"Version":"1","Statement":[
            {"Effect":"Allow","Action":"oss:*","Resource":"*"},
            {"Effect":"Deny","Action":"oss:PutObject","Resource":"acs:oss:*:*:photos/private/*"}]}"#;
        let not_action = r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"oss:Delete*","Resource":"*"}]}"#;
        let ip = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*",
            "Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}}]}"#;
        let not_ip = ip.replace("\"IpAddress\"", "\"NotIpAddress\"");
        let date = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*",
            "Condition":{"DateLessThan":{"acs:CurrentTime":"2025-12-31T00:00:00Z"}}}]}"#;
        let secure = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Resource":"*",
            "Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}"#;
        let prefix = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:ListObjects","Resource":"*",
            "Condition":{"StringLike":{"oss:Prefix":["photos/*"]}}}]}"#;
        let principal = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["1000000000000002"],"Resource":"*"}]}"#;
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], Option<Effect>);
        let cases: &[Case] = &[
            (allow_get, "oss:GetObject", OBJ, &[], Some(Effect::Allow)),
            (allow_get, "oss:getobject", OBJ, &[], Some(Effect::Allow)),
            (allow_get, "oss:PutObject", OBJ, &[], None),
            (
                allow_get,
                "oss:GetObject",
                "acs:oss:*:1:other/a.jpg",
                &[],
                None,
            ),
            (
                deny_wins,
                "oss:PutObject",
                "acs:oss:r:1:photos/private/x",
                &[],
                Some(Effect::Deny),
            ),
            (
                deny_wins,
                "oss:PutObject",
                "acs:oss:r:1:photos/public/x",
                &[],
                Some(Effect::Allow),
            ),
            (not_action, "oss:DeleteObject", OBJ, &[], None),
            (not_action, "oss:GetObject", OBJ, &[], Some(Effect::Allow)),
            (ip, "oss:GetObject", OBJ, &[], Some(Effect::Allow)),
            (&not_ip, "oss:GetObject", OBJ, &[], None),
            (date, "oss:GetObject", OBJ, &[], None),
            (secure, "oss:GetObject", OBJ, &[], Some(Effect::Deny)),
            (
                prefix,
                "oss:ListObjects",
                "acs:oss:r:1:photos",
                &[],
                Some(Effect::Allow),
            ),
            (
                principal,
                "oss:GetObject",
                OBJ,
                &["1000000000000002"],
                Some(Effect::Allow),
            ),
            (principal, "oss:GetObject", OBJ, &["1000000000000003"], None),
        ];
        for (doc, action, resource, who, want) in cases {
            let policy = Policy::parse(doc).unwrap();
            let who: Vec<String> = who.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                policy.evaluate(&who, action, resource, &ctx()),
                *want,
                "{doc} {action} {resource}"
            );
        }
    }

    #[test]
    fn s3_request_and_tag_keys_if_exists_and_not_principal() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
             "Resource":"arn:aws:s3:::photos/*",
             "Condition":{"StringEquals":{"s3:ExistingObjectTag/Security":"public"}}},
            {"Effect":"Allow","Principal":"*","Action":"s3:PutObject",
             "Resource":"arn:aws:s3:::photos/*",
             "Condition":{"StringLikeIfExists":{"s3:x-amz-copy-source":"photos/public/*"},
                          "StringEquals":{"s3:RequestObjectTag/team":"a"}}},
            {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::1000000000000001:root"},
             "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}]}"#;
        let policy = Policy::parse(doc).unwrap();
        let anyone = ["1000000000000002".to_owned()];
        let owner = ["1000000000000001".to_owned()];
        let tags = [("Security".to_owned(), "public".to_owned())];
        let tagged = Context {
            object_tags: &tags,
            ..ctx()
        };
        let get = |c: &Context| policy.evaluate(&anyone, "oss:GetObject", OBJ, c);
        assert_eq!(get(&tagged), Some(Effect::Allow));
        // Tag keys are case-sensitive.
        let lower = [("security".to_owned(), "public".to_owned())];
        let other = Context {
            object_tags: &lower,
            ..ctx()
        };
        assert_eq!(get(&other), None);
        let put = |request: &[(String, String)]| {
            let c = Context { request, ..ctx() };
            policy.evaluate(&anyone, "oss:PutObject", OBJ, &c)
        };
        let tag = ("oss:RequestObjectTag/team".to_owned(), "a".to_owned());
        let copy = |from: &str| ("s3:x-amz-copy-source".to_owned(), from.to_owned());
        assert_eq!(put(std::slice::from_ref(&tag)), Some(Effect::Allow));
        assert_eq!(
            put(&[tag.clone(), copy("photos/public/x")]),
            Some(Effect::Allow)
        );
        assert_eq!(put(&[tag.clone(), copy("photos/private/x")]), None);
        assert_eq!(put(&[copy("photos/public/x")]), None);
        let delete = |who: &[String]| policy.evaluate(who, "oss:DeleteObject", OBJ, &ctx());
        assert_eq!(delete(&anyone), Some(Effect::Deny));
        assert_eq!(delete(&owner), None);
        let allow_not = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"x"},
            "Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos"}]}"#;
        let e = Policy::parse(allow_not).unwrap_err().0;
        assert!(e.contains("NotPrincipal"), "{e}");
    }

    #[test]
    fn s3_grammar_is_the_same_engine() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1000000000000002:root"]},
             "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*",
             "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1000000000000002:root"},
             "Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos",
             "Condition":{"StringLike":{"s3:prefix":["a*"]}}}]}"#;
        let policy = Policy::parse(doc).unwrap();
        let other = ["1000000000000002".to_owned()];
        let listing = Context {
            prefix: Some("ab"),
            ..ctx()
        };
        assert_eq!(
            policy.evaluate(&other, "oss:GetObject", OBJ, &ctx()),
            Some(Effect::Allow)
        );
        assert_eq!(
            policy.evaluate(&other, "oss:ListObjects", "acs:oss:r:1:photos", &listing),
            Some(Effect::Allow)
        );
        assert_eq!(
            policy.evaluate(&other, "oss:ListObjects", "acs:oss:r:1:photos", &ctx()),
            None
        );
        assert_eq!(policy.evaluate(&other, "oss:PutObject", OBJ, &ctx()), None);
        assert_eq!(
            policy.evaluate(&["3".to_owned()], "oss:GetObject", OBJ, &ctx()),
            None
        );
    }

    #[test]
    fn bad_documents_are_named() {
        for (doc, needle) in [
            ("{", "JSON"),
            (r#"{"Version":"2","Statement":[]}"#, "Version"),
            (
                r#"{"Version":"1","Statement":[{"Effect":"Maybe","Action":"oss:*","Resource":"*"}]}"#,
                "Effect",
            ),
            (
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                "Action",
            ),
            (
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}"#,
                "ecs:*",
            ),
            (
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{"Foo":{}}}]}"#,
                "Foo",
            ),
            (
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"nope"}}}]}"#,
                "nope",
            ),
        ] {
            let e = Policy::parse(doc).unwrap_err();
            assert!(e.0.contains(needle), "{doc}: {e}");
        }
    }

    #[test]
    fn is_public_counts_a_statement_without_principal() {
        let public = |doc: &str| Policy::parse(doc).unwrap().is_public();
        // No Principal: the statement applies to everyone (OSS reports it public).
        assert!(public(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:b/*"]}]}"#
        ));
        assert!(public(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["*"],"Resource":"*"}]}"#
        ));
        assert!(!public(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["1000000000000002"],"Resource":"*"}]}"#
        ));
        assert!(!public(
            r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:GetObject","Resource":"*"}]}"#
        ));
        assert!(!public(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}}]}"#
        ));
    }
}
