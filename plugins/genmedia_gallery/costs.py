"""Cost estimates for gallery cards, asked once per run and kept in ``costs.json``.

The journal does not record prices. ``gallery build --costs`` asks each run's provider for
the same estimate ``run --dry-run`` prints (``provider.estimate(request)``, None by default),
for completed runs not estimated before, a few at a time; the answers are kept in the
gallery directory, so later builds (and automatic refreshes, which never ask) show them
without asking again. A provider without estimates, or one that fails, leaves the card
without a cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.records import RunRecord

COSTS = "costs.json"
CONCURRENCY = 4


def load(out_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((out_dir / COSTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def save(out_dir: Path, costs: dict[str, str]) -> None:
    from genmedia.files import atomic_write

    atomic_write(out_dir / COSTS, json.dumps(costs, indent=1, sort_keys=True) + "\n")


def describe(estimate: Any) -> str | None:
    """``≈ 0.025 USD`` from an estimate mapping (``total_cost``, ``currency``)."""
    if not isinstance(estimate, dict):
        return None
    total = estimate.get("total_cost")
    if not isinstance(total, (int, float)) or isinstance(total, bool):
        return None
    currency = estimate.get("currency")
    return f"≈ {total:g} {currency}" if isinstance(currency, str) else f"≈ {total:g}"


def estimate_missing(
    ctx: AppContext, records: Sequence[RunRecord], known: dict[str, str]
) -> tuple[dict[str, str], int]:
    """Ask for the runs without a known cost; returns (costs, how many could not be had)."""
    from concurrent.futures import ThreadPoolExecutor

    from genmedia.types import RunRequest

    wanted = [r for r in records if r.status == "completed" and r.request_id not in known]
    if not wanted:
        return dict(known), 0

    def one(record: RunRecord) -> tuple[str, str | None]:
        try:
            provider = ctx.provider(record.provider)
            request = RunRequest(endpoint_id=record.endpoint_id, input=dict(record.input or {}))
            return record.request_id, describe(provider.estimate(request))
        except Exception:
            return record.request_id, None

    costs = dict(known)
    failed = 0
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for request_id, text in pool.map(one, wanted):
            if text is None:
                failed += 1
            else:
                costs[request_id] = text
    return costs, failed
