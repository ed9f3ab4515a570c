"""The notebooks: in sync with their jupytext percent sources, output-free, with a papermill-readable
parameters cell that every notebook shares."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOKS = sorted((ROOT / "notebooks").glob("rq*.ipynb"))
ALL_BOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))  # the RQs and the tutorial
PARAMETERS = {"profile": "smoke", "data_root": "", "benchmark": "auto", "device": "auto", "truth_column": ""}


def test_one_notebook_per_research_question():
    assert [b.name.split("_")[0] for b in BOOKS] == ["rq1", "rq2", "rq3", "rq4", "rq5"]


def test_notebooks_match_their_sources_and_carry_no_outputs():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_notebooks.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    for book in ALL_BOOKS:
        nb = nbformat.read(book, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("book", ALL_BOOKS, ids=lambda b: b.stem)
def test_papermill_reads_every_parameter(book):
    papermill = pytest.importorskip("papermill")
    found = {name: spec["default"].strip("'\"") for name, spec in papermill.inspect_notebook(str(book)).items()}
    # the RQ notebooks take a benchmark; the tutorial runs on the default one
    expected = PARAMETERS if book.stem.startswith("rq") else {k: v for k, v in PARAMETERS.items() if k != "benchmark"}
    assert found == expected
