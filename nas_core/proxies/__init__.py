"""Zero-shot proxies behind a name registry (one small module per proxy).

A proxy is a function `(PassResult, context) -> 0-d tensor`, registered with what it needs
from the shared pass (`nas_core.proxies.passes`). Direction: every score is used as "higher
is better" with its raw sign. `params`/`flops` are analytic; `vote` and `az_nas` rank from
other proxies (rank aggregates over a set of architectures, not per-network scores).

A need is either a part of the shared `main_pass` (`passes.py`) or a separate pass that a
proxy module registers with `register_pass` (its value lands in `context[need]`, computed once
per network and batch however many proxies use it), or "analytic"/"weights" (no pass).

Your own proxy, without editing the package:

    from nas_core.proxies import register

    @register("my_proxy", needs=("grads",), reference="me, 2025")
    def my_proxy(passed, context): ...

Third-party packages register theirs through the entry-point group `nas_core.proxies`
(pyproject: `[project.entry-points."nas_core.proxies"] my_proxy = "my_pkg.proxies"`): the
module (or the object it names) is imported the first time the registry is asked for names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from nas_core.errors import BadParameter

# what a proxy can ask of the shared pass
NEEDS = ("grads", "activations", "relu", "hvp", "jacobian", "synflow", "synflow_bn", "analytic",
         # proxies after the study: parts of the main pass ...
         "features", "ntk", "weights",
         # ... and separate passes registered by their proxy modules (`register_pass`)
         "zen", "az_nas", "te_nas_lr", "zico", "gradsign")


@dataclass(frozen=True)
class Proxy:
    name: str
    needs: tuple[str, ...]
    fn: Callable
    reference: str


REGISTRY: dict[str, Proxy] = {}
# need -> fn(net, x, y, context): a pass of its own (the value goes to context[need])
PASSES: dict[str, Callable] = {}


ENTRY_POINT_GROUP = "nas_core.proxies"


def register(name: str, needs: tuple[str, ...] = ("grads",), reference: str = "user-defined"):
    """Decorator: make `fn(PassResult, context) -> 0-d tensor` available under `name`."""
    bad = set(needs) - set(NEEDS)
    if bad:
        raise BadParameter(f"proxy {name!r} asks for unknown needs {sorted(bad)}", fix=f"use some of {NEEDS}")

    def wrap(fn):
        REGISTRY[name] = Proxy(name, tuple(needs), fn, reference)
        return fn
    return wrap


def register_pass(need: str):
    """Decorator: `fn(net, x, y, context)` computes `need` once per network and batch for
    every proxy that asks for it; its value is put in `context[need]`."""
    if need not in NEEDS:
        raise BadParameter(f"pass {need!r} is not a known need", fix=f"add it to nas_core.proxies.NEEDS ({NEEDS})")

    def wrap(fn):
        PASSES[need] = fn
        return fn
    return wrap


def get(names) -> list[Proxy]:
    _load_all()
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise BadParameter(f"unknown proxy name(s) {unknown}", fix=f"available: {', '.join(available())}")
    return [REGISTRY[n] for n in names]


def available() -> list[str]:
    _load_all()
    return sorted(REGISTRY)


# the proxies published after the study (docs/zeroshot.md, "Proxies after the study"), per network
AFTER_STUDY_PROXIES = ("zico", "meco", "swap", "az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability",
                       "az_nas_complexity", "zen", "te_nas_ntk", "te_nas_lr", "epe_nas", "l2_norm", "gradsign")
# rank aggregates: computed from other proxies' values over a set of architectures
RANK_AGGREGATES = {
    "vote": "nas_core.proxies.vote.vote_scores on a table of its experts' values (synflow, jacob_cov, snip)",
    "az_nas": "nas_core.proxies.az_nas.az_nas_scores on a table of az_nas_expressivity, az_nas_progressivity, "
              "az_nas_trainability and az_nas_complexity",
}
# proxies that need the architecture's FLOPs in context["flops_M"]
NEEDS_FLOPS = ("flops", "az_nas_complexity")


_LOADED_ENTRY_POINTS: set[str] = set()


# modules of this package that are machinery, not proxies
_NOT_PROXIES = {"api", "passes"}
_LOADED = False


def _load_all() -> None:
    """Discover the proxies: every module of this package registers its own on import (one
    file per proxy; nothing lists them by hand), then the third-party entry points."""
    global _LOADED
    if not _LOADED:
        import importlib
        import pkgutil

        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name not in _NOT_PROXIES:
                importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True
    _load_entry_points()


def _load_entry_points() -> None:
    """Import third-party proxies once (lazily: only when names are asked for). An entry point
    naming a module registers by importing it; one naming a function registers that function
    under the entry point's name (needs grads)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _LOADED_ENTRY_POINTS:
            continue
        _LOADED_ENTRY_POINTS.add(ep.name)
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in names itself, never breaks the kit silently
            raise BadParameter(f"proxy plug-in {ep.name!r} ({ep.value}) failed to import: {exc}",
                               fix=f"fix or uninstall the package that declares it in {ENTRY_POINT_GROUP!r}") from exc
        if isinstance(obj, Proxy):
            REGISTRY[obj.name] = obj
        elif callable(obj) and ep.name not in REGISTRY:
            register(ep.name, reference=f"entry point {ep.value}")(obj)
