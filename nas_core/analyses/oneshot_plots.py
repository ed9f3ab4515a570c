"""Figures of the added one-shot analyses (`oneshot_extras` and the RQ3 variants of the study)."""
from __future__ import annotations

import pandas as pd

from nas_core.analyses.plots import (ONE_SHOT_COLOURS, _empty, distinct_colours, integer_ticks, layer_heatmap,
                                      plt, sns)
from nas_core.criteria import overall


def mean_os_acc(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(frame["epoch"], frame["mean_os_acc"], marker="o", label="mean", color=ONE_SHOT_COLOURS[0])
    ax.fill_between(frame["epoch"], frame["q25"], frame["q75"], alpha=0.3, label="25-75 % of architectures",
                    color=ONE_SHOT_COLOURS[2])
    ax.plot(frame["epoch"], frame["min"], ls=":", c="grey", label="min / max")
    ax.plot(frame["epoch"], frame["max"], ls=":", c="grey")
    ax.set_xlabel("supernet epoch")
    ax.set_ylabel("OS acc (%) on held-out batches")
    integer_ticks(ax)
    ax.legend()
    fig.tight_layout()
    return fig


def topk_stability(frame: pd.DataFrame):
    """One panel per relative criterion, one line per supernet seed (no band: one value each)."""
    if frame.empty or frame["value"].notna().sum() == 0:
        return _empty("no data")
    d = frame.assign(label=[c if pd.isna(k) else f"{c} {100 * k:g} %" for c, k in zip(frame["criterion"], frame["k"])])
    d = d.dropna(subset=["value"])
    labels = list(dict.fromkeys(d["label"]))
    fig, axes = plt.subplots(1, len(labels), figsize=(3.4 * len(labels) + 1.5, 3.6), squeeze=False, sharey=True)
    pal = dict(zip(sorted(d["seed"].unique()), distinct_colours(d["seed"].nunique())))
    for ax, label in zip(axes[0], labels):
        for seed, g in d[d["label"] == label].groupby("seed"):
            g = g.sort_values("epoch")
            ax.plot(g["epoch"], g["value"], marker="o", color=pal[seed], label=f"seed {seed}")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("checkpoint epoch")
        integer_ticks(ax)
    axes[0][0].set_ylabel("relative criterion\n(previous checkpoint vs this one)")
    axes[0][-1].legend(bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def along_updates(crit: pd.DataFrame, criterion: str = "kendall_tau_b"):
    d = overall(crit, criterion)
    d = d[d["estimator"] == "os_acc"]
    if d.empty:
        return _empty("no data")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, x, label in ((axes[0], "epoch", "supernet epoch"),
                         (axes[1], "arch_updates", "cumulative arch updates (in iso epochs: epoch × archs per step)")):
        pal = dict(zip(dict.fromkeys(d["variant"]), distinct_colours(d["variant"].nunique())))
        sns.lineplot(data=d, x=x, y="value", hue="variant", marker="o", ax=ax, legend=ax is axes[1], palette=pal,
                     errorbar=None)
        ax.set_xlabel(label)
        integer_ticks(ax)
        ax.set_ylabel("Kendall's τ-b")
    axes[1].legend(title="sampler", bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def op_pruning(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    groups = list(frame["removed_ops"].unique())
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 3.8), squeeze=False)
    for ax, g in zip(axes[0], groups):
        part = frame[frame["removed_ops"] == g]
        sns.lineplot(data=part, x="epoch", y="kendall_tau_b", hue="supernet", marker="o", ax=ax, errorbar=None,
                     palette=dict(zip(dict.fromkeys(part["supernet"]), distinct_colours(part["supernet"].nunique()))))
        integer_ticks(ax)
        ax.set_title(f"without {g}")
        ax.set_xlabel("supernet epoch")
        ax.set_ylabel("Kendall's τ-b inside the sub-space")
    fig.tight_layout()
    return fig


def bn_gamma_similarity(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(7, 0.35 * frame["layer"].nunique() + 1.8))
    layer_heatmap(frame, ax, label="mean cosine of gradients on BN γ")
    fig.tight_layout()
    return fig
