"""How often hard-wrapping an essay changes its levels or mark: every labelled essay, wrapped at 30-120 columns.

    python scripts/measure_layout.py [--step N]

Each essay is read as typed and as hard-wrapped (textwrap, words never split), both through the
reader as an upload would be; it prints how many essay-width pairs get other levels or another
mark, with the wrapping rejoined (what Rubricate does) and without (lines read as they are).
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.engine import load_model  # noqa: E402
from models.reader import essay_from_text  # noqa: E402
from models.text import clean_control_characters  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"


def hard_wrapped(essay: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width, break_long_words=False) if line.strip() else line for line in essay.split("\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=1, help="width step (default 1: every width from 30 to 120)")
    step = parser.parse_args().step
    model = load_model()

    def marked(text: str) -> tuple:
        report = model.score(text)
        return tuple(f.level for f in report.factors), report.mark_20

    pairs, changed_raw, changed = 0, 0, []
    for path in sorted(DATA.glob("*/essays/*.txt")):
        essay = path.read_text(encoding="utf-8")
        typed = marked(essay_from_text(essay).text)
        for width in range(30, 121, step):
            wrapped = hard_wrapped(essay, width)
            pairs += 1
            changed_raw += marked(clean_control_characters(wrapped).strip()) != typed
            if marked(essay_from_text(wrapped).text) != typed:
                changed.append(f"{path.relative_to(DATA)}@{width}")
    print(f"{pairs} essay-width pairs: levels or mark changed in {len(changed)} with wrapped lines rejoined, "
          f"{changed_raw} without; {', '.join(changed) or 'none'}")


if __name__ == "__main__":
    main()
