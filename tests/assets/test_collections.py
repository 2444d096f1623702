"""``assets collections …`` against the emulator."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from genmedia import errors


def test_create_get_list_update_delete(lib):
    made = lib.ok(
        "assets", "collections", "create", "Moodboard",
        "--description", "dark and moody", "--color", "#112233", "--icon", "star",
    )["collection"]  # fmt: skip
    assert made["type"] == "manual" and made["name"] == "Moodboard"
    assert made["description"] == "dark and moody" and made["cover_image_url"] is None
    assert "filters" not in made

    assert lib.ok("assets", "collections", "get", made["id"]) == {"collection": made}

    listed = lib.ok("assets", "collections", "list")
    assert [c["id"] for c in listed["collections"]] == [made["id"]]
    params = dict(parse_qsl(lib.api_calls("GET", "/assets/collections")[-1].query))
    assert params == {"limit": "50", "offset": "0"}  # always sent, upstream's defaults
    lib.ok("assets", "collections", "list", "--limit", "10", "--offset", "1")
    params = dict(parse_qsl(lib.api_calls("GET", "/assets/collections")[-1].query))
    assert params == {"limit": "10", "offset": "1"}

    updated = lib.ok(
        "assets", "collections", "update", made["id"], "--name", "Renamed", "--description", ""
    )["collection"]
    assert updated["name"] == "Renamed"
    assert updated["description"] == ""  # given as "" → sent (clears it)
    assert updated["color"] == "#112233"  # not given → not sent

    out = lib.ok("assets", "collections", "delete", made["id"], "--yes")
    assert out == {"deleted": True, "collection_id": made["id"]}
    assert lib.ok("assets", "collections", "list") == {"collections": []}


def test_smart_collection_filters_inline_and_from_file(lib, tmp_path):
    inline = lib.collection("Smart", "--filters", '{"media_type": ["image"]}')
    assert inline["type"] == "smart" and inline["filters"] == {"media_type": ["image"]}

    path = tmp_path / "filters.json"
    path.write_text(json.dumps({"tag_ids": ["x"]}))
    from_file = lib.collection("From file", "--filters", f"@{path}")
    assert from_file["filters"] == {"tag_ids": ["x"]}

    changed = lib.ok("assets", "collections", "update", inline["id"], "--filters", '{"q": "cat"}')
    assert changed["collection"]["filters"] == {"q": "cat"}


def test_bad_filters_fail_before_any_request(lib, tmp_path):
    bad = lib.cli("assets", "collections", "create", "X", "--filters", "{nope")
    assert bad.exit_code == errors.EXIT_VALIDATION
    assert bad.error["error"] == "Invalid --filters JSON"

    missing = lib.cli("assets", "collections", "create", "X", "--filters", "@/no/such/file.json")
    assert missing.exit_code == errors.EXIT_USAGE
    assert missing.error["error"] == "Filters file not found: /no/such/file.json"

    broken = tmp_path / "broken.json"
    broken.write_text("[1,")
    result = lib.cli("assets", "collections", "update", "c", "--filters", f"@{broken}")
    assert result.exit_code == errors.EXIT_VALIDATION
    assert result.error["error"] == f"Failed to parse filters JSON at {broken}"
    assert lib.api_calls() == []


def test_favorite_unfavorite(lib):
    coll = lib.collection()
    fav = lib.ok("assets", "collections", "favorite", coll["id"])
    assert fav["collection"]["is_favorited"] is True
    unfav = lib.ok("assets", "collections", "unfavorite", coll["id"])
    assert unfav["collection"]["is_favorited"] is False


def test_add_browse_remove(lib):
    coll = lib.collection()
    inside = lib.asset("inside")
    lib.asset("outside")
    request_id = lib.completed_request()

    out = lib.ok("assets", "collections", "add", coll["id"], "--vector_id", inside["vector_id"])
    assert out == {"success": True}
    lib.ok("assets", "collections", "add", coll["id"], "--request_id", request_id)

    page = lib.ok("assets", "collections", "browse", coll["id"], "--limit", "1")
    assert page["collection_id"] == coll["id"]
    assert "section" not in page and "query" not in page
    assert page["count"] == 1 and page["has_more"] is True and page["next_cursor"]
    everything = lib.ok("assets", "collections", "browse", coll["id"], "--limit", "1", "--all")
    assert everything["count"] == 2 and everything["pages"] == 2
    ids = {a["vector_id"] for a in everything["assets"]}
    assert inside["vector_id"] in ids
    assert all(coll["id"] in a["collection_ids"] for a in everything["assets"])
    # collection_id is in the path, never in the query
    assert (
        "collection_id"
        not in lib.api_calls("GET", f"/assets/collections/{coll['id']}/assets")[-1].query
    )

    searched = lib.ok("assets", "collections", "browse", coll["id"], "inside")
    assert [a["vector_id"] for a in searched["assets"]] == [inside["vector_id"]]

    out = lib.ok("assets", "collections", "remove", coll["id"], "--vector_id", inside["vector_id"])
    assert out == {"removed": True, "collection_id": coll["id"], "vector_id": inside["vector_id"]}
    out = lib.ok("assets", "collections", "remove", coll["id"], "--request_id", request_id)
    assert out == {"removed": True, "collection_id": coll["id"], "request_id": request_id}
    assert lib.ok("assets", "collections", "browse", coll["id"])["count"] == 0


def test_adding_to_a_smart_collection_is_rejected(lib):
    smart = lib.collection("Smart", "--filters", "{}")
    asset = lib.asset()
    result = lib.cli("assets", "collections", "add", smart["id"], "--vector_id", asset["vector_id"])
    assert result.exit_code == errors.EXIT_VALIDATION
    assert result.error["error"] == f"Assets POST /collections/{smart['id']}/assets failed (422)"
    assert result.error["details"]["error"]["type"] == "validation_error"


def test_unknown_collection_is_not_found(lib):
    for args in (
        ("get", "nope"),
        ("browse", "nope"),
        ("favorite", "nope"),
        ("delete", "nope", "-y"),
    ):
        result = lib.cli("assets", "collections", *args)
        assert result.exit_code == errors.EXIT_NOT_FOUND, args
        assert result.error["details"]["error"]["type"] == "not_found"


def test_upload_into_a_collection(lib):
    coll = lib.collection()
    asset = lib.asset("in a collection", "--collection_id", coll["id"])
    assert asset["collection_ids"] == [coll["id"]]
    assert lib.ok("assets", "collections", "get", coll["id"])["collection"]["asset_count"] == 1
