"""Profiles: one name (smoke | quick | paper) picks every protocol's numbers.

Each protocol is a plain frozen dataclass in `nas_core/protocols/<section>.py` with a dict
`PROFILES = {"smoke": ..., "quick": ..., "paper": ...}`; there is no configuration framework.
  smoke  every code path, minutes on 2 CPU cores (CI)
  quick  meaningful results in under an hour on 2 CPU cores (run_all.sh's default)
  paper  the study's full protocol on one GPU (docs/reproduction.md)
"""
from __future__ import annotations

import dataclasses
import importlib

from nas_core.errors import BadParameter

PROFILE_NAMES = ("smoke", "quick", "paper")


def check_profile(name: str) -> str:
    if name not in PROFILE_NAMES:
        raise BadParameter(f"unknown profile {name!r}", fix=f"use one of: {', '.join(PROFILE_NAMES)}")
    return name


def protocol(section: str, profile: str, **overrides):
    """The protocol dataclass of `section` for `profile`, with fields overridden by keyword."""
    check_profile(profile)
    try:
        module = importlib.import_module(f"nas_core.protocols.{section}")
    except ModuleNotFoundError:
        raise BadParameter(f"unknown protocol section {section!r}") from None
    base = module.PROFILES[profile]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(base)}
    if unknown:
        raise BadParameter(f"protocol {section!r} has no field(s) {sorted(unknown)}",
                           fix=f"fields: {', '.join(f.name for f in dataclasses.fields(base))}")
    return dataclasses.replace(base, **overrides)
