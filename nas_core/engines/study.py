"""The study: the data, the profile's protocols and the engines, for one profile and benchmark.

A `Study` ties together the data (benchmark, ground-truth column, images), the profile's
protocols and the engines. Every expensive result (zero-shot sweeps, supernet training and
scoring, diagnostics) is cached by its engine, so the notebooks and `run_all.sh`'s compute
stage make the same calls: the first caller computes, the others read.

This is the core every research question shares: the selection of architectures, the
zero-shot and one-shot score tables, the headline one-shot estimator and its verdict, the
evaluation against the ground truth (criteria, τ, paired differences), and which analyses
apply to the benchmark. Each research question's analyses are plain functions over a study
in engines/rq1.py .. rq5.py (`rq3.pruning(study)`); this module imports none of them.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.config import cache_dir, data_root as resolve_root, resolve_device, use_data_root
from nas_core.data.groundtruth import class_mean_truth, metric_column
from nas_core.errors import DataNotFound
from nas_core.profiles import check_profile
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

    # ---- differences with intervals (analyses/effects.py, docs/statistics.md) -------------------

    @staticmethod
    def score_series(wide: pd.DataFrame, column: str) -> pd.Series:
        """One estimator as 'higher is better' scores indexed by architecture (losses negated)."""
        sign = -1.0 if column.endswith("loss") else 1.0
        return pd.Series(sign * wide[column].to_numpy(float), index=wide["index"].to_numpy())

    def effect(self, a: pd.Series, b: pd.Series, seed_pairs=()):
        from nas_core.analyses.effects import effect_between

        return effect_between(a, b, self.truth, n_boot=self.plan.bootstrap, seed_pairs=seed_pairs)

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

    # ---- what applies where ------------------------------------------------------------------

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
