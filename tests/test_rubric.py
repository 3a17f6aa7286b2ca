"""Rubric files: a broken rubric is refused with a message naming the file, the factor and the field."""
from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import RubricateError
from models.rubric import DEFAULT_RUBRIC, load_rubric

from conftest import RUBRICS


def refused(name: str | Path) -> str:
    """The message a user sees when loading a broken rubric fixture."""
    path = RUBRICS / name if isinstance(name, str) else name
    with pytest.raises(RubricateError) as caught:
        load_rubric(path)
    message = str(caught.value)
    assert str(path) in message, f"message does not name the file: {message}"
    return message


def test_shipped_rubric_loads_with_the_five_stalin_factors():
    rubric = load_rubric(DEFAULT_RUBRIC)
    assert rubric.id == "stalin_leader"
    assert rubric.factor_ids == ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]
    assert all(f.cues and f.guidance and f.weight > 0 for f in rubric.factors)


def test_minimal_valid_rubric_loads():
    assert load_rubric(RUBRICS / "valid_minimal.yaml").factor_ids == ["luck"]


def test_bad_yaml_syntax_names_the_file_and_the_line():
    message = refused("bad_syntax.yaml")
    assert "not valid YAML" in message
    assert "line" in message


def test_unknown_top_level_field_is_named():
    message = refused("unknown_top_level_field.yaml")
    assert "unknown field 'colour'" in message


def test_unknown_field_inside_a_factor_names_the_factor_and_field():
    message = refused("unknown_factor_field.yaml")
    assert "factor 2 ('testament')" in message
    assert "unknown field 'colour'" in message


def test_factor_without_a_name_names_the_factor_and_the_missing_field():
    message = refused("missing_name.yaml")
    assert "factor 2 ('testament')" in message
    assert "missing field 'name'" in message


def test_duplicate_factor_ids_are_refused():
    message = refused("duplicate_ids.yaml")
    assert "factor 2 ('luck')" in message
    assert "'id'" in message and "unique" in message


def test_empty_factor_list_is_refused():
    message = refused("no_factors.yaml")
    assert "'factors'" in message and "non-empty" in message


@pytest.mark.parametrize("name", ["zero_weight.yaml", "negative_weight.yaml"])
def test_weight_of_zero_or_below_is_refused(name):
    message = refused(name)
    assert "factor 2 ('testament')" in message
    assert "'weight'" in message and "above 0" in message


def test_python_yaml_tag_is_refused_without_running_it(capfd):
    message = refused("python_tag.yaml")
    assert "not allowed" in message and "line" in message
    assert "hi" not in capfd.readouterr().out  # os.system("echo hi") never ran


def test_python_yaml_tag_cannot_create_a_file(tmp_path):
    marker = tmp_path / "ran"
    hostile = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8") + (
        f'    details: !!python/object/apply:os.system ["touch {marker}"]\n'
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile, encoding="utf-8")
    refused(path)
    assert not marker.exists()


def test_rubric_that_is_not_utf8_asks_for_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    text = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8").replace("Luck", "Glück")
    path.write_bytes(text.encode("latin-1"))
    message = refused(path)
    assert "UTF-8" in message


def test_missing_rubric_file_is_named(tmp_path):
    message = refused(tmp_path / "no_such_rubric.yaml")
    assert "not found" in message


def test_statements_only_is_on_unless_the_rubric_turns_it_off(tmp_path):
    assert load_rubric(RUBRICS / "valid_minimal.yaml").scoring.statements_only is True
    text = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8")
    off = tmp_path / "short_answers.yaml"
    off.write_text(text.replace("factors:", "scoring:\n  statements_only: false\nfactors:", 1), encoding="utf-8")
    assert load_rubric(off).scoring.statements_only is False


def test_statements_only_that_is_not_true_or_false_names_the_field(tmp_path):
    text = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("factors:", "scoring:\n  statements_only: sometimes\nfactors:", 1), encoding="utf-8")
    message = refused(broken)
    assert "scoring.statements_only" in message and "true or false" in message


def _with_scoring(tmp_path, scoring_yaml: str, prefix: str = "") -> Path:
    """valid_minimal.yaml with a `scoring:` block (and anything before it, e.g. anchors)."""
    text = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "hostile.yaml"
    path.write_text(prefix + text.replace("factors:", f"scoring:\n{scoring_yaml}\nfactors:", 1), encoding="utf-8")
    return path


def billion_laughs(levels: int = 9) -> str:
    """The alias bomb: each anchor is a list of nine aliases to the one before (9**levels strings)."""
    lines = ['l0: &l0 "lol"']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_point_threshold_is_refused_in_one_short_line(tmp_path):
    # the anchors sit under unknown top-level keys: the bomb is refused before any field is looked at
    path = _with_scoring(tmp_path, "  point_threshold: *l9", billion_laughs(9))
    message = refused(path)
    assert "aliases" in message and "100,000" in message
    assert len(message) < 400 and "\n" not in message


def test_a_long_value_is_shortened_in_the_message(tmp_path):
    path = _with_scoring(tmp_path, "  point_threshold: [" + ", ".join(["lol"] * 20_000) + "]")
    message = refused(path)
    assert "scoring.point_threshold" in message and "must be a number" in message
    assert "characters)" in message and len(message) < 400


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 100_000, encoding="utf-8")
    message = refused(path)
    assert "nested more than 20 levels" in message and "line 1" in message


def test_a_rubric_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    text = (RUBRICS / "valid_minimal.yaml").read_text(encoding="utf-8")
    path.write_text(text + "#" + "x" * 2_000_000 + "\n", encoding="utf-8")
    message = refused(path)
    assert "2.0 MB" in message and "limit is 1 MB" in message
