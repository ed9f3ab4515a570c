"""Zero-shot proxies behind a name registry (one small module per proxy).

A proxy is a function `(PassResult, context) -> 0-d tensor`, registered with what it needs
from the shared pass (`nas_core.proxies.passes`). Direction: every score is used as "higher
is better" with its raw sign. `params`/`flops` are analytic; `vote` ranks from other proxies.

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
NEEDS = ("grads", "activations", "relu", "hvp", "jacobian", "synflow", "synflow_bn", "analytic")


@dataclass(frozen=True)
class Proxy:
    name: str
    needs: tuple[str, ...]
    fn: Callable
    reference: str


REGISTRY: dict[str, Proxy] = {}


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


def get(names) -> list[Proxy]:
    _load_all()
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise BadParameter(f"unknown proxy name(s) {unknown}", fix=f"available: {', '.join(available())}")
    return [REGISTRY[n] for n in names]


def available() -> list[str]:
    _load_all()
    return sorted(REGISTRY)


_LOADED_ENTRY_POINTS: set[str] = set()


def _load_all() -> None:
    from nas_core.proxies import (complexity, fisher, grad_norm, grasp, jacob_cov, plain,  # noqa: F401
                                  relu_count, relu_logdet, snip, synflow)
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
