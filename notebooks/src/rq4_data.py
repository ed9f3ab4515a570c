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
# benchmark: auto | nb201 | nb301 | nb101 | nds_resnet | nds_resnexta | mini (auto: nb201 with a data root, else mini)
benchmark = "auto"
# device: auto | cpu | cuda
device = "auto"
# truth_column: empty = the benchmark default (NB201 cifar10_test_acc_200ep, mini fmnist_test_acc_mean)
truth_column = ""

# %%
from IPython.display import Markdown, display

from nas_core.analyses import narrative, plots, reproduction
from nas_core.engines import rq4
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column,
                   benchmark=benchmark)
report = study.report("rq4")
n4, n = len(study.rq4_indices), len(study.eval_indices)
# RQ4 sweeps many settings: the proxies use a smaller sample (rq4_archs), the one-shot part the evaluated set
display(Markdown(study.banner(n=f"{n4} (zero-shot sections 1–3); {n} (one-shot section 4)",
                              what="architectures")))
verdict = study.oneshot_verdict()
context = reproduction.profile_context(study.profile, study.benchmark, n4, oneshot=verdict)

# %% [markdown]
# ## 1. Zero-shot proxies on random vs trained supernet weights
# **Question.** Would the proxies rank better on trained weights than on random ones?
#
# **How it is measured.** Each proxy is computed on the supernet's path for every architecture,
# with the supernet's own random init (epoch 0) and with its weights at every checkpoint; τ
# against the truth, and the last-minus-first change with a paired interval over n architectures.
# Many proxies: one heatmap row per proxy instead of lines.
#
# **Caveat.** The study's supernet trained 1000 epochs; a short run only shows the first steps.

# %%
trained = rq4.zs_on_supernet(study)
report.table("zse_on_trained_supernet", trained, "Kendall's tau of each proxy with random init (epoch 0) and supernet weights per checkpoint")
fig = plots.variants_along_training(trained, "estimator", criterion="kendall_tau_b")
report.figure("zse_on_trained_supernet", fig, "Proxies computed on the trained supernet's weights, along training", n=n4)
trained_effects = rq4.trained_weight_effects(study)
display(Markdown(f"*n = {n4} architectures.*\n\n" + narrative.trained_weights_summary(trained, trained_effects)))
display(Markdown(reproduction.section_markdown(["all_zse_trained"], {"rq4_zse_on_trained_supernet": trained}, context)))

# %% [markdown]
# ## 2. Real images vs noise vs all-ones
# **Question.** How much of a proxy is about the data at all?
#
# **How it is measured.** The same proxies fed real images, Gaussian noise, or an all-ones image;
# τ per input mode, and real − noise with a paired interval over n architectures.
#
# **Caveat.** A proxy that does not change with the input is an architecture counter: it may
# still rank well, for reasons that have nothing to do with the task.

# %%
inputs = rq4.zs_input_modes(study)
report.table("zse_input_modes", inputs, "Criteria of each proxy per input mode")
fig = plots.grouped_bars(inputs, "input_mode")
report.figure("zse_input_modes", fig, "Kendall's tau per proxy and input mode", n=n4)
input_effects = rq4.input_mode_effects(study)
display(Markdown(f"*n = {n4} architectures.*\n\n" + narrative.input_modes_summary(inputs, input_effects)))

# %% [markdown]
# ## 3. Batch size and number of batches
# **Question.** How much data does a proxy need?
#
# **How it is measured.** τ per proxy for each batch size and number of batches averaged, on the
# same n architectures (one heatmap per number of batches).
#
# **Caveat.** Point values: compare differences with the per-proxy intervals of RQ1.

# %%
sizes = rq4.zs_batching(study)
report.table("zse_batching", sizes, "Kendall's tau per proxy vs batch size and number of batches averaged")
fig = plots.batching(sizes)
report.figure("zse_batching", fig, "Proxies vs batch size and number of batches", n=n4)

# %% [markdown]
# ## 4. One-shot: training length and validation size
# **Question.** For the supernet, which matters more: training longer or validating on more data?
#
# **How it is measured.** τ of OS acc for every checkpoint × number of held-out batches, on the
# evaluated architectures.
#
# **Caveat.** One supernet seed: point values.

# %%
length = rq4.training_length_and_validation_size(study)
report.table("ose_length_and_validation", length, "OS acc Kendall's tau per checkpoint and number of validation batches")
fig = plots.length_heatmap(length)
report.figure("ose_length_and_validation", fig, "Kendall's tau of OS acc by checkpoint and validation batches")

# %% [markdown]
# ## The study beside the kit

# %%
report.reproduction({"rq4_zse_on_trained_supernet": trained}, context)

# %% [markdown]
# ## Conclusions (computed from the numbers above)

# %%
display(Markdown(narrative.rq4_conclusions(trained, inputs, sizes, length, trained_effects, input_effects)))
report.done()

# %% [markdown]
# ## Change this and rerun
# * **Input mode.** `study.zs_scores(input_mode="noise")` gives every proxy on noise for the
#   evaluated set: put `study.evaluate(study.zs_table(...))` beside RQ1's leaderboard — which
#   proxies keep their τ?
# * **Batch size.** `study.zs_scores(batch_size=128, batches=1)` is the study's setting: with
#   it, do jacob_cov and synflow move toward the study's τ (RQ1's verdicts)?
