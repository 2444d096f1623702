"""Downloads under emulator faults: every test checks the files on disk and the exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from genmedia.context import AppContext

from .conftest import blob, listing, sha

pytestmark = pytest.mark.usefixtures("fast_retries")

MIB = 1 << 20


def cdn_gets(server, path_part: str = "/files/") -> list:
    return [
        r for r in server.requests if r.role == "cdn" and r.method == "GET" and path_part in r.path
    ]


def test_clean_download_writes_verified_file(fal_sandbox, put, result_for, finish, workdir):
    data = blob(3 * MIB + 17)
    url = put(data, "big.bin")
    out = finish(
        result_for([{"url": url, "file_name": "big.bin", "file_size": len(data)}]), download="out/"
    )
    assert out.exit_code == 0, out
    [saved] = out.saved
    path = Path(saved["path"])
    assert path == workdir / "out" / "big.bin" and path.is_absolute()
    assert path.read_bytes() == data
    assert saved["sha256"] == sha(data) and saved["size_bytes"] == len(data)
    assert saved["json_path"] == "images[0]" and saved["url"] == url
    assert listing(workdir) == ["out/big.bin"]


def test_reset_after_headers_is_retried(fal_sandbox, put, result_for, finish, workdir):
    data = blob(200_000)
    url = put(data, "a.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="reset", count=2)
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 0, out
    assert (workdir / "out" / "a.bin").read_bytes() == data
    assert len(cdn_gets(fal_sandbox)) == 3
    assert listing(workdir) == ["out/a.bin"]


def test_reset_forever_fails_cleanly_exit_9(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(100_000), "a.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="reset")
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 9
    assert out.saved == [] and out.doc["request_id"] == "019a-test-request"
    [failure] = out.failures
    assert failure["url"] == url and failure["json_path"] == "images[0]" and failure["error"]
    assert listing(workdir) == []  # the out/ directory may exist, but no file, no .part


def test_short_body_resumes_with_range(fal_sandbox, put, result_for, finish, workdir):
    data = blob(2 * MIB + 3)
    url = put(data, "v.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="short_body", count=1)
    out = finish(result_for([{"url": url, "file_size": len(data)}]), download="out/")
    assert out.exit_code == 0, out
    assert (workdir / "out" / "v.bin").read_bytes() == data
    assert out.saved[0]["sha256"] == sha(data)
    statuses = [r.status_code for r in cdn_gets(fal_sandbox)]
    assert statuses == [200, 206]  # the second GET continued where the first stopped
    assert listing(workdir) == ["out/v.bin"]


def test_short_body_forever_leaves_nothing(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(4096), "v.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="short_body")
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 9
    assert "of 4096 bytes" in out.failures[0]["error"]
    assert listing(workdir) == []


@pytest.mark.parametrize("code", [429, 503])
def test_rate_limit_and_unavailable_are_retried(
    code, fal_sandbox, put, result_for, finish, workdir
):
    data = blob(50_000)
    url = put(data, "r.bin")
    fal_sandbox.add_fault(
        role="cdn", path="/files/*", kind="status", code=code, retry_after=0, count=2
    )
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 0, out
    assert [r.status_code for r in cdn_gets(fal_sandbox)] == [code, code, 200]
    assert (workdir / "out" / "r.bin").read_bytes() == data


def test_retry_after_is_honoured(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(1000), "r.bin")
    fal_sandbox.add_fault(
        role="cdn", path="/files/*", kind="status", code=429, retry_after=1, count=1
    )
    err = io.StringIO()
    debug = AppContext(stdout=io.StringIO(), stderr=err, debug=True)  # reports each retry
    out = finish(result_for([{"url": url}]), debug, download="out/")
    assert out.exit_code == 0
    # the wait Retry-After asked for (the fast test policy alone would wait ~0.01 s); the
    # suite scales waits to 0 (GENMEDIA_RETRY_DELAY_SCALE), so the computed delay is asserted
    said = err.getvalue() + "\n".join(debug.warnings)
    assert "HTTP 429; retry 1 in 1.0s" in said, (said, out.doc)


def test_persistent_503_is_a_failure_with_status(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(1000), "r.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="status", code=503, retry_after=0)
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 9
    assert out.failures[0]["error"].startswith("503")
    assert len(cdn_gets(fal_sandbox)) == 5  # the policy's attempts
    assert listing(workdir) == []


def test_404_is_not_retried(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(10), "gone.bin").replace("/files/", "/files/0000") + "x"
    out = finish(result_for([{"url": url}]), download="out/")
    assert out.exit_code == 9
    assert out.failures == [{"url": url, "json_path": "images[0]", "error": "404 Not Found"}]
    assert len(cdn_gets(fal_sandbox)) == 1


def test_one_failure_keeps_the_others(fal_sandbox, put, result_for, finish, workdir):
    good = [put(blob(1000, i), f"ok{i}.bin") for i in range(3)]
    bad = good[1].replace("/files/", "/files/ffff")
    media = [{"url": good[0]}, {"url": bad}, {"url": good[2]}]
    out = finish(result_for(media), download="out/")
    assert out.exit_code == 9
    assert [s["json_path"] for s in out.saved] == ["images[0]", "images[2]"]
    assert [f["json_path"] for f in out.failures] == ["images[1]"]
    assert listing(workdir) == ["out/ok0.bin", "out/ok2.bin"]


def test_file_size_mismatch_fails(fal_sandbox, put, result_for, finish, workdir):
    data = blob(1000)
    url = put(data, "m.bin")
    out = finish(result_for([{"url": url, "file_size": 999}]), download="out/")
    assert out.exit_code == 9
    assert "size mismatch" in out.failures[0]["error"]
    assert listing(workdir) == []


def test_keep_partial_then_rerun_resumes(fal_sandbox, put, result_for, finish, workdir):
    data = blob(MIB + 5)
    url = put(data, "k.bin")
    # Each GET gets half of what is left; the last byte never comes, so the run fails.
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="short_body")
    result = result_for([{"url": url, "file_size": len(data)}])
    first = finish(result, download="out/", keep_partial=True)
    assert first.exit_code == 9
    [part] = (workdir / "out").glob("k.bin.*.part")
    assert listing(workdir) == [f"out/{part.name}", f"out/{part.name}.json"]
    kept = part.stat().st_size
    assert 0 < kept < len(data) and part.read_bytes() == data[:kept]
    assert json.loads(Path(f"{part}.json").read_text())["url"] == url

    fal_sandbox.clear_faults()
    before = len(cdn_gets(fal_sandbox))
    second = finish(result, download="out/", keep_partial=True)
    assert second.exit_code == 0, second
    assert [r.status_code for r in cdn_gets(fal_sandbox)[before:]] == [206]
    assert (workdir / "out" / "k.bin").read_bytes() == data
    assert second.saved[0]["sha256"] == sha(data)  # hash covers the resumed prefix too
    assert listing(workdir) == ["out/k.bin"]


def test_resume_restarts_when_the_file_changed(fal_sandbox, put, result_for, finish, workdir):
    data = blob(300_000)
    url = put(data, "c.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="short_body")
    result = result_for([{"url": url}])
    assert finish(result, download="out/", keep_partial=True).exit_code == 9
    assert len(list((workdir / "out").glob("c.bin.*.part"))) == 1
    fal_sandbox.clear_faults()
    key = url.split("/files/")[1].split("/")[0]
    fal_sandbox.sandbox.storage.get(key).etag = '"changed"'  # If-Range no longer matches
    before = len(cdn_gets(fal_sandbox))
    out = finish(result, download="out/", keep_partial=True)
    assert out.exit_code == 0
    assert [r.status_code for r in cdn_gets(fal_sandbox)[before:]] == [200]  # full body
    assert (workdir / "out" / "c.bin").read_bytes() == data
    assert listing(workdir) == ["out/c.bin"]


def test_without_keep_partial_a_failure_removes_the_part(
    fal_sandbox, put, result_for, finish, workdir
):
    url = put(blob(MIB), "p.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="short_body")
    out = finish(result_for([{"url": url, "file_size": MIB}]), download="out/")
    assert out.exit_code == 9
    assert listing(workdir) == []
