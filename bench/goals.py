"""The reporting convention every bench script follows: each ratio beside its goal.

    from goals import Goals

    goals = Goals("download")
    goals.check("512 MiB, whole process / curl -o F && sync F", 1.08, 1.15)
    goals.report()   # prints the table (also returned as a list of dicts for JSON output)

A line reads ``<figure>  <ratio>x  goal <= <goal>x  met`` (or ``NOT MET``). A goal is met
when the measured ratio is at most the goal. Figures on a shared machine are noisy: print
the spread of the samples beside the medians (:func:`spread`) so a reader can tell a miss
from noise.
"""

from __future__ import annotations

import statistics
from typing import Any


def spread(samples: list[float]) -> str:
    """``min–max`` of the samples and their count, for the line beside a median."""
    if not samples:
        return "no samples"
    return f"{min(samples):.3f}–{max(samples):.3f} over {len(samples)}"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


class Goals:
    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.rows: list[dict[str, Any]] = []

    def check(self, figure: str, ratio: float, goal: float, note: str = "") -> bool:
        """Record ``ratio`` against ``goal`` (met when ``ratio <= goal``) and print the line."""
        met = ratio <= goal
        self.rows.append(
            {"figure": figure, "ratio": round(ratio, 3), "goal": goal, "met": met, "note": note}
        )
        print(self.line(self.rows[-1]), flush=True)
        return met

    @staticmethod
    def line(row: dict[str, Any]) -> str:
        verdict = "met" if row["met"] else "NOT MET"
        note = f"  ({row['note']})" if row["note"] else ""
        return f"  {row['figure']:<58} {row['ratio']:>6.2f}x  goal <= {row['goal']:.2f}x  {verdict}{note}"

    def report(self) -> list[dict[str, Any]]:
        """Print the summary of every goal checked so far; returns the rows (for JSON)."""
        met = sum(row["met"] for row in self.rows)
        print(f"\n{self.bench}: {met} of {len(self.rows)} goals met")
        for row in self.rows:
            print(self.line(row))
        return self.rows
