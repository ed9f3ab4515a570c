"""argparse `type=` functions that validate numeric flags at parse time, before any work or
file is written. argparse names the flag in its message ("argument --epochs: ...") and exits 2."""
from __future__ import annotations

import argparse
import math


def integer(low: int | None = 1, high: int | None = None):
    """An int in [low, high] (either bound may be None)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        _check(value, low, high, text)
        return value
    parse.__name__ = "integer"
    return parse


def number(low: float | None = 0.0, high: float | None = None, low_open: bool = False):
    """A finite float in [low, high] ((low, high] with `low_open`)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or (low_open and low is not None and value <= low):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: use a finite number > {low}")
        _check(value, low, high, text)
        return value
    parse.__name__ = "number"
    return parse


def integer_list(low: int | None = 0):
    """Comma-separated integers, each >= low, at least one."""
    def parse(text: str) -> tuple:
        items = [t.strip() for t in str(text).split(",")]
        if not any(items) or not all(items):
            raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 20,2020, got {text!r}")
        return tuple(integer(low)(t) for t in items)
    parse.__name__ = "integer list"
    return parse


def name_list(text: str) -> list[str]:
    """Comma-separated names, at least one, none empty."""
    items = [t.strip() for t in str(text).split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, e.g. snip,synflow, got {text!r}")
    return list(dict.fromkeys(items))


def table_path(text: str) -> str:
    """An output table: .csv or .parquet."""
    if not (text.endswith(".csv") or text.endswith(".parquet")):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .csv or .parquet (the format is chosen by suffix)")
    return text


def _check(value, low, high, text) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = (f"{low}..{high}" if low is not None and high is not None else
                   f">= {low}" if low is not None else f"<= {high}")
        raise argparse.ArgumentTypeError(f"{text} is out of range: allowed {allowed}")


def _benchmark_help() -> str:
    from nas_core import benchmarks  # the registry's names, so a new space shows up here by itself

    return " | ".join(["auto", *benchmarks.available()]) + " (default auto: nb201 with a data root, else mini)"


BENCHMARK_HELP = _benchmark_help()


def benchmark_and_root(name, data_root_arg):
    """The entry point's one resolution of (benchmark, data root): the root is published for the
    engines below (`config.use_data_root`) and the choice is printed, so a default never decides
    silently."""
    import sys

    from nas_core import benchmarks
    from nas_core.config import data_root, use_data_root
    from nas_core.errors import DataNotFound

    root = data_root(data_root_arg)
    resolved = benchmarks.resolve_name(name, root)
    bench = benchmarks.get(resolved)
    if bench.needs_data_root and root is None:
        raise DataNotFound(f"benchmark {resolved!r} ({bench.title}) needs a data root",
                           fix="pass --data-root DIR or set NAS_CORE_DATA (README, section Data)")
    use_data_root(root)
    how = "" if name not in (None, "", benchmarks.AUTO) else " (default auto: nb201 with a data root, else mini)"
    print(f"[nas-core] benchmark: {resolved}{how}", file=sys.stderr)
    return bench, root
