"""Every executed notebook under outputs/<profile>/notebooks shows the figures it wrote: its
number of inline images equals the number of figures its Report saved (figure meta files whose
`rq` is the notebook's prefix), and no cell prints a raw path. Marker `outputs`: run after the
notebooks were executed (run_all.sh / nbval)."""
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOKS = sorted((ROOT / "outputs").glob("*/notebooks/*.ipynb"))
pytestmark = pytest.mark.outputs


def _images(nb) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}))


def _figures_written(profile_root: Path, rq: str) -> int:
    metas = (json.loads(p.read_text()) for p in (profile_root / "figures").glob(f"{rq}_*.png.meta.json"))
    return sum(1 for m in metas if m.get("rq") == rq and m.get("kind") == "figure")


def _printed_text(nb) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            out.append(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", ""))
    return "\n".join(out)


@pytest.mark.skipif(not BOOKS, reason="no executed notebook under outputs/ yet")
@pytest.mark.parametrize("book", BOOKS, ids=lambda b: f"{b.parent.parent.name}/{b.stem}")
def test_executed_notebook_shows_every_figure_it_wrote(book):
    nb = nbformat.read(book, as_version=4)
    rq = book.stem.split("_")[0]
    written = _figures_written(book.parent.parent, rq)
    assert written > 0, f"{book.name}: no figure meta file for {rq} under {book.parent.parent.name}/figures"
    assert _images(nb) == written, f"{book.name}: {_images(nb)} inline images for {written} saved figures"
    text = _printed_text(nb)
    assert "PosixPath(" not in text and "/outputs/" not in text, f"{book.name} prints a path"


def test_image_counter_counts_display_outputs():
    # the counter itself, on a hand-made notebook: two images in two cells, one markdown display
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")])
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Image>"})
    md = nbformat.v4.new_output("display_data", data={"text/markdown": "**t**", "text/plain": "<Markdown>"})
    nb.cells[0].outputs = [png, md]
    nb.cells[1].outputs = [png]
    assert _images(nb) == 2


def _machine_paths() -> list[str]:
    import os

    paths = [str(ROOT), "/site-packages/"]  # the last: a warning or traceback naming an installed file
    if os.environ.get("NAS_CORE_DATA"):
        paths.append(str(Path(os.environ["NAS_CORE_DATA"]).resolve()))
    return paths


@pytest.mark.parametrize("profile_root", sorted(p for p in (ROOT / "outputs").glob("*") if p.is_dir()),
                         ids=lambda p: p.name)
def test_outputs_carry_no_absolute_path_of_this_machine(profile_root):
    bad = []
    for f in profile_root.rglob("*"):
        if f.suffix in (".md", ".json", ".csv", ".ipynb", ".svg") and f.is_file():
            text = f.read_text(errors="ignore")
            bad += [f"{f.relative_to(ROOT)}: {p}" for p in _machine_paths() if p in text]
    assert not bad, "absolute paths in committed outputs:\n" + "\n".join(bad[:10])


def test_readme_reproduction_block_is_generated_from_the_committed_quick_outputs():
    import subprocess
    import sys

    if not list((ROOT / "outputs" / "quick" / "tables").glob("*_reproduction.csv")):
        pytest.skip("no quick outputs with reproduction tables")
    rc = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_reproduction.py"), "--check"]).returncode
    assert rc == 0, "README's reproduction block is out of date: run python scripts/readme_reproduction.py"
