"""Key numbers of the smoke study, read from the files the notebooks write.

run_tests.sh runs these AFTER nbval has re-executed every notebook (marker `outputs`), so a
regression in a number fails CI. Analytic baselines are checked against scipy on the
benchmark's own columns; trained / random-init estimators against pinned values.
"""
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "outputs" / "smoke"
EXPECTED = json.loads((Path(__file__).parent / "expected_smoke.json").read_text())
pytestmark = [pytest.mark.outputs,
              pytest.mark.skipif(not os.environ.get("NAS_CORE_DATA"), reason="needs NAS_CORE_DATA (NB201 study outputs)"),
              pytest.mark.skipif(not (OUT / "tables").is_dir(), reason="outputs/smoke not written yet (run nbval)")]


def _table(name):
    meta = json.loads((OUT / "tables" / f"{name}.csv.meta.json").read_text())
    assert meta["profile"] == "smoke" and meta["benchmark"] == "nb201"
    return pd.read_csv(OUT / "tables" / f"{name}.csv"), meta


@pytest.fixture(scope="module")
def truth():
    from nas_core.data.groundtruth import load_ground_truth

    return load_ground_truth("nb201")


@pytest.fixture(scope="module")
def class_mean(truth):
    """The study's ground truth of an architecture: the mean over its isomorphism class, the
    classes recomputed here from the canonical strings (independently of the kit's table)."""
    from nas_core.space import nb201

    canon = [nb201.canonical_string(nb201.parse(s)) for s in truth["arch_str"]]
    means = truth.groupby(pd.Series(canon, index=truth.index))["cifar10_test_acc_200ep"].transform("mean")
    return pd.Series(means.to_numpy(), index=truth["index"].to_numpy())


def _taus(frame):
    rows = frame[(frame["criterion"] == "kendall_tau_b") & frame["k"].isna()]
    return rows.set_index("estimator")["value"]


def test_complexity_baselines_equal_scipy_on_the_benchmarks_own_columns(truth, class_mean):
    from nas_core.space.selection import select_archs

    frame, meta = _table("rq1_zse_criteria")
    chosen = truth.set_index("index").loc[select_archs(meta["eval_archs"], truth, seed=0)]
    assert len(chosen) == meta["n_eval_archs"]
    taus = _taus(frame)
    ref = class_mean.reindex(chosen.index).to_numpy()
    assert taus["params"] == pytest.approx(stats.kendalltau(chosen["params_M_cifar10"], ref).statistic, abs=1e-9)
    assert taus["flops"] == pytest.approx(stats.kendalltau(chosen["flops_M_cifar10"], ref).statistic, abs=1e-9)


def test_estimator_taus_match_the_pinned_values():
    spec = EXPECTED["nb201"]
    frame, _ = _table("rq1_all_estimators_criteria")
    taus = _taus(frame)
    for name, value in spec["kendall_tau_b"].items():
        tol = spec["tolerance_one_shot"] if name.startswith("os_") else spec["tolerance_zero_shot"]
        assert taus[name] == pytest.approx(value, abs=tol), name
    # every criterion is present for every estimator, with bootstrap intervals around the value
    assert frame.groupby("estimator")["criterion"].nunique().min() == frame["criterion"].nunique()
    tau_rows = frame[(frame["criterion"] == "kendall_tau_b") & frame["k"].isna()]
    tau_rows = tau_rows.dropna(subset=["value"])  # a constant estimator (te_nas_lr) has no tau, no interval
    assert ((tau_rows["ci_low"] <= tau_rows["value"]) & (tau_rows["value"] <= tau_rows["ci_high"])).all()


def test_cross_dataset_agreement_is_the_benchmarks(truth):
    frame, _ = _table("rq5_cross_dataset_kendall_matrix")
    m = frame.set_index("dataset")
    ref = stats.kendalltau(truth["cifar10_test_acc_200ep"], truth["cifar100_test_acc_200ep"]).statistic
    assert m.loc["CIFAR-10", "CIFAR-100"] == pytest.approx(ref, abs=1e-9)
    low, _ = _table("rq5_low_fidelity_12_epochs")
    ref12 = stats.kendalltau(truth["cifar10valid_valid_acc_12ep"], truth["cifar10_test_acc_200ep"]).statistic
    assert low["kendall_tau_b"].item() == pytest.approx(ref12, abs=1e-9)


def test_search_regret_is_consistent_with_the_ground_truth(class_mean):
    runs, _ = _table("rq5_search_runs")
    acc = class_mean
    assert np.allclose(runs["true_acc"], acc.loc[runs["found_index"]].to_numpy())
    oracle = runs[(runs["estimator"] == "truth") & (runs["method"] == "top1")]
    assert oracle["regret"].item() == 0


def test_every_indexed_artefact_exists():
    index = (OUT / "README.md").read_text()
    for line in index.splitlines():
        if line.startswith("- table ") or line.startswith("- figure "):
            target = line.split("](", 1)[1].split(")", 1)[0]
            assert (OUT / target).is_file(), target
    assert len(list((OUT / "figures").glob("*.png"))) >= 20


QUICK = ROOT / "outputs" / "quick"
EXPECTED_QUICK = json.loads((Path(__file__).parent / "expected_quick.json").read_text())


@pytest.mark.skipif(not (QUICK / "tables").is_dir(), reason="outputs/quick not committed")
def test_committed_quick_numbers_survive_the_refactors():
    """The committed NB201 quick outputs (regenerated after the benchmark seam, the cache
    re-keying and the Dask executor) carry the pinned numbers of the run before them, exactly."""
    zs = pd.read_csv(QUICK / "tables" / "rq1_zse_criteria.csv")
    allc = pd.read_csv(QUICK / "tables" / "rq1_all_estimators_criteria.csv")
    got = _taus(zs)
    for name, value in EXPECTED_QUICK["kendall_tau_b"].items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
    got = _taus(allc)
    for name, value in EXPECTED_QUICK["kendall_tau_b_one_shot"].items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
