"""The one report type: what the engine says about an essay.

The CLI, the app, the store and the exports all render this object; its
`to_dict()` is the JSON contract.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LEVEL_NAMES = ("absent", "mentioned", "developed")


@dataclass(frozen=True)
class Evidence:
    """One of the student's own sentences; `essay[start:end] == text`."""

    text: str
    start: int
    end: int
    score: float = 0.0
    matched: str = ""  # the rubric point or reference sentence it is closest to


@dataclass(frozen=True)
class Excerpt:
    """A short passage of a reference essay that makes a factor's point."""

    text: str
    source: str  # corpus essay id


@dataclass(frozen=True)
class Suggestion:
    guidance: str
    excerpts: tuple[Excerpt, ...] = ()


@dataclass(frozen=True)
class FactorResult:
    id: str
    name: str
    level: int  # 0 absent, 1 mentioned, 2 developed
    score: float  # in [0, 1]
    evidence: tuple[Evidence, ...] = ()
    suggestion: Suggestion | None = None

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


@dataclass(frozen=True)
class CopiedPassage:
    start: int
    end: int
    source: str  # corpus essay id


@dataclass(frozen=True)
class CopyCheck:
    """Long runs of words shared with a reference essay."""

    flagged: bool = False
    source: str | None = None  # corpus id and seed file, e.g. "ref1 (001_e5895ce79723c7b0.txt)"
    share: float = 0.0  # share of the essay's words inside shared runs
    passages: tuple[CopiedPassage, ...] = ()


@dataclass(frozen=True)
class WordingEffect:
    """One of the student's own sentences whose wording moved the mark estimate: by `marks`, up or down, against an
    average training essay (the judge's word mark model, split exactly across the sentences)."""

    text: str
    start: int
    end: int
    marks: float


@dataclass(frozen=True)
class MarkPart:
    """One part of the mark estimate: how far it moved the mark from an average training essay's, in marks."""

    id: str  # one of MARK_PART_NAMES
    marks: float

    @property
    def name(self) -> str:
        return MARK_PART_NAMES.get(self.id, self.id)


@dataclass(frozen=True)
class MarkTrace:
    """The mark estimate, added up: an average training essay's mark plus each part (the judge's mark model is
    linear, so they sum to `estimate`, before it is rounded to `Report.mark_20`, up to the rounding of each part)."""

    average: float
    parts: tuple[MarkPart, ...]
    estimate: float  # the model's own, not the sum of the rounded parts, so it always rounds to the mark shown


# What each part of the mark estimate reads, as a student is told (the judge's MARK_PARTS, in its order).
MARK_PART_NAMES = {
    "factors": "The factors it makes and develops (the evidence is highlighted below)",
    "wording": "How it is worded (the sentences that moved it most are quoted below)",
    "length": "Its length",
    "language": "Its weighing and linking words (\"most important\", \"however\", \"because\", \"as a result\")",
    # One line each: summed as "how it reads as a whole", an essay of notes that answers the question was told "+0.1"
    # for its notes.
    "on_question": "Whether it answers this question rather than another",
    "notes": "Whether it is written in sentences rather than notes",
    "whole": "How it reads as a whole (as an answer to another question, as notes, or as copied passages)",  # reports stored before
}


# What a student is told the mark estimate's parts are, wherever they are shown.
MARK_TRACE_EXPLAINED = ("The estimate starts from the mark of an average essay among those examiners marked, and each part of "
                        "this essay moves it up or down, as learned from those essays:")


def mark_trace_lines(report: "Report") -> list[tuple[str, str]]:
    """The mark estimate added up, as (what, marks) rows for a table: an average essay, each part, the estimate."""
    trace = report.mark_trace
    if trace is None:
        return []
    return ([("An average essay", f"{trace.average:.1f}")] + [(p.name, _signed(p.marks)) for p in trace.parts]
            + [("The estimate", f"{trace.estimate:.2f}, shown as {report.mark_20} / 20")])


def _signed(marks: float) -> str:
    """"+0.3", "-0.3", and "0.0" for a move that rounds to nothing (not "-0.0", which reads as a loss)."""
    shown = f"{marks:+.1f}"
    return "0.0" if shown in ("+0.0", "-0.0") else shown


@dataclass(frozen=True)
class MarkBand:
    low: int
    high: int
    reads: str  # what an answer in the band does, in the codebook's words
    asks: str  # what moving into the band asks of an answer below it


# The codebook's bands for the mark out of 20 (`../shared/labelling/CODEBOOK.md`, "The mark out of 20"): the labelled
# marks the estimate is learned from were given by them, so they say what the number means and what the next one asks.
MARK_BANDS = (
    MarkBand(0, 4, "very limited, mostly irrelevant or narrative; little that answers why", ""),
    MarkBand(5, 8, "mainly descriptive; a few factors stated, little explanation",
             "state the factors that answer the question, rather than telling the story"),
    MarkBand(9, 12, "some analysis: factors explained with supporting detail, but a limited range, or no weighing of one "
                    "factor against another",
             "explain how each factor mattered, with supporting detail (an example, a date, a mechanism)"),
    MarkBand(13, 16, "analytical across a range of factors, well supported, with some judgement about their relative importance",
             "explain a range of factors with support, and judge which mattered most and why"),
    MarkBand(17, 20, "sustained, well-supported judgement throughout; factors linked to each other and to the question",
             "sustain that judgement throughout, linking the factors to each other and to the question"),
)


def mark_band_advice(mark: int, estimated: bool = True) -> str:
    """The band a mark falls in and what the band above asks for: what a student can do about a number."""
    band = next(b for b in MARK_BANDS if b.low <= mark <= b.high)
    # The band's description is quoted as the band's, not said of the essay: "or no weighing" read as a verdict on an
    # essay that weighs throughout.
    said = (f"{'The mark estimate' if estimated else 'The mark'}, {mark} / 20, is in the band {band.low}-{band.high}, "
            f"described as \u201c{band.reads}\u201d.")
    above = [b for b in MARK_BANDS if b.low > band.high]
    return said + (f" To reach {above[0].low}-{above[0].high}, {above[0].asks}." if above else "")


# A factor the essay mentions is a point already made: it is told how to develop it before what the factor covers,
# so the advice does not read as if the point were missing (the codebook's "developed": explained or supported).
DEVELOP_ADVICE = ("You make this point but do not develop it yet: explain how it answers the question, and support it "
                  "with a specific example, a date, a consequence or how it worked.")


RUBRIC_ADVICE_LEAD = "The rubric's advice for this factor in general:"


def improvement_advice(factor: FactorResult) -> str:
    """What a student is told to do about a factor below developed, wherever feedback is shown: the rubric's
    guidance, led for a mentioned factor by how to develop a point already made."""
    guidance = factor.suggestion.guidance if factor.suggestion else ""
    if factor.level != 1:
        return guidance
    # The rubric's guidance says what the factor covers, some of which the essay already has: it is quoted as general
    # advice, so it does not read as a list of what the essay lacks.
    return f"{DEVELOP_ADVICE} {RUBRIC_ADVICE_LEAD} \u201c{guidance}\u201d" if guidance else DEVELOP_ADVICE


# What a student is told the wording effects are, wherever they are shown.
WORDING_EXPLAINED = ("Besides the factors, the estimate reads how the essay is worded, as learned from essays examiners marked: "
                     "explaining and weighing raise it, narrative and other topics lower it. Against an average essay:")


# How the off-question warning starts: the student is told this, so it is also what "told it answers another question" counts.
OFF_QUESTION_WARNING = "This essay does not seem to answer the question"


@dataclass(frozen=True)
class Report:
    rubric_id: str
    overall: float  # 0-100 coverage from levels and weights
    mark_20: int
    factors: tuple[FactorResult, ...]
    warnings: tuple[str, ...] = ()
    word_count: int = 0
    copy: CopyCheck = field(default_factory=CopyCheck)
    wording: tuple[WordingEffect, ...] = ()  # the sentences that raised the mark most, then those that lowered it most
    mark_trace: MarkTrace | None = None  # the mark estimate added up; None where it is not the model's estimate as it stands

    def factor(self, factor_id: str) -> FactorResult:
        return next(f for f in self.factors if f.id == factor_id)

    @property
    def told_off_question(self) -> bool:
        """The essay was told it does not seem to answer the question."""
        return any(w.startswith(OFF_QUESTION_WARNING) for w in self.warnings)

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        """The report back from its JSON (a stored result or a batch row; other keys are ignored)."""
        copy = data.get("copy") or {}
        return cls(
            rubric_id=data["rubric_id"],
            overall=data["overall"],
            mark_20=data["mark_20"],
            factors=tuple(
                FactorResult(
                    f["id"], f["name"], f["level"], f["score"],
                    tuple(Evidence(e["text"], e["start"], e["end"], e.get("score", 0.0), e.get("matched", "")) for e in f["evidence"]),
                    None if f.get("suggestion") is None else Suggestion(
                        f["suggestion"]["guidance"], tuple(Excerpt(x["text"], x["source"]) for x in f["suggestion"]["excerpts"])),
                )
                for f in data["factors"]
            ),
            warnings=tuple(data.get("warnings", ())),
            word_count=data.get("word_count", 0),
            copy=CopyCheck(copy.get("flagged", False), copy.get("source"), copy.get("share", 0.0),
                           tuple(CopiedPassage(p["start"], p["end"], p["source"]) for p in copy.get("passages", ()))),
            wording=tuple(WordingEffect(w["text"], w["start"], w["end"], w["marks"]) for w in data.get("wording", ())),
            mark_trace=None if not data.get("mark_trace") else MarkTrace(
                data["mark_trace"]["average"], tuple(MarkPart(p["id"], p["marks"]) for p in data["mark_trace"]["parts"]),
                data["mark_trace"]["estimate"]),
        )

    def to_dict(self) -> dict:
        """The JSON contract. Written out by hand: dataclasses.asdict's deep copy cost a tenth of a batch."""
        copy = self.copy
        return {
            "rubric_id": self.rubric_id,
            "overall": self.overall,
            "mark_20": self.mark_20,
            "factors": [
                {
                    "id": f.id,
                    "name": f.name,
                    "level": f.level,
                    "score": f.score,
                    "evidence": [{"text": e.text, "start": e.start, "end": e.end, "score": e.score, "matched": e.matched} for e in f.evidence],
                    "suggestion": None if f.suggestion is None else {
                        "guidance": f.suggestion.guidance,
                        "excerpts": [{"text": x.text, "source": x.source} for x in f.suggestion.excerpts],
                    },
                    "level_name": f.level_name,
                }
                for f in self.factors
            ],
            "warnings": list(self.warnings),
            "word_count": self.word_count,
            "copy": {
                "flagged": copy.flagged,
                "source": copy.source,
                "share": copy.share,
                "passages": [{"start": p.start, "end": p.end, "source": p.source} for p in copy.passages],
            },
            "wording": [{"text": w.text, "start": w.start, "end": w.end, "marks": w.marks} for w in self.wording],
            "mark_trace": None if self.mark_trace is None else {
                "average": self.mark_trace.average,
                "estimate": self.mark_trace.estimate,
                "parts": [{"id": p.id, "name": p.name, "marks": p.marks} for p in self.mark_trace.parts],
            },
        }
