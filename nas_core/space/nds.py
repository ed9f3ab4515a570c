"""The NDS ResNet and ResNeXt-A design spaces on CIFAR-10 (Radosavovic et al., "On Network
Design Spaces for Visual Recognition", ICCV 2019; docs/nds.md).

A network is a 3x3 stem of 16 channels, then 3 stages (strides 1, 2, 2) of residual blocks,
then global average pool and a linear classifier. Each stage i has its own choices:

  ResNet     depth d_i in {1,2,3,4,6,8,12,16,24}, width w_i in {16,24,32,40,48,64,80,96,128,160,192,256};
             basic blocks (two 3x3 convs). 108**3 = 1,259,712 networks.
  ResNeXt-A  depth d_i in {1,2,4,8,16}, width w_i in {16,32,64,128,256}, bottleneck multiplier
             b_i in {0.25,0.5,1} and number of groups g_i in {1,2,4}; bottleneck blocks
             (1x1 -> grouped 3x3 -> 1x1, inner width round(w_i*b_i)). 225**3 = 11,390,625 networks.

Stages are independent (no ordering constraint). An architecture (`NDSArch`) is written
canonically as e.g. "resnet:ds=1,2,3;ws=16,24,32" or
"resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1;gs=1,2,4".

#params / #FLOPs (`params_flops`) follow pycls, whose counters produced the NDS files:
params = all parameters (convs without bias, BN scale+shift, classifier weight+bias); FLOPs =
conv weight size x output positions (grouped convs count their reduced weight), plus the
classifier's in*out + bias; BN, ReLU, pooling and additions count 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nas_core.errors import BadParameter

STEM_WIDTH = 16
STRIDES = (1, 2, 2)
N_STAGES = 3


@dataclass(frozen=True)
class DesignSpace:
    name: str
    label: str                      # as the NDS files name it
    block_type: str                 # pycls block type in the files' `net.block_type`
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    bot_muls: tuple[float, ...] = ()
    num_groups: tuple[int, ...] = ()

    @property
    def bottleneck(self) -> bool:
        return bool(self.bot_muls)

    def choices(self) -> dict[str, tuple]:
        out = {"ds": self.depths, "ws": self.widths}
        if self.bottleneck:
            out.update(bms=self.bot_muls, gs=self.num_groups)
        return out

    @property
    def size(self) -> int:
        per_stage = int(np.prod([len(v) for v in self.choices().values()]))
        return per_stage ** N_STAGES


SPACES = {
    "resnet": DesignSpace("resnet", "ResNet", "res_basic_block",
                          depths=(1, 2, 3, 4, 6, 8, 12, 16, 24),
                          widths=(16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256)),
    "resnexta": DesignSpace("resnexta", "ResNeXt-A", "res_bottleneck_block",
                            depths=(1, 2, 4, 8, 16), widths=(16, 32, 64, 128, 256),
                            bot_muls=(0.25, 0.5, 1.0), num_groups=(1, 2, 4)),
}


def get_space(name: str) -> DesignSpace:
    key = name.lower().replace("-", "").replace("_", "")
    if key not in SPACES:
        raise BadParameter(f"unknown NDS design space {name!r}", fix=f"use one of: {', '.join(SPACES)}")
    return SPACES[key]


@dataclass(frozen=True)
class NDSArch:
    """One network of a design space: per-stage depths, widths and (ResNeXt) bottleneck
    multipliers and group counts. Build it with `make_arch` (validates)."""
    space: str
    ds: tuple[int, ...]
    ws: tuple[int, ...]
    bms: tuple[float, ...] = ()
    gs: tuple[int, ...] = ()

    def __str__(self):
        return format_arch(self)

    def stages(self):
        """(depth, width, stride, bottleneck multiplier, groups) per stage (1.0, 1 for ResNet)."""
        bms = self.bms or (1.0,) * N_STAGES
        gs = self.gs or (1,) * N_STAGES
        return list(zip(self.ds, self.ws, STRIDES, bms, gs))


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def format_arch(arch: NDSArch) -> str:
    parts = [f"ds={','.join(map(_num, arch.ds))}", f"ws={','.join(map(_num, arch.ws))}"]
    if arch.bms:
        parts += [f"bms={','.join(map(_num, arch.bms))}", f"gs={','.join(map(_num, arch.gs))}"]
    return f"{arch.space}:" + ";".join(parts)


def make_arch(space: str, ds, ws, bms=(), gs=()) -> NDSArch:
    """Validate per-stage choices against the design space (BadParameter naming the bad value)."""
    sp = get_space(space)
    given = {"ds": ds, "ws": ws}
    if sp.bottleneck:
        given.update(bms=bms, gs=gs)
    elif len(bms) or len(gs):
        raise BadParameter(f"NDS {sp.label} has no bottleneck multipliers or groups; got bms={list(bms)}, gs={list(gs)}",
                           fix="give only ds and ws")
    out = {}
    for key, allowed in sp.choices().items():
        vals = tuple(given[key])
        if len(vals) != N_STAGES:
            raise BadParameter(f"NDS {sp.label}: {key} needs one value per stage ({N_STAGES}), got {list(vals)}",
                               fix=f"e.g. {key}={','.join(map(_num, allowed[:N_STAGES]))}")
        for i, v in enumerate(vals):
            if not any(np.isclose(float(v), a) for a in allowed):
                raise BadParameter(f"NDS {sp.label}: {key}[{i}] = {v!r} is not a choice of the design space",
                                   fix=f"{key} values are {', '.join(map(_num, allowed))}")
        # normalise to the space's own values (so 1 and 1.0 give one architecture)
        out[key] = tuple(next(a for a in allowed if np.isclose(float(v), a)) for v in vals)
    return NDSArch(sp.name, out["ds"], out["ws"], out.get("bms", ()), out.get("gs", ()))


_PART = re.compile(r"^(ds|ws|bms|gs)=([0-9.,]+)$")


def parse(arch_str: str) -> NDSArch:
    """Canonical string -> NDSArch, e.g. 'resnet:ds=1,2,3;ws=16,24,32'."""
    example = "resnet:ds=1,2,3;ws=16,24,32 or resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1;gs=1,2,4"
    if not isinstance(arch_str, str) or arch_str.count(":") != 1:
        raise BadParameter(f"malformed NDS architecture {arch_str!r}: expected '<space>:<key>=<values>;...'",
                           fix=f"e.g. {example}")
    space, body = arch_str.strip().split(":")
    values: dict[str, tuple] = {}
    for part in body.split(";"):
        m = _PART.match(part.strip())
        if not m:
            raise BadParameter(f"malformed part {part!r} of NDS architecture {arch_str!r}",
                               fix=f"parts are ds=, ws= (and bms=, gs= for ResNeXt) with comma-separated values; "
                                   f"e.g. {example}")
        key, raw = m.groups()
        if key in values:
            raise BadParameter(f"NDS architecture {arch_str!r} gives {key} twice", fix=f"e.g. {example}")
        try:
            values[key] = tuple(float(v) if key == "bms" else int(v) for v in raw.split(","))
        except ValueError:
            raise BadParameter(f"NDS architecture {arch_str!r}: {key} values {raw!r} are not numbers",
                               fix=f"e.g. {example}") from None
    missing = [k for k in get_space(space).choices() if k not in values]
    if missing:
        raise BadParameter(f"NDS architecture {arch_str!r} lacks {', '.join(missing)}", fix=f"e.g. {example}")
    return make_arch(space, values["ds"], values["ws"], values.get("bms", ()), values.get("gs", ()))


def from_net_config(space: str, net: dict) -> NDSArch:
    """The architecture of an NDS file entry's `net` dict: lists of 4 values per key, the first
    describing the stem (depth 1, width 16, stride 1), the next three the stages."""
    sp = get_space(space)
    keys = {"ds": "ds", "ws": "ws", "bms": "bot_muls", "gs": "num_gs"}
    needed = ["ds", "ws"] + (["bms", "gs"] if sp.bottleneck else [])
    vals = {}
    for k in needed:
        v = net.get(keys[k])
        if not isinstance(v, list) or len(v) != N_STAGES + 1:
            raise BadParameter(f"net.{keys[k]} must be a list of {N_STAGES + 1} values (stem + 3 stages), got {v!r}")
        vals[k] = v[1:]
    return make_arch(space, vals["ds"], vals["ws"], vals.get("bms", ()), vals.get("gs", ()))


# ---- sampling, neighbours, features ------------------------------------------------------------

def sample(space: str, n: int, seed: int, distinct: bool = True) -> list[NDSArch]:
    """`n` architectures drawn uniformly from the design space (every per-stage choice uniform
    and independent); `distinct` redraws repeats. Deterministic for a seed."""
    sp = get_space(space)
    if n < 0 or (distinct and n > sp.size):
        raise BadParameter(f"cannot draw {n} distinct architectures from NDS {sp.label} ({sp.size} in all)")
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        picks = {k: tuple(v[i] for i in rng.integers(0, len(v), size=N_STAGES)) for k, v in sp.choices().items()}
        arch = NDSArch(sp.name, picks["ds"], picks["ws"], picks.get("bms", ()), picks.get("gs", ()))
        if distinct and arch in seen:
            continue
        seen.add(arch)
        out.append(arch)
    return out


def neighbours(arch: NDSArch) -> list[NDSArch]:
    """Every architecture with exactly one per-stage value changed (to any other choice):
    ResNet 3*(8+11) = 57, ResNeXt-A 3*(4+4+2+2) = 36. Order: key, stage, value."""
    sp = get_space(arch.space)
    cur = {"ds": arch.ds, "ws": arch.ws, "bms": arch.bms, "gs": arch.gs}
    out = []
    for key, allowed in sp.choices().items():
        for i in range(N_STAGES):
            for v in allowed:
                if v != cur[key][i]:
                    new = dict(cur)
                    new[key] = cur[key][:i] + (v,) + cur[key][i + 1:]
                    out.append(NDSArch(sp.name, new["ds"], new["ws"], new["bms"], new["gs"]))
    return out


def clip(arch: NDSArch, max_depth: int | None = None, max_width: int | None = None) -> NDSArch:
    """`arch` inside a smaller network: every stage's depth (width) replaced by the largest
    choice of the space that is <= `max_depth` (`max_width`) when it is larger; bottleneck
    multipliers and groups unchanged (the space's widths are multiples of 16, so every inner
    width stays divisible by every group count). None = no limit. The result is an
    architecture of the space; several architectures can share one clipped form."""
    sp = get_space(arch.space)

    def cap(values, choices, limit):
        if limit is None:
            return values
        allowed = [c for c in choices if c <= limit]
        if not allowed:
            raise BadParameter(f"NDS {sp.label}: no choice is <= {limit} (choices {', '.join(map(_num, choices))})",
                               fix=f"use a limit of at least {_num(min(choices))}")
        return tuple(v if v <= limit else max(allowed) for v in values)

    return NDSArch(sp.name, cap(arch.ds, sp.depths, max_depth), cap(arch.ws, sp.widths, max_width), arch.bms, arch.gs)


def bottleneck_width(width: int, bot_mul: float) -> int:
    """Inner width of a bottleneck block, pycls's int(round(w * b))."""
    return int(round(width * bot_mul))


@lru_cache(maxsize=100_000)
def params_flops(arch: NDSArch, resolution: int = 32, num_classes: int = 10, in_channels: int = 3) -> tuple[int, int]:
    """Exact #params and #FLOPs of the CIFAR network (pycls counters; module docstring)."""
    def conv(k, c_in, c_out, hw, groups=1):
        w = k * k * c_in * c_out // groups
        return w, w * hw

    size = resolution
    p, f = conv(3, in_channels, STEM_WIDTH, size * size)
    p += 2 * STEM_WIDTH
    w_in = STEM_WIDTH
    bottleneck = get_space(arch.space).bottleneck
    for d, w, stride, bm, g in arch.stages():
        for b in range(d):
            s = stride if b == 0 else 1
            out_size = (size - 1) // s + 1
            hw_in, hw = size * size, out_size * out_size
            units = []  # (k, c_in, c_out, positions, groups): each conv is followed by a BN
            if w_in != w or s != 1:
                units.append((1, w_in, w, hw, 1))  # projection shortcut (1x1, stride s)
            if bottleneck:
                wb = bottleneck_width(w, bm)
                units += [(1, w_in, wb, hw_in, 1), (3, wb, wb, hw, g), (1, wb, w, hw, 1)]
            else:
                units += [(3, w_in, w, hw, 1), (3, w, w, hw, 1)]
            for k, a, c, pos, grp in units:
                dp, df = conv(k, a, c, pos, grp)
                p, f = p + dp + 2 * c, f + df
            w_in, size = w, out_size
    p += w_in * num_classes + num_classes
    f += w_in * num_classes + num_classes
    return p, f


def features(archs) -> "pd.DataFrame":  # noqa: F821 - pandas imported lazily
    """One row per architecture: d1..d3, w1..w3, (b1..b3, g1..g3), total_depth, params_M, flops_M."""
    import pandas as pd

    rows = []
    for a in archs:
        p, f = params_flops(a)
        row = {**{f"d{i + 1}": a.ds[i] for i in range(3)}, **{f"w{i + 1}": a.ws[i] for i in range(3)}}
        if a.bms:
            row.update({f"b{i + 1}": a.bms[i] for i in range(3)})
            row.update({f"g{i + 1}": a.gs[i] for i in range(3)})
        row.update(total_depth=sum(a.ds), params_M=p / 1e6, flops_M=f / 1e6, arch_str=format_arch(a))
        rows.append(row)
    return pd.DataFrame(rows)
