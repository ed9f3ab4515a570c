"""Build notebooks/*.ipynb from their percent-format sources notebooks/src/*.py.

The .py sources are what reviewers diff; the .ipynb files carry no outputs (executed copies
live in outputs/<profile>/notebooks/). Cell markers: `# %% [markdown]` (lines after it are
markdown, each starting with '# '), `# %% tags=["parameters"]`, and a plain `# %%`.
`python scripts/sync_notebooks.py --check` fails if an .ipynb is out of date.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SRC, DST = ROOT / "notebooks" / "src", ROOT / "notebooks"
MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def to_notebook(text: str) -> nbformat.NotebookNode:
    cells, kind, tags, lines = [], None, [], []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cell.id = f"cell-{len(cells)}"  # deterministic ids: stable diffs
        cells.append(cell)

    for line in text.splitlines():
        m = MARKER.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def render(src: Path) -> str:
    return nbformat.writes(to_notebook(src.read_text()), version=4) + "\n"


def main(argv) -> int:
    check = "--check" in argv
    stale = []
    for src in sorted(SRC.glob("rq*.py")):
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
