"""`nas-core` command line. Every module in this package that defines `register(subparsers)`
adds its subcommand(s); a subcommand sets `func(args) -> int` with `set_defaults`.

A user mistake (`KitError`) is printed as one clear message, exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from nas_core.errors import KitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nas-core",
        description="Efficient performance estimators on NAS-Bench-201 (Ning et al., NeurIPS 2021), reproduced.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KitError as exc:
        print(f"nas-core: error: {exc.message()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
