"""The web console (/-/console/) in Debian's headless Chromium, driven by selenium,
against the real server: sign-in, buckets, uploads (single and multipart), folders,
image processing with styles and saveas, presigned links, deletes, and a RAM user's
AccessDenied. Results are checked with oss2 and requests.

Needs /usr/bin/chromium, /usr/bin/chromedriver (Debian: chromium chromium-driver) and
selenium; without them the module skips, unless OSSIFY_REQUIRE_CHROMIUM=1 (set by
scripts/test.sh where it can install them), where it fails. A failing test leaves a
screenshot under tests/sdk/artifacts/.
"""

import os
import re
import socket
from pathlib import Path

import oss2
import pytest
import requests

from conftest import ROOT1, ROOT2, Keys, Oss2Ctx, make_config, make_image, open_image, unique_bucket_name

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
MiB = 1024 * 1024


def _missing():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    return missing


if _missing():
    if os.environ.get("OSSIFY_REQUIRE_CHROMIUM") == "1":
        raise RuntimeError("OSSIFY_REQUIRE_CHROMIUM=1 but missing: %s" % ", ".join(_missing()))
    pytest.skip("console tests need %s" % ", ".join(_missing()), allow_module_level=True)

pytest.importorskip("PIL")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WAIT = 30


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield d
    d.quit()


@pytest.fixture
def page(driver, request):
    """The driver; a screenshot of a failed test goes to tests/sdk/artifacts/."""
    failed = request.session.testsfailed
    yield Console(driver)
    if request.session.testsfailed > failed:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")))


@pytest.fixture(scope="module")
def ctx(ossify):
    c = Oss2Ctx(ossify, "v4")
    yield c
    c.cleanup()


class Console(object):
    """Small helpers over the console's element ids."""

    def __init__(self, driver):
        self.d = driver

    def wait(self, condition, timeout=WAIT):
        return WebDriverWait(self.d, timeout).until(condition)

    def el(self, css):
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def visible(self, css):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def gone(self, css):
        self.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, css))

    def click(self, css):
        self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def type(self, css, text):
        el = self.visible(css)
        el.clear()
        el.send_keys(text)
        return el

    def text_has(self, css, text, timeout=WAIT):
        """Wait until the element's text contains `text`; return the text."""
        self.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout)
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def confirm(self, question):
        """Answer yes to the confirmation dialog once it asks `question` (a part of it)."""
        self.wait(lambda d: d.execute_script("return document.querySelector('#confirm').open"))
        self.text_has("#confirm-text", question)
        self.click("#confirm-yes")

    def open(self, endpoint):
        self.d.get(endpoint + "/-/console/")
        self.d.execute_script("sessionStorage.clear()")
        self.d.get(endpoint + "/-/console/")
        self.visible("#signin-form")
        # The region field is filled in from the server.
        self.wait(lambda d: d.find_element(By.ID, "signin-region").get_attribute("value"))

    def sign_in(self, keys, secret=None):
        self.type("#signin-id", keys.id)
        self.type("#signin-secret", secret if secret is not None else keys.secret)
        self.click("#signin-submit")

    def open_bucket(self, name):
        self.click('#bucket-list a[data-bucket="%s"]' % name)
        self.text_has("#bucket-title", name)

    def row(self, key):
        return self.el('#object-rows tr[data-key="%s"]' % key)

    def upload(self, path):
        self.d.find_element(By.ID, "file-input").send_keys(str(path))


def test_console_files_and_region(ossify):
    r = requests.get(ossify.hz + "/-/console/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in r.headers["Content-Security-Policy"]
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert requests.get(ossify.hz + "/-/console/js/oss.js", timeout=10).headers["Content-Type"] == \
        "text/javascript; charset=utf-8"
    assert requests.get(ossify.sh + "/-/console/region", timeout=10).json() == \
        {"region": "oss-cn-shanghai", "signingRegion": "cn-shanghai"}


def test_sign_in_errors_then_buckets(page, ossify, ctx):
    b = ctx.new_bucket("console-list")
    page.open(ossify.hz)
    assert page.d.find_element(By.ID, "signin-region").get_attribute("value") == "cn-hangzhou"
    page.sign_in(ossify.root1, secret="wrong-secret")
    assert "SignatureDoesNotMatch" in page.text_has("#signin-error", "SignatureDoesNotMatch")
    assert page.d.find_element(By.ID, "app-view").is_displayed() is False
    page.type("#signin-region", "cn-beijing")
    page.sign_in(ossify.root1)
    page.text_has("#signin-error", 'AccessDenied: Invalid signing region in Authorization header: this endpoint '
                  'serves region "cn-hangzhou", the request was signed for "cn-beijing".')
    assert page.d.find_element(By.ID, "app-view").is_displayed() is False
    page.type("#signin-region", "cn-hangzhou")
    page.sign_in(ossify.root1)
    page.visible('#bucket-list a[data-bucket="%s"]' % b.bucket_name)
    assert ossify.root1.id in page.visible("#whoami").text
    # The secret is kept for the tab's session only, and sign-out drops it.
    stored = page.d.execute_script("return sessionStorage.getItem('ossify-console')")
    assert ossify.root1.secret in stored
    assert not page.d.execute_script("return localStorage.length")
    page.click("#signout")
    page.visible("#signin-form")
    assert page.d.execute_script("return sessionStorage.getItem('ossify-console')") is None


def test_bucket_objects_images_styles(page, ossify, ctx, tmp_path):
    name = unique_bucket_name("console")
    page.open(ossify.hz)
    page.sign_in(ossify.root1)
    page.visible("#bucket-list")

    # Create a bucket (public-read), shown with its region.
    page.click("#create-bucket summary")
    page.type("#new-bucket-name", name)
    Select(page.el("#new-bucket-acl")).select_by_value("public-read")
    assert page.d.find_element(By.ID, "new-bucket-region").text == "oss-cn-hangzhou"
    page.click("#create-bucket-submit")
    page.text_has("#bucket-title", name)
    ctx.created.append(("oss-cn-hangzhou", name, None))
    bucket = ctx.bucket(name)
    assert bucket.get_bucket_acl().acl == "public-read"
    page.text_has("#bucket-region", "oss-cn-hangzhou")

    # A folder, then an image uploaded into it through the file input.
    page.type("#new-folder-name", "photos")
    page.click("#new-folder-form button")
    page.text_has("#crumbs", "photos")
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_image("JPEG", (400, 300), quadrants=True, quality=90))
    page.upload(photo)
    page.row("photos/cat.jpg")
    page.text_has("#uploads li", "done")
    assert bucket.get_object("photos/cat.jpg").read() == photo.read_bytes()

    # Navigate: the root shows the folder; the folder shows the image.
    page.click('#crumbs a[data-prefix=""]')
    page.click('#object-rows a.folder[data-prefix="photos/"]')
    page.row("photos/cat.jpg")
    # Filter by prefix within the folder.
    bucket.put_object("photos/dog.txt", b"woof")
    page.type("#search", "do")
    page.row("photos/dog.txt")
    page.gone('#object-rows tr[data-key="photos/cat.jpg"]')
    page.type("#search", "ca")
    page.row("photos/cat.jpg")
    page.gone('#object-rows tr[data-key="photos/dog.txt"]')

    # Details: HEAD headers and tags.
    rule = oss2.models.TaggingRule()
    rule.add("kind", "cat")
    bucket.put_object_tagging("photos/cat.jpg", oss2.models.Tagging(rule))
    page.click('#object-rows a.object[data-key="photos/cat.jpg"]')
    page.text_has("#object-meta", "image/jpeg")
    page.text_has("#object-tags", "kind")
    assert "cat" in page.d.find_element(By.ID, "object-tags").text

    # A presigned link with a chosen expiry works without credentials.
    Select(page.el("#presign-expiry")).select_by_value("300")
    page.click("#presign-form button")
    page.visible("#presign-out")
    url = page.d.find_element(By.ID, "presign-url").get_attribute("value")
    assert "x-oss-expires=300" in url and "x-oss-signature=" in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == photo.read_bytes()

    # Download: a short presigned link that asks for an attachment.
    page.d.execute_script("HTMLAnchorElement.prototype.click = function () { window.clicked = this.href; };")
    page.click("#download-object")
    url = page.wait(lambda d: d.execute_script("return window.clicked"))
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == photo.read_bytes()
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''cat.jpg"

    # Image processing: the result's dimensions follow the spec as typed.
    page.click("#edit-image")
    page.visible("#tab-image")
    page.wait(lambda d: d.execute_script("return document.querySelector('#orig-img').naturalWidth") == 400)
    page.type("#spec", "image/resize,w_100")
    page.text_has("#result-dims", "100 x 75 px")
    assert re.search(r"\d+ bytes", page.d.find_element(By.ID, "result-size").text)
    assert re.search(r"\d+ ms", page.d.find_element(By.ID, "result-time").text)
    page.type("#spec", "image/resize,w_100/rotate,90")
    page.text_has("#result-dims", "75 x 100 px")
    # An invalid spec shows the server's own Code and Message.
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.get_object("photos/cat.jpg", process="image/resize,w_0")
    page.type("#spec", "image/resize,w_0")
    assert page.text_has("#spec-error", e.value.message) == "%s: %s" % (e.value.code, e.value.message)
    assert not page.d.find_element(By.ID, "result-img").is_displayed()
    page.type("#spec", "image/resize,w_120")
    page.text_has("#result-dims", "120 x 90 px")
    page.wait(lambda d: not d.find_element(By.ID, "spec-error").is_displayed())

    # Save the spec as a style; it is listed on the Styles tab.
    page.type("#save-style-name", "w120")
    page.click("#save-style-form button")
    page.wait(lambda d: _style(bucket, "w120") == "image/resize,w_120")

    # Save the result as an object in a chosen key (sys/saveas).
    Select(page.el("#saveas-bucket")).select_by_value(name)
    page.type("#saveas-key", "out/cat-120.jpg")
    page.click("#saveas-form button")
    page.text_has("#saveas-result", "out/cat-120.jpg")
    assert open_image(bucket.get_object("out/cat-120.jpg").read()).size == (120, 90)

    page.click("#tab-btn-styles")
    page.text_has('#style-rows tr[data-style="w120"]', "image/resize,w_120")
    page.type("#style-name", "small")
    page.type("#style-content", "image/resize,w_16")
    page.click("#style-form button")
    page.text_has('#style-rows tr[data-style="small"]', "image/resize,w_16")
    page.click('#style-rows tr[data-style="small"] button.danger')
    page.confirm("small")
    page.gone('#style-rows tr[data-style="small"]')
    assert _style(bucket, "small") is None

    # Settings: an invalid policy shows the server's error; CORS rules are saved.
    page.click("#tab-btn-settings")
    page.text_has("#bucket-info", "oss-cn-hangzhou")
    page.text_has("#config-policy-state", "none")
    page.text_has("#config-cors-state", "none")
    page.type("#config-policy", "{not json")
    page.click("#config-policy-save")
    assert page.visible("#config-policy-error").text.startswith("InvalidPolicyDocument: ")
    page.type("#config-cors",
              "<CORSConfiguration><CORSRule><AllowedOrigin>https://example.com</AllowedOrigin>"
              "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    page.click("#config-cors-save")
    page.text_has("#config-cors-state", "(set)")
    assert bucket.get_bucket_cors().rules[0].allowed_origins == ["https://example.com"]

    # Delete several objects at once (DeleteMultipleObjects).
    for k in ("a.txt", "b.txt", "c.txt"):
        bucket.put_object(k, b"x")
    page.click("#tab-btn-objects")
    page.click('#crumbs a[data-prefix=""]')
    for k in ("a.txt", "b.txt"):
        page.click('#object-rows input.select[data-key="%s"]' % k)
    page.text_has("#delete-selected", "(2)")
    page.click("#delete-selected")
    page.confirm("2 objects")
    page.gone('#object-rows tr[data-key="a.txt"]')
    page.gone('#object-rows tr[data-key="b.txt"]')
    page.row("c.txt")
    assert not bucket.object_exists("a.txt") and not bucket.object_exists("b.txt")
    assert bucket.object_exists("c.txt")

    # Delete the bucket: it is not empty, so a second confirmation empties it first.
    page.click("#delete-bucket")
    page.confirm("Delete the bucket")
    page.confirm("not empty")
    page.gone('#bucket-list a[data-bucket="%s"]' % name)
    page.visible("#no-bucket")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket.get_bucket_info()


def test_paging_and_prefix_search(page, ossify, ctx):
    b = ctx.new_bucket("console-pages")
    for i in range(25):
        b.put_object("k%02d" % i, b"x")
    b.put_object("sub/inner", b"x")
    page.open(ossify.hz)
    page.sign_in(ossify.root1)
    page.open_bucket(b.bucket_name)
    page.row("k24")
    Select(page.el("#page-size")).select_by_visible_text("20")
    page.gone('#object-rows tr[data-key="k24"]')
    # Page 1: k00..k19 (the folder sub/ sorts after them, on page 2).
    page.row("k19")
    assert len(page.d.find_elements(By.CSS_SELECTOR, "#object-rows tr")) == 20
    page.click("#next-page")
    page.row("k24")
    page.el('#object-rows tr.folder[data-prefix="sub/"]')
    page.gone('#object-rows tr[data-key="k00"]')
    page.text_has("#page-info", "page 2")
    assert page.d.find_element(By.ID, "next-page").get_attribute("disabled")
    page.click("#prev-page")
    page.row("k00")
    page.text_has("#page-info", "page 1")
    page.type("#search", "k1")
    page.gone('#object-rows tr[data-key="k00"]')
    assert len(page.d.find_elements(By.CSS_SELECTOR, "#object-rows tr")) == 10


def test_keys_with_special_characters(page, ossify, ctx):
    """Listing (encoding-type=url) and signed paths of keys with spaces, '+', '%' and non-ASCII."""
    b = ctx.new_bucket("console-keys")
    key = "sp ace+plus/50% \u00fcber (1).txt"
    b.put_object(key, b"odd")
    page.open(ossify.hz)
    page.sign_in(ossify.root1)
    page.open_bucket(b.bucket_name)
    page.click('#object-rows a.folder[data-prefix="sp ace+plus/"]')
    page.click('#object-rows a.object[data-key="%s"]' % key)
    page.text_has("#object-meta", "content-length")
    page.click("#presign-form button")
    page.visible("#presign-out")
    assert requests.get(page.d.find_element(By.ID, "presign-url").get_attribute("value"), timeout=10).content == b"odd"
    page.click("#delete-object")
    page.confirm(key)
    page.visible("#objects-empty")
    assert not b.object_exists(key)


def _style(bucket, name):
    try:
        return bucket.get_bucket_style(name).content
    except oss2.exceptions.OssError:
        return None


def test_big_upload_is_multipart_with_progress(page, ossify, ctx, tmp_path):
    b = ctx.new_bucket("console-big")
    big = tmp_path / "big.bin"
    data = os.urandom(20 * MiB)
    big.write_bytes(data)
    page.open(ossify.hz)
    page.sign_in(ossify.root1)
    page.open_bucket(b.bucket_name)
    # Record every value the progress bar shows.
    page.d.execute_script("""
        window.progressSeen = [];
        new MutationObserver((ms) => ms.forEach((m) => {
          if (m.target.tagName === 'PROGRESS') window.progressSeen.push(Number(m.target.value));
        })).observe(document.querySelector('#uploads'), {attributes: true, subtree: true});
    """)
    page.upload(big)
    status = page.text_has('#uploads li[data-key="big.bin"]', "done", timeout=90)
    assert "multipart" in status
    page.row("big.bin")
    seen = page.d.execute_script("return window.progressSeen")
    assert any(0 < v < len(data) for v in seen), seen
    assert max(seen) == len(data)
    head = b.head_object("big.bin")
    assert head.headers["x-oss-object-type"] == "Multipart"
    assert re.fullmatch(r"[0-9A-F]{32}-3", head.etag), head.etag
    assert b.get_object("big.bin").read() == data


def test_cancelled_upload_leaves_nothing(page, ossify, ctx, tmp_path):
    b = ctx.new_bucket("console-cancel")
    big = tmp_path / "cancel.bin"
    big.write_bytes(os.urandom(20 * MiB))
    page.open(ossify.hz)
    page.sign_in(ossify.root1)
    page.open_bucket(b.bucket_name)
    # Slow uploads down so that Cancel comes while a part is on its way.
    page.d.execute_cdp_cmd("Network.enable", {})
    page.d.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 2 * MiB})
    try:
        page.upload(big)
        page.wait(lambda d: 0 < int(d.find_element(By.CSS_SELECTOR, '#uploads li[data-key="cancel.bin"] progress')
                                    .get_attribute("value") or 0))
        page.click('#uploads li[data-key="cancel.bin"] button')
        page.text_has('#uploads li[data-key="cancel.bin"]', "Cancelled: The upload was cancelled.")
    finally:
        page.d.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    assert not b.object_exists("cancel.bin")
    page.wait(lambda d: not list(oss2.MultipartUploadIterator(b)))


def test_ram_user_without_list_buckets_is_signed_in(page, ossify, ctx):
    """The reader may only GetObject: ListBuckets is denied, the key is still good."""
    b = ctx.new_bucket("console-reader")
    page.open(ossify.hz)
    page.sign_in(ossify.reader)
    assert page.text_has("#buckets-error", "AccessDenied").startswith("AccessDenied: ")
    assert ossify.reader.id in page.visible("#whoami").text
    page.type("#open-bucket-name", b.bucket_name)
    page.click("#open-bucket-form button")
    page.text_has("#bucket-title", b.bucket_name)
    assert page.text_has("#objects-error", "AccessDenied").startswith("AccessDenied: ")


READ_ONLY_POLICY = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:ListBuckets","oss:ListObjects",'
    '"oss:GetObject","oss:GetBucketLocation","oss:GetObjectTagging"],"Resource":["acs:oss:*:*:*"]}]}'
)


def test_read_only_ram_user_is_denied_delete(page, server_factory, tmp_path):
    srv = server_factory(config_text=None)
    # A RAM user of the second account (the last [[accounts]] of the test config).
    srv.config_path.write_text(make_config(srv.data_dir) + "\n".join([
        "", "[[accounts.users]]", 'name = "viewer"', 'access_key_id = "LTAIviewer"',
        'access_key_secret = "secret-viewer"', "policy = '''%s'''" % READ_ONLY_POLICY, ""]))
    srv.start()
    endpoint = srv.endpoint()
    owner = oss2.Bucket(oss2.AuthV4(ROOT2.id, ROOT2.secret), endpoint, unique_bucket_name("console-ro"),
                        region="cn-hangzhou")
    owner.create_bucket()
    owner.put_object("keep.txt", b"keep")

    page.open(endpoint)
    page.sign_in(Keys("LTAIviewer", "secret-viewer"))
    page.open_bucket(owner.bucket_name)
    page.click('#object-rows input.select[data-key="keep.txt"]')
    page.click("#delete-selected")
    page.confirm("keep.txt")
    assert page.text_has("#objects-error", "AccessDenied").startswith("AccessDenied: ")
    assert owner.object_exists("keep.txt")
    # Reading is allowed.
    page.click('#object-rows a.object[data-key="keep.txt"]')
    page.text_has("#object-meta", "content-length")


def _outward_address():
    """This machine's address on its default route (None without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_plain_http_elsewhere_signs_without_webcrypto(page, server_factory):
    """Off loopback over http the page is no secure context (no crypto.subtle): it says
    so and signs with the vendored hashes, DeleteMultipleObjects' MD5 included."""
    address = _outward_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address to serve the console on")
    srv = server_factory(config_text=None)
    text = make_config(srv.data_dir).replace('listen = ["127.0.0.1:0"]', 'listen = ["0.0.0.0:0"]', 1)
    srv.config_path.write_text(text + "\n[console]\nenabled = true\n")
    srv.start()
    endpoint = srv.endpoint().replace("0.0.0.0", address)
    b = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), endpoint, unique_bucket_name("console-http"),
                    region="cn-hangzhou")
    b.create_bucket()
    for k in ("x.txt", "y.txt"):
        b.put_object(k, b"x")
    page.open(endpoint)
    assert not page.d.execute_script("return window.isSecureContext")
    page.visible("#insecure")
    page.sign_in(ROOT1)
    page.open_bucket(b.bucket_name)
    page.click("#select-all")
    page.click("#delete-selected")
    page.confirm("2 objects")
    page.visible("#objects-empty")
    assert not list(oss2.ObjectIterator(b))
