# %% [markdown]
# # Tutorial — bring your own estimator
#
# You have an idea for a cheap estimator. This notebook shows the three steps to judge it the way
# the study judges every estimator, without editing the kit:
#
# 1. **score** the architectures (here: a one-line function of the architecture string; or load
#    a CSV of scores you computed elsewhere — columns `index` and one column per estimator);
# 2. **rank** them against the ground truth: the leaderboard row (Kendall's τ-b with its 95 %
#    bootstrap interval, Spearman's ρ, P@top / P@bottom, BR / WR) — the same row that
#    `nas-core evaluate --scores my_scores.csv` prints;
# 3. **compare** with the two free baselines, #params and #FLOPs (a paired bootstrap of the τ
#    difference: a direction only when its interval excludes 0), and look at its **complexity
#    bias** (RQ2): does it over-rate small or large architectures?
#
# A proxy that needs a forward/backward pass registers from your own code with
# `@nas_core.proxies.register("name", needs=("grads",))`, or from your package through the
# entry-point group `nas_core.proxies`; the zero-shot engine then computes it like any other.

# %% tags=["parameters"]
# profile: smoke | quick | paper (sizes of every protocol)
profile = "smoke"
# data_root: empty = $NAS_CORE_DATA, or the built-in mini benchmark when that is unset too
data_root = ""
# device: auto | cpu | cuda
device = "auto"
# truth_column: empty = the benchmark default (NB201 cifar10_test_acc_200ep, mini fmnist_test_acc_mean)
truth_column = ""

# %%
import pandas as pd
from IPython.display import Markdown, display

from nas_core.analyses import plots
from nas_core.analyses.effects import effect_between
from nas_core.engines.evaluate import evaluate
from nas_core.engines import rq2
from nas_core.engines.study import Study
from nas_core.space.features import arch_features

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column)
report = study.report("tutorial")
report.config["bootstrap"] = study.plan.bootstrap  # recorded so `nas-core evaluate` can repeat the row
display(Markdown(study.banner()))

# %% [markdown]
# ## 1. Score the architectures
# Our toy estimator counts convolutions: a 3×3 conv counts 1, a 1×1 conv ½. Replace `my_score`
# with yours — or replace the whole cell by `scores = pd.read_csv("my_scores.csv")`.

# %%
def my_score(arch_str: str) -> float:
    return arch_str.count("nor_conv_3x3") + 0.5 * arch_str.count("nor_conv_1x1")


indices = study.eval_indices
arch_strs = study.arch_strs(indices)
scores = pd.DataFrame({"index": indices, "my_score": [my_score(s) for s in arch_strs]})
report.table("my_scores", scores, "My scores (index = the benchmark's architecture id)", show=False)
features = arch_features(arch_strs)
baselines = pd.DataFrame({"index": indices, "params": features["params_M"].to_numpy(),
                          "flops": features["flops_M"].to_numpy()})

# %% [markdown]
# ## 2. The leaderboard row
# Every criterion of the study against the ground truth, best τ-b first. The same row comes out
# of `nas-core evaluate --scores tables/tutorial_my_scores.csv --bootstrap B` (B as recorded).

# %%
crit = evaluate(study.join(scores, baselines), study.truth, bootstrap=study.plan.bootstrap)
report.leaderboard("leaderboard", crit, caption=f"My estimator beside #params and #FLOPs (n = {len(indices)})")

# %% [markdown]
# ## 3. Better than counting parameters?
# τ(my_score) − τ(baseline) on the same architectures, with a paired bootstrap interval.

# %%
truth = study.truth
mine = pd.Series(scores["my_score"].to_numpy(), index=indices)
lines = []
for name in ("params", "flops"):
    base = pd.Series(baselines[name].to_numpy(), index=indices)
    eff = effect_between(mine, base, truth, n_boot=study.plan.bootstrap)
    word = {1: "**better** than", -1: "**worse** than", 0: "**not distinguishable** from"}[eff.direction]
    lines.append(f"- τ(my_score) − τ(#{name if name == 'params' else 'FLOPs'}) = {eff.delta:+.3f} "
                 f"[{eff.low:+.3f}, {eff.high:+.3f}], n = {eff.n}: my estimator is {word} it.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## 4. Complexity bias (RQ2)
# Architectures split into 5 FLOPs groups (group 0 = smallest). Mean ranking difference
# RD = (true rank − estimated rank) / n: positive = the group is over-estimated.

# %%
bias = rq2.complexity_bias(study, study.join(scores, baselines))
report.table("complexity_bias", bias, "Mean ranking difference per FLOPs group")
fig = plots.flops_groups(bias)
report.figure("complexity_bias", fig, "Mean ranking difference per FLOPs group (group 0 = smallest FLOPs; "
                                      "positive = over-estimated)")
report.done()
