"""User metadata (`x-oss-meta-*`) with UTF-8 values is stored and returned byte-exact."""

import pytest

from conftest import Oss2Ctx

VALUES = ["中文值", "naïve café", "emoji 🚀 ok", "plain ascii"]


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


def test_oss2_utf8_metadata_round_trip(ctx):
    b = ctx.new_bucket("meta")
    for i, value in enumerate(VALUES):
        # Python's http.client sends text as latin-1, so oss2 callers pass UTF-8 bytes.
        b.put_object("k%d" % i, b"x", headers={"x-oss-meta-note": value.encode("utf-8")})
        got = b.head_object("k%d" % i).headers["x-oss-meta-note"]
        # requests hands header values over as latin-1 text of the wire bytes.
        assert got.encode("latin-1").decode("utf-8") == value
