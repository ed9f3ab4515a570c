"""The study plan: which jobs each research question needs, for one profile.

A `Study` ties together the data (benchmark, ground-truth column, images), the profile's
protocols and the engines. Every expensive result (zero-shot sweeps, supernet training and
scoring, diagnostics) is cached by its engine, so the notebooks and `run_all.sh`'s compute
stage make the same calls: the first caller computes, the others read.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.config import cache_dir, data_root as resolve_root, resolve_device, use_data_root
from nas_core.data.groundtruth import class_mean_truth, metric_column
from nas_core.errors import DataNotFound
from nas_core.criteria import overall
from nas_core.profiles import check_profile
from nas_core.space import nb201
from nas_core.space.selection import select_archs

TAU = "kendall_tau_b"
# the study's headline one-shot estimator: de-isomorphic sampling, averaged over the supernet
# seeds; iso sampling stays the RQ3 baseline the mitigations are compared with
HEADLINE_SAMPLER = "deiso"  # spaces without isomorphism classes use uniform sampling (iso)


class Study:
    def __init__(self, profile: str, device: str = "cpu", data_root=None, truth_column: str | None = None,
                 benchmark: str | None = None):
        from nas_core import benchmarks

        self.profile = check_profile(profile)
        self.device = resolve_device(device)
        self.data_root = resolve_root(data_root)
        use_data_root(self.data_root)
        self.benchmark = benchmarks.resolve_name(benchmark, self.data_root)
        self.bench = benchmarks.get(self.benchmark)
        if self.bench.needs_data_root and self.data_root is None:
            raise DataNotFound(f"benchmark {self.benchmark!r} ({self.bench.title}) needs a data root",
                               fix="pass --data-root DIR / set NAS_CORE_DATA (README, section Data), or use "
                                   "--benchmark mini (the built-in benchmark)")
        self.dataset = self.bench.images.dataset
        self.plan = self.protocol("study")
        self.truth_frame = self.bench.ground_truth(self.data_root)
        self.default_truth_column = self.bench.default_metric_of(self.truth_frame)
        self.truth_column = truth_column or self.default_truth_column
        dataset, _, metric = self.truth_column.partition("_")
        metric_column(self.truth_frame, dataset, metric)
        # a representative stands for its isomorphism class: its truth is the class members' mean
        self.truth = class_mean_truth(self.truth_frame, self.truth_column)

    @classmethod
    def open(cls, profile: str = "smoke", data_root: str = "", device: str = "auto", truth_column: str = "",
             benchmark: str = ""):
        """For notebooks: '' means 'not given' for every string parameter."""
        return cls(profile, device=device or "auto", data_root=data_root or None, truth_column=truth_column or None,
                   benchmark=benchmark or None)

    @property
    def headline_sampler(self) -> str:
        """The study's headline one-shot estimator: de-isomorphic sampling where the benchmark
        defines it (NB201's cells), uniform sampling elsewhere."""
        return HEADLINE_SAMPLER if HEADLINE_SAMPLER in self.bench.samplers else "iso"

    def protocol(self, section: str, **overrides):
        """The profile's protocol numbers for this benchmark (its overrides applied)."""
        return self.bench.protocol(section, self.profile, **overrides)

    def spec(self) -> dict:
        """What rebuilds this study elsewhere (a worker process): Study(**spec)."""
        return {"profile": self.profile, "device": self.device, "benchmark": self.benchmark,
                "data_root": None if self.data_root is None else str(self.data_root),
                "truth_column": self.truth_column}

    # ---- data ---------------------------------------------------------------------------------

    def data_description(self) -> str:
        """Where the data came from, without the machine's paths (outputs are committed)."""
        return self._data_description

    @cached_property
    def _data_description(self) -> str:
        # asked by every banner, report and manifest; some benchmarks re-read their table for it
        return self.bench.describe_data(self.data_root)

    @property
    def outputs_dir(self) -> Path:
        """outputs/<profile>[-mini][-<truth>]: the truth column is part of the key only when it is
        not the benchmark's default (see config.outputs_dir)."""
        from nas_core.config import outputs_dir

        default = self.truth_column == self.default_truth_column
        return outputs_dir(self.profile, self.benchmark, "" if default else self.truth_column)

    def banner(self, n: int | None = None, what: str = "architectures evaluated") -> str:
        note = ("\n\n> **Mini benchmark.** No data root is configured, so every number below is computed on the kit's "
                "own Fashion-MNIST benchmark, not on NAS-Bench-201/CIFAR-10. Set `NAS_CORE_DATA` for the study proper."
                if self.benchmark == "mini" else "")
        if self.benchmark not in ("nb201", "mini"):
            note += f"\n\n> **Ground truth.** {self.bench.truth_note[0].upper()}{self.bench.truth_note[1:]}."
        zs = self.zs_protocol()
        own = self.bench.network_size
        if (zs.C or own[0], zs.N or own[1]) != tuple(own):
            note += (f"\n\n> **Reduced zero-shot network.** At profile `{self.profile}` the proxies run on "
                     f"C{zs.C or own[0]}/N{zs.N or own[1]}, not the benchmark's own C{own[0]}/N{own[1]}: the values "
                     "check the code path, not the study's numbers (gradient proxies' rankings change with the size).")
        if self.bench.oneshot_scope:
            sn = self.protocol("supernet")
            note += (f"\n\n> **One-shot scope.** {self.bench.oneshot_scope} At profile `{self.profile}` the supernet "
                     f"is C{sn.C}/N{sn.N} and scores {len(self.os_indices)} of the {len(self.eval_indices)} "
                     "evaluated architectures.")
        return (f"**Profile** `{self.profile}` · **device** `{self.device}` · **benchmark** `{self.benchmark}` · "
                f"**ground truth** `{self.truth_column}` · **{what}** {len(self.eval_indices) if n is None else n}"
                f"\n\n**Data:** {self.data_description()}{note}")

    def config(self) -> dict:
        return {"profile": self.profile, "benchmark": self.benchmark, "dataset": self.dataset,
                "ground_truth": self.truth_column,
                "ground_truth_of_a_class": ("mean over the isomorphism class's members" if self.bench.has_isomorphism
                                            else "each architecture is its own class"),
                "deiso_representative": ("lowest official benchmark index of its isomorphism class"
                                         if self.bench.has_isomorphism else "not applicable"),
                "data": self.data_description(), "device": self.device,
                "eval_archs": self.plan.eval_archs, "n_eval_archs": int(len(self.eval_indices)),
                "n_oneshot_archs": int(len(self.os_indices))}

    def _select(self, spec: str, pool: pd.DataFrame | None = None) -> np.ndarray:
        pool = self.truth_frame if pool is None else pool
        if not self.bench.has_whole_space and spec.startswith("sample:"):
            # a sampled ground truth (mini table, NB301 sample) is already a stratified sample:
            # use all of it when asked for more
            n = int(spec.split(":", 1)[1])
            valid = self.bench.valid_mask(pool["arch_str"].tolist()) & pool["iso_representative"].to_numpy(bool)
            if n >= int(valid.sum()):
                return np.sort(pool["index"].to_numpy()[valid])
        return select_archs(spec, pool, seed=0, bench=self.bench)

    @cached_property
    def eval_indices(self) -> np.ndarray:
        """The architectures every estimator is evaluated on: the selection `eval_archs`, joined
        with the one-shot set where the supernet covers only part of the space (`os_indices`),
        so that one-shot and zero-shot estimators can always be set side by side."""
        chosen = self._select(self.plan.eval_archs)
        return chosen if self.oneshot_pool is None else np.union1d(chosen, self.os_indices)

    @cached_property
    def rq4_indices(self) -> np.ndarray:
        return self._select(self.plan.rq4_archs)

    @cached_property
    def oneshot_pool(self) -> pd.DataFrame | None:
        """The ground-truth rows the benchmark's supernet can score; None = all of them."""
        mask = self.bench.oneshot_mask(self.truth_frame["arch_str"].tolist())
        return None if mask.all() else self.truth_frame[mask]

    def oneshot_select(self, spec: str) -> np.ndarray:
        """A selection (all | deiso | sample:N | FILE) drawn among the architectures the supernet
        covers (NB101: NAS-Bench-1shot1 sub-space 3); everywhere else `spec`'s own selection."""
        pool = self.oneshot_pool
        if pool is None:
            return self._select(spec)
        if spec.strip() in ("all", "deiso") or spec.strip().startswith("sample:"):
            return self._select(spec, pool)
        return np.intersect1d(self._select(spec), pool["index"].to_numpy())  # a FILE: its covered part

    @cached_property
    def os_indices(self) -> np.ndarray:
        """The architectures the one-shot estimator scores: the evaluation set on every space whose
        supernet covers all of it, else the `eval_archs` selection drawn among those it covers."""
        return self.eval_indices if self.oneshot_pool is None else self.oneshot_select(self.plan.eval_archs)

    @cached_property
    def rq4_os_indices(self) -> np.ndarray:
        """RQ4's selection among the architectures the supernet covers (ZSEs on supernet weights)."""
        return self.oneshot_select(self.plan.rq4_archs)

    def arch_strs(self, indices) -> list[str]:
        lookup = pd.Series(self.truth_frame["arch_str"].to_numpy(), index=self.truth_frame["index"].to_numpy())
        return lookup.reindex(np.asarray(indices)).tolist()

    def report(self, rq: str):
        from nas_core.reporting import Report

        return Report(self.profile, rq, config=self.config(), out_root=self.outputs_dir)

    # ---- evaluation ---------------------------------------------------------------------------

    def evaluate(self, wide: pd.DataFrame, bootstrap: int = 0, **kwargs) -> pd.DataFrame:
        """All criteria for every estimator column of `wide` (index + one column per estimator).
        Losses (columns ending in 'loss') are negated explicitly; everything else is used raw."""
        from nas_core.engines.evaluate import evaluate

        negate = [c for c in wide.columns if c.endswith("loss")]
        return evaluate(wide, self.truth, negate=negate, bootstrap=bootstrap, **kwargs)

    @staticmethod
    def join(*wides: pd.DataFrame) -> pd.DataFrame:
        out = wides[0]
        for w in wides[1:]:
            out = out.merge(w, on="index", how="inner")
        return out

    def tau(self, wide: pd.DataFrame, column: str) -> float:
        from nas_core.criteria import kendall_tau_b

        return float(kendall_tau_b(wide[column].to_numpy(), self.truth.reindex(wide["index"]).to_numpy()))

    # ---- evidence: differences with intervals (analyses/effects.py, docs/statistics.md) ----------

    @staticmethod
    def score_series(wide: pd.DataFrame, column: str) -> pd.Series:
        """One estimator as 'higher is better' scores indexed by architecture (losses negated)."""
        sign = -1.0 if column.endswith("loss") else 1.0
        return pd.Series(sign * wide[column].to_numpy(float), index=wide["index"].to_numpy())

    def effect(self, a: pd.Series, b: pd.Series, seed_pairs=()):
        from nas_core.analyses.effects import effect_between

        return effect_between(a, b, self.truth, n_boot=self.plan.bootstrap, seed_pairs=seed_pairs)

    def effects_vs_baseline(self, wide: pd.DataFrame) -> dict:
        """{estimator: Effect of its τ minus the best complexity baseline's τ} (paired bootstrap)."""
        base = [c for c in ("params", "flops") if c in wide.columns]
        if not base:
            return {}
        best = max(base, key=lambda c: self.tau(wide, c))
        ref = self.score_series(wide, best)
        return {c: self.effect(self.score_series(wide, c), ref) for c in wide.columns
                if c not in ("index", "params", "flops")}

    def top_bottom_effects(self, wide: pd.DataFrame, k: float = 0.1) -> dict:
        from nas_core.analyses.effects import top_bottom_effect

        truth = self.truth.reindex(wide["index"]).to_numpy(float)
        return {c: top_bottom_effect(self.score_series(wide, c).to_numpy(), truth, k, n_boot=self.plan.bootstrap)
                for c in wide.columns if c != "index"}

    def training_effects(self, tidy: pd.DataFrame, per_seed: pd.DataFrame | None = None) -> dict:
        """{os_acc/os_loss: Effect of the last checkpoint's τ minus the first's}; with `per_seed`
        (headline_scores) every seed must agree on the sign."""
        epochs = sorted(tidy["epoch"].unique())
        first, last = self.os_table(tidy, epochs[0]), self.os_table(tidy, epochs[-1])
        out = {}
        for col in ("os_acc", "os_loss"):
            pairs = []
            if per_seed is not None:
                for _, d in per_seed.groupby("seed"):
                    pairs.append((self.score_series(self.os_table(d, epochs[-1]), col),
                                  self.score_series(self.os_table(d, epochs[0]), col)))
            out[col] = self.effect(self.score_series(last, col), self.score_series(first, col), pairs)
        return out

    def batch_effect(self, tidy: pd.DataFrame, per_seed: pd.DataFrame | None = None, column: str = "os_acc"):
        """τ with all validation batches minus τ with the first batch only, at the last checkpoint."""
        pairs = []
        if per_seed is not None:
            pairs = [(self.score_series(self.os_table(d), column), self.score_series(self.os_table(d, batches=1), column))
                     for _, d in per_seed.groupby("seed")]
        return self.effect(self.score_series(self.os_table(tidy), column),
                           self.score_series(self.os_table(tidy, batches=1), column), pairs)

    def complexity_slopes(self, wide: pd.DataFrame) -> dict:
        """{estimator: Effect of the ranking-difference slope per FLOPs group} (bootstrap over archs)."""
        from nas_core.analyses.complexity_bias import flops_groups
        from nas_core.analyses.effects import slope_effect

        groups = flops_groups(self.flops(wide["index"]).to_numpy(float))  # the groups of complexity_bias
        truth = self.truth.reindex(wide["index"]).to_numpy(float)
        return {c: slope_effect(self.score_series(wide, c).to_numpy(), truth, groups, n_boot=min(self.plan.bootstrap, 300))
                for c in wide.columns if c != "index"}

    def column_effects(self, a: pd.DataFrame, b: pd.DataFrame) -> dict:
        """{estimator: Effect of τ in table a minus τ in table b} for the estimators both have."""
        cols = [c for c in a.columns if c != "index" and c in b.columns]
        return {c: self.effect(self.score_series(a, c), self.score_series(b, c)) for c in cols}

    def sampler_effects(self) -> dict:
        """{sampler: Effect of its OS acc τ minus the iso supernet's}, same seed, each at its last
        checkpoint, paired over the evaluated architectures (RQ3)."""
        seed = self.plan.supernet_seeds[0]
        iso = self.score_series(self.os_table(self.os_scores("iso", seed)), "os_acc")
        return {sm: self.effect(self.score_series(self.os_table(self.os_scores(sm, seed)), "os_acc"), iso)
                for sm in self.plan.rq3_samplers}

    def oneshot_verdict(self, per_seed: pd.DataFrame | None = None) -> dict:
        """Is this profile's one-shot estimator informative (docs/statistics.md)? Seeds agree
        (mean pairwise τ between the seeds' OS-acc rankings at the last checkpoint ≥ 0.5) and
        scores are resolved (< 20 % of architectures tie on the seed-averaged OS acc)."""
        from itertools import combinations

        from nas_core.criteria import kendall_tau_b

        per_seed = self.headline_scores() if per_seed is None else per_seed
        tables = {int(s): self.os_table(d).set_index("index")["os_acc"] for s, d in per_seed.groupby("seed")}
        pairs = [kendall_tau_b(tables[a].to_numpy(), tables[b].reindex(tables[a].index).to_numpy())
                 for a, b in combinations(sorted(tables), 2)]
        seeds_tau = float(np.mean(pairs)) if pairs else float("nan")
        mean = self.os_table(self.headline_tidy(per_seed))["os_acc"].round(9)
        ties = float(mean.duplicated(keep=False).mean())
        problems = []
        if not (np.isfinite(seeds_tau) and seeds_tau >= 0.5):
            problems.append(f"the {len(tables)} supernet seeds agree only at τ = {seeds_tau:.2f} (< 0.5)"
                            if pairs else "only one supernet seed")
        if ties >= 0.2:
            problems.append(f"{ties:.0%} of the architectures tie on OS acc (≥ 20 %)")
        return {"informative": not problems, "seeds_tau": seeds_tau, "tie_share": ties, "n_seeds": len(tables),
                "reason": "; ".join(problems),
                "text": ("**One-shot verdict: informative** — seeds agree at τ = "
                         f"{seeds_tau:.2f}, {ties:.0%} ties." if not problems else
                         "**One-shot verdict: not comparable at this profile** — " + "; ".join(problems)
                         + ". One-shot numbers below are shown but no direction is drawn from them.")}

    # ---- zero-shot ----------------------------------------------------------------------------

    def zs_protocol(self, **overrides):
        return self.protocol("zeroshot", **overrides)

    def zs_scores(self, input_mode: str = "real", batch_size: int | None = None, batches: int | None = None,
                  indices=None, make_network=None, network_tag: str = "random-init", seeds=None,
                  proxies=None, after_study: bool | None = None, compute_seeds=None) -> pd.DataFrame:
        """Tidy zero-shot scores (index, arch_str, seed, batch, proxy, value, seconds), cached.
        The main sweep (evaluated architectures, real images, the profile's batches) also carries
        the proxies published after the study (`after_study`, default: for that sweep only),
        computed as a sweep of their own so that either list can change without the other.
        `compute_seeds`: only these of the seeds (one share of the sweep for an executor, same
        cache key)."""
        from nas_core.engines.zeroshot import run_zero_shot

        p = self.zs_protocol()
        main = (indices is None and input_mode == "real" and batch_size is None and batches is None
                and make_network is None and proxies is None)
        indices = self.eval_indices if indices is None else np.asarray(indices)

        def sweep(names):
            return run_zero_shot(
                indices=indices, arch_strs=self.arch_strs(indices), proxies=list(names),
                seeds=list(seeds or p.seeds), batches=batches or p.batches, batch_size=batch_size or p.batch_size,
                input_mode=input_mode, device=self.device, dataset=self.dataset, benchmark=self.benchmark,
                C=p.C, N=p.N, make_network=make_network, network_tag=network_tag, progress=True,
                only_seeds=compute_seeds)

        tidy = sweep(proxies or p.proxies)
        if (main if after_study is None else after_study) and p.after_study:
            tidy = pd.concat([tidy, sweep(p.after_study)], ignore_index=True)
        return tidy

    def zs_table(self, tidy: pd.DataFrame, batches: int | None = None, vote: bool = True) -> pd.DataFrame:
        """Wide table (index + one column per proxy): mean over seeds and the first `batches`."""
        from nas_core.engines.zeroshot import to_wide

        wide = to_wide(tidy, batches=batches)
        if vote:
            from nas_core.proxies.vote import vote_scores

            experts = [e for e in self.bench.vote_experts if e in wide.columns]
            if len(experts) == len(self.bench.vote_experts):
                wide["vote"] = vote_scores(wide[experts])
            from nas_core.proxies.az_nas import TERMS as AZ_TERMS, az_nas_scores

            if all(t in wide.columns for t in AZ_TERMS):
                wide["az_nas"] = az_nas_scores(wide)
        return wide

    # ---- one-shot -----------------------------------------------------------------------------

    def sn_protocol(self, sampler: str = "iso", seed: int = 0, affine: bool = False, **overrides):
        return self.protocol("supernet", sampler=sampler, seed=seed, affine=affine, **overrides)

    def run_dir(self, proto) -> Path:
        from nas_core.cache import config_key
        from dataclasses import asdict

        # keyed by what changes the run, not by where the data lives (moving the data keeps it)
        spec = {"protocol": asdict(proto), "dataset": self.dataset, "benchmark": self.benchmark}
        if proto.sampler == "deiso":  # representatives = lowest official index (older runs used kit ids)
            spec["deiso_representative"] = "lowest official index"
        key = config_key(spec)
        return cache_dir() / "supernet_runs" / f"{self.benchmark}-{proto.sampler.replace(':', '')}-s{proto.seed}-{key}"

    def os_run(self, sampler: str = "iso", seed: int = 0, affine: bool = False) -> Path:
        """Train (or resume, or reuse) a supernet; returns its run folder."""
        from nas_core.engines.supernet_train import train_supernet

        proto = self.sn_protocol(sampler, seed, affine)
        run = self.run_dir(proto)
        train_supernet(proto, run, dataset=self.dataset, data_root=self.data_root, device=self.device, benchmark=self.benchmark,
                       data_protocol=self.protocol("data"))
        return run

    def checkpoints(self, run: Path) -> list[int]:
        from nas_core.engines.supernet_train import list_checkpoints

        return list_checkpoints(run)

    def os_scores(self, sampler: str = "iso", seed: int = 0, affine: bool = False, indices=None,
                  epochs=None, run: Path | None = None) -> pd.DataFrame:
        """Per-batch OS acc / loss at every checkpoint: index, arch_str, epoch, batch, os_acc, os_loss."""
        from nas_core.engines.supernet_score import score_supernet

        run = run or self.os_run(sampler, seed, affine)
        indices = self.os_indices if indices is None else np.asarray(indices)
        p = self.protocol("supernet")
        frames = [score_supernet(run, epoch, indices, self.arch_strs(indices), batches=p.score_batches,
                                 batch_size=p.score_batch_size, device=self.device)
                  for epoch in (epochs or self.checkpoints(run))]
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def os_table(tidy: pd.DataFrame, epoch: int | None = None, batches: int | None = None) -> pd.DataFrame:
        """Wide OS scores (index, os_acc, os_loss) at one checkpoint (default: the last), mean of the
        per-batch values over the first `batches` batches (default: all)."""
        epoch = tidy["epoch"].max() if epoch is None else epoch
        d = tidy[tidy["epoch"] == epoch]
        if batches is not None:
            d = d[d["batch"] < batches]
        return d.groupby("index", as_index=False)[["os_acc", "os_loss"]].mean()

    def criteria_along_training(self, tidy: pd.DataFrame, extra: dict | None = None) -> pd.DataFrame:
        frames = []
        for epoch in sorted(tidy["epoch"].unique()):
            crit = self.evaluate(self.os_table(tidy, epoch))
            frames.append(crit.assign(epoch=int(epoch), **(extra or {})))
        return pd.concat(frames, ignore_index=True)

    # ---- the headline one-shot estimator -----------------------------------------------------------

    def headline_scores(self) -> pd.DataFrame:
        """Per-batch OS scores of the headline supernets (de-isomorphic sampling), one per supernet
        seed of the profile: os_scores' columns plus `seed`."""
        return pd.concat([self.os_scores(self.headline_sampler, s).assign(seed=int(s)) for s in self.plan.supernet_seeds],
                         ignore_index=True)

    def headline_tidy(self, per_seed: pd.DataFrame | None = None) -> pd.DataFrame:
        """THE one-shot estimator of RQ1/RQ2/RQ5: per-batch OS acc / loss averaged over the
        supernet seeds (os_scores' columns, estimator names os_acc / os_loss), so os_table,
        criteria_along_training and batches_effect apply unchanged. Only (arch, epoch, batch)
        cells that every seed scored are kept."""
        per_seed = self.headline_scores() if per_seed is None else per_seed
        keys = ["index", "arch_str", "epoch", "batch"]
        grouped = per_seed.groupby(keys, as_index=False)
        out = grouped[["os_acc", "os_loss"]].mean()
        complete = grouped["seed"].nunique()["seed"].to_numpy() == per_seed["seed"].nunique()
        return out[complete].reset_index(drop=True)

    def headline_criteria(self, per_seed: pd.DataFrame | None = None) -> pd.DataFrame:
        """All criteria along training of each seed's headline supernet (column `seed`): the spread
        beside the seed-averaged estimator."""
        per_seed = self.headline_scores() if per_seed is None else per_seed
        return pd.concat([self.criteria_along_training(d.drop(columns="seed"), extra={"seed": int(s)})
                          for s, d in per_seed.groupby("seed")], ignore_index=True)

    @staticmethod
    def seed_spread(per_seed_criteria: pd.DataFrame) -> pd.DataFrame:
        """Per (estimator, criterion, k, epoch): mean, std (ddof 0), min, max and n over seeds."""
        keys = [c for c in ("estimator", "criterion", "k", "epoch") if c in per_seed_criteria.columns]
        return (per_seed_criteria.groupby(keys, dropna=False, as_index=False)["value"]
                .agg(mean="mean", std=lambda v: float(np.std(v)), min="min", max="max", n="count"))

    # ---- RQ1 ------------------------------------------------------------------------------------

    def batches_effect(self, tidy: pd.DataFrame) -> pd.DataFrame:
        from nas_core.analyses.stability import accuracy_levels

        epochs = sorted(tidy["epoch"].unique())
        picks = {"early": epochs[0], "middle": epochs[len(epochs) // 2], "last": epochs[-1]}
        rows = []
        for name, epoch in picks.items():
            d = tidy[tidy["epoch"] == epoch]
            levels = accuracy_levels(d[["index", "batch", "os_acc", "os_loss"]], self.truth)
            rows.append(levels.assign(checkpoint=f"{name} (epoch {int(epoch)})", epoch=int(epoch)))
        return pd.concat(rows, ignore_index=True)

    def mean_os_acc(self, tidy: pd.DataFrame) -> pd.DataFrame:
        """Mean OS acc over the evaluated architectures at every checkpoint, with its spread."""
        from nas_core.analyses.oneshot_extras import mean_os_acc_along_training

        return mean_os_acc_along_training(tidy)

    # ---- RQ2 ------------------------------------------------------------------------------------

    def flops(self, indices) -> pd.Series:
        feats = self.bench.features(self.arch_strs(indices))
        return pd.Series(feats["flops_M"].to_numpy(), index=np.asarray(indices))

    def complexity_bias(self, wide: pd.DataFrame) -> pd.DataFrame:
        from nas_core.analyses.complexity_bias import group_bias

        flops = self.flops(wide["index"])
        frames = []
        for est in [c for c in wide.columns if c != "index"]:
            score = self.score_series(wide, est)
            frames.append(group_bias(score, self.truth.reindex(wide["index"]), flops).assign(estimator=est))
        return pd.concat(frames, ignore_index=True)

    def complexity_bias_along_training(self, tidy: pd.DataFrame) -> pd.DataFrame:
        frames = []
        for epoch in sorted(tidy["epoch"].unique()):
            w = self.os_table(tidy, epoch)[["index", "os_acc"]]
            frames.append(self.complexity_bias(w).assign(epoch=int(epoch)))
        return pd.concat(frames, ignore_index=True)

    def op_bias(self, wide: pd.DataFrame, estimators) -> pd.DataFrame:
        """One-mutation pairs (the benchmark's rule: NB201 pairs over isomorphism classes, every
        member of a scored class carrying the class's score and truth); no-op pairs (two
        isomorphic architectures) are excluded and counted (n_isomorphic_excluded)."""
        from nas_core.analyses.op_bias import pair_bias

        pairs = self.bench.mutation_pairs(self.arch_strs(wide["index"]))
        truth = self.truth.reindex(wide["index"]).to_numpy()
        frames = [pair_bias(pairs, wide[est].to_numpy(), truth).assign(estimator=est)
                  for est in estimators if est in wide.columns]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def partial_rank(self, wide: pd.DataFrame) -> pd.DataFrame:
        """How much of each estimator's ranking is only size and op counts: Spearman ρ with the
        truth, and the partial ρ given #params and the op counts (bootstrap interval over
        architectures; analyses/partial_rank.py)."""
        from nas_core.analyses.partial_rank import partial_rank_table

        strs = self.arch_strs(wide["index"])
        counts = self.bench.graph_features(strs)
        counts = counts[[c for c in counts.columns if "depth" not in c]]
        ops = [op for op in self.bench.op_names if any(c.endswith("_" + op) for c in counts.columns)]
        if ops:  # per-cell counts (NB301: normal_/reduce_) summed: the architecture's count of each op
            counts = pd.DataFrame({op: counts[[c for c in counts.columns if c.endswith("_" + op)]].sum(1)
                                   for op in ops})
        covariates = pd.concat([pd.Series(self.bench.params_flops(strs)[0], name="params_M"), counts], axis=1)
        scores = wide.drop(columns="index").reset_index(drop=True)
        truth = self.truth.reindex(wide["index"]).to_numpy()
        if len(wide) < covariates.shape[1] + 5:  # too few architectures to regress the counts out
            frame = pd.DataFrame(columns=["proxy", "spearman", "partial", "ci_low", "ci_high", "r2_covariates", "n"])
            frame.attrs["note"] = (f"{len(wide)} architectures are too few to regress out {covariates.shape[1]} "
                                   "covariates (#params and op counts); a larger profile computes it")
            return frame
        return partial_rank_table(scores, truth, covariates, n_boot=self.plan.bootstrap)

    def graph_baselines(self) -> pd.DataFrame:
        """Counting baselines beside the proxies: each op count and the trainable depth used as a
        score on the evaluated architectures, and a ridge model on those features fitted on a
        seeded half and judged on the other half only (`n` says which)."""
        from nas_core.analyses.graph_baseline import ridge_baseline

        idx = np.asarray(self.eval_indices)
        feats = self.bench.graph_features(self.arch_strs(idx))
        feats.index = idx
        counted = self.evaluate(feats.rename_axis("index").reset_index(), bootstrap=self.plan.bootstrap)
        ridge = ridge_baseline(feats, self.truth.reindex(idx))
        held = ridge.predictions.rename("ridge_graph_features (held-out half)").rename_axis("index").reset_index()
        fitted = self.evaluate(held, bootstrap=self.plan.bootstrap)
        return pd.concat([counted, fitted], ignore_index=True)

    def arch_preferences(self, wide: pd.DataFrame) -> pd.DataFrame:
        from nas_core.analyses.arch_preferences import preferences

        strs = self.arch_strs(wide["index"])
        if self.bench.nb201_cell_space:  # NB201's cell space: its own feature list (live skips, depth, ...)
            return preferences(wide, self.truth, strs)
        feats = self.bench.features(strs)
        numeric = [c for c in feats.columns if c != "flops_group" and pd.api.types.is_numeric_dtype(feats[c])]
        return preferences(wide, self.truth, feats=feats, features=numeric)

    def diagnostics(self, sampler: str | None = None, seed: int = 0) -> dict:
        sampler = sampler or self.headline_sampler
        from nas_core.engines.supernet_diagnostics import forgetting_values, gradient_similarity

        run = self.os_run(sampler, seed)
        return {"forgetting": forgetting_values(run, n_archs=self.plan.diag_archs, device=self.device),
                "gradient_similarity": gradient_similarity(run, n_archs=self.plan.diag_archs, device=self.device)}

    def stability(self, sampler: str | None = None) -> dict:
        sampler = sampler or self.headline_sampler
        from nas_core.analyses.stability import adjacent_stability, seed_agreement

        per_seed, adjacent, last_tables = [], [], {}
        for seed in self.plan.supernet_seeds:
            tidy = self.os_scores(sampler, seed)
            crit = self.criteria_along_training(tidy, extra={"seed": seed})
            per_seed.append(overall(crit).query("estimator == 'os_acc'"))
            tables = {int(e): self.os_table(tidy, e).set_index("index")["os_acc"] for e in sorted(tidy["epoch"].unique())}
            adjacent.append(adjacent_stability(tables).assign(seed=seed))
            last_tables[seed] = tables[max(tables)]
        seeds = pd.concat(per_seed, ignore_index=True).rename(columns={"value": TAU})
        last = seeds[seeds["epoch"] == seeds["epoch"].max()][TAU]
        return {"adjacent": pd.concat(adjacent, ignore_index=True), "seeds": seeds,
                "seed_summary": pd.DataFrame({"mean": [last.mean()], "std": [last.std(ddof=0)], "min": [last.min()],
                                              "max": [last.max()], "n": [len(last)]}),
                "between_seeds": seed_agreement(last_tables)}

    def stability_topk(self, sampler: str | None = None) -> pd.DataFrame:
        sampler = sampler or self.headline_sampler
        """Relative tau and relative P@top / P@bottom (0.5 %, 5 %) of OS acc between adjacent
        checkpoints, per supernet seed (the later checkpoint treated as the truth)."""
        from nas_core.analyses.oneshot_extras import adjacent_topk_stability

        frames = []
        for seed in self.plan.supernet_seeds:
            tidy = self.os_scores(sampler, seed)
            tables = {int(e): self.os_table(tidy, e).set_index("index")["os_acc"] for e in sorted(tidy["epoch"].unique())}
            frames.append(adjacent_topk_stability(tables).assign(seed=seed))
        return pd.concat(frames, ignore_index=True)

    # ---- RQ3 ------------------------------------------------------------------------------------

    def sampler_comparison(self) -> pd.DataFrame:
        seed = self.plan.supernet_seeds[0]
        frames = []
        for sampler in ("iso",) + tuple(self.plan.rq3_samplers):
            tidy = self.os_scores(sampler, seed)
            frames.append(self.criteria_along_training(tidy, extra={"variant": sampler}))
        return pd.concat(frames, ignore_index=True)

    def class_members(self, indices) -> pd.DataFrame:
        """All benchmark architectures isomorphic to the given ones: index, rep (the given index)."""
        mine = self.bench.iso_keys(self.arch_strs(indices))
        every = self.bench.iso_keys(self.truth_frame["arch_str"].tolist())
        rep_of_class = pd.Series(np.asarray(indices), index=mine)
        mask = np.isin(every, mine)
        return pd.DataFrame({"index": self.truth_frame["index"].to_numpy()[mask],
                             "rep": rep_of_class.reindex(every[mask]).to_numpy()})

    def post_deiso(self) -> pd.DataFrame:
        run = self.os_run("iso", self.plan.supernet_seeds[0])
        members = self.class_members(self.os_indices)
        last = self.checkpoints(run)[-1]
        tidy = self.os_scores(indices=members["index"].to_numpy(), epochs=[last], run=run)
        table = self.os_table(tidy).merge(members, on="index")
        reps = table[table["index"] == table["rep"]][["index", "os_acc"]].rename(columns={"os_acc": "os_acc (representative)"})
        mean = table.groupby("rep", as_index=False)["os_acc"].mean().rename(columns={"rep": "index", "os_acc": "os_acc (class mean)"})
        return self.evaluate(reps.merge(mean, on="index"), bootstrap=self.plan.bootstrap)

    def pruning(self) -> pd.DataFrame:
        """One-shot pruning, with training length held equal. At checkpoint P (plan.prune_at; None:
        the middle checkpoint) keep the top-k % of the evaluation set by OS acc; fine-tune from P
        sampling only the kept archs up to the run's final epoch E; compare with the UNPRUNED
        supernet at the same epoch E, both scored on the kept archs only. Rows per keep fraction:
        stage 'before' (unpruned, epoch E) and 'after' (pruned at P, fine-tuned to E), with
        Kendall's tau inside the kept set and mean OS acc; the 'after' row carries the deltas
        (mean OS acc in points, tau)."""
        from nas_core.engines import supernet_train
        from nas_core.errors import BadParameter

        seed = self.plan.supernet_seeds[0]
        run = self.os_run("iso", seed)
        ckpts = self.checkpoints(run)
        final = ckpts[-1]
        at = ckpts[len(ckpts) // 2] if self.plan.prune_at is None else int(self.plan.prune_at)
        if at not in ckpts or at >= final:
            raise BadParameter(f"pruning at epoch {at}: the supernet has checkpoints {ckpts}",
                               fix="prune_at must be a checkpoint before the last one (or None: the middle one)")
        decision = self.os_table(self.os_scores(indices=self.os_indices, epochs=[at], run=run))
        unpruned = self.os_table(self.os_scores(indices=self.os_indices, epochs=[final], run=run))
        rows = []
        for frac in self.plan.prune_fractions:
            keep = decision.nlargest(max(2, int(round(frac * len(decision)))), "os_acc")["index"].to_numpy()
            pruned_run = supernet_train.finetune_pruned(
                run, at, keep_indices=keep, arch_strs=self.arch_strs(keep), epochs=final - at, device=self.device,
                dataset=self.dataset, data_root=self.data_root, data_protocol=self.protocol("data"))
            pruned = self.os_table(self.os_scores(indices=keep, epochs=[self.checkpoints(pruned_run)[-1]],
                                                  run=pruned_run))
            before = unpruned[unpruned["index"].isin(keep)]
            base = {"keep_fraction": frac, "n_archs": len(keep), "epoch": final, "prune_epoch": at}
            tau_b, tau_a = self.tau(before, "os_acc"), self.tau(pruned, "os_acc")
            acc_b, acc_a = float(before["os_acc"].mean()), float(pruned["os_acc"].mean())
            # intervals: paired over the kept architectures (docs/statistics.md)
            from nas_core.analyses.effects import mean_effect

            d_tau = self.effect(self.score_series(pruned, "os_acc"), self.score_series(before, "os_acc"))
            per_arch = pruned.set_index("index")["os_acc"] - before.set_index("index")["os_acc"].reindex(pruned["index"])
            d_acc = mean_effect(per_arch.to_numpy())
            rows += [{**base, "stage": "before", "supernet": f"unpruned, epoch {final}", TAU: tau_b,
                      "mean_os_acc": acc_b},
                     {**base, "stage": "after", "supernet": f"pruned at epoch {at}, fine-tuned to {final}", TAU: tau_a,
                      "mean_os_acc": acc_a, "delta_mean_os_acc": acc_a - acc_b,
                      "delta_mean_os_acc_low": d_acc.low, "delta_mean_os_acc_high": d_acc.high,
                      "delta_tau": tau_a - tau_b, "delta_tau_low": d_tau.low, "delta_tau_high": d_tau.high}]
        return pd.DataFrame(rows)

    def temporal_ensemble(self) -> pd.DataFrame:
        from nas_core.engines.supernet_score import average_checkpoints

        run = self.os_run("iso", self.plan.supernet_seeds[0])
        ckpts = self.checkpoints(run)[-self.plan.ensemble_last:]
        tidy = self.os_scores(epochs=ckpts, run=run)
        last = self.os_table(tidy, ckpts[-1])[["index", "os_acc"]].rename(columns={"os_acc": "last checkpoint"})
        score_avg = (tidy.groupby("index", as_index=False)["os_acc"].mean()
                     .rename(columns={"os_acc": f"mean of last {len(ckpts)} scores"}))
        avg_run = average_checkpoints(run, ckpts)
        w = self.os_table(self.os_scores(epochs=[ckpts[-1]], run=avg_run))[["index", "os_acc"]]
        w = w.rename(columns={"os_acc": f"mean of last {len(ckpts)} weights"})
        return self.evaluate(self.join(last, score_avg, w), bootstrap=self.plan.bootstrap)

    def affine_comparison(self) -> pd.DataFrame:
        seed = self.plan.supernet_seeds[0]
        frames = [self.criteria_along_training(self.os_scores("iso", seed, affine=a),
                                               extra={"variant": "BN affine" if a else "no affine (reference)"})
                  for a in (False, True)]
        return pd.concat(frames, ignore_index=True)

    def variant_run(self, sampler: str, seed: int | None = None, affine: bool = False) -> Path:
        """A supernet for the RQ3 variants added to the study (MC counts, op and soft pruning),
        trained for the profile's `variant_epochs` (0: the supernet protocol's epochs)."""
        from nas_core.engines.supernet_train import train_supernet

        seed = self.plan.supernet_seeds[0] if seed is None else seed
        proto = self.sn_protocol(sampler, seed, affine, epochs=self.plan.variant_epochs or None)
        run = self.run_dir(proto)
        train_supernet(proto, run, dataset=self.dataset, data_root=self.data_root, device=self.device, benchmark=self.benchmark,
                       data_protocol=self.protocol("data"))
        return run

    def seed_ensemble(self) -> pd.DataFrame:
        """All criteria at the last checkpoint for each headline supernet seed alone, the mean of
        their OS acc (an ensemble of independent supernets), and seed 0's temporal ensemble (mean
        of its last `ensemble_last` checkpoints' scores) beside them."""
        from nas_core.analyses.oneshot_extras import seed_ensemble

        tables, wides = {}, []
        for seed in self.plan.supernet_seeds:
            tidy = self.os_scores(self.headline_sampler, seed)
            tables[seed] = self.os_table(tidy).set_index("index")["os_acc"]
            wides.append(tables[seed].rename(f"seed {seed}").reset_index())
            if seed == self.plan.supernet_seeds[0]:
                ckpts = sorted(tidy["epoch"].unique())[-self.plan.ensemble_last:]
                temporal = (tidy[tidy["epoch"].isin(ckpts)].groupby("index")["os_acc"].mean()
                            .rename(f"seed {seed}, mean of last {len(ckpts)} checkpoints").reset_index())
        ens = seed_ensemble(tables).rename(f"mean of {len(tables)} seeds").reset_index()
        return self.evaluate(self.join(*wides, ens, temporal), bootstrap=self.plan.bootstrap)

    def mc_comparison(self) -> pd.DataFrame:
        """Criteria along training for S = 1..n architectures per step (S=1 is the iso run) and
        fair sampling, with each checkpoint's cumulative arch updates (epoch x S, in iso-epoch
        units) so that variants can be compared at equal epochs and at equal arch updates."""
        from nas_core.analyses.oneshot_extras import with_arch_updates

        seed = self.plan.supernet_seeds[0]
        frames = []
        for spec in [("iso" if S == 1 else f"mc:{S}") for S in self.plan.mc_samples] + ["fair"]:
            if spec == "iso" or spec in self.plan.rq3_samplers:
                tidy = self.os_scores(spec, seed)
            else:
                tidy = self.os_scores(run=self.variant_run(spec))
            frames.append(self.criteria_along_training(tidy, extra={"variant": spec}))
        return with_arch_updates(pd.concat(frames, ignore_index=True))

    def subspace_indices(self, removed) -> np.ndarray:
        """The selection `op_prune_archs` (capped at what exists) drawn inside the sub-space of
        cells that use none of the `removed` ops."""
        ops = nb201.ops_from_strings(self.truth_frame["arch_str"].tolist())
        keep = ~np.isin(ops, [nb201.OPS.index(o) for o in removed]).any(axis=1)
        pool = self.truth_frame[keep]
        spec = self.plan.op_prune_archs
        if spec.startswith("sample:"):
            reps = pool[pool["iso_representative"].to_numpy()]
            conv = nb201.space_table().has_conv_path[nb201.kit_ids_from_strings(reps["arch_str"].tolist())]
            spec = f"sample:{min(int(spec.split(':', 1)[1]), int(conv.sum()))}"
        return select_archs(spec, pool, seed=0)

    def op_pruning(self) -> pd.DataFrame:
        """Op pruning: a supernet trained only on the cells without the removed ops (restricted
        sampler pool) against the full iso supernet, on the same sub-space architectures, at
        every checkpoint both have: Kendall's tau and mean OS acc."""
        seed = self.plan.supernet_seeds[0]
        full = self.os_run("iso", seed)
        rows = []
        for removed in self.plan.op_prune:
            idx = self.subspace_indices(removed)
            sub = self.variant_run("without:" + "+".join(removed))
            epochs = sorted(set(self.checkpoints(sub)) & set(self.checkpoints(full)))
            for name, run in (("full supernet", full), ("sub-space supernet", sub)):
                tidy = self.os_scores(indices=idx, epochs=epochs, run=run)
                for epoch in epochs:
                    t = self.os_table(tidy, epoch)
                    rows.append({"removed_ops": " + ".join(removed), "supernet": name, "epoch": int(epoch),
                                 TAU: self.tau(t, "os_acc"), "mean_os_acc": float(t["os_acc"].mean()),
                                 "n_archs": len(t)})
        return pd.DataFrame(rows)

    def soft_pruning(self) -> pd.DataFrame:
        """Criteria along training of the soft-pruning supernet (protocol `soft_prune`) beside
        the iso supernet at the same checkpoints."""
        seed = self.plan.supernet_seeds[0]
        soft = self.os_scores(run=self.variant_run(self.plan.soft_prune))
        iso = self.os_scores("iso", seed)
        iso = iso[iso["epoch"].isin(soft["epoch"].unique())]
        return pd.concat([self.criteria_along_training(iso, extra={"variant": "iso"}),
                          self.criteria_along_training(soft, extra={"variant": self.plan.soft_prune})],
                         ignore_index=True)

    def bn_gamma_similarity(self) -> pd.DataFrame:
        """Cosine similarity of different archs' gradients on the BN scale parameters (gamma)
        of the BN-affine supernet, per layer and checkpoint."""
        from nas_core.engines.supernet_diagnostics import gradient_similarity

        run = self.os_run("iso", self.plan.supernet_seeds[0], affine=True)
        return gradient_similarity(run, n_archs=self.plan.diag_archs, device=self.device, bn_scale_only=True)

    # ---- RQ4 ------------------------------------------------------------------------------------

    def zs_on_supernet(self) -> pd.DataFrame:
        """ZSEs on the supernet's path, like with like: epoch 0 is the supernet's own random init
        (same network, same edges run), then every checkpoint."""
        from nas_core.engines.supernet_score import arch_network_factory

        run = self.os_run("iso", self.plan.supernet_seeds[0])
        idx = self.rq4_os_indices
        frames = []
        for epoch in [0] + self.checkpoints(run):
            make, tag = arch_network_factory(run, epoch)
            tidy = self.zs_scores(indices=idx, make_network=make, network_tag=tag, seeds=[self.zs_protocol().seeds[0]])
            frames.append(self.evaluate(self.zs_table(tidy, vote=False)).assign(epoch=int(epoch)))
        return pd.concat(frames, ignore_index=True)

    def trained_weight_effects(self) -> dict:
        """{proxy: Effect of τ on the last checkpoint's supernet weights minus τ at epoch 0 (the
        supernet's random init)}, paired over the RQ4 architectures (cached sweeps)."""
        from nas_core.engines.supernet_score import arch_network_factory

        run = self.os_run("iso", self.plan.supernet_seeds[0])
        tables = []
        for epoch in (0, self.checkpoints(run)[-1]):
            make, tag = arch_network_factory(run, epoch)
            tidy = self.zs_scores(indices=self.rq4_os_indices, make_network=make, network_tag=tag,
                                  seeds=[self.zs_protocol().seeds[0]])
            tables.append(self.zs_table(tidy, vote=False))
        return {c: e for c, e in self.column_effects(tables[1], tables[0]).items() if c not in ("params", "flops")}

    def input_mode_effects(self) -> dict:
        """{proxy: Effect of τ with real images minus τ with Gaussian noise} (RQ4 architectures)."""
        real = self.zs_table(self.zs_scores(indices=self.rq4_indices), vote=False)
        noise = self.zs_table(self.zs_scores(input_mode="noise", indices=self.rq4_indices), vote=False)
        return {c: e for c, e in self.column_effects(real, noise).items() if c not in ("params", "flops")}

    def zs_input_modes(self) -> pd.DataFrame:
        frames = [self.evaluate(self.zs_table(self.zs_scores(input_mode=m, indices=self.rq4_indices), vote=False))
                  .assign(input_mode=m) for m in self.plan.zs_input_modes]
        return pd.concat(frames, ignore_index=True)

    def zs_batching(self) -> pd.DataFrame:
        rows = []
        for bs in self.plan.zs_batch_sizes:
            tidy = self.zs_scores(indices=self.rq4_indices, batch_size=bs, batches=max(self.plan.zs_batches))
            for b in self.plan.zs_batches:
                crit = self.evaluate(self.zs_table(tidy, batches=b, vote=False))
                d = overall(crit)
                rows.append(d[["estimator", "value"]].rename(columns={"value": TAU}).assign(batch_size=bs, batches=b))
        return pd.concat(rows, ignore_index=True)

    def training_length_and_validation_size(self) -> pd.DataFrame:
        tidy = self.os_scores("iso", self.plan.supernet_seeds[0])
        rows = []
        for epoch in sorted(tidy["epoch"].unique()):
            d = tidy[tidy["epoch"] == epoch]
            for b in range(1, int(d["batch"].max()) + 2):
                rows.append({"epoch": int(epoch), "batches": b, TAU: self.tau(self.os_table(tidy, epoch, b), "os_acc")})
        return pd.DataFrame(rows)

    # ---- RQ5 ------------------------------------------------------------------------------------

    def final_estimators(self) -> pd.DataFrame:
        """Last checkpoint of the headline OS estimator (seed mean) beside every ZSE."""
        os_w = self.os_table(self.headline_tidy())
        return self.join(os_w, self.zs_table(self.zs_scores()))

    def searches(self) -> pd.DataFrame:
        from nas_core.analyses.search import run_searches

        wide = self.final_estimators()
        wide["os_loss"] = -wide["os_loss"]  # searches maximise; the loss is negated explicitly
        wide["truth"] = self.truth.reindex(wide["index"]).to_numpy()
        return run_searches(wide, self.arch_strs(wide["index"]), truth_column="truth",
                            budgets=self.plan.search_budgets, n_seeds=self.plan.search_seeds,
                            neighbours=self.search_neighbours(wide))

    def search_trajectories(self, budget: int | None = None) -> pd.DataFrame:
        """Best-so-far curves (true accuracy of the incumbent vs queries) of the same searches,
        at the largest budget of the plan (capped at the sample size)."""
        from nas_core.analyses.search import search_trajectories

        wide = self.final_estimators()
        wide["os_loss"] = -wide["os_loss"]
        wide["truth"] = self.truth.reindex(wide["index"]).to_numpy()
        budget = min(budget or max(self.plan.search_budgets), len(wide))
        return search_trajectories(wide, self.arch_strs(wide["index"]), truth_column="truth", budget=budget,
                                   n_seeds=self.plan.search_seeds, neighbours=self.search_neighbours(wide))

    def search_neighbours(self, wide: pd.DataFrame):
        """REA's mutation neighbours among the candidates: None = NB201's rule (one edge's op,
        among the listed cells); other spaces use their benchmark's one-op pairs."""
        if self.bench.nb201_cell_space:
            return None
        from nas_core.analyses.search import neighbour_lists

        pairs = self.bench.mutation_pairs(self.arch_strs(wide["index"]))
        return neighbour_lists(pairs["i"].to_numpy(), pairs["j"].to_numpy(), len(wide))

    @staticmethod
    def search_summary(runs: pd.DataFrame) -> pd.DataFrame:
        return (runs.groupby(["estimator", "method", "budget"], as_index=False)
                .agg(true_acc_mean=("true_acc", "mean"), true_acc_std=("true_acc", "std"),
                     regret_mean=("regret", "mean"), n=("seed", "count")))

    def groundtruth_views(self) -> dict:
        from nas_core.analyses import groundtruth_views as views

        return views.views_for(self.truth_frame, self.benchmark, self.eval_indices, self.truth_column)

    def collect_evidence(self) -> pd.DataFrame:
        """The numbers the guidelines quote, recomputed from the cached results: one row per item
        with value, 95 % interval (low, high; see docs/statistics.md for what it resamples), n,
        and `evidence` naming the estimator, checkpoint, architectures and seeds behind it."""
        per_seed = self.headline_scores()
        tidy = self.headline_tidy(per_seed)
        verdict = self.oneshot_verdict(per_seed)
        last = int(tidy["epoch"].max())
        seeds = f"{verdict['n_seeds']} supernet seed(s)"
        wide = self.final_estimators()
        n = len(wide)
        crit = self.evaluate(wide, bootstrap=self.plan.bootstrap)
        taus = overall(crit).set_index("estimator")
        zse = taus.drop([c for c in ("os_acc", "os_loss", "params", "flops") if c in taus.index])
        best_zse = zse["value"].idxmax() if len(zse) else None
        rows = []

        def add(item, value, low, high, n_items, evidence, withheld=""):
            rows.append({"item": item, "value": float(value), "low": float(low), "high": float(high),
                         "n": int(n_items), "evidence": evidence, "withheld": withheld})

        os_withheld = "" if verdict["informative"] else verdict["reason"]
        if "os_acc" in taus.index:
            r = taus.loc["os_acc"]
            add("os_tau_final", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
                f"OS acc of the de-isomorphic supernet, seed mean, epoch {last}, {n} archs, {seeds}", os_withheld)
        if best_zse is not None:
            r = taus.loc[best_zse]
            add("best_zse_tau", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
                f"{best_zse} (highest τ among the zero-shot proxies), {n} archs")
        vs_base = self.effects_vs_baseline(wide)
        if best_zse is not None and best_zse in vs_base:
            e = vs_base[best_zse]
            add("best_zse_minus_baseline", e.delta, e.low, e.high, e.n,
                f"τ of {best_zse} minus the best of #params/#FLOPs, paired bootstrap over {e.n} archs")
        if "os_acc" in vs_base:
            e = vs_base["os_acc"]
            add("os_minus_baseline", e.delta, e.low, e.high, e.n,
                f"τ of OS acc (epoch {last}) minus the best of #params/#FLOPs, paired bootstrap over {e.n} archs",
                os_withheld)
        for base in ("flops", "params"):
            if base in taus.index:
                r = taus.loc[base]
                add(f"{base}_tau", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
                    f"#{'FLOPs' if base == 'flops' else 'params'} of the benchmark's network, {n} archs")
        beating = [c for c, e in vs_base.items() if c in zse.index and e.direction > 0]
        add("n_zse_beating_baseline", len(beating), np.nan, np.nan, n,
            f"proxies whose paired interval vs the best complexity baseline excludes 0: {', '.join(beating) or 'none'}")
        seed = self.plan.supernet_seeds[0]
        if "deiso" in self.plan.rq3_samplers:  # the RQ3 comparison: same seed, iso baseline
            iso = self.os_table(self.os_scores("iso", seed))
            deiso = self.os_table(self.os_scores("deiso", seed))
            e = self.effect(self.score_series(deiso, "os_acc"), self.score_series(iso, "os_acc"))
            add("deiso_gain", e.delta, e.low, e.high, e.n,
                f"τ of OS acc, de-isomorphic minus iso sampling, seed {seed}, epoch {last}, paired over {e.n} archs",
                os_withheld)
        e = self.batch_effect(tidy, per_seed)
        add("batches_gain", e.delta, e.low, e.high, e.n,
            f"τ of OS acc with all validation batches minus one batch, epoch {last}, {e.n} archs, {seeds} "
            f"(seed differences {', '.join(f'{d:+.3f}' for d in e.seed_deltas)})",
            os_withheld or ("the seeds disagree on the sign" if e.seed_deltas and np.isfinite(e.low)
                            and (e.low > 0 or e.high < 0) and e.direction == 0 else ""))
        gaps = self.input_mode_effects()
        if gaps:
            detect = [c for c, e in gaps.items() if e.direction != 0]
            mean_gap = float(np.mean([abs(e.delta) for e in gaps.values()]))
            add("noise_gap", mean_gap, np.nan, np.nan, len(self.rq4_indices),
                f"mean |τ(real images) − τ(noise)| over {len(gaps)} proxies on {len(self.rq4_indices)} archs; "
                f"detectable for: {', '.join(detect) or 'none'}")
        os_w = self.os_table(tidy)[["index", "os_acc"]]
        e = self.complexity_slopes(os_w)["os_acc"]
        add("complexity_slope", e.delta, e.low, e.high, e.n,
            f"slope of the OS acc ranking difference per FLOPs quintile, epoch {last}, {e.n} archs", os_withheld)
        frame = pd.DataFrame(rows)
        frame.attrs["best_zse"] = best_zse
        frame.attrs["oneshot_verdict"] = verdict["text"]
        return frame


    def applies(self, analysis: str) -> bool:
        """Whether an analysis exists for this benchmark (NB201-only ones: post_deiso, mc,
        op_pruning, soft_pruning, affine); `not_applicable(analysis)` says why not."""
        return not self.not_applicable(analysis)

    def not_applicable(self, analysis: str) -> str:
        """'' when `analysis` applies here, else the one line the notebooks print instead."""
        title = self.bench.title
        if analysis == "post_deiso" and not self.bench.has_isomorphism:
            return f"*Not applicable on {title}:* the space has no isomorphism classes to average over."
        if analysis == "mc" and not any(s.startswith("mc") for s in self.bench.samplers):
            return f"*Not run on {title}:* multi-sample (MC) and fair samplers are defined for NAS-Bench-201's cells only."
        if analysis == "op_pruning" and not self.plan.op_prune:
            return f"*Not run on {title}:* no ops to prune are configured for this benchmark."
        if analysis == "soft_pruning" and not self.plan.soft_prune:
            return f"*Not run on {title}:* soft pruning is configured for NAS-Bench-201 only."
        if analysis in ("affine", "bn_gamma") and not self.plan.rq3_affine:
            return f"*Not run on {title} at profile {self.profile}:* the BN-affine supernet variant is off."
        if analysis == "samplers" and not self.plan.rq3_samplers:
            return f"*Not run on {title}:* only uniform sampling is defined for this space."
        return ""
