"""Assets API routes (fal-api.md g.2) with Idempotency-Key; every exchange is openapi-validated."""

from __future__ import annotations

import pytest


@pytest.fixture
def api(fal_sandbox):
    return fal_sandbox.urls["api"] + "/assets"


BROWSE = {"section": "all-media", "tag_mode": "any", "limit": 20}


def _generated(fal) -> str:
    sub = fal.submit("fal-ai/flux/schnell", {"prompt": "a red fox"})
    fal.wait(sub["status_url"])
    return sub["request_id"]


def test_upload_get_browse_favorite(fal, api):
    c = fal.client
    url = fal.server.make_file(1000, "image/png", "up.png")
    created = c.post(f"{api}/uploads", json={"url": url, "type": "image", "prompt": "upload one",
                                              "favorite": False, "tag_ids": []})  # fmt: skip
    assert created.status_code == 201
    asset = created.json()["asset"]
    assert asset["source"] == "upload" and asset["content_type"] == "image/png"
    assert c.get(f"{api}/{asset['vector_id']}").json()["asset"]["asset_id"] == asset["asset_id"]
    assert c.get(f"{api}/{asset['asset_id']}").status_code == 200
    assert c.get(f"{api}/unknown-id").status_code == 404
    rid = _generated(fal)
    assert c.post(f"{api}/favorite", json={"request_id": rid}).json() == {"is_favorited": True}
    page = c.get(api, params=BROWSE).json()
    assert (
        page["total_count"] == 2 and page["has_more"] is False and page["scope_truncated"] is False
    )
    assert (
        page["assets"][0]["request_id"] == rid
        and page["assets"][0]["endpoint"] == "fal-ai/flux/schnell"
    )
    favs = c.get(api, params={**BROWSE, "section": "favorites"}).json()
    assert [a["request_id"] for a in favs["assets"]] == [rid]
    uploads = c.get(api, params={**BROWSE, "section": "uploads", "q": "upload"}).json()
    assert [a["asset_id"] for a in uploads["assets"]] == [asset["asset_id"]]
    paged = c.get(api, params={**BROWSE, "limit": 1}).json()
    assert paged["has_more"] and paged["next_cursor"] == "Mg=="
    assert c.post(
        f"{api}/unfavorite", json={"vector_id": favs["assets"][0]["vector_id"]}
    ).json() == {"is_favorited": False}


def test_tags_lifecycle(fal, api):
    c = fal.client
    rid = _generated(fal)
    tag = c.post(f"{api}/tags", json={"name": "moodboard"})
    assert tag.status_code == 201
    tag_id = tag.json()["tag"]["id"]
    other = c.post(f"{api}/tags", json={"name": "keep"}).json()["tag"]["id"]
    assert [t["name"] for t in c.get(f"{api}/tags").json()["tags"]] == ["keep", "moodboard"]
    assert c.patch(f"{api}/tags/{tag_id}", json={"name": "board"}).json()["tag"]["name"] == "board"
    assert c.patch(f"{api}/tags/{tag_id}", json={}).json()["tag"]["name"] == "board"
    assert c.post(f"{api}/tags/{tag_id}/assign", json={"request_id": rid}).json() == {
        "success": True
    }
    vector = c.get(api, params=BROWSE).json()["assets"][0]["vector_id"]
    assert [t["id"] for t in c.get(f"{api}/{vector}/tags").json()["tags"]] == [tag_id]
    assert (
        c.get(api, params={**BROWSE, "tag_id": [tag_id, other], "tag_mode": "all"}).json()["assets"]
        == []
    )
    assert len(c.get(api, params={**BROWSE, "tag_id": [tag_id, other]}).json()["assets"]) == 1
    assert (
        c.request("DELETE", f"{api}/tags/{tag_id}/assign", json={"vector_id": vector}).status_code
        == 204
    )
    put = c.put(f"{api}/tags", json={"vector_id": vector, "tag_ids": [other, tag_id]})
    assert [t["id"] for t in put.json()["tags"]] == [other, tag_id]
    assert c.delete(f"{api}/tags/{tag_id}").status_code == 204
    assert [t["id"] for t in c.get(f"{api}/{vector}/tags").json()["tags"]] == [other]
    assert c.get(f"{api}/nothing/tags").json() == {"tags": []}
    assert c.delete(f"{api}/tags/{tag_id}").status_code == 404


def test_collections_lifecycle(fal, api):
    c = fal.client
    rid = _generated(fal)
    made = c.post(
        f"{api}/collections", json={"name": "Campaign", "description": "d", "color": "#ff0000"}
    )
    assert made.status_code == 201
    coll = made.json()["collection"]
    assert coll["type"] == "manual" and coll["asset_count"] == 0
    smart = c.post(
        f"{api}/collections", json={"name": "Smart", "filters": {"media_type": ["image"]}}
    ).json()["collection"]
    assert smart["type"] == "smart"
    listed = c.get(f"{api}/collections", params={"limit": 50, "offset": 0}).json()["collections"]
    assert {x["id"] for x in listed} == {coll["id"], smart["id"]}
    assert c.patch(f"{api}/collections/{coll['id']}", json={"name": "Renamed", "cover_image_url": ""}).json()[
        "collection"]["name"] == "Renamed"  # fmt: skip
    assert (
        c.post(f"{api}/collections/{coll['id']}/favorite").json()["collection"]["is_favorited"]
        is True
    )
    assert (
        c.post(f"{api}/collections/{coll['id']}/unfavorite").json()["collection"]["is_favorited"]
        is False
    )
    assert c.post(f"{api}/collections/{coll['id']}/assets", json={"request_id": rid}).json() == {
        "success": True
    }
    assert c.get(f"{api}/collections/{coll['id']}").json()["collection"]["asset_count"] == 1
    inside = c.get(f"{api}/collections/{coll['id']}/assets", params=BROWSE).json()
    assert [a["request_id"] for a in inside["assets"]] == [rid]
    assert (
        c.post(f"{api}/collections/{smart['id']}/assets", json={"request_id": rid}).status_code
        == 422
    )
    assert (
        c.request(
            "DELETE", f"{api}/collections/{coll['id']}/assets", json={"request_id": rid}
        ).status_code
        == 204
    )
    assert c.delete(f"{api}/collections/{coll['id']}").status_code == 204
    assert c.get(f"{api}/collections/{coll['id']}").status_code == 404


def test_characters_lifecycle(fal, api):
    c = fal.client
    rid = _generated(fal)
    made = c.post(f"{api}/characters", json={"name": "Alice", "description": "red hair", "identifier": "alice",
                                               "reference_images": [rid]})  # fmt: skip
    assert made.status_code == 201
    char = made.json()["character"]
    assert char["type"] == "character" and char["character_identifier"] == "alice"
    assert char["reference_images"] == [rid] and "filters" not in char
    assert [x["id"] for x in c.get(f"{api}/characters").json()["characters"]] == [char["id"]]
    assert c.get(f"{api}/characters/{char['id']}").json()["character"]["name"] == "Alice"
    updated = c.patch(
        f"{api}/characters/{char['id']}", json={"reference_images": [rid, rid], "description": "x"}
    )
    assert updated.json()["character"]["reference_images"] == [rid, rid]
    assert (
        c.post(f"{api}/characters/{char['id']}/favorite").json()["character"]["is_favorited"]
        is True
    )
    assert (
        c.post(f"{api}/characters/{char['id']}/unfavorite").json()["character"]["is_favorited"]
        is False
    )
    assert c.get(f"{api}/collections/{char['id']}").status_code == 404
    assert c.delete(f"{api}/characters/{char['id']}").status_code == 204
    assert c.get(f"{api}/characters/{char['id']}").status_code == 404


def test_idempotency_key_replay_and_conflict(fal, api):
    c = fal.client
    headers = {"Idempotency-Key": "abc-123"}
    first = c.post(f"{api}/collections", json={"name": "Once"}, headers=headers)
    again = c.post(f"{api}/collections", json={"name": "Once"}, headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(c.get(f"{api}/collections").json()["collections"]) == 1
    clash = c.post(f"{api}/collections", json={"name": "Other"}, headers=headers)
    assert clash.status_code == 409 and clash.json()["error"]["type"] == "validation_error"
    coll = first.json()["collection"]["id"]
    gone = c.delete(f"{api}/collections/{coll}", headers={"Idempotency-Key": "del-1"})
    assert gone.status_code == 204
    assert (
        c.delete(f"{api}/collections/{coll}", headers={"Idempotency-Key": "del-1"}).status_code
        == 204
    )


def test_targets_need_exactly_one_id(fal, api):
    c = fal.client
    assert c.post(f"{api}/favorite", json={}).status_code == 422
    assert c.post(f"{api}/favorite", json={"request_id": "r", "vector_id": "v"}).status_code == 422
    assert c.post(f"{api}/favorite", json={"request_id": "not-a-job"}).status_code == 404


@pytest.mark.fal_sandbox_allow_invalid  # NaN is not a valid request body on purpose
def test_an_emulator_bug_is_a_500_logged_in_the_store_not_printed(fal_sandbox, client, api, capfd):
    """An exception inside a handler answers 500 and goes to ``errors.log`` in the store,
    never to stderr: the in-process emulator shares stderr with the CLI, whose JSON-mode
    stderr must stay one error object (found by the CLI fuzzer: NaN in --filters)."""
    body = b'{"name": "smart", "filters": NaN}'  # Python's json reads NaN; the reply can't
    resp = client.post(
        f"{api}/collections", content=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 500
    assert "sandbox internal error" in resp.json()["detail"]
    assert "Traceback" not in capfd.readouterr().err
    assert "Traceback" in (fal_sandbox.store.root / "errors.log").read_text()
