# %% [markdown]
# # RQ5 — Guidelines, and what the choice of estimator does to a search
#
# Criteria are proxies for what matters: **the architecture a search ends up with**. Here
# every estimator drives the same searches at the same budget — picking the top-scored
# architecture, random search, and regularized evolution — and we report the true accuracy
# of what each finds, against the same searches driven by the ground truth itself.
# The guidelines at the end are generated from the numbers of RQ1–RQ4 (all cached results).

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
report = study.report("rq5")
display(Markdown(study.banner()))

# %% [markdown]
# ## 1. Searches driven by each estimator

# %%
searches = study.searches()
summary = study.search_summary(searches)
report.table("search_runs", searches, "Every search run: estimator, method, budget, seed, found architecture and its true accuracy")
report.table("search_summary", summary, "Mean true accuracy (and regret) of the architecture found, per estimator and method")
fig = plots.search_results(summary)
report.figure("search_results", fig, "True accuracy of the architecture found, per estimator and search method")
display(Markdown(narrative.search_summary(summary)))

# %% [markdown]
# ## 2. The benchmark's own views
# On NAS-Bench-201: how consistently the ground truth ranks across datasets, and how good the
# 12-epoch training result is as a (costly) low-fidelity estimator. On the mini benchmark:
# the agreement of its two training seeds.

# %%
views = study.groundtruth_views()
for name, frame in views.items():
    report.table(name, frame, name.replace("_", " "))
fig = plots.groundtruth_views(views)
report.figure("groundtruth_views", fig, "Ground-truth rank agreement")

# %% [markdown]
# ## 3. Guidelines (each with its evidence)

# %%
evidence = study.collect_evidence()
report.table("evidence", evidence, "The numbers behind each guideline")
display(Markdown(evidence.attrs["oneshot_verdict"]))
display(Markdown(narrative.guidelines(evidence, summary)))
report.done()
