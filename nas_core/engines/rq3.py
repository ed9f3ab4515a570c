"""RQ3, mitigations of the one-shot estimator's problems: samplers (de-isomorphic, MC counts,
fair), post-de-isomorphism scoring, pruning (one-shot, op, soft), temporal and seed
ensembles, BN affine (notebook rq3_mitigation; the compute stage's analysis jobs,
engines/jobs.py, run the expensive ones by name).

Plain functions over a `Study` (engines/study.py), its first argument.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.engines.study import TAU
from nas_core.space import nb201
from nas_core.space.selection import select_archs


def sampler_comparison(study) -> pd.DataFrame:
    seed = study.plan.supernet_seeds[0]
    frames = []
    for sampler in ("iso",) + tuple(study.plan.rq3_samplers):
        tidy = study.os_scores(sampler, seed)
        frames.append(study.criteria_along_training(tidy, extra={"variant": sampler}))
    return pd.concat(frames, ignore_index=True)


def sampler_effects(study) -> dict:
    """{sampler: Effect of its OS acc τ minus the iso supernet's}, same seed, each at its last
    checkpoint, paired over the evaluated architectures (RQ3)."""
    seed = study.plan.supernet_seeds[0]
    iso = study.score_series(study.os_table(study.os_scores("iso", seed)), "os_acc")
    return {sm: study.effect(study.score_series(study.os_table(study.os_scores(sm, seed)), "os_acc"), iso)
            for sm in study.plan.rq3_samplers}


def class_members(study, indices) -> pd.DataFrame:
    """All benchmark architectures isomorphic to the given ones: index, rep (the given index)."""
    mine = study.bench.iso_keys(study.arch_strs(indices))
    every = study.bench.iso_keys(study.truth_frame["arch_str"].tolist())
    rep_of_class = pd.Series(np.asarray(indices), index=mine)
    mask = np.isin(every, mine)
    return pd.DataFrame({"index": study.truth_frame["index"].to_numpy()[mask],
                         "rep": rep_of_class.reindex(every[mask]).to_numpy()})


def post_deiso(study) -> pd.DataFrame:
    run = study.os_run("iso", study.plan.supernet_seeds[0])
    members = class_members(study, study.os_indices)
    last = study.checkpoints(run)[-1]
    tidy = study.os_scores(indices=members["index"].to_numpy(), epochs=[last], run=run)
    table = study.os_table(tidy).merge(members, on="index")
    reps = (table[table["index"] == table["rep"]][["index", "os_acc"]]
            .rename(columns={"os_acc": "os_acc (representative)"}))
    mean = (table.groupby("rep", as_index=False)["os_acc"].mean()
            .rename(columns={"rep": "index", "os_acc": "os_acc (class mean)"}))
    return study.evaluate(reps.merge(mean, on="index"), bootstrap=study.plan.bootstrap)


def pruning(study) -> pd.DataFrame:
    """One-shot pruning, with training length held equal. At checkpoint P (plan.prune_at; None:
    the middle checkpoint) keep the top-k % of the evaluation set by OS acc; fine-tune from P
    sampling only the kept archs up to the run's final epoch E; compare with the UNPRUNED
    supernet at the same epoch E, both scored on the kept archs only. Rows per keep fraction:
    stage 'before' (unpruned, epoch E) and 'after' (pruned at P, fine-tuned to E), with
    Kendall's tau inside the kept set and mean OS acc; the 'after' row carries the deltas
    (mean OS acc in points, tau)."""
    from nas_core.engines import supernet_train
    from nas_core.errors import BadParameter

    seed = study.plan.supernet_seeds[0]
    run = study.os_run("iso", seed)
    ckpts = study.checkpoints(run)
    final = ckpts[-1]
    at = ckpts[len(ckpts) // 2] if study.plan.prune_at is None else int(study.plan.prune_at)
    if at not in ckpts or at >= final:
        raise BadParameter(f"pruning at epoch {at}: the supernet has checkpoints {ckpts}",
                           fix="prune_at must be a checkpoint before the last one (or None: the middle one)")
    decision = study.os_table(study.os_scores(indices=study.os_indices, epochs=[at], run=run))
    unpruned = study.os_table(study.os_scores(indices=study.os_indices, epochs=[final], run=run))
    rows = []
    for frac in study.plan.prune_fractions:
        keep = decision.nlargest(max(2, int(round(frac * len(decision)))), "os_acc")["index"].to_numpy()
        pruned_run = supernet_train.finetune_pruned(
            run, at, keep_indices=keep, arch_strs=study.arch_strs(keep), epochs=final - at, device=study.device,
            dataset=study.dataset, data_root=study.data_root, data_protocol=study.protocol("data"))
        pruned = study.os_table(study.os_scores(indices=keep, epochs=[study.checkpoints(pruned_run)[-1]],
                                                run=pruned_run))
        before = unpruned[unpruned["index"].isin(keep)]
        base = {"keep_fraction": frac, "n_archs": len(keep), "epoch": final, "prune_epoch": at}
        tau_b, tau_a = study.tau(before, "os_acc"), study.tau(pruned, "os_acc")
        acc_b, acc_a = float(before["os_acc"].mean()), float(pruned["os_acc"].mean())
        # intervals: paired over the kept architectures (docs/statistics.md)
        from nas_core.analyses.effects import mean_effect

        d_tau = study.effect(study.score_series(pruned, "os_acc"), study.score_series(before, "os_acc"))
        per_arch = pruned.set_index("index")["os_acc"] - before.set_index("index")["os_acc"].reindex(pruned["index"])
        d_acc = mean_effect(per_arch.to_numpy())
        rows += [{**base, "stage": "before", "supernet": f"unpruned, epoch {final}", TAU: tau_b,
                  "mean_os_acc": acc_b},
                 {**base, "stage": "after", "supernet": f"pruned at epoch {at}, fine-tuned to {final}", TAU: tau_a,
                  "mean_os_acc": acc_a, "delta_mean_os_acc": acc_a - acc_b,
                  "delta_mean_os_acc_low": d_acc.low, "delta_mean_os_acc_high": d_acc.high,
                  "delta_tau": tau_a - tau_b, "delta_tau_low": d_tau.low, "delta_tau_high": d_tau.high}]
    return pd.DataFrame(rows)


def temporal_ensemble(study) -> pd.DataFrame:
    from nas_core.engines.supernet_score import average_checkpoints

    run = study.os_run("iso", study.plan.supernet_seeds[0])
    ckpts = study.checkpoints(run)[-study.plan.ensemble_last:]
    tidy = study.os_scores(epochs=ckpts, run=run)
    last = study.os_table(tidy, ckpts[-1])[["index", "os_acc"]].rename(columns={"os_acc": "last checkpoint"})
    score_avg = (tidy.groupby("index", as_index=False)["os_acc"].mean()
                 .rename(columns={"os_acc": f"mean of last {len(ckpts)} scores"}))
    avg_run = average_checkpoints(run, ckpts)
    w = study.os_table(study.os_scores(epochs=[ckpts[-1]], run=avg_run))[["index", "os_acc"]]
    w = w.rename(columns={"os_acc": f"mean of last {len(ckpts)} weights"})
    return study.evaluate(study.join(last, score_avg, w), bootstrap=study.plan.bootstrap)


def affine_comparison(study) -> pd.DataFrame:
    seed = study.plan.supernet_seeds[0]
    frames = [study.criteria_along_training(study.os_scores("iso", seed, affine=a),
                                            extra={"variant": "BN affine" if a else "no affine (reference)"})
              for a in (False, True)]
    return pd.concat(frames, ignore_index=True)


def seed_ensemble(study) -> pd.DataFrame:
    """All criteria at the last checkpoint for each headline supernet seed alone, the mean of
    their OS acc (an ensemble of independent supernets), and seed 0's temporal ensemble (mean
    of its last `ensemble_last` checkpoints' scores) beside them."""
    from nas_core.analyses.oneshot_extras import seed_ensemble

    tables, wides = {}, []
    for seed in study.plan.supernet_seeds:
        tidy = study.os_scores(study.headline_sampler, seed)
        tables[seed] = study.os_table(tidy).set_index("index")["os_acc"]
        wides.append(tables[seed].rename(f"seed {seed}").reset_index())
        if seed == study.plan.supernet_seeds[0]:
            ckpts = sorted(tidy["epoch"].unique())[-study.plan.ensemble_last:]
            temporal = (tidy[tidy["epoch"].isin(ckpts)].groupby("index")["os_acc"].mean()
                        .rename(f"seed {seed}, mean of last {len(ckpts)} checkpoints").reset_index())
    ens = seed_ensemble(tables).rename(f"mean of {len(tables)} seeds").reset_index()
    return study.evaluate(study.join(*wides, ens, temporal), bootstrap=study.plan.bootstrap)


def mc_comparison(study) -> pd.DataFrame:
    """Criteria along training for S = 1..n architectures per step (S=1 is the iso run) and
    fair sampling, with each checkpoint's cumulative arch updates (epoch x S, in iso-epoch
    units) so that variants can be compared at equal epochs and at equal arch updates."""
    from nas_core.analyses.oneshot_extras import with_arch_updates

    seed = study.plan.supernet_seeds[0]
    frames = []
    for spec in [("iso" if S == 1 else f"mc:{S}") for S in study.plan.mc_samples] + ["fair"]:
        if spec == "iso" or spec in study.plan.rq3_samplers:
            tidy = study.os_scores(spec, seed)
        else:
            tidy = study.os_scores(run=study.variant_run(spec))
        frames.append(study.criteria_along_training(tidy, extra={"variant": spec}))
    return with_arch_updates(pd.concat(frames, ignore_index=True))


def subspace_indices(study, removed) -> np.ndarray:
    """The selection `op_prune_archs` (capped at what exists) drawn inside the sub-space of
    cells that use none of the `removed` ops."""
    ops = nb201.ops_from_strings(study.truth_frame["arch_str"].tolist())
    keep = ~np.isin(ops, [nb201.OPS.index(o) for o in removed]).any(axis=1)
    pool = study.truth_frame[keep]
    spec = study.plan.op_prune_archs
    if spec.startswith("sample:"):
        reps = pool[pool["iso_representative"].to_numpy()]
        conv = nb201.space_table().has_conv_path[nb201.kit_ids_from_strings(reps["arch_str"].tolist())]
        spec = f"sample:{min(int(spec.split(':', 1)[1]), int(conv.sum()))}"
    return select_archs(spec, pool, seed=0)


def op_pruning(study) -> pd.DataFrame:
    """Op pruning: a supernet trained only on the cells without the removed ops (restricted
    sampler pool) against the full iso supernet, on the same sub-space architectures, at
    every checkpoint both have: Kendall's tau and mean OS acc."""
    seed = study.plan.supernet_seeds[0]
    full = study.os_run("iso", seed)
    rows = []
    for removed in study.plan.op_prune:
        idx = subspace_indices(study, removed)
        sub = study.variant_run("without:" + "+".join(removed))
        epochs = sorted(set(study.checkpoints(sub)) & set(study.checkpoints(full)))
        for name, run in (("full supernet", full), ("sub-space supernet", sub)):
            tidy = study.os_scores(indices=idx, epochs=epochs, run=run)
            for epoch in epochs:
                t = study.os_table(tidy, epoch)
                rows.append({"removed_ops": " + ".join(removed), "supernet": name, "epoch": int(epoch),
                             TAU: study.tau(t, "os_acc"), "mean_os_acc": float(t["os_acc"].mean()),
                             "n_archs": len(t)})
    return pd.DataFrame(rows)


def soft_pruning(study) -> pd.DataFrame:
    """Criteria along training of the soft-pruning supernet (protocol `soft_prune`) beside
    the iso supernet at the same checkpoints."""
    seed = study.plan.supernet_seeds[0]
    soft = study.os_scores(run=study.variant_run(study.plan.soft_prune))
    iso = study.os_scores("iso", seed)
    iso = iso[iso["epoch"].isin(soft["epoch"].unique())]
    return pd.concat([study.criteria_along_training(iso, extra={"variant": "iso"}),
                      study.criteria_along_training(soft, extra={"variant": study.plan.soft_prune})],
                     ignore_index=True)


def bn_gamma_similarity(study) -> pd.DataFrame:
    """Cosine similarity of different archs' gradients on the BN scale parameters (gamma)
    of the BN-affine supernet, per layer and checkpoint."""
    from nas_core.engines.supernet_diagnostics import gradient_similarity

    run = study.os_run("iso", study.plan.supernet_seeds[0], affine=True)
    return gradient_similarity(run, n_archs=study.plan.diag_archs, device=study.device, bn_scale_only=True)
