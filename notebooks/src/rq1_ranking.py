# %% [markdown]
# # RQ1 — How well do one-shot and zero-shot estimators rank architectures?
#
# A performance estimator is useful for NAS if it **ranks** architectures like their true
# accuracy does. This notebook scores the same set of architectures with
#
# * the **one-shot estimator** (OSE): a weight-sharing supernet, scored by its held-out
#   accuracy (*OS acc*) or negated loss (*OS loss*) at every training checkpoint;
# * the **zero-shot estimators** (ZSEs): gradient, Jacobian and activation proxies of a randomly
#   initialised network, and the complexity baselines #params and #FLOPs;
#
# and compares each ranking with the benchmark's ground truth using every criterion of the
# study: linear correlation, Kendall's τ, Spearman's ρ, P@topK / P@bottomK, BR@K / WR@K.
# Every score is "higher is better"; OS loss is negated explicitly.

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
from IPython.display import Markdown, display

from nas_core.analyses import effects, narrative, plots
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column)
report = study.report("rq1")
display(Markdown(study.banner()))
verdict = study.oneshot_verdict()  # is the one-shot estimator informative at this profile?
withheld = "" if verdict["informative"] else verdict["reason"]
display(Markdown(verdict["text"]))

# %% [markdown]
# ## 1. Zero-shot estimators and complexity baselines
# Each proxy is computed on a randomly initialised network (PyTorch default init, BN in train
# mode) on fixed held-out batches, averaged over the init seeds of the profile. Intervals are
# bootstrap 95 % intervals over architectures.

# %%
zs = study.zs_table(study.zs_scores())
zs_criteria = study.evaluate(zs, bootstrap=study.plan.bootstrap)
report.table("zse_criteria", zs_criteria, "All criteria for every zero-shot estimator and baseline")
fig = plots.criteria_bars(zs_criteria, ["kendall_tau_b", "spearman", "pearson"],
                          title="Zero-shot estimators vs ground truth")
report.figure("zse_correlations", fig, "Kendall's tau, Spearman and Pearson of each ZSE (95 % bootstrap CI)")
display(Markdown(narrative.ranking_summary(zs_criteria, "zero-shot estimators", study.effects_vs_baseline(zs))))

# %% [markdown]
# ## 2. The one-shot estimator along supernet training
# The study's supernet (de-isomorphic sampling) is trained once per supernet seed of the
# profile and scored at every checkpoint on the held-out split with BN in train mode; OS acc /
# OS loss are the seeds' mean, and the spread over seeds is tabulated beside it. Early
# checkpoints show how fast the ranking forms.

# %%
os_per_seed = study.headline_scores()
os_tidy = study.headline_tidy(os_per_seed)
os_criteria = study.criteria_along_training(os_tidy)
report.table("ose_criteria_along_training", os_criteria, "All criteria of OS acc / OS loss (seed mean) at every checkpoint")
report.table("ose_seed_spread", study.seed_spread(study.headline_criteria(os_per_seed)),
             "Criteria of each seed's supernet: mean, std, min, max over supernet seeds")
fig = plots.criteria_along_training(os_criteria, ["kendall_tau_b", "spearman", "pearson", "p_at_top"])
report.figure("ose_along_training", fig, "One-shot criteria along supernet training")
display(Markdown(narrative.training_summary(
    os_criteria, effects.withhold(study.training_effects(os_tidy, os_per_seed), withheld))))

# %% [markdown]
# ## 3. One-shot and zero-shot side by side
# The headline comparison: the final supernet checkpoint against every ZSE, on the same
# architectures and the same ground truth.

# %%
final = study.os_table(os_tidy)
combined = study.evaluate(study.join(final, zs), bootstrap=study.plan.bootstrap)
report.table("all_estimators_criteria", combined, "All estimators (final OS checkpoint and ZSEs)")
fig = plots.criteria_bars(combined, ["kendall_tau_b"], title="Kendall's tau, all estimators")
report.figure("all_estimators_tau", fig, "Kendall's tau of every estimator with 95 % bootstrap CI")
fig = plots.scatter_grid(study.join(final, zs), study.truth, ["os_acc", "synflow", "jacob_cov", "flops"])
report.figure("score_vs_truth", fig, "Estimator score against ground truth (ranks)")

# %% [markdown]
# ## 4. Good versus bad architectures
# Search needs the top of the ranking right; pruning the space needs the bottom right.
# P@topK is the share of the truly best K % among the predicted best K %; P@bottomK likewise.

# %%
fig = plots.top_vs_bottom(combined)
report.figure("p_top_vs_bottom", fig, "P@topK and P@bottomK of every estimator")
top_bottom = effects.withhold(study.top_bottom_effects(study.join(final, zs)), withheld)
display(Markdown(narrative.top_bottom_summary(combined, top_bottom)))

# %% [markdown]
# ## 5. How many validation batches? Accuracy levels and ties
# OS acc on few batches takes few distinct values ("accuracy levels"): many architectures tie,
# and ties carry no ranking information. We vary the number of held-out batches at an early,
# a middle and the last checkpoint, and measure τ inside each accuracy level.

# %%
batches_effect = study.batches_effect(os_tidy)
report.table("validation_batches", batches_effect, "Criteria vs number of validation batches, and accuracy levels")
fig = plots.batches_effect(batches_effect)
report.figure("validation_batches", fig, "Kendall's tau and accuracy levels vs number of validation batches")
display(Markdown(narrative.batches_summary(batches_effect)))

# %% [markdown]
# ## 6. Mean OS acc along training
# How well the supernet fits at all: the mean held-out OS acc of the evaluated architectures at
# every checkpoint (headline supernet, OS acc averaged over its seeds), with its spread over
# architectures (quartiles, min, max).

# %%
from nas_core.analyses import oneshot_plots

mean_acc = study.mean_os_acc(os_tidy)
report.table("mean_os_acc_along_training", mean_acc, "Mean OS acc over the evaluated architectures per checkpoint, and its spread")
fig = oneshot_plots.mean_os_acc(mean_acc)
report.figure("mean_os_acc_along_training", fig, "Mean OS acc along training (band: 25-75 % of architectures)")

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
batch_gain = effects.withhold({"os_acc": study.batch_effect(os_tidy, os_per_seed)}, withheld)["os_acc"]
display(Markdown(narrative.rq1_conclusions(zs_criteria, os_criteria, combined, batches_effect, batch_gain, top_bottom)))
report.done()
