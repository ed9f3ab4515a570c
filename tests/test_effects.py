"""The statistical guard of generated conclusions: paired bootstrap differences and Effects."""
import numpy as np
import pytest
from scipy import stats

from nas_core.analyses.effects import Effect, describe, effect_between, mean_effect, slope_effect, tau_effect
from nas_core.criteria import bootstrap_values, paired_difference, resample_counts


def _data(n=120, noise_a=1.0, noise_b=2.0, seed=3):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=n)
    return t + noise_a * rng.normal(size=n), t + noise_b * rng.normal(size=n), t


def test_paired_difference_matches_materialised_resamples_with_scipy():
    a, b, t = _data()
    n_boot = 200
    delta, lo, hi = paired_difference(a, b, t, n_boot=n_boot, seed=7)
    assert delta == pytest.approx(stats.kendalltau(a, t)[0] - stats.kendalltau(b, t)[0], abs=1e-12)
    # the same resamples, materialised: (the chunking rule of bootstrap_values for m=120, B=200)
    chunk = max(1, min(n_boot, 2 ** 19 // len(t)))
    diffs = []
    for counts in resample_counts(len(t), n_boot, 7, chunk):
        for j in range(counts.shape[1]):
            idx = np.repeat(np.arange(len(t)), counts[:, j])
            diffs.append(stats.kendalltau(a[idx], t[idx])[0] - stats.kendalltau(b[idx], t[idx])[0])
    ref_lo, ref_hi = np.percentile(diffs, [2.5, 97.5])
    assert (lo, hi) == pytest.approx((ref_lo, ref_hi), abs=1e-9)


def test_paired_interval_is_narrower_than_unpaired_for_correlated_estimators():
    rng = np.random.default_rng(0)
    t = rng.normal(size=150)
    a = t + rng.normal(size=150)
    b = a + 0.3 * rng.normal(size=150)   # b is a noisier copy of a
    _, lo, hi = paired_difference(a, b, t, n_boot=300)
    va = bootstrap_values(a, t, 300, 1, criteria=["kendall_tau_b"])["kendall_tau_b"]
    vb = bootstrap_values(b, t, 300, 2, criteria=["kendall_tau_b"])["kendall_tau_b"]
    unpaired = np.percentile(va - vb, 97.5) - np.percentile(va - vb, 2.5)
    assert hi - lo < 0.6 * unpaired


def test_overlapping_interval_yields_no_detectable_effect():
    text = describe(Effect(0.02, -0.03, 0.07, n=300), "de-isomorphic sampling")
    assert text.startswith("no effect of de-isomorphic sampling on τ is detectable")
    assert "would need about 1,875 architectures" in text   # 300 * (0.05 / 0.02)**2
    assert "raises" not in text and "lowers" not in text


def test_clear_effect_states_its_direction_with_the_interval():
    a, b, t = _data(n=300, noise_a=0.3, noise_b=3.0)
    eff = tau_effect(a, b, t, n_boot=200)
    assert eff.direction == 1 and eff.low > 0
    assert describe(eff, "estimator a").startswith("estimator a raises τ (Δ = +")
    assert describe(tau_effect(b, a, t, n_boot=200), "estimator b").startswith("estimator b lowers τ")


def test_seeds_that_disagree_remove_the_direction():
    eff = Effect(0.10, 0.04, 0.16, n=300, seed_deltas=(0.2, -0.01))
    assert eff.direction == 0
    assert "seeds disagree" in describe(eff, "fair sampling")
    assert Effect(0.10, 0.04, 0.16, n=300, seed_deltas=(0.2, 0.01)).direction == 1


def test_nan_effect_is_never_a_direction():
    eff = Effect(float("nan"), float("nan"), float("nan"), n=10)
    assert eff.direction == 0
    assert "could not be computed" in describe(eff, "x")


def test_effect_between_aligns_series_on_common_architectures():
    import pandas as pd

    a, b, t = _data(n=100)
    idx = np.arange(100) * 3
    sa, sb, st = pd.Series(a, idx), pd.Series(b, idx), pd.Series(t, idx)
    shuffled = sb.sample(frac=1.0, random_state=0).iloc[:90]       # other order, 10 missing
    eff = effect_between(sa, shuffled, st, n_boot=100)
    keep = np.isin(idx, shuffled.index)
    ref = stats.kendalltau(a[keep], t[keep])[0] - stats.kendalltau(b[keep], t[keep])[0]
    assert eff.n == 90 and eff.delta == pytest.approx(ref, abs=1e-12)
    # losses: negating both flips each tau, hence the difference
    assert effect_between(-sa, -shuffled, st, n_boot=50, negate=True).delta == pytest.approx(ref, abs=1e-12)


def test_mean_effect_is_the_normal_interval():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    eff = mean_effect(v)
    half = stats.norm.ppf(0.975) * np.std(v, ddof=1) / 2
    assert (eff.delta, eff.low, eff.high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    assert eff.direction == 1 and mean_effect([-1.0, 1.0, -0.5, 0.5]).direction == 0


def test_slope_effect_point_equals_the_group_bias_fit():
    import pandas as pd
    from nas_core.analyses.complexity_bias import group_bias

    rng = np.random.default_rng(5)
    flops = rng.uniform(size=200)
    truth = rng.normal(size=200)
    score = truth + 3 * flops          # over-rates large architectures
    g = group_bias(pd.Series(score), pd.Series(truth), pd.Series(flops))
    groups = np.minimum((pd.Series(flops).rank(method="min").to_numpy() - 1) * 5 // 200, 4)
    eff = slope_effect(score, truth, groups, n_boot=100)
    assert eff.delta == pytest.approx(np.polyfit(g["group"], g["mean_rd"], 1)[0], abs=1e-12)
    assert eff.direction == 1


# ---- the generated text follows the Effects ----------------------------------------------------

def _crit(rows):
    import pandas as pd

    return pd.DataFrame([{"estimator": e, "criterion": "kendall_tau_b", "k": np.nan, "value": v,
                          "ci_low": v - 0.05, "ci_high": v + 0.05} for e, v in rows])


def test_ranking_summary_claims_a_win_only_where_the_paired_interval_excludes_zero():
    from nas_core.analyses import narrative

    crit = _crit([("synflow", 0.62), ("jacob_cov", 0.60), ("params", 0.58), ("flops", 0.55), ("plain", -0.3)])
    effects = {"synflow": Effect(0.04, 0.01, 0.07, n=300), "jacob_cov": Effect(0.02, -0.03, 0.07, n=300),
               "plain": Effect(-0.88, -0.95, -0.8, n=300)}
    text = narrative.ranking_summary(crit, "zero-shot estimators", effects)
    assert "1 estimator(s) beat it" in text and "synflow (Δ = +0.040" in text
    assert "jacob_cov score(s) above it, but the difference is not detectable" in text
    assert "Detectably worse than params: plain" in text
    # no effects computed: nothing is said to beat the baseline
    plain_text = narrative.ranking_summary(crit, "zero-shot estimators")
    assert "beat" not in plain_text and "point estimates" in plain_text


def test_overlapping_intervals_give_no_direction_in_every_summary():
    import pandas as pd
    from nas_core.analyses import narrative

    flat = Effect(0.01, -0.04, 0.06, n=300)
    rd = pd.DataFrame({"estimator": "os_acc", "group": range(5), "mean_rd": [0.1, 0.05, 0, -0.05, -0.1],
                       "tau": 0.3})
    assert "no detectable complexity trend" in narrative.complexity_summary(rd, {"os_acc": flat})
    assert "over-rates small" in narrative.complexity_summary(rd, {"os_acc": Effect(-0.05, -0.08, -0.02, n=300)})
    trained = pd.DataFrame({"estimator": "snip", "criterion": "kendall_tau_b", "k": np.nan,
                            "value": [0.3, 0.1], "epoch": [0, 20]})
    text = narrative.trained_weights_summary(trained, {"snip": flat})
    assert "no effect of training the weights on τ is detectable" in text and "lowers" not in text
    tb = narrative.top_bottom_summary(pd.DataFrame({"estimator": ["a", "a"], "criterion": ["p_at_top", "p_at_bottom"],
                                                    "k": [0.1, 0.1], "value": [0.2, 0.4]}), {"a": flat})
    assert "0 of 1 estimators are detectably better at finding the bad" in tb
    assert "not detectable" in tb


def test_validation_batches_sentence_follows_the_sign():
    import pandas as pd
    from nas_core.analyses import narrative

    combined = _crit([("os_acc", 0.3), ("params", 0.5)])
    worse = narrative.rq1_conclusions(None, None, combined, pd.DataFrame(), Effect(-0.06, -0.1, -0.02, n=300))
    assert "lowers τ" in worse and "same reversal early in training" in worse and "break ties" not in worse
    better = narrative.rq1_conclusions(None, None, combined, pd.DataFrame(), Effect(0.06, 0.02, 0.1, n=300))
    assert "raises τ" in better and "break ties" in better
    none = narrative.rq1_conclusions(None, None, combined, pd.DataFrame(), Effect(0.01, -0.02, 0.04, n=300))
    assert "no effect of scoring on all validation batches" in none


def test_top_bottom_effect_matches_point_criteria():
    from nas_core.analyses.effects import top_bottom_effect
    from nas_core.criteria import p_at_bottom, p_at_top

    a, _, t = _data(n=200)
    eff = top_bottom_effect(a, t, 0.1, n_boot=100)
    assert eff.delta == pytest.approx(p_at_top(a, t, ks=(0.1,))[0] - p_at_bottom(a, t, ks=(0.1,))[0])
    assert eff.low <= eff.delta <= eff.high


def test_withheld_effects_never_state_a_direction():
    from nas_core.analyses.effects import withhold

    effects = {"os_acc": Effect(0.3, 0.2, 0.4, n=300), "snip": Effect(0.3, 0.2, 0.4, n=300)}
    marked = withhold(effects, "the 2 supernet seeds agree only at τ = 0.13 (< 0.5)")
    assert marked["os_acc"].direction == 0 and marked["snip"].direction == 1
    text = describe(marked["os_acc"], "training")
    assert "not comparable at this profile" in text and "raises" not in text
    assert withhold(effects, "") is effects


def _per_seed(acc_by_seed, n=40):
    import pandas as pd

    rows = []
    for seed, acc in acc_by_seed.items():
        for i in range(n):
            rows.append({"index": i, "arch_str": f"a{i}", "epoch": 3, "batch": 0, "os_acc": acc[i],
                         "os_loss": -acc[i], "seed": seed})
    return pd.DataFrame(rows)


def test_oneshot_verdict_checks_seed_agreement_and_ties(monkeypatch):
    from nas_core.engines.study import Study

    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    study = Study("smoke")
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    agree = study.oneshot_verdict(_per_seed({0: base, 1: base + 0.01 * rng.normal(size=40)}))
    assert agree["informative"] and agree["seeds_tau"] > 0.9 and agree["tie_share"] == 0
    random = study.oneshot_verdict(_per_seed({0: base, 1: rng.normal(size=40)}))
    assert not random["informative"] and "agree only at" in random["reason"]
    assert "not comparable" in random["text"]
    tied = study.oneshot_verdict(_per_seed({0: np.round(base), 1: np.round(base)}))
    assert not tied["informative"] and "tie on OS acc" in tied["reason"]
    # tie share by hand: values shared by 2+ architectures
    vals = np.round(base)
    _, counts = np.unique(vals, return_counts=True)
    assert tied["tie_share"] == pytest.approx(counts[counts > 1].sum() / 40)
