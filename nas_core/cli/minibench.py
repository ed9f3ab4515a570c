"""`nas-core mini-bench`: build / inspect the kit's own Fashion-MNIST benchmark."""
from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("mini-bench", help="the built-in mini benchmark (Fashion-MNIST, 16x16)")
    sub = p.add_subparsers(dest="mini_command", required=True)
    b = sub.add_parser("build", help="train its architectures (resumable; --shard i/n to split the work)")
    b.add_argument("--device", default="auto", help="auto | cpu | cuda")
    b.add_argument("--shard", default=None, help="i/n: train every n-th pair starting at i (run n processes)")
    b.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 per process when sharding)")
    b.add_argument("--from-end", action="store_true", help="train the missing pairs in reverse order (a helper "
                   "process for a build that is already running)")
    b.add_argument("--limit", type=int, default=None, help="train at most this many pairs now, then stop")
    b.add_argument("--data-root", default=None, help="where to look for fashion-mnist/ besides the system copy")
    b.add_argument("--out", default=None, help="folder for mini_bench.csv + provenance (default: the package's)")
    b.set_defaults(func=build)
    q = sub.add_parser("quality", help="seed-to-seed tau, accuracy range, tau vs NB201 (with a data root)")
    q.add_argument("--data-root", default=None)
    q.set_defaults(func=quality)


def build(args) -> int:
    import torch

    from nas_core.config import resolve_device
    from nas_core.data.minibench_table import RESOURCE_DIR
    from nas_core.engines.minibench import build as run_build, mini_archs, write_table
    from nas_core.protocols.minibench import MINI_BENCH

    if args.threads:
        torch.set_num_threads(args.threads)
    runs = run_build(MINI_BENCH, args.data_root, resolve_device(args.device), args.shard, args.limit,
                     from_end=args.from_end)
    total = len(mini_archs(MINI_BENCH)) * len(MINI_BENCH.seeds)
    done = len(runs.drop_duplicates(["index", "seed"])) if len(runs) else 0
    print(f"{done} of {total} trainings done")
    if done == total:
        path = write_table(Path(args.out) if args.out else RESOURCE_DIR, MINI_BENCH)
        print(f"wrote {path} (+ provenance)")
    return 0


def quality(args) -> int:
    from nas_core.config import data_root
    from nas_core.data.groundtruth import load_ground_truth
    from nas_core.data.minibench_table import load_mini_table
    from nas_core.engines.minibench import quality as measure

    root = data_root(args.data_root)
    truth = load_ground_truth("nb201", root) if root else None
    for key, value in measure(load_mini_table(), truth).items():
        print(f"{key:>24}: {value}")
    return 0
