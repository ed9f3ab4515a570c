"""Pair notebooks/src/*.py (jupytext percent format, what reviewers diff) with notebooks/*.ipynb.

A thin wrapper over jupytext: the .ipynb carry no outputs (executed copies live in
outputs/<profile>/notebooks/), deterministic cell ids (stable diffs) and a fixed kernelspec.
`python scripts/sync_notebooks.py --check` fails if an .ipynb is out of date.
"""
from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SRC, DST = ROOT / "notebooks" / "src", ROOT / "notebooks"
KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}


def render(src: Path) -> str:
    nb = jupytext.read(src, fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # deterministic ids: stable diffs
        cell.metadata.pop("lines_to_next_cell", None)
    nb.metadata = dict(KERNEL)
    return nbformat.writes(nb, version=4) + "\n"


def main(argv) -> int:
    check = "--check" in argv
    stale = []
    for src in sorted(SRC.glob("*.py")):
        target = DST / (src.stem + ".ipynb")
        text = render(src)
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("out of date (run python scripts/sync_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
