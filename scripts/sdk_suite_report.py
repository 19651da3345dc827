"""Pass rate of an SDK's own integration suite from its junit XML files (one per
test file), counting apart the tests that need Alibaba services outside OSS.

    python scripts/sdk_suite_report.py JUNIT_DIR [-v]
"""

import collections
import glob
import os
import sys
import xml.etree.ElementTree as ET

# Test files that need a service outside OSS, or something else no local server has.
EXCLUDED_FILES = {
    "test_sts": "STS",
    "test_credentials_provider": "STS / ECS RAM role",
    "test_live_channel": "RTMP live channels",
    "test_select_csv_object": "SelectObject",
    "test_select_json_object": "SelectObject",
    "test_bucket_cname": "CNAME / real DNS",
    "test_proxy": "an HTTP proxy",
    "test_bucket_inventory": "inventory",
    "test_bucket_replication": "replication",
    "test_access_point": "access points",
    "test_async_fetch_task": "async fetch from the internet",
    "test_bucket_access_monitor": "access monitor",
    "test_bucket_data_redundancy_transition": "redundancy transition",
    "test_bucket_https_config": "TLS configuration",
    "test_bucket_meta_query": "MetaQuery",
    "test_bucket_resource_group": "resource groups",
    "test_bucket_describe_regions": "the real region list",
    "test_qos_and_resource_pool": "QoS / resource pools",
    "test_qos_info": "QoS",
    "test_write_get_object_response": "Function Compute",
    "test_image": "fixtures missing from the sdist",
}
# Single tests, by words of their name (between underscores).
EXCLUDED_WORDS = {
    "sts": "STS",
    "cname": "CNAME / real DNS",
    "https": "TLS endpoint",
    "resource_group": "resource groups",
    "group_id": "resource groups",
    "region_list": "the real region list",
    "storage_capacity": "QoS",
    "async_process": "asynchronous processing (IMM)",
    "timeout": "a remote server (1 ms connect timeout)",
    "live_channel": "RTMP live channels",
}
# Failures that show a test reached for something outside the server.
EXCLUDED_MESSAGES = {
    "aliyuncs.com": "a real Alibaba Cloud endpoint (KMS, another region)",
    "No such file or directory: 'tests/": "fixtures missing from the sdist",
    "Name or service not known": "real DNS names",
    "Port could not be cast": "an endpoint without a port (client-side check)",
    "SDK.InvalidCredential": "a KMS client (aliyunsdkcore)",
    "unsupported locale setting": "a zh_CN locale on the client",
}


def outcome(tc):
    for tag in ("failure", "error"):
        el = tc.find(tag)
        if el is not None:
            return "fail", (el.get("message") or "").replace("\n", " ")
    if tc.find("skipped") is not None:
        return "skip", ""
    return "pass", ""


def main():
    verbose = "-v" in sys.argv
    counts = collections.Counter()
    excluded = collections.Counter()
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.xml"))):
        name = os.path.basename(path)[:-4]
        seen = {}
        for tc in ET.parse(path).getroot().iter("testcase"):
            test = "%s::%s" % (name, tc.get("name"))
            state, message = outcome(tc)
            # A failing tearDown reports the test twice: keep the worse outcome.
            if seen.get(test, ("pass",))[0] == "fail":
                continue
            seen[test] = (state, message)
        for test, (state, message) in seen.items():
            words = "_%s_" % test.split("::")[1].lower()
            why = (EXCLUDED_FILES.get(name)
                   or next((w for word, w in EXCLUDED_WORDS.items() if "_%s_" % word in words), None)
                   or next((w for text, w in EXCLUDED_MESSAGES.items() if text in message), None))
            if why:
                excluded[why] += 1
                continue
            counts[state] += 1
            if verbose and state == "fail":
                print("FAIL %s  %s" % (test, message[:200]))
    ran = counts["pass"] + counts["fail"]
    print("excluded (need services outside OSS): %d" % sum(excluded.values()))
    for why, n in sorted(excluded.items(), key=lambda kv: -kv[1]):
        print("  %4d  %s" % (n, why))
    print("in scope: %d passed, %d failed, %d skipped: %.1f %% pass"
          % (counts["pass"], counts["fail"], counts["skip"], 100.0 * counts["pass"] / max(ran, 1)))


if __name__ == "__main__":
    main()
