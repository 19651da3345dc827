"""The processed-image result cache (`[image] cache_bytes`) and Accept negotiation
(`[image] auto_format`), through oss2 presigned URLs, the v2 SDK and S3-signed GETs:
hits answer what a render answers, overwrites and deletes are never served stale, the
bound holds, identical requests render once, and a restart keeps the cache."""

import base64
import io
import threading
import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from PIL import Image

from conftest import (HZ, ROOT1, SHARED_DATA_DIR, SHARED_METADATA, STORAGE, OssifyEnv,
                      blob_files, make_config, make_image, make_v2_client, unique_bucket_name)
from test_operator import grew, sample, scrape

CACHE_HEADER = "x-ossify-image-cache"
# Headers that differ between any two responses.
PER_RESPONSE = {"date", "x-oss-request-id", CACHE_HEADER, "connection", "keep-alive"}


def noisy_jpeg(size, seed):
    """A photo-like JPEG (noise compresses badly, so results have real sizes)."""
    import random
    im = Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def start(server_factory, image_lines=(), **kw):
    srv = server_factory(**kw)
    text = make_config(srv.data_dir) + "\n[image]\n" + "\n".join(image_lines) + "\n"
    srv.config_path.write_text(text)
    srv.start()
    return srv


def bucket_on(srv, tag):
    auth = oss2.Auth(ROOT1.id, ROOT1.secret)
    b = oss2.Bucket(auth, srv.endpoint(HZ), unique_bucket_name(tag))
    b.create_bucket()
    return b


def processed(bucket, key, spec, headers=None):
    url = bucket.sign_url("GET", key, 300, params={"x-oss-process": spec})
    return requests.get(url, headers=headers or {}, timeout=60)


def comparable(r):
    return {k.lower(): v for k, v in r.headers.items() if k.lower() not in PER_RESPONSE}


def settled(endpoint, check, timeout=20):
    """Metrics once `check(metrics)` holds (results are stored after the answer)."""
    deadline = time.time() + timeout
    while True:
        m = scrape(endpoint)
        if check(m) or time.time() > deadline:
            return m
        time.sleep(0.05)


def cached_bytes(m):
    return sample(m, "ossify_image_cache_bytes")


def rendered_and_stored(srv, bucket, key, spec):
    """A first (rendering) request, once its result is stored."""
    r = processed(bucket, key, spec)
    assert r.status_code == 200, r.text
    assert r.headers[CACHE_HEADER] == "miss"
    settled(srv.endpoint(HZ), lambda m: cached_bytes(m) > 0)
    return r


def at_once(urls, n=8):
    """The responses to `n` GETs started together, of `urls` in turn."""
    results = [None] * n
    gate = threading.Barrier(n)

    def fetch(i):
        gate.wait()
        results[i] = requests.get(urls[i % len(urls)], timeout=120)
    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_hit_answers_exactly_what_the_render_answered(server_factory):
    srv = start(server_factory)
    b = bucket_on(srv, "hit")
    b.put_object("p.jpg", noisy_jpeg((640, 480), 1))
    spec = "image/resize,w_200/quality,q_80"
    first = rendered_and_stored(srv, b, "p.jpg", spec)
    second = processed(b, "p.jpg", spec)
    assert second.headers[CACHE_HEADER] == "hit"
    assert second.content == first.content
    assert comparable(second) == comparable(first)
    assert Image.open(io.BytesIO(second.content)).size == (200, 150)
    # A style resolves to the same pipeline, so to the same entry.
    b.put_bucket_style("thumb", "image/resize,w_200/quality,q_80")
    styled = processed(b, "p.jpg", "style/thumb")
    assert (styled.headers[CACHE_HEADER], styled.content) == ("hit", first.content)
    # The conditions hold on the derived ETag, as without the cache.
    etag = first.headers["etag"]
    r = processed(b, "p.jpg", spec, headers={"If-None-Match": etag})
    assert (r.status_code, r.headers["etag"]) == (304, etag)
    # The v2 SDK reads the same bytes.
    client = make_v2_client(OssifyEnv(srv))
    got = client.get_object(oss.GetObjectRequest(bucket=b.bucket_name, key="p.jpg",
                                                 process=spec))
    assert got.body.read() == first.content


def test_overwrite_delete_and_watermark_changes_are_never_served_stale(server_factory):
    srv = start(server_factory)
    b = bucket_on(srv, "stale")
    b.put_object("p.jpg", make_image(size=(400, 200), color=(200, 30, 40)))
    b.put_object("mark.png", make_image("PNG", size=(40, 40), color=(0, 0, 255)))
    spec = "image/resize,w_100"
    rendered_and_stored(srv, b, "p.jpg", spec)
    assert processed(b, "p.jpg", spec).headers[CACHE_HEADER] == "hit"
    # Overwrite with other pixels and another shape.
    b.put_object("p.jpg", make_image(size=(400, 400), color=(10, 200, 10)))
    r = processed(b, "p.jpg", spec)
    assert r.headers[CACHE_HEADER] == "miss"
    im = Image.open(io.BytesIO(r.content))
    assert im.size == (100, 100) and im.getpixel((50, 50))[1] > 150
    # Delete: the result is gone with its source.
    b.delete_object("p.jpg")
    r = processed(b, "p.jpg", spec)
    assert r.status_code == 404 and "NoSuchKey" in r.text
    # A watermark object that changes changes the result.
    b.put_object("p.jpg", make_image(size=(400, 200), color=(255, 255, 255)))
    mark = base64.urlsafe_b64encode(b"mark.png").decode().rstrip("=")
    wspec = "image/watermark,image_%s,g_center,t_100" % mark
    blue = processed(b, "p.jpg", wspec)
    assert blue.headers[CACHE_HEADER] == "miss"
    settled(srv.endpoint(HZ), lambda m: sample(m, "ossify_image_cache_lookups_total",
                                               result="miss") >= 3 and cached_bytes(m) > 0)
    assert processed(b, "p.jpg", wspec).headers[CACHE_HEADER] == "hit"
    time.sleep(1.1)  # Last-Modified has whole seconds
    b.put_object("mark.png", make_image("PNG", size=(40, 40), color=(255, 0, 0)))
    red = processed(b, "p.jpg", wspec)
    assert red.headers[CACHE_HEADER] == "miss"
    px = Image.open(io.BytesIO(red.content)).convert("RGB").getpixel((200, 100))
    assert px[0] > 200 and px[2] < 60, px
    # The ETag and Last-Modified follow the watermark too, so a client or CDN holding
    # the blue result revalidates to the red one instead of a 304.
    assert red.headers["etag"] != blue.headers["etag"]
    mark_modified = b.head_object("mark.png").headers["last-modified"]
    assert red.headers["last-modified"] == mark_modified != blue.headers["last-modified"]
    for condition in ({"If-None-Match": blue.headers["etag"]},
                      {"If-Modified-Since": blue.headers["last-modified"]}):
        r = processed(b, "p.jpg", wspec, headers=condition)
        assert (r.status_code, r.content) == (200, red.content), condition
    r = processed(b, "p.jpg", wspec, headers={"If-None-Match": red.headers["etag"]})
    assert (r.status_code, r.headers["etag"]) == (304, red.headers["etag"])
    # A deleted watermark object is an error, not the result it gave.
    b.delete_object("mark.png")
    r = processed(b, "p.jpg", wspec)
    assert r.status_code == 400 and "InvalidArgument" in r.text, r.text
    assert CACHE_HEADER not in r.headers
    # A private watermark is still refused to a requester who cannot read it, hit or not.
    anon = oss2.Bucket(oss2.AnonymousAuth(), srv.endpoint(HZ), b.bucket_name)
    b.put_object_acl("p.jpg", oss2.OBJECT_ACL_PUBLIC_READ)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object("p.jpg", process=wspec)
    assert anon.get_object("p.jpg", process=spec).read()


def test_a_version_change_is_never_served_stale(server_factory):
    srv = start(server_factory)
    b = bucket_on(srv, "versions")
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig(oss2.BUCKET_VERSIONING_ENABLE))
    spec = "image/resize,w_100"
    v1 = b.put_object("p.jpg", make_image(size=(400, 200), color=(200, 30, 40))).versionid
    first = rendered_and_stored(srv, b, "p.jpg", spec)
    v2 = b.put_object("p.jpg", make_image(size=(400, 200), color=(10, 200, 10))).versionid
    latest = processed(b, "p.jpg", spec)
    assert latest.headers[CACHE_HEADER] == "miss"
    assert Image.open(io.BytesIO(latest.content)).getpixel((50, 25))[1] > 150
    assert latest.headers["etag"] != first.headers["etag"]
    # Each version keeps its own result.
    old = b.get_object("p.jpg", process=spec, params={"versionId": v1})
    assert (old.headers[CACHE_HEADER], old.read()) == ("hit", first.content)
    new = b.get_object("p.jpg", process=spec, params={"versionId": v2})
    assert (new.headers[CACHE_HEADER], new.read()) == ("hit", latest.content)
    # Deleting the latest version brings the older one back, and its result.
    b.delete_object("p.jpg", params={"versionId": v2})
    back = processed(b, "p.jpg", spec)
    assert (back.headers[CACHE_HEADER], back.content) == ("hit", first.content)


def test_the_bound_holds_under_a_flood_of_distinct_specs(server_factory):
    bound = 300_000
    srv = start(server_factory, ["cache_bytes = %d" % bound])
    ep = srv.endpoint(HZ)
    b = bucket_on(srv, "flood")
    source = noisy_jpeg((800, 600), 2)
    b.put_object("p.jpg", source)
    sizes = []
    for w in range(300, 340):
        r = processed(b, "p.jpg", "image/resize,w_%d/quality,q_95" % w)
        assert r.status_code == 200
        sizes.append(len(r.content))
    assert sum(sizes) > 3 * bound, sizes
    m = settled(ep, lambda m: sample(m, "ossify_image_cache_lookups_total", result="miss") == 40
                and sample(m, "ossify_image_cache_evictions_total") > 0
                and cached_bytes(m) > 0)
    assert 0 < cached_bytes(m) <= bound
    evicted = sample(m, "ossify_image_cache_evictions_total")
    assert evicted >= 20
    # The most recent results stay; the first ones were evicted.
    time.sleep(0.5)
    assert processed(b, "p.jpg", "image/resize,w_339/quality,q_95").headers[CACHE_HEADER] == "hit"
    assert processed(b, "p.jpg", "image/resize,w_300/quality,q_95").headers[CACHE_HEADER] == "miss"
    m = settled(ep, lambda m: sample(m, "ossify_image_cache_evictions_total") > evicted)
    assert 0 < cached_bytes(m) <= bound
    if not STORAGE:
        # On disk too (the embedded store deletes blobs at once; shared storage after
        # `blob_delete_delay_secs`): the evicted results' blobs are gone.
        on_disk = sum(p.stat().st_size for p in blob_files(srv.data_dir))
        assert on_disk <= bound + len(source), (on_disk, bound)


def slow_render_url(srv, tag, seed):
    """A signed URL of a render that takes a while (a blur of a 2400x1800 photo)."""
    b = bucket_on(srv, tag)
    b.put_object("big.jpg", noisy_jpeg((2400, 1800), seed))
    return b.sign_url("GET", "big.jpg", 300,
                      params={"x-oss-process": "image/resize,w_640/blur,r_10,s_10"})


def test_identical_concurrent_requests_render_once(server_factory):
    srv = start(server_factory)
    ep = srv.endpoint(HZ)
    url = slow_render_url(srv, "flight", 3)
    before = scrape(ep)
    results = at_once([url])
    assert all(r.status_code == 200 for r in results)
    assert len({r.content for r in results}) == 1
    after = scrape(ep)
    lookups = "ossify_image_cache_lookups_total"
    assert grew(before, after, "ossify_image_step_duration_seconds_count", action="decode") == 1
    assert grew(before, after, lookups, result="miss") == 1
    assert grew(before, after, lookups, result="shared") + \
        grew(before, after, lookups, result="hit") == 7
    assert sorted(r.headers[CACHE_HEADER] for r in results) == ["hit"] * 7 + ["miss"]


def test_identical_failing_requests_render_once(server_factory):
    """A render that fails answers every request waiting for it with its error, instead
    of each waiting request rendering again in turn."""
    srv = start(server_factory, ["max_time_ms = 1"])
    ep = srv.endpoint(HZ)
    url = slow_render_url(srv, "fail", 8)
    before = scrape(ep)
    results = at_once([url])
    for r in results:
        assert r.status_code == 400 and "ImageTooLarge" in r.text, r.text
        assert "max_time_ms" in r.text
    after = scrape(ep)
    lookups = "ossify_image_cache_lookups_total"
    assert grew(before, after, lookups, result="miss") == 1
    assert grew(before, after, lookups, result="shared") == 7
    assert cached_bytes(after) == cached_bytes(before)


def test_a_restart_keeps_the_cache(server_factory):
    srv = start(server_factory)
    b = bucket_on(srv, "restart")
    b.put_object("p.jpg", noisy_jpeg((640, 480), 4))
    spec = "image/resize,w_160"
    first = rendered_and_stored(srv, b, "p.jpg", spec)
    srv.restart()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    again = processed(b, "p.jpg", spec)
    assert (again.headers[CACHE_HEADER], again.content) == ("hit", first.content)
    assert comparable(again) == comparable(first)
    if STORAGE:
        return
    # A stored result that can no longer be read (its blob cut short while the server
    # was down) is rendered again, never served.
    srv.stop()
    source = noisy_jpeg((640, 480), 4)
    cut = 0
    for path in blob_files(srv.data_dir):
        if path.read_bytes() != source:
            path.write_bytes(path.read_bytes()[:10])
            cut += 1
    assert cut >= 1
    srv.start()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    redone = processed(b, "p.jpg", spec)
    assert (redone.status_code, redone.headers[CACHE_HEADER]) == (200, "miss")
    assert redone.content == first.content


def test_a_lowered_bound_applies_at_start(server_factory):
    srv = start(server_factory)
    b = bucket_on(srv, "lower")
    b.put_object("p.jpg", noisy_jpeg((640, 480), 7))
    results = [rendered_and_stored(srv, b, "p.jpg", "image/resize,w_%d" % w) for w in (300, 310)]
    settled(srv.endpoint(HZ), lambda m: cached_bytes(m) >= sum(len(r.content) for r in results))
    # Room for the larger of the two only: the least recently used one goes at start.
    bound = max(len(r.content) for r in results) + 100
    srv.config_path.write_text(srv.config_path.read_text() + "cache_bytes = %d\n" % bound)
    srv.restart()
    m = settled(srv.endpoint(HZ), lambda m: 0 < cached_bytes(m) <= bound)
    assert 0 < cached_bytes(m) <= bound
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    assert processed(b, "p.jpg", "image/resize,w_310").headers[CACHE_HEADER] == "hit"
    # Off: one node's results are deleted; on shared storage the other nodes keep them.
    text = srv.config_path.read_text().replace("cache_bytes = %d" % bound, "cache_bytes = 0")
    srv.config_path.write_text(text)
    srv.restart()
    if not SHARED_METADATA:
        m = settled(srv.endpoint(HZ),
                    lambda m: sample(m, "ossify_image_cache_evictions_total") >= 1)
        assert sample(m, "ossify_image_cache_evictions_total") >= 1
    srv.config_path.write_text(text.replace("cache_bytes = 0", ""))
    srv.restart()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    again = processed(b, "p.jpg", "image/resize,w_310")
    assert again.headers[CACHE_HEADER] == ("hit" if SHARED_METADATA else "miss")
    assert again.content == results[1].content


def two_nodes(server_factory, tag):
    """Two nodes on one shared store, and a new bucket as seen through each."""
    a = start(server_factory)
    b_node = server_factory(config_text=a.config_path.read_text(), name=tag + "-b",
                            data_dir=a.data_dir if SHARED_DATA_DIR else None)
    b_node.start()
    b = bucket_on(a, tag)
    other = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), b_node.endpoint(HZ), b.bucket_name)
    return (a, b), (b_node, other)


@pytest.mark.skipif(not SHARED_METADATA, reason="needs two nodes on shared storage")
def test_nodes_on_shared_storage_share_one_cache(server_factory):
    (a, b), (_, other) = two_nodes(server_factory, "shared")
    b.put_object("p.jpg", noisy_jpeg((640, 480), 5))
    first = rendered_and_stored(a, b, "p.jpg", "image/resize,w_120")
    again = processed(other, "p.jpg", "image/resize,w_120")
    assert (again.headers[CACHE_HEADER], again.content) == ("hit", first.content)


@pytest.mark.skipif(not SHARED_METADATA, reason="needs two nodes on shared storage")
def test_identical_requests_on_two_nodes_render_once(server_factory):
    """The render takes a lease on its key in the database: an identical request on
    another node waits for the stored result instead of rendering too."""
    (a, b), (b_node, other) = two_nodes(server_factory, "flight2")
    b.put_object("big.jpg", noisy_jpeg((2400, 1800), 6))
    params = {"x-oss-process": "image/resize,w_640/blur,r_10,s_10"}
    urls = [bucket.sign_url("GET", "big.jpg", 300, params=params) for bucket in (b, other)]
    endpoints = [a.endpoint(HZ), b_node.endpoint(HZ)]
    before = [scrape(ep) for ep in endpoints]
    results = at_once(urls)
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert len({r.content for r in results}) == 1
    after = [scrape(ep) for ep in endpoints]
    decodes = sum(grew(x, y, "ossify_image_step_duration_seconds_count", action="decode")
                  for x, y in zip(before, after))
    assert decodes == 1
    assert sorted(r.headers[CACHE_HEADER] for r in results) == ["hit"] * 7 + ["miss"]


def test_cache_off(server_factory):
    srv = start(server_factory, ["cache_bytes = 0"])
    b = bucket_on(srv, "off")
    b.put_object("p.jpg", make_image(size=(400, 200)))
    for _ in range(2):
        r = processed(b, "p.jpg", "image/resize,w_100")
        assert r.status_code == 200 and CACHE_HEADER not in r.headers


def test_accept_negotiation(server_factory):
    srv = start(server_factory, ['auto_format = ["avif", "webp"]'])
    b = bucket_on(srv, "accept")
    b.put_object("p.jpg", make_image(size=(400, 200)))
    spec = "image/resize,w_100"
    chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
    avif = processed(b, "p.jpg", spec, headers={"Accept": chrome})
    assert avif.headers["content-type"] == "image/avif"
    assert avif.headers["vary"] == "Accept"
    assert avif.content[4:12] == b"ftypavif"
    webp = processed(b, "p.jpg", spec, headers={"Accept": "image/webp,*/*"})
    assert webp.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).size == (100, 50)
    assert webp.headers["vary"] == "Accept"
    plain = processed(b, "p.jpg", spec, headers={"Accept": "*/*"})
    assert (plain.headers["content-type"], plain.headers["vary"]) == ("image/jpeg", "Accept")
    etags = {avif.headers["etag"], webp.headers["etag"], plain.headers["etag"]}
    assert len(etags) == 3
    # Each choice is its own cache entry; a hit varies as the render did.
    again = processed(b, "p.jpg", spec, headers={"Accept": "image/webp"})
    assert (again.headers[CACHE_HEADER], again.content) == ("hit", webp.content)
    assert comparable(again) == comparable(webp)
    # 304 on the negotiated ETag, still varying.
    r = processed(b, "p.jpg", spec, headers={"Accept": "image/webp",
                                             "If-None-Match": webp.headers["etag"]})
    assert (r.status_code, r.headers["vary"]) == (304, "Accept")
    # An explicit format and queries are never changed, and do not vary.
    for explicit, ctype in [("image/resize,w_100/format,png", "image/png"),
                            ("image/info", "application/json")]:
        r = processed(b, "p.jpg", explicit, headers={"Accept": chrome})
        assert r.headers["content-type"] == ctype and "vary" not in r.headers
    # An S3-signed GET negotiates alike.
    url = "%s/%s/p.jpg?x-oss-process=%s" % (srv.endpoint(HZ), b.bucket_name,
                                            "image%2Fresize%2Cw_100")
    req = AWSRequest(method="GET", url=url, headers={"Accept": "image/webp"})
    S3SigV4Auth(Credentials(ROOT1.id, ROOT1.secret), "s3", "us-east-1").add_auth(req)
    r = requests.get(url, headers=dict(req.headers))
    assert r.status_code == 200, r.text
    assert (r.headers["content-type"], r.headers["vary"]) == ("image/webp", "Accept")
    assert r.content == webp.content
    # A bucket whose CORS rules vary by Origin keeps both (requests joins the two).
    rule = oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["GET"])
    b.put_bucket_cors(oss2.models.BucketCors([rule], response_vary=True))
    r = processed(b, "p.jpg", spec, headers={"Accept": "image/webp", "Origin": "https://a.example"})
    assert r.headers["access-control-allow-origin"] == "https://a.example"
    assert r.headers["vary"] == "Accept, Origin"


def test_accept_negotiation_per_bucket(server_factory):
    plain, photos = unique_bucket_name("plain"), unique_bucket_name("photos")
    srv = start(server_factory, ['auto_format = ["webp"]', "[image.auto_format_buckets]",
                                 '"%s" = []' % plain, '"%s" = ["avif"]' % photos])
    chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
    auth = oss2.Auth(ROOT1.id, ROOT1.secret)
    for name, ctype, vary in [(plain, "image/jpeg", None), (photos, "image/avif", "Accept"),
                              (unique_bucket_name("other"), "image/webp", "Accept")]:
        b = oss2.Bucket(auth, srv.endpoint(HZ), name)
        b.create_bucket()
        b.put_object("p.jpg", make_image(size=(400, 200)))
        r = processed(b, "p.jpg", "image/resize,w_100", headers={"Accept": chrome})
        assert (r.headers["content-type"], r.headers.get("vary")) == (ctype, vary), name


def test_negotiation_is_off_by_default(ossify):
    auth = oss2.Auth(ROOT1.id, ROOT1.secret)
    b = oss2.Bucket(auth, ossify.endpoint(), ossify.bucket_name("noaccept"))
    b.create_bucket()
    b.put_object("p.jpg", make_image(size=(400, 200)))
    r = processed(b, "p.jpg", "image/resize,w_100", headers={"Accept": "image/avif,image/webp"})
    assert r.headers["content-type"] == "image/jpeg" and "vary" not in r.headers
