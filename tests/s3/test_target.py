"""Key templates of ``--save-to``: the --download placeholder language, made safe for keys."""

from __future__ import annotations

import pytest

from genmedia.types import MediaRef


@pytest.fixture
def target():
    from genmedia_s3 import target

    return target


def ref(index=0, url="https://cdn.example/files/k/cat.png", **kw):
    return MediaRef(url=url, json_path=f"images[{index}]", index=index, **kw)


def planner(target, value, **kw):
    args = {"request_id": "req-1", "endpoint_id": "fal-ai/flux/dev", "seed": 42, **kw}
    return target.KeyPlanner(target.parse(value), **args)


def test_same_placeholders_as_download(target):
    from genmedia_download.naming import PLACEHOLDERS

    assert target.PLACEHOLDERS == PLACEHOLDERS


def test_every_placeholder(target):
    p = planner(target, "s3://bkt/{endpoint}/{seed}/{request_id}/{index}-{name}.{ext}")
    assert p.key(ref(3)) == "fal-ai_flux_dev/42/req-1/3-cat.png"


def test_prefix_gets_request_id_and_source_name(target):
    assert planner(target, "s3://bkt/renders/").key(ref()) == "renders/req-1/cat.png"
    assert planner(target, "s3://bkt").key(ref()) == "req-1/cat.png"


def test_one_key_for_many_outputs_gets_suffixes(target):
    p = planner(target, "s3://bkt/out/result.png")
    assert [p.key(ref(i)) for i in range(3)] == [
        "out/result.png",
        "out/result_1.png",
        "out/result_2.png",
    ]


def test_hostile_names_stay_one_segment(target):
    p = planner(target, "s3://bkt/x/{name}.{ext}", request_id="../../etc")
    hostile = ref(file_name="../../../evil.png")
    assert p.key(hostile) == "x/evil.png"
    assert planner(target, "s3://bkt/{request_id}/").key(ref()) == "req-1/cat.png"
    assert p.values["request_id"] == "etc"


def test_ext_from_content_type_and_empty_ext_drops_the_dot(target):
    p = planner(target, "s3://bkt/{index}.{ext}")
    assert p.key(ref(url="https://cdn.example/files/k/blob")) == "0"
    assert p.key(ref(1, url="https://cdn.example/files/k/blob"), "image/jpeg") == "1.jpg"
    assert p.key(ref(2, url="https://cdn.example/x", content_type="video/mp4")) == "2.mp4"


def test_literal_braces(target):
    assert planner(target, "s3://bkt/{{raw}}/{index}").key(ref()) == "{raw}/0"


@pytest.mark.parametrize("value", ["s3://bkt/../{index}", "s3://bkt/a/./{index}"])
def test_dot_segments_are_refused(target, value):
    with pytest.raises(target.TargetError):
        planner(target, value).key(ref())


def test_part_size_grows_for_huge_files():
    from genmedia_s3.upload import MAX_PARTS, MIN_PART, part_size_for

    assert part_size_for(None, 1) == MIN_PART
    assert part_size_for(100 * 2**20, 8 * 2**20) == 8 * 2**20
    huge = 200 * 2**30  # 200 GiB
    size = part_size_for(huge, 8 * 2**20)
    assert -(-huge // size) <= MAX_PARTS
