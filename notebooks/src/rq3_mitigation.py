# %% [markdown]
# # RQ3 — Which mitigations reduce the one-shot estimator's bias and variance?
#
# We train supernets that differ in one choice each and compare their rankings on the same
# architectures and ground truth:
#
# * **sampling**: uniform over all cells (*iso*), uniform over isomorphism classes
#   (*de-isomorphic*), *fair* sampling (every op trained once per step), and several Monte-Carlo
#   architecture samples per step (*mc:S*);
# * **post-de-isomorphism**: averaging the scores of isomorphic cells at test time;
# * **less sharing**: one-shot pruning — keep the best p % at a middle checkpoint and fine-tune
#   only inside that sub-space;
# * **temporal ensemble**: the average of the last checkpoints' weights, or of their scores;
# * **BN affine** parameters in the cells on or off.

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
from nas_core.engines import rq3
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column,
                   benchmark=benchmark)
report = study.report("rq3")
n = len(study.eval_indices)
display(Markdown(study.banner()))
verdict = study.oneshot_verdict()  # is the one-shot estimator informative at this profile?
withheld = "" if verdict["informative"] else verdict["reason"]
display(Markdown(verdict["text"]))
context = reproduction.profile_context(study.profile, study.benchmark, n, oneshot=verdict)

# %% [markdown]
# ## 1. Sampling strategies
# **Question.** Does the way architectures are sampled during supernet training change how well
# it ranks?
#
# **How it is measured.** One supernet per sampler (same seed, same epochs), each scored on the
# same n architectures. The two panels are two estimators — OS acc (held-out accuracy) and OS
# loss (negated held-out loss) — never averaged; one line per sampler, no band (one run each).
# The difference to iso sampling gets a paired bootstrap interval over architectures.
#
# **Caveat.** fair and mc:S train several architectures per step: at equal epochs they made more
# architecture updates (section 7 compares at equal updates).

# %%
samplers = rq3.sampler_comparison(study)
report.table("samplers_along_training", samplers, "Criteria of OS acc along training, per sampling strategy")
fig = plots.variants_along_training(samplers, "variant")
report.figure("samplers", fig, "Kendall's tau along training per sampling strategy (left OS acc, right OS loss)")
sampler_effects = effects.withhold(rq3.sampler_effects(study), withheld, keys=study.plan.rq3_samplers)
display(Markdown(narrative.variant_summary(samplers, "sampling strategy", sampler_effects, baseline="iso")))
if not study.applies("samplers"):  # the iso baseline alone (NB301, NB101, NDS)
    display(Markdown(study.not_applicable("samplers")))
display(Markdown(reproduction.section_markdown(
    ["nb201_iso_br", "nb201_deiso_br", "nb201_iso_ptop5", "nb201_deiso_ptop5"],
    {"rq3_samplers_along_training": samplers}, context)))

# %% [markdown]
# ## 2. Post-de-isomorphism
# **Question.** Isomorphic cells compute the same function, but the supernet scores them
# differently: does averaging their scores at test time help?
#
# **How it is measured.** OS acc of each evaluated representative vs the mean OS acc over all
# members of its isomorphism class, on the same n architectures.
#
# **Caveat.** One supernet: point values, no interval.

# %%
if study.applies("post_deiso"):
    post = rq3.post_deiso(study)
    report.table("post_deiso", post, "Criteria with and without averaging scores inside isomorphism classes")
    fig = plots.criteria_bars(post, ["kendall_tau_b", "spearman"], title="Post-de-isomorphism")
    report.figure("post_deiso", fig, "Effect of averaging OS scores within isomorphism classes")
else:
    post = None
    display(Markdown(study.not_applicable("post_deiso")))

# %% [markdown]
# ## 3. One-shot pruning (less sharing)
# **Question.** If fewer architectures share the weights, does the supernet rank those better?
#
# **How it is measured.** At a middle checkpoint keep the top p % by OS acc, fine-tune only inside
# that sub-space to the final epoch, and compare τ inside the kept set with the unpruned supernet
# at the same epoch (paired intervals over the kept architectures).
#
# **Caveat.** The kept sets are small (p % of n); the study pruned at epoch 600 of 1000.

# %%
pruning = rq3.pruning(study)
report.table("pruning", pruning, "Inside the kept sub-space, same final epoch: unpruned (before) vs pruned + fine-tuned (after); tau, mean OS acc, deltas")
fig = plots.pruning(pruning)
report.figure("pruning", fig, "One-shot pruning: tau inside the kept top-p % sub-space")
display(Markdown(narrative.pruning_summary(pruning, withheld)))
display(Markdown(reproduction.section_markdown(
    ["nb201_prune10_tau", "nb201_prune25_tau", "nb201_prune50_tau"], {"rq3_pruning": pruning}, context)))

# %% [markdown]
# ## 4. Temporal ensemble
# **Question.** Does averaging over the last checkpoints (their weights or their scores) reduce
# the step-to-step variance of the ranking?
#
# **How it is measured.** τ of the last checkpoint, of the mean of the last checkpoints' weights,
# and of the mean of their scores, on the same n architectures. One supernet: point values.

# %%
ensemble = rq3.temporal_ensemble(study)
report.table("temporal_ensemble", ensemble, "Last checkpoint vs averaged weights vs averaged scores of the last checkpoints")
fig = plots.criteria_bars(ensemble, ["kendall_tau_b", "spearman"], title="Temporal ensemble")
report.figure("temporal_ensemble", fig, "Temporal ensembles of the last checkpoints")

# %% [markdown]
# ## 5. BN affine on or off
# **Question.** Do learnable BatchNorm scale/shift parameters inside the cells help or hurt the
# ranking? With affine on, the γs are shared by every architecture using an op.
#
# **How it is measured.** Two iso supernets, same seed, with and without affine BN; OS acc and OS
# loss in separate panels. One run each: no band, no direction claimed.

# %%
if study.applies("affine"):
    affine = rq3.affine_comparison(study)
    report.table("bn_affine", affine, "Criteria along training with and without BN affine parameters in the cells")
    fig = plots.variants_along_training(affine, "variant")
    report.figure("bn_affine", fig, "Kendall's tau along training, BN affine on vs off (left OS acc, right OS loss)")
    display(Markdown(narrative.variant_summary(affine, "BN affine setting")))
else:
    affine = None
    display(Markdown(study.not_applicable("affine")))

# %% [markdown]
# ## 6. Ensemble of independent supernets
# The profile's headline (de-isomorphic) supernet seeds, each at its last checkpoint, and the
# mean of their OS acc (independent supernets averaged: the headline estimator), beside seed 0's
# temporal ensemble (mean of its last checkpoints' scores).

# %%
from nas_core.analyses import oneshot_plots

seed_ens = rq3.seed_ensemble(study)
report.table("seed_ensemble", seed_ens, "Each supernet seed, the mean of the seeds, and the temporal ensemble of seed 0")
fig = plots.criteria_bars(seed_ens, ["kendall_tau_b", "spearman"], title="Ensemble of supernet seeds")
report.figure("seed_ensemble", fig, "Averaging the OS acc of independent supernets vs of the last checkpoints")

# %% [markdown]
# ## 7. Monte-Carlo sample counts and fair sampling, at equal epochs and equal arch updates
# A sampler that trains S architectures per step makes S× the architecture updates of iso
# sampling per epoch (fair: 5). Every checkpoint therefore carries its cumulative arch updates,
# epoch × S, in units of one iso epoch. *Equal epochs* compares the last checkpoint all variants
# have; *equal arch updates* compares each variant's checkpoint closest in arch updates to the
# smallest final count (the iso run's); `updates_ratio` says how close the checkpoint grid
# allows (1 = exactly equal). S = 1 is the iso run. The added runs (S not already in section 1)
# train `variant_epochs` epochs.

# %%
from nas_core.analyses.oneshot_extras import equal_budget_points
from nas_core.criteria import overall

if study.applies("mc"):
    mc = rq3.mc_comparison(study)
    report.table("mc_samples_along_training", mc, "Criteria along training per MC sample count S and fair sampling, with cumulative arch updates")
    mc_points = equal_budget_points(overall(mc).query("estimator == 'os_acc'"))
    report.table("mc_samples_equal_budget", mc_points, "Kendall's tau of OS acc at equal epochs and at equal arch updates")
    fig = oneshot_plots.along_updates(mc)
    report.figure("mc_samples", fig, "Kendall's tau per sampler against epochs and against cumulative arch updates")
    display(Markdown(mc_points[["comparison", "variant", "epoch", "arch_updates", "updates_ratio", "value"]]
                     .to_markdown(index=False)))
else:
    display(Markdown(study.not_applicable("mc")))

# %% [markdown]
# ## 8. Op pruning: training on a sub-space without some ops
# A supernet trained only on the cells that use none of the removed ops (the sampler's pool is
# restricted), against the full iso supernet, both scored on the same architectures drawn from
# that sub-space, at the checkpoints both have.

# %%
if study.applies("op_pruning"):
    op_prune = rq3.op_pruning(study)
    report.table("op_pruning", op_prune, "Kendall's tau and mean OS acc inside the sub-space: sub-space supernet vs full supernet")
    fig = oneshot_plots.op_pruning(op_prune)
    report.figure("op_pruning", fig, "Op pruning: tau inside the sub-space, full vs sub-space supernet")
else:
    display(Markdown(study.not_applicable("op_pruning")))

# %% [markdown]
# ## 9. Soft pruning: sampling good architectures more often
# After a warm-up, every few epochs a fresh pool of uniform cells is rescored on one held-out
# batch and training draws from it with probability softmax(OS acc / T)
# (`study.plan.soft_prune` = soft:warm-up,every,T,pool size).

# %%
if study.applies("soft_pruning"):
    soft = rq3.soft_pruning(study)
    report.table("soft_pruning", soft, "Criteria along training: soft pruning vs iso sampling")
    fig = plots.variants_along_training(soft[soft["estimator"] == "os_acc"], "variant")
    report.figure("soft_pruning", fig, "Kendall's tau along training, soft pruning vs iso")
else:
    display(Markdown(study.not_applicable("soft_pruning")))

# %% [markdown]
# ## 10. Gradient similarity of the BN scale parameters (BN-affine variant)
# With BN affine on, every op's BN γ is shared by the architectures using that op, like its conv
# weights. Cosine similarity of different architectures' gradients on the γs, per layer.

# %%
if study.applies("bn_gamma"):
    gamma_sim = rq3.bn_gamma_similarity(study)
    report.table("bn_gamma_similarity", gamma_sim, "Cosine similarity of gradients on BN gamma per layer and checkpoint (BN affine)")
    fig = oneshot_plots.bn_gamma_similarity(gamma_sim)
    report.figure("bn_gamma_similarity", fig, "Gradient cosine similarity on BN gamma along training")
else:
    display(Markdown(study.not_applicable("bn_gamma")))

# %% [markdown]
# ## The study beside the kit

# %%
report.reproduction({"rq3_samplers_along_training": samplers, "rq3_pruning": pruning}, context)

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
display(Markdown(narrative.rq3_conclusions(samplers, post, pruning, ensemble, affine, withheld, sampler_effects)))
report.done()

# %% [markdown]
# ## Change this and rerun
# * **Sampler.** `rq3.sampler_comparison(study)` trains one supernet per entry of
#   `study.plan.rq3_samplers`. Add a cell after the parameters with
#   `import dataclasses; study.plan = dataclasses.replace(study.plan, rq3_samplers=study.plan.rq3_samplers + ("mc:5",))`
#   and rerun section 1: does five architectures per step keep helping at equal epochs?
# * **Epochs.** With `profile = "paper"` the pruning rows above become comparable with the
#   study's (epoch 600 → 1000): does the sign of Δτ match?
