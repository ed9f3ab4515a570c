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
# benchmark: auto | nb201 | nb301 | nb101 | nds_resnet | nds_resnexta | mini (auto: nb201 with a data root, else mini)
benchmark = "auto"
# device: auto | cpu | cuda
device = "auto"
# truth_column: empty = the benchmark default (NB201 cifar10_test_acc_200ep, mini fmnist_test_acc_mean)
truth_column = ""

# %%
from IPython.display import Markdown, display

from nas_core.analyses import narrative, plots
from nas_core.engines import rq5
from nas_core.engines.study import Study

study = Study.open(profile=profile, data_root=data_root, device=device, truth_column=truth_column,
                   benchmark=benchmark)
report = study.report("rq5")
n = len(study.eval_indices)
display(Markdown(study.banner()))

# %% [markdown]
# ## 1. Searches driven by each estimator
# **Question.** Does a better τ give a better architecture at the end of a search?
#
# **How it is measured.** On the n sampled architectures (not the whole space), each estimator
# drives random search and regularized evolution with the same seeds and budgets; we report the
# true accuracy of what each search returns, mean ± sd over search seeds, and the "oracle": the
# same search driven by the ground truth. Regret is measured against **the sample's best**.
#
# **Caveat.** A budget as large as the sample queries every architecture: then only the
# estimator's top-1 matters.

# %%
searches = rq5.searches(study)
summary = rq5.search_summary(searches)
report.table("search_runs", searches, "Every search run: estimator, method, budget, seed, found architecture and its true accuracy")
report.table("search_summary", summary, "Mean true accuracy (and regret) of the architecture found, per estimator and method")
fig = plots.search_results(summary)
report.figure("search_results", fig, "True accuracy of the architecture found, per estimator and search method")
display(Markdown(narrative.search_summary(summary, n_candidates=n)))

# %% [markdown]
# **Best-so-far.** The true accuracy of each search's incumbent (its best candidate by the
# estimator) after every query, mean over search seeds (band: 25–75 % of the seeds), for the
# ground truth and the best estimators; the dotted line is the sample's best.

# %%
traj = rq5.search_trajectories(study)
report.table("search_trajectories", traj, "Best-so-far: true accuracy of the incumbent after each query, per seed",
             show=False)
fig = plots.search_trajectories(traj, best=float(study.truth.reindex(study.eval_indices).max()))
report.figure("search_trajectories", fig, "True accuracy of the incumbent vs queries, per estimator and method")

# %% [markdown]
# ## 2. The benchmark's own views
# On NAS-Bench-201: how consistently the ground truth ranks across datasets, and how good the
# 12-epoch training result is as a (costly) low-fidelity estimator. On the mini benchmark:
# the agreement of its two training seeds.

# %%
views = rq5.groundtruth_views(study)
for name, frame in views.items():
    report.table(name, frame, name.replace("_", " "))
fig = plots.groundtruth_views(views)
report.figure("groundtruth_views", fig, "Ground-truth rank agreement", n=None if study.benchmark == "nb201" else n)

# %% [markdown]
# ## 3. Guidelines (each with its evidence)

# %%
evidence = rq5.collect_evidence(study)
report.table("evidence", evidence, "The numbers behind each guideline")
display(Markdown(evidence.attrs["oneshot_verdict"]))
display(Markdown(narrative.guidelines(evidence, summary)))

# %% [markdown]
# ## 4. What reproduces, what does not yet
# The verdicts of RQ1–RQ4's tables "The study beside the kit", counted (run those notebooks
# first; the index of the outputs carries the same summary).

# %%
from nas_core.analyses import reproduction
import pandas as pd

frames = [pd.read_csv(p, keep_default_na=False) for p in sorted((report.root / "tables").glob("rq[1-4]_reproduction.csv"))]
display(Markdown(reproduction.markdown_section(frames, study.profile)))
report.done()

# %% [markdown]
# ## Change this and rerun
# * **Search budget.** `rq5.searches(study)` uses `study.plan.search_budgets`; try a budget of 10 %
#   of the sample (`dataclasses.replace(study.plan, search_budgets=(n // 10,))`): does the gap
#   between a good and a poor estimator widen when the search cannot query everything?
