"""The reporting convention every bench script follows: each ratio beside its goal.

    from goals import Goals

    goals = Goals("download")
    goals.check("512 MiB, whole process / curl -o F && sync F", 1.08, 1.15)
    goals.report()   # prints the table (also returned as a list of dicts for JSON output)

A line reads ``<figure>  <ratio>x  goal <= <goal>x  met`` (or ``NOT MET``). A goal is met
when the measured ratio is at most the goal. Goals that are a plain amount rather than a
ratio (a latency in ms, a peak RSS in MiB) use :meth:`Goals.limit`, printed the same way
with their unit. Figures on a shared machine are noisy: print
the spread of the samples beside the medians (:func:`spread`) so a reader can tell a miss
from noise.
"""

from __future__ import annotations

import statistics
from typing import Any


def spread(samples: list[float]) -> str:
    """``min–max s, n=N`` of the samples (seconds), for the line beside a median."""
    if not samples:
        return "no samples"
    return f"{min(samples):.3f}–{max(samples):.3f} s, n={len(samples)}"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


class Goals:
    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.rows: list[dict[str, Any]] = []

    def check(self, figure: str, ratio: float, goal: float, note: str = "") -> bool:
        """Record ``ratio`` against ``goal`` (met when ``ratio <= goal``) and print the line."""
        return self.limit(figure, ratio, goal, "x", note)

    def limit(self, figure: str, value: float, goal: float, unit: str, note: str = "") -> bool:
        """Record an amount (``value`` in ``unit``) against its ceiling ``goal``."""
        met = value <= goal
        self.rows.append(
            {"figure": figure, "value": round(value, 3), "goal": goal, "unit": unit,
             "met": met, "note": note}
        )  # fmt: skip
        print(self.line(self.rows[-1]), flush=True)
        return met

    @staticmethod
    def line(row: dict[str, Any]) -> str:
        verdict = "met" if row["met"] else "NOT MET"
        note = f"  ({row['note']})" if row["note"] else ""
        unit = row["unit"]
        sep = "" if unit == "x" else " "
        value = f"{row['value']:.2f}{sep}{unit}"
        goal = f"{row['goal']:.2f}{sep}{unit}"
        return f"  {row['figure']:<58} {value:>10}  goal <= {goal:<9} {verdict}{note}"

    def report(self) -> list[dict[str, Any]]:
        """Print the summary of every goal checked so far; returns the rows (for JSON)."""
        met = sum(row["met"] for row in self.rows)
        print(f"\n{self.bench}: {met} of {len(self.rows)} goals met")
        for row in self.rows:
            print(self.line(row))
        return self.rows
