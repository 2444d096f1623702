"""Issue 10: keys never printed in any form, odd input is a usage/validation error (never
an internal error), documented input limits, --sandbox without the extra, one SSL context
behind proxies. Each test runs the CLI against the emulator (in-process click runner or a
subprocess)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

SCHNELL = "fal-ai/flux/schnell"
SECRET = "s3cr3t-0123456789abcdef"
KEY = f"abcd1234-5678:{SECRET}"


def leaked(text: str, secret: str = SECRET) -> list[str]:
    """The forms of ``secret`` present in ``text``."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        base64.b64encode(raw).decode(),
        base64.b64encode(f"abcd1234-5678:{secret}".encode()).decode(),
        secret[:8],
    }
    return [f for f in forms if f in text]


# --------------------------------------------------------------------------- keys


STRAY = {
    "newline": {"FAL_KEY": KEY + "\n"},
    "crlf": {"FAL_KEY": KEY + "\r\n"},
    "spaces": {"FAL_KEY": f"  {KEY}  "},
    "secret-newline": {"FAL_KEY_ID": "abcd1234-5678", "FAL_KEY_SECRET": SECRET + "\n"},
    "id-tab": {"FAL_KEY_ID": "\tabcd1234-5678", "FAL_KEY_SECRET": SECRET},
}
COMMANDS = {
    "run": ["run", SCHNELL, "--prompt", "a cat"],
    "models": ["models", "--limit", "1"],
    "status": ["status", SCHNELL, "no-such-request"],
    "pricing": ["pricing", SCHNELL],
    "upload": ["upload", "@FILE"],
}


@pytest.mark.parametrize("source", sorted(STRAY))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_key_with_stray_whitespace_is_stripped(
    cli, fal_sandbox_env, monkeypatch, tmp_path, source, command
):
    fal_sandbox_env.register_key(KEY)  # the emulator accepts only keys it knows, as fal does
    monkeypatch.delenv("FAL_KEY", raising=False)
    for name, value in STRAY[source].items():
        monkeypatch.setenv(name, value)
    upload = tmp_path / "cat.png"
    upload.write_bytes(b"png")
    args = [str(upload) if a == "@FILE" else a for a in COMMANDS[command]]
    result = cli(*args, "--json")
    assert result.exit_code in (0, 4), result  # status of an unknown request: 404
    assert not leaked(result.stdout + result.stderr)
    sent = [r for r in fal_sandbox_env.requests if r.role in ("queue", "rest", "api")]
    assert sent and all(r.has_authorization for r in sent if r.role != "api")


@pytest.mark.parametrize(
    "bad",
    [f"abcd1234-5678:{SECRET[:6]} {SECRET[6:]}", f"abcd1234-5678:{SECRET}\x01", f"clé:{SECRET}é"],
    ids=["inner-space", "control", "non-ascii"],
)
def test_a_malformed_key_is_a_config_error_showing_the_mask_only(
    cli, fal_sandbox_env, monkeypatch, bad
):
    monkeypatch.setenv("FAL_KEY", bad)
    for args in (["run", SCHNELL, "--prompt", "x"], ["models"], ["upload", "/etc/hostname"]):
        result = cli(*args, "--json")
        assert result.exit_code == 10, result
        assert "malformed" in result.error["error"]
        assert result.error["details"]["api_key"] in ("abcd…****", "****")
        assert not leaked(result.stdout + result.stderr, SECRET[6:])
    assert [r for r in fal_sandbox_env.requests if r.role in ("queue", "rest")] == []


def test_a_malformed_key_in_the_config_file_is_a_config_error(cli, fal_sandbox_env, monkeypatch):
    from genmedia.config import default_dirs, write_config_file

    monkeypatch.delenv("FAL_KEY")
    write_config_file(default_dirs()[0] / "config.json", {"api_key": f"clé:{SECRET}"})
    result = cli("run", SCHNELL, "--prompt", "x", "--json")
    assert result.exit_code == 10, result
    assert "Internal error" not in result.stderr and not leaked(result.stderr)


@pytest.mark.parametrize("bad", ["clé:sécret-value", "no-colon-key-value", "id:sec ret", ":x"])
def test_setup_refuses_a_malformed_key_before_saving(cli, isolated_env, bad):
    result = cli("setup", "--non-interactive", "--api-key", bad, "--json")
    assert result.exit_code == 2, result
    assert "Not a fal API key" in result.error["error"]
    assert not (isolated_env / "config" / "config.json").exists()
    assert "sécret" not in result.stderr and "sec ret" not in result.stderr


def test_setup_saves_a_pasted_key_stripped(cli, isolated_env):
    result = cli("setup", "--non-interactive", "--api-key", f" {KEY}\r\n", "--json")
    assert result.exit_code == 0, result
    saved = json.loads((isolated_env / "config" / "config.json").read_text())
    assert saved["api_key"] == KEY


def test_the_redactor_removes_every_form_of_a_key():
    from genmedia.redact import redact, redact_value, register_secret

    key = "zzid-42:" + "Q9x!/+ secret\n"
    register_secret(key)
    texts = [
        f"Illegal header value b'Key {key.strip()}\\n'",
        f"url ?key={quote(key.strip(), safe='')}",
        "Basic " + base64.b64encode(key.strip().encode()).decode(),
        json.dumps({"k": key}),
        f"alone: {key.strip().split(':', 1)[1]}",
    ]
    for text in texts:
        assert "secret" not in redact(text), text
    assert redact_value({"a": [texts[0]], "b": (texts[1],)}) == {
        "a": [redact(texts[0])],
        "b": (redact(texts[1]),),
    }


def test_debug_tracebacks_and_errors_go_through_the_redactor(cli, fal_sandbox_env, monkeypatch):
    """An error whose text holds the key (as httpx's header errors did) prints it masked."""
    from genmedia import hookimpl
    from genmedia.context import AppContext
    from genmedia.defaults import report_error

    monkeypatch.setenv("FAL_KEY", KEY)
    app = AppContext(json_flag=True, debug=True)
    credential = app.provider("fal").credential()  # the provider resolves (and registers) it
    assert credential is not None and credential.source == "env:FAL_KEY"

    class Boom(Exception):
        pass

    import io

    app._stderr = io.StringIO()
    try:
        raise Boom(f"Illegal header value b'Key {KEY}'")
    except Boom as exc:
        code = report_error(app, exc)
    text = app._stderr.getvalue()
    assert code == 1 and "Traceback" in text and "Illegal header value" in text
    assert not leaked(text)
    assert hookimpl  # the boundary formats without plugins too


def test_a_request_refused_before_sending_does_not_claim_a_job_may_exist(fal_sandbox_env):
    import httpx

    from genmedia import errors
    from genmedia.context import AppContext
    from genmedia.types import RunRequest
    from genmedia_fal.client import FalClient
    from genmedia_fal.queue import Queue

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError("Illegal header value b'Key abc\\n'")

    queue = Queue(FalClient(AppContext(http_transport=httpx.MockTransport(refuse))))
    with pytest.raises(errors.GenmediaError) as caught:
        queue.submit(RunRequest(endpoint_id=SCHNELL, input={"prompt": "x"}))
    assert "may exist" not in caught.value.message
    assert caught.value.details["job"] == "none: nothing was sent"


# --------------------------------------------------------------------------- odd input


def _odd_inputs(tmp: Path) -> dict[str, list[str]]:
    long_word = "w" * 300
    (tmp / "nul.txt").write_bytes(b"a cat\x00 on a mat")
    (tmp / "binary.json").write_bytes(os.urandom(64) + b"\xff\xfe")
    (tmp / "utf16.json").write_bytes('{"prompt": "x"}'.encode("utf-16"))
    (tmp / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (tmp / "bigint.json").write_text('{"prompt": "x", "seed": ' + "9" * 5000 + "}")
    (tmp / "deep-obj.json").write_text('{"prompt": "x", "a": ' + "[" * 500 + "]" * 500 + "}")
    return {
        "long-image-url": ["run", "fal-ai/esrgan", "--image_url", long_word],
        "long-at-word": ["run", SCHNELL, "--prompt", "@" + long_word],
        "long-at-path": ["run", SCHNELL, "--prompt", "@dir/" + long_word + ".txt"],
        "nul-file": ["run", SCHNELL, "--prompt", f"@{tmp / 'nul.txt'}"],
        "nul-arg-path": ["run", "fal-ai/esrgan", "--image_url", "a\x00b.png"],
        "binary-input": ["run", SCHNELL, "--input", str(tmp / "binary.json")],
        "utf16-input": ["run", SCHNELL, "--input", str(tmp / "utf16.json")],
        "deep-input": ["run", SCHNELL, "--input", str(tmp / "deep.json")],
        "bigint-input": ["run", SCHNELL, "--input", str(tmp / "bigint.json")],
        "deep-value": ["run", SCHNELL, "--input", str(tmp / "deep-obj.json")],
        "deep-arg": ["run", SCHNELL, "--prompt", "x", "--extra", "[" * 3000 + "]" * 3000],
        "long-request-id": ["status", SCHNELL, "r" * 100_000],
        "long-endpoint": ["run", "fal-ai/" + "e" * 100_000, "--prompt", "x"],
        "surrogate-arg": ["run", SCHNELL, "--prompt", "caf\udce9"],
        "surrogate-input": ["run", SCHNELL, "--prompt", "x", "--extra", '"\\udce9"'],
    }


@pytest.mark.parametrize(
    "case",
    [
        "long-image-url",
        "long-at-word",
        "long-at-path",
        "nul-file",
        "nul-arg-path",
        "binary-input",
        "utf16-input",
        "deep-input",
        "bigint-input",
        "deep-value",
        "deep-arg",
        "long-request-id",
        "long-endpoint",
        "surrogate-arg",
        "surrogate-input",
    ],
)
def test_odd_input_is_a_usage_or_validation_error(cli, fal_sandbox_env, tmp_path, case):
    args = _odd_inputs(tmp_path)[case]
    result = cli(*args, "--json")
    assert "Internal error" not in result.stderr, result
    assert "Traceback" not in result.stderr
    if case == "long-at-word":  # an @word naming no file is text, as documented
        assert result.exit_code == 0, result
        return
    assert result.exit_code in (2, 4, 5), result
    assert result.error["error"]
    # nothing odd reached the service
    assert not [r for r in fal_sandbox_env.requests if r.role == "queue" and r.method == "POST"]


def test_a_non_ascii_idempotency_key_is_a_usage_error(cli, fal_sandbox_env):
    result = cli(
        "assets", "characters", "create", "bob", "--description", "d",
        "--reference_image", "https://v3.fal.media/files/x.png",
        "--idempotency-key", "clé", "--json",
    )  # fmt: skip
    assert result.exit_code == 2, result
    assert "printable ASCII" in result.error["error"]


def test_non_utf8_argv_in_a_real_process(run_genmedia, fal_sandbox_env):
    proc = subprocess.run(
        [sys.executable, "-m", "genmedia", "--json", "run", SCHNELL, "--prompt", b"caf\xe9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "not valid UTF-8" in json.loads(proc.stderr)["error"]
    assert not [r for r in fal_sandbox_env.requests if r.role == "queue"]


# --------------------------------------------------------------------------- limits


def test_text_from_a_file_is_limited_to_1_mib_unless_raised(
    cli, fal_sandbox_env, tmp_path, monkeypatch
):
    big = tmp_path / "prompt.txt"
    big.write_text("a" * (1024 * 1024 + 1))
    result = cli("run", SCHNELL, "--prompt", f"@{big}", "--dry-run", "--json")
    assert result.exit_code == 2, result
    assert "too large" in result.error["error"]
    assert result.error["details"]["limit_bytes"] == 1024 * 1024
    monkeypatch.setenv("GENMEDIA_MAX_TEXT_FILE", "2M")
    result = cli("run", SCHNELL, "--prompt", f"@{big}", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr[:500]


def test_standard_input_is_limited_too(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_MAX_TEXT_FILE", "1k")
    result = cli("run", SCHNELL, "--prompt", "-", "--dry-run", "--json", input="b" * 2000)
    assert result.exit_code == 2, result
    assert "too large" in result.error["error"]


def test_the_journal_stores_a_bounded_excerpt_with_size_and_hash(cli, fal_sandbox_env, tmp_path):
    import hashlib

    text = "a long prompt " * 60_000  # 840,000 characters: under the 1 MiB limit
    (tmp_path / "p.txt").write_text(text)
    result = cli("run", SCHNELL, "--prompt", f"@{tmp_path / 'p.txt'}", "--json")
    assert result.exit_code == 0, result.stderr[:500]
    shown = cli("history", "show", "last", "--json").json
    stored = shown["input"]["prompt"]
    assert len(stored) < 2000
    assert stored.startswith(text[:1000])
    assert hashlib.sha256(text.encode()).hexdigest() in stored
    assert str(len(text.encode())) in stored
    from genmedia.context import AppContext
    from genmedia_history.recorder import journal_for

    assert journal_for(AppContext()).path.stat().st_size < 1024 * 1024


# --------------------------------------------------------------------------- sandbox, proxy


def test_sandbox_without_the_extra_names_it(tmp_path):
    code = (
        "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
        "from genmedia.cli import main; main()"
    )
    env = {**os.environ, "GENMEDIA_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", code, "--sandbox", "--json", "models"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 10, proc.stderr
    error = json.loads(proc.stderr)
    assert "Internal error" not in error["error"]
    assert "genmedia[sandbox]" in error["details"]["hint"]


def test_sandbox_flag_with_the_plugin_disabled_never_reaches_the_real_service(cli, monkeypatch):
    # --sandbox is the sandbox plugin's option: without the plugin it is no option at all
    result = cli("--sandbox", "--disable-plugin", "sandbox", "models", "--json")
    assert result.exit_code == 2, result
    assert result.error["error"].startswith("No such option")
    # GENMEDIA_SANDBOX=1 is refused by the fal plugin when no plugin started the emulator
    monkeypatch.setenv("GENMEDIA_SANDBOX", "1")
    result = cli("--disable-plugin", "sandbox", "models", "--json")
    assert result.exit_code == 10, result
    assert "GENMEDIA_SANDBOX" in result.error["details"]["hint"]


def test_one_ssl_context_is_shared_by_every_proxy_transport(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    from genmedia.http import make_client

    client = make_client()
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    assert len(transports) >= 3
    contexts = {id(t._pool._ssl_context) for t in transports}
    assert len(contexts) == 1
    client.close()


def test_every_error_details_is_an_object(cli, fal_sandbox_env):
    """Found by the fuzzer: ``models --expand 0`` printed ``details`` as a string."""
    result = cli("models", "--expand", "0", "--json")
    assert result.exit_code == 2, result
    assert result.error["details"] == {"supported": ["openapi-3.0", "enterprise_status"]}


def test_a_file_system_refusal_is_reported_not_an_internal_error(cli, tmp_path):
    """Found by the fuzzer: ``gallery open --out <300 characters>`` was an internal error."""
    result = cli("gallery", "open", "--out", str(tmp_path / ("é" * 300)), "--json")
    assert result.exit_code == 2, result
    assert result.error["details"]["errno"] == "ENAMETOOLONG"
    assert "Internal error" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["assets", "collections", "create", "smart", "--filters", "NaN"],
        ["assets", "collections", "create", "smart", "--filters", '{"a": Infinity}'],
        ["run", "fal-ai/flux/schnell", "--input", "-"],
    ],
)
def test_nan_and_infinity_are_not_json(cli, fal_sandbox_env, argv):
    """Python's json accepts NaN/Infinity; fal does not. Found by the CLI fuzzer: NaN in
    --filters reached the emulator and crashed it, with its traceback on stderr."""
    result = cli("--json", *argv, input='{"prompt": "x", "guidance_scale": NaN}')
    assert result.exit_code in (2, 5), result.stderr
    error = json.loads(result.stderr)  # exactly one JSON document
    assert "NaN" in json.dumps(error) or "Infinity" in json.dumps(error)


def test_an_events_line_is_one_line_for_every_reader(cli, fal_sandbox_env):
    """U+0085/U+2028/U+2029 are legal raw in JSON but split lines for Python's splitlines
    and older JavaScript: the --events stream escapes them (found by the CLI fuzzer)."""
    result = cli("--json", "--events", "schema", "fal-ai/no\x85such\u2028model")
    assert result.exit_code != 0
    assert "\x85" in json.dumps(json.loads(result.stderr.splitlines()[-1]), ensure_ascii=False)
    lines = result.stderr.splitlines()
    assert all(json.loads(line) for line in lines)
    assert "error" in json.loads(lines[-1])
