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
from nas_core.criteria import overall  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
LABELS = {"kendall_tau_b": "Kendall's τ-b", "kendall_tau_a": "Kendall's τ-a", "spearman": "Spearman ρ",
          "pearson": "Pearson (LC)", "p_at_top": "P@topK", "p_at_bottom": "P@bottomK",
          "br_at_k": "BR@K", "wr_at_k": "WR@K", "sparse_kendall_tau": "sparse τ"}
SHORT_OPS = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3",
             "avg_pool_3x3": "pool"}


# Estimator families, coloured consistently across every figure: one-shot in blues, the
# complexity baselines in greys, zero-shot proxies in distinct non-blue, non-grey colours.
ONE_SHOT_COLOURS = ["#08519c", "#4292c6", "#9ecae1", "#2171b5", "#6baed6", "#c6dbef"]
BASELINE_COLOURS = ["#252525", "#8c8c8c", "#525252", "#bdbdbd"]
ZERO_SHOT_COLOURS = ["#e6550d", "#31a354", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
                     "#fdae6b", "#74c476", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"]
FAMILY_LEGEND = {"one-shot": ONE_SHOT_COLOURS[1], "zero-shot": ZERO_SHOT_COLOURS[0],
                 "complexity baseline": BASELINE_COLOURS[1]}
MAX_LINES = 6  # lines per axes a lecture can read; beyond: small multiples or a heatmap


def family(name) -> str:
    n = str(name).lower()
    if n.startswith("os_") or n.startswith("os ") or "supernet" in n or "checkpoint" in n or "weights" in n \
            or "scores" in n or "seed" in n:
        return "one-shot"
    if n in ("params", "flops", "#params", "#flops"):
        return "complexity baseline"
    return "zero-shot"


def estimator_colours(names) -> dict:
    """A distinct colour per estimator, drawn from its family's palette (no colour reused)."""
    counters = {"one-shot": 0, "zero-shot": 0, "complexity baseline": 0}
    palettes = {"one-shot": ONE_SHOT_COLOURS, "zero-shot": ZERO_SHOT_COLOURS, "complexity baseline": BASELINE_COLOURS}
    out = {}
    for name in dict.fromkeys(names):
        fam = family(name)
        pal = palettes[fam]
        out[name] = pal[counters[fam] % len(pal)]
        counters[fam] += 1
    return out


def distinct_colours(n: int) -> list:
    """n distinct colours for variants / seeds (never more than the palette: no reuse)."""
    base = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    return base[:n] if n <= len(base) else sns.color_palette("husl", n)


def integer_ticks(ax, axis: str = "x") -> None:
    """Epochs, batches and queries are whole numbers."""
    getattr(ax, f"{axis}axis").set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    lo, hi = getattr(ax, f"get_{axis}lim")()
    if hi - lo < 2:  # a single point: widen so that the ticks can be integers
        mid = round((lo + hi) / 2)
        getattr(ax, f"set_{axis}lim")(mid - 1, mid + 1)


LEGEND_STRIP_IN = 0.45  # height (inches) of the one-row family legend under a figure's panels


def family_legend(fig) -> None:
    """The estimator families' colours in one row under the panels, where no bar can hide
    behind it (a legend inside an axes covered negative bars). The caller leaves
    LEGEND_STRIP_IN inches free at the bottom."""
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color=c, label=f) for f, c in FAMILY_LEGEND.items()], title="estimator family",
               fontsize=8, title_fontsize=8, loc="lower center", ncol=len(FAMILY_LEGEND), frameon=False,
               # anchored in figure coordinates, not to the figure's box: a tight save grows that
               # box around the report's footer, and a box-anchored legend would slide onto it
               bbox_to_anchor=(0.5, 0.0), bbox_transform=fig.transFigure)


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
    height = 0.35 * data["estimator"].nunique() + 1.8 + LEGEND_STRIP_IN
    fig, axes = plt.subplots(1, len(criteria), figsize=(4.2 * len(criteria), height), squeeze=False, sharey=True)
    order = (data[data["criterion"] == criteria[0]].sort_values("value", ascending=False)["estimator"].unique())
    for ax, c in zip(axes[0], criteria):
        d = data[data["criterion"] == c].set_index("estimator").reindex(order).reset_index()
        # bars are named on the axis: their colour is the family (lines get one colour each)
        ax.barh(d["estimator"], d["value"], color=[FAMILY_LEGEND[family(e)] for e in d["estimator"]])
        if "ci_low" in d and d["ci_low"].notna().any():
            err = np.vstack([d["value"] - d["ci_low"], d["ci_high"] - d["value"]]).clip(min=0)
            ax.errorbar(d["value"], d["estimator"], xerr=err, fmt="none", ecolor="black", capsize=2, lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(_label(c))
        ax.invert_yaxis()
    axes[0][0].set_ylabel("estimator")
    family_legend(fig)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, LEGEND_STRIP_IN / height, 1, 1))
    return fig


def criteria_along_training(crit: pd.DataFrame, criteria, hue: str = "estimator"):
    """value vs epoch, one panel per criterion (P@top at K = 5 % / the smallest K present)."""
    panels = []
    for c in criteria:
        d = crit[crit["criterion"] == c]
        if d["k"].notna().any():
            k = 0.05 if (d["k"] == 0.05).any() else d["k"].dropna().min()
            d = d[d["k"] == k].assign(criterion=f"{_label(c)} {k * 100:g} %")
        else:
            d = d.assign(criterion=_label(c))
        panels.append(d)
    data = pd.concat(panels)
    if data.empty:
        return _empty("no data")
    palette = estimator_colours(data[hue].unique()) if hue == "estimator" else None
    if hue == "estimator":  # readable names in the legend, same colours
        names = {"os_acc": "OS acc", "os_loss": "OS loss"}
        palette = {names.get(k, k): v for k, v in palette.items()}
        data = data.assign(estimator=data["estimator"].map(lambda e: names.get(e, e)))
    g = sns.relplot(data=data, x="epoch", y="value", hue=hue, col="criterion", kind="line", marker="o",
                    col_wrap=min(4, data["criterion"].nunique()), height=3, aspect=1.2, facet_kws={"sharey": False},
                    palette=palette, errorbar=None)
    g.set_axis_labels("supernet epoch", "criterion value")
    g.set_titles("{col_name}")
    for ax in g.axes.flat:
        integer_ticks(ax)
    return g.figure


def variants_along_training(crit: pd.DataFrame, hue: str, criterion: str = "kendall_tau_b"):
    """τ along training per variant. OS acc and OS loss are different estimators: one panel
    each (never averaged into one line), one line per variant, no band (one run per variant:
    there is no interval to draw). With more than MAX_LINES lines: a heatmap instead."""
    d = overall(crit, criterion)
    if d.empty:
        return _empty("no data")
    split = "estimator" if hue != "estimator" and "estimator" in d.columns else None
    panels = list(dict.fromkeys(d[split])) if split else [None]
    if d[hue].nunique() > MAX_LINES:
        return _heatmap_along_training(d, hue, criterion)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 1.5, 3.8), squeeze=False, sharey=True)
    colours = (estimator_colours(d[hue].unique()) if hue == "estimator"
               else dict(zip(dict.fromkeys(d[hue]), distinct_colours(d[hue].nunique()))))
    for ax, panel in zip(axes[0], panels):
        part = d if panel is None else d[d[split] == panel]
        for name, g in part.groupby(hue, sort=False):
            g = g.sort_values("epoch")
            ax.plot(g["epoch"], g["value"], marker="o", color=colours[name], label=str(name))
        ax.set_title(ESTIMATOR_TITLES.get(panel, panel) if panel else "")
        ax.set_xlabel("supernet epoch (0 = random initialisation)")
        integer_ticks(ax)
    axes[0][0].set_ylabel(_label(criterion))
    axes[0][-1].legend(title=hue, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


ESTIMATOR_TITLES = {"os_acc": "OS acc (held-out accuracy)", "os_loss": "OS loss (negated held-out loss)"}


def _heatmap_along_training(d: pd.DataFrame, rows: str, criterion: str):
    mat = d.pivot_table(index=rows, columns="epoch", values="value")
    mat = mat.loc[mat.iloc[:, -1].sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(0.9 * mat.shape[1] + 3, 0.38 * mat.shape[0] + 1.6))
    sns.heatmap(mat, cmap="RdBu_r", center=0, annot=True, fmt=".2f", annot_kws={"size": 7}, ax=ax,
                cbar_kws={"label": _label(criterion)})
    ax.set_xlabel("supernet epoch (0 = random initialisation)")
    ax.set_ylabel(rows)
    fig.tight_layout()
    return fig


def top_vs_bottom(crit: pd.DataFrame):
    """P@topK and P@bottomK per estimator and K as two heatmaps (too many estimators for lines)."""
    d = crit[crit["criterion"].isin(["p_at_top", "p_at_bottom"])].dropna(subset=["k"])
    if d.empty:
        return _empty("no data")
    d = d.assign(K=(d["k"] * 100).map(lambda v: f"{v:g} %"))
    order = sorted(d["K"].unique(), key=lambda s: float(s.split()[0]))
    rows = (d[d["criterion"] == "p_at_top"].groupby("estimator")["value"].mean().sort_values(ascending=False).index)
    fig, axes = plt.subplots(1, 2, figsize=(2 * (0.7 * len(order) + 2.5), 0.35 * len(rows) + 1.8), sharey=True)
    for ax, c, title in ((axes[0], "p_at_top", "P@topK: best K % found"),
                         (axes[1], "p_at_bottom", "P@bottomK: worst K % found")):
        mat = d[d["criterion"] == c].pivot_table(index="estimator", columns="K", values="value")
        mat = mat.reindex(index=rows, columns=order)
        sns.heatmap(mat, vmin=0, vmax=1, cmap="viridis", annot=True, fmt=".2f", annot_kws={"size": 7}, ax=ax,
                    cbar=ax is axes[1], cbar_kws={"label": "precision (share of the true K %)"})
        ax.set_title(title)
        ax.set_xlabel("K (share of architectures)")
        ax.set_ylabel("estimator" if ax is axes[0] else "")
    fig.tight_layout()
    return fig


def scatter_grid(scores: pd.DataFrame, truth: pd.Series, estimators):
    estimators = [e for e in estimators if e in scores.columns]
    if not estimators:
        return _empty("no data")
    fig, axes = plt.subplots(1, len(estimators), figsize=(3.4 * len(estimators), 3.3), squeeze=False)
    t = truth.reindex(scores["index"]).rank(pct=True).to_numpy()
    colours = estimator_colours(estimators)
    for ax, e in zip(axes[0], estimators):
        s = scores[e].rank(pct=True).to_numpy()
        ax.scatter(s, t, s=6, alpha=0.5, color=colours[e])
        ax.set_xlabel(f"{e} (rank fraction)")
        ax.set_title(e)
    axes[0][0].set_ylabel("ground truth (rank fraction)")
    fig.tight_layout()
    return fig


def batches_effect(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    pal = dict(zip(dict.fromkeys(frame["checkpoint"]), distinct_colours(frame["checkpoint"].nunique())))
    sns.lineplot(data=frame, x="batches", y="kendall_tau_b", hue="checkpoint", marker="o", ax=axes[0],
                 palette=pal, errorbar=None)
    axes[0].set_xlabel("validation batches averaged")
    axes[0].set_ylabel("Kendall's τ-b of OS acc")
    sns.lineplot(data=frame, x="batches", y="accuracy_levels", hue="checkpoint", marker="o", ax=axes[1],
                 palette=pal, errorbar=None, legend=False)
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
    sns.lineplot(data=frame, x="epoch", y="mean_rd", hue="group", marker="o", palette="viridis", ax=axes[0],
                 errorbar=None)
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_xlabel("supernet epoch")
    axes[0].set_ylabel("mean ranking difference\n(positive = over-estimated)")
    sns.lineplot(data=frame, x="epoch", y="tau", hue="group", marker="o", palette="viridis", ax=axes[1],
                 errorbar=None)
    for ax in axes:
        integer_ticks(ax)
    axes[1].set_xlabel("supernet epoch")
    axes[1].set_ylabel("Kendall's τ inside the FLOPs group")
    axes[0].get_legend().remove()
    axes[1].legend(title="FLOPs quintile\n(0 = smallest FLOPs)", fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def flops_groups(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.barplot(data=frame, x="estimator", y="mean_rd", hue="group", palette="viridis", ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("estimator")
    ax.set_ylabel("mean ranking difference\n(positive = over-estimated)")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(title="FLOPs quintile\n(0 = smallest FLOPs)", fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def op_bias_heatmaps(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no mutation pairs among the scored architectures")
    estimators = list(frame["estimator"].unique())
    seen = set(frame["from_op"]) | set(frame["to_op"])
    ops = list(OPS) if seen <= set(OPS) else sorted(seen)  # NB201's fixed order, else the space's ops
    ncols = min(len(estimators), 4)
    nrows = -(-len(estimators) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols + 1.2, 3.4 * nrows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(estimators):]:
        ax.set_visible(False)
    names = [SHORT_OPS.get(o, o.replace("_conv_", "").replace("_pool_", "pool").replace("skip_connect", "skip"))
             for o in ops]
    for ax, e in zip(axes.flat, estimators):
        d = frame[frame["estimator"] == e]
        mat = d.pivot_table(index="from_op", columns="to_op", values="bias").reindex(index=ops, columns=ops)
        sns.heatmap(mat.to_numpy(dtype=float), ax=ax, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=True,
                    fmt=".2f", annot_kws={"size": 7}, xticklabels=names, yticklabels=names, cbar=False)
        ax.set_title(e)
        ax.set_xlabel("mutated to")
        ax.set_ylabel("mutated from" if ax in axes[:, 0] else "")
        ax.tick_params(axis="x", rotation=45)
    sm = matplotlib.cm.ScalarMappable(cmap="RdBu_r", norm=matplotlib.colors.Normalize(-1, 1))
    fig.colorbar(sm, ax=axes.ravel().tolist(), label="P(estimate up) − P(truth up)\n(positive = over-estimated)")
    return fig


def preferences_heatmap(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    mat = frame.pivot_table(index="estimator", columns="feature", values="spearman")
    fig, ax = plt.subplots(figsize=(1.0 * mat.shape[1] + 2, 0.4 * mat.shape[0] + 1.5))
    sns.heatmap(mat, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=True, fmt=".2f", annot_kws={"size": 7}, ax=ax,
                cbar_kws={"label": "Spearman ρ"})
    ax.set_xlabel("architecture feature")
    ax.set_ylabel("estimator (truth = ground truth)")
    fig.tight_layout()
    return fig


def layer_heatmap(frame: pd.DataFrame, ax, value: str = "cosine", label: str = "mean gradient cosine similarity"):
    """layer × epoch heatmap (many layers: lines would be unreadable)."""
    mat = frame.pivot_table(index="layer", columns="epoch", values=value)
    sns.heatmap(mat, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=mat.size <= 80, fmt=".2f",
                annot_kws={"size": 7}, ax=ax, cbar_kws={"label": label + "\n(negative = conflicting)"})
    ax.set_xlabel("supernet epoch")
    ax.set_ylabel("layer")


def diagnostics(diag: dict):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    fv, gs = diag.get("forgetting"), diag.get("gradient_similarity")
    if fv is not None and not fv.empty:
        sns.boxplot(data=fv, x="epoch", y="forgetting", ax=axes[0], color=ONE_SHOT_COLOURS[1])
        axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set_xlabel("supernet epoch")
    axes[0].set_ylabel("forgetting value FV (acc points)\nafter others' steps − after own step")
    axes[0].set_title("negative = the other archs' steps made it forget", fontsize=9)
    if gs is not None and not gs.empty:
        layer_heatmap(gs, axes[1])
    fig.tight_layout()
    return fig


def stability(stab: dict):
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    adj, seeds = stab.get("adjacent"), stab.get("seeds")
    for ax, frame in ((axes[0], adj), (axes[1], seeds)):
        if frame is not None and not frame.empty:
            pal = dict(zip(sorted(frame["seed"].unique()), distinct_colours(frame["seed"].nunique())))
            sns.lineplot(data=frame, x="epoch", y="kendall_tau_b", hue="seed", marker="o", ax=ax, palette=pal,
                         errorbar=None)
        integer_ticks(ax)
    axes[0].set_xlabel("checkpoint epoch (vs the previous one)")
    axes[0].set_ylabel("Kendall's τ between adjacent checkpoints")
    axes[1].set_xlabel("supernet epoch")
    axes[1].set_ylabel("Kendall's τ-b vs ground truth")
    fig.tight_layout()
    return fig


def pruning(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.barplot(data=frame, x="keep_fraction", y="kendall_tau_b", hue="stage", ax=ax,
                palette=dict(zip(["before", "after"], distinct_colours(2))))
    ax.set_xlabel("kept share of the space")
    ax.set_ylabel("Kendall's τ inside the kept sub-space")
    fig.tight_layout()
    return fig


def grouped_bars(crit: pd.DataFrame, hue: str, criterion: str = "kendall_tau_b"):
    d = overall(crit, criterion)
    if d.empty:
        return _empty("no data")
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.barplot(data=d, x="estimator", y="value", hue=hue, ax=ax,
                palette=dict(zip(dict.fromkeys(d[hue]), distinct_colours(d[hue].nunique()))))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("proxy")
    ax.set_ylabel(_label(criterion))
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def batching(frame: pd.DataFrame):
    """τ per proxy (rows) and batch size (columns), one panel per number of batches averaged."""
    if frame.empty:
        return _empty("no data")
    panels = sorted(frame["batches"].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 2.5, 0.35 * frame["estimator"].nunique() + 1.8),
                             squeeze=False, sharey=True)
    for ax, b in zip(axes[0], panels):
        mat = frame[frame["batches"] == b].pivot_table(index="estimator", columns="batch_size", values="kendall_tau_b")
        sns.heatmap(mat, cmap="RdBu_r", center=0, vmin=-1, vmax=1, annot=True, fmt=".2f", annot_kws={"size": 7},
                    ax=ax, cbar=ax is axes[0][-1], cbar_kws={"label": "Kendall's τ-b"})
        ax.set_title(f"first {b} batch(es) averaged")
        ax.set_xlabel("batch size")
        ax.set_ylabel("proxy" if ax is axes[0][0] else "")
    fig.tight_layout()
    return fig


def length_heatmap(frame: pd.DataFrame):
    if frame.empty:
        return _empty("no data")
    mat = frame.pivot_table(index="epoch", columns="batches", values="kendall_tau_b")
    fig, ax = plt.subplots(figsize=(1.0 * mat.shape[1] + 2.5, 0.45 * mat.shape[0] + 1.5))
    sns.heatmap(mat, annot=True, fmt=".2f", cmap="viridis", ax=ax, cbar_kws={"label": "Kendall's τ-b of OS acc"})
    ax.set_xlabel("validation batches")
    ax.set_ylabel("supernet epoch")
    fig.tight_layout()
    return fig


def search_results(summary: pd.DataFrame, n_candidates: int | None = None):
    """Mean true accuracy of the architecture found ± sd over search seeds, per estimator,
    one panel per (method, budget); the dashed line is the sample's best (the 'oracle')."""
    if summary.empty:
        return _empty("no data")
    summary = summary[summary["method"] != "top1"] if (summary["method"] != "top1").any() else summary
    keys = list(summary.groupby(["method", "budget"]).groups)
    order = (summary[summary["estimator"] != "truth"].groupby("estimator")["true_acc_mean"].mean()
             .sort_values(ascending=False).index.tolist())
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 0.32 * len(order) + 1.8), squeeze=False,
                             sharey=True, sharex=True)
    for ax, (method, budget) in zip(axes[0], keys):
        g = summary[(summary["method"] == method) & (summary["budget"] == budget)].set_index("estimator")
        g_est = g.reindex(order)
        err = g_est["true_acc_std"].fillna(0) if "true_acc_std" in g_est else None
        ax.barh(order, g_est["true_acc_mean"], xerr=err, color=[FAMILY_LEGEND[family(e)] for e in order], capsize=2,
                error_kw={"lw": 0.8})
        if "truth" in g.index:
            ax.axvline(g.loc["truth", "true_acc_mean"], ls="--", color="black", lw=1,
                       label="ground truth driving the same search")
        whole = n_candidates is not None and budget >= n_candidates
        ax.set_title(f"{method}, budget {budget}" + (" (= the whole sample)" if whole else ""), fontsize=10)
        ax.set_xlabel("true accuracy found (%)\nmean ± sd over search seeds")
        lo = (g_est["true_acc_mean"] - (err if err is not None else 0)).min()
        ax.set_xlim(left=max(0.0, lo - 1))
    axes[0][0].invert_yaxis()
    axes[0][0].set_ylabel("estimator driving the search")
    from matplotlib.patches import Patch

    handles, _ = axes[0][-1].get_legend_handles_labels()
    axes[0][-1].legend(handles=handles + [Patch(color=c, label=f) for f, c in FAMILY_LEGEND.items()], fontsize=8,
                       bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def search_trajectories(traj: pd.DataFrame, best: float | None = None, max_lines: int = MAX_LINES):
    """Best-so-far: true accuracy of the incumbent vs queries, mean over seeds (band: the
    interquartile range over seeds, a real spread), one panel per method; at most `max_lines`
    estimators per panel (the truth-driven search and the best ones by final value)."""
    if traj.empty:
        return _empty("no data")
    methods = list(dict.fromkeys(traj["method"]))
    last = traj[traj["query"] == traj["query"].max()].groupby("estimator")["incumbent_true_acc"].mean()
    others = last.drop("truth", errors="ignore").sort_values(ascending=False)
    shown = (["truth"] if "truth" in last.index else []) + others.index[:max_lines - 1].tolist()
    colours = {**estimator_colours([e for e in shown if e != "truth"]), "truth": "black"}
    fig, axes = plt.subplots(1, len(methods), figsize=(5.5 * len(methods) + 2, 4), squeeze=False, sharey=True)
    for ax, method in zip(axes[0], methods):
        for est in shown:
            g = traj[(traj["method"] == method) & (traj["estimator"] == est)]
            stats = g.groupby("query")["incumbent_true_acc"]
            mean, q25, q75 = stats.mean(), stats.quantile(0.25), stats.quantile(0.75)
            ax.plot(mean.index, mean.values, color=colours[est], lw=2 if est == "truth" else 1.5,
                    ls="--" if est == "truth" else "-", label=est)
            ax.fill_between(mean.index, q25.values, q75.values, color=colours[est], alpha=0.12, lw=0)
        if best is not None:
            ax.axhline(best, color="grey", lw=0.8, ls=":", label="best in the sample")
        ax.set_title(method)
        ax.set_xlabel("queries of the estimator")
        integer_ticks(ax)
    axes[0][0].set_ylabel("true accuracy of the incumbent (%)\nmean over seeds, band 25–75 %")
    axes[0][-1].legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def groundtruth_views(views: dict):
    mats = [(k, v) for k, v in views.items() if k.endswith("matrix")]
    if not mats:
        return _empty("no ground-truth views for this benchmark")
    fig, axes = plt.subplots(1, len(mats), figsize=(4.5 * len(mats), 3.8), squeeze=False)
    for ax, (name, mat) in zip(axes[0], mats):
        m = mat.set_index(mat.columns[0]) if not pd.api.types.is_numeric_dtype(mat.iloc[:, 0]) else mat
        sns.heatmap(m.astype(float), annot=True, fmt=".3f", cmap="viridis", vmin=0, vmax=1, ax=ax,
                    cbar_kws={"label": ("Spearman ρ" if "spearman" in name else "Kendall's τ") + " between rankings"})
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def partial_rank(frame: pd.DataFrame):
    """Per estimator: Spearman ρ with the truth (open marker) and the partial ρ given #params
    and op counts (filled, with its bootstrap interval), sorted by the partial ρ."""
    if frame.empty:
        return _empty("no estimators")
    d = frame.sort_values("partial", na_position="first").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(d) + 1.2), layout="constrained")
    y = np.arange(len(d))
    err = np.vstack([d["partial"] - d["ci_low"], d["ci_high"] - d["partial"]])
    # a percentile interval need not contain the point estimate (few architectures, many
    # covariates): the bar then stops at the point on that side
    ax.errorbar(d["partial"], y, xerr=np.clip(np.nan_to_num(err), 0, None), fmt="o", color="C0", capsize=2,
                label="partial ρ given #params + op counts (95 % CI)")
    ax.scatter(d["spearman"], y, facecolors="none", edgecolors="C1", label="Spearman ρ")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, d["proxy"])
    ax.set_xlabel("rank correlation with the ground truth")
    ax.legend(loc="lower right", fontsize=8)
    return fig
