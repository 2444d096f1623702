"""``assets tags …`` against the emulator."""

from __future__ import annotations

import pytest

from genmedia import errors


def test_create_list_update_delete(lib):
    moody = lib.ok("assets", "tags", "create", "moody")["tag"]
    assert moody["name"] == "moody" and moody["id"]
    lib.tag("bright")

    listed = lib.ok("assets", "tags", "list")
    assert sorted(t["name"] for t in listed["tags"]) == ["bright", "moody"]

    renamed = lib.ok("assets", "tags", "update", moody["id"], "--name", "gloomy")
    assert renamed == {"tag": {**moody, "name": "gloomy"}}
    # no --name: upstream sends {} (a no-op update that returns the tag)
    assert lib.ok("assets", "tags", "update", moody["id"])["tag"]["name"] == "gloomy"

    out = lib.ok("assets", "tags", "delete", moody["id"], "--yes")
    assert out == {"deleted": True, "tag_id": moody["id"]}
    assert [t["name"] for t in lib.ok("assets", "tags", "list")["tags"]] == ["bright"]


def test_create_with_a_too_long_name_is_a_validation_error(lib):
    result = lib.cli("assets", "tags", "create", "x" * 51)
    assert result.exit_code == errors.EXIT_VALIDATION
    assert result.error["error"] == "Assets POST /tags failed (422)"
    assert result.error["details"]["error"]["type"] == "validation_error"
    assert lib.state.tags == {}


# fal's spec caps tag names at 50 characters, so the request above is non-conforming
# on purpose; the validator must not fail the test for it.
test_create_with_a_too_long_name_is_a_validation_error = pytest.mark.fal_sandbox_allow_invalid(
    test_create_with_a_too_long_name_is_a_validation_error
)


def test_update_unknown_tag_is_not_found(lib):
    result = lib.cli("assets", "tags", "update", "nope", "--name", "x")
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == "Assets PATCH /tags/nope failed (404)"


def test_assign_unassign_for_asset_and_set(lib):
    asset = lib.asset()
    vid = asset["vector_id"]
    a, b, c = (lib.tag(n) for n in ("a", "b", "c"))

    assert lib.ok("assets", "tags", "assign", a["id"], "--vector_id", vid) == {"success": True}
    assert lib.ok("assets", "tags", "for-asset", vid) == {"tags": [a]}

    out = lib.ok("assets", "tags", "unassign", a["id"], "--vector_id", vid)
    assert out == {"unassigned": True, "tag_id": a["id"], "vector_id": vid}
    assert lib.ok("assets", "tags", "for-asset", vid) == {"tags": []}

    # set: full replacement, repeated and comma-separated flags
    out = lib.ok("assets", "tags", "set", "--vector_id", vid, "--tag_id", f"{a['id']},{b['id']}",
                 "--tag-id", c["id"])  # fmt: skip
    assert [t["id"] for t in out["tags"]] == [a["id"], b["id"], c["id"]]
    assert lib.ok("assets", "get", vid)["asset"]["tags"] == out["tags"]

    # browse by tag, any vs all
    only_a = lib.ok("assets", "browse", "--tag_id", f"{a['id']},{b['id']}", "--tag_mode", "all")
    assert [x["vector_id"] for x in only_a["assets"]] == [vid]

    # an empty set clears every tag
    assert lib.ok("assets", "tags", "set", "--vector_id", vid) == {"tags": []}
    assert lib.ok("assets", "tags", "for-asset", vid) == {"tags": []}


def test_assign_by_request_id_and_unassign_output(lib):
    request_id = lib.completed_request()
    tag = lib.tag("generated")
    lib.ok("assets", "tags", "assign", tag["id"], "--request_id", request_id)
    found = lib.ok("assets", "browse", "--tag_id", tag["id"])
    assert [x["request_id"] for x in found["assets"]] == [request_id]
    out = lib.ok("assets", "tags", "unassign", tag["id"], "--request-id", request_id)
    assert out == {"unassigned": True, "tag_id": tag["id"], "request_id": request_id}


def test_assign_to_unknown_asset_is_not_found(lib):
    tag = lib.tag("t")
    result = lib.cli("assets", "tags", "assign", tag["id"], "--vector_id", "missing")
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == f"Assets POST /tags/{tag['id']}/assign failed (404)"


def test_for_asset_with_no_live_record_is_empty(lib):
    assert lib.ok("assets", "tags", "for-asset", "never-seen") == {"tags": []}


def test_delete_asks_on_a_terminal(lib, monkeypatch):
    from genmedia_fal.assets.commands import common

    tag = lib.tag("keep-me")
    monkeypatch.setattr(common, "stdin_is_tty", lambda app: True)

    declined = lib.cli("assets", "tags", "delete", tag["id"], input="n\n")
    assert declined.exit_code == errors.EXIT_USAGE
    assert f"Delete tag {tag['id']}?" in declined.stderr
    assert tag["id"] in lib.state.tags

    accepted = lib.cli("assets", "tags", "delete", tag["id"], input="y\n")
    assert accepted.exit_code == 0, accepted
    assert accepted.json == {"deleted": True, "tag_id": tag["id"]}
    assert lib.state.tags == {}


def test_delete_without_terminal_or_yes_refuses(lib):
    tag = lib.tag("safe")
    result = lib.cli("assets", "tags", "delete", tag["id"])
    assert result.exit_code == errors.EXIT_USAGE
    assert "pass --yes" in result.error["error"]
    assert tag["id"] in lib.state.tags
    assert lib.api_calls("DELETE") == []
