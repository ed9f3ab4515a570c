"""Graph-feature baselines (op counts, trainable depth, a held-out ridge model) and the partial
rank correlation of a proxy with the truth given #params and op counts, each against an
independent computation (hand-worked counts, scipy, the closed-form first-order formula)."""
import numpy as np
import pandas as pd
import pytest
from scipy import linalg, stats

from nas_core.analyses.graph_baseline import ridge_baseline, split_architectures
from nas_core.analyses.partial_rank import partial_rank_effect, partial_rank_table
from nas_core.errors import BadParameter
from nas_core.space import nb201
from nas_core.space.features import GRAPH_FEATURES, graph_features


def test_graph_features_by_hand():
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|")
    row = graph_features([arch]).iloc[0]
    assert list(row.index) == list(GRAPH_FEATURES)
    # edges: 3x3, 1x1, skip, none, 3x3, pool; paths 0->1->3 has conv3 + conv3 = 2 convs
    assert row.to_dict() == {"n_nor_conv_3x3": 2, "n_nor_conv_1x1": 1, "n_skip_connect": 1, "n_avg_pool_3x3": 1,
                             "n_none": 1, "conv_depth": 2}
    no_path = nb201.parse("|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    assert graph_features([no_path]).iloc[0]["conv_depth"] == -1


def synthetic(m=60, seed=0):
    rng = np.random.default_rng(seed)
    feats = pd.DataFrame(rng.integers(0, 4, size=(m, 3)).astype(float), columns=["a", "b", "c"],
                         index=pd.Index(np.arange(100, 100 + m), name="arch"))
    truth = pd.Series(2.0 * feats["a"] - feats["b"] + rng.normal(0, 0.5, m), index=feats.index)
    return feats, truth


def test_ridge_baseline_against_normal_equations_and_disjoint_split():
    feats, truth = synthetic()
    fit = ridge_baseline(feats, truth, train_fraction=0.6, alpha=2.0, seed=4)
    assert fit.fitted_on.intersection(fit.predictions.index).empty
    assert len(fit.fitted_on) == 36 and len(fit.predictions) == 24
    assert fit.fitted_on.union(fit.predictions.index).equals(feats.index)
    # independent: standardise on the fitting rows, solve (ZᵀZ + αI) β = Zᵀ(t − t̄) with scipy
    x, t = feats.loc[fit.fitted_on].to_numpy(), truth.loc[fit.fitted_on].to_numpy()
    mu, sd = x.mean(0), x.std(0)
    z = (x - mu) / sd
    beta = linalg.solve(z.T @ z + 2.0 * np.eye(3), z.T @ (t - t.mean()), assume_a="pos")
    held = feats.loc[fit.predictions.index].to_numpy()
    assert fit.predictions.to_numpy() == pytest.approx(t.mean() + ((held - mu) / sd) @ beta, rel=1e-10)
    # same seed, same split; another seed, another one
    assert ridge_baseline(feats, truth, 0.6, 2.0, seed=4).fitted_on.equals(fit.fitted_on)
    assert not ridge_baseline(feats, truth, 0.6, 2.0, seed=5).fitted_on.equals(fit.fitted_on)


def test_ridge_alpha_zero_is_least_squares_even_with_collinear_features():
    feats, truth = synthetic()
    feats["d"] = 6 - feats.sum(axis=1)  # like op counts summing to 6
    fit = ridge_baseline(feats, truth, alpha=0.0, seed=1)
    x = np.column_stack([np.ones(len(fit.fitted_on)), feats.loc[fit.fitted_on].to_numpy()])
    coef = np.linalg.lstsq(x, truth.loc[fit.fitted_on].to_numpy(), rcond=None)[0]
    held = np.column_stack([np.ones(len(fit.predictions)), feats.loc[fit.predictions.index].to_numpy()])
    assert fit.predictions.to_numpy() == pytest.approx(held @ coef, rel=1e-8)
    with pytest.raises(BadParameter):
        split_architectures(range(2), 0.5)


def test_partial_rank_one_covariate_closed_form_and_scipy_residuals():
    rng = np.random.default_rng(3)
    m = 80
    size = rng.normal(size=m)
    truth = size + rng.normal(size=m)
    score = 0.7 * size + 0.3 * truth + rng.normal(size=m) * 0.5
    table = partial_rank_table(pd.DataFrame({"s": score}), truth, pd.DataFrame({"size": size}), n_boot=200)
    r_st = stats.spearmanr(score, truth)[0]
    r_sc = stats.spearmanr(score, size)[0]
    r_tc = stats.spearmanr(truth, size)[0]
    closed = (r_st - r_sc * r_tc) / np.sqrt((1 - r_sc ** 2) * (1 - r_tc ** 2))
    row = table.iloc[0]
    assert row["partial"] == pytest.approx(closed, rel=1e-10)
    assert row["spearman"] == pytest.approx(r_st, rel=1e-12)
    # scipy on the residuals of the ranks
    rs, rt, rc = (stats.rankdata(v) for v in (score, truth, size))
    fs, ft = stats.linregress(rc, rs), stats.linregress(rc, rt)
    res_s, res_t = rs - (fs.intercept + fs.slope * rc), rt - (ft.intercept + ft.slope * rc)
    assert row["partial"] == pytest.approx(stats.pearsonr(res_s, res_t)[0], rel=1e-10)
    assert row["r2_covariates"] == pytest.approx(fs.rvalue ** 2, rel=1e-10)
    assert row["ci_low"] < row["partial"] < row["ci_high"]


def test_partial_rank_several_covariates_and_the_extremes():
    rng = np.random.default_rng(5)
    m = 120
    cov = pd.DataFrame({"params": rng.normal(size=m), "convs": rng.integers(0, 7, m).astype(float)})
    truth = cov["params"] + 0.5 * rng.normal(size=m)
    scores = pd.DataFrame({"counter": cov["params"].to_numpy(),             # a pure size count
                           "noise": rng.normal(size=m),
                           "informed": (truth - cov["params"]).to_numpy() + 0.1 * rng.normal(size=m)})
    scores.loc[3, "noise"] = np.nan  # invalid: ranked worst, counted
    table = partial_rank_table(scores, truth, cov, n_boot=300, seed=2).set_index("proxy")
    assert np.isnan(table.loc["counter", "partial"])  # the covariates explain it entirely
    assert table.loc["counter", "r2_covariates"] == pytest.approx(1.0)
    assert table.loc["noise", "n_invalid"] == 1
    assert table.loc["noise", "ci_low"] < 0 < table.loc["noise", "ci_high"]
    assert table.loc["informed", "partial"] > table.loc["informed", "spearman"]
    # independent: residuals of the ranks on [1, ranks of covariates] by scipy's lstsq
    rc = np.column_stack([np.ones(m)] + [stats.rankdata(cov[c]) for c in cov])
    s = scores["informed"].to_numpy()
    rs, rt = stats.rankdata(s), stats.rankdata(truth)
    res = [v - rc @ linalg.lstsq(rc, v)[0] for v in (rs, rt)]
    assert table.loc["informed", "partial"] == pytest.approx(stats.pearsonr(*res)[0], rel=1e-9)
    effect = partial_rank_effect(s, truth, cov, n_boot=300, seed=2)
    assert effect.delta == pytest.approx(table.loc["informed", "partial"]) and effect.n == m
