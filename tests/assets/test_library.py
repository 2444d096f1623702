"""``assets browse|get|update|delete|favorite|unfavorite`` against the emulator."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from genmedia import errors


def test_browse_sends_upstream_query_and_prints_envelope(lib):
    cat = lib.asset("a black cat")
    lib.asset("a red fox")
    tag = lib.tag("pets")
    lib.ok("assets", "tags", "assign", tag["id"], "--vector_id", cat["vector_id"])

    out = lib.ok(
        "assets", "browse", "  cat ",
        "--media_type", "image,video", "--media-type", "audio",
        "--source", "upload", "--tag_id", tag["id"], "--tag-mode", "all",
        "--character_identifier", "whiskers,felix", "--limit", "5",
    )  # fmt: skip

    # the query on the wire: trimmed q, repeated list params, defaults always sent
    call = lib.api_calls("GET", "/assets")[-1]
    params = parse_qsl(call.query, keep_blank_values=True)
    assert ("q", "cat") in params
    assert [v for k, v in params if k == "media_type"] == ["image", "video", "audio"]
    assert [v for k, v in params if k == "character_identifier"] == ["whiskers", "felix"]
    assert ("section", "all-media") in params and ("tag_mode", "all") in params
    assert ("limit", "5") in params and ("source", "upload") in params
    assert out["query"] == "cat"
    assert out["section"] == "all-media"
    # character filter matches nothing in the emulator (no such characters)
    assert out["count"] == 0 and out["assets"] == [] and out["has_more"] is False
    assert "next_cursor" not in out


def test_browse_without_query_omits_q_and_lists_newest_first(lib):
    first = lib.asset("first")
    second = lib.asset("second")
    out = lib.ok("assets", "browse", "--section", "uploads")
    assert "q=" not in lib.api_calls("GET", "/assets")[-1].query
    assert "query" not in out
    assert out["section"] == "uploads"
    assert out["count"] == 2 and out["total_count"] == 2
    assert [a["vector_id"] for a in out["assets"]] == [second["vector_id"], first["vector_id"]]
    # every Asset key is printed, nulls included (the API response unchanged)
    assert out["assets"][0]["endpoint"] is None and "similarity" in out["assets"][0]


def test_browse_pages_with_cursor_and_all(lib):
    made = [lib.asset(f"pic {i}")["vector_id"] for i in range(5)]

    page1 = lib.ok("assets", "browse", "--limit", "2")
    assert page1["count"] == 2 and page1["has_more"] is True and page1["next_cursor"]
    page2 = lib.ok("assets", "browse", "--limit", "2", "--cursor", page1["next_cursor"])
    assert page2["count"] == 2 and page2["has_more"] is True

    before = len(lib.api_calls("GET", "/assets"))
    everything = lib.ok("assets", "browse", "--limit", "2", "--all")
    assert len(lib.api_calls("GET", "/assets")) - before == 3  # pages of 2, 2, 1
    assert everything["count"] == 5 and everything["pages"] == 3
    assert everything["has_more"] is False and "next_cursor" not in everything
    assert sorted(a["vector_id"] for a in everything["assets"]) == sorted(made)
    assert len({a["vector_id"] for a in everything["assets"]}) == 5


def test_browse_rejects_unknown_enum_values_locally(lib):
    result = lib.cli("assets", "browse", "--media_type", "image,hologram")
    assert result.exit_code == errors.EXIT_USAGE
    assert "hologram" in result.error["error"]
    assert lib.api_calls() == []


def test_get_returns_the_asset_envelope(lib):
    asset = lib.asset("a cat on a rock")
    out = lib.ok("assets", "get", asset["vector_id"])
    assert out == {"asset": asset}
    by_asset_id = lib.ok("assets", "get", asset["asset_id"])
    assert by_asset_id["asset"]["vector_id"] == asset["vector_id"]


def test_get_unknown_asset_is_not_found(lib):
    result = lib.cli("assets", "get", "no-such-asset")
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == "Assets GET /no-such-asset failed (404)"
    assert result.error["details"]["error"]["type"] == "not_found"
    assert "no-such-asset" in result.error["details"]["error"]["message"]


def test_favorite_and_unfavorite_by_vector_id(lib):
    asset = lib.asset()
    assert lib.ok("assets", "favorite", "--vector_id", asset["vector_id"]) == {"is_favorited": True}
    assert lib.ok("assets", "get", asset["vector_id"])["asset"]["is_favorited"] is True
    favorites = lib.ok("assets", "browse", "--section", "favorites")
    assert [a["vector_id"] for a in favorites["assets"]] == [asset["vector_id"]]
    out = lib.ok("assets", "unfavorite", "--vector-id", asset["vector_id"])
    assert out == {"is_favorited": False}
    assert lib.ok("assets", "get", asset["vector_id"])["asset"]["is_favorited"] is False


def test_favorite_by_request_id_materializes_the_generation(lib):
    request_id = lib.completed_request()
    assert lib.ok("assets", "favorite", "--request_id", request_id) == {"is_favorited": True}
    out = lib.ok("assets", "browse", "--section", "favorites")
    assert out["count"] == 1
    assert out["assets"][0]["request_id"] == request_id
    assert out["assets"][0]["source"] == "response"


@pytest.mark.parametrize(
    "flags, details",
    [
        ((), {"request_id": None, "vector_id": None}),
        (("--vector_id", "v1", "--request_id", "r1"), {"request_id": "r1", "vector_id": "v1"}),
    ],
    ids=["neither", "both"],
)
@pytest.mark.parametrize(
    "command",
    [
        ("favorite",),
        ("unfavorite",),
        ("tags", "assign", "t1"),
        ("tags", "unassign", "t1"),
        ("tags", "set"),
        ("collections", "add", "c1"),
        ("collections", "remove", "c1"),
    ],
    ids=" ".join,
)
def test_exactly_one_target_is_checked_locally(lib, command, flags, details):
    result = lib.cli("assets", *command, *flags)
    assert result.exit_code == errors.EXIT_USAGE
    assert result.error == {
        "error": "Provide exactly one of --request_id or --vector_id",
        "details": details,
    }
    assert lib.api_calls() == []


@pytest.mark.fal_sandbox_allow_invalid  # PATCH/DELETE /assets/{id} are not in fal's spec
def test_update_and_delete_call_upstreams_routes(lib):
    """upstream's later `assets update` / `assets delete` routes; the emulator (following
    fal's published OpenAPI) does not serve them, so the call ends as a 404."""
    asset = lib.asset()
    result = lib.cli("assets", "update", asset["asset_id"], "--prompt", "new caption")
    assert lib.api_calls("PATCH", f"/assets/{asset['asset_id']}")
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == f"Assets PATCH /{asset['asset_id']} failed (404)"

    result = lib.cli("assets", "delete", asset["asset_id"], "--yes")
    assert lib.api_calls("DELETE", f"/assets/{asset['asset_id']}")
    assert result.exit_code == errors.EXIT_NOT_FOUND


def test_delete_without_a_terminal_needs_yes(lib):
    result = lib.cli("assets", "delete", "some-asset")
    assert result.exit_code == errors.EXIT_USAGE
    assert (
        result.error["error"]
        == "Refusing to delete asset some-asset without confirmation: pass --yes"
    )
    assert lib.api_calls() == []
