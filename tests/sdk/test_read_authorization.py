"""Every object an image request reads is authorized for the requester: watermark
images and symlink targets pass the same GetObject check as a direct GET
(ACLs, bucket policy and RAM policy), before any pixel work."""

import oss2
import pytest

from conftest import (HZ, ROOT1, ROOT2, V4_REGION, OssifyServer, b64_url, make_config,
                      make_image, open_image, unique_bucket_name)

PUB_ONLY = oss2.Auth("LTAIpubonly", "secret-pubonly")


def pub_only_config(data_dir, bucket):
    """The standard test configuration plus a RAM user of ROOT1 that may read only `pub/*`."""
    policy = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
              '"Resource":["acs:oss:*:*:%s/pub/*"]}]}' % bucket)
    text = make_config(data_dir)
    marker = 'access_key_secret = "%s"\n' % ROOT1.secret
    user = ('[[accounts.users]]\nname = "pubonly"\naccess_key_id = "LTAIpubonly"\n'
            'access_key_secret = "secret-pubonly"\npolicy = \'\'\'%s\'\'\'\n' % policy)
    return text.replace(marker, marker + user, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("read-authz")
    name = unique_bucket_name("authz")
    server = OssifyServer(workdir, config_text=pub_only_config(workdir / "data", name))
    server.start()
    endpoint = server.endpoint(HZ)
    owner = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), endpoint, name)
    owner.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    photo = make_image("JPEG", size=(64, 48), color=(10, 200, 10))
    secret = make_image("PNG", size=(16, 16), color=(255, 0, 0))
    owner.put_object("pub.jpg", photo, headers={"x-oss-object-acl": "public-read"})
    owner.put_object("pub/a.jpg", photo)
    owner.put_object("pub/mark.png", make_image("PNG", size=(16, 16), color=(0, 0, 255)))
    owner.put_object("secret.png", secret)
    owner.put_symlink("secret.png", "pub/link")
    owner.put_symlink("pub/a.jpg", "pub/link-inside")
    owner.put_symlink("secret.png", "pub/mark-link.png")

    class World(object):
        pass
    w = World()
    w.server, w.endpoint, w.name, w.owner = server, endpoint, name, owner
    w.anon = oss2.Bucket(oss2.AnonymousAuth(), endpoint, name)
    w.pub_only = oss2.Bucket(PUB_ONLY, endpoint, name)
    w.pub_only_v4 = oss2.Bucket(oss2.AuthV4("LTAIpubonly", "secret-pubonly"), endpoint, name,
                                region=V4_REGION[HZ])
    w.other = oss2.Bucket(oss2.Auth(ROOT2.id, ROOT2.secret), endpoint, name)
    yield w
    server.stop()


def watermark(key):
    return "image/watermark,image_%s,g_se,x_0,y_0" % b64_url(key)


def denied(call):
    with pytest.raises(oss2.exceptions.AccessDenied) as e:
        call()
    assert e.value.status == 403
    return e.value


def test_direct_reads_are_refused_to_those_who_may_not(world):
    denied(lambda: world.anon.get_object("secret.png"))
    denied(lambda: world.pub_only.get_object("secret.png"))
    denied(lambda: world.other.get_object("secret.png"))
    assert world.anon.get_object("pub.jpg").read()
    assert world.pub_only.get_object("pub/a.jpg").read()


@pytest.mark.parametrize("who", ["anon", "other"])
def test_watermark_of_a_private_object_is_refused(world, who):
    bucket = getattr(world, who)
    # The source itself is readable: only the watermark is not.
    assert bucket.get_object("pub.jpg", process="image/resize,w_10").read()
    denied(lambda: bucket.get_object("pub.jpg", process=watermark("secret.png")))


@pytest.mark.parametrize("auth", ["pub_only", "pub_only_v4"])
def test_ram_user_watermark_outside_its_policy_is_refused(world, auth):
    bucket = getattr(world, auth)
    denied(lambda: bucket.get_object("pub/a.jpg", process=watermark("secret.png")))
    # A watermark through a symlink inside pub/ to a private target is refused as well.
    denied(lambda: bucket.get_object("pub/a.jpg", process=watermark("pub/mark-link.png")))
    img = open_image(bucket.get_object("pub/a.jpg", process=watermark("pub/mark.png")).read())
    assert img.size == (64, 48)


def test_watermark_refusal_comes_before_a_missing_watermark(world):
    # A requester without read rights learns nothing about which keys exist.
    denied(lambda: world.anon.get_object("pub.jpg", process=watermark("no-such.png")))
    with pytest.raises(oss2.exceptions.OssError) as e:
        world.owner.get_object("pub.jpg", process=watermark("no-such.png"))
    assert e.value.status == 400


def test_symlink_does_not_grant_what_its_target_refuses(world):
    # pub/link is inside the RAM user's policy; its target secret.png is not.
    denied(lambda: world.pub_only.get_object("pub/link"))
    denied(lambda: world.pub_only.get_object("pub/link", process="image/resize,w_8"))
    data = world.pub_only.get_object("pub/link-inside").read()
    assert open_image(data).size == (64, 48)
    # The owner reads through the link as before.
    assert open_image(world.owner.get_object("pub/link").read()).size == (16, 16)


def test_symlink_target_acl_counts(world):
    world.owner.put_object("open.png", make_image("PNG", size=(8, 8)),
                           headers={"x-oss-object-acl": "public-read"})
    world.owner.put_symlink("secret.png", "open-link", headers={"x-oss-object-acl": "public-read"})
    world.owner.put_symlink("open.png", "open-link-2", headers={"x-oss-object-acl": "public-read"})
    # The link is public-read, its target is private: the anonymous read is refused.
    err = denied(lambda: world.anon.get_object("open-link"))
    assert err.code == "AccessDenied"
    assert open_image(world.anon.get_object("open-link-2").read()).size == (8, 8)
    with pytest.raises(oss2.exceptions.OssError) as e:
        world.anon.head_object("open-link")
    assert e.value.status == 403
