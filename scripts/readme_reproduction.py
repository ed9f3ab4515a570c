"""Regenerate the README's "What reproduces, what does not yet" block from the committed
outputs (outputs/<profile>/tables/*_reproduction.csv), so the top-level summary is computed
from the same data as the notebooks, never typed.

    python scripts/readme_reproduction.py [--profile quick] [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- reproduction:start -->", "<!-- reproduction:end -->"


def block(profile: str) -> str:
    from nas_core.analyses.reproduction import markdown_section

    frames = [pd.read_csv(p) for p in sorted((ROOT / "outputs" / profile / "tables").glob("*_reproduction.csv"))]
    text = markdown_section(frames, profile).replace("## What reproduces", "### What reproduces", 1)
    return f"{START}\n{text.rstrip()}\n{END}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README block is out of date")
    args = ap.parse_args(argv)
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} block", file=sys.stderr)
        return 2
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + block(args.profile) + tail
    if args.check:
        return 0 if new == text else 1
    readme.write_text(new)
    print(f"README.md: reproduction block regenerated from outputs/{args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
