"""`nas-core cache migrate`: re-key a cache written by an earlier kit version (nothing recomputed)."""
from __future__ import annotations


def register(subparsers) -> None:
    cache = subparsers.add_parser("cache", help="maintain the result cache")
    sub = cache.add_subparsers(dest="cache_command", metavar="ACTION")
    migrate = sub.add_parser("migrate", help="re-key results cached before the benchmark seam (keys without data paths)")
    migrate.add_argument("--dry-run", action="store_true", help="only report what would be renamed")
    migrate.set_defaults(func=run_migrate)


def run_migrate(args) -> int:
    from nas_core.config import cache_dir
    from nas_core.engines.cache_migrate import migrate

    report = migrate(cache_dir(), dry_run=args.dry_run)
    verb = "would re-key" if args.dry_run else "re-keyed"
    print(f"{verb}: {report['runs']} supernet run(s), {report['stores']} run-derived store(s), "
          f"{report['zeroshot']} zero-shot store(s) in {cache_dir()}")
    if report["left_alone"]:
        print(f"left alone ({len(report['left_alone'])}, not provably the same computation; they are recomputed "
              "when needed): " + ", ".join(report["left_alone"][:10]) + (" ..." if len(report["left_alone"]) > 10 else ""))
    return 0
