"""The data model: attrs classes for everything that crosses a hook or leaves the process.

Every JSON document genmedia prints is built from these classes and converted by the one
cattrs converter in :mod:`genmedia.serialization`. Fields whose value is ``None`` are left
out of JSON output unless a class says otherwise (upstream genmedia omits undefined keys).
Anything a sink returns from ``genmedia_handle_result`` goes through the same converter.
"""

from __future__ import annotations

from typing import Any

import attrs

from genmedia.media import MediaRef as MediaRef  # public here too
from genmedia.media import iter_media as iter_media

JsonDict = dict[str, Any]

#: Terminal queue states. There is no FAILED state: a failed job is COMPLETED
#: with an ``error`` (see docs/output.md).
TERMINAL_STATES = frozenset({"COMPLETED"})


class _Missing:
    """Sentinel type for "no default" in :class:`FieldSchema` (``None`` is a real default)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


# --------------------------------------------------------------------------- discovery


@attrs.frozen
class ModelInfo:
    """One model (endpoint) from a provider's catalog, in upstream's ``models[]`` shape.

    ``extra`` holds provider-specific catalogue fields (fal's ``is_favorited``,
    ``highlighted``, ``pinned``, ``enterprise_status`` …); in JSON they sit beside the
    others, as if they were fields.
    """

    endpoint_id: str
    name: str | None = None
    category: str | None = None
    status: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    updated_at: str | None = None
    thumbnail_url: str | None = None
    model_url: str | None = None
    date: str | None = None
    openapi: JsonDict | None = None
    extra: JsonDict = attrs.field(factory=dict, metadata={"flatten": True})


@attrs.frozen
class ModelQuery:
    """What ``genmedia models`` asks a provider for."""

    query: str | None = None
    category: str | None = None
    status: str | None = "active"
    limit: int = 20
    cursor: str | None = None
    endpoint_ids: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()


@attrs.frozen
class ModelPage:
    """One page of search results."""

    models: list[ModelInfo]
    next_cursor: str | None = None
    has_more: bool = False


@attrs.frozen
class FieldSchema:
    """One input or output field of a model, with ``$ref``/``anyOf``/``allOf`` resolved.

    ``type`` is a readable type: ``string``, ``integer``, ``number``, ``boolean``,
    ``object``, ``array<string>``, ``array<object>``, or ``a|b`` for a union; ``nullable``
    says whether ``null`` is allowed. ``default`` is :data:`MISSING` when the schema has none.
    ``is_file`` is true for URL fields that accept an uploaded file (``image_url``,
    ``audio_url`` …) and ``items_is_file`` for arrays of them. ``schema`` keeps the
    resolved JSON schema of the field for plugins that want more.
    """

    #: ``default: null`` is a real default and is printed (``MISSING`` means none).
    __genmedia_keep_none__ = ("default",)
    #: genmedia's additions to upstream's compact fields, printed only when true.
    __genmedia_omit_false__ = ("nullable", "is_file", "items_is_file")

    name: str
    type: str
    required: bool = False
    description: str | None = None
    default: Any = MISSING
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    nullable: bool = False
    is_file: bool = False
    items_is_file: bool = False
    examples: list[Any] | None = None
    schema: JsonDict = attrs.field(factory=dict, repr=False, metadata={"json": False})

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@attrs.frozen
class ModelSchema:
    """A model's input and output fields (compact form) plus the raw OpenAPI document.

    ``from_cache`` is true when the schema was read from a local cache rather than fetched
    in this process: a run whose input it rejects refetches the schema once and checks
    again before reporting (a stale cache never rejects a valid input).
    """

    endpoint_id: str
    name: str | None = None
    category: str | None = None
    description: str | None = None
    input: list[FieldSchema] | None = None
    output: list[FieldSchema] | None = None
    openapi: JsonDict | None = attrs.field(default=None, repr=False, metadata={"json": False})
    from_cache: bool = attrs.field(default=False, metadata={"json": False})

    def field(self, name: str) -> FieldSchema | None:
        for f in self.input or ():
            if f.name == name:
                return f
        return None


# --------------------------------------------------------------------------- execution


@attrs.define
class RunOptions:
    """How to run: the provider-agnostic flags of ``genmedia run``."""

    wait: bool = True
    logs: bool = False
    timeout: float | None = None
    webhook: str | None = None
    dry_run: bool = False
    cancel_on_interrupt: bool = False
    upload_files: bool = True
    #: ``--refresh-schema``: fetch the model's schema even when a fresh copy is cached.
    refresh_schema: bool = False


@attrs.define
class RunRequest:
    """A run about to happen. ``input`` is mutated in place by ``genmedia_prepare_request``.

    ``raw_args`` keeps the model inputs exactly as typed (``[(name, raw value), …]``),
    ``extra`` carries the values of options added by plugins through
    ``genmedia_add_options`` (e.g. ``{"download": "out/{index}.{ext}"}``). ``batch``: the
    id of the batch this run belongs to, set by a batch runner; None for a single run."""

    endpoint_id: str
    input: JsonDict = attrs.field(factory=dict)
    provider: str | None = None
    options: RunOptions = attrs.field(factory=RunOptions)
    raw_args: list[tuple[str, str]] = attrs.field(factory=list)
    extra: JsonDict = attrs.field(factory=dict)
    uploads: list[UploadedFile] = attrs.field(factory=list)
    batch: str | None = None


@attrs.frozen
class Route:
    """The model chosen for a run given without an endpoint (``genmedia_route``).

    Printed as the output's ``routed`` object. ``source`` says who chose: ``default`` (the
    shipped table), ``config`` (the config file's ``routing.<modality>``), ``option``
    (``--route``) or a plugin's own word; ``from_prompt`` is true when the prompt's words
    decided the modality. ``prompt_field`` is the input the prompt is sent as (``prompt``,
    ``text`` for speech models; None: the model takes no prompt).
    """

    modality: str
    endpoint_id: str
    source: str
    from_prompt: bool
    reason: str | None = None
    prompt_field: str | None = attrs.field(default="prompt", metadata={"json": False})


@attrs.frozen
class JobHandle:
    """A submitted job: everything needed to find it again after any interruption.

    ``extra``: what the provider needs besides the ids (fal's ``status_url`` …), kept by
    run stores; in JSON its keys sit beside the others."""

    provider: str
    endpoint_id: str
    request_id: str
    submitted_at: float | None = None
    extra: dict[str, str] = attrs.field(factory=dict, metadata={"flatten": True}, hash=False)


@attrs.frozen
class LogEntry:
    """A model-side log line, normalised (``level`` defaults to INFO)."""

    message: str
    level: str = "INFO"
    timestamp: str | None = None
    source: str | None = None

    @property
    def key(self) -> tuple[str | None, str, str]:
        return (self.timestamp, self.level, self.message)


@attrs.frozen
class JobStatus:
    """One status report of a job. ``error``/``error_type`` set on a failed COMPLETED job."""

    status: str
    request_id: str
    queue_position: int | None = None
    logs: list[LogEntry] | None = None
    metrics: JsonDict | None = None
    error: str | None = None
    error_type: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATES


@attrs.frozen
class CancelResult:
    """The host's answer to ``Provider.cancel``. ``accepted``: the host took the cancel (the
    job is cancelled or being cancelled); false when it came too late (the job had already
    finished). ``host_status``: the host's own word, shown to users as it is (fal's
    ``CANCELLATION_REQUESTED``, ``ALREADY_COMPLETED``)."""

    accepted: bool
    host_status: str


@attrs.frozen
class SavedFile:
    """A file an output sink wrote to disk."""

    url: str
    path: str
    size_bytes: int
    json_path: str
    content_type: str | None = None
    sha256: str | None = None


@attrs.frozen
class SaveFailure:
    """A media reference an output sink could not save."""

    url: str
    json_path: str
    error: str


@attrs.define
class RunResult:
    """A finished run: the model's output plus what is known about the job.

    ``status`` is upstream's lower-case ``completed``. ``input`` is the payload that was
    submitted (sinks such as provenance sidecars use it).

    ``saved_files`` / ``save_failures``: the typed channel between output sinks. A sink that
    saves media appends there; later (``trylast``) sinks and the pretty view read it. Not in
    the JSON document: each sink reports its own keys (``downloaded_files`` …).
    """

    endpoint_id: str
    request_id: str
    result: JsonDict
    status: str = "completed"
    logs: list[LogEntry] = attrs.field(factory=list)
    handle: JobHandle | None = None
    input: JsonDict = attrs.field(factory=dict)
    metrics: JsonDict | None = None
    saved_files: list[SavedFile] = attrs.field(factory=list)
    save_failures: list[SaveFailure] = attrs.field(factory=list)

    def media(self) -> list[MediaRef]:
        """Every media reference in ``result``, depth first in key order."""
        return list(iter_media(self.result))


@attrs.frozen
class UploadedFile:
    """A file put on the provider's storage."""

    url: str
    source: str
    size_bytes: int | None = None
    content_type: str | None = None
    file_name: str | None = None


@attrs.frozen
class ErrorReport:
    """What the user sees when something fails: upstream's ``{"error", "details"}`` object.

    ``exit_code`` is not printed; it becomes the process exit status (see docs/exit-codes.md)."""

    error: str
    details: Any = None
    exit_code: int = 1


# --------------------------------------------------------------------------- plugins


@attrs.frozen
class PluginLoadError:
    """A plugin that could not be loaded (a row of ``genmedia plugins`` with ``error``)."""

    name: str
    error: str
    distribution: str | None = None
    version: str | None = None


@attrs.frozen
class PluginInfo:
    """One row of ``genmedia plugins``."""

    name: str
    builtin: bool
    hooks: list[str]
    version: str | None = None
    distribution: str | None = None
    error: str | None = None
