//! One behavioural contract for every [`MetaStore`], run against redb and PostgreSQL.
//!
//! Each check gets two handles on one fresh, empty store ([`Nodes`]): the same store
//! twice for redb (one process), two `PgMeta` instances on one database for PostgreSQL
//! (two nodes). Listings are compared with a naive model of the contract over many
//! parameter combinations. The PostgreSQL tests need `OSSIFY_TEST_POSTGRES_URL` (a
//! superuser URL; each test creates and drops its own database); without it they are
//! skipped, unless `OSSIFY_REQUIRE_SCALEOUT=1`.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use super::{
    AccountConfig, BlobId, BucketRecord, BucketStat, CacheChange, CacheEntry, Created, InlineBytes,
    ListQuery, MetaStore, NULL_VERSION, ObjectRecord, PartRecord, Segment, StorageError,
    UploadQuery, UploadRecord, VersionQuery, VersionSeek, new_version_id,
};
use crate::access::{Acl, ObjectAcl, PublicAccessBlock};
use crate::core::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};

/// Two handles on one store; `shared_leases`: leases are exclusive between holders
/// (false for a single-process store, where every caller is the only node).
pub(crate) struct Nodes {
    pub a: Arc<dyn MetaStore>,
    pub b: Arc<dyn MetaStore>,
    pub shared_leases: bool,
}

impl Nodes {
    /// Node `i % 2`.
    fn node(&self, i: usize) -> &dyn MetaStore {
        if i.is_multiple_of(2) {
            &*self.a
        } else {
            &*self.b
        }
    }
}

type Check = fn(&Nodes);

/// Every check that runs on one thread.
const CHECKS: &[(&str, Check)] = &[
    ("buckets", buckets),
    ("bucket_deletion", bucket_deletion),
    ("objects", objects),
    ("record_fidelity", record_fidelity),
    ("listing_order", listing_order),
    ("listing_model", listing_model),
    ("listing_pages", listing_pages),
    ("multipart", multipart),
    ("upload_listing_model", upload_listing_model),
    ("stats_and_blobs", stats_and_blobs),
    ("leases", leases),
    ("probe", probe),
    ("result_cache", result_cache),
    ("versions", versions),
    ("account_settings", account_settings),
    ("version_listing", version_listing),
];

pub(crate) fn bucket(name: &str, owner: &str) -> BucketRecord {
    BucketRecord {
        name: name.into(),
        owner: owner.into(),
        region: "oss-cn-hangzhou".into(),
        acl: Acl::Private,
        created: 0,
        storage_class: "Standard".into(),
        redundancy: "LRS".into(),
        config: Default::default(),
        account: Default::default(),
    }
}

pub(crate) fn object(tag: &str) -> ObjectRecord {
    ObjectRecord {
        sse: None,
        segments: vec![Segment {
            key: None,
            inline: None,
            blob: BlobId(format!("blob-{tag}")),
            size: 1,
        }],
        size: 1,
        etag: tag.into(),
        crc64: 0,
        content_md5: None,
        last_modified: 0,
        object_type: "Normal".into(),
        storage_class: "Standard".into(),
        acl: ObjectAcl::Default,
        grants: None,
        owner: None,
        headers: Default::default(),
        user_meta: vec![],
        tags: vec![],
        symlink_target: None,
        checksum: None,
        part_checksums: vec![],
        version_id: None,
        delete_marker: false,
        restore: None,
    }
}

fn part(tag: &str, size: u64) -> PartRecord {
    PartRecord {
        key: None,
        blob: BlobId(format!("part-{tag}")),
        size,
        etag: format!("E{tag}"),
        crc64: 0,
        last_modified: 0,
        checksum: None,
    }
}

pub(crate) fn upload(key: &str, id: &str) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        key: key.into(),
        initiated: 0,
        template: object("template"),
        checksum: None,
        initiator: None,
    }
}

fn names(buckets: &[BucketRecord]) -> Vec<&str> {
    buckets.iter().map(|b| b.name.as_str()).collect()
}

fn buckets(n: &Nodes) {
    let s = &*n.a;
    let first = bucket("b1", "1");
    assert_eq!(s.create_bucket(&first), Ok(Created::New));
    let mut other = bucket("b1", "2");
    other.region = "oss-cn-beijing".into();
    assert_eq!(
        n.b.create_bucket(&other),
        Ok(Created::Existing(Box::new(first.clone()))),
        "a taken name returns the existing record and changes nothing"
    );
    assert_eq!(s.get_bucket("b1"), Ok(Some(first.clone())));
    assert_eq!(s.get_bucket("none"), Ok(None));
    assert_eq!(s.get_bucket("b1\0"), Ok(None));

    let mut changed = first.clone();
    changed.acl = Acl::PublicRead;
    changed.config.policy = Some("{\"Version\":\"1\"}".into());
    s.update_bucket(&changed).unwrap();
    assert_eq!(n.b.get_bucket("b1"), Ok(Some(changed.clone())));
    assert_eq!(
        s.update_bucket(&bucket("none", "1")),
        Err(StorageError::NoSuchBucket)
    );
    // An update may change the owner; listings follow it.
    let mut moved = changed.clone();
    moved.owner = "3".into();
    s.update_bucket(&moved).unwrap();
    assert_eq!(names(&s.list_buckets("3", "", "", 10).unwrap().0), ["b1"]);
    s.update_bucket(&changed).unwrap();

    for name in ["c", "ba", "aa", "ab"] {
        assert_eq!(s.create_bucket(&bucket(name, "1")), Ok(Created::New));
    }
    for name in ["ac", "bb"] {
        assert_eq!(n.b.create_bucket(&bucket(name, "2")), Ok(Created::New));
    }
    let list = |owner: &str, prefix: &str, marker: &str, max: usize| {
        let (found, truncated) = n.b.list_buckets(owner, prefix, marker, max).unwrap();
        (
            names(&found)
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>(),
            truncated,
        )
    };
    let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        list("1", "", "", 10),
        (v(&["aa", "ab", "b1", "ba", "c"]), false)
    );
    assert_eq!(list("1", "a", "", 10), (v(&["aa", "ab"]), false));
    assert_eq!(list("1", "", "ab", 2), (v(&["b1", "ba"]), true));
    assert_eq!(list("1", "", "ba", 2), (v(&["c"]), false));
    assert_eq!(
        list("1", "", "", 5),
        (v(&["aa", "ab", "b1", "ba", "c"]), false)
    );
    assert_eq!(list("1", "", "", 4), (v(&["aa", "ab", "b1", "ba"]), true));
    assert_eq!(list("1", "b", "aa", 10), (v(&["b1", "ba"]), false));
    assert_eq!(list("1", "b", "b1", 10), (v(&["ba"]), false));
    assert_eq!(list("1", "", "zz", 10), (v(&[]), false));
    assert_eq!(list("1", "x", "", 10), (v(&[]), false));
    assert_eq!(list("2", "", "", 10), (v(&["ac", "bb"]), false));
    assert_eq!(list("9", "", "", 10), (v(&[]), false));
    // Markers and prefixes with NUL name no bucket but still order.
    assert_eq!(list("1", "", "ab\0", 10), (v(&["b1", "ba", "c"]), false));
    assert_eq!(list("1", "a\0", "", 10), (v(&[]), false));
    // Paging one at a time returns each bucket once.
    let mut marker = String::new();
    let mut paged = Vec::new();
    loop {
        let (found, truncated) = list("1", "", &marker, 1);
        paged.extend(found.iter().cloned());
        if !truncated {
            break;
        }
        marker = found.last().unwrap().clone();
    }
    assert_eq!(paged, v(&["aa", "ab", "b1", "ba", "c"]));

    let all = s.all_buckets().unwrap();
    let mut all_names = names(&all);
    all_names.sort();
    assert_eq!(all_names, ["aa", "ab", "ac", "b1", "ba", "bb", "c"]);
    assert_eq!(all.iter().find(|b| b.name == "b1"), Some(&changed));
}

fn bucket_deletion(n: &Nodes) {
    let s = &*n.a;
    s.create_bucket(&bucket("full", "1")).unwrap();
    s.create_bucket(&bucket("open", "1")).unwrap();
    s.put_object("full", "k", &object("k"), false).unwrap();
    assert_eq!(n.b.delete_bucket("full"), Err(StorageError::BucketNotEmpty));
    s.delete_object("full", "k").unwrap();
    n.b.delete_bucket("full").unwrap();
    assert_eq!(s.get_bucket("full"), Ok(None));

    s.create_upload("open", &upload("k", "u1")).unwrap();
    assert_eq!(
        n.b.delete_bucket("open"),
        Err(StorageError::BucketNotEmpty),
        "an open multipart upload keeps the bucket"
    );
    s.abort_upload("open", "k", "u1").unwrap();
    n.b.delete_bucket("open").unwrap();

    assert_eq!(s.delete_bucket("open"), Err(StorageError::NoSuchBucket));
    assert_eq!(s.delete_bucket("never"), Err(StorageError::NoSuchBucket));
    assert_eq!(s.delete_bucket("nu\0l"), Err(StorageError::NoSuchBucket));
    assert_eq!(
        s.put_object("full", "k", &object("k"), false),
        Err(StorageError::NoSuchBucket)
    );
    assert_eq!(
        s.create_upload("full", &upload("k", "u2")),
        Err(StorageError::NoSuchBucket)
    );
    assert_eq!(s.create_bucket(&bucket("full", "2")), Ok(Created::New));
    assert_eq!(s.get_object("full", "k"), Ok(None), "a new bucket is empty");
}

fn objects(n: &Nodes) {
    let s = &*n.a;
    s.create_bucket(&bucket("b", "1")).unwrap();
    s.create_bucket(&bucket("bb", "1")).unwrap();
    assert_eq!(s.get_object("b", "k"), Ok(None));
    assert_eq!(s.get_object("b", "k\0"), Ok(None));
    assert_eq!(s.get_object("nope", "k"), Ok(None));

    assert_eq!(s.put_object("b", "k", &object("1"), false), Ok(vec![]));
    assert_eq!(n.b.get_object("b", "k"), Ok(Some(object("1"))));
    assert_eq!(n.b.get_object("bb", "k"), Ok(None), "buckets are separate");
    assert_eq!(
        n.b.put_object("b", "k", &object("2"), true),
        Err(StorageError::FileAlreadyExists)
    );
    assert_eq!(s.get_object("b", "k"), Ok(Some(object("1"))));
    assert_eq!(
        n.b.put_object("b", "k", &object("2"), false),
        Ok(vec![object("1")])
    );
    assert_eq!(s.get_object("b", "k"), Ok(Some(object("2"))));
    assert_eq!(
        s.put_object("nope", "k", &object("2"), false),
        Err(StorageError::NoSuchBucket)
    );
    assert_eq!(s.put_object("b", "new", &object("n"), true), Ok(vec![]));

    let mut calls = 0;
    let replaced = s.put_object_with("b", "k", &mut |current| {
        calls += 1;
        assert_eq!(
            current,
            Some(&object("2")),
            "the builder sees the current record"
        );
        let mut next = current.unwrap().clone();
        next.etag = "3".into();
        Ok(next)
    });
    assert_eq!((replaced, calls), (Ok(vec![object("2")]), 1));
    assert_eq!(s.get_object("b", "k").unwrap().unwrap().etag, "3");
    let refused = n.b.put_object_with("b", "k", &mut |_| {
        Err(StorageError::Refused("position".into()))
    });
    assert_eq!(refused, Err(StorageError::Refused("position".into())));
    assert_eq!(
        s.get_object("b", "k").unwrap().unwrap().etag,
        "3",
        "a refusal changes nothing"
    );
    let fresh = s.put_object_with("b", "other", &mut |current| {
        assert_eq!(current, None);
        Ok(object("o"))
    });
    assert_eq!(fresh, Ok(vec![]));

    let mut seen = Vec::new();
    assert_eq!(
        n.b.delete_object_if("b", "k", &mut |r| {
            seen.push(r.etag.clone());
            false
        }),
        Ok(None)
    );
    assert_eq!(seen, ["3"], "the condition sees the current record");
    assert!(s.get_object("b", "k").unwrap().is_some());
    let removed =
        n.b.delete_object_if("b", "k", &mut |r| r.etag == "3")
            .unwrap();
    assert_eq!(removed.map(|r| r.etag), Some("3".into()));
    assert_eq!(s.get_object("b", "k"), Ok(None));
    assert_eq!(s.delete_object("b", "k"), Ok(None));
    assert_eq!(s.delete_object("nope", "k"), Ok(None));
    assert_eq!(s.delete_object("b", "k\0"), Ok(None));
    assert_eq!(s.delete_object("b", "new").unwrap().unwrap().etag, "n");
}

/// Every field survives storage, including values no SQL text may hold.
fn record_fidelity(n: &Nodes) {
    let s = &*n.a;
    s.create_bucket(&bucket("b", "1")).unwrap();
    let mut r = object("full");
    r.segments = (0..5)
        .map(|i| Segment {
            key: None,
            inline: None,
            blob: BlobId(format!("seg{i}")),
            size: 1 << (30 + i),
        })
        .collect();
    r.size = r.segments.iter().map(|s| s.size).sum::<u64>() + (5 << 40);
    r.crc64 = u64::MAX;
    r.content_md5 = Some("1B2M2Y8AsgTpgAmY7PhCfg==".into());
    r.last_modified = -1;
    r.object_type = "Appendable".into();
    r.acl = ObjectAcl::Set(Acl::PublicReadWrite);
    r.headers.content_type = Some("text/plain; charset=utf-8".into());
    r.headers.content_disposition = Some("attachment; filename=\"é.txt\"".into());
    r.user_meta = vec![("m".into(), "nul\0inside \u{1F600} \\u0000".into())];
    r.tags = vec![("t\0".into(), "".into()), ("k".into(), "v".into())];
    r.symlink_target = Some("target/\x01key".into());
    r.checksum = Some(Checksum {
        algorithm: ChecksumAlgorithm::Crc64Nvme,
        value: "AAAAAAAAAAA=".into(),
        kind: ChecksumType::FullObject,
    });
    let key = "\x01\t\r\n\x1f\x7f ?{测}[试]%2F";
    s.put_object("b", key, &r, false).unwrap();
    assert_eq!(n.b.get_object("b", key), Ok(Some(r.clone())));

    // Bytes kept in the record come back as written, every byte value.
    let mut small = object("inline");
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, b'"', b'\\']).collect();
    small.size = bytes.len() as u64;
    small.segments = vec![Segment {
        blob: BlobId::default(),
        size: small.size,
        key: None,
        inline: Some(InlineBytes(bytes.into())),
    }];
    s.put_object("b", "inline", &small, false).unwrap();
    assert_eq!(n.b.get_object("b", "inline"), Ok(Some(small.clone())));
    let listed = n.b.list_objects("b", &query("inl", "", "", 10)).unwrap();
    assert_eq!(listed.objects, vec![("inline".to_string(), small)]);

    let mut u = upload(key, "u\x01id");
    u.template = r.clone();
    u.checksum = Some((ChecksumAlgorithm::Sha256, ChecksumType::Composite));
    s.create_upload("b", &u).unwrap();
    assert_eq!(n.b.get_upload("b", key, "u\x01id"), Ok(Some(u.clone())));
    let mut p = part("p", u64::MAX >> 2);
    p.checksum = Some(Checksum {
        algorithm: ChecksumAlgorithm::Sha1,
        value: "x-3".into(),
        kind: ChecksumType::Composite,
    });
    s.put_part("b", key, "u\x01id", u32::MAX, &p).unwrap();
    assert_eq!(
        n.b.list_parts("u\x01id", 0, 10),
        Ok((vec![(u32::MAX, p.clone())], false))
    );

    let mut b = bucket("cfg", "1");
    b.config.styles = vec![crate::storage::Style {
        name: "s".into(),
        content: "image/resize,w_100\0".into(),
        category: "image".into(),
        created: 1,
        modified: 2,
    }];
    s.create_bucket(&b).unwrap();
    assert_eq!(n.b.get_bucket("cfg"), Ok(Some(b)));
}

/// Account settings default to off, and every bucket of the account carries them.
fn account_settings(n: &Nodes) {
    let (s, t) = (&*n.a, &*n.b);
    s.create_bucket(&bucket("b", "1")).unwrap();
    s.create_bucket(&bucket("c", "2")).unwrap();
    assert_eq!(s.get_account_config("1"), Ok(AccountConfig::default()));
    let on = AccountConfig {
        block_public_access: Some(PublicAccessBlock::ALL),
    };
    t.put_account_config("1", &on).unwrap();
    assert_eq!(s.get_account_config("1"), Ok(on.clone()));
    let b = s.get_bucket("b").unwrap().unwrap();
    assert!(b.public_access_block().is_all());
    assert!(
        !t.get_bucket("c")
            .unwrap()
            .unwrap()
            .public_access_block()
            .is_all()
    );
    // Stored bucket records do not keep the account's settings.
    s.update_bucket(&b).unwrap();
    t.put_account_config("1", &AccountConfig::default())
        .unwrap();
    assert!(
        !s.get_bucket("b")
            .unwrap()
            .unwrap()
            .public_access_block()
            .is_all()
    );
}

/// A record of version `id` (`null` or a new id), written now.
fn version(tag: &str, id: &str) -> ObjectRecord {
    ObjectRecord {
        version_id: Some(id.into()),
        last_modified: crate::core::now_ms(),
        ..object(tag)
    }
}

fn marker(id: &str) -> ObjectRecord {
    ObjectRecord {
        delete_marker: true,
        segments: vec![],
        ..version("marker", id)
    }
}

/// (key, version id, is latest, delete marker) of a version listing entry.
type VersionSeen = (String, String, bool, bool);

fn run_versions(s: &dyn MetaStore, q: &VersionQuery) -> Vec<VersionSeen> {
    s.list_object_versions("b", q)
        .unwrap()
        .versions
        .into_iter()
        .map(|v| {
            let id = v.record.version_label().to_owned();
            (v.key, id, v.is_latest, v.record.delete_marker)
        })
        .collect()
}

fn version_query(prefix: &str, delimiter: &str, key: &str, id: &str, max: usize) -> VersionQuery {
    VersionQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        key_marker: key.into(),
        version_id_marker: id.into(),
        max_keys: max,
    }
}

/// New versions keep the current one as noncurrent; delete markers hide a key;
/// removing versions promotes the newest remaining one; `null` versions replace
/// each other; in-place changes keep the version.
fn versions(n: &Nodes) {
    let (s, t) = (&*n.a, &*n.b);
    s.create_bucket(&bucket("b", "1")).unwrap();
    // Written before versioning: the null version.
    assert_eq!(s.put_object("b", "k", &object("plain"), false), Ok(vec![]));
    let (id1, id2, id3) = (new_version_id(), new_version_id(), new_version_id());
    assert!(id1 < id2 && id2 < id3, "ids grow with time");
    assert_eq!(
        t.put_object("b", "k", &version("v1", &id1), false),
        Ok(vec![])
    );
    assert_eq!(
        s.put_object("b", "k", &version("v2", &id2), false),
        Ok(vec![])
    );
    assert_eq!(t.get_object("b", "k").unwrap().unwrap().etag, "v2");
    let get = |id: &str| t.get_object_version("b", "k", id).unwrap().map(|r| r.etag);
    assert_eq!(get(NULL_VERSION).as_deref(), Some("plain"));
    assert_eq!(get(&id1).as_deref(), Some("v1"));
    assert_eq!(get(&id2).as_deref(), Some("v2"));
    assert_eq!(get(&new_version_id()), None);
    // An in-place change (same version) replaces the record.
    let replaced = s
        .put_object_with("b", "k", &mut |current| {
            let mut r = current.unwrap().clone();
            r.tags = vec![("t".into(), "1".into())];
            Ok(r)
        })
        .unwrap();
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].etag, "v2");
    assert_eq!(get(&id2).as_deref(), Some("v2"));
    // A delete marker hides the key but keeps every version.
    assert_eq!(t.put_object("b", "k", &marker(&id3), false), Ok(vec![]));
    assert_eq!(s.get_object("b", "k"), Ok(None));
    assert!(
        t.get_object_version("b", "k", &id3)
            .unwrap()
            .unwrap()
            .delete_marker
    );
    let rows = s
        .scan_versions("b", &VersionSeek::AtOrAfter("k".into()), 10)
        .unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.record.version_label()).collect();
    assert_eq!(ids, [id3.as_str(), &id2, &id1, NULL_VERSION]);
    let all = version_query("", "", "", "", 1000);
    assert_eq!(
        run_versions(t, &all),
        [
            ("k".to_string(), id3.clone(), true, true),
            ("k".into(), id2.clone(), false, false),
            ("k".into(), id1.clone(), false, false),
            ("k".into(), NULL_VERSION.into(), false, false),
        ]
    );
    // Removing the marker makes the newest version current again, then removing
    // that one the next.
    assert!(
        s.delete_object_version("b", "k", &id3)
            .unwrap()
            .unwrap()
            .delete_marker
    );
    assert_eq!(t.get_object("b", "k").unwrap().unwrap().etag, "v2");
    assert_eq!(
        t.delete_object_version("b", "k", &id2)
            .unwrap()
            .unwrap()
            .etag,
        "v2"
    );
    assert_eq!(s.get_object("b", "k").unwrap().unwrap().etag, "v1");
    assert_eq!(s.delete_object_version("b", "k", &id2), Ok(None));
    // Suspended: a new null version replaces the noncurrent null version, and
    // keeps the current id1.
    let replaced = t
        .put_object("b", "k", &version("n1", NULL_VERSION), false)
        .unwrap();
    assert_eq!(replaced, vec![object("plain")]);
    assert_eq!(get(&id1).as_deref(), Some("v1"));
    assert_eq!(get(NULL_VERSION).as_deref(), Some("n1"));
    // A null delete marker replaces the null current version.
    let replaced = s
        .put_object("b", "k", &marker(NULL_VERSION), false)
        .unwrap();
    assert_eq!(
        replaced.iter().map(|r| r.etag.as_str()).collect::<Vec<_>>(),
        ["n1"]
    );
    assert_eq!(t.get_object("b", "k"), Ok(None));
    assert_eq!(
        run_versions(s, &all),
        [
            ("k".to_string(), NULL_VERSION.to_string(), true, true),
            ("k".into(), id1.clone(), false, false),
        ]
    );
    // ACL and tags of a noncurrent version change in place.
    let changed = t
        .update_object_version("b", "k", &id1, &mut |r| {
            let mut r = r.clone();
            r.tags = vec![("x".into(), "y".into())];
            Ok(r)
        })
        .unwrap();
    assert_eq!(changed.tags, [("x".to_string(), "y".to_string())]);
    assert_eq!(
        s.get_object_version("b", "k", &id1).unwrap().unwrap().tags,
        changed.tags
    );
    assert_eq!(
        s.update_object_version("b", "k", &id2, &mut |r| Ok(r.clone())),
        Err(StorageError::NoSuchVersion)
    );
    // Noncurrent blobs stay referenced; a bucket with versions is not empty.
    assert!(
        s.referenced_blobs()
            .unwrap()
            .contains(&BlobId("blob-v1".into()))
    );
    assert_eq!(t.delete_bucket("b"), Err(StorageError::BucketNotEmpty));
    s.delete_object_version("b", "k", NULL_VERSION).unwrap();
    // The marker gone, v1 is current again.
    assert_eq!(t.get_object("b", "k").unwrap().unwrap().etag, "v1");
    t.delete_object_version("b", "k", &id1).unwrap();
    assert_eq!(run_versions(s, &all), []);
    assert_eq!(s.delete_bucket("b"), Ok(()));
}

/// Version listings against a naive model: prefixes, delimiters, both markers, and
/// paging with the returned markers.
fn version_listing(n: &Nodes) {
    let s = &*n.a;
    s.create_bucket(&bucket("b", "1")).unwrap();
    // (key, versions oldest first; "-" is a delete marker)
    let layout: &[(&str, &[&str])] = &[
        ("a", &["o", "o", "-"]),
        ("a/b", &["o"]),
        ("a/c", &["-", "o", "o"]),
        ("b", &["o", "o", "o", "o"]),
        ("b/x/1", &["-"]),
        ("c", &["o", "-", "o"]),
        ("d/e", &["o", "o"]),
    ];
    // The model: every version of each key, newest first; the first is the latest.
    let mut model: Vec<VersionSeen> = Vec::new();
    for (i, (key, history)) in layout.iter().enumerate() {
        let mut written = Vec::new();
        for (j, kind) in history.iter().enumerate() {
            let id = new_version_id();
            let record = if *kind == "-" {
                marker(&id)
            } else {
                version(&format!("{key}{j}"), &id)
            };
            n.node(i + j).put_object("b", key, &record, false).unwrap();
            written.push((id, *kind == "-"));
        }
        for (j, (id, dm)) in written.into_iter().rev().enumerate() {
            model.push((key.to_string(), id, j == 0, dm));
        }
    }
    // Naive: entries after the markers with the prefix, rolled up at the delimiter.
    let expect = |q: &VersionQuery| -> (Vec<VersionSeen>, Vec<String>, bool) {
        let start = if q.key_marker.is_empty() {
            0
        } else if q.version_id_marker.is_empty() {
            model.partition_point(|e| e.0.as_str() <= q.key_marker.as_str())
        } else {
            model
                .iter()
                .position(|e| e.0 == q.key_marker && e.1 == q.version_id_marker)
                .unwrap()
                + 1
        };
        let (mut out, mut prefixes, mut count) = (Vec::new(), Vec::<String>::new(), 0);
        for e in &model[start..] {
            if !e.0.starts_with(&q.prefix) {
                continue;
            }
            let rest = &e.0[q.prefix.len()..];
            let common = (!q.delimiter.is_empty())
                .then(|| rest.find(&q.delimiter))
                .flatten()
                .map(|i| e.0[..q.prefix.len() + i + q.delimiter.len()].to_string());
            if let Some(c) = &common
                && (c.as_str() <= q.key_marker.as_str() || prefixes.last() == Some(c))
            {
                continue;
            }
            if count == q.max_keys {
                return (out, prefixes, true);
            }
            count += 1;
            match common {
                Some(c) => prefixes.push(c),
                None => out.push(e.clone()),
            }
        }
        (out, prefixes, false)
    };
    let mut markers = vec![("", ""), ("a", ""), ("a/c", ""), ("b", ""), ("zz", "")];
    // After a version: the first, a middle and the last of a key.
    markers.extend([0, 5, 9, 16].map(|i| (model[i].0.as_str(), model[i].1.as_str())));
    for prefix in ["", "a", "b/", "d"] {
        for delimiter in ["", "/"] {
            for &(key, id) in &markers {
                for max in [1, 2, 5, 1000] {
                    let q = version_query(prefix, delimiter, key, id, max);
                    let got = s.list_object_versions("b", &q).unwrap();
                    let entries: Vec<_> = got
                        .versions
                        .iter()
                        .map(|v| {
                            let id = v.record.version_label().to_owned();
                            (v.key.clone(), id, v.is_latest, v.record.delete_marker)
                        })
                        .collect();
                    let (want, prefixes, truncated) = expect(&q);
                    let label = format!("{prefix:?} {delimiter:?} {key:?} {id:?} {max}");
                    assert_eq!(entries, want, "{label}");
                    assert_eq!(got.common_prefixes, prefixes, "{label}");
                    assert_eq!(got.truncated, truncated, "{label}");
                }
            }
            // Paging with the returned markers visits every entry once.
            let whole = expect(&version_query(prefix, delimiter, "", "", usize::MAX));
            for page in [1, 3] {
                let (mut entries, mut prefixes) = (Vec::new(), Vec::new());
                let (mut key, mut id) = (String::new(), String::new());
                for round in 0.. {
                    assert!(round < 1000, "paging does not end");
                    let q = version_query(prefix, delimiter, &key, &id, page);
                    let got = n.node(round).list_object_versions("b", &q).unwrap();
                    for v in got.versions {
                        let vid = v.record.version_label().to_owned();
                        entries.push((v.key, vid, v.is_latest, v.record.delete_marker));
                    }
                    prefixes.extend(got.common_prefixes);
                    if !got.truncated {
                        break;
                    }
                    key = got.next_key_marker.unwrap();
                    id = got.next_version_id_marker.unwrap_or_default();
                }
                assert_eq!((entries, prefixes), (whole.0.clone(), whole.1.clone()));
            }
        }
    }
    // Current listings see the latest versions that are not delete markers.
    let listed = s.list_objects("b", &query("", "", "", 1000)).unwrap();
    let keys: Vec<&str> = listed.objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a/b", "a/c", "b", "c", "d/e"]);
}

/// Listing entries as the contract defines them, computed naively from every key.
fn model_listing(keys: &[String], q: &ListQuery) -> (Vec<String>, Vec<String>, bool) {
    let mut sorted = keys.to_vec();
    sorted.sort();
    let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
    let mut count = 0;
    for key in &sorted {
        if !key.starts_with(&q.prefix) || key.as_str() <= q.start_after.as_str() {
            continue;
        }
        let rest = &key[q.prefix.len()..];
        let common = (!q.delimiter.is_empty())
            .then(|| rest.find(&q.delimiter))
            .flatten()
            .map(|i| key[..q.prefix.len() + i + q.delimiter.len()].to_string());
        if let Some(c) = &common
            && (c.as_str() <= q.start_after.as_str() || prefixes.last() == Some(c))
        {
            continue;
        }
        if count == q.max_keys {
            return (objects, prefixes, true);
        }
        count += 1;
        match common {
            Some(c) => prefixes.push(c),
            None => objects.push(key.clone()),
        }
    }
    (objects, prefixes, false)
}

fn listing_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "a",
        "a/b",
        "a/c",
        "a//b",
        "a/b/c/d",
        "a0",
        "ab",
        "abab",
        "a\nb",
        "b",
        "b/x/1",
        "b/y",
        "c",
        "dir/",
        "dir/a",
        "sp ace",
        "xaby",
        "z",
        "~",
        "\x7f",
        "\x01ctl",
        "\ttab",
        "é",
        "中",
        "\u{1F600}",
        "\u{D7FF}z",
        "\u{E000}",
        "\u{10FFFF}",
        "\u{10FFFF}x",
        "\u{10FFFF}\u{10FFFF}/y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Many keys under one prefix and many prefixes: listings cross several batches.
    keys.extend((0..40).map(|i| format!("d/{i:03}")));
    keys.extend((0..20).map(|i| format!("e/{i}/x")));
    keys.extend((0..20).map(|i| format!("e/{i}/y/z")));
    keys
}

fn listing_store(n: &Nodes) -> Vec<String> {
    let s = &*n.a;
    for b in ["b", "a", "bb"] {
        s.create_bucket(&bucket(b, "1")).unwrap();
    }
    // Neighbouring buckets whose keys must never show up.
    s.put_object("a", "zzz", &object("x"), false).unwrap();
    s.put_object("bb", "a", &object("x"), false).unwrap();
    let keys = listing_keys();
    for (i, k) in keys.iter().enumerate() {
        n.node(i).put_object("b", k, &object(k), false).unwrap();
    }
    keys
}

fn run_list(s: &dyn MetaStore, q: &ListQuery) -> (Vec<String>, Vec<String>, bool, Option<String>) {
    let l = s.list_objects("b", q).unwrap();
    for (k, r) in &l.objects {
        assert_eq!(&r.etag, k, "each key comes with its own record");
    }
    (
        l.objects.into_iter().map(|(k, _)| k).collect(),
        l.common_prefixes,
        l.truncated,
        l.next_marker,
    )
}

fn query(prefix: &str, delimiter: &str, start_after: &str, max_keys: usize) -> ListQuery {
    ListQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        start_after: start_after.into(),
        max_keys,
    }
}

fn listing_order(n: &Nodes) {
    let keys = listing_store(n);
    let (all, prefixes, truncated, next) = run_list(&*n.b, &query("", "", "", 1000));
    assert_eq!((prefixes.len(), truncated, next), (0, false, None));
    let mut bytewise = keys.clone();
    bytewise.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(all, bytewise, "listings are in bytewise key order");
    let at = |k: &str| all.iter().position(|x| x == k).unwrap();
    assert!(at("a") < at("a/b") && at("a/b") < at("a0") && at("a0") < at("b"));
    assert!(at("z") < at("é") && at("~") < at("\x7f") && at("\x7f") < at("é"));
    assert!(at("\x01ctl") < at("\ttab") && at("\ttab") < at("a"));
    assert!(at("\u{D7FF}z") < at("\u{E000}") && at("\u{1F600}") < at("\u{10FFFF}"));
    assert_eq!(all[0], "\x01ctl");
    assert_eq!(all.last().unwrap(), "\u{10FFFF}\u{10FFFF}/y");

    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (k, p, t, next) = run_list(&*n.a, &query("a", "/", "", 100));
    assert_eq!(
        (k, p, t, next),
        (
            v(&["a", "a\nb", "a0", "ab", "abab"]),
            v(&["a/"]),
            false,
            None
        )
    );
    let (k, p, _, _) = run_list(&*n.a, &query("a/", "/", "", 100));
    assert_eq!((k, p), (v(&["a/b", "a/c"]), v(&["a//", "a/b/"])));
    let (k, p, t, next) = run_list(&*n.a, &query("d/", "", "d/010", 3));
    assert_eq!((k, p, t), (v(&["d/011", "d/012", "d/013"]), v(&[]), true));
    assert_eq!(next.as_deref(), Some("d/013"));
    let (k, p, t, next) = run_list(&*n.a, &query("", "/", "", 2));
    assert_eq!((k, p, t), (v(&["\x01ctl", "\ttab"]), v(&[]), true));
    assert_eq!(next.as_deref(), Some("\ttab"));
    let (k, p, t, next) = run_list(&*n.a, &query("e/1", "/", "e/18/", 100));
    assert_eq!((k, p, t, next), (v(&[]), v(&["e/19/"]), false, None));
    // A marker inside a common prefix does not return that prefix again.
    let (_, p, _, _) = run_list(&*n.a, &query("e/1", "/", "e/18/x", 100));
    assert_eq!(p, v(&["e/19/"]));
    let (_, p, _, _) = run_list(&*n.a, &query("e/", "/", "e/5/", 100));
    assert_eq!(p, v(&["e/6/", "e/7/", "e/8/", "e/9/"]));
    let (k, p, _, _) = run_list(&*n.a, &query("\u{10FFFF}", "/", "", 100));
    assert_eq!(
        (k, p),
        (
            v(&["\u{10FFFF}", "\u{10FFFF}x"]),
            v(&["\u{10FFFF}\u{10FFFF}/"])
        )
    );
    let (k, _, _, _) = run_list(&*n.a, &query("\u{D7FF}", "", "", 100));
    assert_eq!(k, v(&["\u{D7FF}z"]));
    let (k, _, _, _) = run_list(&*n.a, &query("", "", "\u{10FFFF}x", 100));
    assert_eq!(k, v(&["\u{10FFFF}\u{10FFFF}/y"]));
    let (k, p, t, _) = run_list(&*n.a, &query("zz", "/", "", 100));
    assert_eq!((k.len(), p.len(), t), (0, 0, false));
    assert_eq!(
        n.a.list_objects("nope", &query("", "", "", 10))
            .unwrap()
            .objects
            .len(),
        0
    );
}

fn listing_model(n: &Nodes) {
    let keys = listing_store(n);
    let prefixes = [
        "",
        "a",
        "a/",
        "b/",
        "d/",
        "e/",
        "e/1",
        "zz",
        "\u{10FFFF}",
        "\u{D7FF}",
        "é",
        "a\0",
    ];
    let delimiters = ["", "/", "ab", "/y/"];
    let markers = [
        "",
        "a",
        "a/",
        "a/b",
        "a0",
        "b",
        "d/010",
        "d/039",
        "e/",
        "e/5/",
        "e/5/x",
        "é",
        "\u{10FFFF}",
        "zz\u{10FFFF}",
        "a\0b",
        "e/1\0",
    ];
    for (i, prefix) in prefixes.iter().enumerate() {
        for delimiter in delimiters {
            for start_after in markers {
                for max_keys in [1, 3, 1000] {
                    let q = query(prefix, delimiter, start_after, max_keys);
                    let (k, p, t, next) = run_list(n.node(i), &q);
                    let expected = model_listing(&keys, &q);
                    assert_eq!((&k, &p, t), (&expected.0, &expected.1, expected.2), "{q:?}");
                    // The next marker is the last entry returned, in key order.
                    let last = k.iter().chain(&p).max().cloned();
                    assert_eq!(next, if t { last } else { None }, "{q:?}");
                }
            }
        }
    }
}

/// Paging with the returned marker visits every entry once.
fn listing_pages(n: &Nodes) {
    let keys = listing_store(n);
    for prefix in ["", "a", "e/", "d/"] {
        for delimiter in ["", "/", "0"] {
            for page in [1, 2, 7] {
                let whole = model_listing(&keys, &query(prefix, delimiter, "", usize::MAX));
                let (mut k, mut p, mut marker) = (Vec::new(), Vec::new(), String::new());
                for round in 0.. {
                    assert!(round < 1000, "paging does not end");
                    let (pk, pp, t, next) =
                        run_list(n.node(round), &query(prefix, delimiter, &marker, page));
                    assert!(pk.len() + pp.len() <= page);
                    k.extend(pk);
                    p.extend(pp);
                    if !t {
                        break;
                    }
                    marker = next.unwrap();
                }
                assert_eq!(
                    (k, p),
                    (whole.0, whole.1),
                    "{prefix:?} {delimiter:?} {page}"
                );
            }
        }
    }
}

fn multipart(n: &Nodes) {
    let (s, t) = (&*n.a, &*n.b);
    s.create_bucket(&bucket("b", "1")).unwrap();
    s.create_bucket(&bucket("c", "1")).unwrap();
    assert_eq!(
        s.create_upload("nope", &upload("k", "u0")),
        Err(StorageError::NoSuchBucket)
    );
    s.create_upload("b", &upload("k", "u1")).unwrap();
    s.create_upload("b", &upload("k", "u2")).unwrap();
    s.create_upload("b", &upload("dir/x", "u3")).unwrap();
    assert_eq!(t.get_upload("b", "k", "u1"), Ok(Some(upload("k", "u1"))));
    assert_eq!(t.get_upload("b", "other", "u1"), Ok(None));
    assert_eq!(t.get_upload("c", "k", "u1"), Ok(None));
    assert_eq!(t.get_upload("b", "k", "u1\0"), Ok(None));

    for (b, k, id) in [
        ("b", "k", "nope"),
        ("b", "x", "u1"),
        ("c", "k", "u1"),
        ("b", "k", "\0"),
    ] {
        assert_eq!(
            s.put_part(b, k, id, 1, &part("x", 1)),
            Err(StorageError::NoSuchUpload),
            "{b} {k} {id:?}"
        );
    }
    assert_eq!(s.put_part("b", "k", "u1", 3, &part("3", 3)), Ok(None));
    assert_eq!(t.put_part("b", "k", "u1", 1, &part("old", 9)), Ok(None));
    assert_eq!(
        s.put_part("b", "k", "u1", 1, &part("1", 1)),
        Ok(Some(part("old", 9))),
        "a part replaces one of the same number"
    );
    s.put_part("b", "k", "u1", 2, &part("2", 2)).unwrap();
    assert_eq!(
        t.list_parts("u1", 0, 2),
        Ok((vec![(1, part("1", 1)), (2, part("2", 2))], true))
    );
    assert_eq!(
        t.list_parts("u1", 2, 2),
        Ok((vec![(3, part("3", 3))], false))
    );
    assert_eq!(t.list_parts("u1", 3, 2), Ok((vec![], false)));
    assert_eq!(t.list_parts("u1", u32::MAX, 2), Ok((vec![], false)));
    assert_eq!(t.list_parts("u2", 0, 10), Ok((vec![], false)));
    assert_eq!(t.list_parts("nope", 0, 10), Ok((vec![], false)));
    assert_eq!(t.list_parts("u1\0", 0, 10), Ok((vec![], false)));

    // A refused completion changes nothing.
    let refused = t.complete_upload("b", "k", "u1", &mut |_, _, _| {
        Err(StorageError::Refused("no".into()))
    });
    assert_eq!(refused, Err(StorageError::Refused("no".into())));
    assert!(s.get_upload("b", "k", "u1").unwrap().is_some());
    assert_eq!(s.list_parts("u1", 0, 10).unwrap().0.len(), 3);
    assert_eq!(s.get_object("b", "k"), Ok(None));

    s.put_object("b", "k", &object("before"), false).unwrap();
    let (replaced, parts) = t
        .complete_upload("b", "k", "u1", &mut |u, parts, current| {
            assert_eq!(u, &upload("k", "u1"));
            assert_eq!(current, Some(&object("before")));
            let numbers: Vec<u32> = parts.iter().map(|(n, _)| *n).collect();
            assert_eq!(numbers, [1, 2, 3], "parts in number order");
            let mut record = u.template.clone();
            record.segments = parts
                .iter()
                .map(|(_, p)| Segment {
                    key: None,
                    inline: None,
                    blob: p.blob.clone(),
                    size: p.size,
                })
                .collect();
            record.size = 6;
            Ok(record)
        })
        .unwrap();
    assert_eq!(replaced, vec![object("before")]);
    assert_eq!(parts, [part("1", 1), part("2", 2), part("3", 3)]);
    let stored = s.get_object("b", "k").unwrap().unwrap();
    assert_eq!((stored.size, stored.segments.len()), (6, 3));
    assert_eq!(s.get_upload("b", "k", "u1"), Ok(None));
    assert_eq!(s.list_parts("u1", 0, 10), Ok((vec![], false)));
    assert_eq!(
        s.complete_upload("b", "k", "u1", &mut |_, _, _| Ok(object("again"))),
        Err(StorageError::NoSuchUpload)
    );
    assert_eq!(
        s.abort_upload("b", "k", "u1"),
        Err(StorageError::NoSuchUpload)
    );
    assert_eq!(
        s.put_part("b", "k", "u1", 1, &part("late", 1)),
        Err(StorageError::NoSuchUpload)
    );

    t.put_part("b", "k", "u2", 5, &part("5", 5)).unwrap();
    t.put_part("b", "k", "u2", 4, &part("4", 4)).unwrap();
    assert_eq!(
        s.abort_upload("b", "k", "u2"),
        Ok(vec![part("4", 4), part("5", 5)]),
        "abort returns the parts in number order"
    );
    assert_eq!(
        t.abort_upload("b", "k", "u2"),
        Err(StorageError::NoSuchUpload)
    );
    assert_eq!(t.list_parts("u2", 0, 10), Ok((vec![], false)));
    assert_eq!(
        s.abort_upload("b", "dir/x", "nope"),
        Err(StorageError::NoSuchUpload)
    );
    assert_eq!(
        s.abort_upload("b", "k", "u3"),
        Err(StorageError::NoSuchUpload)
    );
    assert_eq!(
        s.complete_upload("b", "dir/x", "u3", &mut |_, parts, current| {
            assert!(parts.is_empty() && current.is_none());
            Ok(object("empty"))
        }),
        Ok((vec![], vec![]))
    );
    assert_eq!(s.get_object("b", "dir/x").unwrap().unwrap().etag, "empty");
}

/// Uploads as the contract lists them, computed naively.
fn model_uploads(
    uploads: &[(String, String)],
    q: &UploadQuery,
) -> (Vec<String>, Vec<String>, bool) {
    let mut sorted = uploads.to_vec();
    sorted.sort();
    let (km, im) = (q.key_marker.as_str(), q.upload_id_marker.as_str());
    let (mut ids, mut prefixes) = (Vec::new(), Vec::new());
    let mut count = 0;
    for (key, id) in &sorted {
        let key = key.as_str();
        if !key.starts_with(&q.prefix) {
            continue;
        }
        if !(km.is_empty() || key > km || (key == km && !im.is_empty() && id.as_str() > im)) {
            continue;
        }
        let common = (!q.delimiter.is_empty())
            .then(|| key[q.prefix.len()..].find(&q.delimiter))
            .flatten()
            .map(|i| key[..q.prefix.len() + i + q.delimiter.len()].to_string());
        // A prefix at or before the key marker was listed on an earlier page.
        if let Some(c) = &common
            && (c.as_str() <= km || prefixes.last() == Some(c))
        {
            continue;
        }
        if count == q.max {
            return (ids, prefixes, true);
        }
        count += 1;
        match common {
            Some(c) => prefixes.push(c),
            None => ids.push(id.clone()),
        }
    }
    (ids, prefixes, false)
}

fn upload_listing_model(n: &Nodes) {
    let s = &*n.a;
    s.create_bucket(&bucket("b", "1")).unwrap();
    s.create_bucket(&bucket("bb", "1")).unwrap();
    s.create_upload("bb", &upload("k", "other")).unwrap();
    let mut uploads: Vec<(String, String)> = [
        ("k", "u1"),
        ("k", "u2"),
        ("k", "u10"),
        ("dir/x", "u3"),
        ("dir/y", "u4"),
        ("dir/y/z", "u5"),
        ("a", "u6"),
        ("é", "u7"),
        ("a0", "u8"),
        ("a/b", "u9"),
        ("\x01", "u11"),
    ]
    .iter()
    .map(|(k, id)| (k.to_string(), id.to_string()))
    .collect();
    uploads.extend((0..12).map(|i| (format!("many/{i:02}/p"), format!("m{i:02}"))));
    uploads.extend((0..12).map(|i| ("same".to_string(), format!("s{i:02}"))));
    for (i, (key, id)) in uploads.iter().enumerate() {
        n.node(i).create_upload("b", &upload(key, id)).unwrap();
    }
    let listed = |i: usize, q: &UploadQuery| {
        let l = n.node(i).list_uploads("b", q).unwrap();
        (
            l.uploads
                .into_iter()
                .map(|u| u.upload_id)
                .collect::<Vec<_>>(),
            l.common_prefixes,
            l.truncated,
        )
    };
    let q = |prefix: &str, delimiter: &str, km: &str, im: &str, max: usize| UploadQuery {
        prefix: prefix.into(),
        delimiter: delimiter.into(),
        key_marker: km.into(),
        upload_id_marker: im.into(),
        max,
    };
    let (ids, _, _) = listed(0, &q("", "", "", "", 100));
    assert_eq!(
        &ids[..4],
        ["u11", "u6", "u9", "u8"],
        "(key, upload id) order, bytewise"
    );
    assert_eq!(ids.last().unwrap(), "u7");
    let (ids, _, _) = listed(1, &q("k", "", "k", "u10", 100));
    assert_eq!(ids, ["u2"], "upload ids order bytewise too");
    let (ids, _, _) = listed(1, &q("k", "", "k", "", 100));
    assert!(
        ids.is_empty(),
        "a key marker alone skips that key's uploads"
    );
    let (_, p, _) = listed(0, &q("", "/", "", "", 100));
    assert_eq!(p, ["a/", "dir/", "many/"]);

    for (i, prefix) in ["", "dir/", "many/", "k", "same", "zz", "a\0"]
        .iter()
        .enumerate()
    {
        for delimiter in ["", "/", "y"] {
            for (km, im) in [
                ("", ""),
                ("", "u1"),
                ("a", ""),
                ("dir/y", "u4"),
                ("dir/y", "u3"),
                ("k", "u1"),
                ("many/05/p", ""),
                ("many/", ""),
                ("dir/", ""),
                ("many/05/", ""),
                ("same", "s05"),
                ("k\0", ""),
            ] {
                for max in [1, 2, 5, 1000] {
                    let query = q(prefix, delimiter, km, im, max);
                    assert_eq!(
                        listed(i, &query),
                        model_uploads(&uploads, &query),
                        "{query:?}"
                    );
                }
            }
        }
    }
}

fn stats_and_blobs(n: &Nodes) {
    let (s, t) = (&*n.a, &*n.b);
    s.create_bucket(&bucket("b", "1")).unwrap();
    s.create_bucket(&bucket("c", "1")).unwrap();
    assert_eq!(s.bucket_stat("b"), Ok(BucketStat::default()));
    assert_eq!(s.bucket_stat("nope"), Ok(BucketStat::default()));
    assert_eq!(s.referenced_blobs(), Ok(vec![]));

    let mut big = object("big");
    big.size = 3 << 40;
    big.last_modified = 2_000;
    big.segments.push(Segment {
        key: None,
        inline: None,
        blob: BlobId("blob-big-2".into()),
        size: 1,
    });
    let mut small = object("small");
    small.size = 10;
    small.last_modified = 1_000;
    s.put_object("b", "big", &big, false).unwrap();
    t.put_object("b", "small", &small, false).unwrap();
    let mut elsewhere = object("elsewhere");
    elsewhere.last_modified = 9_000;
    s.put_object("c", "x", &elsewhere, false).unwrap();
    // Bytes kept in a record are no blob's.
    s.create_bucket(&bucket("i", "1")).unwrap();
    let mut inline = object("inline");
    inline.segments[0] = Segment {
        blob: BlobId::default(),
        size: 2,
        key: None,
        inline: Some(InlineBytes(b"hi".as_slice().into())),
    };
    s.put_object("i", "tiny", &inline, false).unwrap();
    s.create_upload("b", &upload("u", "u1")).unwrap();
    s.create_upload("b", &upload("u", "u2")).unwrap();
    s.create_upload("c", &upload("u", "u3")).unwrap();
    for (id, number) in [("u1", 1), ("u1", 2), ("u2", 1), ("u3", 1)] {
        t.put_part("b", "u", id, number, &part(&format!("{id}-{number}"), 5))
            .ok();
        t.put_part("c", "u", id, number, &part(&format!("{id}-{number}"), 5))
            .ok();
    }
    assert_eq!(
        t.bucket_stat("b"),
        Ok(BucketStat {
            storage: (3 << 40) + 10,
            object_count: 2,
            multipart_upload_count: 2,
            multipart_part_count: 3,
            last_modified: 2_000,
        })
    );
    assert_eq!(
        s.bucket_stat("c"),
        Ok(BucketStat {
            storage: 1,
            object_count: 1,
            multipart_upload_count: 1,
            multipart_part_count: 1,
            last_modified: 9_000,
        })
    );

    let blobs = |m: &dyn MetaStore| {
        let all = m.referenced_blobs().unwrap();
        let set: BTreeSet<String> = all.iter().map(|b| b.0.clone()).collect();
        assert_eq!(set.len(), all.len(), "each blob once");
        set
    };
    let expect = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        blobs(t),
        expect(&[
            "blob-big",
            "blob-big-2",
            "blob-small",
            "blob-elsewhere",
            "part-u1-1",
            "part-u1-2",
            "part-u2-1",
            "part-u3-1",
        ])
    );
    s.abort_upload("b", "u", "u1").unwrap();
    s.complete_upload("b", "u", "u2", &mut |_, parts, _| {
        let mut r = object("done");
        r.segments = vec![Segment {
            key: None,
            inline: None,
            blob: parts[0].1.blob.clone(),
            size: 5,
        }];
        Ok(r)
    })
    .unwrap();
    s.delete_object("b", "big").unwrap();
    assert_eq!(
        blobs(s),
        expect(&["blob-small", "blob-elsewhere", "part-u2-1", "part-u3-1"])
    );
    let stat = s.bucket_stat("b").unwrap();
    assert_eq!(
        (
            stat.object_count,
            stat.multipart_upload_count,
            stat.multipart_part_count
        ),
        (2, 0, 0)
    );
}

fn leases(n: &Nodes) {
    let (a, b) = (&*n.a, &*n.b);
    if !n.shared_leases {
        // One process: whoever asks holds the lease.
        assert_eq!(a.try_lease("gc", "A", 300), Ok(true));
        assert_eq!(b.try_lease("gc", "B", 300), Ok(true));
        assert_eq!(a.purge_leases(), Ok(0));
        return;
    }
    assert_eq!(a.try_lease("gc", "A", 300), Ok(true));
    assert_eq!(b.try_lease("gc", "B", 300), Ok(false));
    assert_eq!(
        b.try_lease("lifecycle", "B", 300),
        Ok(true),
        "leases are separate"
    );
    thread::sleep(Duration::from_millis(150));
    assert_eq!(a.try_lease("gc", "A", 300), Ok(true), "the holder renews");
    // Past the first lease's end, but within the renewal.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(b.try_lease("gc", "B", 300), Ok(false));
    thread::sleep(Duration::from_millis(350));
    assert_eq!(
        b.try_lease("gc", "B", 300),
        Ok(true),
        "an expired lease passes"
    );
    assert_eq!(a.try_lease("gc", "A", 300), Ok(false));
    assert!(!a.try_lease("gc", "A", 0).unwrap());
    // Released early by its holder, a lease passes at once; released by another, not.
    assert_eq!(a.try_lease("render", "A", 60_000), Ok(true));
    assert_eq!(b.release_lease("render", "B"), Ok(()));
    assert_eq!(b.try_lease("render", "B", 60_000), Ok(false));
    assert_eq!(a.release_lease("render", "A"), Ok(()));
    assert_eq!(b.try_lease("render", "B", 60_000), Ok(true));
    // Expired leases are purged ("gc", "lifecycle", "dead"); a live one stays.
    assert_eq!(a.try_lease("dead", "A", 1), Ok(true));
    thread::sleep(Duration::from_millis(350));
    assert!(a.purge_leases().unwrap() >= 3);
    assert_eq!(a.purge_leases(), Ok(0));
    assert_eq!(a.try_lease("render", "A", 60_000), Ok(false));
    assert_eq!(a.try_lease("dead", "A", 300), Ok(true));
}

/// The readiness probe writes, and leaves nothing a request or a lease sees.
fn probe(n: &Nodes) {
    let s = &*n.a;
    s.probe().unwrap();
    s.probe().unwrap();
    assert_eq!(s.all_buckets().unwrap(), vec![]);
    assert_eq!(s.try_lease("gc", "A", 300), Ok(true));
}

fn cache_entry(blob: &str, size: u64, used: i64) -> CacheEntry {
    CacheEntry {
        blob: BlobId(blob.into()),
        size,
        content_type: "image/webp".into(),
        used,
    }
}

/// Result-cache entries: stored, replaced, touched, evicted least recently used first
/// down to the bound, and referenced for the orphan sweep; both nodes see one cache.
fn result_cache(n: &Nodes) {
    let (a, b) = (&*n.a, &*n.b);
    let change = |unused: &[&str], total| CacheChange {
        unused: unused.iter().map(|u| BlobId(u.to_string())).collect(),
        total,
    };
    let blobs = |m: &dyn MetaStore| {
        let mut all: Vec<String> = m
            .referenced_blobs()
            .unwrap()
            .into_iter()
            .map(|b| b.0)
            .collect();
        all.sort();
        all
    };
    assert_eq!(a.cache_get("k1"), Ok(None));
    assert_eq!(a.cache_update(None, &[], 100), Ok(change(&[], 0)));
    let e1 = cache_entry("c1", 30, 1_000);
    assert_eq!(
        a.cache_update(Some(("k1", &e1)), &[], 100),
        Ok(change(&[], 30))
    );
    assert_eq!(b.cache_get("k1"), Ok(Some(e1.clone())));
    // A key of any UTF-8 is stored as given.
    let e2 = cache_entry("c2", 30, 2_000);
    let odd = "k2 \u{1} \u{6587}";
    assert_eq!(
        b.cache_update(Some((odd, &e2)), &[], 100),
        Ok(change(&[], 60))
    );
    assert_eq!(a.cache_get(odd), Ok(Some(e2.clone())));
    // Replacing an entry frees its blob.
    let e2b = cache_entry("c2b", 20, 2_500);
    assert_eq!(
        a.cache_update(Some((odd, &e2b)), &[], 100),
        Ok(change(&["c2"], 50))
    );
    // k1 used after k2: k2 goes first when room is needed; uses of missing keys and
    // earlier times change nothing.
    let used = [
        ("k1".to_string(), 3_000),
        ("gone".to_string(), 9_000),
        (odd.to_string(), 1),
    ];
    let e3 = cache_entry("c3", 40, 4_000);
    assert_eq!(
        b.cache_update(Some(("k3", &e3)), &used, 100),
        Ok(change(&[], 90))
    );
    assert_eq!(a.cache_get("k1").unwrap().unwrap().used, 3_000);
    assert_eq!(a.cache_get(odd).unwrap().unwrap().used, 2_500);
    assert_eq!(blobs(a), ["c1", "c2b", "c3"]);
    let e4 = cache_entry("c4", 35, 5_000);
    assert_eq!(
        a.cache_update(Some(("k4", &e4)), &[], 100),
        Ok(change(&["c2b", "c1"], 75))
    );
    assert_eq!(b.cache_get(odd), Ok(None));
    assert_eq!(b.cache_get("k1"), Ok(None));
    assert_eq!(blobs(b), ["c3", "c4"]);
    // A smaller bound evicts with no new entry; an entry over the bound is not kept.
    assert_eq!(b.cache_update(None, &[], 40), Ok(change(&["c3"], 35)));
    let huge = cache_entry("c5", 41, 6_000);
    assert_eq!(
        b.cache_update(Some(("k5", &huge)), &[], 40),
        Ok(change(&["c5"], 35))
    );
    assert_eq!(a.cache_get("k5"), Ok(None));
    assert_eq!(a.cache_update(None, &[], 0), Ok(change(&["c4"], 0)));
    assert_eq!(blobs(a), Vec::<String>::new());
}

/// 8 threads × 25 appends to one key, each checking the position it read.
fn concurrent_appends(n: &Nodes) {
    const THREADS: usize = 8;
    const APPENDS: usize = 25;
    n.a.create_bucket(&bucket("b", "1")).unwrap();
    let barrier = Barrier::new(THREADS);
    let conflicts: usize = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (node, barrier) = (n.node(t), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut conflicts = 0;
                    let mut done = 0;
                    while done < APPENDS {
                        let position = node.get_object("b", "log").unwrap().map_or(0, |r| r.size);
                        let result = node.put_object_with("b", "log", &mut |current| {
                            let size = current.map_or(0, |r| r.size);
                            if size != position {
                                return Err(StorageError::Refused("position".into()));
                            }
                            let mut next = current.cloned().unwrap_or_else(|| {
                                let mut r = object("log");
                                r.segments.clear();
                                r.size = 0;
                                r
                            });
                            next.segments.push(Segment {
                                key: None,
                                inline: None,
                                blob: BlobId(format!("t{t}-{done}")),
                                size: 1,
                            });
                            next.size += 1;
                            Ok(next)
                        });
                        match result {
                            Ok(replaced) => {
                                assert_eq!(replaced.first().map_or(0, |r| r.size), position);
                                done += 1;
                            }
                            Err(StorageError::Refused(_)) => conflicts += 1,
                            Err(e) => panic!("append failed: {e}"),
                        }
                    }
                    conflicts
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let record = n.b.get_object("b", "log").unwrap().unwrap();
    assert_eq!(record.size, (THREADS * APPENDS) as u64);
    assert_eq!(record.segments.len(), THREADS * APPENDS);
    for t in 0..THREADS {
        let mine: Vec<String> = record
            .segments
            .iter()
            .map(|s| s.blob.0.clone())
            .filter(|b| b.starts_with(&format!("t{t}-")))
            .collect();
        let expected: Vec<String> = (0..APPENDS).map(|i| format!("t{t}-{i}")).collect();
        assert_eq!(mine, expected, "each append once, in order");
    }
    eprintln!("concurrent appends: {conflicts} position conflicts retried");
}

/// Completion, abort and a late part of one upload race from two nodes.
fn concurrent_complete_abort(n: &Nodes) {
    n.a.create_bucket(&bucket("b", "1")).unwrap();
    let mut wins = [0, 0];
    for round in 0..12 {
        let (key, id) = (format!("k{round}"), format!("u{round}"));
        n.a.create_upload("b", &upload(&key, &id)).unwrap();
        for number in 1..=3 {
            n.b.put_part(
                "b",
                &key,
                &id,
                number,
                &part(&format!("{round}-{number}"), 1),
            )
            .unwrap();
        }
        let barrier = Barrier::new(3);
        let (completed, aborted, late) = thread::scope(|scope| {
            let (k, i, bar) = (&key, &id, &barrier);
            let complete = scope.spawn(move || {
                bar.wait();
                n.node(round)
                    .complete_upload("b", k, i, &mut |u, parts, _| {
                        let mut r = u.template.clone();
                        r.segments = parts
                            .iter()
                            .map(|(_, p)| Segment {
                                key: None,
                                inline: None,
                                blob: p.blob.clone(),
                                size: p.size,
                            })
                            .collect();
                        r.size = r.segments.len() as u64;
                        Ok(r)
                    })
            });
            let abort = scope.spawn(move || {
                bar.wait();
                n.node(round + 1).abort_upload("b", k, i)
            });
            let late = scope.spawn(move || {
                bar.wait();
                n.node(round + 1)
                    .put_part("b", k, i, 4, &part(&format!("{round}-late"), 1))
            });
            (
                complete.join().unwrap(),
                abort.join().unwrap(),
                late.join().unwrap(),
            )
        });
        let parts = match (completed, aborted) {
            (Ok((replaced, parts)), Err(StorageError::NoSuchUpload)) => {
                assert_eq!(replaced, vec![]);
                let object = n.a.get_object("b", &key).unwrap().unwrap();
                let blobs: Vec<&BlobId> = object.blobs().collect();
                assert_eq!(blobs, parts.iter().map(|p| &p.blob).collect::<Vec<_>>());
                wins[0] += 1;
                parts
            }
            (Err(StorageError::NoSuchUpload), Ok(parts)) => {
                assert_eq!(n.a.get_object("b", &key), Ok(None));
                wins[1] += 1;
                parts
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        };
        let blobs: Vec<String> = parts.iter().map(|p| p.blob.0.clone()).collect();
        for number in 1..=3 {
            assert!(
                blobs.contains(&format!("part-{round}-{number}")),
                "{blobs:?}"
            );
        }
        match late {
            Ok(None) => assert!(
                blobs.contains(&format!("part-{round}-late")),
                "a stored part reaches the winner"
            ),
            Err(StorageError::NoSuchUpload) => assert_eq!(blobs.len(), 3),
            other => panic!("late part: {other:?}"),
        }
        assert_eq!(n.b.get_upload("b", &key, &id), Ok(None));
        assert_eq!(n.b.list_parts(&id, 0, 10), Ok((vec![], false)));
    }
    eprintln!(
        "complete vs abort: {} completions, {} aborts",
        wins[0], wins[1]
    );
}

/// Overwrites of one key: last writer wins, each replaced record reaches one writer.
fn concurrent_overwrites(n: &Nodes) {
    const THREADS: usize = 8;
    const PUTS: usize = 20;
    n.a.create_bucket(&bucket("b", "1")).unwrap();
    let barrier = Barrier::new(THREADS);
    let replaced: Vec<Option<ObjectRecord>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (node, barrier) = (n.node(t), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    (0..PUTS)
                        .map(|i| {
                            let mut r = object(&format!("t{t}-{i}"));
                            r.user_meta = vec![("writer".into(), format!("{t}"))];
                            let replaced = node.put_object("b", "hot", &r, false).unwrap();
                            assert!(replaced.len() <= 1, "one current record");
                            replaced.into_iter().next()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let last = n.b.get_object("b", "hot").unwrap().unwrap();
    assert_eq!(
        replaced.iter().filter(|r| r.is_none()).count(),
        1,
        "one first writer"
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in replaced.iter().flatten().chain([&last]) {
        let writer = &r.etag[1..r.etag.find('-').unwrap()];
        assert_eq!(
            r.user_meta,
            [("writer".into(), writer.to_string())],
            "whole records"
        );
        assert_eq!(r.blobs().next().unwrap().0, format!("blob-{}", r.etag));
        *seen.entry(r.etag.clone()).or_default() += 1;
    }
    assert_eq!(seen.len(), THREADS * PUTS);
    assert!(seen.values().all(|&c| c == 1), "each record replaced once");
}

/// Bucket creation, bucket deletion against writers, and leases, raced.
fn concurrent_bucket_races(n: &Nodes) {
    const THREADS: usize = 8;
    let barrier = Barrier::new(THREADS);
    let created: Vec<Created> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (node, barrier) = (n.node(t), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    node.create_bucket(&bucket("race", &format!("o{t}")))
                        .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(created.iter().filter(|c| **c == Created::New).count(), 1);
    let winner = n.a.get_bucket("race").unwrap().unwrap();
    for c in &created {
        if let Created::Existing(existing) = c {
            assert_eq!(**existing, winner);
        }
    }

    // Leases: one holder among racing nodes.
    let barrier = Barrier::new(THREADS);
    let held: Vec<bool> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (node, barrier) = (n.node(t), &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    node.try_lease("race", &format!("h{t}"), 60_000).unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let holders = held.iter().filter(|h| **h).count();
    assert_eq!(holders, if n.shared_leases { 1 } else { THREADS });

    // A writer keeps putting and removing an object while another node deletes the
    // bucket: once the deletion succeeds, no write lands in the deleted bucket.
    n.a.create_bucket(&bucket("del", "1")).unwrap();
    let (writes, writer_done) = (AtomicUsize::new(0), AtomicBool::new(false));
    let (ended_by_deletion, attempts) = thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let _done = SetOnDrop(&writer_done);
            for i in 0..2000 {
                let key = format!("k{}", i % 3);
                match n.a.put_object("del", &key, &object("x"), false) {
                    Ok(_) => writes.fetch_add(1, Ordering::SeqCst),
                    Err(StorageError::NoSuchBucket) => return true,
                    Err(e) => panic!("put: {e}"),
                };
                n.a.delete_object("del", &key).unwrap();
            }
            false
        });
        let deleter = scope.spawn(|| {
            // Start once the writer runs, so that deletions meet writes in flight.
            while writes.load(Ordering::SeqCst) < 10 && !writer_done.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                match n.b.delete_bucket("del") {
                    Ok(()) => return attempt,
                    Err(StorageError::BucketNotEmpty) => thread::yield_now(),
                    Err(e) => panic!("delete_bucket: {e}"),
                }
            }
        });
        let attempts = deleter.join().unwrap();
        (writer.join().unwrap(), attempts)
    });
    eprintln!(
        "delete vs put: {} writes, deleted at attempt {attempts}, writer stopped by it: {ended_by_deletion}",
        writes.load(Ordering::SeqCst)
    );
    assert_eq!(n.a.get_bucket("del"), Ok(None));
    for k in ["k0", "k1", "k2"] {
        assert_eq!(n.b.get_object("del", k), Ok(None));
    }
    assert_eq!(n.b.bucket_stat("del"), Ok(BucketStat::default()));
    assert_eq!(
        n.a.put_object("del", "k0", &object("x"), false),
        Err(StorageError::NoSuchBucket)
    );
}

/// Sets its flag when dropped, also when the thread holding it panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Keeps what a store needs alive (a directory, a database) until the nodes are gone.
pub(super) struct Fixture {
    nodes: Nodes,
    _guard: Box<dyn Send>,
}

fn redb() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let space = Arc::new(super::SpaceReserve::open(dir.path(), 0).unwrap());
    let store: Arc<dyn MetaStore> =
        Arc::new(super::RedbMeta::open(&dir.path().join("meta.redb"), space).unwrap());
    Fixture {
        nodes: Nodes {
            a: store.clone(),
            b: store,
            shared_leases: false,
        },
        _guard: Box::new(dir),
    }
}

pub(super) mod pg {
    use super::*;
    use crate::storage::pg_meta::PgMeta;

    /// The superuser URL to test with, or None to skip (unless skipping is refused).
    pub fn admin_url() -> Option<String> {
        match std::env::var("OSSIFY_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var("OSSIFY_REQUIRE_SCALEOUT").as_deref() != Ok("1"),
                    "OSSIFY_REQUIRE_SCALEOUT=1 but OSSIFY_TEST_POSTGRES_URL is not set"
                );
                eprintln!("skipped: OSSIFY_TEST_POSTGRES_URL is not set");
                None
            }
        }
    }

    /// `url` with another database name.
    /// The CA of the test server's TLS certificate (`OSSIFY_TEST_POSTGRES_CA`, set by
    /// scripts/services.sh when openssl is there); required with the other services.
    pub fn tls_ca() -> Option<String> {
        match std::env::var("OSSIFY_TEST_POSTGRES_CA") {
            Ok(ca) if !ca.is_empty() => Some(ca),
            _ => {
                assert!(
                    std::env::var("OSSIFY_REQUIRE_SCALEOUT").as_deref() != Ok("1"),
                    "OSSIFY_REQUIRE_SCALEOUT=1 but OSSIFY_TEST_POSTGRES_CA is not set"
                );
                eprintln!("skipped: OSSIFY_TEST_POSTGRES_CA is not set");
                None
            }
        }
    }

    pub fn with_database(url: &str, name: &str) -> String {
        let host_start = url.find("://").map_or(0, |i| i + 3);
        let path = url[host_start..]
            .find('/')
            .map_or(url.len(), |i| host_start + i);
        let query = url[path..].find('?').map_or("", |i| &url[path + i..]);
        format!("{}/{name}{query}", &url[..path])
    }

    /// A database of its own, dropped at the end.
    pub struct Database {
        pub runtime: tokio::runtime::Runtime,
        admin: String,
        pub name: String,
        pub url: String,
    }

    impl Database {
        pub fn create(admin: String) -> Database {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let name = format!("ossify_t_{:016x}", rand::random::<u64>());
            runtime
                .block_on(admin_sql(&admin, &format!("CREATE DATABASE {name}")))
                .unwrap();
            let url = with_database(&admin, &name);
            Database {
                runtime,
                admin,
                name,
                url,
            }
        }

        pub fn open(&self) -> Arc<dyn MetaStore> {
            Arc::new(
                self.runtime
                    .block_on(PgMeta::open(
                        &self.url,
                        crate::storage::pg_meta::DEFAULT_POOL_SIZE,
                    ))
                    .unwrap(),
            )
        }
    }

    impl Drop for Database {
        fn drop(&mut self) {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(e) = self.runtime.block_on(admin_sql(&self.admin, &sql)) {
                eprintln!("cannot drop the test database {}: {e}", self.name);
            }
        }
    }

    pub async fn admin_sql(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        let result = client.batch_execute(sql).await;
        drop(client);
        let _ = driver.await;
        result
    }

    pub fn fixture() -> Option<Fixture> {
        let db = Database::create(admin_url()?);
        // Two nodes: separate pools on one database.
        let nodes = Nodes {
            a: db.open(),
            b: db.open(),
            shared_leases: true,
        };
        Some(Fixture {
            nodes,
            _guard: Box::new(db),
        })
    }
}

fn conforms(fixture: impl Fn() -> Option<Fixture>) {
    for (name, check) in CHECKS {
        let Some(f) = fixture() else { return };
        let started = std::time::Instant::now();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&f.nodes)));
        if let Err(panic) = run {
            eprintln!("conformance check `{name}` failed");
            std::panic::resume_unwind(panic);
        }
        eprintln!("{name}: {:?}", started.elapsed());
    }
}

#[test]
fn redb_conforms() {
    conforms(|| Some(redb()));
}

#[test]
fn postgres_conforms() {
    conforms(pg::fixture);
}

macro_rules! concurrency_tests {
    ($($check:ident: $redb:ident, $postgres:ident;)*) => {$(
        #[test]
        fn $redb() {
            $check(&redb().nodes);
        }

        #[test]
        fn $postgres() {
            if let Some(f) = pg::fixture() {
                $check(&f.nodes);
            }
        }
    )*};
}

concurrency_tests! {
    concurrent_appends: redb_concurrent_appends, postgres_concurrent_appends;
    concurrent_complete_abort: redb_concurrent_complete_abort, postgres_concurrent_complete_abort;
    concurrent_overwrites: redb_concurrent_overwrites, postgres_concurrent_overwrites;
    concurrent_bucket_races: redb_concurrent_bucket_races, postgres_concurrent_bucket_races;
}

#[test]
fn database_urls_keep_their_options() {
    assert_eq!(
        pg::with_database("postgres://u:p@h:1/db?sslmode=disable", "x"),
        "postgres://u:p@h:1/x?sslmode=disable"
    );
    assert_eq!(
        pg::with_database("postgres://u:p@h:1", "x"),
        "postgres://u:p@h:1/x"
    );
}
