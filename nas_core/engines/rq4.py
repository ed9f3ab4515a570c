"""RQ4, the data the estimators see: zero-shot proxies on the trained supernet's weights, real
images against noise, batch size and count, and the supernet's training length and
validation size (notebook rq4_data).

Plain functions over a `Study` (engines/study.py), its first argument.
"""
from __future__ import annotations

import pandas as pd

from nas_core.criteria import overall
from nas_core.engines.study import TAU


def column_effects(study, a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """{estimator: Effect of τ in table a minus τ in table b} for the estimators both have."""
    cols = [c for c in a.columns if c != "index" and c in b.columns]
    return {c: study.effect(study.score_series(a, c), study.score_series(b, c)) for c in cols}


def zs_on_supernet(study) -> pd.DataFrame:
    """ZSEs on the supernet's path, like with like: epoch 0 is the supernet's own random init
    (same network, same edges run), then every checkpoint."""
    from nas_core.engines.supernet_score import arch_network_factory

    run = study.os_run("iso", study.plan.supernet_seeds[0])
    idx = study.rq4_os_indices
    frames = []
    for epoch in [0] + study.checkpoints(run):
        make, tag = arch_network_factory(run, epoch)
        tidy = study.zs_scores(indices=idx, make_network=make, network_tag=tag, seeds=[study.zs_protocol().seeds[0]])
        frames.append(study.evaluate(study.zs_table(tidy, vote=False)).assign(epoch=int(epoch)))
    return pd.concat(frames, ignore_index=True)


def trained_weight_effects(study) -> dict:
    """{proxy: Effect of τ on the last checkpoint's supernet weights minus τ at epoch 0 (the
    supernet's random init)}, paired over the RQ4 architectures (cached sweeps)."""
    from nas_core.engines.supernet_score import arch_network_factory

    run = study.os_run("iso", study.plan.supernet_seeds[0])
    tables = []
    for epoch in (0, study.checkpoints(run)[-1]):
        make, tag = arch_network_factory(run, epoch)
        tidy = study.zs_scores(indices=study.rq4_os_indices, make_network=make, network_tag=tag,
                               seeds=[study.zs_protocol().seeds[0]])
        tables.append(study.zs_table(tidy, vote=False))
    return {c: e for c, e in column_effects(study, tables[1], tables[0]).items() if c not in ("params", "flops")}


def input_mode_effects(study) -> dict:
    """{proxy: Effect of τ with real images minus τ with Gaussian noise} (RQ4 architectures)."""
    real = study.zs_table(study.zs_scores(indices=study.rq4_indices), vote=False)
    noise = study.zs_table(study.zs_scores(input_mode="noise", indices=study.rq4_indices), vote=False)
    return {c: e for c, e in column_effects(study, real, noise).items() if c not in ("params", "flops")}


def zs_input_modes(study) -> pd.DataFrame:
    frames = [study.evaluate(study.zs_table(study.zs_scores(input_mode=m, indices=study.rq4_indices), vote=False))
              .assign(input_mode=m) for m in study.plan.zs_input_modes]
    return pd.concat(frames, ignore_index=True)


def zs_batching(study) -> pd.DataFrame:
    rows = []
    for bs in study.plan.zs_batch_sizes:
        tidy = study.zs_scores(indices=study.rq4_indices, batch_size=bs, batches=max(study.plan.zs_batches))
        for b in study.plan.zs_batches:
            crit = study.evaluate(study.zs_table(tidy, batches=b, vote=False))
            d = overall(crit)
            rows.append(d[["estimator", "value"]].rename(columns={"value": TAU}).assign(batch_size=bs, batches=b))
    return pd.concat(rows, ignore_index=True)


def training_length_and_validation_size(study) -> pd.DataFrame:
    tidy = study.os_scores("iso", study.plan.supernet_seeds[0])
    rows = []
    for epoch in sorted(tidy["epoch"].unique()):
        d = tidy[tidy["epoch"] == epoch]
        for b in range(1, int(d["batch"].max()) + 2):
            rows.append({"epoch": int(epoch), "batches": b, TAU: study.tau(study.os_table(tidy, epoch, b), "os_acc")})
    return pd.DataFrame(rows)
