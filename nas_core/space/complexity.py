"""Analytic #params and #FLOPs of NAS-Bench-201 networks.

They follow the benchmark's own counters: every edge op is instantiated and executed
(dead edges included), so both are linear in the op counts. Parameters: all of
`model.parameters()`, BN affine included -- equal to the benchmark's `params_M_*` for all
15,625 cells. FLOPs per image: convs k*k*Cin*Cout*H*W, linear in*out, average pools
k*k*C*H*W (global pool: H*W*C), affine BN 2 per element, ReLU 1 per element. With this
convention every per-op coefficient equals the benchmark's `flops_M_*` exactly; the
benchmark's constant part is larger by 0.001088 M (CIFAR) / 0.000576 M (ImageNet16), an
offset of its counter we could not attribute to a layer, so FLOP *rankings* are identical
and values agree to 1e-4 relative. Values are in millions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_core.space.nb201 import CONV1, CONV3, N_OPS, POOL

DATASETS = {  # name -> (input resolution, classes)
    "cifar10": (32, 10),
    "cifar100": (32, 100),
    "imagenet16": (16, 120),
}


@dataclass(frozen=True)
class Macro:
    """The NB201 macro skeleton's size: C channels in stage 1 (doubling), N cells per stage."""
    C: int = 16
    N: int = 5
    resolution: int = 32
    num_classes: int = 10
    in_channels: int = 3


def _stage_sizes(m: Macro):
    return [(m.C * 2 ** s, m.resolution // 2 ** s) for s in range(3)]


def _bn(c):
    return 2 * c


def op_cost(m: Macro) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per-op params and FLOPs of one edge summed over all cells, plus the fixed parts.

    Returns (params_per_op[5], flops_per_op[5], fixed_params, fixed_flops).
    """
    p_op = np.zeros(N_OPS)
    f_op = np.zeros(N_OPS)
    for c, hw in _stage_sizes(m):
        p_op[CONV1] += m.N * (c * c + _bn(c))
        p_op[CONV3] += m.N * (9 * c * c + _bn(c))
        relu_bn = 3 * c * hw * hw  # ReLU (1/elem) + affine BN (2/elem) of ReLUConvBN
        f_op[CONV1] += m.N * (c * c * hw * hw + relu_bn)
        f_op[CONV3] += m.N * (9 * c * c * hw * hw + relu_bn)
        f_op[POOL] += m.N * (9 * c * hw * hw)
    c0, hw0 = _stage_sizes(m)[0]
    fixed_p = 9 * m.in_channels * c0 + _bn(c0)  # stem
    fixed_f = 9 * m.in_channels * c0 * hw0 * hw0 + 2 * c0 * hw0 * hw0  # conv + BN
    stages = _stage_sizes(m)
    for (cin, _), (cout, hw) in zip(stages[:-1], stages[1:]):  # residual reduction blocks
        fixed_p += 9 * cin * cout + _bn(cout) + 9 * cout * cout + _bn(cout) + cin * cout
        fixed_f += 4 * cin * hw * hw + 9 * cin * cout * hw * hw + 2 * cout * hw * hw  # conv_a
        fixed_f += 3 * cout * hw * hw + 9 * cout * cout * hw * hw  # conv_b
        fixed_f += 4 * cin * hw * hw + cin * cout * hw * hw  # AvgPool2d(2) + 1x1 shortcut
    clast, hwlast = stages[-1]
    fixed_p += _bn(clast) + clast * m.num_classes + m.num_classes
    fixed_f += 3 * clast * hwlast * hwlast  # final BN + ReLU
    fixed_f += clast * hwlast * hwlast + clast * m.num_classes  # global pool + classifier
    return p_op, f_op, float(fixed_p), float(fixed_f)


def op_counts(arch_ops: np.ndarray) -> np.ndarray:
    """(n, 6) op ids -> (n, 5) counts of each op."""
    arch_ops = np.atleast_2d(np.asarray(arch_ops, dtype=np.int64))
    return np.stack([(arch_ops == o).sum(1) for o in range(N_OPS)], axis=1)


def params_flops(arch_ops: np.ndarray, macro: Macro = Macro()) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised (params_M, flops_M) for (n, 6) op ids."""
    p_op, f_op, fp, ff = op_cost(macro)
    counts = op_counts(arch_ops)
    return (counts @ p_op + fp) / 1e6, (counts @ f_op + ff) / 1e6


def dataset_macro(dataset: str, C: int = 16, N: int = 5) -> Macro:
    res, classes = DATASETS[dataset]
    return Macro(C=C, N=N, resolution=res, num_classes=classes)
