"""Report: every table / figure is written atomically with the configuration that made it."""
import json

import matplotlib
import pandas as pd
import pytest

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


def test_compact_table_pivots_drops_constants_rounds_and_truncates():
    from nas_core.reporting import compact_table

    rows = []
    for epoch in (5, 10):
        for est, tau in (("os_acc", 0.1 * epoch / 10), ("flops", 0.5)):
            rows += [(est, "kendall_tau_b", float("nan"), tau, 300, "worst", epoch),
                     (est, "spearman", float("nan"), tau + 0.123456, 300, "worst", epoch),
                     (est, "p_at_top", 0.05, 0.25, 300, "worst", epoch),
                     (est, "p_at_top", 0.1, 0.99, 300, "worst", epoch)]  # not a key criterion: left out
    tidy = pd.DataFrame(rows, columns=["estimator", "criterion", "k", "value", "n", "invalid_policy", "epoch"])
    view, notes = compact_table(tidy)
    # one row per estimator at the last epoch, best tau first, human names, 3 decimals
    assert list(view.columns) == ["estimator", "τ-b", "ρ"]  # P@top 5 % is 0.25 everywhere: a constant, named in notes
    assert view.values.tolist() == [["#FLOPs", "0.500", "0.623"], ["OS acc", "0.100", "0.223"]]
    assert "P@top 5 % = 0.250" in notes and "n = 300" in notes
    assert any("last epoch (10" in n for n in notes)
    long = pd.DataFrame({"step": range(30), "value": [1234.5678] * 29 + [0.00012]})
    view, notes = compact_table(long, max_rows=5)
    assert len(view) == 5 and view["value"].tolist()[0] == "1,235" and "first 5 of 30 rows" in notes


def test_leaderboard_row_equals_scipy_and_hand_counts():
    import numpy as np
    from scipy import stats

    from nas_core.engines.evaluate import evaluate
    from nas_core.reporting import leaderboard, leaderboard_view

    rng = np.random.default_rng(1)
    truth = pd.Series(rng.normal(size=40), index=range(100, 140))
    score = truth.to_numpy() + rng.normal(size=40)
    crit = evaluate(pd.DataFrame({"index": truth.index, "mine": score, "noise": rng.normal(size=40)}), truth,
                    bootstrap=30)
    board = leaderboard(crit, seconds={"mine": 0.25})
    row = board.set_index("estimator").loc["mine"]
    assert row["τ-b"] == pytest.approx(stats.kendalltau(score, truth).statistic, abs=1e-12)
    assert row["ρ"] == pytest.approx(stats.spearmanr(score, truth).statistic, abs=1e-12)
    # P@top 10 %: 4 archs; share of the true best 4 among the predicted best 4
    top_pred, top_true = set(np.argsort(-score)[:4]), set(np.argsort(-truth.to_numpy())[:4])
    assert row["P@top 10 %"] == pytest.approx(len(top_pred & top_true) / 4)
    assert row["τ-b CI low"] <= row["τ-b"] <= row["τ-b CI high"] and row["n"] == 40 and row["s / arch"] == 0.25
    assert np.isnan(board.set_index("estimator").loc["noise", "s / arch"])
    assert board["τ-b"].is_monotonic_decreasing
    view = leaderboard_view(board)
    assert view.loc[view["estimator"] == "mine", "τ-b [95 % CI]"].item().startswith(f"{row['τ-b']:.3f} [")


def test_reproduction_table_goes_to_the_index(tmp_path):
    import numpy as np

    from nas_core.analyses.reproduction import profile_context

    rep = Report("quick", "rq1", config={"profile": "quick", "benchmark": "nb201"}, out_root=tmp_path, inline=False)
    crit = pd.DataFrame({"estimator": ["params", "jacob_cov", "synflow", "plain"], "criterion": "kendall_tau_b",
                         "k": np.nan, "value": [0.59, 0.30, 0.55, -0.4], "ci_low": [0.54, 0.25, 0.5, -0.45],
                         "ci_high": [0.64, 0.35, 0.6, -0.35], "n": 300})
    rep.reproduction({"rq1_zse_criteria": crit}, profile_context("quick", "nb201", 300))
    table = pd.read_csv(tmp_path / "tables" / "rq1_reproduction.csv")
    verdicts = table.set_index("id")["verdict"]
    assert verdicts["nb201_params_tau"] == "reproduced" and verdicts["nb201_jacob_cov_tau"] == "differs"
    assert verdicts["nb201_plain_worst"] == "reproduced"
    assert "supernet epochs 20, the study 1000" in table.set_index("id").loc["nb201_ose_shape", "reason"]
    index = write_index("quick", out_root=tmp_path).read_text()
    assert "## What reproduces, what does not yet (profile `quick`)" in index and "jacob_cov" in index


def test_cross_benchmark_summary_reads_each_leaderboard_and_its_own_published_rows(tmp_path, monkeypatch):
    """Two made-up benchmarks' RQ1 tables: one summary row each (tau and P@top 5 % as the
    leaderboard has them, the best zero-shot estimators by tau, one-shot rows excluded), a
    benchmark without outputs says so, and only each benchmark's own published rows appear."""
    from nas_core import reporting

    monkeypatch.setattr(reporting, "outputs_dir", lambda profile, name: tmp_path / f"{profile}-{name}")
    for name, taus in {"b1": (0.3, 0.6, 0.5, 0.1), "b2": (0.2, 0.4, 0.7, -0.2)}.items():
        tables = tmp_path / f"quick-{name}" / "tables"
        tables.mkdir(parents=True)
        pd.DataFrame({"estimator": ["os_acc", "params", "synflow", "plain", "os_acc_ensemble"],
                      "τ-b": [*taus, 0.99], "P@top 5 %": [0.1, 0.2, 0.3, 0.0, 1.0], "n": [20, 20, 20, 20, 20]}
                     ).to_csv(tables / "rq1_leaderboard.csv", index=False)
        pd.DataFrame({"benchmark": [name, "other"], "setting": ["s", "s2"], "criterion": ["Kendall τ"] * 2,
                      "published": ["0.5", "0.1"], "kit": ["0.4", ""], "verdict": ["reproduced", "not comparable"],
                      "reason": ["r", "r2"]}).to_csv(tables / "rq1_reproduction.csv", index=False)
    md = reporting.write_cross_benchmark_summary("quick", ["b1", "b2", "b3"])
    frame = pd.read_csv(md.with_suffix(".csv")).set_index("benchmark")
    assert frame.loc["b1", "os_acc τ-b"] == 0.3 and frame.loc["b2", "params P@top 5 %"] == 0.2
    assert frame.loc["b1", "best zero-shot (τ-b)"] == "synflow 0.50, plain 0.10"
    assert frame.loc["b2", "best zero-shot (τ-b)"] == "synflow 0.70, plain -0.20"
    assert "no RQ1 leaderboard" in frame.loc["b3", "note"]
    text = md.read_text()
    assert text.count("| reproduced |") == 2 and "not comparable" not in text


def test_notebook_kernels_import_this_checkout(tmp_path, monkeypatch):
    """`nas-core run` puts its own checkout first on the kernels' PYTHONPATH, so a notebook uses
    the run's code, cache and outputs even when the environment holds an editable install of
    another checkout (a shared virtualenv); the data root reaches the kernel the same way."""
    import os

    import papermill

    from nas_core.cli import run as run_cli
    from nas_core.config import REPO_ROOT

    seen = {}
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: seen.update(
        path=os.environ["PYTHONPATH"], data=os.environ.get("NAS_CORE_DATA"), params=k["parameters"]))
    monkeypatch.setattr(run_cli, "_relative_papermill_paths", lambda path: None)
    run_cli.execute_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb", "smoke", "cpu", tmp_path, "nb301")
    assert seen["path"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]
    assert seen["data"] == str(tmp_path) and seen["params"]["benchmark"] == "nb301"
