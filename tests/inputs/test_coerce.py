"""Values typed by the schema, through the CLI (dry runs: nothing is submitted)."""

from __future__ import annotations

import pytest

from genmedia.hookspecs import JSON_NULL
from genmedia_inputs.coerce import coerce_value, upstream_parse

DEV = "fal-ai/flux/dev"


def dry(cli, endpoint, *args, **kw):
    result = cli("run", endpoint, *args, "--dry-run", **kw)
    assert result.exit_code == 0, result
    return result.json["input"]


def test_prompt_of_digits_stays_a_string(cli, fal_sandbox_env):
    payload = dry(
        cli,
        DEV,
        "--prompt",
        "123",
        "--num_images",
        "2",
        "--guidance_scale",
        "3.5",
        "--enable_safety_checker",
        "false",
        "--seed",
        "null",
    )
    assert payload == {
        "prompt": "123",
        "num_images": 2,
        "guidance_scale": 3.5,
        "enable_safety_checker": False,
        "seed": None,
    }


def test_equals_form_and_double_dash(cli, fal_sandbox_env):
    result = cli("run", DEV, "--dry-run", "--prompt=a=b", "--", "--num_images", "3")
    assert result.exit_code == 0, result
    assert result.json["input"] == {"prompt": "a=b", "num_images": 3}


def test_object_from_json_and_enum_union(cli, fal_sandbox_env):
    payload = dry(cli, DEV, "--prompt", "x", "--image_size", '{"width": 512, "height": 512}')
    assert payload["image_size"] == {"width": 512, "height": 512}
    payload = dry(cli, DEV, "--prompt", "x", "--image_size", "square_hd")
    assert payload["image_size"] == "square_hd"


def test_arrays_from_repeated_flags_or_json(cli, fal_sandbox_env):
    edit = "fal-ai/nano-banana/edit"
    a, b = "https://example.com/a.png", "https://example.com/b.png"
    assert dry(cli, edit, "--prompt", "a cat", "--image_urls", a, "--image_urls", b)[
        "image_urls"
    ] == [a, b]
    assert dry(cli, edit, "--prompt", "a cat", "--image_urls", f'["{a}", "{b}"]')["image_urls"] == [
        a,
        b,
    ]
    assert dry(cli, edit, "--prompt", "a cat", "--image_urls", a)["image_urls"] == [a]


def test_at_file_and_stdin(cli, fal_sandbox_env, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("a long prompt\nwith two lines\n")
    assert dry(cli, DEV, "--prompt", f"@{prompt}")["prompt"] == "a long prompt\nwith two lines"
    assert dry(cli, DEV, "--prompt", "-", input="from stdin\n")["prompt"] == "from stdin"
    # an @word that names no file is kept (prompts like "@Image1 dances")
    assert dry(cli, DEV, "--prompt", "@Image1 dances")["prompt"] == "@Image1 dances"
    assert dry(cli, DEV, "--prompt", "@@literal")["prompt"] == "@literal"


def test_at_path_typo_is_an_error_not_a_prompt(cli, fal_sandbox_env, tmp_path):
    missing = tmp_path / "promt.txt"
    result = cli("run", DEV, "--prompt", f"@{missing}")
    assert result.exit_code == 5
    assert result.error["error"] == f"File not found: {missing}"
    (issue,) = result.error["details"]["validation_errors"]
    assert issue["field"] == "prompt" and issue["type"] == "file_not_found"
    assert not [r for r in fal_sandbox_env.requests if r.role == "queue"]
    for typo in ("@notes.md", "@./x", "@dir/file"):
        assert cli("run", DEV, "--prompt", typo, "--dry-run").exit_code == 5


def test_missing_file_input_same_exit_code_with_or_without_at(cli, fal_sandbox_env, tmp_path):
    missing = tmp_path / "nope.png"
    plain = cli("run", "fal-ai/aura-sr", "--image_url", str(missing))
    at = cli("run", "fal-ai/aura-sr", "--image_url", f"@{missing}")
    assert plain.exit_code == at.exit_code == 5
    for result in (plain, at):
        (issue,) = result.error["details"]["validation_errors"]
        assert issue["field"] == "image_url" and issue["type"] == "file_not_found"
        assert result.error["details"]["body"]["detail"][0]["loc"] == ["body", "image_url"]
    assert not fal_sandbox_env.jobs


def test_input_file_then_flags_override(cli, fal_sandbox_env, tmp_path):
    doc = tmp_path / "in.json"
    doc.write_text('{"prompt": "from file", "num_images": 2}')
    payload = dry(cli, DEV, "--input", str(doc), "--num_images", "3")
    assert payload == {"prompt": "from file", "num_images": 3}


def test_numeric_enum_matches_its_text():
    schema = {"enum": [6, 8, 10, "auto"]}
    assert coerce_value("8", schema) == 8
    assert coerce_value("auto", schema) == "auto"
    assert coerce_value("null", {"anyOf": [{"type": "integer"}, {"type": "null"}]}) is JSON_NULL
    union = {"anyOf": [{"type": "integer"}, {"type": "string", "const": "auto"}]}
    assert coerce_value("120", union) == 120 and coerce_value("auto", union) == "auto"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True),
        ("false", False),
        ("12", 12),
        ("1.5", 1.5),
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", [1, 2]),
        ("null", None),
        ("hello", "hello"),
        (" ", " "),
    ],
)
def test_upstream_parse_for_unknown_fields(raw, value):
    assert upstream_parse(raw) == value
