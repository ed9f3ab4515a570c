"""The benchmark's own views (RQ5 context).

NB201: rank agreement (Kendall's tau-b, Spearman) of the test accuracy across CIFAR-10,
CIFAR-100 and ImageNet16-120, and the 12-epoch validation accuracy as a (costly)
low-fidelity estimator of the 200-epoch ground truth. Mini benchmark: agreement of its
training seeds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

NB201_TEST = {"CIFAR-10": "cifar10_test_acc_200ep", "CIFAR-100": "cifar100_test_acc_200ep",
              "ImageNet16-120": "imagenet16_test_acc_200ep"}


def correlation_matrix(frame: pd.DataFrame, columns: dict, method: str = "kendall") -> pd.DataFrame:
    names = [n for n, c in columns.items() if c in frame.columns]
    out = pd.DataFrame(index=names, columns=names, dtype=float)
    for a in names:
        for b in names:
            x, y = frame[columns[a]].to_numpy(float), frame[columns[b]].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            fn = stats.kendalltau if method == "kendall" else stats.spearmanr
            out.loc[a, b] = fn(x[ok], y[ok]).statistic
    return out.reset_index().rename(columns={"index": "dataset"})


def views_for(truth_frame: pd.DataFrame, benchmark: str, indices, truth_column: str) -> dict:
    """NB201 views use the whole space (they describe the benchmark, and cost milliseconds);
    the mini benchmark's use its own architectures."""
    views = {}
    if benchmark == "nb201":
        sub = truth_frame
        views["cross_dataset_kendall_matrix"] = correlation_matrix(sub, NB201_TEST, "kendall")
        views["cross_dataset_spearman_matrix"] = correlation_matrix(sub, NB201_TEST, "spearman")
        if "cifar10valid_valid_acc_12ep" in sub.columns:
            x, y = sub["cifar10valid_valid_acc_12ep"].to_numpy(float), sub[truth_column].to_numpy(float)
            views["low_fidelity_12_epochs"] = pd.DataFrame([{
                "estimator": "cifar10valid_valid_acc_12ep", "ground_truth": truth_column, "n": len(sub),
                "kendall_tau_b": stats.kendalltau(x, y).statistic, "spearman": stats.spearmanr(x, y).statistic}])
    elif benchmark != "mini":  # a sampled table (NB301): how much of the truth #params/#FLOPs already order
        sub = truth_frame[truth_frame["index"].isin(indices)]
        cols = [c for c in ("params_M", "flops_M") if c in sub.columns]
        y = sub[truth_column].to_numpy(float)
        views["complexity_vs_truth"] = pd.DataFrame([{
            "estimator": c, "ground_truth": truth_column, "n": len(sub),
            "kendall_tau_b": stats.kendalltau(sub[c].to_numpy(float), y).statistic,
            "spearman": stats.spearmanr(sub[c].to_numpy(float), y).statistic} for c in cols])
    else:
        sub = truth_frame[truth_frame["index"].isin(indices)]
        seeds = {c: c for c in sub.columns if c.startswith("fmnist_test_acc_seed")}
        if len(seeds) >= 2:
            views["training_seed_kendall_matrix"] = correlation_matrix(sub, seeds, "kendall")
    return views
