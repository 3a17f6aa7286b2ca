"""The tutor's word is final: a stored report with the tutor's levels, mark and comments applied.

Every view and export of a marking session renders `final_row`, so a student never reads the
tool's level beside the tutor's, nor a suggestion or warning for a factor the tutor raised.
The tool's own judgement travels alongside (`tool_levels`, `tool_mark`) to be shown once, as
"the tool said ...".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from models.report import LEVEL_NAMES, Report, Suggestion
from models.rubric import Rubric
from models.store import StoredEssay

# The engine's warning for factors named without a point: "The essay names A and B but makes no point about them: …"
_NAMED_ONLY = re.compile(r"^The essay names (?P<names>.+?) but makes no point about (?:it|them)\b")


@dataclass(frozen=True)
class TutorReview:
    """What a tutor decided about one essay, and what the tool had said before."""

    tool_levels: dict[str, int]
    tool_mark: int | None
    tutor_levels: dict[str, int]
    tutor_mark: int | None
    comments: tuple[str, ...] = ()

    def changed(self, factor_id: str) -> bool:
        """Whether the tutor set this factor to a level other than the tool's (a factor the tool never marked is not)."""
        level = self.tutor_levels.get(factor_id)
        return level is not None and factor_id in self.tool_levels and level != self.tool_levels[factor_id]

    @property
    def mark_changed(self) -> bool:
        return self.tutor_mark is not None and self.tutor_mark != self.tool_mark

    @classmethod
    def from_row(cls, row: dict) -> TutorReview | None:
        """The review carried by a row from `final_row`; None for a row of an unstored batch."""
        if "tutor_levels" not in row:
            return None
        return cls(row["tool_levels"], row["tool_mark"], row["tutor_levels"], row["tutor_mark"], tuple(row["comments"]))


def final_report(report: Report, rubric: Rubric, tutor_levels: dict[str, int], tutor_mark: int | None) -> Report:
    """`report` with the tutor's levels and mark in place of the tool's.

    A raised factor loses the tool's suggestion once developed and the "names it but makes no
    point" warning once mentioned; a lowered one gains the rubric's guidance. Coverage is
    recomputed from the final levels and the rubric's weights; the evidence stays the tool's. A tutor's
    mark drops the account of the tool's estimate (what moved it), which no longer explains the mark.
    """
    factors = {f.id: f for f in rubric.factors}
    results = []
    for result in report.factors:
        level = tutor_levels.get(result.id, result.level)
        if level == result.level:
            results.append(result)
            continue
        suggestion = result.suggestion or (Suggestion(factors[result.id].guidance) if result.id in factors else None)
        results.append(replace(result, level=level, suggestion=None if level >= 2 else suggestion))
    overall = report.overall
    if any(new.level != old.level for new, old in zip(results, report.factors)):
        weights = [factors[r.id].weight if r.id in factors else 1.0 for r in results]
        overall = round(100.0 * sum(w * r.level / 2 for w, r in zip(weights, results)) / sum(weights), 1)
    warnings = tuple(w for w in (_named_only_warning(w, results) for w in report.warnings) if w)
    if tutor_mark is None:
        return replace(report, factors=tuple(results), overall=overall, warnings=warnings)
    # The tutor's mark is the mark: what moved the tool's estimate no longer explains it.
    return replace(report, factors=tuple(results), overall=overall, mark_20=tutor_mark, warnings=warnings, wording=(), mark_trace=None)


def _named_only_warning(warning: str, results) -> str | None:
    """The warning, without the factors that now make their point (None when none is left)."""
    match = _NAMED_ONLY.match(warning)
    if not match:
        return warning
    named = [r for r in results if r.name in match["names"]]
    unmade = [r.name for r in named if r.level == 0]
    if len(unmade) == len(named):
        return warning
    named = unmade
    if not named:
        return None
    one = len(named) == 1
    names = named[0] if one else ", ".join(named[:-1]) + " and " + named[-1]
    return (f"The essay names {names} but makes no point about {'it' if one else 'them'}: "
            f"say how {'it' if one else 'each'} helped, with an example.")


def final_row(essay: StoredEssay, rubric: Rubric) -> dict:
    """A stored essay as a batch row with final values, and the tool's and tutor's decisions beside them.

    The shape `mark_inputs` yields (`source`, `student`, `status`, `error`, then the report's
    fields), plus `tool_levels`, `tool_mark`, `tutor_levels`, `tutor_mark`, `comments`,
    `essay_id` and `position`.
    """
    row = {"source": essay.source, "student": essay.student_name, "status": essay.status, "error": essay.error}
    tool_levels, tool_mark = {}, None
    if essay.result:
        tool = Report.from_dict(essay.result)
        tool_levels, tool_mark = {f.id: f.level for f in tool.factors}, tool.mark_20
        row.update(final_report(tool, rubric, essay.overrides, essay.mark_override).to_dict())
    row.update(tool_levels=tool_levels, tool_mark=tool_mark, tutor_levels=dict(essay.overrides),
               tutor_mark=essay.mark_override, comments=[c.text for c in essay.comments],
               essay_id=essay.id, position=essay.position)
    return row


def level_words(level: int | None) -> str:
    return "" if level is None else LEVEL_NAMES[level]
