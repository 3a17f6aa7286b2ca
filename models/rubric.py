"""Rubric files: one YAML file per question, validated against rubric/schema.yaml.

A broken rubric fails here, with a message naming the file, the factor and the field,
so nothing downstream has to check again.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from models.errors import RubricateError

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubric"
DEFAULT_RUBRIC = RUBRIC_DIR / "stalin_leader.yaml"

RUBRIC_FIELDS = {"id", "question", "corpus", "scoring", "synonyms", "names", "common_words", "off_topic", "factors", "copy"}
REQUIRED_RUBRIC_FIELDS = {"id", "question", "corpus", "factors"}
FACTOR_FIELDS = {"id", "name", "description", "cues", "terms", "details", "guidance", "weight"}
REQUIRED_FACTOR_FIELDS = {"id", "name", "description", "cues", "guidance"}
SCORING_FIELDS = {"point_threshold", "developed_threshold", "term_boost", "name_weight", "marking_curve", "off_question_coverage",
                  "statements_only"}
COPY_FIELDS = {"min_run_words", "flag_share", "credit_copied"}

# A rubric is a page or two of YAML (the shipped one is 14 KB, 4 levels deep, no aliases); these
# limits refuse hostile files before PyYAML builds them: recursion, alias bombs, slow huge files.
MAX_RUBRIC_BYTES = 1_000_000
MAX_RUBRIC_DEPTH = 20
MAX_RUBRIC_VALUES = 100_000  # values after aliases (*name) are expanded
SHOWN_CHARS = 60  # a value quoted in a message is cut to this


@dataclass(frozen=True)
class Scoring:
    """The few numbers that turn similarities into levels; tuned by `evaluate --tune`."""

    point_threshold: float = 0.3  # a sentence makes a factor's point at or above this score
    developed_threshold: float = 0.9  # summed point scores at or above this: developed
    term_boost: float = 1.0  # a sentence that also names the factor scores (1 + boost) times higher
    name_weight: float = 0.35  # people's names count this much: naming Trotsky is not a point
    marking_curve: float = 0.6  # mark_20 = 20 * (coverage / 100) ** marking_curve
    off_question_coverage: float = 15.0  # below this coverage, check whether the essay is on the question
    statements_only: bool = True  # a point must be a statement (not a heading or a list); off for short answers


@dataclass(frozen=True)
class CopySettings:
    min_run_words: int = 8
    flag_share: float = 0.15
    credit_copied: bool = False  # copied sentences earn no factor credit unless this is set


@dataclass(frozen=True)
class Factor:
    id: str
    name: str
    description: str
    cues: tuple[str, ...]  # short statements of the factor's point, as a student might put it
    guidance: str  # what a student sees when the factor is missing
    terms: tuple[str, ...] = ()  # words that name the factor; on their own they make no point
    details: tuple[str, ...] = ()  # supporting details (dates, examples) that develop the point
    weight: float = 1.0


@dataclass(frozen=True)
class Rubric:
    id: str
    question: str
    path: Path
    corpus_path: Path
    factors: tuple[Factor, ...]
    scoring: Scoring = field(default_factory=Scoring)
    copy: CopySettings = field(default_factory=CopySettings)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant spelling -> canonical word
    names: tuple[str, ...] = ()  # people whose names alone make no point
    common_words: tuple[str, ...] = ()  # words of the whole topic (party, Bolshevik) that make no point alone
    off_topic: tuple[str, ...] = ()  # statements that belong to none of the factors
    content_hash: str = ""

    @property
    def factor_ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)


def load_rubric(path: str | Path = DEFAULT_RUBRIC) -> Rubric:
    """Read and validate one rubric file; raise RubricateError naming file, factor and field."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise RubricateError(f"Rubric file {where} was not found: give the path of a .yaml rubric (see rubric/schema.yaml).")
    size = path.stat().st_size
    if size > MAX_RUBRIC_BYTES:
        raise RubricateError(f"Rubric {where} is {size / 1e6:.1f} MB; the limit is {MAX_RUBRIC_BYTES / 1e6:.0f} MB:"
                             " a rubric holds a question's factors and cues, not essays; remove what does not belong.")
    raw_bytes = path.read_bytes()
    try:
        text = raw_bytes.decode("utf-8")
        _check_shape(text, where)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise RubricateError(f"Rubric {where} is not UTF-8 text: save it as UTF-8.") from None
    except yaml.constructor.ConstructorError as error:
        raise RubricateError(
            f"Rubric {where}: YAML tags such as {error.problem.split()[-1] if error.problem else '!!python/object'} are not allowed"
            f" (line {error.problem_mark.line + 1 if error.problem_mark else '?'}); use plain text, lists and mappings."
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RubricateError(f"Rubric {where} is not valid YAML{line}: {getattr(error, 'problem', error)}.") from None
    return parse_rubric(data, path, hashlib.sha256(raw_bytes).hexdigest())


def _check_shape(text: str, where: str) -> None:
    """Refuse YAML nested deeper than MAX_RUBRIC_DEPTH or expanding past MAX_RUBRIC_VALUES values.

    Walks parser events, which PyYAML produces without recursion and without expanding aliases.
    """
    stack: list[list] = []  # one [anchor, values so far] per open sequence or mapping
    anchored: dict[str, int] = {}  # anchor -> how many values an alias to it stands for
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > MAX_RUBRIC_DEPTH:
                raise RubricateError(f"Rubric {where} is nested more than {MAX_RUBRIC_DEPTH} levels deep"
                                     f" (line {event.start_mark.line + 1}); a rubric needs about 4: flatten it (see rubric/schema.yaml).")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, values = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, values = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, values = None, anchored.get(event.anchor, 1)
        else:
            continue
        if anchor:
            anchored[anchor] = values
        if stack:
            stack[-1][1] += values
            if stack[-1][1] > MAX_RUBRIC_VALUES:
                raise RubricateError(f"Rubric {where}: its aliases (*name) expand to more than {MAX_RUBRIC_VALUES:,} values"
                                     f" (line {event.start_mark.line + 1}); write the values out instead of repeating aliases.")


def _shown(value: object) -> str:
    """repr(value), cut to SHOWN_CHARS so a hostile value cannot flood the message."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… ({len(text):,} characters)"


def parse_rubric(data: object, path: Path, content_hash: str = "") -> Rubric:
    where = str(path)
    if not isinstance(data, dict):
        raise RubricateError(f"Rubric {where} must be a mapping with fields {sorted(REQUIRED_RUBRIC_FIELDS)}.")
    _check_fields(data, RUBRIC_FIELDS, REQUIRED_RUBRIC_FIELDS, f"Rubric {where}")
    factors_data = data["factors"]
    if not isinstance(factors_data, list) or not factors_data:
        raise RubricateError(f"Rubric {where}: field 'factors' must be a non-empty list of factors.")
    factors = []
    seen: set[str] = set()
    for index, item in enumerate(factors_data, start=1):
        factor = _parse_factor(item, f"Rubric {where}, factor {index}")
        if factor.id in seen:
            raise RubricateError(f"Rubric {where}, factor {index} ('{factor.id}'): field 'id' repeats an earlier factor's id; ids must be unique.")
        seen.add(factor.id)
        factors.append(factor)
    scoring_data = data.get("scoring") or {}
    statements_only = True
    if isinstance(scoring_data, dict):  # anything else is reported by _numbers below
        scoring_data = dict(scoring_data)
        statements_only = scoring_data.pop("statements_only", True)
    if not isinstance(statements_only, bool):
        raise RubricateError(f"Rubric {where}, field 'scoring.statements_only': must be true or false, not {_shown(statements_only)}.")
    scoring = Scoring(**_numbers(scoring_data, SCORING_FIELDS - {"statements_only"}, f"Rubric {where}", "scoring"),
                      statements_only=statements_only)
    copy_data = data.get("copy") or {}
    _check_fields(copy_data, COPY_FIELDS, set(), f"Rubric {where}, field 'copy'")
    copy = CopySettings(
        min_run_words=int(_number(copy_data.get("min_run_words", 8), f"Rubric {where}, field 'copy.min_run_words'")),
        flag_share=_number(copy_data.get("flag_share", 0.15), f"Rubric {where}, field 'copy.flag_share'"),
        credit_copied=bool(copy_data.get("credit_copied", False)),
    )
    synonyms = {}
    for canonical, variants in (data.get("synonyms") or {}).items():
        for variant in _strings(variants, f"Rubric {where}, field 'synonyms.{canonical}'"):
            synonyms[variant.lower()] = str(canonical).lower()
    corpus_value = _text(data["corpus"], f"Rubric {where}, field 'corpus'")
    return Rubric(
        id=_text(data["id"], f"Rubric {where}, field 'id'"),
        question=_text(data["question"], f"Rubric {where}, field 'question'"),
        path=path,
        corpus_path=(path.parent / corpus_value).resolve(),
        factors=tuple(factors),
        scoring=scoring,
        copy=copy,
        synonyms=synonyms,
        names=tuple(_strings(data.get("names") or [], f"Rubric {where}, field 'names'")),
        common_words=tuple(_strings(data.get("common_words") or [], f"Rubric {where}, field 'common_words'")),
        off_topic=tuple(_strings(data.get("off_topic") or [], f"Rubric {where}, field 'off_topic'")),
        content_hash=content_hash,
    )


def find_rubrics(folder: Path = RUBRIC_DIR) -> list[Path]:
    """Rubric files in a folder (the schema file is not a rubric)."""
    return sorted(p for p in folder.glob("*.yaml") if p.name != "schema.yaml")


def _parse_factor(item: object, where: str) -> Factor:
    if not isinstance(item, dict):
        raise RubricateError(f"{where} must be a mapping with fields {sorted(REQUIRED_FACTOR_FIELDS)}.")
    if "id" in item:
        where = f"{where} ({_shown(item['id'])})"
    _check_fields(item, FACTOR_FIELDS, REQUIRED_FACTOR_FIELDS, where)
    factor_id = _text(item["id"], f"{where}: field 'id'")
    if not factor_id.replace("_", "").isalnum():
        raise RubricateError(f"{where}: field 'id' must be letters, digits and underscores, got {_shown(factor_id)}.")
    weight = _number(item.get("weight", 1.0), f"{where}: field 'weight'")
    if weight <= 0:
        raise RubricateError(f"{where}: field 'weight' must be above 0, got {weight}.")
    cues = _strings(item["cues"], f"{where}: field 'cues'")
    if not cues:
        raise RubricateError(f"{where}: field 'cues' must list at least one statement of the factor's point.")
    return Factor(
        id=factor_id,
        name=_text(item["name"], f"{where}: field 'name'"),
        description=_text(item["description"], f"{where}: field 'description'"),
        cues=tuple(cues),
        guidance=_text(item["guidance"], f"{where}: field 'guidance'"),
        terms=tuple(_strings(item.get("terms") or [], f"{where}: field 'terms'")),
        details=tuple(_strings(item.get("details") or [], f"{where}: field 'details'")),
        weight=weight,
    )


def _check_fields(data: dict, allowed: set[str], required: set[str], where: str) -> None:
    if not isinstance(data, dict):
        raise RubricateError(f"{where} must be a mapping.")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise RubricateError(f"{where}: unknown field {_shown(unknown[0])}; allowed fields are {sorted(allowed)}.")
    missing = sorted(required - set(data))
    if missing:
        raise RubricateError(f"{where}: missing field '{missing[0]}' (required: {sorted(required)}).")


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RubricateError(f"{where} must be non-empty text.")
    return value.strip()


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise RubricateError(f"{where} must be a list of non-empty texts.")
    return [str(v).strip() for v in value]


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RubricateError(f"{where} must be a number, got {_shown(value)}.")
    return float(value)


def _numbers(data: dict, allowed: set[str], where: str, field_name: str) -> dict[str, float]:
    _check_fields(data, allowed, set(), f"{where}, field '{field_name}'")
    return {key: _number(value, f"{where}, field '{field_name}.{key}'") for key, value in data.items()}
