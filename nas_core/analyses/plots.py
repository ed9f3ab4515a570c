"""Seaborn figures for the RQ notebooks. Each function takes a tidy frame produced by the
study and returns a matplotlib Figure with labelled axes (the notebook saves it)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline") else None
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from nas_core.space.nb201 import OPS  # noqa: E402
from nas_core.engines.evaluate import overall  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
LABELS = {"kendall_tau_b": "Kendall's τ-b", "kendall_tau_a": "Kendall's τ-a", "spearman": "Spearman ρ",
          "pearson": "Pearson (LC)", "p_at_top": "P@topK", "p_at_bottom": "P@bottomK",
          "br_at_k": "BR@K", "wr_at_k": "WR@K", "sparse_kendall_tau": "sparse τ"}
SHORT_OPS = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3",
             "avg_pool_3x3": "pool"}


def _label(c: str) -> str:
    return LABELS.get(c, c.replace("_", " "))


def _empty(message: str):
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


def criteria_bars(crit: pd.DataFrame, criteria, title: str = "", hue: str | None = None):
    """Horizontal bars per estimator, one panel per criterion, with CI whiskers if present."""
    data = crit[crit["criterion"].isin(criteria) & crit["k"].isna()]
    if data.empty:
        return _empty("no data")
    fig, axes = plt.subplots(1, len(criteria), figsize=(4.2 * len(criteria), 0.35 * data["estimator"].nunique() + 1.8),
                             squeeze=False, sharey=True)
    order = (data[data["criterion"] == criteria[0]].sort_values("value", ascending=False)["estimator"].unique())
    for ax, c in zip(axes[0], criteria):
        d = data[data["criterion"] == c].set_index("estimator").reindex(order).reset_index()
        ax.barh(d["estimator"], d["value"], color=sns.color_palette("viridis", len(d)))
        if "ci_low" in d and d["ci_low"].notna().any():
            err = np.vstack([d["value"] - d["ci_low"], d["ci_high"] - d["value"]]).clip(min=0)
            ax.errorbar(d["value"], d["estimator"], xerr=err, fmt="none", ecolor="black", capsize=2, lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(_label(c))
        ax.invert_yaxis()
    axes[0][0].set_ylabel("estimator")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def criteria_along_training(crit: pd.DataFrame, criteria, hue: str = "estimator"):
    """value vs epoch, one panel per criterion (P@top at K = 5 % / the smallest K present)."""
    panels = []
    for c in criteria:
        d = crit[crit["criterion"] == c]
        if d["k"].notna().any():
            k = 0.05 if (d["k"] == 0.05).any() else d["k"].dropna().min()
            d = d[d["k"] == k].assign(criterion=f"{c}@{k:g}")
        panels.append(d)
    data = pd.concat(panels)
    if data.empty:
        return _empty("no data")
    g = sns.relplot(data=data, x="epoch", y="value", hue=hue, col="criterion", kind="line", marker="o",
                    col_wrap=min(4, data["criterion"].nunique()), height=3, aspect=1.2, facet_kws={"sharey": False})
    g.set_axis_labels("supernet epoch", "criterion value")
    g.set_titles("{col_name}")
    return g.figure


def variants_along_training(crit: pd.DataFrame, hue: str, criterion: str = "kendall_tau_b"):
    d = overall(crit, criterion)
    if d.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=d, x="epoch", y="value", hue=hue, marker="o", ax=ax)
    ax.set_xlabel("supernet epoch (0 = random initialisation)")
    ax.set_ylabel(_label(criterion))
    ax.legend(title=hue, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def top_vs_bottom(crit: pd.DataFrame):
    d = crit[crit["criterion"].isin(["p_at_top", "p_at_bottom"])].dropna(subset=["k"])
    if d.empty:
        return _empty("no data")
    d = d.assign(K=(d["k"] * 100).map(lambda v: f"{v:g} %"))
    g = sns.catplot(data=d, x="K", y="value", hue="estimator", col="criterion", kind="point", height=3.5,
                    aspect=1.3, order=sorted(d["K"].unique(), key=lambda s: float(s.split()[0])))
    g.set_axis_labels("K (share of architectures)", "precision")
    g.set_titles("{col_name}")
    return g.figure


def scatter_grid(scores: pd.DataFrame, truth: pd.Series, estimators):
    estimators = [e for e in estimators if e in scores.columns]
    if not estimators:
        return _empty("no data")
    fig, axes = plt.subplots(1, len(estimators), figsize=(3.4 * len(estimators), 3.3), squeeze=False)
    t = truth.reindex(scores["index"]).rank(pct=True).to_numpy()
    for ax, e in zip(axes[0], estimators):
        s = scores[e].rank(pct=True).to_numpy()
        ax.scatter(s, t, s=6, alpha=0.5)
        ax.set_xlabel(f"{e} (rank fraction)")
        ax.set_title(e)
    axes[0][0].set_ylabel("ground truth (rank fraction)")
    fig.tight_layout()
    return fig


def batches_effect(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    sns.lineplot(data=frame, x="batches", y="kendall_tau_b", hue="checkpoint", marker="o", ax=axes[0])
    axes[0].set_xlabel("validation batches averaged")
    axes[0].set_ylabel("Kendall's τ-b of OS acc")
    sns.lineplot(data=frame, x="batches", y="accuracy_levels", hue="checkpoint", marker="o", ax=axes[1])
    axes[1].set_xlabel("validation batches averaged")
    for ax in axes:  # batch counts are integers
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes[1].set_ylabel("distinct OS acc values (levels)")
    fig.tight_layout()
    return fig


def flops_groups_along_training(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    sns.lineplot(data=frame, x="epoch", y="mean_rd", hue="group", marker="o", palette="viridis", ax=axes[0])
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_xlabel("supernet epoch")
    axes[0].set_ylabel("mean ranking difference (fraction of M)")
    sns.lineplot(data=frame, x="epoch", y="tau", hue="group", marker="o", palette="viridis", ax=axes[1])
    axes[1].set_xlabel("supernet epoch")
    axes[1].set_ylabel("Kendall's τ inside the FLOPs group")
    axes[0].get_legend().remove()
    axes[1].legend(title="FLOPs group\n(0 = smallest)", fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def flops_groups(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.barplot(data=frame, x="estimator", y="mean_rd", hue="group", palette="viridis", ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("estimator")
    ax.set_ylabel("mean ranking difference (fraction of M)")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(title="FLOPs group", fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def op_bias_heatmaps(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no mutation pairs among the scored architectures")
    estimators = list(frame["estimator"].unique())
    fig, axes = plt.subplots(1, len(estimators), figsize=(3.6 * len(estimators), 3.4), squeeze=False)
    names = [SHORT_OPS[o] for o in OPS]
    for ax, e in zip(axes[0], estimators):
        d = frame[frame["estimator"] == e]
        mat = d.pivot_table(index="from_op", columns="to_op", values="bias").reindex(index=list(OPS), columns=list(OPS))
        sns.heatmap(mat.to_numpy(dtype=float), ax=ax, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=True,
                    fmt=".2f", annot_kws={"size": 7}, xticklabels=names, yticklabels=names, cbar=False)
        ax.set_title(e)
        ax.set_xlabel("mutated to")
        ax.set_ylabel("mutated from")
    fig.tight_layout()
    return fig


def preferences_heatmap(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    mat = frame.pivot_table(index="estimator", columns="feature", values="spearman")
    fig, ax = plt.subplots(figsize=(1.0 * mat.shape[1] + 2, 0.4 * mat.shape[0] + 1.5))
    sns.heatmap(mat, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=True, fmt=".2f", annot_kws={"size": 7}, ax=ax)
    ax.set_xlabel("architecture feature")
    ax.set_ylabel("estimator (truth = ground truth)")
    fig.tight_layout()
    return fig


def diagnostics(diag: dict):
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    fv, gs = diag.get("forgetting"), diag.get("gradient_similarity")
    if fv is not None and not fv.empty:
        sns.boxplot(data=fv, x="epoch", y="forgetting", ax=axes[0], color="tab:blue")
        axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_xlabel("supernet epoch")
    axes[0].set_ylabel("forgetting value (acc points)")
    if gs is not None and not gs.empty:
        sns.lineplot(data=gs, x="epoch", y="cosine", hue="layer", marker="o", ax=axes[1], legend=False)
        sns.lineplot(data=gs.groupby("epoch", as_index=False)["cosine"].mean(), x="epoch", y="cosine",
                     color="black", lw=2.5, ax=axes[1], label="mean over layers")
    axes[1].axhline(0, color="grey", lw=0.8)
    axes[1].set_xlabel("supernet epoch")
    axes[1].set_ylabel("gradient cosine similarity")
    fig.tight_layout()
    return fig


def stability(stab: dict):
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    adj, seeds = stab.get("adjacent"), stab.get("seeds")
    if adj is not None and not adj.empty:
        sns.lineplot(data=adj, x="epoch", y="kendall_tau_b", hue="seed", marker="o", ax=axes[0])
    axes[0].set_xlabel("checkpoint epoch (vs the previous one)")
    axes[0].set_ylabel("Kendall's τ between adjacent checkpoints")
    if seeds is not None and not seeds.empty:
        sns.lineplot(data=seeds, x="epoch", y="kendall_tau_b", hue="seed", marker="o", ax=axes[1])
    axes[1].set_xlabel("supernet epoch")
    axes[1].set_ylabel("Kendall's τ-b vs ground truth")
    fig.tight_layout()
    return fig


def pruning(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.barplot(data=frame, x="keep_fraction", y="kendall_tau_b", hue="stage", ax=ax)
    ax.set_xlabel("kept share of the space")
    ax.set_ylabel("Kendall's τ inside the kept sub-space")
    fig.tight_layout()
    return fig


def grouped_bars(crit: pd.DataFrame, hue: str, criterion: str = "kendall_tau_b"):
    d = overall(crit, criterion)
    if d.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.barplot(data=d, x="estimator", y="value", hue=hue, ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("proxy")
    ax.set_ylabel(_label(criterion))
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def batching(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    g = sns.relplot(data=frame, x="batch_size", y="kendall_tau_b", hue="estimator", col="batches", kind="line",
                    marker="o", height=3.3, aspect=1.2)
    g.set_axis_labels("batch size", "Kendall's τ-b")
    g.set_titles("first {col_name} batch(es) averaged")
    return g.figure


def length_heatmap(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    mat = frame.pivot_table(index="epoch", columns="batches", values="kendall_tau_b")
    fig, ax = plt.subplots(figsize=(1.0 * mat.shape[1] + 2.5, 0.45 * mat.shape[0] + 1.5))
    sns.heatmap(mat, annot=True, fmt=".2f", cmap="viridis", ax=ax)
    ax.set_xlabel("validation batches")
    ax.set_ylabel("supernet epoch")
    fig.tight_layout()
    return fig


def search_results(summary: pd.DataFrame):
    if summary.empty:
        return _empty("no data")
    g = sns.catplot(data=summary, x="true_acc_mean", y="estimator", hue="method", col="budget", kind="bar",
                    height=max(3, 0.3 * summary["estimator"].nunique() + 1.5), aspect=1.1)
    g.set_axis_labels("true accuracy of the architecture found (mean over seeds)", "estimator driving the search")
    g.set_titles("budget {col_name} queries")
    lo = summary["true_acc_mean"].min()
    for ax in g.axes.flat:
        ax.set_xlim(left=max(0.0, lo - 2))
    return g.figure


def groundtruth_views(views: dict):
    mats = [(k, v) for k, v in views.items() if k.endswith("matrix")]
    if not mats:
        return _empty("no ground-truth views for this benchmark")
    fig, axes = plt.subplots(1, len(mats), figsize=(4.5 * len(mats), 3.8), squeeze=False)
    for ax, (name, mat) in zip(axes[0], mats):
        m = mat.set_index(mat.columns[0]) if not pd.api.types.is_numeric_dtype(mat.iloc[:, 0]) else mat
        sns.heatmap(m.astype(float), annot=True, fmt=".3f", cmap="viridis", vmin=0, vmax=1, ax=ax)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig
