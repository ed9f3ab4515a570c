"""`nas-core zero-shot`: sweep zero-shot proxies over architectures (cached, resumable)."""
from __future__ import annotations

from nas_core.cli.checks import BENCHMARK_HELP, benchmark_and_root, integer, integer_list, name_list, table_path
from nas_core.space.selection import ARCHS_HELP


def register(subparsers) -> None:
    p = subparsers.add_parser("zero-shot", help="score architectures with zero-shot proxies")
    p.add_argument("--benchmark", default="auto", help=BENCHMARK_HELP)
    p.add_argument("--archs", default="sample:200", help=ARCHS_HELP)
    p.add_argument("--proxies", type=name_list, default=None, help="comma-separated (default: all of the profile)")
    p.add_argument("--batch-size", type=integer(1), default=None)
    p.add_argument("--batches", type=integer(1), default=None)
    p.add_argument("--seeds", type=integer_list(0), default=None, help="comma-separated init seeds, e.g. 20,2020,202020")
    p.add_argument("--input", default="real", help="real | noise | ones")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--profile", default="quick", help="smoke | quick | paper: network size and defaults")
    p.add_argument("--C", type=integer(1), default=None, help="network channels (default: the profile's)")
    p.add_argument("--N", type=integer(1), default=None, help="cells per stage (default: the profile's)")
    p.add_argument("--data-root", default=None)
    p.add_argument("--seed", type=integer(0), default=0, help="seed of sample:N")
    p.add_argument("--out", type=table_path, required=True, help="output .csv or .parquet")
    p.set_defaults(func=run)


def run(args) -> int:
    from nas_core.cache import atomic_write_frame
    from nas_core.config import resolve_device
    from nas_core.engines.zeroshot import run_zero_shot, summary
    from nas_core.space.selection import select_archs

    bench, root = benchmark_and_root(args.benchmark, args.data_root)
    proto = bench.protocol("zeroshot", args.profile, C=args.C, N=args.N, batches=args.batches,
                           batch_size=args.batch_size, seeds=args.seeds)
    truth = bench.ground_truth(root)
    indices = select_archs(args.archs, truth, seed=args.seed, bench=bench)
    lookup = dict(zip(truth["index"], truth["arch_str"]))
    proxies = args.proxies if args.proxies is not None else list(proto.proxies)
    frame = run_zero_shot(indices, [lookup[i] for i in indices], proxies, seeds=proto.seeds, batches=proto.batches,
                          batch_size=proto.batch_size, input_mode=args.input, device=resolve_device(args.device),
                          benchmark=bench.name, C=proto.C, N=proto.N)
    written = frame["index"].nunique()
    if written != len(set(indices)):  # never claim what was not written
        raise RuntimeError(f"zero-shot produced {written} of {len(set(indices))} architectures")
    atomic_write_frame(args.out, frame)
    print(summary(frame).to_string(index=False))
    print(f"wrote {len(frame)} rows ({written} architectures) to {args.out}")
    return 0
