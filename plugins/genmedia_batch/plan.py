"""Before paying: every job is typed and validated against its model's schema, and the
batch gets its id and (when asked) its price estimate.

The jobs are streamed from the source into a private spool file while being checked, so
memory stays flat; a bad line stops everything with its line number and field, and
nothing has been submitted. The batch id is a digest of the jobs (endpoint, input, user
key, line), so running the same input again finds the same batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from genmedia import errors

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import ModelSchema

    from .sources import JobSpec

#: inputs left out of the price signature: they never change what a call costs.
UNPRICED = frozenset({"seed", "prompt", "negative_prompt", "text"})


@attrs.define
class Estimate:
    """The batch's price estimate (from each provider's ``estimate()``)."""

    total_cost: float = 0.0
    currency: str | None = None
    by_endpoint: dict[str, float] = attrs.field(factory=dict)
    #: jobs whose provider gave no usable estimate (counted as 0)
    unestimated: int = 0
    errors: list[str] = attrs.field(factory=list)


@attrs.define
class Plan:
    batch_id: str
    total: int
    endpoints: dict[str, int]
    spool: Path
    estimate: Estimate | None = None

    def rows(self) -> Iterator[tuple[int, str | None, str, dict[str, Any], str, float | None]]:
        """(line, key, endpoint, input, input hash, estimate) per job, from the spool."""
        with self.spool.open(encoding="utf-8") as fh:
            for text in fh:
                line, key, endpoint, payload, digest, cost = json.loads(text)
                yield line, key, endpoint, payload, digest, cost

    def discard(self) -> None:
        try:
            self.spool.unlink()
        except OSError:
            pass


class Models:
    """Provider and schema per endpoint, each resolved once."""

    def __init__(self, ctx: AppContext, *, paid: bool) -> None:
        self.ctx, self.paid = ctx, paid
        self.seen: dict[str, tuple[Provider, ModelSchema | None]] = {}
        self.checked: set[str] = set()

    def get(self, endpoint: str) -> tuple[Provider, ModelSchema | None]:
        found = self.seen.get(endpoint)
        if found is None:
            from genmedia import pipeline
            from genmedia.types import RunRequest

            provider = pipeline.choose_provider(self.ctx, RunRequest(endpoint_id=endpoint))
            if self.paid and provider.name not in self.checked:
                provider.require_credentials()
                self.checked.add(provider.name)
            schema = pipeline.load_schema(self.ctx, provider, endpoint)
            found = self.seen[endpoint] = (provider, schema)
        return found


def typed_request(ctx: AppContext, models: Models, spec: JobSpec, *, upload: bool) -> Any:
    """The job as a checked :class:`RunRequest` (uploads only with ``upload``)."""
    from genmedia import pipeline
    from genmedia.types import RunOptions, RunRequest

    provider, schema = models.get(spec.endpoint_id)
    request = RunRequest(
        endpoint_id=spec.endpoint_id,
        input=json.loads(json.dumps(spec.input)),
        options=RunOptions(dry_run=not upload),
        raw_args=list(spec.raw_args),
    )
    pipeline.check_input_names(request, schema, (), {n for n, _ in spec.raw_args})
    pipeline.coerce_inputs(ctx, request, schema)
    ctx.pm.hook.genmedia_prepare_request(request=request, schema=schema, provider=provider, ctx=ctx)
    return request


def digest_of(endpoint: str, payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{endpoint}\0{text}".encode()).hexdigest()


def plan(
    ctx: AppContext,
    specs: Iterable[JobSpec],
    spool_dir: Path,
    *,
    paid: bool,
    estimate: bool,
    salt: str = "",
) -> Plan:
    """Check every job; spool them; the batch id; the estimate when asked."""
    models = Models(ctx, paid=paid)
    batch_hash = hashlib.sha256(salt.encode())
    keys: dict[str, int] = {}
    endpoints: dict[str, int] = {}
    total = Estimate() if estimate else None
    prices: dict[str, float | None] = {}
    spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=".plan-", suffix=".jsonl", dir=spool_dir)
    spool = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for spec in specs:
                try:
                    request = typed_request(ctx, models, spec, upload=False)
                except errors.GenmediaError as exc:
                    raise at_line(exc, spec) from None
                if spec.key is not None:
                    if spec.key in keys:
                        raise errors.UsageError(
                            f"Line {spec.line}: id {spec.key!r} is already the id of line "
                            f"{keys[spec.key]}",
                            {"line": spec.line, "field": "id", "id": spec.key},
                        )
                    keys[spec.key] = spec.line
                digest = digest_of(spec.endpoint_id, request.input)
                batch_hash.update(f"{spec.line}\0{spec.key}\0{digest}\n".encode())
                endpoints[spec.endpoint_id] = endpoints.get(spec.endpoint_id, 0) + 1
                cost = None
                if total is not None:
                    cost = price(ctx, models, request, prices, total)
                row = [spec.line, spec.key, spec.endpoint_id, request.input, digest, cost]
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count = sum(endpoints.values())
        if count == 0:
            raise errors.UsageError("The batch has no jobs", {"hint": "one job per line"})
        return Plan("b-" + batch_hash.hexdigest()[:16], count, endpoints, spool, total)
    except BaseException:
        spool.unlink(missing_ok=True)
        raise


def at_line(exc: errors.GenmediaError, spec: JobSpec) -> errors.GenmediaError:
    """The error of one job, naming its line (and the first bad field)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    field = details.get("field")
    issues = details.get("validation_errors")
    if field is None and isinstance(issues, list) and issues and isinstance(issues[0], dict):
        field = issues[0].get("field")
    exc.add_details(line=spec.line, id=spec.key, field=field, endpoint_id=spec.endpoint_id)
    exc.add_details(hint="nothing was submitted; fix the line and run again")
    exc.message = f"Line {spec.line}: {exc.message}"
    exc.args = (exc.message,)
    return exc


def price(
    ctx: AppContext,
    models: Models,
    request: Any,
    prices: dict[str, float | None],
    total: Estimate,
) -> float | None:
    """One job's estimate, asked once per endpoint and price-relevant inputs."""
    from genmedia.types import RunRequest

    provider, _ = models.get(request.endpoint_id)
    shape = {
        k: v
        for k, v in request.input.items()
        if k not in UNPRICED and not (isinstance(v, str) and len(v) > 40)
    }
    signature = request.endpoint_id + json.dumps(shape, sort_keys=True, default=str)
    if signature not in prices:
        try:
            answer = provider.estimate(
                RunRequest(endpoint_id=request.endpoint_id, input=dict(request.input))
            )
        except errors.GenmediaError as exc:
            total.errors.append(f"{request.endpoint_id}: {exc.message}")
            answer = None
        cost, currency = cost_of(answer)
        prices[signature] = cost
        total.currency = total.currency or currency
    cost = prices[signature]
    if cost is None:
        total.unestimated += 1
        return None
    total.total_cost = round(total.total_cost + cost, 6)
    by = total.by_endpoint
    by[request.endpoint_id] = round(by.get(request.endpoint_id, 0.0) + cost, 6)
    return cost


def cost_of(answer: Any) -> tuple[float | None, str | None]:
    """A provider estimate as (cost, currency): a number, or a mapping with a numeric
    ``total_cost`` (and ``currency``)."""
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return float(answer), None
    if isinstance(answer, dict):
        cost = answer.get("total_cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            currency = answer.get("currency")
            return float(cost), currency if isinstance(currency, str) else None
    return None, None
