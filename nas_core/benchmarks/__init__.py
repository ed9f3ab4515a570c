"""Search spaces behind one seam: a registry of `Benchmark` objects (docs/benchmarks.md).

Everything the rest of the kit asks of a search space -- architecture strings, isomorphism
classes, sampling and mutation, features, analytic #params/#FLOPs, the standalone network and
the supernet with its samplers, the image dataset, the ground truth and the protocol numbers
-- goes through the benchmark object, so a new space plugs in whole by adding one module here
(and one line in `_MODULES`). No module below this package imports it.
"""
from __future__ import annotations

import importlib

from nas_core.benchmarks.base import Benchmark, ImageData
from nas_core.errors import BadParameter

# name -> module defining `BENCHMARK` (or "module:NAME" for a module defining several);
# imported lazily (a space's networks load on first use)
_MODULES = {
    "nb201": "nas_core.benchmarks.nb201",
    "mini": "nas_core.benchmarks.mini",
    "nb301": "nas_core.benchmarks.nb301",
    "nb101": "nas_core.benchmarks.nb101",
    "nds_resnet": "nas_core.benchmarks.nds:RESNET",
    "nds_resnexta": "nas_core.benchmarks.nds:RESNEXTA",
}
AUTO = "auto"

__all__ = ["AUTO", "Benchmark", "ImageData", "available", "get", "resolve_name"]


def available() -> list[str]:
    return list(_MODULES)


def get(name: str) -> Benchmark:
    """The benchmark called `name` (nb201 | nb301 | nb101 | nds_resnet | nds_resnexta | mini)."""
    if isinstance(name, Benchmark):
        return name
    if name not in _MODULES:
        raise BadParameter(f"unknown benchmark {name!r}", fix=f"use one of: {', '.join(available())}")
    module, _, attribute = _MODULES[name].partition(":")
    return getattr(importlib.import_module(module), attribute or "BENCHMARK")


def resolve_name(name: str | None, data_root) -> str:
    """`auto` (the default of every command and notebook) means nb201 when a data root is
    configured and the built-in mini benchmark otherwise; every entry point prints the result."""
    name = (name or AUTO).strip()
    if name == AUTO:
        return "nb201" if data_root is not None else "mini"
    get(name)  # unknown names fail here, with the list
    return name
