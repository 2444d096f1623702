"""``assets characters …`` against the emulator."""

from __future__ import annotations

from genmedia import errors


def test_create_from_a_fresh_generation_and_manage(lib):
    request_id = lib.completed_request()
    asset = lib.asset("reference")
    external = lib.file_url("ref.png")

    made = lib.ok(
        "assets", "characters", "create", "Whiskers",
        "--description", "An elegant black cat sitting on a moss-covered rock",
        "--reference_image", request_id,
        "--reference-image", f"{asset['vector_id']},{external}",
        "--identifier", "whiskers",
    )["character"]  # fmt: skip
    assert made["type"] == "character" and made["name"] == "Whiskers"
    assert made["character_identifier"] == "whiskers"
    assert made["reference_images"] == [request_id, asset["vector_id"], external]

    assert lib.ok("assets", "characters", "get", made["id"]) == {"character": made}
    listed = lib.ok("assets", "characters", "list")
    assert [c["id"] for c in listed["characters"]] == [made["id"]]
    assert lib.api_calls("GET", "/assets/characters")[-1].query == ""  # upstream sends none

    updated = lib.ok(
        "assets", "characters", "update", made["id"],
        "--name", "Whiskers II", "--reference_image_url", asset["vector_id"],
    )["character"]  # fmt: skip
    assert updated["name"] == "Whiskers II"
    assert updated["reference_images"] == [asset["vector_id"]]
    assert updated["description"] == made["description"]

    assert lib.ok("assets", "characters", "favorite", made["id"])["character"]["is_favorited"]
    assert not lib.ok("assets", "characters", "unfavorite", made["id"])["character"]["is_favorited"]

    out = lib.ok("assets", "characters", "delete", made["id"], "--yes")
    assert out == {"deleted": True, "character_id": made["id"]}
    assert lib.ok("assets", "characters", "list") == {"characters": []}


def test_create_needs_one_to_twenty_references(lib):
    none = lib.cli("assets", "characters", "create", "X", "--description", "d")
    assert none.exit_code == errors.EXIT_USAGE
    assert none.error["error"] == (
        "At least one --reference_image is required (max 20). Pass a fal-hosted URL, "
        "request_id, or vector_id."
    )
    many = ",".join(f"r{i}" for i in range(21))
    too_many = lib.cli("assets", "characters", "create", "X", "--description", "d",
                       "--reference_image", many)  # fmt: skip
    assert too_many.exit_code == errors.EXIT_USAGE
    assert too_many.error["details"] == {"count": 21, "max": 20}
    assert lib.api_calls() == []


def test_create_needs_a_description(lib):
    result = lib.cli("assets", "characters", "create", "X", "--reference_image", "r1")
    assert result.exit_code == errors.EXIT_USAGE
    assert "--description" in result.error["error"]
    assert lib.api_calls() == []


def test_characters_are_not_collections(lib):
    coll = lib.collection()
    result = lib.cli("assets", "characters", "get", coll["id"])
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == f"Assets GET /characters/{coll['id']} failed (404)"


def test_list_with_paging_flags(lib):
    lib.ok("assets", "characters", "list", "--limit", "5", "--offset", "0")
    assert lib.api_calls("GET", "/assets/characters")[-1].query == "limit=5&offset=0"
