"""The prompt classifier on prompts where keyword spotting fails (and some where it works)."""

from __future__ import annotations

import pytest

from genmedia_routing.classify import KINDS, MODALITIES, classify

# (prompt, input names, modality, decided by the prompt's words)
TABLE = [
    # no medium named at all: the image default, and from_prompt says so
    ("a scene of a cat", (), "image", False),
    ("a cat", (), "image", False),
    ("a portrait photographer at work", (), "image", False),
    ("a music festival crowd at sunset", (), "image", False),
    ("a trailer park at dusk", (), "image", False),
    ("a photo shoot backstage", (), "image", False),
    # a speech verb inside an idiom; video/music as modifiers of an image noun
    ("say cheese portrait", (), "image", True),
    ("smile and say cheese", (), "image", True),
    ("a cinematic still of a rainy street", (), "image", True),
    ("a film still from a noir movie", (), "image", True),
    ("video game character portrait", (), "image", True),
    ("music video thumbnail", (), "image", True),
    ("a movie poster for a western", (), "image", True),
    ("an album cover for a jazz record", (), "image", True),
    ("a speech bubble comic", (), "image", True),
    ("a picture of a movie theater", (), "image", True),
    ("a 3d render of a chair", (), "image", True),
    ("a still life with apples", (), "image", True),
    ("clip art of a dog", (), "image", True),
    ("a watercolor of a cat playing a song", (), "image", True),
    ("a photo of someone filming a video", (), "image", True),
    # quoted text is content, not the request
    ('a sign that says "video"', (), "image", False),
    ("a neon sign that says 'music'", (), "image", False),
    # negation
    ("not a video, just a photo of a cat", (), "image", True),
    ("a photo, not a video", (), "image", True),
    ("don't animate it, make a picture", (), "image", True),
    ("without music, a video of a beach", (), "video", True),
    ("a video, no music", (), "video", True),
    # video: the deliverable heads its phrase, wherever it sits
    ("a video of a cat", (), "video", True),
    ("a cat video", (), "video", True),
    ("a video of someone taking a photo", (), "video", True),
    ("a 5 second clip of waves", (), "video", True),
    ("drone footage of a coastline", (), "video", True),
    ("an animated gif of a dancing cat", (), "video", True),
    ("a trailer for a sci-fi movie", (), "video", True),
    ("a timelapse of clouds over a city", (), "video", True),
    ("a documentary about bees", (), "video", True),
    # video without a video noun: camera moves, slow motion, imperative verbs
    ("a cat jumping over a fence in slow motion", (), "video", True),
    ("camera pans across a forest at dawn", (), "video", True),
    ("a drone shot of a coastline", (), "video", True),
    ("animate a logo", (), "video", True),
    ("can you animate a logo", (), "video", True),
    # speech: an imperative verb, a voice-over
    ("Say hello and welcome to the show", (), "speech", True),
    ('say "good morning" in a cheerful voice', (), "speech", True),
    ("narrate: once upon a time", (), "speech", True),
    ("read aloud the following poem", (), "speech", True),
    ("a voiceover for a car ad", (), "speech", True),
    # music and sound
    ("a lo-fi hip hop beat", (), "music", True),
    ("a song about summer love", (), "music", True),
    ("sing happy birthday", (), "music", True),
    ("podcast intro music", (), "music", True),
    ("the sound of rain on a tin roof", (), "sound", True),
    ("rain sound effects", (), "sound", True),
    # 3D
    ("a 3d model of a chair", (), "3d", True),
    ("low poly fox", (), "3d", True),
    # draw beats the nouns after it
    ("draw a video game controller", (), "image", True),
    ("please draw a cat", (), "image", True),
    # inputs refine the kind
    ("a cat", ("image_url",), "edit", False),
    ("make the sky purple", ("image_url",), "edit", False),
    ("animate this photo", ("image_url",), "image-to-video", True),
    ("make it move", ("image_url",), "image-to-video", True),
    ("a video of the cat walking away", ("image_url",), "image-to-video", True),
    ("a 3d model of this toy", ("image_url",), "image-to-3d", True),
    ("", ("audio_url",), "transcription", False),
    ("transcribe this interview", ("audio_url",), "transcription", True),
]


@pytest.mark.parametrize(("prompt", "inputs", "modality", "from_prompt"), TABLE)
def test_tricky_prompts(prompt, inputs, modality, from_prompt):
    found = classify(prompt, inputs)
    assert (found.modality, found.from_prompt) == (modality, from_prompt), found.reason
    assert found.kind in KINDS and found.modality in (*MODALITIES, "video-to-video")
    assert found.reason


def test_the_table_defeats_keyword_spotting():
    """The table is worth having: "first media word wins" gets many of its rows wrong."""
    words = {"video": "video", "music": "music", "say": "speech", "song": "music", "movie": "video"}

    def naive(prompt: str) -> str:
        for word in prompt.lower().replace(",", " ").split():
            if word.strip("\"'") in words:
                return words[word.strip("\"'")]
        return "image"

    wrong = [p for p, inputs, m, _ in TABLE if not inputs and naive(p) != m]
    assert len(wrong) >= 12, wrong


def test_reason_names_what_decided():
    assert classify("a video of a cat").reason == 'asks for a "video"'
    assert classify("animate a logo").reason == 'starts with the verb "animate"'
    assert "default" in classify("a cat").reason
    assert "image input" in classify("a cat", {"image_url": "x.png"}).reason


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("video game character portrait", "text-to-image"),
        ("music video thumbnail", "text-to-image"),
        ("say cheese portrait", "text-to-image"),
        ("a cinematic still of a rainy street", "text-to-image"),
        ("not a video, just a photo of a cat", "text-to-image"),
        ("a cat jumping in slow motion", "text-to-video"),
        ("rain sound effects", "text-to-audio"),
        ("animate this photo", "image-to-video"),
        ("flux", None),
    ],
)
def test_models_category_inference_reads_queries_with_the_same_classifier(query, category):
    """`genmedia models "<task>"` infers its category from the same classifier."""
    from genmedia_routing.category import infer_category

    assert infer_category(query) == category


def test_models_reports_the_classifier_s_category(cli, fal_sandbox_env):
    doc = cli("models", "video game character portrait", "--json").json
    assert doc["inferred_category"] == "text-to-image"
