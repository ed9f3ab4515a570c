"""`nas-core supernet train | score`: the one-shot estimator from the command line."""
from __future__ import annotations

import dataclasses

from nas_core.cli.checks import BENCHMARK_HELP, benchmark_and_root, integer, number, table_path
from nas_core.errors import BadParameter
from nas_core.protocols.supernet import SupernetProtocol
from nas_core.samplers import SAMPLER_HELP
from nas_core.space.selection import ARCHS_HELP

# protocol numbers that can be overridden by a flag of the same name
OVERRIDABLE = [f for f in dataclasses.fields(SupernetProtocol) if f.name not in ("sampler", "seed", "affine")]
# their allowed values, checked at parse time (before protocol.json or any checkpoint is written)
RANGES = {"C": integer(1), "N": integer(1), "dropout": number(0.0, 0.99), "epochs": integer(1),
          "save_every": integer(1), "batch_size": integer(1), "lr": number(0.0, low_open=True),
          "momentum": number(0.0, 0.999), "weight_decay": number(0.0), "grad_clip": number(0.0, low_open=True),
          "plateau_factor": number(0.0, 0.999, low_open=True), "plateau_patience": integer(0),
          "augment": integer(0, 1), "score_batches": integer(1), "score_batch_size": integer(1)}


def register(subparsers) -> None:
    sn = subparsers.add_parser("supernet", help="train a weight-sharing supernet or score architectures with it")
    sub = sn.add_subparsers(dest="supernet_command", metavar="ACTION")
    train = sub.add_parser("train", help="train (rerunning resumes)")
    train.add_argument("--benchmark", default="auto", help=BENCHMARK_HELP)
    train.add_argument("--profile", default="quick", help="smoke | quick | paper")
    train.add_argument("--sampler", default="iso", help=SAMPLER_HELP)
    train.add_argument("--seed", type=integer(0), default=0)
    train.add_argument("--affine", action="store_true", help="BN affine parameters in the cells")
    train.add_argument("--save-every", type=integer(1), default=None, help="checkpoint every this many epochs")
    train.add_argument("--device", default="auto")
    train.add_argument("--data-root", default=None)
    train.add_argument("--run", required=True, help="run folder (checkpoints, log.csv, protocol.json)")
    for f in OVERRIDABLE:
        if f.name != "save_every":
            flag = "--" + f.name.replace("_", "-")
            train.add_argument(flag, type=RANGES[f.name], default=None, help=f"override the profile's {f.name}")
    train.set_defaults(func=run_train)
    score = sub.add_parser("score", help="score architectures at one checkpoint")
    score.add_argument("--run", required=True)
    score.add_argument("--epoch", type=integer(1), default=None, help="checkpoint epoch (default: the last)")
    score.add_argument("--archs", default="deiso", help=ARCHS_HELP)
    score.add_argument("--batches", type=integer(1), default=None)
    score.add_argument("--batch-size", type=integer(1), default=None)
    score.add_argument("--device", default="auto")
    score.add_argument("--data-root", default=None)
    score.add_argument("--seed", type=integer(0), default=0, help="seed of sample:N")
    score.add_argument("--out", type=table_path, required=True, help="output .csv or .parquet")
    score.set_defaults(func=run_score)


def run_train(args) -> int:
    from nas_core.config import resolve_device
    from nas_core.engines.supernet_train import train_supernet

    bench, root = benchmark_and_root(args.benchmark, args.data_root)
    bench.sampler(args.sampler, 0, data_root=root)  # validate before any work
    overrides = {f.name: getattr(args, f.name) for f in OVERRIDABLE}
    if "augment" in overrides and overrides["augment"] is not None:
        overrides["augment"] = bool(overrides["augment"])
    proto = bench.protocol("supernet", args.profile, sampler=args.sampler, seed=args.seed, affine=args.affine,
                           **overrides)
    from nas_core.engines.supernet_train import list_checkpoints

    run = train_supernet(proto, args.run, bench.images.dataset, root, resolve_device(args.device),
                         bench.protocol("data", args.profile), benchmark=bench.name)
    epochs = list_checkpoints(run)
    print(f"run {run}: checkpoints of epochs {epochs} and log.csv ({proto.epochs} epochs trained)")
    return 0


def run_score(args) -> int:
    from nas_core.cache import atomic_write_frame
    from nas_core import benchmarks
    from nas_core.config import data_root, resolve_device, use_data_root
    from nas_core.engines.supernet_score import score_supernet
    from nas_core.engines.supernet_train import benchmark_of, list_checkpoints, run_record
    from nas_core.protocols.supernet import SupernetProtocol
    from nas_core.space.selection import select_archs

    record = run_record(args.run)
    proto = SupernetProtocol(**record["protocol"])
    epochs = list_checkpoints(args.run)
    if not epochs:
        raise BadParameter(f"run {args.run} has no checkpoint yet", fix="train it first")
    epoch = args.epoch if args.epoch is not None else epochs[-1]
    bench = benchmarks.get(benchmark_of(record))  # the run's own benchmark; data from the configured root
    root = data_root(args.data_root)
    use_data_root(root)
    truth = bench.ground_truth(root)
    indices = select_archs(args.archs, truth, seed=args.seed, bench=bench)
    lookup = dict(zip(truth["index"], truth["arch_str"]))
    frame = score_supernet(args.run, epoch, indices, [lookup[i] for i in indices],
                           args.batches or proto.score_batches, args.batch_size or proto.score_batch_size,
                           resolve_device(args.device))
    atomic_write_frame(args.out, frame)
    print(f"wrote {len(frame)} rows ({len(indices)} architectures, epoch {epoch}) to {args.out}")
    return 0
