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
# device: auto | cpu | cuda
device = "auto"
# truth_column: empty = the benchmark default (NB201 cifar10_test_acc_200ep, mini fmnist_test_acc_mean)
truth_column = ""

# %%
from IPython.display import Markdown, display

from nas_core.analyses import narrative, plots
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column)
report = study.report("rq3")
display(Markdown(study.banner()))

# %% [markdown]
# ## 1. Sampling strategies

# %%
samplers = study.sampler_comparison()
report.table("samplers_along_training", samplers, "Criteria of OS acc along training, per sampling strategy")
fig = plots.variants_along_training(samplers, "variant")
report.figure("samplers", fig, "Kendall's tau along training per sampling strategy")
display(Markdown(narrative.variant_summary(samplers, "sampling strategy")))

# %% [markdown]
# ## 2. Post-de-isomorphism
# Isomorphic cells compute the same function, but the supernet scores them differently.
# Averaging their scores at test time removes that noise without retraining.

# %%
post = study.post_deiso()
report.table("post_deiso", post, "Criteria with and without averaging scores inside isomorphism classes")
fig = plots.criteria_bars(post, ["kendall_tau_b", "spearman"], title="Post-de-isomorphism")
report.figure("post_deiso", fig, "Effect of averaging OS scores within isomorphism classes")

# %% [markdown]
# ## 3. One-shot pruning (less sharing)

# %%
pruning = study.pruning()
report.table("pruning", pruning, "Inside the kept sub-space, same final epoch: unpruned (before) vs pruned + fine-tuned (after); tau, mean OS acc, deltas")
fig = plots.pruning(pruning)
report.figure("pruning", fig, "One-shot pruning: tau inside the kept top-p % sub-space")
display(Markdown(narrative.pruning_summary(pruning)))

# %% [markdown]
# ## 4. Temporal ensemble

# %%
ensemble = study.temporal_ensemble()
report.table("temporal_ensemble", ensemble, "Last checkpoint vs averaged weights vs averaged scores of the last checkpoints")
fig = plots.criteria_bars(ensemble, ["kendall_tau_b", "spearman"], title="Temporal ensemble")
report.figure("temporal_ensemble", fig, "Temporal ensembles of the last checkpoints")

# %% [markdown]
# ## 5. BN affine on or off

# %%
affine = study.affine_comparison()
report.table("bn_affine", affine, "Criteria along training with and without BN affine parameters in the cells")
fig = plots.variants_along_training(affine, "variant")
report.figure("bn_affine", fig, "Kendall's tau along training, BN affine on vs off")

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
display(Markdown(narrative.rq3_conclusions(samplers, post, pruning, ensemble, affine)))
report.done()
