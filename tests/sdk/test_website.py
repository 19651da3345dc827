"""Static website hosting: Put/Get/DeleteBucketWebsite with oss2 (V1 and V4) and
alibabacloud-oss-v2, and anonymous reads (plain `requests`) answered as a website:
index documents (SupportSubDir, Type 0/1/2), error documents, routing rules (External
and Internal), each document read with the requester's rights."""

import oss2
import pytest
import requests
from oss2.models import BucketWebsite, Condition, ConditionInlcudeHeader, Redirect, RoutingRule

from conftest import (HZ, ROOT1, make_v2_client, object_url, parse_error, signed_request,
                      unique_bucket_name, v2_service_error)


@pytest.fixture
def bucket(ossify, auth):
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("web"), region="cn-hangzhou")
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    yield b
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


def put_xml(auth, endpoint, bucket, body):
    return signed_request(auth, "PUT", endpoint, bucket.bucket_name, params={"website": ""}, data=body)


def site(index="", extra=""):
    return "<WebsiteConfiguration>%s%s</WebsiteConfiguration>" % (index, extra)


def test_put_get_delete_with_oss2(bucket):
    with pytest.raises(oss2.exceptions.NoSuchWebsite) as e:
        bucket.get_bucket_website()
    assert e.value.status == 404
    # oss2 parses a rule only when its Condition has both KeyPrefixEquals and
    # HttpErrorCodeReturnedEquals.
    rule = RoutingRule(1, Condition(key_prefix_equals="old/", http_err_code_return_equals=404),
                       Redirect(redirect_type="External", host_name="example.com", proto="https",
                                http_redirect_code=301, replace_key_prefix_with="new/",
                                pass_query_string=True))
    internal = RoutingRule(2, Condition(key_prefix_equals="a/", http_err_code_return_equals=404, include_header_list=[
        ConditionInlcudeHeader("x-app", "1")]), Redirect(redirect_type="Internal", replace_key_with="b/${key}"))
    bucket.put_bucket_website(BucketWebsite("index.html", "error.html", [internal, rule]))
    got = bucket.get_bucket_website()
    assert (got.index_file, got.error_file) == ("index.html", "error.html")
    assert [r.rule_num for r in got.rules] == [1, 2]
    r1, r2 = got.rules
    assert (r1.condition.key_prefix_equals, r1.condition.http_err_code_return_equals, r1.redirect.redirect_type, r1.redirect.host_name,
            r1.redirect.proto, r1.redirect.http_redirect_code, r1.redirect.replace_key_prefix_with,
            r1.redirect.pass_query_string) == ("old/", 404, "External", "example.com", "https", 301, "new/", True)
    assert (r2.redirect.redirect_type, r2.redirect.replace_key_with) == ("Internal", "b/${key}")
    assert [(h.key, h.equals) for h in r2.condition.include_header_list] == [("x-app", "1")]
    assert bucket.delete_bucket_website().status == 204
    with pytest.raises(oss2.exceptions.NoSuchWebsite):
        bucket.get_bucket_website()


def test_bad_configurations_change_nothing(ossify, bucket, auth):
    endpoint = ossify.endpoint(HZ)
    bucket.put_bucket_website(BucketWebsite("index.html", "error.html"))
    index = "<IndexDocument><Suffix>i.html</Suffix>%s</IndexDocument>"
    rule = ("<RoutingRules><RoutingRule><RuleNumber>1</RuleNumber><Condition><KeyPrefixEquals>a</KeyPrefixEquals>"
            "</Condition><Redirect>%s</Redirect></RoutingRule></RoutingRules>")
    cases = [
        ("<WebsiteConfiguration>", 400, "MalformedXML"),
        (site(), 400, "MalformedXML"),
        ("<Other/>", 400, "MalformedXML"),
        (site(index % "<Type>3</Type>"), 400, "InvalidArgument"),
        (site(index % "<SupportSubDir>yes</SupportSubDir>"), 400, "InvalidArgument"),
        (site(extra="<ErrorDocument><Key>e</Key><HttpStatus>500</HttpStatus></ErrorDocument>"), 400,
         "InvalidArgument"),
        (site(extra=rule % "<RedirectType>Mirror</RedirectType><MirrorURL>http://o/</MirrorURL>"), 501,
         "NotImplemented"),
        (site(extra=rule % "<RedirectType>AliCDN</RedirectType>"), 501, "NotImplemented"),
        (site(extra=rule % "<RedirectType>Nowhere</RedirectType>"), 400, "InvalidArgument"),
        (site(extra=rule % ""), 400, "MalformedXML"),
        (site(extra=rule % "<RedirectType>External</RedirectType><HttpRedirectCode>303</HttpRedirectCode>"),
         400, "InvalidArgument"),
        (site(extra=rule % "<RedirectType>Internal</RedirectType><HostName>h</HostName>"), 400,
         "InvalidArgument"),
        (site(extra=rule % ("<RedirectType>External</RedirectType><ReplaceKeyWith>a</ReplaceKeyWith>"
                            "<ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith>")), 400, "InvalidArgument"),
        (site(extra="<RoutingRules>" + "".join(
            "<RoutingRule><RuleNumber>1</RuleNumber><Condition/><Redirect><RedirectType>External</RedirectType>"
            "</Redirect></RoutingRule>" for _ in range(2)) + "</RoutingRules>"), 400, "InvalidArgument"),
    ]
    for body, status, code in cases:
        r = put_xml(auth, endpoint, bucket, body)
        assert (r.status_code, parse_error(r.content)["Code"]) == (status, code), (body, r.text)
    got = bucket.get_bucket_website()
    assert (got.index_file, got.error_file, got.rules) == ("index.html", "error.html", [])


def test_v2_sdk_round_trip(ossify):
    import alibabacloud_oss_v2 as oss
    client = make_v2_client(ossify)
    name = unique_bucket_name("webv2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        with pytest.raises(Exception) as e:
            client.get_bucket_website(oss.GetBucketWebsiteRequest(bucket=name))
        err = v2_service_error(e)
        assert (err.status_code, err.code) == (404, "NoSuchWebsiteConfiguration")
        config = oss.WebsiteConfiguration(
            index_document=oss.IndexDocument(suffix="index.html", support_sub_dir=True, type=2),
            error_document=oss.ErrorDocument(key="404.html", http_status=200),
            routing_rules=oss.RoutingRules(routing_rules=[oss.RoutingRule(
                rule_number=5,
                condition=oss.RoutingRuleCondition(key_prefix_equals="x/", http_error_code_returned_equals=404),
                redirect=oss.RoutingRuleRedirect(redirect_type="External", host_name="example.com",
                                                 http_redirect_code=307))]))
        client.put_bucket_website(oss.PutBucketWebsiteRequest(bucket=name, website_configuration=config))
        got = client.get_bucket_website(oss.GetBucketWebsiteRequest(bucket=name)).website_configuration
        assert (got.index_document.suffix, got.index_document.support_sub_dir, got.index_document.type) == (
            "index.html", True, 2)
        assert (got.error_document.key, got.error_document.http_status) == ("404.html", 200)
        rule = got.routing_rules.routing_rules[0]
        assert (rule.rule_number, rule.condition.key_prefix_equals, rule.condition.http_error_code_returned_equals,
                rule.redirect.redirect_type, rule.redirect.host_name, rule.redirect.http_redirect_code) == (
            5, "x/", 404, "External", "example.com", 307)
        client.delete_bucket_website(oss.DeleteBucketWebsiteRequest(bucket=name))
    finally:
        client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def anon(ossify, bucket, key="", method="GET", **kw):
    url = object_url(ossify.endpoint(HZ), bucket.bucket_name, key)
    return requests.request(method, url, allow_redirects=False, **kw)


def configure(ossify, auth, bucket, index, extra=""):
    r = put_xml(auth, ossify.endpoint(HZ), bucket, site(index, extra))
    assert r.status_code == 200, r.text


def test_index_and_error_documents(ossify, bucket, auth):
    for key, body in [("index.html", b"root"), ("dir/index.html", b"sub"), ("error.html", b"oops"),
                      ("page.txt", b"page")]:
        bucket.put_object(key, body)
    configure(ossify, auth, bucket, "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
              "<ErrorDocument><Key>error.html</Key></ErrorDocument>")
    r = anon(ossify, bucket)
    assert (r.status_code, r.content) == (200, b"root")
    # Without SupportSubDir every directory gets the root's index.
    assert anon(ossify, bucket, "dir/").content == b"root"
    assert anon(ossify, bucket, "page.txt").content == b"page"
    r = anon(ossify, bucket, "missing")
    assert (r.status_code, r.content) == (404, b"oops")
    r = anon(ossify, bucket, "missing", method="HEAD")
    assert (r.status_code, r.content) == (404, b"")
    # Signed requests get the API: a listing, and NoSuchKey.
    assert b"<ListBucketResult>" in signed_request(auth, "GET", ossify.endpoint(HZ), bucket.bucket_name).content
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")
    # Parameters make the root a listing again (anonymous, on a public-read bucket).
    r = anon(ossify, bucket, params={"prefix": "dir/"})
    assert r.status_code == 200 and b"<Key>dir/index.html</Key>" in r.content

    # SupportSubDir with Type 0: `dir` redirects to `dir/` when dir/index.html exists.
    configure(ossify, auth, bucket, "<IndexDocument><Suffix>index.html</Suffix><SupportSubDir>true</SupportSubDir>"
              "<Type>0</Type></IndexDocument><ErrorDocument><Key>error.html</Key><HttpStatus>200</HttpStatus>"
              "</ErrorDocument>")
    assert anon(ossify, bucket, "dir/").content == b"sub"
    r = anon(ossify, bucket, "dir")
    assert (r.status_code, r.headers["Location"]) == (302, "/%s/dir/" % bucket.bucket_name)
    r = anon(ossify, bucket, "nodir")
    assert (r.status_code, r.content) == (200, b"oops")
    # Type 2 serves dir/index.html in place; Type 1 goes to the error document.
    configure(ossify, auth, bucket, "<IndexDocument><Suffix>index.html</Suffix><SupportSubDir>true</SupportSubDir>"
              "<Type>2</Type></IndexDocument><ErrorDocument><Key>error.html</Key></ErrorDocument>")
    r = anon(ossify, bucket, "dir")
    assert (r.status_code, r.content) == (200, b"sub")
    configure(ossify, auth, bucket, "<IndexDocument><Suffix>index.html</Suffix><SupportSubDir>true</SupportSubDir>"
              "<Type>1</Type></IndexDocument><ErrorDocument><Key>error.html</Key></ErrorDocument>")
    r = anon(ossify, bucket, "dir")
    assert (r.status_code, r.content) == (404, b"oops")
    # No error document: OSS's NoSuchKey.
    configure(ossify, auth, bucket, "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>")
    r = anon(ossify, bucket, "missing")
    assert r.status_code == 404 and parse_error(r.content)["Code"] == "NoSuchKey"


def test_routing_rules(ossify, bucket, auth):
    bucket.put_object("docs/a.txt", b"doc-a")
    bucket.put_object("error.html", b"oops")
    rules = (
        "<RoutingRules>"
        "<RoutingRule><RuleNumber>1</RuleNumber><Condition><KeyPrefixEquals>old/</KeyPrefixEquals></Condition>"
        "<Redirect><RedirectType>External</RedirectType><Protocol>https</Protocol><HostName>example.com</HostName>"
        "<HttpRedirectCode>301</HttpRedirectCode><ReplaceKeyPrefixWith>new/</ReplaceKeyPrefixWith>"
        "<PassQueryString>true</PassQueryString></Redirect></RoutingRule>"
        "<RoutingRule><RuleNumber>2</RuleNumber><Condition><KeyPrefixEquals>alias/</KeyPrefixEquals>"
        "<IncludeHeader><Key>x-app</Key><Equals>1</Equals></IncludeHeader></Condition>"
        "<Redirect><RedirectType>Internal</RedirectType><ReplaceKeyPrefixWith>docs/</ReplaceKeyPrefixWith>"
        "</Redirect></RoutingRule>"
        "<RoutingRule><RuleNumber>3</RuleNumber><Condition><KeyPrefixEquals>gone/</KeyPrefixEquals>"
        "<HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>"
        "<Redirect><RedirectType>External</RedirectType><ReplaceKeyWith>docs/${key}</ReplaceKeyWith></Redirect>"
        "</RoutingRule></RoutingRules>")
    configure(ossify, auth, bucket, "<ErrorDocument><Key>error.html</Key></ErrorDocument>", rules)
    r = anon(ossify, bucket, "old/x y.html", params={"a": "b"})
    assert (r.status_code, r.headers["Location"]) == (301, "https://example.com/new/x%20y.html?a=b")
    r = anon(ossify, bucket, "alias/a.txt", headers={"x-app": "1"})
    assert (r.status_code, r.content) == (200, b"doc-a")
    # Without the header the rule does not match: a 404 with the error document.
    r = anon(ossify, bucket, "alias/a.txt")
    assert (r.status_code, r.content) == (404, b"oops")
    # A rule on the 404 (default 302, this endpoint, the bucket kept in a path-style URL).
    r = anon(ossify, bucket, "gone/a.txt")
    # The node that answered (scale-out runs alternate between two).
    host = r.request.url.split("://", 1)[1].split("/", 1)[0]
    assert (r.status_code, r.headers["Location"]) == (
        302, "http://%s/%s/docs/gone/a.txt" % (host, bucket.bucket_name))
    bucket.put_object("gone/a.txt", b"back")
    assert anon(ossify, bucket, "gone/a.txt").content == b"back"


def test_documents_are_read_with_the_requesters_rights(ossify, auth):
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("webp"), region="cn-hangzhou")
    b.create_bucket()
    try:
        b.put_object("index.html", b"private")
        b.put_object("public/index.html", b"public", headers={"x-oss-object-acl": "public-read"})
        configure(ossify, auth, b, "<IndexDocument><Suffix>index.html</Suffix><SupportSubDir>true</SupportSubDir>"
                  "</IndexDocument><ErrorDocument><Key>index.html</Key></ErrorDocument>")
        r = anon(ossify, b)
        assert r.status_code == 403 and parse_error(r.content)["Code"] == "AccessDenied"
        r = anon(ossify, b, "public/")
        assert (r.status_code, r.content) == (200, b"public")
        # The error document is private too.
        r = anon(ossify, b, "missing")
        assert r.status_code == 403 and parse_error(r.content)["Code"] == "AccessDenied"
    finally:
        for o in oss2.ObjectIterator(b):
            b.delete_object(o.key)
        b.delete_bucket()
