"""Category inference for ``genmedia models "<task>"`` (the ``genmedia_infer_category`` hook).

docs/commands.md#models: the output kind comes from the prompt classifier that routing uses
(:mod:`genmedia_routing.classify`); the input kind from the query's words.
"""

from __future__ import annotations

# Category inference for ``genmedia models "<task>"`` (docs/commands.md#models): the output
# kind comes from the prompt classifier that routing uses (genmedia_routing.classify, which reads
# "video game character portrait" as an image); the input is "image"/"video"/"audio" when
# the query says so ("image to video", "from a photo", "upscale"), else text.
_TASK_WORDS = (
    "image", "picture", "photo", "illustration", "drawing", "draw", "paint", "logo", "poster",
    "portrait", "render", "generate", "create", "make", "design", "edit", "upscale",
    "restyle", "background",
)  # fmt: skip
_IMAGE_INPUT = (
    "from an image", "from a photo", "from image", "from photo", "from a picture",
    "this image", "this photo", "this picture", "my image", "my photo", "my picture",
)  # fmt: skip
#: words that transform media of the output's own kind ("upscale a video": video to video)
_SAME_INPUT = (
    "upscale", "edit", "restyle", "remove background", "background removal", "inpaint",
    "outpaint", "enhance", "colorize", "convert",
)  # fmt: skip


def _input_kind(text: str) -> str | None:
    import re

    m = re.search(
        r"\b(image|photo|picture|video|audio|speech|voice|text)s?\s+(?:to|into|2)\b", text
    )
    if m:
        word = m.group(1)
        return {"photo": "image", "picture": "image", "voice": "speech"}.get(word, word)
    if any(w in text for w in _IMAGE_INPUT):
        return "image"
    if any(w in text for w in _SAME_INPUT):
        return "same"
    return None


def infer_category(query: str) -> str | None:
    """A category for a task described in words, or None when the query does not read
    like a task (e.g. a model name such as ``flux``)."""
    from genmedia_routing.classify import classify_kind

    text = f" {query.lower()} "
    source = _input_kind(text)
    kind, named, _reason = classify_kind(query)
    output = kind if named else None
    if output is None:
        if not any(w in text for w in _TASK_WORDS) and len(text.split()) < 3:
            return None
        output = "image"
    if source == "same":
        source = output
    if output == "3d":
        return "image-to-3d" if source == "image" else "text-to-3d"
    if output == "video":
        return {"image": "image-to-video", "video": "video-to-video"}.get(
            source or "", "text-to-video"
        )
    if output in ("speech", "transcription"):
        return (
            "speech-to-text"
            if output == "transcription" or "transcri" in text or source in ("speech", "audio")
            else "text-to-speech"
        )
    if output in ("music", "sound"):
        return "text-to-audio"
    return "image-to-image" if source == "image" else "text-to-image"
