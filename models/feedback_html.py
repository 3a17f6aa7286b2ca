"""Feedback as HTML: the essay with its evidence highlighted, and a self-contained report.

Essay text is untrusted (students paste anything), so every piece of it passes
through html.escape; the report has inline CSS and no scripts, so it opens
safely from a download or an e-mail attachment.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from models.report import LEVEL_NAMES, MARK_TRACE_EXPLAINED, WORDING_EXPLAINED, Report, improvement_advice, mark_band_advice, mark_trace_lines
from models.review import TutorReview
from models.rubric import Rubric

# Soft colours that keep dark text readable; one per factor, in rubric order.
FACTOR_COLOURS = ("#ffe08a", "#a8e6cf", "#a9d6ff", "#f7b7d2", "#d4c1f5", "#ffc89e", "#c8e89a", "#b5ede8")
LEVEL_COLOURS = {0: "#c0392b", 1: "#b7791f", 2: "#2e7d32"}

ESSAY_CSS = """
.rb-essay { white-space: pre-wrap; line-height: 1.7; font-size: 1rem; color: #1f2328;
  background: #ffffff; border: 1px solid #d9dde3; border-radius: 8px; padding: 1rem 1.2rem; }
.rb-essay mark { color: #1f2328; border-radius: 3px; padding: 0.05em 0.1em; }
.rb-copied { text-decoration: underline wavy #c0392b; text-decoration-thickness: 1.5px; }
.rb-legend { display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; margin: 0.3rem 0 0.6rem 0; font-size: 0.9rem; }
.rb-swatch { display: inline-block; padding: 0.1em 0.55em; border-radius: 3px; color: #1f2328; }
"""


def factor_colour(index: int) -> str:
    return FACTOR_COLOURS[index % len(FACTOR_COLOURS)]


@dataclass(frozen=True)
class _Segment:
    start: int
    end: int
    factors: tuple[int, ...]  # indexes of the factors whose evidence covers this stretch
    copied: bool


def _segments(report: Report, essay: str) -> list[_Segment]:
    """Cut the essay wherever an evidence sentence or a copied passage starts or ends."""
    spans = [(e.start, e.end, i) for i, f in enumerate(report.factors) for e in f.evidence]
    copied = [(p.start, p.end) for p in report.copy.passages]
    cuts = {0, len(essay)}
    for start, end, _ in spans:
        cuts |= {max(0, min(start, len(essay))), max(0, min(end, len(essay)))}
    for start, end in copied:
        cuts |= {max(0, min(start, len(essay))), max(0, min(end, len(essay)))}
    ordered = sorted(cuts)
    segments = []
    for start, end in zip(ordered, ordered[1:]):
        factors = tuple(sorted({i for s, e, i in spans if s <= start and end <= e}))
        is_copied = any(s <= start and end <= e for s, e in copied)
        segments.append(_Segment(start, end, factors, is_copied))
    return segments


def highlighted_essay_html(report: Report, essay: str) -> str:
    """The essay as one <div>: evidence sentences in their factor's colour, copied passages underlined.

    A sentence that is evidence for two factors shows the first factor's colour
    with a stripe of the second; hovering names every factor it supports.
    """
    names = [f.name for f in report.factors]
    parts = []
    for seg in _segments(report, essay):
        text = escape(essay[seg.start : seg.end], quote=True)
        if seg.copied:
            text = f'<span class="rb-copied" title="Copied from a reference essay">{text}</span>'
        if seg.factors:
            first = seg.factors[0]
            style = f"background:{factor_colour(first)};"
            if len(seg.factors) > 1:
                style += f"box-shadow: inset 0 -4px 0 {factor_colour(seg.factors[1])};"
            title = escape("Evidence for: " + "; ".join(names[i] for i in seg.factors), quote=True)
            text = f'<mark style="{style}" title="{title}">{text}</mark>'
        parts.append(text)
    return f'<div class="rb-essay">{"".join(parts)}</div>'


def legend_html(report: Report) -> str:
    """One coloured swatch per factor that has evidence, plus the copied-passage mark when used."""
    items = [
        f'<span class="rb-swatch" style="background:{factor_colour(i)}">{escape(f.name)}</span>'
        for i, f in enumerate(report.factors)
        if f.evidence
    ]
    if report.copy.passages:
        items.append('<span class="rb-swatch rb-copied">copied from a reference essay</span>')
    if not items:
        items.append("<span>No sentence makes a rubric point yet.</span>")
    return f'<div class="rb-legend">{"".join(items)}</div>'


_REPORT_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328;
  max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 1.8rem; }
.rb-question { color: #57606a; margin-top: 0; }
.rb-scores { display: flex; gap: 2rem; margin: 1rem 0; }
.rb-score b { display: block; font-size: 1.8rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #e1e4e8; }
.rb-level { font-weight: 600; }
.rb-warning { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.5rem 0.8rem; margin: 0.4rem 0; }
blockquote { margin: 0.4rem 0 0.4rem 0; padding: 0.3rem 0.8rem; border-left: 3px solid #a9d6ff; color: #3d4650; }
.rb-source { color: #57606a; font-size: 0.85rem; }
"""


def render_feedback_html(report: Report, essay_text: str, rubric: Rubric, student: str | None = None,
                         review: TutorReview | None = None, titles: Mapping[str, str] | None = None) -> str:
    """A whole HTML page of feedback for one essay: inline CSS, no scripts, every text escaped.

    `report` holds the final values (see models.review); `review`, when the essay was reviewed,
    adds the tutor's comments and says once what the tool had said where the tutor changed it.
    `titles` names reference essays by title (corpus id -> title) instead of by id.
    """
    title = f"Feedback for {student}" if student else "Essay feedback"
    titles = titles or {}
    rows = "".join(
        f"<tr><td>{escape(f.name)}</td>"
        f'<td class="rb-level" style="color:{LEVEL_COLOURS[f.level]}">{escape(LEVEL_NAMES[f.level])}{_tool_said_level(review, f.id)}</td>'
        f"<td>{_score_cell(review, f)}</td></tr>"
        for f in report.factors
    )
    warnings = "".join(f'<div class="rb-warning">{escape(w)}</div>' for w in report.warnings)
    suggestions = []
    for f in report.factors:
        if f.level >= 2 or f.suggestion is None:
            continue
        quotes = "".join(
            f'<blockquote>{escape(x.text)}<div class="rb-source">— {escape(titles.get(x.source, "reference essay " + x.source))}</div></blockquote>'
            for x in f.suggestion.excerpts
        )
        suggestions.append(f"<h3>{escape(f.name)} ({escape(LEVEL_NAMES[f.level])})</h3><p>{escape(improvement_advice(f))}</p>{quotes}")
    tutor_marked = review is not None and review.tutor_mark is not None
    suggestions_html = (f'<p class="rb-band">{escape(mark_band_advice(report.mark_20, estimated=not tutor_marked))}</p>'
                        + ("".join(suggestions) or "<p>Every factor is developed. Well done.</p>"))
    wording = ""
    if tutor_marked:
        said = f'<span class="rb-source">the tool said {review.tool_mark}</span>' if review.mark_changed and review.tool_mark is not None else ""
        mark = f'<div class="rb-score">Mark<b>{report.mark_20} / 20</b>{said}</div>'
    else:
        mark = f'<div class="rb-score">Mark estimate<b>{report.mark_20} / 20</b></div>'
        wording = _wording_html(report)
    comments = "".join(f"<blockquote>{escape(text)}</blockquote>" for text in (review.comments if review else ()))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_REPORT_CSS}{ESSAY_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"rb-question\">{escape(rubric.question)}</p>"
        '<div class="rb-scores">'
        f'<div class="rb-score">Coverage<b>{report.overall:.0f}%</b></div>'
        f"{mark}"
        f'<div class="rb-score">Words<b>{report.word_count}</b></div></div>'
        f"{wording}{warnings}"
        + (f"<h2>Your tutor's comments</h2>{comments}" if comments else "")
        + f"<h2>Factors</h2><table><tr><th>Factor</th><th>Level</th><th>Score</th></tr>{rows}</table>"
        f"<h2>Your essay</h2>{legend_html(report)}{highlighted_essay_html(report, essay_text)}"
        f"<h2>How to improve</h2>{suggestions_html}"
        "</body></html>\n"
    )


def _wording_html(report: Report) -> str:
    """The mark estimate added up, and the sentences whose wording moved it most, each way (the app's "What moved
    the mark estimate")."""
    if not report.wording and report.mark_trace is None:
        return ""
    trace = ""
    if report.mark_trace is not None:
        rows = "".join(f"<tr><td>{escape(what)}</td><td>{escape(marks)}</td></tr>" for what, marks in mark_trace_lines(report))
        trace = f"<p>{escape(MARK_TRACE_EXPLAINED)}</p><table><tr><th>Where it comes from</th><th>Marks</th></tr>{rows}</table>"
    quotes = "".join(f'<blockquote>{escape(w.text)}<div class="rb-source">{"raised" if w.marks > 0 else "lowered"} it by '
                     f"{abs(w.marks):.1f}</div></blockquote>" for w in report.wording)
    wording = f"<p>{escape(WORDING_EXPLAINED)}</p>{quotes}" if report.wording else ""
    return f"<h2>What moved the mark estimate</h2>{trace}{wording}"


def _score_cell(review: TutorReview | None, factor) -> str:
    """The tool's score, or who set the level: a tutor's level beside the tool's score for another level would disagree."""
    return "set by your tutor" if review is not None and review.changed(factor.id) else f"{factor.score:.2f}"


def _tool_said_level(review: TutorReview | None, factor_id: str) -> str:
    """ "the tool said absent", once, where the tutor changed the tool's level."""
    if review is None or not review.changed(factor_id):
        return ""
    return f' <span class="rb-source">(your tutor\'s level; the tool said {escape(LEVEL_NAMES[review.tool_levels[factor_id]])})</span>'
