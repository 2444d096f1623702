"""`genmedia run "a prompt"` end to end against the emulator: routing, config, the hook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genmedia import hookimpl
from genmedia.testing import invoke
from genmedia.types import Route
from genmedia_commands.route import is_endpoint_id
from genmedia_routing import table
from genmedia_sandbox.catalog import Catalog

T2V = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
I2V = "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"


def write_config(home: Path, values: dict) -> None:
    path = home / "config" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values), encoding="utf-8")


def png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (16, 16), "red").save(path)
    return path


def test_defaults_table_runs_in_the_sandbox():
    """Every default endpoint is in the emulator's catalogue and reads the prompt (and the
    image, for the image modalities) from fields its schema has."""
    catalog = Catalog()
    rows = table.defaults()
    assert {"image", "edit", "video", "image-to-video", "speech", "music", "3d"} <= set(rows)
    for modality, entry in rows.items():
        model = catalog.get(entry.endpoint_id)
        assert model is not None, f"{modality}: {entry.endpoint_id} not in the sandbox"
        fields = set((model.input_schema or {}).get("properties", {}))
        if entry.prompt_field:
            assert entry.prompt_field in fields, (modality, entry.endpoint_id)
        if modality in ("edit", "image-to-video", "image-to-3d"):
            assert "image_url" in fields, (modality, entry.endpoint_id)
        if modality == "transcription":
            assert "audio_url" in fields


def test_run_a_prompt_routes_to_the_default_video_model(cli, fal_sandbox_env):
    result = cli("run", "a video of a cat surfing", "--json")
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["routed"] == {
        "modality": "video",
        "endpoint_id": T2V,
        "source": "default",
        "from_prompt": True,
        "reason": 'asks for a "video"',
    }
    assert list(doc)[:5] == ["status", "endpoint_id", "request_id", "result", "routed"]
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == T2V and job.input == {"prompt": "a video of a cat surfing"}
    assert "routed" not in result.stderr  # JSON mode: no notice


def test_prompt_option_alone_routes(cli, fal_sandbox_env):
    result = cli("run", "--prompt", "say cheese portrait", "--num_images", "2", "--json")
    assert result.exit_code == 0, result
    assert result.json["routed"]["modality"] == "image"
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == "fal-ai/flux/dev"
    assert job.input == {"prompt": "say cheese portrait", "num_images": 2}


def test_speech_models_get_the_prompt_as_text(cli, fal_sandbox_env):
    result = cli("run", "Say good morning, Berlin", "--json")
    assert result.exit_code == 0, result
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == "fal-ai/minimax/speech-02-hd"
    assert job.input == {"text": "Say good morning, Berlin"}


def test_an_image_input_turns_video_into_image_to_video(cli, fal_sandbox_env, tmp_path):
    ref = png(tmp_path / "ref.png")
    result = cli("run", "animate this photo", "--image_url", str(ref), "--json")
    assert result.exit_code == 0, result
    assert result.json["routed"]["modality"] == "image-to-video"
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == I2V
    assert job.input["prompt"] == "animate this photo"
    assert job.input["image_url"].startswith("http")  # the local file was uploaded


def test_an_image_input_turns_an_image_into_an_edit(cli, fal_sandbox_env, tmp_path):
    ref = png(tmp_path / "ref.png")
    result = cli("run", "make the sky purple", "--image_url", str(ref), "--json")
    assert result.exit_code == 0, result
    assert result.json["routed"]["modality"] == "edit"
    assert fal_sandbox_env.jobs[0].endpoint_id == "fal-ai/flux-pro/kontext/max"


def test_config_overrides_a_modality(cli, fal_sandbox_env, isolated_env):
    write_config(isolated_env, {"plugins": {"routing": {"video": "fal-ai/veo3"}}})
    result = cli("run", "a video of a cat", "--json")
    assert result.exit_code == 0, result
    assert result.json["routed"]["source"] == "config"
    assert result.json["routed"]["endpoint_id"] == "fal-ai/veo3"
    assert fal_sandbox_env.jobs[0].endpoint_id == "fal-ai/veo3"


def test_configured_model_gets_the_prompt_under_its_own_field(cli, fal_sandbox_env, isolated_env):
    # the shipped speech model reads `text`; so does this one: found from its schema
    write_config(
        isolated_env, {"plugins": {"routing": {"speech": "fal-ai/elevenlabs/tts/multilingual-v2"}}}
    )
    result = cli("run", "say hello", "--json")
    assert result.exit_code == 0, result
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == "fal-ai/elevenlabs/tts/multilingual-v2"
    assert job.input == {"text": "say hello"}
    # and a configured music model that reads `prompt`, where the default reads `prompt` too
    write_config(isolated_env, {"plugins": {"routing": {"speech": "fal-ai/flux/schnell"}}})
    result = cli("run", "say hello", "--dry-run", "--json")
    assert result.json["input"] == {"prompt": "say hello"}


def test_a_bad_override_is_a_warning_and_the_default_runs(cli, fal_sandbox_env, isolated_env):
    write_config(isolated_env, {"plugins": {"routing": {"image": "not an endpoint"}}})
    result = cli("run", "a cat", "--dry-run", "--json")
    assert result.exit_code == 0, result
    assert result.json["routed"]["endpoint_id"] == "fal-ai/flux/dev"
    # a warning: on stderr, or in the document's `warnings` where the contract puts them
    assert "ignoring routing.image" in result.stderr + json.dumps(result.json.get("warnings"))


def test_route_option_forces_the_modality(cli, fal_sandbox_env):
    result = cli("run", "a cat", "--route", "3d", "--dry-run", "--json")
    assert result.exit_code == 0, result
    routed = result.json["routed"]
    assert routed["modality"] == "3d" and routed["from_prompt"] is False
    assert result.json["endpoint_id"] == "fal-ai/hyper3d/rodin/v2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "a cat", "--route", "hologram"], "Unknown --route 'hologram'"),
        (["run", "fal-ai/flux/dev", "--route", "video"], "--route chooses a model for a prompt"),
        (["run"], "Missing ENDPOINT or prompt"),
        (["run", "a cat", "--prompt", "a dog"], "The prompt was given twice"),
        (["run", "a clip", "--video_url", "x.mp4"], "No model is set for video-to-video runs"),
    ],
)
def test_routing_usage_errors(cli, fal_sandbox_env, args, message):
    result = cli(*args, "--json")
    assert result.exit_code == 2, result
    assert result.error["error"].startswith(message)
    assert result.error["details"].get("hint") or result.error["details"].get("choices")
    assert not fal_sandbox_env.jobs


def test_errors_after_routing_name_the_route(cli, fal_sandbox_env):
    result = cli("run", "a cat", "--num_images", "99", "--json")
    assert result.exit_code == 5, result
    assert result.error["details"]["routed"]["endpoint_id"] == "fal-ai/flux/dev"


def test_pretty_mode_prints_one_notice_line(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_OUTPUT", "pretty")
    result = cli("run", "a song about the sea", "--dry-run")
    assert result.exit_code == 0, result
    notices = [line for line in result.stderr.splitlines() if line.startswith("routed:")]
    assert notices == ['routed: music → sonauto/v2/text-to-music (default; asks for a "song")']


def test_endpoint_ids_and_prompts_are_told_apart():
    assert is_endpoint_id("fal-ai/flux/dev") and is_endpoint_id("example:echo")
    assert not is_endpoint_id("a cat") and not is_endpoint_id("cat")
    assert not is_endpoint_id("a cat/dog hybrid") and not is_endpoint_id(None)


def test_sandbox_flag_runs_a_routed_prompt(run_genmedia, tmp_path):
    """As a user types it: `genmedia --sandbox run "…"` in a fresh process."""
    proc = run_genmedia("--sandbox", "run", "a lo-fi hip hop beat", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sandbox"] is True and doc["status"] == "completed"
    assert doc["routed"]["modality"] == "music"
    assert doc["endpoint_id"] == "sonauto/v2/text-to-music"
    urls = list(_urls(doc["result"]))
    assert urls and all(url.startswith("http://127.0.0.1:") for url in urls)


def _urls(value):
    if isinstance(value, dict):
        yield from ([value["url"]] if isinstance(value.get("url"), str) else [])
        for child in value.values():
            yield from _urls(child)
    elif isinstance(value, list):
        for child in value:
            yield from _urls(child)


# --------------------------------------------------------------------------- the hook


class Cheapest:
    """A third-party router: answers for video, defers (None) for everything else."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def genmedia_route(self, prompt, inputs, modality):
        self.calls.append((prompt, dict(inputs), modality))
        if "video" in (prompt or ""):
            return Route("video", "fal-ai/veo3", "cheapest", True, "cheapest video model")
        return None


def test_hook_genmedia_route(fal_sandbox_env):
    router = Cheapest()
    result = invoke(["run", "a video of a cat", "--seed", "3", "--json"], plugins=[router])
    assert result.exit_code == 0, result
    assert result.json["routed"]["source"] == "cheapest"
    assert fal_sandbox_env.jobs[0].endpoint_id == "fal-ai/veo3"
    assert fal_sandbox_env.jobs[0].input["prompt"] == "a video of a cat"
    assert router.calls == [("a video of a cat", {"seed": "3"}, None)]
    # None: the built-in router answers
    result = invoke(["run", "a song", "--route", "music", "--dry-run", "--json"], plugins=[router])
    assert result.json["routed"]["source"] == "default"
    assert router.calls[-1] == ("a song", {}, "music")
    # with no router at all the run is a clear usage error
    result = invoke(
        ["run", "a cat", "--json"],
        plugins=[],
        pm=_without_routing(),
    )
    assert result.exit_code == 2
    assert result.error["error"] == "No model could be chosen for this run: name an endpoint"


def _without_routing():
    from genmedia.plugins import BUILTIN_PLUGINS, make_plugin_manager

    return make_plugin_manager(
        builtins=[b for b in BUILTIN_PLUGINS if b[0] != "routing"], autoload=False
    )


def wav(path: Path) -> Path:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return path


@pytest.mark.parametrize("modality", sorted(table.defaults()))
def test_every_default_runs_in_the_sandbox(cli, fal_sandbox_env, tmp_path, modality):
    extra: list[str] = []
    if modality in ("edit", "image-to-video", "image-to-3d"):
        extra = ["--image_url", str(png(tmp_path / "ref.png"))]
    elif modality == "transcription":
        extra = ["--audio_url", str(wav(tmp_path / "talk.wav"))]
    result = cli("run", "something nice", "--route", modality, *extra, "--json")
    assert result.exit_code == 0, result
    assert result.json["status"] == "completed"
    assert result.json["routed"]["modality"] == modality
    (job,) = fal_sandbox_env.jobs
    assert job.endpoint_id == table.defaults()[modality].endpoint_id


def test_config_set_routing_key_is_declared_and_used(tmp_path, monkeypatch):
    """`genmedia config set routing.video ENDPOINT` is accepted and stored under
    plugins.routing.video (where the router reads overrides); a bad value is refused."""
    import json as _json

    from genmedia.testing import invoke

    monkeypatch.setenv("GENMEDIA_HOME", str(tmp_path / "home"))
    bad = invoke(["--json", "config", "set", "routing.video", "not an endpoint"])
    assert bad.exit_code != 0 and "endpoint id" in bad.stderr
    ok = invoke(
        [
            "--json",
            "config",
            "set",
            "routing.video",
            "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
        ]
    )
    assert ok.exit_code == 0, ok.stderr
    listed = invoke(["--json", "config", "get", "routing.video"])
    assert "fal-ai/kling-video/v2.5-turbo/pro/text-to-video" in listed.stdout
    files = list((tmp_path / "home").rglob("config.json"))
    assert files and _json.loads(files[0].read_text())["plugins"]["routing"]["video"].startswith(
        "fal-ai/kling"
    )


def test_hook_genmedia_infer_category(fal_sandbox_env):
    """`models "<task>"` asks the hook; a plugin answers first, the routing plugin last."""

    class Speech:
        @hookimpl
        def genmedia_infer_category(self, query, ctx):
            return "text-to-speech" if query.startswith("say ") else None

    said = invoke(["models", "say hello", "--json"], plugins=[Speech()])
    assert said.exit_code == 0, said
    assert said.json["inferred_category"] == "text-to-speech"
    builtin = invoke(["models", "a video of a cat", "--json"], plugins=[Speech()])
    assert builtin.json["inferred_category"] == "text-to-video"  # the routing plugin's
    without = invoke(["models", "a video of a cat", "--json"], plugins=[], pm=_without_routing())
    assert without.exit_code == 0, without
    assert "inferred_category" not in without.json  # the words are searched as given
