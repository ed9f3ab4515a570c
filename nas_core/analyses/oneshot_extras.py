"""RQ1-RQ3 analyses of the one-shot estimator that need no training of their own: mean OS acc
along training, relative P@top/bottom between adjacent checkpoints, the ensemble of supernet
seeds, and the comparison of sampling variants at equal arch updates."""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core import criteria as C
from nas_core.errors import BadParameter

STABILITY_KS = (0.005, 0.05)  # relative P@top/bottom 0.5 % and 5 % (the study's stability figure)


def mean_os_acc_along_training(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per checkpoint, the mean OS acc over the evaluated architectures (each architecture's
    OS acc is first averaged over its held-out batches) and its spread: std (ddof 0),
    quartiles, min, max, n."""
    per_arch = tidy.groupby(["epoch", "index"])["os_acc"].mean().reset_index()
    g = per_arch.groupby("epoch")["os_acc"]
    out = pd.DataFrame({"mean_os_acc": g.mean(), "std": g.std(ddof=0), "q25": g.quantile(0.25),
                        "median": g.median(), "q75": g.quantile(0.75), "min": g.min(), "max": g.max(),
                        "n": g.size()}).reset_index()
    out["epoch"] = out["epoch"].astype(int)
    return out


def adjacent_topk_stability(tables: dict[int, pd.Series], ks=STABILITY_KS) -> pd.DataFrame:
    """Between each checkpoint and the previous one (the later one treated as the truth, as
    the study's relative criteria): relative Kendall's tau-b, and relative P@topK / P@bottomK
    for each K (fraction of the architectures; NaN where floor(K*M) < 1). Long format:
    epoch, previous, criterion, k, value, n."""
    epochs = sorted(tables)
    rows = []
    for prev, cur in zip(epochs[:-1], epochs[1:]):
        a = tables[prev].to_numpy(float)
        b = tables[cur].reindex(tables[prev].index).to_numpy(float)
        rows.append((cur, prev, "relative_tau", np.nan, float(C.kendall_tau_b(a, b)), len(a)))
        for name, fn in (("rel_p_at_top", C.p_at_top), ("rel_p_at_bottom", C.p_at_bottom)):
            for k, v in zip(ks, fn(a, b, ks=ks)):
                rows.append((cur, prev, name, float(k), float(v), len(a)))
    return pd.DataFrame(rows, columns=["epoch", "previous", "criterion", "k", "value", "n"])


def seed_ensemble(tables: dict[int, pd.Series]) -> pd.Series:
    """Mean score per architecture over supernet seeds (tables: seed -> Series by arch id),
    on the architectures every seed scored."""
    if not tables:
        raise BadParameter("seed ensemble needs at least one seed's scores")
    frame = pd.concat(tables, axis=1, join="inner")
    return frame.mean(axis=1).rename("seed_ensemble")


def archs_per_step(sampler: str) -> int:
    """Architectures trained per step: S for mc:S, 5 for fair, 1 otherwise."""
    if sampler.startswith("mc:"):
        return int(sampler[3:])
    return 5 if sampler == "fair" else 1


def with_arch_updates(crit: pd.DataFrame, variant: str = "variant") -> pd.DataFrame:
    """Adds `arch_updates` = epoch x archs per step, in units of one iso epoch's updates: every
    variant runs the same steps per epoch (same data, same batch), so equal values mean equal
    numbers of arch forward/backward passes."""
    per_step = crit[variant].map(archs_per_step)
    return crit.assign(archs_per_step=per_step.to_numpy(), arch_updates=crit["epoch"].to_numpy() * per_step.to_numpy())


def equal_budget_points(crit: pd.DataFrame, variant: str = "variant") -> pd.DataFrame:
    """Two comparison points per variant (crit must hold arch_updates, see with_arch_updates):
    'equal epochs' = the last checkpoint epoch every variant has; 'equal arch updates' = per
    variant, the checkpoint whose arch updates are closest to the budget, the smallest final
    count among the variants (the iso run's when it is one of them; a tie goes to the earlier
    checkpoint). A checkpoint grid rarely hits the budget exactly: `updates_ratio` = arch
    updates / budget says how equal the point is. Returns the rows of crit at those checkpoints
    with a `comparison` column."""
    last = crit.groupby(variant)["epoch"].transform("max")
    budget = crit[crit["epoch"] == last]["arch_updates"].min()
    gap = (crit["arch_updates"] - budget).abs() + crit["arch_updates"] / (1e6 * budget)  # tie -> earlier
    eq_upd = crit[gap == gap.groupby(crit[variant]).transform("min")].assign(comparison="equal arch updates")
    common = crit.groupby(variant)["epoch"].max().min()
    eq_ep = crit[crit["epoch"] == common].assign(comparison="equal epochs")
    out = pd.concat([eq_ep, eq_upd], ignore_index=True)
    return out.assign(updates_ratio=out["arch_updates"] / budget)
