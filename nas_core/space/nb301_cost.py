"""Closed-form parameter and FLOP counts of the DARTS / NAS-Bench-301 network (docs/nb301.md).

No network is built: each cell contributes, per (op, reads-a-cell-input) pair, an entry of a
per-cell table, and an architecture's total is the fixed part (stem, preprocessing, head) plus
its pair counts dotted with the tables of its normal and reduction cells.

Network geometry (`cell_plan`): stem conv 3x3 -> stem_multiplier*C channels at the input
resolution R; `layers` cells, reductions at layers//3 and 2*layers//3 (channels doubled,
resolution ceil(R/2)); cell i reads the outputs of cells i-2 and i-1 (the stem's output for the
first two), preprocessed to its C_i channels (FactorizedReduce if that input is at twice the
cell's input resolution, else ReLU-conv1x1-BN), and outputs 4*C_i channels.

Parameters: convs k*k*C_in/groups*C_out (no bias), BN 2C when affine, Linear in*out + out.

FLOPs, rule "sample" (the convention of the NB301 sample's `flops` column, found by matching it
exactly; it is the rule of the tensorwatch/torchstat model statistics):
  conv        H_out*W_out * C_out * C_in/groups * k*k     (multiply-adds, no bias)
  Linear      in*out                                       (bias not counted)
  BatchNorm   elements, twice that when affine
  ReLU        elements of its input
  max/avg pool k*k per output element
  global average pool from HxW:  C*(H+1)*(W+1)            (the counter's window quirk)
  node sums, concatenation, identity: 0
and in the network the sample was counted on, each pool op is followed by a non-affine BN
(`pool_bn=True`: +1 per pool output element, no parameters), the cell ops' BNs are non-affine
(`affine=False`) and the stem and preprocessing BNs affine (`preprocess_affine=True`).
Rule "macs": multiply-adds of convs and the Linear layer only.
"""
from __future__ import annotations

import numpy as np

from nas_core.errors import BadParameter
from nas_core.space.nb301 import N_NODES, N_OPS, OPS, canonical

FLOP_RULES = ("sample", "macs")
AUX_HIDDEN, AUX_OUT = 128, 768  # DARTS' CIFAR auxiliary head widths


def reduction_layers(layers: int) -> tuple[int, int]:
    """Indices of the two reduction cells: layers//3 and 2*layers//3 (2 and 5 for 8 layers)."""
    return layers // 3, 2 * layers // 3


def cell_plan(C: int, layers: int, stem_multiplier: int = 3) -> list[tuple[int, int, int, bool, bool]]:
    """Per cell: (c_prev_prev, c_prev, c, reduction, reduction_prev), as DARTS wires them."""
    plan = []
    c_pp = c_p = stem_multiplier * C
    c, reduction_prev = C, False
    for i in range(layers):
        reduction = i in reduction_layers(layers)
        if reduction:
            c *= 2
        plan.append((c_pp, c_p, c, reduction, reduction_prev))
        c_pp, c_p, reduction_prev = c_p, N_NODES * c, reduction
    return plan


def _half(h: int) -> int:
    return (h + 1) // 2  # every stride-2 op of the network (padded k x k, 1x1) gives ceil(h/2)


def _op_cost(op: int, c: int, h_in: int, stride: int, affine: bool, pool_bn: bool, rule: str):
    """(params, flops) of one cell op with c channels reading an h_in x h_in map."""
    name = OPS[op]
    h_out = h_in if stride == 1 else _half(h_in)
    a_in, a_out = h_in * h_in, h_out * h_out
    sample = rule == "sample"
    bn_p = 2 * c if affine else 0
    bn_f = c * a_out * (2 if affine else 1) if sample else 0
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        return 0, (c * a_out * 9 + (c * a_out if pool_bn else 0)) if sample else 0
    if name == "skip_connect":
        if stride == 1:
            return 0, 0
        # FactorizedReduce(c, c): two 1x1 convs c -> c/2 at h_out
        return c * c + bn_p, c * c * a_out + ((c * a_in) if sample else 0) + bn_f
    k = int(name[-1])
    block_p = c * k * k + c * c                  # depthwise k x k + pointwise 1x1
    block_f = (c * k * k + c * c) * a_out
    if name.startswith("dil_conv_"):
        return block_p + bn_p, block_f + ((c * a_in) if sample else 0) + bn_f
    # sep_conv: the first block takes the stride, the second runs at h_out
    relu_f = (c * a_in + c * a_out) if sample else 0
    return 2 * (block_p + bn_p), 2 * block_f + relu_f + 2 * bn_f


def _preprocess_cost(c_in: int, c: int, h_in: int, factorized: bool, affine: bool, rule: str):
    h_out = _half(h_in) if factorized else h_in
    a_in, a_out = h_in * h_in, h_out * h_out
    params = c_in * c + (2 * c if affine else 0)  # FactorizedReduce's two c_in -> c/2 convs: c_in*c too
    flops = c_in * c * a_out
    if rule == "sample":
        flops += c_in * a_in + c * a_out * (2 if affine else 1)
    return params, flops


def aux_head_cost(c_in: int, h_in: int, num_classes: int, rule: str = "sample") -> tuple[int, int]:
    """DARTS' CIFAR auxiliary head on the output of cell 2*layers//3: ReLU, avg pool 5 stride 3,
    conv1x1 c_in->128, BN, ReLU, conv2x2 128->768, BN, ReLU, Linear(768 -> classes). Its
    Linear needs a 1x1 map after the 2x2 conv, i.e. h_in in 8..10 (an input of 32x32)."""
    h_pool = (h_in - 5) // 3 + 1
    if h_pool - 1 != 1:
        raise BadParameter(f"the DARTS auxiliary head needs an 8x8 to 10x10 map, got {h_in}x{h_in}",
                           fix="use auxiliary=False or resolution=32")
    a_pool = h_pool * h_pool
    params = c_in * AUX_HIDDEN + 2 * AUX_HIDDEN + AUX_HIDDEN * AUX_OUT * 4 + 2 * AUX_OUT + AUX_OUT * num_classes \
        + num_classes
    flops = c_in * AUX_HIDDEN * a_pool + AUX_HIDDEN * AUX_OUT * 4 + AUX_OUT * num_classes
    if rule == "sample":
        flops += c_in * h_in * h_in                      # ReLU
        flops += c_in * a_pool * 25                      # avg pool 5x5
        flops += 2 * AUX_HIDDEN * a_pool + AUX_HIDDEN * a_pool  # BN (affine) + ReLU
        flops += 2 * AUX_OUT + AUX_OUT                   # BN (affine) + ReLU on 1x1
    return params, flops


def pair_tables(C: int = 32, layers: int = 8, resolution: int = 32, stem_multiplier: int = 3,
                affine: bool = False, pool_bn: bool = True, rule: str = "sample"):
    """Per cell i: params and flops tables of shape (N_OPS, 2), column 1 for a pair reading a
    cell input (stride 2 in a reduction cell), column 0 for one reading an intermediate node."""
    p_tab = np.zeros((layers, N_OPS, 2), dtype=np.int64)
    f_tab = np.zeros((layers, N_OPS, 2), dtype=np.int64)
    h = resolution
    for i, (_, _, c, reduction, _) in enumerate(cell_plan(C, layers, stem_multiplier)):
        h_nodes = _half(h) if reduction else h
        for op in range(N_OPS):
            for reads_input in (0, 1):
                stride = 2 if reduction and reads_input else 1
                h_in = h if reads_input else h_nodes
                p_tab[i, op, reads_input], f_tab[i, op, reads_input] = _op_cost(
                    op, c, h_in, stride, affine, pool_bn, rule)
        h = h_nodes
    return p_tab, f_tab


def fixed_cost(C: int = 32, layers: int = 8, num_classes: int = 10, resolution: int = 32, in_channels: int = 3,
               stem_multiplier: int = 3, preprocess_affine: bool = True, auxiliary: bool = False,
               rule: str = "sample") -> tuple[int, int]:
    """(params, flops) of everything that does not depend on the cells' ops."""
    sample = rule == "sample"
    c_stem = stem_multiplier * C
    area = resolution * resolution
    params = in_channels * c_stem * 9 + 2 * c_stem
    flops = in_channels * c_stem * 9 * area + (2 * c_stem * area if sample else 0)
    h_prev, h = resolution, resolution   # resolutions of the cell's inputs s0, s1
    plan = cell_plan(C, layers, stem_multiplier)
    aux_at = reduction_layers(layers)[1]
    for i, (c_pp, c_p, c, reduction, reduction_prev) in enumerate(plan):
        for c_in, h_in, factorized in ((c_pp, h_prev, reduction_prev), (c_p, h, False)):
            p, f = _preprocess_cost(c_in, c, h_in, factorized, preprocess_affine, rule)
            params, flops = params + p, flops + f
        h_prev, h = h, (_half(h) if reduction else h)
        if auxiliary and i == aux_at:
            p, f = aux_head_cost(N_NODES * c, h, num_classes, rule)
            params, flops = params + p, flops + f
    c_last = N_NODES * plan[-1][2]
    params += c_last * num_classes + num_classes
    flops += c_last * num_classes + (c_last * (h + 1) * (h + 1) if sample else 0)
    return params, flops


def pair_counts(archs) -> np.ndarray:
    """(n, 2 cells, N_OPS, 2) counts of (op, reads-a-cell-input) pairs per cell."""
    counts = np.zeros((len(archs), 2, N_OPS, 2), dtype=np.int64)
    for a, arch in enumerate(archs):
        for cell_index, cell in enumerate(canonical(arch)):
            for op, inp in cell:
                counts[a, cell_index, op, int(inp < 2)] += 1
    return counts


def params_flops(archs, C: int = 32, layers: int = 8, num_classes: int = 10, resolution: int = 32,
                 auxiliary: bool = False, in_channels: int = 3, stem_multiplier: int = 3, affine: bool = False,
                 preprocess_affine: bool = True, pool_bn: bool = True, rule: str = "sample"):
    """(params_M, flops_M) float arrays: parameters in millions and FLOPs in millions (MFLOPs).

    Defaults: the configuration that reproduces the NB301 sample's `params` and `flops` columns
    exactly (C=32, 8 layers, no auxiliary head, non-affine BN in the cell ops; see the module
    docstring). `DartsNetwork(arch, C, affine=a)` has `params_flops(.., affine=a,
    preprocess_affine=a, pool_bn=False)` parameters.
    """
    if rule not in FLOP_RULES:
        raise BadParameter(f"unknown FLOP rule {rule!r}", fix=f"use one of: {', '.join(FLOP_RULES)}")
    if C < 2 or C % 2 or layers < 1 or resolution < 1:
        raise BadParameter(f"need an even C >= 2, layers >= 1 and resolution >= 1; got C={C}, layers={layers}, "
                           f"resolution={resolution}")
    p_tab, f_tab = pair_tables(C, layers, resolution, stem_multiplier, affine, pool_bn, rule)
    reductions = np.array([red for *_, red, _ in cell_plan(C, layers, stem_multiplier)])
    # sum the tables of all normal cells and of all reduction cells (same genotype in each group)
    p_cell = np.stack([p_tab[~reductions].sum(0), p_tab[reductions].sum(0)])  # (2, N_OPS, 2)
    f_cell = np.stack([f_tab[~reductions].sum(0), f_tab[reductions].sum(0)])
    p0, f0 = fixed_cost(C, layers, num_classes, resolution, in_channels, stem_multiplier, preprocess_affine,
                        auxiliary, rule)
    counts = pair_counts(list(archs))
    params = p0 + np.einsum("ncoi,coi->n", counts, p_cell)
    flops = f0 + np.einsum("ncoi,coi->n", counts, f_cell)
    return params / 1e6, flops / 1e6
