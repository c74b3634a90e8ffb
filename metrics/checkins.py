"""What one pain entry can call for on its own, before the report is computed (SCIENCE.md section 10): the
light check a face makes to decide whether to compute the report at all (``loadwatch pain add`` stays free of
pandas for an entry that calls for nothing).  The bands are the metrics' own, read here, never in a face."""

from __future__ import annotations

from loadwatch.metrics import thresholds as th


def may_call_for_action(score: int, timing: str, earlier_mornings: list[int] | None) -> bool:
    """Whether a pain entry can call for anything on its own (SCIENCE.md section 10), so a face computes the
    report for :func:`loadwatch.dashboard.from_store.pain_entry_advice` only then: a score above 3 (amber at the least after a run; a morning
    without a usual level that has not settled), or a morning 2 above the lowest of ``earlier_mornings``
    (the next-morning scores logged before its day; None: not known) when there are 3 of them (a usual level
    is a median of earlier mornings, never below their lowest).  A week-on-week rise that a lower entry
    completes is left to the alerts."""
    if timing != "next_morning":
        return score > th.PAIN_GREEN_MAX
    if score > th.PAIN_SETTLE_NO_BASELINE_MAX or earlier_mornings is None:
        return True
    return (len(earlier_mornings) >= th.PAIN_BASELINE_MIN_ENTRIES
            and score >= min(earlier_mornings) + th.PAIN_SETTLE_MARGIN)
