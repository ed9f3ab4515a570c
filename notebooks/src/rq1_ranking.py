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
# benchmark: auto | nb201 | nb301 | nb101 | nds_resnet | nds_resnexta | mini (auto: nb201 with a data root, else mini)
benchmark = "auto"
# device: auto | cpu | cuda
device = "auto"
# truth_column: empty = the benchmark default (NB201 cifar10_test_acc_200ep, mini fmnist_test_acc_mean)
truth_column = ""

# %%
from IPython.display import Markdown, display

from nas_core.analyses import effects, narrative, plots, reproduction
from nas_core.engines import rq1
from nas_core.engines.study import Study
from nas_core.reporting import round_sensibly as report_round

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column,
                   benchmark=benchmark)
report = study.report("rq1")
n = len(study.eval_indices)
display(Markdown(study.banner()))
verdict = study.oneshot_verdict()  # is the one-shot estimator informative at this profile?
withheld = "" if verdict["informative"] else verdict["reason"]
display(Markdown(verdict["text"]))
# what the study's published numbers are compared at: this profile's epochs, networks, n, verdict
context = reproduction.profile_context(study.profile, study.benchmark, n, oneshot=verdict)

# %% [markdown]
# ## 1. Zero-shot estimators and complexity baselines
# **Question.** Does a proxy computed on an untrained network rank architectures like their
# trained accuracy — and better than simply counting parameters or FLOPs?
#
# **How it is measured.** Each proxy is computed on a randomly initialised network (PyTorch
# default init, BN in train mode) on fixed held-out batches, averaged over the init seeds of the
# profile. Kendall's τ-b counts how many pairs of architectures the proxy orders like the truth
# (1 = all, 0 = chance, −1 = reversed). Intervals are bootstrap 95 % intervals over architectures.
#
# **Caveat.** Every profile computes the proxies on the benchmark's own network (NAS-Bench-201:
# C16/N5), but small profiles use fewer architectures, fewer and smaller batches and one init
# seed (the study: 10 batches of 128, 3 seeds), so the verdicts below say when a number is not
# comparable.

# %%
zs_raw = study.zs_scores()
zs = study.zs_table(zs_raw)
zs_criteria = study.evaluate(zs, bootstrap=study.plan.bootstrap)
report.table("zse_criteria", zs_criteria, "All criteria for every zero-shot estimator and baseline", show=False)
# seconds per architecture: every seed and batch of a proxy for one architecture, summed
seconds = zs_raw.groupby(["proxy", "index"])["seconds"].sum().groupby("proxy").mean().to_dict()
seconds["vote"] = sum(seconds.get(e, 0.0) for e in study.bench.vote_experts)
seconds["az_nas"] = sum(v for k, v in seconds.items() if k.startswith("az_nas_"))
report.leaderboard("leaderboard_zero_shot", zs_criteria, seconds,
                   f"Leaderboard, zero-shot estimators and baselines ({study.benchmark}, profile {study.profile}, n = {n})")
fig = plots.criteria_bars(zs_criteria, ["kendall_tau_b", "spearman", "pearson"],
                          title="Zero-shot estimators vs ground truth")
report.figure("zse_correlations", fig, "Kendall's tau, Spearman and Pearson of each ZSE (95 % bootstrap CI)")
display(Markdown(narrative.ranking_summary(zs_criteria, "zero-shot estimators", rq1.effects_vs_baseline(study, zs))))
display(Markdown(reproduction.section_markdown(
    ["nb201_jacob_cov_tau", "nb201_synflow_tau", "nb201_params_tau", "nb201_plain_worst", "nb201_vote_not_better"],
    {"rq1_zse_criteria": zs_criteria}, context)))

# %% [markdown]
# ### Proxies after the study, and counting baselines
# The leaderboard above includes the zero-shot proxies published after the study (ZiCo, MeCo,
# SWAP, AZ-NAS and its terms, Zen-NAS, TE-NAS's linear regions, EPE-NAS, the weights' L2 norm,
# GradSign; docs/zeroshot.md gives each formula and source). Several later studies found such
# proxies mostly count size or convolutions, so here are the counts themselves as estimators:
# each op count and the number of trainable layers on the longest path, and a ridge model on
# those features fitted on a seeded half of the architectures and judged on the other half only.

# %%
baselines = rq1.graph_baselines(study)
report.table("graph_baselines", baselines, "Counting baselines: op counts, trainable depth, ridge on them (held-out half)",
             show=False)
report.leaderboard("leaderboard_graph_baselines", baselines, {},
                   f"Counting baselines ({study.benchmark}, profile {study.profile}; ridge: held-out half only)")

# %% [markdown]
# ## 2. The one-shot estimator along supernet training
# **Question.** How well does a weight-sharing supernet rank architectures, and how does that
# change as it trains?
#
# **How it is measured.** The study's supernet (de-isomorphic sampling) is trained once per
# supernet seed of the profile and scored at every checkpoint on the held-out split with BN in
# train mode; OS acc / OS loss are the seeds' mean, and the spread over seeds is tabulated
# beside it. Early checkpoints show how fast the ranking forms.
#
# **Caveat.** The study trained for 1000 epochs on NAS-Bench-201's full network; a short run on
# a small network is a different estimator, and the one-shot verdict above says whether its
# numbers may be read at all.

# %%
os_per_seed = study.headline_scores()
os_tidy = study.headline_tidy(os_per_seed)
os_criteria = study.criteria_along_training(os_tidy)
report.table("ose_criteria_along_training", os_criteria, "All criteria of OS acc / OS loss (seed mean) at every checkpoint")
spread = study.seed_spread(study.headline_criteria(os_per_seed))
report.table("ose_seed_spread", spread, "Kendall's τ-b of each seed's supernet: mean, std, min, max over supernet seeds",
             view=spread[spread["criterion"] == "kendall_tau_b"][["estimator", "epoch", "mean", "std", "min", "max", "n"]]
             .assign(estimator=lambda d: d["estimator"].map({"os_acc": "OS acc", "os_loss": "OS loss"}))
             .apply(lambda col: col.map(report_round)))
fig = plots.criteria_along_training(os_criteria, ["kendall_tau_b", "spearman", "pearson", "p_at_top"])
report.figure("ose_along_training", fig, "One-shot criteria along supernet training")
display(Markdown(narrative.training_summary(
    os_criteria, effects.withhold(rq1.training_effects(study, os_tidy, os_per_seed), withheld))))
display(Markdown(reproduction.section_markdown(["nb201_ose_shape"], {}, context)))

# %% [markdown]
# ## 3. One-shot and zero-shot side by side
# **Question.** Which estimator ranks best when all are scored on the same architectures?
#
# **How it is measured.** The final supernet checkpoint against every ZSE, on the same
# architectures and the same ground truth; the leaderboard adds the top/bottom precisions and
# best/worst ranks at 5 %.
#
# **Caveat.** One-shot rows are shown even when the verdict says "not comparable": read them as
# what a short run gives, not as the study's one-shot estimator.

# %%
final = study.os_table(os_tidy)
joint = study.join(final, zs)  # the architectures both kinds scored (NB101: the one-shot sub-space's)
combined = study.evaluate(joint, bootstrap=study.plan.bootstrap)
report.table("all_estimators_criteria", combined, "All estimators (final OS checkpoint and ZSEs)", show=False)
report.leaderboard("leaderboard", combined, seconds,
                   f"Leaderboard, all estimators ({study.benchmark}, profile {study.profile}, n = {len(joint)}; one-shot "
                   "seconds are not per architecture: the supernet is trained once for all)")
fig = plots.criteria_bars(combined, ["kendall_tau_b"], title="Kendall's tau, all estimators")
report.figure("all_estimators_tau", fig, "Kendall's tau of every estimator with 95 % bootstrap CI")
fig = plots.scatter_grid(joint, study.truth, ["os_acc", "synflow", "jacob_cov", "flops"])
report.figure("score_vs_truth", fig, "Estimator score against ground truth (ranks)")

# %% [markdown]
# ## 4. Good versus bad architectures
# **Question.** Is an estimator better at finding the best architectures or at ruling out the
# worst? Search needs the top of the ranking right; pruning the space needs the bottom right.
#
# **How it is measured.** P@topK is the share of the truly best K % among the predicted best K %;
# P@bottomK likewise. The difference at K = 10 % gets a bootstrap interval over architectures.
#
# **Caveat.** At 5 % of a small sample, K is a handful of architectures: one more or less hit
# moves P@K by a lot.

# %%
fig = plots.top_vs_bottom(combined)
report.figure("p_top_vs_bottom", fig, "P@topK and P@bottomK of every estimator")
top_bottom = effects.withhold(rq1.top_bottom_effects(study, study.join(final, zs)), withheld)
display(Markdown(narrative.top_bottom_summary(combined, top_bottom)))

# %% [markdown]
# ## 5. How many validation batches? Accuracy levels and ties
# **Question.** Does scoring the supernet on more held-out data improve its ranking?
#
# **How it is measured.** OS acc on few batches takes few distinct values ("accuracy levels"):
# many architectures tie, and ties carry no ranking information. We vary the number of held-out
# batches at an early, a middle and the last checkpoint, and measure τ inside each accuracy level.
#
# **Caveat.** The study found the answer depends on the training stage (worse with more data at
# epoch 200, better at epoch 1000); a short run only sees the early regime.

# %%
batches_effect = rq1.batches_effect(study, os_tidy)
report.table("validation_batches", batches_effect, "Criteria vs number of validation batches, and accuracy levels")
fig = plots.batches_effect(batches_effect)
report.figure("validation_batches", fig, "Kendall's tau and accuracy levels vs number of validation batches")
display(Markdown(narrative.batches_summary(batches_effect)))
display(Markdown(reproduction.section_markdown(["all_val_batches"], {"rq1_validation_batches": batches_effect},
                                               context)))

# %% [markdown]
# ## 6. Mean OS acc along training
# How well the supernet fits at all: the mean held-out OS acc of the evaluated architectures at
# every checkpoint (headline supernet, OS acc averaged over its seeds), with its spread over
# architectures (quartiles, min, max).

# %%
from nas_core.analyses import oneshot_plots

mean_acc = rq1.mean_os_acc(study, os_tidy)
report.table("mean_os_acc_along_training", mean_acc, "Mean OS acc over the evaluated architectures per checkpoint, and its spread")
fig = oneshot_plots.mean_os_acc(mean_acc)
report.figure("mean_os_acc_along_training", fig, "Mean OS acc along training (band: 25-75 % of architectures)")

# %% [markdown]
# ## The study beside the kit
# Every published number of the study for this question, the kit's value with its interval and
# n, and a computed verdict: *reproduced* (within τ ± 0.05 or the row's tolerance), *differs*,
# or *not comparable* at this profile (the reason says why: epochs, network, sample size, or the
# one-shot verdict).

# %%
report.reproduction({"rq1_zse_criteria": zs_criteria, "rq1_validation_batches": batches_effect}, context)

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
batch_gain = effects.withhold({"os_acc": rq1.batch_effect(study, os_tidy, os_per_seed)}, withheld)["os_acc"]
display(Markdown(narrative.rq1_conclusions(zs_criteria, os_criteria, combined, batches_effect, batch_gain, top_bottom)))
report.done()

# %% [markdown]
# ## Change this and rerun
# * **Epochs.** Set `profile = "paper"` (1000 supernet epochs; a GPU job) or train a longer run
#   with `nas-core supernet train --profile quick --epochs 100` and score it: does OS acc's τ keep
#   rising, and do the one-shot rows of the table above become comparable?
# * **Validation batches.** Section 5 already varies them at three checkpoints; compare the sign
#   of "all batches − one batch" at the first and the last checkpoint.
# * **Ground truth.** Set `truth_column = "cifar10valid_valid_acc_12ep"`: how much does the
#   ranking of the proxies depend on which accuracy is called the truth? (Results go to their own
#   `outputs/<profile>-<truth>/` folder.)
