"""Charts the pages draw: essays × factors, marks, and reference essays × factors."""
from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

import altair as alt
import pandas as pd

from models.coverage_report import CorpusSupport
from models.report import LEVEL_NAMES
from models.review import TutorReview
from models.rubric import Rubric


def heatmap(rows: list[dict], rubric: Rubric) -> alt.Chart:
    """Essays × factors, coloured by final level (the tutor's where set), so a tutor sees at a glance what the class missed."""
    cells = [
        {"essay": row["student"] or row["source"], "factor": f["name"],
         "level": LEVEL_NAMES[f["level"]], "score": _score_shown(row, f)}
        for row in rows
        if row["status"] == "ok"
        for f in row["factors"]
    ]
    data = pd.DataFrame(cells, columns=["essay", "factor", "level", "score"])
    colours = alt.Scale(domain=list(LEVEL_NAMES), range=["#f4c7c3", "#f6c453", "#43a047"])
    return (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(
            x=alt.X("factor:N", sort=[f.name for f in rubric.factors], title=None, axis=alt.Axis(orient="bottom", labelAngle=0, labelLimit=0, labelOverlap=False, labelPadding=6, labelExpr=_wrapped_labels([f.name for f in rubric.factors]))),
            y=alt.Y("essay:N", title=None, sort=None),
            color=alt.Color("level:N", scale=colours, title="Level"),
            tooltip=["essay", "factor", "level", "score:N"],
        )
        .properties(height=heatmap_height(data["essay"].nunique()))
    )


def _score_shown(row: dict, factor: dict) -> str:
    """The tool's score, or "set by the tutor" where the tutor changed the level (the score was the tool's)."""
    review = TutorReview.from_row(row)
    return "set by the tutor" if review is not None and review.changed(factor["id"]) else f"{factor['score']:.2f}"


def marks_histogram(marks: Sequence[int]) -> alt.Chart:
    """Essays per mark, one bar for each mark 0-20 centred on its label (a binned axis drew 12 between the 12 and 13 ticks)."""
    counts = pd.Series(marks, dtype=int).value_counts().reindex(range(21), fill_value=0)
    return alt.Chart(pd.DataFrame({"mark": counts.index, "essays": counts.values})).mark_bar(color="#2f6fb3").encode(
        x=alt.X("mark:O", title="mark /20", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("essays:Q", title="essays", axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=["mark", "essays"],
    ).properties(height=200)


def heatmap_height(essays: int) -> int:
    """Pixels for the heatmap: a readable band per essay, never a sliver."""
    return 120 + 40 * max(essays, 2)


def support_heatmap(support: CorpusSupport) -> alt.Chart:
    """Reference essays × factors, darker where more sentences make the point, with the count written in."""
    cells = pd.DataFrame(
        [
            {"essay": essay_id, "title": title, "factor": name, "sentences": int(support.counts[e, f]),
             "best score": float(support.max_scores[e, f])}
            for e, (essay_id, title) in enumerate(zip(support.essay_ids, support.essay_titles))
            for f, name in enumerate(support.factor_names)
        ]
    )
    x = alt.X("factor:N", sort=list(support.factor_names), title=None,
              axis=alt.Axis(orient="bottom", labelAngle=0, labelLimit=0, labelOverlap=False, labelPadding=6, labelExpr=_wrapped_labels(list(support.factor_names))))
    y = alt.Y("essay:N", sort=list(support.essay_ids), title=None)
    base = alt.Chart(cells).encode(x=x, y=y)
    tiles = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("sentences:Q", scale=alt.Scale(scheme="blues", domainMin=0), title="Sentences"),
        tooltip=["essay", "title", "factor", "sentences", alt.Tooltip("best score:Q", format=".2f")],
    )
    labels = base.mark_text(fontSize=13).encode(
        text="sentences:Q",
        color=alt.condition(alt.datum.sentences > max(1, int(support.counts.max()) // 2), alt.value("white"), alt.value("#1f2328")),
    )
    return (tiles + labels).properties(height=heatmap_height(len(support.essay_ids)))


def _wrapped_labels(names: list[str], width: int = 14) -> str:
    """A Vega expression that breaks long factor names over lines, so they fit above their column."""
    lines = {name: textwrap.wrap(name, width) for name in names}
    return f"{json.dumps(lines)}[datum.label] || datum.label"
