"""What kind of model does a prompt ask for? :func:`classify` answers, offline and fast.

Public core helper, used by ``genmedia run "a prompt"`` (the built-in ``routing`` plugin's
``genmedia_route``), by ``genmedia models "<task>"`` (category inference) and by any plugin
that routes on its own.

Keyword spotting fails on ordinary prompts: "a scene of a cat" names no medium at all,
"say cheese portrait" starts with a speech verb, "video game character portrait" and
"music video thumbnail" mention video and music but ask for an image. So the classifier
reads the prompt roughly the way a person does:

1. Quoted text is set aside (``a sign that says "video"`` asks for an image).
2. Fixed phrases are recognised first: idioms (``say cheese``), compounds that name no
   medium (``video game``, ``photo shoot``), camera moves (``slow motion``, ``tracking shot``).
3. Negated words do not count (``not a video``, ``without music``, ``instead of a clip``).
4. A medium noun counts as the *deliverable* only when it heads its noun phrase: followed
   by a preposition, a participle, punctuation or the end (``a video of …``, ``… portrait``),
   not by another noun it modifies (``video game``, ``music festival``). The first
   deliverable wins (``a video of someone taking a photo`` is a video).
5. An imperative verb at the very start beats nouns (``animate this photo`` is a video,
   ``say hello in a warm voice`` is speech, ``draw a video game controller`` an image).
6. Without a deliverable or verb, weaker cues decide (camera moves and durations for
   video, ``3d``/``low poly`` for 3D, ``lyrics``/``bpm`` for music); with no cue at all the
   answer is an image, the most common request, and ``from_prompt`` is false.

Inputs then refine the kind into a *modality* (the routing table's key): an image input
turns ``image`` into ``edit``, ``video`` into ``image-to-video`` and ``3d`` into
``image-to-3d``; an audio input asks for a transcription.

Public API: :func:`classify`, :class:`Classification`, :data:`KINDS`, :data:`MODALITIES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

#: What a prompt can ask for on its own.
KINDS = ("image", "video", "speech", "music", "sound", "3d", "transcription")
#: The routing table's keys: a kind refined by the inputs given (``video-to-video``, for a
#: video input, has no shipped default).
MODALITIES = (
    "image",
    "edit",
    "video",
    "image-to-video",
    "speech",
    "music",
    "sound",
    "3d",
    "image-to-3d",
    "transcription",
    "video-to-video",
)

IMAGE_INPUTS = frozenset({"image_url", "image_urls", "input_image_urls", "reference_image_url"})
AUDIO_INPUTS = frozenset({"audio_url", "audio_urls", "source_audio_url"})
VIDEO_INPUTS = frozenset({"video_url", "video_urls"})


@attrs.frozen
class Classification:
    """The answer of :func:`classify`.

    ``kind`` is what the prompt asks for (one of :data:`KINDS`), ``modality`` the routing
    key once inputs are taken into account, ``from_prompt`` whether the prompt's words
    decided (false when nothing in it named a medium and the default applied, or when the
    inputs alone decided), ``reason`` a short human explanation.
    """

    kind: str
    modality: str
    from_prompt: bool
    reason: str


# --------------------------------------------------------------------------- lexicon


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOUNS: dict[str, str] = {}
for _kind, _list in {
    "image": """image images picture pictures pic pics photo photos photograph photographs
        photography portrait portraits headshot selfie illustration illustrations drawing
        drawings painting paintings sketch sketches poster posters logo logos icon icons
        thumbnail thumbnails wallpaper wallpapers still stills render renders rendering
        artwork artworks art sticker stickers banner banners cover meme memes infographic
        diagram screenshot snapshot postcard mockup comic comics emoji avatar pfp flyer
        watercolor watercolour lithograph etching mural frame storyboard moodboard""",
    "video": """video videos clip clips animation animations film films movie movies footage
        timelapse trailer trailers reel reels teaser gif gifs vlog montage documentary
        cinemagraph livestream slideshow""",
    "speech": """voiceover voiceovers narration speech announcement audiobook monologue
        tts pronunciation voicemail voice voices""",
    "music": """song songs music tune tunes melody melodies beat beats jingle jingles
        soundtrack instrumental lullaby anthem rap ballad symphony remix chorus""",
    "sound": """sound sounds sfx soundeffect soundeffects ambience foley audio""",
    "3d": """3dmodel mesh meshes glb stl 3dasset 3dobject 3dprint""",
    "transcription": """transcript transcription transcriptions subtitles captions""",
}.items():
    for _w in _list.split():
        _NOUNS[_w] = _kind

#: Imperative verbs that name the medium by themselves (only at the start of the prompt).
_VERBS: dict[str, str] = {}
for _kind, _list in {
    "image": "draw paint sketch illustrate photograph",
    "video": "animate film",
    "speech": "say speak narrate pronounce announce whisper shout recite read voice",
    "music": "sing compose hum",
    "transcription": "transcribe caption subtitle",
}.items():
    for _w in _list.split():
        _VERBS[_w] = _kind

#: Phrases rewritten to one token before anything else (longest first).
_PHRASES: tuple[tuple[str, str], ...] = (
    # idioms and compounds that name no medium (or a different one)
    (r"say(?:ing)? cheese", "_cheese"),
    (r"video ?games?", "_thing"),
    (r"video (?:call|calls|camera|cameras|chat|conference|store|editor|tape|cassette)", "_thing"),
    (r"(?:photo|photos) (?:shoot|booth|studio|album|frame|editor)", "_thing"),
    (r"film (?:camera|roll|grain|set|crew|festival|noir|director|reel)", "_thing"),
    (r"movie (?:theater|theatre|star|night|set|ticket|tickets)", "_thing"),
    (r"music (?:festival|box|store|shop|stand|teacher|class|room|studio|sheet)", "_thing"),
    (r"sheet music", "_thing"),
    (r"sound (?:system|wave|waves|engineer|board|barrier)", "_thing"),
    (r"speech (?:bubble|bubbles|balloon)", "_thing"),
    (r"voice (?:assistant|actor|actress|message)", "_thing"),
    (r"song ?birds?", "_thing"),
    (r"still life", "painting"),
    (r"clip ?art", "art"),
    (r"album (?:cover|art(?:work)?)", "cover"),
    (r"(?:animated|looping) gif", "gif"),
    # multi-word media nouns
    (r"sound ?effects?|sound fx", "soundeffect"),
    (r"voice[- ]?overs?", "voiceover"),
    (r"text[- ]to[- ]speech", "tts"),
    (r"text[- ]to[- ]video", "video"),
    (r"text[- ]to[- ]image", "image"),
    (r"image[- ]to[- ]video", "video"),
    (r"3d (?:models?|meshes|mesh)", "3dmodel"),
    (r"3d (?:assets?)", "3dasset"),
    (r"3d (?:objects?)", "3dobject"),
    (r"3d[- ]print(?:able|ed)?", "3dprint"),
    (r"(?:read|say|speak) (?:it )?(?:aloud|out loud)", "say"),
    (r"time[- ]lapse", "timelapse"),
    # camera moves and other motion cues
    (r"slow[- ]?motion|slo[- ]?mo", "_motion"),
    (r"(?:camera|it) (?:pans|pan|tilts|zooms|orbits|moves|follows|tracks)", "_motion"),
    (r"(?:tracking|dolly|crane|drone|pov|steadicam|handheld) shots?", "_motion"),
    (r"(?:zoom|zooms|zooming|pans|panning|pan) (?:in|out|into|across|over|around)", "_motion"),
    (r"(?:dolly|push|pull) (?:in|out)", "_motion"),
    (r"flyover|fly-through|flythrough|fly through", "_motion"),
    (r"bring (?:it|this|them|her|him) to life|make (?:it|this|them) move", "animate"),
    (r"\d+ ?(?:-? ?seconds?|secs?|s)\b(?! of (?:audio|sound|music|speech))", "_duration"),
    (r"\d+ ?fps|frames per second", "_motion"),
    (r"low[- ]poly", "_3d"),
    (r"in (?:a|an) [a-z]+ (?:voice|accent)", "_speechcue"),
    (r"\d+ ?bpm", "_musiccue"),
)
_PHRASE_RE = [(re.compile(rf"\b(?:{p})\b"), token) for p, token in _PHRASES]

_NEGATORS = _words("no not without never dont don't isnt isn't non avoid instead rather except")
#: After a medium noun, these show that the noun heads its phrase ("a video of …").
_HEAD_FOLLOWERS = _words(
    """of for about with showing depicting featuring that which where while when in on at
    from to by and or but as like set called titled named who whose into across over under
    through during using made inspired based taken shot drawn painted rendered generated
    style styled please"""
)
_POLITE = _words("please pls kindly now just quickly also then")
_CLAUSE = frozenset({",", ".", ";", ":", "!", "?", "but"})
_TOKEN = re.compile(r"_?[a-z0-9]+(?:'[a-z]+)?|[,.;:!?]")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![a-z0-9])'[^']+'(?![a-z0-9])")


def _tokens(prompt: str) -> list[str]:
    text = _QUOTED.sub(" _quote ", prompt.lower())
    text = re.sub(r"\b3-d\b", "3d", text)
    for pattern, token in _PHRASE_RE:
        text = pattern.sub(f" {token} ", text)
    return _TOKEN.findall(text)


def _negated(tokens: list[str]) -> list[bool]:
    """True for tokens within three words after a negator, up to a clause boundary."""
    out = [False] * len(tokens)
    scope = 0
    for i, tok in enumerate(tokens):
        if tok in _CLAUSE:
            scope = 0
            continue
        if tok in _NEGATORS:
            scope = 4 if tok in ("instead", "rather") else 3
            continue
        if scope:
            out[i] = True
            scope -= 1
    return out


def _heads_phrase(tokens: list[str], i: int) -> bool:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None or nxt in _CLAUSE or nxt in _HEAD_FOLLOWERS or nxt == "_quote":
        return True
    if nxt.startswith("_") and nxt not in ("_thing",):
        return True  # a cue (motion, duration) after a noun: "a video 5 seconds long"
    if nxt in _NOUNS or nxt in ("_thing",):
        return False  # "music video", "video thumbnail": the next noun is the head
    return nxt.endswith(("ing", "ed", "ly")) or nxt.isdigit()


def _start(tokens: list[str]) -> int:
    i = 0
    while i < len(tokens) and tokens[i] in _POLITE:
        i += 1
    if tokens[i : i + 2] in (["can", "you"], ["could", "you"], ["will", "you"]):
        i += 2
    if tokens[i : i + 3] == ["i", "want", "you"]:
        i += 4 if i + 3 < len(tokens) and tokens[i + 3] == "to" else 3
    while i < len(tokens) and tokens[i] in _POLITE:
        i += 1
    return i


def classify_kind(prompt: str) -> tuple[str, bool, str]:
    """``(kind, decided_by_words, reason)`` for the prompt alone."""
    tokens = _tokens(prompt)
    negated = _negated(tokens)
    start = _start(tokens)
    if start < len(tokens) and tokens[start] in _VERBS and not negated[start]:
        verb = tokens[start]
        return _VERBS[verb], True, f'starts with the verb "{verb}"'
    for i, tok in enumerate(tokens):
        if negated[i] or tok not in _NOUNS:
            continue
        if _heads_phrase(tokens, i):
            return _NOUNS[tok], True, f'asks for a "{_show(tok)}"'
    cues = {"_motion": "video", "_duration": "video", "_3d": "3d", "3d": "3d"}
    cues |= {"_speechcue": "speech", "_musiccue": "music", "lyrics": "music", "_cheese": "image"}
    for i, tok in enumerate(tokens):
        if tok in cues and not negated[i]:
            return cues[tok], True, f"{_CUE_NAMES.get(tok, tok)} suggests {cues[tok]}"
    # a medium noun used as a modifier still says something when nothing else does
    # ("a cinematic video-style cat" has no head; prefer the image default, said so)
    return "image", False, "no medium named; image is the default"


_CUE_NAMES = {
    "_motion": "a camera move or motion cue",
    "_duration": "a duration",
    "_3d": "low poly",
    "_speechcue": "a voice or accent",
    "_musiccue": "a tempo",
    "_cheese": '"say cheese"',
}
_SHOWN = {
    "soundeffect": "sound effect",
    "3dmodel": "3D model",
    "3dasset": "3D asset",
    "3dobject": "3D object",
    "3dprint": "3D print",
}


def _show(token: str) -> str:
    return _SHOWN.get(token, token)


def classify(
    prompt: str | None, inputs: Iterable[str] | Mapping[str, object] = ()
) -> Classification:
    """Classify what ``prompt`` asks for, refined by the names of the inputs given.

    :param prompt: the user's text (may be None or empty when only inputs are given).
    :param inputs: model input names given with the prompt (``image_url``, ``audio_url`` …;
        a mapping's keys are used).
    :returns: a :class:`Classification`. An audio input always means ``transcription``;
        an image input refines image/video/3d into edit/image-to-video/image-to-3d.
    """
    names = set(inputs)
    has_image = bool(names & IMAGE_INPUTS)
    has_audio = bool(names & AUDIO_INPUTS)
    has_video = bool(names & VIDEO_INPUTS)
    text = (prompt or "").strip()
    if text:
        kind, from_prompt, reason = classify_kind(text)
    else:
        kind, from_prompt, reason = "image", False, "no prompt"
    if has_audio and (kind == "transcription" or not from_prompt or kind in ("speech",)):
        return Classification(
            "transcription",
            "transcription",
            kind == "transcription",
            _join(reason if kind == "transcription" else "", "an audio input"),
        )
    if has_video and not has_image:
        return Classification(kind, "video-to-video", from_prompt, _join(reason, "a video input"))
    if has_image:
        refined = {"image": "edit", "video": "image-to-video", "3d": "image-to-3d"}.get(kind, kind)
        if refined != kind:
            return Classification(kind, refined, from_prompt, _join(reason, "an image input"))
    return Classification(kind, kind, from_prompt, reason)


def refine(kind: str, inputs: Iterable[str] | Mapping[str, object]) -> str:
    """The modality for ``kind`` given these input names (``video`` + an image input →
    ``image-to-video``); a kind with no refinement is returned as is."""
    if set(inputs) & IMAGE_INPUTS:
        return {"image": "edit", "video": "image-to-video", "3d": "image-to-3d"}.get(kind, kind)
    return kind


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
