"""Figures of the added one-shot analyses (`oneshot_extras` and the RQ3 variants of the study)."""
from __future__ import annotations

import pandas as pd

from nas_core.analyses.plots import _empty, plt, sns
from nas_core.engines.evaluate import overall


def mean_os_acc(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(frame["epoch"], frame["mean_os_acc"], marker="o", label="mean")
    ax.fill_between(frame["epoch"], frame["q25"], frame["q75"], alpha=0.3, label="25-75 % of architectures")
    ax.plot(frame["epoch"], frame["min"], ls=":", c="grey", label="min / max")
    ax.plot(frame["epoch"], frame["max"], ls=":", c="grey")
    ax.set_xlabel("supernet epoch")
    ax.set_ylabel("OS acc (%) on held-out batches")
    ax.legend()
    fig.tight_layout()
    return fig


def topk_stability(frame: pd.DataFrame):
    if frame.empty or frame["value"].notna().sum() == 0:
        return _empty("no data")
    d = frame.assign(label=[c if pd.isna(k) else f"{c} {100 * k:g} %" for c, k in zip(frame["criterion"], frame["k"])])
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.lineplot(data=d.dropna(subset=["value"]), x="epoch", y="value", hue="label", style="seed", marker="o", ax=ax)
    ax.set_xlabel("checkpoint epoch (truth for the previous checkpoint)")
    ax.set_ylabel("relative criterion")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left")
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
        sns.lineplot(data=d, x=x, y="value", hue="variant", marker="o", ax=ax, legend=ax is axes[1])
        ax.set_xlabel(label)
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
        sns.lineplot(data=frame[frame["removed_ops"] == g], x="epoch", y="kendall_tau_b", hue="supernet",
                     marker="o", ax=ax)
        ax.set_title(f"without {g}")
        ax.set_xlabel("supernet epoch")
        ax.set_ylabel("Kendall's τ-b inside the sub-space")
    fig.tight_layout()
    return fig


def bn_gamma_similarity(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    sns.lineplot(data=frame, x="epoch", y="cosine", hue="layer", marker="o", ax=ax)
    ax.axhline(0, c="grey", lw=0.8)
    ax.set_xlabel("supernet epoch")
    ax.set_ylabel("mean cosine of gradients on BN γ")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig
