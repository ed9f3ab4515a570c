"""RQ5: what an estimator does to an actual search, on a fixed candidate set.

Every estimator drives the same searches with the same seeds and budgets (queries of the
estimator); we report the TRUE accuracy of the architecture each search returns (its best
by the estimator), and the regret = best true accuracy in the candidate set - that.
  top1    the best-scored candidate (the whole set queried)
  random  B random candidates, keep the best by the estimator
  rea     regularized evolution (Real et al., AAAI 2019): population P, tournament S, the
          child mutates one edge op of the tournament winner (restricted to candidates:
          a mutation outside the set is redrawn), the oldest member dies; B queries in all
The same searches driven by the ground truth itself ("truth") are the oracle baseline.
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from nas_core.analyses.op_bias import mutation_pairs
from nas_core.space import nb201


def _neighbour_lists(kit_ids: np.ndarray) -> list[np.ndarray]:
    i, j, _, _ = mutation_pairs(kit_ids)
    return neighbour_lists(i, j, len(kit_ids))


def neighbour_lists(i, j, n: int) -> list[np.ndarray]:
    """Candidate k's one-mutation neighbours (positions) from ordered pairs (i, j)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    order = np.argsort(i, kind="stable")
    i, j = i[order], j[order]
    bounds = np.searchsorted(i, np.arange(n + 1))
    return [j[bounds[k]:bounds[k + 1]] for k in range(n)]


def random_queries(n: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """The candidates random search queries, in order."""
    return rng.choice(n, size=min(budget, n), replace=False)


def random_search(score: np.ndarray, budget: int, rng: np.random.Generator) -> int:
    picks = random_queries(len(score), budget, rng)
    return int(picks[np.argmax(score[picks])])


def regularized_evolution(score: np.ndarray, neighbours, budget: int, rng: np.random.Generator,
                          population: int = 10, sample: int = 3) -> int:
    seen = rea_queries(score, neighbours, budget, rng, population, sample)
    return int(seen[np.argmax(score[seen])])


def rea_queries(score: np.ndarray, neighbours, budget: int, rng: np.random.Generator,
                population: int = 10, sample: int = 3) -> np.ndarray:
    """The candidates regularized evolution queries, in order (repeats allowed)."""
    population = min(population, budget, len(score))
    members = deque(int(k) for k in rng.choice(len(score), size=population, replace=False))
    seen = list(members)
    while len(seen) < budget:
        contenders = rng.choice(len(members), size=min(sample, len(members)), replace=False)
        parent = max((members[c] for c in contenders), key=lambda k: score[k])
        options = neighbours[parent]
        child = int(rng.choice(options)) if len(options) else int(rng.integers(len(score)))
        members.append(child)
        members.popleft()
        seen.append(child)
    return np.array(seen)


def run_searches(wide: pd.DataFrame, arch_strs, truth_column: str = "truth", budgets=(50,), n_seeds: int = 10,
                 estimators=None, neighbours=None) -> pd.DataFrame:
    """wide: index + one column per estimator (higher = better) + the truth column.
    `neighbours` (any space: `neighbour_lists`) replaces NB201's neighbours of `arch_strs`."""
    truth = wide[truth_column].to_numpy(float)
    if neighbours is None:
        neighbours = _neighbour_lists(nb201.kit_ids_from_strings(list(arch_strs)))
    estimators = list(estimators or [c for c in wide.columns if c not in ("index", truth_column)]) + [truth_column]
    best = np.nanmax(truth)
    rank_frac = pd.Series(truth).rank(ascending=False, method="min").to_numpy() / len(truth)
    rows = []
    for est in estimators:
        score = np.nan_to_num(wide[est].to_numpy(float), nan=-np.inf)
        name = "truth" if est == truth_column else est
        found = int(np.argmax(score))
        rows.append((name, "top1", -1, len(score), found))
        for budget in budgets:
            for seed in range(n_seeds):
                rows.append((name, "random", seed, budget, random_search(score, budget, np.random.default_rng(seed))))
                rows.append((name, "rea", seed, budget,
                             regularized_evolution(score, neighbours, budget, np.random.default_rng(seed))))
    frame = pd.DataFrame(rows, columns=["estimator", "method", "seed", "budget", "position"])
    frame["found_index"] = wide["index"].to_numpy()[frame["position"]]
    frame["true_acc"] = truth[frame["position"]]
    frame["true_rank_frac"] = rank_frac[frame["position"]]
    frame["regret"] = best - frame["true_acc"]
    return frame.drop(columns="position")


def incumbent_curve(score: np.ndarray, truth: np.ndarray, queried: np.ndarray) -> np.ndarray:
    """True accuracy of the incumbent (the best queried candidate by the estimator) after each
    query: what a search driven by `score` would return if it stopped there."""
    best_pos = np.empty(len(queried), dtype=int)
    current = queried[0]
    for i, q in enumerate(queried):
        if score[q] > score[current]:
            current = q
        best_pos[i] = current
    return truth[best_pos]


def search_trajectories(wide: pd.DataFrame, arch_strs, truth_column: str = "truth", budget: int = 50,
                        n_seeds: int = 10, estimators=None, neighbours=None) -> pd.DataFrame:
    """Best-so-far trajectories of the random and REA searches of `run_searches` (same seeds,
    same queries): estimator, method, seed, query (1..budget), incumbent_true_acc."""
    truth = wide[truth_column].to_numpy(float)
    if neighbours is None:
        neighbours = _neighbour_lists(nb201.kit_ids_from_strings(list(arch_strs)))
    estimators = list(estimators or [c for c in wide.columns if c not in ("index", truth_column)]) + [truth_column]
    frames = []
    for est in estimators:
        score = np.nan_to_num(wide[est].to_numpy(float), nan=-np.inf)
        name = "truth" if est == truth_column else est
        for seed in range(n_seeds):
            for method, queried in (
                    ("random", random_queries(len(score), budget, np.random.default_rng(seed))),
                    ("rea", rea_queries(score, neighbours, budget, np.random.default_rng(seed)))):
                curve = incumbent_curve(score, truth, queried)
                frames.append(pd.DataFrame({"estimator": name, "method": method, "seed": seed,
                                            "query": np.arange(1, len(curve) + 1), "incumbent_true_acc": curve}))
    return pd.concat(frames, ignore_index=True)
