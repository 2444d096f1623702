"""The on-disk schema cache, against the emulator over HTTP: schema fetches are counted in
the emulator's request log (``GET /api/v1/models?…expand=openapi-3.0``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genmedia import errors
from genmedia.cache import JsonCache
from genmedia.context import AppContext
from genmedia_fal.schema_cache import NAMESPACE, cached_entry
from genmedia_sandbox.pytest_plugin import sandbox_environment
from genmedia_sandbox.server import start_sandbox

SCHNELL = "fal-ai/flux/schnell"


def schema_fetches(server) -> int:
    return sum(
        1
        for r in server.requests
        if r.role == "api" and r.path.rstrip("/").endswith("/models") and "openapi-3.0" in r.query
    )


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "cache" / NAMESPACE).glob("*.json"))


def genmedia_home() -> Path:
    return Path(os.environ["GENMEDIA_HOME"])


def test_a_warm_run_does_not_fetch_the_schema(cli, fal_sandbox_env):
    for _ in range(2):
        result = cli("run", SCHNELL, "--prompt", "a cat")
        assert result.exit_code == 0, result
    assert schema_fetches(fal_sandbox_env) == 1
    assert len(fal_sandbox_env.jobs) == 2
    # schema and run ENDPOINT --help read the same cache
    assert cli("schema", SCHNELL).exit_code == 0
    assert cli("run", SCHNELL, "--help", "--json").json["endpoint_id"] == SCHNELL
    assert schema_fetches(fal_sandbox_env) == 1
    # --refresh-schema skips it, on run, schema and run ENDPOINT --help
    assert cli("run", SCHNELL, "--prompt", "a cat", "--refresh-schema").exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 2
    assert cli("schema", SCHNELL, "--refresh-schema").exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 3
    assert cli("run", SCHNELL, "--help", "--refresh-schema", "--json").exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 4


def test_a_ttl_of_zero_asks_every_time(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_FAL_SCHEMA_TTL", "0")
    for _ in range(2):
        assert cli("schema", SCHNELL).exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 2


def cached_input_fields(path: Path) -> set[str]:
    schemas = json.loads(path.read_text())["value"]["openapi"]["components"]["schemas"]
    return {name for key, s in schemas.items() if key.endswith("Input") for name in s["properties"]}


def _forget_input(home: Path, name: str) -> Path:
    """The cached document as it was before the model gained the input ``name``."""
    (path,) = cache_files(home)
    doc = json.loads(path.read_text())
    for key, schema in doc["value"]["openapi"]["components"]["schemas"].items():
        if key.endswith("Input"):
            schema["properties"].pop(name, None)
    path.write_text(json.dumps(doc))
    return path


def test_a_stale_cached_schema_never_rejects_a_valid_input(cli, fal_sandbox_env):
    assert cli("schema", SCHNELL).exit_code == 0
    # the model gained an input since the schema was cached: the copy on disk lacks it
    path = _forget_input(genmedia_home(), "seed")
    assert "seed" not in cached_input_fields(path)
    result = cli("run", SCHNELL, "--prompt", "a cat", "--seed", "5")
    assert result.exit_code == 0, result
    (job,) = fal_sandbox_env.jobs
    assert job.input == {"prompt": "a cat", "seed": 5}  # typed by the fresh schema
    assert schema_fetches(fal_sandbox_env) == 2  # the first one, and one refetch
    assert "seed" in cached_input_fields(path)  # the cache holds the new schema
    assert cli("run", SCHNELL, "--prompt", "a cat", "--seed", "6").exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 2


def test_an_invalid_input_is_reported_after_one_refetch(cli, fal_sandbox_env):
    assert cli("schema", SCHNELL).exit_code == 0
    result = cli("run", SCHNELL, "--prompt", "a cat", "--num_images", "99")
    assert result.exit_code == 5
    assert result.error["details"]["source"] == "local"
    assert result.error["details"]["validation_errors"][0]["field"] == "num_images"
    assert schema_fetches(fal_sandbox_env) == 2
    assert fal_sandbox_env.jobs == []
    # a schema fetched in this process is not fetched again
    result = cli("run", SCHNELL, "--prompt", "a cat", "--num_images", "99", "--refresh-schema")
    assert result.exit_code == 5
    assert schema_fetches(fal_sandbox_env) == 3


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b'{"format": 1, "key": ',
        b"\xff\xfe not json",
        b'{"format": 99, "value": {}}',
        b"[]",
        b'{"format": 1, "key": "KEY", "stored_at": NOW, "value": {"openapi": "x"}}',
        b'{"format": 1, "key": "KEY", "stored_at": "now", "value": {}}',
    ],
    ids=[
        "empty",
        "truncated",
        "binary",
        "other-format",
        "not-an-object",
        "no-document",
        "bad-time",
    ],
)
def test_a_damaged_cache_file_is_a_miss(cli, fal_sandbox_env, damage):
    assert cli("schema", SCHNELL).exit_code == 0
    (path,) = cache_files(genmedia_home())
    key = json.loads(path.read_text())["key"]
    now = str(time.time()).encode()
    path.write_bytes(damage.replace(b"KEY", key.encode()).replace(b"NOW", now))
    result = cli("run", SCHNELL, "--prompt", "a cat")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert schema_fetches(fal_sandbox_env) == 2
    assert json.loads(path.read_text())["value"]["endpoint_id"] == SCHNELL  # rewritten


def test_run_help_works_offline_from_the_cache(cli, tmp_path, monkeypatch):
    server = start_sandbox(queue_s=0.0, run_s=0.0)
    try:
        for name, value in sandbox_environment(server, tmp_path).items():
            monkeypatch.setenv(name, value)
        online = cli("run", SCHNELL, "--help", "--json")
        assert online.exit_code == 0, online
    finally:
        server.stop()
    offline = cli("run", SCHNELL, "--help", "--json")
    assert offline.exit_code == 0, offline
    assert offline.stdout == online.stdout
    assert "--prompt" in [o["flag"] for o in offline.json["options"]]
    assert cli("schema", SCHNELL).json["endpoint_id"] == SCHNELL


def test_processes_share_the_cache(fal_sandbox_env, tmp_path):
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "genmedia", "run", SCHNELL, "--prompt", "a cat", "--json"]

    def together(n: int) -> None:
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(n)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert err == b""
            assert json.loads(out)["status"] == "completed"

    together(3)  # a cold cache: each may fetch and write; writers replace whole files
    cold = schema_fetches(fal_sandbox_env)
    assert 1 <= cold <= 3
    (path,) = cache_files(genmedia_home())
    assert json.loads(path.read_text())["value"]["endpoint_id"] == SCHNELL
    together(3)  # warm: nobody fetches
    assert schema_fetches(fal_sandbox_env) == cold
    leftovers = [p.name for p in path.parent.iterdir() if p.suffix != ".json"]
    assert leftovers == []


def test_cache_list_and_clear(cli, fal_sandbox_env):
    assert cli("cache", "list").json["entries"] == []
    assert cli("schema", SCHNELL).exit_code == 0
    (entry,) = cli("cache", "list", NAMESPACE).json["entries"]
    assert entry["namespace"] == NAMESPACE and entry["key"].startswith(SCHNELL + "@")
    assert cli("cache", "path").json["cache_dir"] == str(genmedia_home() / "cache")
    cleared = cli("cache", "clear").json
    assert cleared["removed"] == 1 and cleared["namespaces"] == [NAMESPACE]
    assert cli("cache", "list").json["entries"] == []
    assert cli("schema", SCHNELL).exit_code == 0
    assert schema_fetches(fal_sandbox_env) == 2  # fetched again after clearing
    assert cli("cache", "clear", "no/such").exit_code == 2


def test_genmedia_cache_dir_moves_the_cache(cli, fal_sandbox_env, tmp_path, monkeypatch):
    monkeypatch.setenv("GENMEDIA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cli("schema", SCHNELL).exit_code == 0
    assert len(list((tmp_path / "elsewhere" / NAMESPACE).glob("*.json"))) == 1
    assert cache_files(genmedia_home()) == []


# -- the fallback rule, without a server (narrow: the fetch is a plain function) --------


ENTRY = {"endpoint_id": "m", "openapi": {"paths": {}}}


def _stale_cache(tmp_path: Path) -> JsonCache:
    cache = JsonCache(NAMESPACE, ttl=0, root=tmp_path)
    cache.put("m@h", ENTRY)
    return cache


def test_a_stale_entry_is_used_when_the_refresh_fails(tmp_path):
    ctx = AppContext(json_flag=True)

    def offline():
        raise errors.NetworkError("Network error: connection refused")

    entry, cached = cached_entry(ctx, _stale_cache(tmp_path), "m@h", offline, refresh=False)
    assert entry == ENTRY and cached
    assert "could not be refreshed" in ctx.warnings[0]
    with pytest.raises(errors.NetworkError):  # --refresh-schema asked for a fresh one
        cached_entry(ctx, _stale_cache(tmp_path), "m@h", offline, refresh=True)


def test_a_model_that_is_gone_is_removed_from_the_cache(tmp_path):
    cache = _stale_cache(tmp_path)

    def gone():
        raise errors.NotFoundError("Model not found: m")

    with pytest.raises(errors.NotFoundError):
        cached_entry(AppContext(), cache, "m@h", gone, refresh=False)
    assert cache.get("m@h") is None
