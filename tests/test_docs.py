"""The README and the CLI stay in step: every command is documented and has help."""
import re
from pathlib import Path

from app.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return subparsers.choices


def test_every_cli_command_is_in_the_readme_with_help():
    for name, sub in _commands().items():
        assert f"`{name}" in README, f"README does not document `{name}`"
        assert sub.description, f"`{name}` has no help text"


def test_the_quick_start_is_exactly_two_commands_that_start_the_app_and_run_the_tests():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quick_start, flags=re.S)
    assert commands == ["pip install -r requirements.txt && streamlit run app/main.py", "bash scripts/test.sh"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci
