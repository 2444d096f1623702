"""One test per hook (``test_hook_<name>``), driving the CLI with inline plugins.

Inline plugins are registered for a single invocation through ``genmedia.testing.invoke``
with the built-ins left out, so each test sees exactly the hooks it is about. The
provider is the third-party example provider from tests/plugins/genmedia-example.
"""

from __future__ import annotations

import json

import click

from genmedia import errors, hookimpl
from genmedia.testing import invoke
from genmedia.types import ErrorReport, JobHandle, ModelSchema, RunResult
from tests.core.hookkit import Recorder, example_importable, example_plugin, run  # noqa: F401


def test_hook_genmedia_configure():
    seen = []

    class P:
        @hookimpl
        def genmedia_configure(self, config):
            seen.append(config)
            config.set_host("queue", "http://127.0.0.1:9/queue")

    result = run(["version"], P())
    assert result.exit_code == 0
    assert len(seen) == 1
    assert seen[0].host("queue", default="https://queue.fal.run") == "http://127.0.0.1:9/queue"


def test_hook_genmedia_register_commands():
    class P:
        @hookimpl
        def genmedia_register_commands(self, cli):
            @cli.command("hello")
            @click.argument("name")
            def hello(name):
                click.echo(json.dumps({"hello": name}))

    result = run(["hello", "world"], P())
    assert result.exit_code == 0
    assert result.json == {"hello": "world"}


def test_hook_genmedia_add_options():
    class P:
        @hookimpl
        def genmedia_add_options(self, command_name):
            if command_name == "run":
                return [click.Option(["--shout"], is_flag=True)]
            return None

        @hookimpl
        def genmedia_handle_result(self, result, options):
            return {"shouted": options["shout"]}

    result = run(["run", "example/echo", "--prompt", "hi", "--shout"], P())
    assert result.exit_code == 0, result
    assert result.json["shouted"] is True
    assert "shout" not in result.json["result"]["echo"]  # an option, not a model input


def test_hook_genmedia_register_providers():
    result = run(["models"])
    assert result.exit_code == 0
    assert [m["endpoint_id"] for m in result.json["models"]] == ["example/echo"]


def test_hook_genmedia_resolve_provider():
    import attrs
    from genmedia_example.provider import ECHO, EchoProvider

    class Renamed(EchoProvider):
        def claims(self, endpoint_id):
            return False

        def schema(self, endpoint_id):
            return attrs.evolve(ECHO, endpoint_id=endpoint_id)

    class P:
        @hookimpl
        def genmedia_register_providers(self, register):
            register(Renamed(name="other", schemes=("other",)))

        @hookimpl
        def genmedia_resolve_provider(self, endpoint_id, providers):
            if endpoint_id.startswith("routed/"):
                return providers["other"]
            return None

    result = run(["run", "routed/x", "--prompt", "hi", "--provider", "other"], P())
    assert result.exit_code == 0, result
    # without --provider the hook routes it
    result = invoke(["run", "routed/echo", "--prompt", "hi"], plugins=[P()], builtins=False)
    assert result.exit_code == 0, result
    assert result.json["endpoint_id"] == "routed/echo"
    # scheme prefix through the core fallback
    scheme = run(["run", "example:example/echo", "--prompt", "hi"])
    assert scheme.exit_code == 0, scheme
    bad = run(["run", "nosuch:thing", "--prompt", "hi"])
    assert bad.exit_code == 2
    assert bad.error["error"] == "No provider for scheme 'nosuch'"


def test_hook_genmedia_get_schema():
    calls = []

    class Cache:
        @hookimpl(tryfirst=True)
        def genmedia_get_schema(self, endpoint_id):
            calls.append(endpoint_id)
            return ModelSchema(endpoint_id, name="Cached", input=[])

    result = run(["schema", "example/echo"], Cache())
    assert result.exit_code == 0
    assert result.json["name"] == "Cached"
    assert calls == ["example/echo"]


def test_hook_genmedia_get_schema_refresh_after_a_cached_schema_rejects_the_input():
    """A schema served from a cache that rejects the input is asked for again with
    refresh=True, and the input checked against the new one (a stale cache never
    rejects a valid input)."""
    from genmedia.types import FieldSchema

    calls = []

    class Cache:
        @hookimpl(tryfirst=True)
        def genmedia_get_schema(self, endpoint_id, refresh):
            calls.append(refresh)
            names = ["prompt", "step"] if refresh else ["prompt", "steps"]
            fields = [FieldSchema(n, "string" if n == "prompt" else "integer") for n in names]
            return ModelSchema(endpoint_id, input=fields, from_cache=not refresh)

    result = run(["run", "example/echo", "--prompt", "hi", "--step", "3"], Cache())
    assert result.exit_code == 0, result.output
    assert calls == [False, True]
    assert result.json["result"]["echo"] == {"prompt": "hi", "step": "3"}

    calls.clear()  # --refresh-schema: asked once, with refresh=True
    result = run(
        ["run", "example/echo", "--prompt", "hi", "--refresh-schema", "--step", "3"], Cache()
    )
    assert result.exit_code == 0, result.output
    assert calls == [True]

    class Fresh:  # a schema fetched in this process is not asked for again
        @hookimpl(tryfirst=True)
        def genmedia_get_schema(self, endpoint_id, refresh):
            calls.append(refresh)
            return ModelSchema(endpoint_id, input=[FieldSchema("steps", "integer")])

    calls.clear()
    result = run(["run", "example/echo", "--step", "3"], Fresh())
    assert result.exit_code == 2
    assert result.error["details"]["did_you_mean"] == ["--steps"]
    assert calls == [False]


def test_hook_genmedia_find_job():
    class Journal:
        @hookimpl
        def genmedia_find_job(self, reference):
            if reference == "last":
                return JobHandle("example", "example/echo", "req-1")
            return None

    result = run(["status", "last"], Journal())
    assert result.exit_code == 0, result
    assert result.json == {"status": "COMPLETED", "request_id": "req-1", "logs": []}
    unknown = run(["status", "nope"], Journal())
    assert unknown.exit_code == 2
    assert "give the endpoint too" in unknown.error["error"]


def test_hook_genmedia_coerce_argument():
    class Upper:
        @hookimpl
        def genmedia_coerce_argument(self, name, raw, field):
            if field is not None and field.type == "integer":
                return int(raw)
            return raw.upper()

    result = run(["run", "example/echo", "--prompt", "hi", "--repeat", "3"], Upper())
    assert result.exit_code == 0, result
    assert result.json["result"]["echo"] == {"prompt": "HI", "repeat": 3}


def test_hook_genmedia_prepare_request():
    class Guard:
        @hookimpl
        def genmedia_prepare_request(self, request, schema):
            request.input.setdefault("repeat", 2)
            if "forbidden" in request.input.get("prompt", ""):
                raise errors.ValidationError("nope", {"validation_errors": []})

    ok = run(["run", "example/echo", "--prompt", "hi"], Guard())
    assert ok.json["result"]["echo"] == {"prompt": "hi", "repeat": 2}
    bad = run(["run", "example/echo", "--prompt", "forbidden"], Guard())
    assert bad.exit_code == 5
    assert bad.error == {"error": "nope", "details": {"validation_errors": []}}
    assert bad.stdout == ""


def test_hook_genmedia_execute():
    order = []

    class Timing:
        @hookimpl(wrapper=True)
        def genmedia_execute(self, request):
            order.append("before")
            result = yield
            order.append("after")
            result.result["wrapped"] = True
            return result

    class Replace:
        @hookimpl(tryfirst=True)
        def genmedia_execute(self, request):
            order.append("replace")
            return RunResult(request.endpoint_id, "cached-id", {"from": "cache"})

    result = run(["run", "example/echo", "--prompt", "hi"], Timing())
    assert result.json["result"]["wrapped"] is True
    assert order == ["before", "after"]
    order.clear()
    cached = run(["run", "example/echo", "--prompt", "hi"], Timing(), Replace())
    assert cached.json["request_id"] == "cached-id"
    assert order == ["before", "replace", "after"]


def test_hook_genmedia_job_submitted_and_failures_are_warnings():
    seen = []

    class Listener:
        @hookimpl
        def genmedia_job_submitted(self, handle, request):
            seen.append((handle.request_id, request.input["prompt"]))

    class Broken:
        @hookimpl
        def genmedia_job_submitted(self, handle):
            raise OSError("disk full")

    result = run(["run", "example/echo", "--prompt", "hi", "--events"], Listener(), Broken())
    assert result.exit_code == 0
    assert seen == [(result.json["request_id"], "hi")]
    assert any("failed in genmedia_job_submitted: disk full" in w for w in result.json["warnings"])
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0] == {
        "event": "submitted",
        "endpoint_id": "example/echo",
        "request_id": result.json["request_id"],
        "next": f"genmedia status example/echo {result.json['request_id']} --wait",
    }
    assert any(e["event"] == "warning" and "disk full" in e["message"] for e in events)
    quiet = run(["run", "example/echo", "--prompt", "hi"], Listener(), Broken())
    assert quiet.exit_code == 0 and quiet.stderr == ""  # without --events, stderr stays empty


def test_hook_genmedia_job_progress():
    statuses = []

    class Listener:
        @hookimpl
        def genmedia_job_progress(self, status):
            statuses.append((status.status, [e.message for e in status.logs or ()]))

    result = run(["run", "example/echo", "--prompt", "hi", "--logs", "--events"], Listener())
    assert statuses == [("IN_QUEUE", []), ("IN_PROGRESS", ["echoing"]), ("COMPLETED", ["done"])]
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["event"] for e in events] == ["submitted", "status", "status", "log", "status", "log"]
    assert result.json["logs"] == [
        {"message": "echoing", "level": "INFO"},
        {"message": "done", "level": "INFO"},
    ]


def test_hook_genmedia_handle_result_guarded():
    class Sink:
        @hookimpl
        def genmedia_handle_result(self, result, ctx):
            return {"sink_saw": result.request_id, "exit_code": 9}

    class Broken:
        @hookimpl
        def genmedia_handle_result(self, result):
            raise RuntimeError("sink exploded")

    result = run(["run", "example/echo", "--prompt", "hi"], Sink(), Broken())
    doc = result.json
    assert doc["sink_saw"] == doc["request_id"]
    assert doc["sink_errors"] == [
        {"plugin": doc["sink_errors"][0]["plugin"], "error": "RuntimeError: sink exploded"}
    ]
    assert "exit_code" not in doc
    assert result.exit_code == 1  # the first sink that asked for a code wins, errors give 1
    assert doc["result"]["echo"] == {"prompt": "hi"}


def test_hook_genmedia_format_error():
    class Formatter:
        @hookimpl
        def genmedia_format_error(self, error):
            if isinstance(error, errors.NotFoundError):
                return ErrorReport("custom: " + str(error), {"k": 1}, 44)
            return None

    result = run(["schema", "example/missing"], Formatter())
    assert result.exit_code == 44
    assert result.error == {
        "error": "custom: Model not found: example/missing",
        "details": {"k": 1},
    }
    plain = run(["schema", "example/missing"])
    assert plain.exit_code == 4
    assert plain.error["error"] == "Model not found: example/missing"
    assert plain.error["details"]["suggestions"] == ["example/echo"]


def test_hook_genmedia_job_finished():
    seen = []

    class Listener:
        @hookimpl
        def genmedia_job_finished(self, handle, request, outcome, error):
            seen.append((outcome, handle.request_id, type(error).__name__ if error else None))

    class Broken:
        @hookimpl
        def genmedia_job_finished(self):
            raise OSError("disk full")

    done = run(["run", "example/echo", "--prompt", "hi"], Listener(), Broken())
    assert done.exit_code == 0
    assert seen == [("completed", done.json["request_id"], None)]
    assert any("failed in genmedia_job_finished: disk full" in w for w in done.json["warnings"])

    # status --result goes through the same path: an unknown job ends with an error
    seen.clear()
    missing = run(["status", "example/echo", "no-such-id", "--result"], Listener())
    assert missing.exit_code == 4
    assert seen == [("error", "no-such-id", "NotFoundError")]

    class CtrlC:
        @hookimpl
        def genmedia_job_progress(self, status):
            if status.status == "IN_PROGRESS":
                raise KeyboardInterrupt

    seen.clear()
    stopped = run(["run", "example/echo", "--prompt", "hi"], Listener(), CtrlC())
    assert stopped.exit_code == 130
    assert [s[0] for s in seen] == ["interrupted"]
    assert stopped.error["details"]["request_id"] == seen[0][1]
