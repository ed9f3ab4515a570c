"""Report: every table / figure is written atomically with the configuration that made it."""
import json

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nas_core.config import outputs_dir  # noqa: E402
from nas_core.reporting import Report, markdown_table, write_index  # noqa: E402


def test_markdown_table_formats_floats_and_escapes_pipes():
    frame = pd.DataFrame({"arch": ["|a~0|"], "tau": [0.123456789], "n": [3], "bad": [float("nan")]})
    text = markdown_table(frame, digits=3)
    assert text.splitlines()[0] == "| arch | tau | n | bad |"
    assert "\\|a~0\\|" in text and "| 0.123 |" in text and text.splitlines()[2].endswith("|  |")


def test_report_writes_table_figure_sidecars_and_index(tmp_path):
    rep = Report("smoke", "rq1", config={"profile": "smoke", "benchmark": "nb201", "eval_archs": "sample:50"},
                 out_root=tmp_path)
    rep.table("demo", pd.DataFrame({"a": [1, 2]}), "A demo table")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    rep.figure("demo_plot", fig, "A demo figure")
    written = rep.done()
    assert [p.name for p in written] == ["rq1_demo.csv", "rq1_demo_plot.png"]
    assert pd.read_csv(tmp_path / "tables" / "rq1_demo.csv")["a"].tolist() == [1, 2]
    meta = json.loads((tmp_path / "tables" / "rq1_demo.csv.meta.json").read_text())
    assert meta["eval_archs"] == "sample:50" and meta["caption"] == "A demo table" and "torch" in meta["versions"]
    assert (tmp_path / "figures" / "rq1_demo_plot.svg").stat().st_size > 0
    assert json.loads((tmp_path / "figures" / "rq1_demo_plot.png.meta.json").read_text())["kind"] == "figure"
    assert not list(tmp_path.rglob("tmp*"))  # no temporary file left behind
    index = write_index("smoke", out_root=tmp_path).read_text()
    assert "[rq1_demo](tables/rq1_demo.csv)" in index and "A demo figure" in index


def test_mini_benchmark_outputs_never_overwrite_the_study_outputs():
    assert outputs_dir("smoke").name == "smoke"
    assert outputs_dir("smoke", "mini").name == "smoke-mini"
