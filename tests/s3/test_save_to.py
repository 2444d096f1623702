"""``--save-to s3://…`` end to end: the CLI against the fal emulator and a real S3 API."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

FLUX = "fal-ai/flux/schnell"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_run_streams_every_output_into_s3_with_metadata(gm, s3):
    template = f"s3://{s3.bucket}/renders/{{request_id}}/{{index}}.{{ext}}"
    r = gm(
        "run", FLUX, "--prompt", "a cat", "--num_images", "2", "--save-to", template, "--s3-sidecar"
    )
    assert r.exit_code == 0, r.stderr
    doc = r.json
    rid = doc["request_id"]
    saved = doc["saved_files"]
    assert [f["path"] for f in saved] == [
        f"s3://{s3.bucket}/renders/{rid}/0.jpg",
        f"s3://{s3.bucket}/renders/{rid}/1.jpg",
    ]
    assert s3.keys() == sorted(
        [
            f"renders/{rid}/0.jpg",
            f"renders/{rid}/1.jpg",
            f"renders/{rid}/0.jpg.json",
            f"renders/{rid}/1.jpg.json",
        ]
    )
    for entry, image in zip(saved, doc["result"]["images"], strict=True):
        key = s3.key_of(entry["path"])
        body = s3.body(key)
        assert body == httpx.get(image["url"]).content  # the CDN's bytes, exactly
        assert entry["url"] == image["url"] and entry["size_bytes"] == len(body)
        assert entry["sha256"] == sha(body)
        head = s3.head(key)
        assert head["ContentType"] == "image/jpeg"
        meta = head["Metadata"]
        assert meta["genmedia-request-id"] == rid
        assert meta["genmedia-endpoint"] == FLUX
        sidecar = json.loads(s3.body(key + ".json"))
        assert entry["sidecar"] == entry["path"] + ".json"
        assert sidecar["request_id"] == rid and sidecar["sha256"] == entry["sha256"]
        assert sidecar["input"]["prompt"] == "a cat"
        canonical = json.dumps(sidecar["input"], sort_keys=True, separators=(",", ":"))
        assert meta["genmedia-input-sha256"] == sidecar["input_sha256"] == sha(canonical.encode())
    assert r.stderr == ""  # the JSON-mode contract: nothing on stderr on success


def test_prefix_and_download_together(gm, s3, chdir_tmp):
    r = gm(
        "run",
        FLUX,
        "--prompt",
        "a dog",
        "--download",
        "out/",
        "--save-to",
        f"s3://{s3.bucket}/runs/",
    )
    assert r.exit_code == 0, r.stderr
    doc = r.json
    [local] = doc["downloaded_files"]
    [remote] = doc["saved_files"]
    name = local["path"].rsplit("/", 1)[1]
    assert remote["path"] == f"s3://{s3.bucket}/runs/{doc['request_id']}/{name}"
    with open(local["path"], "rb") as fh:
        assert s3.body(s3.key_of(remote["path"])) == fh.read()
    assert remote["sha256"] == local["sha256"]


def test_both_sinks_name_their_sidecars_by_the_core_rule(gm, s3, chdir_tmp):
    """``--sidecar`` and ``--s3-sidecar`` follow one rule, ``genmedia.media.sidecar_name``."""
    from genmedia.media import sidecar_name

    r = gm(
        "run", FLUX, "--prompt", "a dog", "--download", "out/", "--sidecar",
        "--save-to", f"s3://{s3.bucket}/runs/", "--s3-sidecar",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    [local] = r.json["downloaded_files"]
    [remote] = r.json["saved_files"]
    assert sidecar_name("cat.png") == "cat.png.json"
    with open(sidecar_name(local["path"]), encoding="utf-8") as fh:
        assert json.load(fh)["request_id"] == r.json["request_id"]
    assert remote["sidecar"] == sidecar_name(remote["path"])
    key = s3.key_of(remote["path"])
    assert json.loads(s3.body(sidecar_name(key)))["request_id"] == r.json["request_id"]


def test_status_saves_a_finished_job(gm, s3):
    submitted = gm("run", FLUX, "--prompt", "later", "--async")
    assert submitted.exit_code == 0, submitted.stderr
    rid = submitted.json["request_id"]
    r = gm(
        "status", FLUX, rid, "--save-to", f"s3://{s3.bucket}/{{endpoint}}/{{request_id}}.{{ext}}"
    )
    assert r.exit_code == 0, r.stderr
    [saved] = r.json["saved_files"]
    assert saved["path"] == f"s3://{s3.bucket}/fal-ai_flux_schnell/{rid}.jpg"
    assert s3.head(s3.key_of(saved["path"]))["Metadata"]["genmedia-request-id"] == rid


def test_large_output_goes_up_in_parts(gm, s3, fal_sandbox_env):
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    r = gm("run", FLUX, "--prompt", "big", "--save-to", f"s3://{s3.bucket}/big/{{index}}.{{ext}}")
    assert r.exit_code == 0, r.stderr
    [saved] = r.json["saved_files"]
    key = s3.key_of(saved["path"])
    head = s3.head(key)
    assert head["ContentLength"] == 12 * 1024 * 1024 == saved["size_bytes"]
    assert head["ETag"].strip('"').endswith("-3")  # multipart: parts of 5, 5 and 2 MiB
    cdn = httpx.get(r.json["result"]["images"][0]["url"]).content
    assert sha(s3.body(key)) == sha(cdn) == saved["sha256"]
    assert s3.open_uploads() == []


def test_cdn_break_mid_upload_resumes_with_range(gm, s3, fal_sandbox_env):
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    fal_sandbox_env.add_fault(role="cdn", path="/files/*", kind="short_body", count=1)
    r = gm("run", FLUX, "--prompt", "big", "--save-to", f"s3://{s3.bucket}/x/{{index}}.{{ext}}")
    assert r.exit_code == 0, r.stderr
    [saved] = r.json["saved_files"]
    cdn_gets = [
        e.status_code for e in fal_sandbox_env.requests if e.role == "cdn" and e.method == "GET"
    ]
    assert cdn_gets[:2] == [200, 206]  # broken after half the body, resumed with Range
    cdn = httpx.get(r.json["result"]["images"][0]["url"]).content
    assert sha(s3.body(s3.key_of(saved["path"]))) == sha(cdn)


def test_fault_mid_upload_leaves_no_object(gm, s3, fal_sandbox_env, monkeypatch):
    from genmedia_s3 import upload

    from genmedia.http import RetryPolicy

    monkeypatch.setattr(upload, "SOURCE_POLICY", RetryPolicy(attempts=3, base=0.01, cap=0.02))
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    fal_sandbox_env.add_fault(role="cdn", path="/files/*", kind="short_body")  # every time
    target = f"s3://{s3.bucket}/x/{{index}}.{{ext}}"
    r = gm("run", FLUX, "--prompt", "big", "--save-to", target)
    assert r.exit_code == 9, r.stderr
    doc = r.json
    assert doc["request_id"] and doc["result"]["images"]  # the paid result is still printed
    assert doc["saved_files"] == []
    [failure] = doc["save_failures"]
    assert failure["target"] == f"s3://{s3.bucket}/x/0.jpg"
    assert failure["code"] == "SourceFailed" and "download failed" in failure["error"]
    assert s3.keys() == []  # no object, not even a partial one
    assert s3.open_uploads() == []  # and the multipart upload was aborted


def test_wrong_credentials_exit_3_and_keep_the_result(gm, s3, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
    r = gm("run", FLUX, "--prompt", "a cat", "--num_images", "2", "--save-to", f"s3://{s3.bucket}/")
    assert r.exit_code == 3, r.stderr
    doc = r.json
    assert doc["request_id"] and len(doc["result"]["images"]) == 2
    failures = doc["save_failures"]
    assert [f["code"] for f in failures] == ["SignatureDoesNotMatch"] * 2
    assert "refused the credentials" in failures[0]["error"]
    assert "not-the-secret" not in r.stdout + r.stderr
    assert s3.keys() == []


def test_unknown_access_key_is_exit_3(gm, s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN00")
    r = gm("run", FLUX, "--prompt", "a cat", "--save-to", f"s3://{s3.bucket}/")
    assert r.exit_code == 3
    assert r.json["save_failures"][0]["code"] == "InvalidAccessKeyId"


def test_no_credentials_fail_before_anything_is_paid(gm, s3, fal_sandbox_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = gm("run", FLUX, "--prompt", "a cat", "--save-to", f"s3://{s3.bucket}/")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert "AWS credentials" in r.error["error"]
    assert fal_sandbox_env.jobs == []  # nothing was submitted


def test_missing_bucket_is_a_failed_save(gm, s3):
    r = gm("run", FLUX, "--prompt", "a cat", "--save-to", "s3://no-such-bucket-here/x/")
    assert r.exit_code == 9
    [failure] = r.json["save_failures"]
    assert failure["code"] == "NoSuchBucket"


def test_explicit_endpoint_option(gm, s3, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    endpoint = s3.server.endpoint
    r = gm(
        "run",
        FLUX,
        "--prompt",
        "a cat",
        "--save-to",
        f"s3://{s3.bucket}/e/",
        "--s3-endpoint-url",
        endpoint,
    )
    assert r.exit_code == 0, r.stderr
    assert len(s3.keys("e/")) == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("https://bucket/x", "must start with s3://"),
        ("s3://bucket/{nme}.png", "unknown placeholder {nme}"),
        ("s3://bucket/{index", "unbalanced brace"),
        ("s3://b/x", "invalid bucket name"),
    ],
)
def test_bad_save_to_is_a_usage_error_before_any_run(gm, s3, fal_sandbox_env, value, message):
    r = gm("run", FLUX, "--prompt", "a cat", "--save-to", value)
    assert r.exit_code == 2
    assert message in r.stderr
    assert fal_sandbox_env.jobs == []


def test_the_journal_records_s3_objects_like_downloads(gm, s3):
    r = gm("run", FLUX, "--prompt", "journal me", "--save-to", f"s3://{s3.bucket}/j/")
    assert r.exit_code == 0, r.stderr
    [saved] = r.json["saved_files"]
    shown = gm("history", "show", r.json["request_id"])
    assert shown.exit_code == 0, shown.stderr
    [record] = shown.json["files"]
    assert record["path"] == saved["path"]  # the s3:// URI, not resolved as a local path
    assert record["sha256"] == saved["sha256"] and record["url"] == saved["url"]


def test_pretty_output_shows_where_each_output_went(fal_sandbox_env, s3):
    import genmedia_s3.plugin

    from genmedia.testing import invoke

    r = invoke(
        ["run", FLUX, "--prompt", "pretty", "--save-to", f"s3://{s3.bucket}/p/{{index}}.{{ext}}"],
        plugins=[genmedia_s3.plugin],
        env={"GENMEDIA_OUTPUT": "pretty"},
    )
    assert r.exit_code == 0, r.stderr
    assert f"images[0]: s3://{s3.bucket}/p/0.jpg" in r.stdout


def test_a_failing_part_is_retried(gm, s3, fal_sandbox_env, fault_proxy):
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    rule = fault_proxy.fail("PUT", part=2, count=2)  # part 2 fails twice, then lands
    r = gm("run", FLUX, "--prompt", "big", "--save-to", f"s3://{s3.bucket}/r/{{index}}.{{ext}}")
    assert r.exit_code == 0, r.stderr
    assert rule.fired == 2
    [saved] = r.json["saved_files"]
    cdn = httpx.get(r.json["result"]["images"][0]["url"]).content
    assert sha(s3.body(s3.key_of(saved["path"]))) == sha(cdn)


def test_a_part_that_never_lands_aborts_the_upload(
    gm, s3, fal_sandbox_env, fault_proxy, genmedia_config
):
    genmedia_config({"plugins": {"s3": {"max_attempts": 2}}})
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    rule = fault_proxy.fail("PUT", part=2)  # every time
    r = gm("run", FLUX, "--prompt", "big", "--save-to", f"s3://{s3.bucket}/r/{{index}}.{{ext}}")
    assert r.exit_code == 9, r.stderr
    assert 2 <= rule.fired < 5  # retried, within max_attempts from the config file (not 5)
    [failure] = r.json["save_failures"]
    assert failure["code"] == "InternalError" and failure["target"] == f"s3://{s3.bucket}/r/0.jpg"
    assert s3.keys() == []  # part 1 landed, but no object exists
    assert s3.open_uploads() == []  # AbortMultipartUpload cleaned it up


def test_parallel_parts_from_config(gm, s3, fal_sandbox_env, genmedia_config):
    genmedia_config({"plugins": {"s3": {"concurrency": 3, "part_size_mib": 5}}})
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="large_output", mib=22, count=1)
    r = gm("run", FLUX, "--prompt", "big", "--save-to", f"s3://{s3.bucket}/c/{{index}}.{{ext}}")
    assert r.exit_code == 0, r.stderr
    [saved] = r.json["saved_files"]
    key = s3.key_of(saved["path"])
    assert s3.head(key)["ETag"].strip('"').endswith("-5")
    cdn = httpx.get(r.json["result"]["images"][0]["url"]).content
    assert sha(s3.body(key)) == sha(cdn) == saved["sha256"]


def test_status_without_credentials_keeps_the_result_exit_3(gm, s3, monkeypatch):
    submitted = gm("run", FLUX, "--prompt", "later", "--async")
    rid = submitted.json["request_id"]
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = gm("status", FLUX, rid, "--save-to", f"s3://{s3.bucket}/")
    assert r.exit_code == 3
    assert r.json["request_id"] == rid and r.json["result"]["images"]
    [failure] = r.json["save_failures"]
    assert failure["code"] == "NoCredentials"
    assert s3.keys() == []


def test_companion_options_alone_are_ignored_with_a_warning(gm, s3):
    r = gm("run", FLUX, "--prompt", "x", "--s3-sidecar")
    assert r.exit_code == 0
    assert "--s3-sidecar only applies together with --save-to; ignored" in r.json["warnings"]
    assert "saved_files" not in r.json
