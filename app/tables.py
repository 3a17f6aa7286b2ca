"""Tables the pages show: the batch, shared passages, agreement with the tutor, a student's drafts.

They only arrange what the engine and the store return; every missing value is left blank on the page
(`st.dataframe(placeholder="")`), never shown as "None".
"""
from __future__ import annotations

from collections.abc import Mapping
import textwrap

import pandas as pd
import streamlit as st

from models.marking import ClassPair
from models.reader import EssayInput
from models.report import LEVEL_NAMES
from models.rubric import Rubric
from models.sessions import TutorAgreement
from models.store import Draft


def batch_table(rows: list[dict], rubric: Rubric) -> pd.DataFrame:
    """One row per input, failed ones included: who, what file, scores, each factor's level, flags.

    Rows of a stored session (`final_row`) also show the tutor's decisions beside the tool's:
    a changed factor reads "developed → mentioned", and "tutor's mark" and "comments" columns appear.
    """
    stored = any("tutor_levels" in row for row in rows)
    records = []
    for row in rows:
        record = {"student": row["student"], "source": row["source"], "status": row["status"]}
        ok = row["status"] == "ok"
        record["overall"] = row["overall"] if ok else None
        record["mark /20"] = row.get("tool_mark", row.get("mark_20")) if ok else None
        if stored:
            record["tutor's mark"] = row.get("tutor_mark")
        final = {f["id"]: f["level"] for f in row["factors"]} if ok else {}
        tool = row.get("tool_levels", final)
        for factor in rubric.factors:
            record[factor.name] = level_change(tool.get(factor.id), final.get(factor.id))
        record["copied"] = ("yes: " + str(row["copy"]["source"])) if ok and row["copy"]["flagged"] else ""
        record["warnings"] = " ".join(row["warnings"]) if ok else ""
        record["error"] = row["error"] or ""
        if stored:
            record["comments"] = " | ".join(row.get("comments", ()))
        records.append(record)
    columns = ["student", "source", "status", "overall", "mark /20", *(["tutor's mark"] if stored else []),
               *[f.name for f in rubric.factors], "copied", "warnings", "error", *(["comments"] if stored else [])]
    return pd.DataFrame.from_records(records, columns=columns)


def batch_column_order(table: pd.DataFrame, rubric: Rubric) -> list[str]:
    """Who, the marks and every factor first, so the factor columns show without scrolling sideways."""
    first = ["student", "source", "mark /20", "tutor's mark", *[f.name for f in rubric.factors]]
    return [c for c in first if c in table.columns] + [c for c in table.columns if c not in first]


def batch_column_config(rubric: Rubric) -> dict:
    """Narrow columns under short labels (a factor's full name on hover), so who, marks and factors fit one screen."""
    config = {
        "student": st.column_config.TextColumn("student", width=90, pinned=True),
        "source": st.column_config.TextColumn("source", width=105),
        "mark /20": st.column_config.NumberColumn("mark", format="%d", width=50, help="The tool's mark out of 20"),
        "tutor's mark": st.column_config.NumberColumn("tutor", format="%d", width=50, help="The tutor's mark out of 20, where set"),
        "overall": st.column_config.ProgressColumn("coverage %", min_value=0, max_value=100, format="%.0f", width=100),
    }
    for factor in rubric.factors:
        config[factor.name] = st.column_config.TextColumn(short_label(factor.name), width=100, help=factor.name)
    return config


def short_label(name: str, width: int = 14) -> str:
    """A factor's name cut to a narrow column header's width at a word boundary."""
    return textwrap.shorten(name, width, placeholder="…")


def table_height(rows: int) -> int:
    """Pixels for a dataframe that shows every row (header and 35 px a row) without scrolling inside it."""
    return 38 + 35 * max(rows, 1)


def level_change(tool: int | None, tutor: int | None) -> str:
    """A factor cell: the tool's level, or 'tool → tutor' where the tutor changed it."""
    if tool is None:
        return ""
    if tutor is None or tutor == tool:
        return LEVEL_NAMES[tool]
    return f"{LEVEL_NAMES[tool]} → {LEVEL_NAMES[tutor]}"


def pairs_table(pairs: list[ClassPair], inputs: list[EssayInput], titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Shared-passage pairs with a short quote of the first shared passage, and the reference essay both copied, if any."""
    texts = {item.source: item.text for item in inputs}
    titles = titles or {}
    records = []
    for pair in pairs:
        first = pair.passages[0] if pair.passages else None
        quote = texts.get(pair.first, "")[first.start : first.end] if first else ""
        reference = ", ".join(titles.get(s, s) for s in pair.reference.split(", ")) if pair.reference else ""
        records.append({
            "first essay": pair.first,
            "second essay": pair.second,
            "shared words": pair.shared_words,
            "passages": len(pair.passages),
            "first shared passage": (quote[:160] + "…") if len(quote) > 160 else quote,
            "both copied reference essay": reference,
        })
    return pd.DataFrame.from_records(records, columns=["first essay", "second essay", "shared words", "passages", "first shared passage",
                                                       "both copied reference essay"])


def agreement_table(result: TutorAgreement, rubric: Rubric) -> pd.DataFrame:
    """Per factor: how often the tool's level was the tutor's, and quadratic-weighted kappa."""
    records = [{"factor": f.name, "agreement %": round(100 * result.per_factor[f.id]["agreement"]),
                "kappa": round(result.per_factor[f.id]["kappa"], 2)} for f in rubric.factors]
    records.append({"factor": "all factors", "agreement %": round(100 * result.overall_agreement), "kappa": None})  # shown blank
    return pd.DataFrame.from_records(records, columns=["factor", "agreement %", "kappa"])


def draft_history_table(drafts: list[Draft]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [{"draft": n, "date": d.created_at[:16].replace("T", " "), "coverage %": round(d.result["overall"]),
          "mark /20": d.result["mark_20"]} for n, d in enumerate(drafts, start=1)],
        columns=["draft", "date", "coverage %", "mark /20"])
