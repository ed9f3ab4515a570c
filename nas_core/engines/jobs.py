"""The study's compute stage as a graph of jobs, for the serial and the Dask executors.

`build_jobs(study, only)` is what the notebooks of `only` compute, in pieces an executor can
spread over workers:

* a zero-shot sweep becomes one job per (architecture chunk, init seed), each calling the same
  cached engine on a subset (`Study.zs_scores(indices=..., compute_seeds=[seed])`), so every
  piece lands in the sweep's own cache key; a `collect` job then makes the full call, which
  only reads;
* a supernet's training is one job (it checkpoints; a rerun resumes from the last checkpoint),
  its scoring one job per (checkpoint, architecture chunk) after the training;
* an analysis (pruning, ensembles, diagnostics ...) runs after the jobs whose results it reads;
  it is named by its function in engines/rq2.py .. rq4.py (`analyses()`), called with the study.

Pieces that a later request shares with an earlier one (the same sweep or checkpoint, the same
architectures) are not computed twice: the later request depends on the earlier piece instead.

Every job is self-sufficient: it calls the study's train-or-reuse methods, so run alone (or
before its dependencies) it computes what it needs itself; the dependencies only make sure
nothing is computed twice at the same time. A job is picklable and carries no study: a worker
rebuilds the study from `study_spec(study)` and calls `run_job(study, job)`.

`units` measure a job's work, so that measured seconds per unit extrapolate to other profiles
and networks (engines/costmodel.py): forward GFLOPs (network FLOPs per image x images) for
zero-shot, training and scoring; see `costmodel.UNITS`.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np

from nas_core.errors import BadParameter

RQS = ("rq1", "rq2", "rq3", "rq4", "rq5")
ZS_CHUNK = 200      # architectures per zero-shot job (paper on a GPU: a few minutes each)
SCORE_CHUNK = 1000  # architectures per scoring job (one checkpoint)
MIN_CHUNK = 20      # below this a job's start-up (study, data, checkpoint) outweighs its work
# training-set sizes, for the work estimate only (the split itself is data/images.py's)
TRAIN_IMAGES = {"cifar10": 50_000, "cifar100": 50_000, "imagenet16": 151_700, "fmnist16": 60_000,
                "fmnist": 60_000}


@dataclass(frozen=True)
class Job:
    """One piece of the compute stage.

    id: stable across processes and runs of the same study; label: for people; kind: one of
    costmodel.KINDS; deps: ids of the jobs to finish first; gpu: uses the device (asks a worker
    for a GPU when the device is CUDA); est_cost: estimated seconds (costmodel) or None;
    action + args: what `run_job` calls (args: (name, value) pairs, JSON-able); units: the
    job's work (costmodel.UNITS[kind])."""
    id: str
    label: str
    kind: str
    deps: tuple = ()
    gpu: bool = False
    est_cost: float | None = None
    action: str = "call"
    args: tuple = ()
    units: float = 0.0

    @property
    def config(self) -> dict:
        """The job's configuration, for reports (architecture lists shortened)."""
        out = {}
        for k, v in self.args:
            if k == "indices":
                out["archs"] = f"{len(v)} architectures ({v[0]} .. {v[-1]})" if len(v) else "none"
            else:
                out[k] = v
        return out


def study_spec(study) -> dict:
    """What rebuilds `study` in another process: `type(study)(**spec)`. `benchmark` is passed only
    when the study's constructor takes it."""
    spec = {"profile": study.profile, "device": study.device,
            "data_root": None if study.data_root is None else str(study.data_root),
            "truth_column": study.truth_column}
    if "benchmark" in inspect.signature(type(study).__init__).parameters and hasattr(study, "benchmark"):
        spec["benchmark"] = study.benchmark
    return spec


# ---- work estimates ------------------------------------------------------------------------------

def _net(study, C: int | None, N: int | None) -> tuple:
    """A network size of the study's benchmark (None: its own network's)."""
    own = study.bench.network_size
    return int(C or own[0]), int(N or own[1])


def _flops_of(study, indices, net: tuple) -> float:
    """Sum over the architectures of their MFLOPs per image on the network `net` = (C, N)."""
    return float(np.sum(study.bench.params_flops(study.arch_strs(indices), C=net[0], N=net[1])[1]))


def _mean_flops(study, net: tuple) -> float:
    """Mean MFLOPs per image of the evaluated architectures on `net` (a supernet step's work)."""
    return _flops_of(study, study.eval_indices, net) / max(len(study.eval_indices), 1)


def _archs_per_step(sampler: str) -> int:
    """Architectures trained per step: fair trains every op once (5), mc:S trains S."""
    if sampler == "fair":
        return 5
    if sampler.startswith("mc:"):
        return int(sampler[3:])
    return 1


def checkpoint_epochs(proto) -> list[int]:
    """The epochs a run of this protocol checkpoints (supernet_train.train_supernet's rule)."""
    return [e for e in range(1, proto.epochs + 1) if e % proto.save_every == 0 or e == proto.epochs]


def _chunks(indices, size: int) -> list[tuple]:
    idx = [int(i) for i in indices]
    return [tuple(idx[k:k + size]) for k in range(0, len(idx), size)]


def _chunk_size(n: int, cap: int) -> int:
    """`cap` architectures per job; a smaller sweep is cut in two when both halves are big enough
    (so that even a small profile's sweep keeps two workers busy)."""
    return max(1, min(cap, max(MIN_CHUNK, math.ceil(n / 2))))


# ---- the graph -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Run:
    """A supernet run: how a worker gets its folder, its protocol, its training job."""
    name: str
    spec: tuple  # (("sampler", s), ("seed", n), ("affine", b), ("variant", b))
    proto: object
    train_id: str


class _Builder:
    def __init__(self, study, zs_chunk: int, score_chunk: int):
        self.study, self.zs_chunk, self.score_chunk = study, zs_chunk, score_chunk
        self.jobs: dict[str, Job] = {}
        self.covered: dict[tuple, dict] = {}  # sweep key -> {(index, seed) or index: job id}
        self.runs: dict[str, _Run] = {}       # run folder -> run
        self.data = study.protocol("data")
        self.sn = study.protocol("supernet")
        self.zp = zp = study.zs_protocol()
        self.zs_net = _net(study, zp.C, zp.N)

    def n_train(self) -> int:
        """Images a supernet trains on per epoch (the data protocol's split of the training set)."""
        full = TRAIN_IMAGES.get(self.study.dataset, 50_000)
        return min(round(self.data.train_fraction * full), self.data.max_train or full)

    def add(self, job: Job) -> str:
        if job.id in self.jobs:
            raise AssertionError(f"duplicate job id {job.id}")  # a bug in the builder, not the user's
        missing = [d for d in job.deps if d not in self.jobs]
        if missing:
            raise AssertionError(f"job {job.id} depends on unknown jobs {missing}")
        self.jobs[job.id] = job
        return job.id

    def _chunked(self, key: tuple, indices, size: int, make) -> list[str]:
        """Job ids covering `indices` of the sweep `key`: the earlier jobs that computed some of
        them, and new jobs (`make(chunk, k) -> Job`) for the others, `size` per job."""
        table = self.covered.setdefault(key, {})
        idx = [int(i) for i in indices]
        ids = sorted({table[i] for i in idx if i in table})
        for k, chunk in enumerate(_chunks([i for i in idx if i not in table], size)):
            job = self.add(make(chunk, k))
            table.update(dict.fromkeys(chunk, job))
            ids.append(job)
        return ids

    # ---- zero-shot -----------------------------------------------------------------------------

    def zero_shot(self, set_name: str, indices, input_mode="real", batch_size=None, batches=None,
                  after_study: bool = False) -> list[str]:
        """One job per (architecture chunk, init seed) of a random-init sweep (`after_study`: the
        chunk also sweeps the proxies published after the study, as the main sweep does)."""
        zp = self.zp
        bs, nb = int(batch_size or zp.batch_size), int(batches or zp.batches)
        size = _chunk_size(len(indices), self.zs_chunk)
        ids = []
        for seed in (int(s) for s in zp.seeds):
            def make(chunk, k, seed=seed):
                return Job(id=f"zs:{input_mode}:bs{bs}:b{nb}:{set_name}:s{seed}:{k:03d}",
                           label=f"zero-shot {input_mode} (batch {bs} x {nb}) {set_name} seed {seed}, chunk {k}",
                           kind="zeroshot", gpu=True, action="zs_chunk",
                           args=(("input_mode", input_mode), ("batch_size", bs), ("batches", nb), ("seed", seed),
                                 ("indices", chunk), ("after_study", bool(after_study))),
                           units=_flops_of(self.study, chunk, self.zs_net) * bs * nb / 1e3)
            ids += self._chunked(("zs", input_mode, bs, nb, seed), indices, size, make)
        return ids

    def zero_shot_on_supernet(self, run: _Run, epoch: int, indices) -> list[str]:
        """Proxies on the supernet's weights at `epoch` (0: its random init), the first init seed
        (rq4.zs_on_supernet)."""
        zp = self.zp
        seed = int(zp.seeds[0])
        net = _net(self.study, run.proto.C, run.proto.N)

        def make(chunk, k):
            return Job(id=f"zs:supernet:{run.name}:e{epoch:04d}:rq4:{k:03d}",
                       label=f"zero-shot on the {run.name} supernet's weights, epoch {epoch}, chunk {k}",
                       kind="zeroshot", deps=(run.train_id,), gpu=True, action="zs_supernet_chunk",
                       args=(("run", run.spec), ("epoch", int(epoch)), ("seed", seed), ("indices", chunk)),
                       units=_flops_of(self.study, chunk, net) * zp.batch_size * zp.batches / 1e3)

        return self._chunked(("zs-supernet", run.name, int(epoch)), indices,
                             _chunk_size(len(indices), self.zs_chunk), make)

    def collect_zero_shot(self, name: str, label: str, deps, **kwargs) -> str:
        n = len(kwargs.get("indices") if kwargs.get("indices") is not None else self.study.eval_indices)
        if kwargs.get("indices") is not None:
            kwargs["indices"] = tuple(int(i) for i in kwargs["indices"])
        return self.add(Job(id=f"collect:{name}", label=label, kind="collect", deps=tuple(deps),
                            action="call", args=(("method", "zs_scores"), ("kwargs", tuple(kwargs.items()))),
                            units=float(n * len(self.zp.seeds))))

    # ---- supernets -----------------------------------------------------------------------------

    def run(self, sampler: str, seed: int | None = None, affine: bool = False, variant: bool = False) -> _Run:
        study = self.study
        seed = int(study.plan.supernet_seeds[0] if seed is None else seed)
        if variant:
            proto = study.sn_protocol(sampler, seed, affine, epochs=study.plan.variant_epochs or None)
        else:
            proto = study.sn_protocol(sampler, seed, affine)
        folder = str(study.run_dir(proto))
        if folder in self.runs:  # e.g. a variant with the protocol's own epochs is the same run
            return self.runs[folder]
        name = f"{'variant:' if variant else ''}{sampler}:s{seed}{':affine' if affine else ''}"
        spec = (("sampler", sampler), ("seed", seed), ("affine", bool(affine)), ("variant", bool(variant)))
        flops = _mean_flops(study, _net(study, proto.C, proto.N))
        train = Job(id=f"train:{name}", label=f"supernet {name}: train {proto.epochs} epochs", kind="supernet-train",
                    gpu=True, action="train", args=(("run", spec),),
                    units=flops * _archs_per_step(sampler) * proto.epochs * self.n_train() / 1e3)
        self.add(train)
        self.runs[folder] = _Run(name, spec, proto, train.id)
        return self.runs[folder]

    def score(self, run: _Run, epochs, set_name: str, indices) -> list[str]:
        sn = self.sn
        net = _net(self.study, run.proto.C, run.proto.N)
        size = self.score_chunk  # checkpoints already make several jobs; a job loads its data once
        ids = []
        for epoch in epochs:
            def make(chunk, k, epoch=epoch):
                return Job(id=f"score:{run.name}:e{epoch:04d}:{set_name}:{k:03d}",
                           label=f"score the {run.name} supernet at epoch {epoch}: {set_name} chunk {k}",
                           kind="supernet-score", deps=(run.train_id,), gpu=True, action="score_chunk",
                           args=(("run", run.spec), ("epoch", int(epoch)), ("indices", chunk)),
                           units=_flops_of(self.study, chunk, net) * sn.score_batches * sn.score_batch_size / 1e3)
            ids += self._chunked(("score", run.name, int(epoch)), indices, size, make)
        return ids

    def supernet(self, sampler: str, seed: int | None = None, affine: bool = False, label: str = "") -> tuple[_Run, str]:
        """Train + score at every checkpoint on the one-shot set (the evaluated architectures the
        supernet covers, `Study.os_indices`), then the full `os_scores` call (reads)."""
        run = self.run(sampler, seed, affine)
        epochs = checkpoint_epochs(run.proto)
        deps = self.score(run, epochs, "eval", self.study.os_indices)
        seed = dict(run.spec)["seed"]
        collect = self.add(Job(
            id=f"collect:os:{run.name}", label=label or f"supernet {run.name}: train + score", kind="collect",
            deps=tuple(deps), action="call",
            args=(("method", "os_scores"), ("kwargs", (("sampler", sampler), ("seed", seed), ("affine", affine)))),
            units=float(len(self.study.os_indices) * len(epochs))))
        return run, collect

    def analysis(self, method: str, label: str, deps, kind: str = "analysis", gpu: bool = False,
                 units: float | None = None) -> str:
        return self.add(Job(id=f"analysis:{method}", label=label, kind=kind, deps=tuple(dict.fromkeys(deps)),
                            gpu=gpu, action="call", args=(("method", method), ("kwargs", ())),
                            units=float(len(self.study.eval_indices) * self.study.plan.bootstrap)
                            if units is None else float(units)))


def build_jobs(study, only=None, zs_chunk: int = ZS_CHUNK, score_chunk: int = SCORE_CHUNK) -> list[Job]:
    """The compute stage of `study` for the notebooks in `only` (default all), dependencies first.
    See the module docstring for how it is cut."""
    from nas_core.engines.costmodel import with_costs

    if zs_chunk < 1 or score_chunk < 1:
        raise BadParameter("chunk sizes must be positive")
    unknown = set(only or ()) - set(RQS)
    if unknown:
        raise BadParameter(f"unknown notebook(s) {sorted(unknown)}", fix="use rq1..rq5")
    b = _Builder(study, zs_chunk, score_chunk)
    plan = study.plan
    seed0 = int(plan.supernet_seeds[0])
    wants = set(only or RQS)
    eval_idx = [int(i) for i in study.eval_indices]
    os_idx = [int(i) for i in study.os_indices]  # what the supernets score (NB101: sub-space 3's share)

    b.collect_zero_shot("zs:real:eval", "zero-shot sweep (real images)",
                        b.zero_shot("eval", eval_idx, after_study=True))
    headline = {}
    top = study.headline_sampler
    for s in plan.supernet_seeds:  # the headline estimator (RQ1, RQ2, RQ5)
        headline[int(s)] = b.supernet(top, int(s), label=f"supernet {top} seed {s}: train + score")
    if top == "iso":  # spaces without isomorphism classes: the headline is the iso baseline
        iso, iso_collect = headline[seed0]
    else:
        iso, iso_collect = b.supernet("iso", seed0, label=f"supernet iso seed {seed0}: train + score")
    iso_epochs = checkpoint_epochs(iso.proto)
    if "rq2" in wants:
        run = headline[seed0][0]
        b.analysis("diagnostics", "variance diagnostics", [run.train_id], kind="diagnostics", gpu=True,
                   units=_diag_units(b, run))
    others = {}
    if "rq3" in wants or "rq5" in wants:
        for sampler in [sm for sm in plan.rq3_samplers if sm != top]:
            others[sampler] = b.supernet(sampler, seed0, label=f"supernet {sampler}: train + score")
    if "rq3" in wants:
        _rq3(b, study, iso, iso_collect, iso_epochs, headline, others, os_idx, seed0, top)
    if "rq4" in wants or "rq5" in wants:
        rq4 = [int(i) for i in study.rq4_indices]
        for mode in plan.zs_input_modes:
            b.collect_zero_shot(f"zs:{mode}:rq4", f"zero-shot input {mode}", b.zero_shot("rq4", rq4, input_mode=mode),
                                input_mode=mode, indices=rq4)
    if "rq4" in wants:
        nb = max(plan.zs_batches)
        for bs in plan.zs_batch_sizes:
            ids = b.zero_shot("rq4", rq4, batch_size=bs, batches=nb)
            b.collect_zero_shot(f"zs:bs{bs}:rq4", f"zero-shot batch size {bs}", ids,
                                indices=rq4, batch_size=int(bs), batches=int(nb))
        deps = []
        rq4_os = [int(i) for i in study.rq4_os_indices]  # RQ4's selection among those the supernet covers
        for epoch in [0] + iso_epochs:
            deps += b.zero_shot_on_supernet(iso, epoch, rq4_os)
        b.analysis("zs_on_supernet", "zero-shot on trained supernet weights", deps, kind="collect",
                   units=len(rq4_os) * (len(iso_epochs) + 1))
    return with_costs(list(b.jobs.values()))


def _diag_units(b: _Builder, run: _Run) -> float:
    """Forgetting + gradient similarity: per checkpoint `diag_archs` training steps and accuracy
    passes on 256 held-out images, plus `diag_archs` gradients on 128 images."""
    p = run.proto
    flops = _mean_flops(b.study, _net(b.study, p.C, p.N))
    return len(checkpoint_epochs(p)) * b.study.plan.diag_archs * flops * (p.batch_size + 2 * 256 + 128) / 1e3


def _rq3(b: _Builder, study, iso: _Run, iso_collect: str, iso_epochs, headline, others, os_idx, seed0,
         top: str) -> None:
    """RQ3's jobs; `os_idx`: the one-shot set (the architectures the supernets score)."""
    from nas_core.engines import rq3

    plan = study.plan
    last = iso_epochs[-1]
    if study.applies("affine"):
        affine, _ = b.supernet("iso", seed0, affine=True, label="supernet BN affine: train + score")
    if study.applies("post_deiso"):  # every member of the evaluated classes at the last checkpoint
        members = [int(i) for i in rq3.class_members(study, study.os_indices)["index"]]
        b.analysis("post_deiso", "post-de-isomorphism scoring", b.score(iso, [last], "members", members))
    # one-shot pruning: decided at `prune_at` (None: the middle checkpoint), compared at the last;
    # the fine-tuning runs inside the analysis
    at = iso_epochs[len(iso_epochs) // 2] if plan.prune_at is None else int(plan.prune_at)
    finetune = _fine_tune_units(b, iso, at, last, len(os_idx))
    b.analysis("pruning", "one-shot pruning", [iso.train_id] + b.score(iso, sorted({at, last}), "eval", os_idx),
               kind="supernet-train", gpu=True, units=finetune)
    ens = iso_epochs[-plan.ensemble_last:]
    b.analysis("temporal_ensemble", "temporal ensemble", [iso.train_id] + b.score(iso, ens, "eval", os_idx),
               kind="supernet-score", gpu=True, units=_score_units(b, iso, os_idx))
    b.analysis("seed_ensemble", "seed ensemble", [c for _, c in headline.values()])
    # MC sample counts (S = 1 is the iso run) and fair sampling: runs of the study's samplers are
    # read, the others are trained for the profile's variant epochs
    if study.applies("mc"):
        deps = []
        for spec in [("iso" if S == 1 else f"mc:{S}") for S in plan.mc_samples] + ["fair"]:
            if spec == "iso":
                deps.append(iso_collect)
            elif spec in plan.rq3_samplers:
                deps.append(headline[seed0][1] if spec == top else others[spec][1])
            else:
                run = b.run(spec, variant=True)
                deps += b.score(run, checkpoint_epochs(run.proto), "eval", os_idx)
        b.analysis("mc_comparison", "MC sample counts", deps)
    if study.applies("op_pruning"):
        deps = []
        for removed in plan.op_prune:
            idx = [int(i) for i in rq3.subspace_indices(study, removed)]
            sub = b.run("without:" + "+".join(removed), variant=True)
            epochs = sorted(set(checkpoint_epochs(sub.proto)) & set(iso_epochs))
            name = "subspace-" + "+".join(removed)
            deps += [sub.train_id] + b.score(sub, epochs, name, idx) + b.score(iso, epochs, name, idx)
        b.analysis("op_pruning", "op pruning", deps)
    if study.applies("soft_pruning"):
        soft = b.run(plan.soft_prune, variant=True)
        b.analysis("soft_pruning", "soft pruning",
                   [iso_collect] + b.score(soft, checkpoint_epochs(soft.proto), "eval", os_idx))
    if study.applies("bn_gamma"):
        b.analysis("bn_gamma_similarity", "BN gamma gradient similarity", [affine.train_id], kind="diagnostics",
                   gpu=True, units=_diag_units(b, affine) / 2)


def _score_units(b: _Builder, run: _Run, indices) -> float:
    net = _net(b.study, run.proto.C, run.proto.N)
    return _flops_of(b.study, indices, net) * b.sn.score_batches * b.sn.score_batch_size / 1e3


def _fine_tune_units(b: _Builder, run: _Run, at: int, last: int, n_eval: int) -> float:
    """One fine-tuning per keep fraction, from `at` to `last`, one architecture per step."""
    flops = _mean_flops(b.study, _net(b.study, run.proto.C, run.proto.N))
    return len(b.study.plan.prune_fractions) * max(last - at, 0) * b.n_train() * flops / 1e3


# ---- running one job -----------------------------------------------------------------------------

def _run_folder(study, run: tuple):
    """Train (or resume, or reuse) the run a job names; its folder."""
    r = dict(run)
    if r["variant"]:
        return study.variant_run(r["sampler"], r["seed"], r["affine"])
    return study.os_run(r["sampler"], r["seed"], r["affine"])


def _zs_chunk(study, indices, seed, input_mode, batch_size, batches, after_study=False):
    study.zs_scores(input_mode=input_mode, batch_size=batch_size, batches=batches, indices=list(indices),
                    compute_seeds=[seed], after_study=after_study)


def _zs_supernet_chunk(study, run, epoch, seed, indices):
    from nas_core.engines.supernet_score import arch_network_factory

    make, tag = arch_network_factory(_run_folder(study, run), epoch)  # as rq4.zs_on_supernet builds it
    study.zs_scores(indices=list(indices), make_network=make, network_tag=tag, seeds=[seed])


def _train(study, run):
    _run_folder(study, run)


def _score_chunk(study, run, epoch, indices):
    study.os_scores(indices=list(indices), epochs=[epoch], run=_run_folder(study, run))


def analyses() -> dict:
    """{name: function(study)} of the analysis jobs: the job ids (`analysis:<name>`), measured
    costs and reports keep the names the study's methods had before the per-RQ modules."""
    from nas_core.engines import rq2, rq3, rq4

    return {f.__name__: f for f in (
        rq2.diagnostics, rq3.post_deiso, rq3.pruning, rq3.temporal_ensemble, rq3.seed_ensemble, rq3.mc_comparison,
        rq3.op_pruning, rq3.soft_pruning, rq3.bn_gamma_similarity, rq4.zs_on_supernet)}


def _call(study, method, kwargs):
    """An analysis by name (`analyses()`), or one of the study's own cached calls (zs_scores,
    os_scores) for the `collect` jobs."""
    kwargs = {k: (list(v) if k == "indices" else v) for k, v in kwargs}
    table = analyses()
    if method in table:
        table[method](study, **kwargs)
    else:
        getattr(study, method)(**kwargs)


ACTIONS = {"zs_chunk": _zs_chunk, "zs_supernet_chunk": _zs_supernet_chunk, "train": _train,
           "score_chunk": _score_chunk, "call": _call}


def run_job(study, job) -> None:
    """Run one job (a Job, or the id of one of `build_jobs(study)`'s jobs); its results go to
    the cache, nothing is returned."""
    if isinstance(job, str):
        jobs = {j.id: j for j in build_jobs(study)}
        if job not in jobs:
            raise BadParameter(f"no job {job!r} in this study's compute stage",
                               fix="list them with build_jobs(study) (nas-core cost --list)")
        job = jobs[job]
    ACTIONS[job.action](study, **dict(job.args))


def select(jobs: list[Job], ids) -> list[Job]:
    """The jobs `ids` and everything they depend on, in order."""
    by_id = {j.id: j for j in jobs}
    keep, stack = set(), list(ids)
    while stack:
        i = stack.pop()
        if i not in keep:
            keep.add(i)
            stack += list(by_id[i].deps)
    return [j for j in jobs if j.id in keep]

