"""How a sandbox job ends: fal's 422 for a bad input, an injected model error, or output.

:class:`~genmedia_sandbox.queue.QueueEngine` runs the clock; this decides the result.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .outputs import OutputOptions, build_output, derive_seed
from .records import Job

if TYPE_CHECKING:  # pragma: no cover
    from .state import Sandbox


def iso_now() -> str:
    """Now as fal writes log timestamps: ISO 8601, milliseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def produce(
    sandbox: Sandbox, job: Job, override: dict[str, Any]
) -> tuple[int, Any, dict[str, str]]:
    """How ``job`` ends: (status, body, headers) of its stored result.

    An input that fails the model's schema gets fal's 422; a ``model_error`` fault the
    model's error (logged like a crash); otherwise the placeholder output. Log lines and
    the error fields are set on ``job`` on the way.
    """
    model = sandbox.catalog.get(job.endpoint_id)
    assert model is not None
    detail = sandbox.input_validator.errors(model.openapi, model.input_name, job.input)
    if detail:
        job.logs.append(
            {
                "message": "Input validation failed",
                "level": "ERROR",
                "source": "USER",
                "timestamp": iso_now(),
            }
        )
        return 422, {"detail": detail}, {}
    if "model_error" in override:
        params = override["model_error"]
        code = int(params.get("code", 500))
        message = str(params.get("message", "Model crashed: CUDA out of memory (sandbox fault)"))
        job.logs.append(
            {"message": message, "level": "ERROR", "source": "USER", "timestamp": iso_now()}
        )
        job.logs.append(
            {
                "message": "Traceback (most recent call last): ... RuntimeError",
                "level": "STDERR",
                "source": "USER",
                "timestamp": iso_now(),
            }
        )
        if code == 422:
            body: Any = {
                "detail": [
                    {"loc": ["body"], "msg": message, "type": "value_error", "input": job.input}
                ]
            }
            return 422, body, {}
        error_type = str(params.get("error_type", "runner_server_error"))
        job.error, job.error_type = message, error_type
        return (
            code,
            {"detail": message, "error_type": error_type},
            {"x-fal-error-type": error_type},
        )
    options = OutputOptions(
        hostile_names="hostile_names" in override,
        large_output=_large_size(override.get("large_output")),
    )
    seed = derive_seed(job.endpoint_id, job.input)
    started = time.monotonic()
    body = await asyncio.to_thread(
        build_output, model, job.input, seed, sandbox.storage, sandbox.urls["cdn"], options
    )
    job.inference_time = round(time.monotonic() - started + float(override.get("run_s", 0)), 4)
    if isinstance(body.get("timings"), dict):
        body["timings"] = {"inference": job.inference_time}
    return 200, body, {}


def _large_size(params: dict[str, Any] | None) -> int | None:
    if not params:
        return None
    if "size" in params:
        return int(params["size"])
    return int(float(params.get("mib", 10)) * 1024 * 1024)
