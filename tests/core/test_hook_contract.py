"""The hook machinery as pluggy and third parties see it: wrappers on every guarded hook,
a third-party command replacing a core one, a third-party provider resolving its own key."""

from __future__ import annotations

import json
from typing import Any

import click

from genmedia import hookimpl
from tests.core.hookkit import example_importable, run  # noqa: F401 (autouse fixture)


def test_wrappers_see_every_guarded_hook():
    """The guarded hooks are called through pluggy: a wrapper on each is honoured and sees
    a failing implementation's ImplFailure, while the other implementations still run."""
    from genmedia.plugins import ImplFailure

    guarded = [
        "genmedia_register_commands",
        "genmedia_add_options",
        "genmedia_job_submitted",
        "genmedia_job_progress",
        "genmedia_job_finished",
        "genmedia_handle_result",
    ]
    wrapped: dict[str, list[Any]] = {name: [] for name in guarded}
    plain: list[str] = []

    def wrapper(name: str) -> Any:
        def impl(self):  # a hook wrapper takes only what it needs
            results = yield
            wrapped[name].append(results)
            return results

        impl.__name__ = name
        return hookimpl(wrapper=True)(impl)

    def broken(name: str) -> Any:
        def impl(self):
            raise RuntimeError(f"broken {name}")

        impl.__name__ = name
        return hookimpl(impl)

    def works(name: str) -> Any:
        def impl(self):
            plain.append(name)

        impl.__name__ = name
        return hookimpl(trylast=True)(impl)

    Wrappers = type("Wrappers", (), {name: wrapper(name) for name in guarded})
    Broken = type("Broken", (), {name: broken(name) for name in guarded})
    Works = type("Works", (), {name: works(name) for name in guarded})
    result = run(["run", "example/echo", "--prompt", "hi"], Works(), Broken(), Wrappers())
    assert result.exit_code == 1  # the broken sink
    assert result.json["result"]["echo"] == {"prompt": "hi"}
    for name in guarded:
        assert wrapped[name], f"the wrapper of {name} was not called"
        failures = [r for call in wrapped[name] for r in call if isinstance(r, ImplFailure)]
        assert failures and all(f.hook == name for f in failures), name
        assert str(failures[0].error) == f"broken {name}"
        assert name in plain, f"{name}: the implementation after the broken one did not run"
    assert result.json["sink_errors"][0]["error"] == "RuntimeError: broken genmedia_handle_result"


def test_a_third_party_command_replaces_a_core_one():
    class P:
        @hookimpl
        def genmedia_register_commands(self, cli):
            @cli.command("version")
            def version():
                click.echo(json.dumps({"mine": True}))

    assert run(["version"], P()).json == {"mine": True}


def test_a_third_party_provider_resolves_its_own_credentials(isolated_env, monkeypatch):
    """The core knows no provider's keys: the example provider reads EXAMPLE_KEY or its own
    config section, and asks for it before a paid run through require_credentials()."""
    config = isolated_env / "config" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"plugins": {"example": {"require_key": True}}}))
    config.chmod(0o600)
    monkeypatch.setenv("FAL_KEY", "fal-key-is-not-the-example-key")
    missing = run(["run", "example/echo", "--prompt", "hi"])
    assert missing.exit_code == 3
    assert missing.error["error"].startswith("No example key")
    assert missing.error["details"]["provider"] == "example"
    monkeypatch.setenv("EXAMPLE_KEY", "example-secret-value")
    ok = run(["run", "example/echo", "--prompt", "hi"])
    assert ok.exit_code == 0, ok.stderr
    assert ok.json["result"]["key_source"] == "env:EXAMPLE_KEY"
    assert "example-secret-value" not in ok.stdout + ok.stderr
    # the provider registered its key with the redactor: an error quoting it prints ****
    quoted = run(["run", "example/echo", "--prompt", "hi", "--field", "example-secret-value"])
    assert quoted.exit_code == 2 and quoted.error["error"] == "Field not found: ****"
    # and `genmedia config` shows the provider's credential masked, with its source
    shown = run(["config", "get", "example.key", "--json"])
    assert shown.json == {
        "key": "example.key",
        "value": "exam…****",
        "source": "env:EXAMPLE_KEY",
        "description": "the example provider's key (masked)",
    }
    refused = run(["config", "set", "example.key", "x"])
    assert refused.exit_code == 2 and refused.error["details"]["hint"] == "export EXAMPLE_KEY=..."
    monkeypatch.delenv("EXAMPLE_KEY")
    config.write_text(json.dumps({"plugins": {"example": {"require_key": True, "key": "k"}}}))
    from_config = run(["run", "example/echo", "--prompt", "hi"])
    assert from_config.json["result"]["key_source"] == "config:plugins.example.key"
