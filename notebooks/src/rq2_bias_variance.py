# %% [markdown]
# # RQ2 — Which biases and variances do the estimators have, and why?
#
# An estimator can rank badly in two ways: **bias** (it systematically prefers some kinds of
# architectures) and **variance** (its ranking changes with the supernet's seed, the
# checkpoint, or which architecture happened to be trained last). We look at four levels:
#
# 1. **complexity** — per FLOPs quintile, the mean ranking difference RD = true rank − estimated
#    rank (RD > 0: the group is over-estimated) and Kendall's τ inside the group;
# 2. **operations** — for every pair of architectures one mutation apart, how often the
#    mutation raises the estimate vs how often it raises the ground truth;
# 3. **architectures** — what the zero-shot proxies correlate with (size, skips, depth);
# 4. **variance** — forgetting, gradient conflicts between architectures, ranking stability
#    between checkpoints and across supernet seeds.

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
from nas_core.engines import rq2
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column,
                   benchmark=benchmark)
report = study.report("rq2")
n = len(study.eval_indices)
display(Markdown(study.banner()))
verdict = study.oneshot_verdict()  # is the one-shot estimator informative at this profile?
withheld = "" if verdict["informative"] else verdict["reason"]
display(Markdown(verdict["text"]))
context = reproduction.profile_context(study.profile, study.benchmark, n, oneshot=verdict)
os_tidy = study.headline_tidy()
zs = study.zs_table(study.zs_scores())

# %% [markdown]
# ## 1. Complexity-level bias: FLOPs groups
# **Question.** Does an estimator systematically prefer small or large architectures?
#
# **How it is measured.** The architectures are split into five FLOPs quintiles (group 0 = the
# smallest). Inside each, the mean ranking difference RD = true rank − estimated rank, as a
# fraction of n: positive = the group is over-estimated. The slope of RD over the groups gets a
# bootstrap interval over architectures.
#
# **Caveat.** A supernet trained briefly favours small architectures (they train faster); the
# study's 1000-epoch supernet need not show the same slope.

# %%
rd_training = rq2.complexity_bias_along_training(study, os_tidy)
report.table("flops_groups_along_training", rd_training, "OS acc: ranking difference and tau per FLOPs group, per checkpoint")
fig = plots.flops_groups_along_training(rd_training)
report.figure("flops_groups_along_training", fig, "Mean ranking difference per FLOPs group along supernet training")
rd_final = rq2.complexity_bias(study, study.join(study.os_table(os_tidy), zs))
report.table("flops_groups", rd_final, "Ranking difference and tau per FLOPs group, every estimator")
fig = plots.flops_groups(rd_final)
report.figure("flops_groups", fig, "Mean ranking difference per FLOPs group (positive = over-estimated)")
slopes = effects.withhold(rq2.complexity_slopes(study, study.join(study.os_table(os_tidy), zs)), withheld)
display(Markdown(f"*n = {n} architectures, about {n // 5} per FLOPs quintile.*\n\n"
                 + narrative.complexity_summary(rd_final, slopes)))

# %% [markdown]
# ## 2. Operation-level bias: one-mutation pairs
# **Question.** Does an estimator over-rate some operations?
#
# **How it is measured.** For every pair of scored architectures one edge-op change apart
# (formed over isomorphism classes, so every scored class contributes): how often the mutation
# raises the estimate minus how often it raises the truth. Positive = the mutation is
# over-estimated.
#
# **Caveat.** With n architectures sampled from 6,466 classes, few pairs are one mutation apart;
# the counts are in the table.

# %%
from nas_core.protocols.zeroshot import AFTER_STUDY

op_estimators = ["os_acc", "synflow", "jacob_cov", "params"] + [e for e in AFTER_STUDY + ("az_nas",) if e in zs.columns]
op_bias = rq2.op_bias(study, study.join(study.os_table(os_tidy), zs), op_estimators)
report.table("op_bias", op_bias, "Share of mutation pairs where the estimate / the truth goes up, per from-op -> to-op")
fig = plots.op_bias_heatmaps(op_bias)
report.figure("op_bias", fig, "Bias = P(estimate up) - P(truth up) per mutation")
display(Markdown(narrative.op_bias_summary(op_bias)))
display(Markdown(reproduction.section_markdown(["nb201_op_bias"], {"rq2_op_bias": op_bias}, context)))

# %% [markdown]
# ## 3. What the zero-shot proxies favour
# **Question.** What do the proxies actually measure?
#
# **How it is measured.** Spearman ρ of each proxy (and of the truth) with simple architecture
# features: size, number of skips, depth, conv count.
#
# **Caveat.** Correlation with size is not wrong in itself — the truth correlates with size too;
# compare each row with the `truth` row.

# %%
prefs = rq2.arch_preferences(study, zs)
report.table("zse_preferences", prefs, "Spearman correlation of each ZSE (and the truth) with architecture features")
fig = plots.preferences_heatmap(prefs)
report.figure("zse_preferences", fig, "What each zero-shot estimator correlates with")
display(Markdown(narrative.preferences_summary(prefs)))

# %% [markdown]
# ### How much of each ranking is only size and op counts?
# **How it is measured.** Spearman ρ of each estimator with the truth, beside its *partial* ρ
# given #params and the op counts (both ranked; the covariates regressed out of the estimator
# and of the truth, then the residuals correlated), with a bootstrap interval over
# architectures; `r2_covariates` is the share of the estimator's ranking the covariates explain.
# A proxy whose partial ρ is near 0 while its ρ is high adds nothing beyond counting.

# %%
partial = rq2.partial_rank(study, zs)
report.table("partial_rank", partial, "Spearman ρ with the truth and partial ρ given #params and op counts (95 % bootstrap CI)")
fig = plots.partial_rank(partial)
report.figure("partial_rank", fig, "Spearman ρ vs partial ρ given #params and op counts, per estimator")
display(Markdown(narrative.partial_rank_summary(partial)))

# %% [markdown]
# ## 4. Variance of the one-shot estimator
# **Question.** Why does the supernet's ranking change from step to step and seed to seed?
#
# **How it is measured.** **Forgetting value** FV = held-out accuracy after the other
# architectures' steps − held-out accuracy right after its own step (negative = they made it
# forget). **Gradient similarity**: cosine similarity of different architectures' gradients on
# the weights they share, per layer — negative values mean they pull shared weights apart.
#
# **Caveat.** Diagnosed on a few architectures per checkpoint (the table says how many) of one
# supernet seed.

# %%
diag = rq2.diagnostics(study, seed=study.plan.supernet_seeds[0])
report.table("forgetting", diag["forgetting"], "Forgetting value per checkpoint")
report.table("gradient_similarity", diag["gradient_similarity"], "Cosine similarity of gradients per layer and checkpoint")
fig = plots.diagnostics(diag)
report.figure("variance_diagnostics", fig, "Forgetting value and gradient cosine similarity along training",
              n=int(diag["forgetting"].groupby("epoch").size().max()) if len(diag["forgetting"]) else None)

# %%
stability = rq2.stability(study)
report.table("ranking_stability", stability["adjacent"], "Kendall's tau between adjacent checkpoints")
report.table("seed_spread", stability["seeds"], "Criteria per supernet seed, mean and spread")
fig = plots.stability(stability)
report.figure("ranking_stability", fig, "Ranking stability between checkpoints and across supernet seeds")
display(Markdown(narrative.variance_summary(diag, stability)))

# %% [markdown]
# ## 5. Ranking stability at the top and the bottom
# **Question.** Once the supernet has trained a while, does its top (or bottom) still move?
#
# **How it is measured.** Between each checkpoint and the previous one (the later one serves as
# the truth): relative Kendall's τ and relative P@top / P@bottom at 0.5 % and 5 % of the
# architectures (missing where that is less than one architecture), per seed of the headline
# (de-isomorphic) supernet.
#
# **Caveat.** 0.5 % of a small sample is under one architecture: those panels stay empty.

# %%
from nas_core.analyses import oneshot_plots

topk_stab = rq2.stability_topk(study)
report.table("ranking_stability_topk", topk_stab, "Relative tau and relative P@top/bottom 0.5 % and 5 % between adjacent checkpoints")
fig = oneshot_plots.topk_stability(topk_stab)
report.figure("ranking_stability_topk", fig, "Relative tau and relative P@top/bottom K between adjacent checkpoints")

# %% [markdown]
# ## The study beside the kit

# %%
report.reproduction({"rq2_op_bias": op_bias}, context)

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
display(Markdown(narrative.rq2_conclusions(rd_final, op_bias, prefs, diag, stability, slopes)))
report.done()

# %% [markdown]
# ## Change this and rerun
# * **Epochs.** With more supernet epochs (`profile = "paper"`), does the RD slope of OS acc
#   shrink — is the small-architecture preference a sign of under-training?
# * **Sampler.** `Study.complexity_bias` accepts any wide table: compute it on
#   `study.os_table(study.os_scores("fair"))` and compare the slope with de-isomorphic sampling.
