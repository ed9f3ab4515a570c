# %% [markdown]
# # RQ4 — How do training and input data change the estimators?
#
# * Zero-shot proxies on **randomly initialised** weights vs on the **trained supernet's**
#   weights (every checkpoint): does training help the proxies?
# * Proxies fed **real images** vs **Gaussian noise** vs an **all-ones** image: how much of a
#   proxy is about the data at all?
# * **Batch size** and **number of batches** for the proxies.
# * For the one-shot estimator: **training length** (checkpoints) and **validation size**
#   (number of held-out batches).

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
report = study.report("rq4")
display(Markdown(study.banner()))

# %% [markdown]
# ## 1. Zero-shot proxies on random vs trained supernet weights

# %%
trained = study.zs_on_supernet()
report.table("zse_on_trained_supernet", trained, "Kendall's tau of each proxy with random init (epoch 0) and supernet weights per checkpoint")
fig = plots.variants_along_training(trained, "estimator", criterion="kendall_tau_b")
report.figure("zse_on_trained_supernet", fig, "Proxies computed on the trained supernet's weights, along training")
trained_effects = study.trained_weight_effects()
display(Markdown(narrative.trained_weights_summary(trained, trained_effects)))

# %% [markdown]
# ## 2. Real images vs noise vs all-ones

# %%
inputs = study.zs_input_modes()
report.table("zse_input_modes", inputs, "Criteria of each proxy per input mode")
fig = plots.grouped_bars(inputs, "input_mode")
report.figure("zse_input_modes", fig, "Kendall's tau per proxy and input mode")
input_effects = study.input_mode_effects()
display(Markdown(narrative.input_modes_summary(inputs, input_effects)))

# %% [markdown]
# ## 3. Batch size and number of batches

# %%
sizes = study.zs_batching()
report.table("zse_batching", sizes, "Kendall's tau per proxy vs batch size and number of batches averaged")
fig = plots.batching(sizes)
report.figure("zse_batching", fig, "Proxies vs batch size and number of batches")

# %% [markdown]
# ## 4. One-shot: training length and validation size

# %%
length = study.training_length_and_validation_size()
report.table("ose_length_and_validation", length, "OS acc Kendall's tau per checkpoint and number of validation batches")
fig = plots.length_heatmap(length)
report.figure("ose_length_and_validation", fig, "Kendall's tau of OS acc by checkpoint and validation batches")

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
display(Markdown(narrative.rq4_conclusions(trained, inputs, sizes, length, trained_effects, input_effects)))
report.done()
