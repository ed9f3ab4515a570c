"""Zero-shot proxies behind a name registry (one small module per proxy).

A proxy is a function `(PassResult, context) -> 0-d tensor`, registered with what it needs
from the shared pass (`nas_core.proxies.passes`). Direction: every score is used as "higher
is better" with its raw sign. `params`/`flops` are analytic; `vote` ranks from other proxies.
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


def register(name: str, needs: tuple[str, ...], reference: str):
    def wrap(fn):
        bad = set(needs) - set(NEEDS)
        assert not bad, f"unknown needs {bad}"
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


ALL_NETWORK_PROXIES = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "synflow_bn", "jacob_cov",
                       "relu_logdet", "relu", "params", "flops")  # fisher_channel: on request


def _load_all() -> None:
    from nas_core.proxies import (complexity, fisher, grad_norm, grasp, jacob_cov, plain,  # noqa: F401
                                  relu_count, relu_logdet, snip, synflow)
