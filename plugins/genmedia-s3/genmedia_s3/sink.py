"""The ``--save-to`` output sink: every media reference of a result → one S3 object.

:func:`save_result` is what the plugin's ``genmedia_handle_result`` calls. Outputs are
copied one after another (each copy overlaps reading and uploading, so memory stays at two
part buffers whatever the run). It returns the sink's contribution to the run's output:

* ``saved_files``: :class:`S3SavedFile` entries (the core's :class:`SavedFile` with
  ``path`` an ``s3://bucket/key`` URI), also appended to the core's typed channel
  ``result.saved_files`` that later sinks (the journal) and the pretty view read;
* ``save_failures``: :class:`S3SaveFailure` entries, and ``exit_code`` 9 (3 when S3
  refused the credentials).

:func:`publish` is the one place that knows how a contribution reaches the output.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs

from genmedia import __version__ as genmedia_version
from genmedia import errors
from genmedia.context import AppContext
from genmedia.media import seed_of, sidecar_name
from genmedia.types import MediaRef, RunResult, SavedFile, SaveFailure

from .client import S3Settings, classify, make_client
from .target import Destination, KeyPlanner, TargetError, parse
from .upload import Cancelled, Source, SourceFailed, stream_to_s3


@attrs.frozen
class S3SavedFile(SavedFile):
    """A saved object: ``path`` is its ``s3://`` URI; ``etag``/``version_id`` as S3 said."""

    etag: str | None = None
    version_id: str | None = None
    sidecar: str | None = None


@attrs.frozen
class S3SaveFailure(SaveFailure):
    """An output that was not saved; ``target`` is the URI it was meant for, ``code`` the
    S3 error code (``InvalidAccessKeyId``, ``NoSuchBucket`` …) when S3 gave one."""

    target: str | None = None
    code: str | None = None


@attrs.frozen
class Provenance:
    """The sidecar object ``<key>.json`` (``--s3-sidecar``)."""

    uri: str
    endpoint_id: str
    request_id: str
    source_url: str
    json_path: str
    size_bytes: int
    sha256: str
    content_type: str | None
    input: dict[str, Any]
    input_sha256: str
    seed: Any = None
    saved_at: str = ""
    generator: str = f"genmedia/{genmedia_version}"


def input_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the submitted input as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def save_result(ctx: AppContext, result: RunResult, options: Mapping[str, Any]) -> dict[str, Any]:
    dest = parse(str(options["save_to"]))
    settings = S3Settings.from_sources(options, ctx.settings.plugin_config("s3"))
    seed = seed_of(result.result, result.input)
    planner = KeyPlanner(
        dest, request_id=result.request_id, endpoint_id=result.endpoint_id, seed=seed
    )
    metadata = {
        "genmedia-request-id": _ascii(result.request_id),
        "genmedia-endpoint": _ascii(result.endpoint_id),
        "genmedia-input-sha256": input_hash(result.input or {}),
    }
    saved: list[SavedFile] = []
    failures: list[SaveFailure] = []
    exit_code = 0
    refs = result.media()
    if dest.single and len(refs) > 1:
        ctx.warn(f"--save-to names one key; {len(refs)} outputs get _1, _2 … suffixes")
    s3 = None
    for ref in refs:
        target: str | None = None
        try:
            if s3 is None:
                s3 = make_client(settings)
            outcome = _save_one(ctx, s3, dest, planner, ref, result, metadata, settings, options)
            if options.get("s3_sidecar"):
                uri = _sidecar(s3, dest, outcome, ref, result, seed, metadata, failures)
                outcome = attrs.evolve(outcome, sidecar=uri)
            saved.append(outcome)
        except KeyboardInterrupt:
            ctx.warn(
                f"interrupted while saving the outputs of request {result.request_id} to S3 "
                "(no partial object was left); save them with: genmedia status "
                f"{result.endpoint_id} {result.request_id} --save-to {options['save_to']!r}",
                once=False,
            )
            raise
        except _Failed as failed:
            failures.append(failed.failure)
            exit_code = exit_code or failed.exit_code
        except Exception as exc:
            problem = classify(exc)
            failures.append(
                S3SaveFailure(ref.url, ref.json_path, problem.message, target, problem.code)
            )
            exit_code = exit_code or problem.exit_code
            if problem.exit_code == errors.EXIT_AUTH:
                # the same credentials will fail for every other output: say so once each
                for rest in refs[refs.index(ref) + 1 :]:
                    failures.append(
                        S3SaveFailure(rest.url, rest.json_path, problem.message, None, problem.code)
                    )
                break
    return publish(result, saved, failures, exit_code)


def publish(
    result: RunResult, saved: list[SavedFile], failures: list[SaveFailure], exit_code: int
) -> dict[str, Any]:
    """Append to the core's typed channel (``result.saved_files``/``save_failures``) and
    report this sink's own entries under its JSON keys."""
    result.saved_files.extend(saved)
    result.save_failures.extend(failures)
    out: dict[str, Any] = {"saved_files": list(saved)}
    if failures:
        out["save_failures"] = list(failures)
        out["exit_code"] = exit_code or errors.EXIT_SAVE
    return out


class _Failed(Exception):
    def __init__(self, failure: SaveFailure, exit_code: int = errors.EXIT_SAVE) -> None:
        super().__init__(failure.error)
        self.failure = failure
        self.exit_code = exit_code


def _save_one(
    ctx: AppContext,
    s3: Any,
    dest: Destination,
    planner: KeyPlanner,
    ref: MediaRef,
    result: RunResult,
    metadata: dict[str, str],
    settings: S3Settings,
    options: Mapping[str, Any],
) -> S3SavedFile:
    verbose = ctx.debug or not ctx.json_mode

    def on_retry(attempt: int, delay: float, reason: str) -> None:
        if verbose:
            ctx.warn(f"reading {ref.json_path}: {reason}; retry {attempt} in {delay:.1f}s")

    source = Source(ctx.http, ref.url, on_retry=on_retry)
    key: str | None = None
    cancel = threading.Event()
    try:
        source.open()
        content_type = ref.content_type or _mime(source.content_type)
        key = planner.key(ref, source.content_type)
        done = stream_to_s3(
            s3,
            source,
            bucket=dest.bucket,
            key=key,
            content_type=content_type,
            metadata={**metadata, "genmedia-json-path": _ascii(ref.json_path)},
            part_size=settings.part_size,
            inflight=settings.inflight,
            cancel=cancel,
        )
    except TargetError as exc:
        raise _Failed(S3SaveFailure(ref.url, ref.json_path, str(exc))) from None
    except SourceFailed as exc:
        uri = dest.uri(key) if key else None
        raise _Failed(
            S3SaveFailure(ref.url, ref.json_path, f"download failed: {exc}", uri, "SourceFailed")
        ) from None
    except Cancelled:
        raise KeyboardInterrupt from None
    except Exception as exc:
        problem = classify(exc)
        raise _Failed(
            S3SaveFailure(
                ref.url,
                ref.json_path,
                problem.message,
                dest.uri(key) if key else None,
                problem.code,
            ),
            problem.exit_code,
        ) from None
    finally:
        source.close()
    return S3SavedFile(
        url=ref.url,
        path=dest.uri(done.key),
        size_bytes=done.size,
        json_path=ref.json_path,
        content_type=done.content_type,
        sha256=done.sha256,
        etag=done.etag,
        version_id=done.version_id,
    )


def _sidecar(
    s3: Any,
    dest: Destination,
    saved: S3SavedFile,
    ref: MediaRef,
    result: RunResult,
    seed: Any,
    metadata: dict[str, str],
    failures: list[SaveFailure],
) -> str | None:
    """Write ``<key>.json``; its URI, or None (and a failure entry) when that failed."""
    from genmedia.serialization import unstructure

    key = sidecar_name(saved.path[len(f"s3://{dest.bucket}/") :])
    doc = Provenance(
        uri=saved.path,
        endpoint_id=result.endpoint_id,
        request_id=result.request_id,
        source_url=ref.url,
        json_path=ref.json_path,
        size_bytes=saved.size_bytes,
        sha256=saved.sha256 or "",
        content_type=saved.content_type,
        input=result.input or {},
        input_sha256=metadata["genmedia-input-sha256"],
        seed=seed,
        saved_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    body = json.dumps(unstructure(doc), indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        s3.put_object(
            Bucket=dest.bucket,
            Key=key,
            Body=body.encode(),
            ContentType="application/json",
            Metadata=metadata,
        )
    except Exception as exc:
        problem = classify(exc)
        failures.append(
            S3SaveFailure(
                ref.url,
                ref.json_path,
                f"saved {saved.path} but its sidecar failed: {problem.message}",
                dest.uri(key),
                problem.code,
            )
        )
        return None
    return dest.uri(key)


def _mime(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[0].strip() or None


def _ascii(value: str) -> str:
    """S3 metadata travels in HTTP headers: non-ASCII is percent-encoded."""
    return value if value.isascii() else quote(value, safe="/:@-_.~")
