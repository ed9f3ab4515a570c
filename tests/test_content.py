"""The content a reader sees: figures that draw what their tables say, sentences that follow
their numbers, definitions that agree across code, docs and notebooks, outputs keyed by what
changes them. Each test compares against an independent reference (the frame itself, a
hand-written brute force, the formula as written in the issue)."""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from nas_core.analyses import narrative, plots, reproduction  # noqa: E402
from nas_core.analyses.effects import Effect  # noqa: E402
from nas_core.analyses.search import incumbent_curve, run_searches, search_trajectories  # noqa: E402
from nas_core.config import outputs_dir  # noqa: E402
from nas_core.reporting import Report  # noqa: E402
from nas_core.space import nb201  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _variants_frame():
    """Criteria along training of two variants, OS acc and OS loss with different values."""
    rows = []
    values = {("iso", "os_acc"): [0.1, 0.2, 0.3], ("iso", "os_loss"): [0.4, 0.5, 0.6],
              ("fair", "os_acc"): [0.0, 0.05, 0.1], ("fair", "os_loss"): [0.7, 0.75, 0.8]}
    for (variant, est), vals in values.items():
        for epoch, v in zip((5, 10, 15), vals):
            rows.append({"variant": variant, "estimator": est, "criterion": "kendall_tau_b", "k": np.nan,
                         "value": v, "epoch": epoch, "n": 50})
    return pd.DataFrame(rows), values


def test_variant_plot_draws_os_acc_and_os_loss_apart_without_a_band():
    frame, values = _variants_frame()
    fig = plots.variants_along_training(frame, "variant")
    axes = [ax for ax in fig.axes if ax.get_lines()]
    titles = [ax.get_title() for ax in axes]
    assert len(axes) == 2 and "OS acc" in titles[0] and "OS loss" in titles[1]
    for ax, est in zip(axes, ("os_acc", "os_loss")):
        # no seaborn confidence band: there is one run per variant, nothing to draw an interval of
        assert not any(isinstance(c, PolyCollection) for c in ax.collections)
        drawn = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines() if not line.get_label().startswith("_")}
        assert drawn == {v: values[(v, est)] for v in ("iso", "fair")}  # each line is its own estimator, not a mean
        assert len(drawn) <= plots.MAX_LINES
        colours = [line.get_color() for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert len(set(colours)) == len(colours)


def test_variant_plot_with_many_lines_becomes_a_heatmap():
    rows = [{"estimator": f"proxy{i}", "criterion": "kendall_tau_b", "k": np.nan, "value": i / 10, "epoch": e}
            for i in range(9) for e in (0, 5)]
    fig = plots.variants_along_training(pd.DataFrame(rows), "estimator")
    assert all(len(ax.get_lines()) <= plots.MAX_LINES for ax in fig.axes)
    assert any(ax.collections for ax in fig.axes)  # the heatmap's mesh


def test_variant_summary_names_os_acc_and_os_loss_with_their_numbers():
    frame, values = _variants_frame()
    text = narrative.variant_summary(frame, "sampling strategy")
    for variant in ("iso", "fair"):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"- **{variant}**"))
        assert f"OS acc τ = {values[(variant, 'os_acc')][-1]:.3f}" in line
        assert f"OS loss τ = {values[(variant, 'os_loss')][-1]:.3f}" in line
        assert "epoch 15" in line
    assert "n = 50" in text
    # each variant once: no unlabelled duplicate lines
    assert sum(ln.startswith("- **iso**") for ln in text.splitlines()) == 1


def _evidence(delta, low, high):
    frame = pd.DataFrame([{"item": "batches_gain", "value": delta, "low": low, "high": high, "n": 300,
                           "evidence": "τ all batches − one batch", "withheld": ""}])
    frame.attrs["best_zse"] = None
    return frame


@pytest.mark.parametrize("delta,low,high,must,must_not", [
    (-0.05, -0.08, -0.02, "not automatically better", "break ties"),
    (0.05, 0.02, 0.08, "break ties", "not automatically better"),
    (0.01, -0.02, 0.04, "No difference is detectable", "break ties"),
])
def test_validation_batches_guideline_follows_the_sign(delta, low, high, must, must_not):
    text = narrative.guidelines(_evidence(delta, low, high), pd.DataFrame())
    assert must in text and must_not not in text
    if delta < 0:
        assert "epoch 200" in text  # the study's own reversal early in training


@pytest.mark.parametrize("item,must,must_not", [
    ("batches_gain", "This profile cannot tell", "No difference is detectable"),
    ("complexity_slope", "cannot be read for a complexity bias", "no detectable complexity bias"),
])
def test_a_withheld_effect_is_never_worded_as_no_difference(item, must, must_not):
    """An interval that excludes 0 but is withheld (one-shot estimator not informative) has
    direction 0; the guideline must say the profile cannot tell, not that there is no effect."""
    frame = _evidence(-0.17, -0.22, -0.13).assign(item=item, withheld="the 2 supernet seeds agree only at τ = 0.10")
    text = narrative.guidelines(frame, pd.DataFrame())
    assert must in text and must_not not in text and "agree only at τ = 0.10" in text


def test_rq1_batches_sentence_follows_the_sign():
    neg = Effect(-0.05, -0.08, -0.02, n=300)
    crit = pd.DataFrame([{"estimator": "os_acc", "criterion": "kendall_tau_b", "k": np.nan, "value": 0.1}])
    text = narrative.rq1_conclusions(crit, crit, crit, pd.DataFrame(), neg, {})
    assert "ranks worse" in text and "break ties" not in text


def test_forgetting_value_definition_agrees_in_code_docs_and_notebook():
    # FV = accuracy after the other archs' steps − accuracy right after its own step
    from nas_core.engines import supernet_diagnostics

    doc = supernet_diagnostics.__doc__
    assert "held-out accuracy after all\nthose steps - held-out accuracy right after a's own step" in doc
    docs = (ROOT / "docs" / "supernet.md").read_text()
    assert "FV = accuracy after the\nother archs' steps − accuracy right after its own step" in docs
    book = (ROOT / "notebooks" / "src" / "rq2_bias_variance.py").read_text()
    assert "FV = held-out accuracy after the other\n# architectures' steps − held-out accuracy right after its own step" in book
    text = narrative.variance_summary({"forgetting": pd.DataFrame({"forgetting": [-1.0, -2.0, -3.0]})}, {})
    assert "accuracy after the other architectures' steps − accuracy right after its own step" in text
    assert "erase" in text  # mean −2, clearly below 0: forgetting


def test_rq4_notebook_states_the_n_it_uses():
    book = (ROOT / "notebooks" / "src" / "rq4_data.py").read_text()
    assert "study.banner(n=" in book and "rq4_indices" in book
    for name in ("zse_on_trained_supernet", "zse_input_modes", "zse_batching"):
        assert re.search(rf'report\.figure\("{name}".*n=n4\)', book), name


def _chain(n=40, seed=3):
    rng = np.random.default_rng(seed)
    ops, seen = [int(v) for v in rng.integers(1, 5, 6)], {}
    while len(seen) < n:
        seen.setdefault(nb201.to_kit_id(ops), nb201.format_arch(ops))
        ops[rng.integers(6)] = int(rng.integers(5))
    return list(seen.values())


def test_incumbent_curve_matches_brute_force():
    score = np.array([0.3, 0.9, 0.1, 0.95, 0.5])
    truth = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    queried = np.array([2, 0, 1, 4, 3])
    expected = [truth[queried[:i + 1][np.argmax(score[queried[:i + 1]])]] for i in range(len(queried))]
    assert incumbent_curve(score, truth, queried).tolist() == expected


def test_trajectories_end_where_the_searches_end():
    strs = _chain()
    rng = np.random.default_rng(4)
    truth = rng.normal(90, 2, len(strs))
    wide = pd.DataFrame({"index": np.arange(len(strs)), "noisy": truth + rng.normal(0, 2, len(strs)), "truth": truth})
    runs = run_searches(wide, strs, budgets=(15,), n_seeds=3)
    traj = search_trajectories(wide, strs, budget=15, n_seeds=3)
    last = traj[traj["query"] == 15].set_index(["estimator", "method", "seed"])["incumbent_true_acc"]
    for r in runs[runs["method"] != "top1"].itertuples():
        assert last[(r.estimator, r.method, r.seed)] == pytest.approx(r.true_acc)
    # best-so-far never falls for the truth-driven search
    for _, g in traj[traj["estimator"] == "truth"].groupby(["method", "seed"]):
        assert (np.diff(g.sort_values("query")["incumbent_true_acc"]) >= 0).all()


def test_search_text_says_the_oracle_is_the_sample_best_and_budget_can_be_the_whole_sample():
    summary = pd.DataFrame([
        {"estimator": "truth", "method": "random", "budget": 50, "true_acc_mean": 94.0, "true_acc_std": 0.0,
         "regret_mean": 0.0, "n": 10},
        {"estimator": "synflow", "method": "random", "budget": 50, "true_acc_mean": 93.0, "true_acc_std": 0.4,
         "regret_mean": 1.0, "n": 10}])
    text = narrative.search_summary(summary, n_candidates=50)
    assert "the sample's best" in text and "whole sample" in text and "93.00 ± 0.40 %" in text
    fig = plots.search_results(summary, n_candidates=50)
    ax = fig.axes[0]
    assert "whole sample" in ax.get_title()
    assert ax.containers and any(c.has_xerr for c in ax.containers if hasattr(c, "has_xerr"))


def test_outputs_are_keyed_by_benchmark_and_non_default_truth():
    assert outputs_dir("quick").name == "quick"
    assert outputs_dir("quick", "mini").name == "quick-mini"
    assert outputs_dir("quick", "nb201", "cifar10valid_valid_acc_12ep").name == "quick-cifar10valid_valid_acc_12ep"
    assert outputs_dir("quick", "mini", "fmnist_test_acc_seed1").name == "quick-mini-fmnist_test_acc_seed1"


def test_study_data_description_has_no_absolute_path(tmp_path):
    from nas_core.engines.study import Study

    from nas_core import benchmarks

    study = Study.__new__(Study)
    study.benchmark, study.data_root = "nb201", tmp_path / "nasdata"
    study.bench = benchmarks.get("nb201")
    text = study.data_description()
    assert "nasdata" in text and str(tmp_path) not in text and "/" not in text


def test_figure_footer_names_benchmark_truth_profile_and_n(tmp_path):
    import matplotlib.pyplot as plt

    report = Report("smoke", "rqx", config={"benchmark": "nb201", "ground_truth": "cifar10_test_acc_200ep",
                                            "n_eval_archs": 50}, out_root=tmp_path, inline=False)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    texts = []
    orig = fig.text
    fig.text = lambda *a, **k: texts.append(a[2]) or orig(*a, **k)
    report.figure("f", fig, "c", n=20)
    assert texts == ["nb201 · ground truth cifar10_test_acc_200ep · profile smoke · n = 20 architectures"]
    assert (tmp_path / "figures" / "rqx_f.png").is_file()


def test_estimator_colours_are_distinct_and_by_family():
    names = ["os_acc", "os_loss", "params", "flops", "synflow", "jacob_cov", "snip", "vote"]
    colours = plots.estimator_colours(names)
    assert len(set(colours.values())) == len(names)
    assert colours["os_acc"] in plots.ONE_SHOT_COLOURS and colours["params"] in plots.BASELINE_COLOURS
    assert colours["synflow"] in plots.ZERO_SHOT_COLOURS


def test_reproduction_context_marks_one_shot_rows_not_comparable():
    pub = reproduction.load_published("rq1")
    row = pub.set_index("id").loc["all_val_batches"].to_dict()
    zs_row = pub.set_index("id").loc["nb201_params_tau"].to_dict()
    ctx = reproduction.profile_context("quick", "nb201", 300)
    verdict, reason = reproduction.judge(row, None, ctx)
    assert verdict == reproduction.NOT_COMPARABLE and "supernet epochs 20" in reason
    # the one-shot verdict is part of the context: even with the study's epochs, a non-informative
    # one-shot estimator makes its rows not comparable, and says why
    ctx = {**ctx, "supernet_epochs": 1000}
    ctx_bad = reproduction.profile_context("quick", "nb201", 300, oneshot={"informative": False, "reason": "seeds disagree"})
    ctx_bad["supernet_epochs"] = 1000
    verdict, reason = reproduction.judge(row, reproduction.KitValue(1.0), ctx_bad)
    assert verdict == reproduction.NOT_COMPARABLE and "seeds disagree" in reason
    # zero-shot rows do not depend on the supernet
    kit = reproduction.KitValue(0.6, 0.55, 0.65, n=300)
    assert reproduction.judge(zs_row, kit, ctx_bad)[0] == reproduction.REPRODUCED


def test_every_rq_notebook_sets_the_study_beside_the_kit():
    for book in sorted((ROOT / "notebooks" / "src").glob("rq[1-4]_*.py")):
        src = book.read_text()
        assert "report.reproduction(" in src and "profile_context(" in src and "oneshot=verdict" in src, book.name
        assert "## Change this and rerun" in src, book.name
    assert "report.leaderboard(" in (ROOT / "notebooks" / "src" / "rq1_ranking.py").read_text()
