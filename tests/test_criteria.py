import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_core import criteria as C
from nas_core.errors import BadData, BadParameter


def _data(seed, m=400, ties=False):
    rng = np.random.default_rng(seed)
    true = rng.normal(size=m)
    pred = true + rng.normal(size=m)
    if ties:  # few distinct values in both vectors
        true, pred = np.round(true, 0), np.round(pred * 2, 0)
    return pred, true


def _brute_tau_a(x, y):
    n = len(x)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i in range(n) for j in range(i + 1, n))
    return s / (n * (n - 1) / 2)


# ---- against scipy ----------------------------------------------------------------------------

@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correlations_equal_scipy(seed, ties):
    pred, true = _data(seed, ties=ties)
    assert C.pearson(pred, true) == pytest.approx(stats.pearsonr(pred, true).statistic, abs=1e-12)
    assert C.kendall_tau_b(pred, true) == pytest.approx(stats.kendalltau(pred, true).statistic, abs=1e-12)
    assert C.spearman(pred, true) == pytest.approx(stats.spearmanr(pred, true).statistic, abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_tau_a_equals_brute_force(ties):
    pred, true = _data(3, m=60, ties=ties)
    assert C.kendall_tau_a(pred, true) == pytest.approx(_brute_tau_a(pred, true), abs=1e-12)
    if ties:  # tau-a ignores the tie correction, so it is smaller in magnitude than tau-b
        assert abs(C.kendall_tau_a(pred, true)) < abs(C.kendall_tau_b(pred, true))


def test_tau_a_and_b_hand_computed():
    # pairs of (pred, true): (0,1) tied in pred, (2,3) tied in true, the other 4 concordant:
    # tau-a = (4 - 0) / 6; tau-b = 4 / sqrt((6 - 1) * (6 - 1)) = 0.8
    pred, true = [1, 1, 2, 3], [1, 2, 3, 3]
    assert C.kendall_tau_a(pred, true) == pytest.approx(4 / 6)
    assert C.kendall_tau_b(pred, true) == pytest.approx(0.8)
    # one swapped pair out of 6: (5 - 1) / 6
    assert C.kendall_tau_a([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(2 / 3)


def test_sparse_tau_bins_the_truth():
    true = np.array([90.1, 90.3, 90.45, 80.0, 70.2])
    pred = np.array([1.0, 3.0, 2.0, 0.5, 0.0])
    # 1-point bins: the first three are one tie group in the truth -> only tie-free pairs count
    expected = stats.kendalltau(pred, [90, 90, 90, 80, 70]).statistic
    assert C.sparse_kendall_tau(pred, true) == pytest.approx(expected)
    assert C.sparse_kendall_tau(pred, true) != pytest.approx(C.kendall_tau_b(pred, true))
    # a bin of 0.01 leaves every value apart
    assert C.sparse_kendall_tau(pred, true, bin_width=0.01) == pytest.approx(C.kendall_tau_b(pred, true))
    with pytest.raises(BadParameter):
        C.sparse_kendall_tau(pred, true, bin_width=0)


# ---- K criteria by hand -----------------------------------------------------------------------

# true: arch i has true rank i + 1 (arch 0 best). pred values give the predicted order
# [1, 0, 3, 9, 8, 7, 6, 5, 4, 2] (best first); reversed: [2, 4, 5, 6, 7, 8, 9, 3, 0, 1].
TRUE10 = np.arange(10, 0, -1, dtype=float)
PRED10 = np.array([9, 10, 1, 8, 2, 3, 4, 5, 6, 7], dtype=float)


def test_p_at_top_and_bottom_by_hand():
    ks = [0.05, 0.2, 0.3, 0.5]
    # n = 0 (skipped -> NaN); n = 2: {1,0} vs {0,1} -> 1; n = 3: {1,0,3} vs {0,1,2} -> 2/3;
    # n = 5: {1,0,3,9,8} vs {0,1,2,3,4} -> {0,1,3} -> 3/5
    top = C.p_at_top(PRED10, TRUE10, ks)
    assert np.isnan(top[0])
    assert top[1:] == pytest.approx([1.0, 2 / 3, 0.6])
    # bottom n = 2: {2,4} vs {9,8} -> 0; n = 3: {2,4,5} vs {9,8,7} -> 0;
    # n = 5: {2,4,5,6,7} vs {9,8,7,6,5} -> {5,6,7} -> 3/5
    assert C.p_at_bottom(PRED10, TRUE10, ks)[1:] == pytest.approx([0.0, 0.0, 0.6])


def test_br_wr_by_hand():
    ks = [0.1, 0.3, 0.5]
    # n = 1: {1} -> true rank 2 -> 2/10 both; n = 3: {1,0,3} -> ranks {2,1,4}: best 1/10,
    # worst 4/10; n = 5: ranks {2,1,4,10,9}: best 1/10, worst 10/10
    assert C.br_at_k(PRED10, TRUE10, ks) == pytest.approx([0.2, 0.1, 0.1])
    assert C.wr_at_k(PRED10, TRUE10, ks) == pytest.approx([0.2, 0.4, 1.0])


def test_tau_inside_sets_by_hand():
    # predicted top 3 = archs [1, 0, 3]: pred (10, 9, 8), true (9, 10, 7): pair (1,0)
    # discordant, (1,3) and (0,3) concordant -> (2 - 1) / 3. n = 1 is too small -> NaN.
    vals = C.tau_in_top(PRED10, TRUE10, [0.1, 0.3])
    assert np.isnan(vals[0]) and vals[1] == pytest.approx(1 / 3)
    # predicted bottom 3 = archs [2, 4, 5]: pred (1, 2, 3), true (8, 6, 5): all discordant
    assert C.tau_in_bottom(PRED10, TRUE10, [0.3]) == pytest.approx([-1.0])
    # the whole set is the plain tau-b
    assert C.tau_in_top(PRED10, TRUE10, [1.0])[0] == pytest.approx(C.kendall_tau_b(PRED10, TRUE10))


def test_top_k_tie_break_is_lower_position_first():
    pred, true = [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]
    # predicted top 1 among three tied scores = position 0, whose true rank is 4 (the worst)
    assert C.br_at_k(pred, true, [0.25])[0] == pytest.approx(1.0)
    assert C.p_at_top(pred, true, [0.25])[0] == 0.0
    # predicted top 3 = positions {0,1,2} vs true top 3 {3,2,1} -> {1,2}
    assert C.p_at_top(pred, true, [0.75])[0] == pytest.approx(2 / 3)
    # bottom = last of the same order: position 3 alone, then position 2
    assert C.p_at_bottom(pred, true, [0.5])[0] == pytest.approx(0.0)  # {3,2} vs {0,1}


def test_k_sizes_round_before_floor_and_reject_bad_k():
    assert C.k_sizes([0.29, 0.001, 1.0], 100).tolist() == [29, 0, 100]
    for bad in ([0.0], [1.5], [-0.1]):
        with pytest.raises(BadParameter):
            C.k_sizes(bad, 100)


def test_compute_all_omits_k_too_small():
    pred, true = _data(4, m=30)
    table = C.compute_all(pred, true)
    p_ks = table.loc[table.criterion == "p_at_top", "k"].tolist()
    assert p_ks == [0.05, 0.1, 0.5, 1.0]  # 0.001, 0.005, 0.01 give floor(K*30) = 0
    tau_ks = table.loc[table.criterion == "tau_in_top", "k"].tolist()
    assert tau_ks == [0.1, 0.5, 1.0]  # 0.05 gives a single architecture
    assert table.loc[table.k.isna(), "criterion"].tolist() == list(C.PLAIN_CRITERIA)
    assert (table.n == 30).all() and (table.n_invalid == 0).all()


# ---- invalid scores, constant scores, bad truth -----------------------------------------------

def test_invalid_worst_ranks_nan_and_inf_last():
    pred = np.array([np.nan, 3.0, 2.0, np.inf, 1.0])
    true = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    table = C.compute_all(pred, true, p_ks=[0.2, 0.4], br_ks=[0.2])
    get = table.set_index(["criterion", "k"])["value"]
    assert (table.n_invalid == 2).all() and (table.invalid_policy == "worst").all()
    assert np.isnan(get[("pearson", np.nan)])
    # invalid -> -inf, tied with each other: same as scipy on that vector
    ref = stats.kendalltau([-np.inf, 3, 2, -np.inf, 1], true).statistic
    assert get[("kendall_tau_b", np.nan)] == pytest.approx(ref)
    # predicted top 1 = position 1 (score 3), true rank 2 -> BR = 2/5
    assert get[("br_at_k", 0.2)] == pytest.approx(0.4)
    # predicted bottom 2 = the two invalid ones, last-in-order first: {3, 0} vs true {4, 3}
    assert get[("p_at_bottom", 0.4)] == pytest.approx(0.5)


def test_invalid_drop_removes_rows_from_both():
    pred = np.array([np.nan, 3.0, 2.0, np.inf, 1.0])
    true = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    table = C.compute_all(pred, true, invalid="drop")
    assert (table.n == 3).all() and (table.n_invalid == 2).all()
    assert table.set_index("criterion").loc["pearson", "value"] == pytest.approx(
        stats.pearsonr([3, 2, 1], [4, 3, 1]).statistic)
    assert C.kendall_tau_b(pred, true, invalid="drop") == pytest.approx(1.0)
    with pytest.raises(BadParameter):
        C.kendall_tau_b(pred, true, invalid="ignore")


def test_constant_scores_nan_without_warnings():
    true = np.arange(10.0)
    pred = np.full(10, 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = C.compute_all(pred, true, p_ks=[0.2], br_ks=[0.2])
    get = table.set_index("criterion")["value"]
    for c in ("pearson", "kendall_tau_b", "kendall_tau_a", "spearman", "sparse_kendall_tau", "tau_in_top"):
        assert np.isnan(get[c]), c
    # top-K still defined by the tie-break: positions {0, 1}, true ranks 10 and 9
    assert get["p_at_top"] == 0.0
    assert get["br_at_k"] == pytest.approx(0.9)


def test_invalid_truth_is_an_error():
    with pytest.raises(BadData, match="ground truth has 1 NaN"):
        C.compute_all([1.0, 2.0, 3.0], [1.0, np.nan, 3.0])
    with pytest.raises(BadParameter, match="differ in length"):
        C.pearson([1.0, 2.0], [1.0, 2.0, 3.0])


# ---- relative criteria, RD, groups, seeds -----------------------------------------------------

def test_relative_criteria():
    rel = C.relative_criteria(PRED10, TRUE10, ks=[0.3]).set_index("criterion")["value"]
    assert rel["relative_tau"] == pytest.approx(C.kendall_tau_b(PRED10, TRUE10))
    assert rel["rel_p_at_top"] == pytest.approx(2 / 3)  # as P@top above
    same = C.relative_criteria(TRUE10, TRUE10).set_index("criterion")["value"]
    assert same["relative_tau"] == pytest.approx(1.0) and (same["rel_p_at_top"] == 1.0).all()
    # an invalid value in the "later" vector goes to its bottom under worst
    later = TRUE10.copy()
    later[0] = np.nan
    assert C.relative_criteria(TRUE10, later, ks=[0.1]).set_index("criterion")["value"]["rel_p_at_top"] == 0.0


def test_ranking_difference_and_groups():
    pred, true = [3.0, 1.0, 2.0], [1.0, 2.0, 3.0]
    # true ranks (1 = best) [3, 2, 1], estimated ranks [1, 3, 2] -> RD = [2, -1, -1]
    assert C.ranking_difference(pred, true, fraction=False).tolist() == [2, -1, -1]
    assert C.ranking_difference(pred, true) == pytest.approx([2 / 3, -1 / 3, -1 / 3])
    groups = C.group_criteria(pred, true, [0, 0, 1], fraction=False)
    assert groups["group"].tolist() == [0, 1] and groups["n"].tolist() == [2, 1]
    assert groups["mean_rd"].tolist() == pytest.approx([0.5, -1.0])
    # inside group 0: pred (3, 1) vs true (1, 2) -> discordant; group 1 has one arch -> NaN
    assert groups["kendall_tau_b"][0] == pytest.approx(-1.0) and np.isnan(groups["kendall_tau_b"][1])


def test_mean_over_seeds_keeps_nan_k():
    frame = pd.DataFrame({"estimator": ["a"] * 4, "criterion": ["tau"] * 2 + ["p"] * 2,
                          "k": [np.nan, np.nan, 0.1, 0.1], "seed": [0, 1, 0, 1],
                          "value": [0.2, 0.4, 1.0, np.nan]})
    out = C.mean_over_seeds(frame).set_index("criterion")
    assert out.loc["tau", "mean"] == pytest.approx(0.3) and out.loc["tau", "n"] == 2
    assert out.loc["tau", "std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert out.loc["p", "n"] == 1 and out.loc["p", "n_nan"] == 1 and out.loc["p", "max"] == 1.0
    with pytest.raises(BadParameter):
        C.mean_over_seeds(frame.drop(columns="seed"))


# ---- bootstrap --------------------------------------------------------------------------------

@pytest.mark.parametrize("ties,invalid", [(False, "worst"), (True, "worst"), (True, "drop")])
def test_weighted_resamples_equal_materialised_resamples(ties, invalid):
    """Each criterion computed from counts equals compute_all on the resample written out
    (sorted by original position, so ties and copies break the same way)."""
    pred, true = _data(5, m=150, ties=ties)
    pred[[3, 40, 77]] = [np.nan, np.inf, np.nan]
    pair = C._Pair(*C.prepare(pred, true, invalid)[:2])
    boot = C._Bootstrap(pair, C.DEFAULT_P_KS, C.DEFAULT_BR_KS, 1.0, C.CRITERIA)
    rng = np.random.default_rng(0)
    draws = np.sort(rng.integers(0, pair.m, size=(4, pair.m)), axis=1)
    counts = np.stack([np.bincount(d, minlength=pair.m) for d in draws], axis=1).astype(np.int32)
    values = boot.values(counts)
    for b, d in enumerate(draws):
        expected = C.compute_all(pair.pred[d], pair.true[d])
        got = C._rows({c: (v[b] if isinstance(v, np.ndarray) else [x[b] for x in v]) for c, v in values.items()},
                      C.DEFAULT_P_KS, C.DEFAULT_BR_KS, C.CRITERIA)
        got = [r for r in got if C._valid_k_mask(r[0], r[1], pair.m)]
        assert [r[0] for r in got] == expected.criterion.tolist()
        np.testing.assert_array_equal([r[1] for r in got], expected.k)
        assert [r[2] for r in got] == pytest.approx(expected.value.tolist(), abs=1e-9, nan_ok=True)


def test_bootstrap_ci_contains_estimate_and_narrows_with_m():
    widths = []
    for m in (200, 2000):
        pred, true = _data(6, m=m)
        point = C.compute_all(pred, true, p_ks=[0.1, 0.5], br_ks=[0.1])
        ci = C.bootstrap_ci(pred, true, n_boot=200, seed=1, p_ks=[0.1, 0.5], br_ks=[0.1])
        assert ci.criterion.tolist() == point.criterion.tolist()
        np.testing.assert_array_equal(ci.k, point.k)
        for crit in ("kendall_tau_b", "spearman", "pearson", "p_at_top", "tau_in_top"):
            sel = (point.criterion == crit).to_numpy()
            assert (ci.ci_low[sel] <= point.value[sel]).all() and (point.value[sel] <= ci.ci_high[sel]).all(), crit
        tau = ci[ci.criterion == "kendall_tau_b"].iloc[0]
        widths.append(tau.ci_high - tau.ci_low)
    assert widths[1] < widths[0] * 0.6  # ~ 1/sqrt(10) in theory


def test_bootstrap_is_seeded():
    pred, true = _data(7, m=300)
    a = C.bootstrap_ci(pred, true, n_boot=50, seed=3, criteria=["kendall_tau_b", "p_at_top"])
    b = C.bootstrap_ci(pred, true, n_boot=50, seed=3, criteria=["kendall_tau_b", "p_at_top"])
    c = C.bootstrap_ci(pred, true, n_boot=50, seed=4, criteria=["kendall_tau_b", "p_at_top"])
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.ci_low, c.ci_low)
    with pytest.raises(BadParameter):
        C.bootstrap_ci(pred, true, n_boot=10, level=95)
    with pytest.raises(BadParameter):
        C.compute_all(pred, true, criteria=["kendall"])


def test_a_registered_criterion_gets_the_generic_bootstrap():
    """One function is enough: scipy's Kendall tau registered as a new criterion gives the
    built-in tau's point value and, drawn on the same resamples, the same bootstrap values."""
    from scipy import stats

    rng = np.random.default_rng(3)
    true = rng.normal(size=60)
    pred = true + rng.normal(size=60)
    pred[:4] = np.round(pred[:4])  # a few ties
    C.register_criterion("scipy_tau_b", lambda p, t: stats.kendalltau(p, t).statistic)
    try:
        table = C.compute_all(pred, true, criteria=["kendall_tau_b", "scipy_tau_b"]).set_index("criterion")
        assert table.loc["scipy_tau_b", "value"] == pytest.approx(table.loc["kendall_tau_b", "value"], abs=1e-12)
        boot = C.bootstrap_values(pred, true, n_boot=64, seed=5, criteria=["kendall_tau_b", "scipy_tau_b"],
                                  n_threads=1)
        np.testing.assert_allclose(boot["scipy_tau_b"], boot["kendall_tau_b"], atol=1e-12)
        ci = C.bootstrap_ci(pred, true, n_boot=64, seed=5, criteria=["scipy_tau_b"])
        assert ci["ci_low"].iloc[0] < table.loc["scipy_tau_b", "value"] < ci["ci_high"].iloc[0]
        with pytest.raises(BadParameter, match="built-in"):
            C.register_criterion("spearman", lambda p, t: 0.0)
    finally:
        C.EXTRA_CRITERIA.pop("scipy_tau_b", None)
