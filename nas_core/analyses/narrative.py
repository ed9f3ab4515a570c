"""Conclusions written from the computed numbers (never hard-coded claims).

Every function takes the frames a notebook computed and returns Markdown whose wording
follows the numbers. A sentence states a direction ("beats", "raises", "over-rates") only
when an `Effect` (analyses/effects.py) carries it: its 95 % interval over architectures
excludes zero and every supernet seed agrees on the sign. Without such evidence the text
gives the point values and says that no effect is detectable at this profile.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.analyses.effects import Effect, describe
from nas_core.criteria import overall

TAU = "kendall_tau_b"


def _fmt(v, digits: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


def _ci(row) -> str:
    if "ci_low" in row and pd.notna(row.get("ci_low")):
        return f" [{_fmt(row['ci_low'], 2)}, {_fmt(row['ci_high'], 2)}]"
    return ""


def _scalar(crit: pd.DataFrame, criterion: str = TAU) -> pd.DataFrame:
    d = overall(crit, criterion)
    return d.dropna(subset=["value"]).sort_values("value", ascending=False)


def _direction(v: float, small: float = 0.02) -> str:
    if not np.isfinite(v):
        return "no measurable"
    if abs(v) < small:
        return "a negligible"
    return "a positive" if v > 0 else "a negative"


def ranking_summary(crit: pd.DataFrame, what: str, effects: dict[str, Effect] | None = None) -> str:
    """`effects`: {estimator: Effect of its τ minus the best complexity baseline's} (paired
    bootstrap); without them no estimator is said to beat the baseline."""
    d = _scalar(crit)
    if d.empty:
        return f"No {what} could be evaluated."
    best, worst = d.iloc[0], d.iloc[-1]
    lines = [f"**{what.capitalize()}** ranked by Kendall's τ-b: best **{best['estimator']}** "
             f"(τ = {_fmt(best['value'])}{_ci(best)}), worst **{worst['estimator']}** (τ = {_fmt(worst['value'])})."]
    base = d[d["estimator"].isin(["params", "flops"])]
    if not base.empty:
        ref_row = base.iloc[0]
        lines.append(f"The best complexity baseline, {ref_row['estimator']}, reaches τ = {_fmt(ref_row['value'])}.")
        effects = effects or {}
        above = d[(d["value"] > ref_row["value"]) & ~d["estimator"].isin(["params", "flops"])]["estimator"].tolist()
        beat = [e for e in above if e in effects and effects[e].direction > 0]
        below = [e for e, eff in effects.items() if eff.direction < 0]
        unclear = [e for e in above if e not in beat]
        if beat:
            lines.append(f"{len(beat)} estimator(s) beat it by more than the paired 95 % interval: "
                         + "; ".join(f"{e} ({effects[e].interval_text()})" for e in beat) + ".")
        if unclear:
            lines.append(f"{', '.join(unclear)} score(s) above it, but the difference is not detectable at this "
                         "profile (the paired interval includes 0)." if effects else
                         f"{', '.join(unclear)} score(s) above it (point estimates; no paired interval computed).")
        if not beat and not unclear:
            lines.append("No proxy scores above it — a plain size count ranks at least as well.")
        if below:
            lines.append(f"Detectably worse than {ref_row['estimator']}: {', '.join(below)}.")
    neg = d[d["ci_high"] < 0]["estimator"].tolist() if "ci_high" in d else []
    if neg:
        lines.append(f"Negatively correlated with the truth (interval below 0: they rank backwards): {', '.join(neg)}.")
    return " ".join(lines)


def training_summary(crit: pd.DataFrame, effects: dict[str, Effect] | None = None) -> str:
    """`effects`: {estimator: Effect of τ at the last checkpoint minus τ at the first}."""
    d = overall(crit)
    if d.empty:
        return "No checkpoints were scored."
    out = []
    for est, g in d.groupby("estimator"):
        g = g.sort_values("epoch")
        first, last, peak = g.iloc[0], g.iloc[-1], g.loc[g["value"].idxmax()]
        change = (describe((effects or {})[est], f"training from epoch {int(first['epoch'])} to {int(last['epoch'])}")
                  if est in (effects or {}) else "no interval computed for the change")
        out.append(f"- **{est}**: τ = {_fmt(first['value'])} at epoch {int(first['epoch'])}, "
                   f"{_fmt(last['value'])} at epoch {int(last['epoch'])} (peak {_fmt(peak['value'])} at epoch "
                   f"{int(peak['epoch'])}); {change}.")
    return "\n".join(out)


def top_bottom_summary(crit: pd.DataFrame, effects: dict[str, Effect] | None = None) -> str:
    """`effects`: {estimator: Effect of P@top K − P@bottom K} at the K used here (10 %)."""
    d = crit[crit["criterion"].isin(["p_at_top", "p_at_bottom"])].dropna(subset=["k", "value"])
    if d.empty:
        return "P@K could not be computed."
    k = 0.1 if (d["k"] == 0.1).any() else d["k"].max()
    w = d[d["k"] == k].pivot_table(index="estimator", columns="criterion", values="value")
    head = f"At K = {k:g} ({k * 100:g} % of the architectures)"
    if not effects:
        lower = int((w.get("p_at_bottom", 0) > w.get("p_at_top", 0)).sum())
        return (f"{head}, {lower} of {len(w)} estimators have P@bottom above P@top (point estimates; no interval "
                "computed, so no direction is claimed).")
    bottom = [e for e, eff in effects.items() if eff.direction < 0]
    top = [e for e, eff in effects.items() if eff.direction > 0]
    rest = len(effects) - len(bottom) - len(top)
    parts = [f"{head}: {len(bottom)} of {len(effects)} estimators are detectably better at finding the bad "
             "architectures than the good ones (P@bottom > P@top, 95 % interval over architectures)"
             + (f" — {', '.join(bottom)}" if bottom else ""),
             f"{len(top)} are detectably better at the top" + (f" — {', '.join(top)}" if top else ""),
             f"for {rest} the difference is not detectable at this profile"]
    text = "; ".join(parts) + "."
    if len(bottom) > len(effects) / 2:
        text += " Most estimators are better at ruling out poor architectures than at picking the best."
    return text


def batches_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No per-batch scores."
    out = []
    for ck, g in frame.groupby("checkpoint", sort=False):
        g = g.sort_values("batches")
        out.append(f"- {ck} checkpoint: τ goes from {_fmt(g['kendall_tau_b'].iloc[0])} with 1 batch to "
                   f"{_fmt(g['kendall_tau_b'].iloc[-1])} with {int(g['batches'].iloc[-1])}; accuracy levels from "
                   f"{int(g['accuracy_levels'].iloc[0])} to {int(g['accuracy_levels'].iloc[-1])}, "
                   f"mean τ inside a level {_fmt(g['tau_within_levels'].iloc[0])} at 1 batch.")
    return "\n".join(out)


def rq1_conclusions(zs_crit, os_crit, combined, batches, batch_effect: Effect | None = None,
                    top_bottom: dict[str, Effect] | None = None) -> str:
    """`batch_effect`: τ with all validation batches minus τ with one, at the last checkpoint."""
    d = _scalar(combined)
    if d.empty:
        return "Nothing to conclude: no estimator could be evaluated."
    os_row = d[d["estimator"] == "os_acc"]
    rank_os = int(np.flatnonzero(d["estimator"].to_numpy() == "os_acc")[0]) + 1 if len(os_row) else None
    lines = [f"1. Over all {len(d)} estimators the highest τ-b comes from **{d.iloc[0]['estimator']}** "
             f"(τ = {_fmt(d.iloc[0]['value'])}{_ci(d.iloc[0])}; the intervals of the next ones show whether the "
             "order is settled)."]
    if rank_os:
        lines.append(f"2. The one-shot estimator (OS acc, final checkpoint) is #{rank_os} with τ = "
                     f"{_fmt(os_row.iloc[0]['value'])}{_ci(os_row.iloc[0])}.")
    lines.append("3. " + top_bottom_summary(combined, top_bottom))
    if batch_effect is not None:
        text = describe(batch_effect, "scoring on all validation batches instead of one")
        if batch_effect.direction > 0:
            text += ": extra batches break ties between accuracy levels"
        elif batch_effect.direction < 0:
            text += (": at this checkpoint more data ranks worse — the study saw the same reversal early in "
                     "training (epoch 200), where more batches merged accuracy levels the truth separates")
        lines.append(f"4. At the last checkpoint, {text}.")
    return "\n".join(lines)


def complexity_summary(frame: pd.DataFrame, slopes: dict[str, Effect] | None = None) -> str:
    """`slopes`: {estimator: Effect of the RD slope per FLOPs group} (bootstrap over archs)."""
    if frame.empty:
        return "No FLOPs-group analysis."
    out = []
    for est, g in frame.groupby("estimator"):
        g = g.sort_values("group")
        eff = (slopes or {}).get(est)
        if eff is None:
            slope = np.polyfit(g["group"], g["mean_rd"], 1)[0] if len(g) > 1 else np.nan
            trend = f"has an RD slope of {_fmt(slope)} per group (point estimate, no interval computed)"
        elif eff.direction > 0:
            trend = f"over-rates large architectures and under-rates small ones (RD slope per group, {eff.interval_text()})"
        elif eff.direction < 0:
            trend = f"over-rates small architectures and under-rates large ones (RD slope per group, {eff.interval_text()})"
        else:
            trend = f"shows no detectable complexity trend at this profile (RD slope per group, {eff.interval_text()})"
        out.append(f"- **{est}** {trend}; mean τ inside groups {_fmt(g['tau'].mean())}.")
    return "\n".join(out)


def op_bias_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No one-mutation pairs among the scored architectures."
    out = []
    for est, g in frame.groupby("estimator"):
        g = g.dropna(subset=["bias"])
        if g.empty:
            continue
        top = g.loc[g["bias"].abs().idxmax()]
        out.append(f"- **{est}**: strongest bias on {top['from_op']} → {top['to_op']} (estimate up in "
                   f"{_fmt(top['p_estimate_up'], 2)} of {int(top['n_pairs'])} pairs, truth up in "
                   f"{_fmt(top['p_truth_up'], 2)}); mean |bias| {_fmt(g['bias'].abs().mean(), 2)}.")
    return "\n".join(out)


def preferences_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No preference analysis."
    truth = frame[frame["estimator"] == "truth"].set_index("feature")["spearman"]
    out = []
    for est, g in frame[frame["estimator"] != "truth"].groupby("estimator"):
        g = g.set_index("feature")["spearman"].dropna()
        if g.empty:
            continue
        f = g.abs().idxmax()
        out.append(f"- **{est}** follows *{f}* most (ρ = {_fmt(g[f], 2)}; the ground truth: {_fmt(truth.get(f, np.nan), 2)}).")
    return "\n".join(out)


def variance_summary(diag: dict, stab: dict) -> str:
    out = []
    fv = diag.get("forgetting")
    if fv is not None and not fv.empty:
        from nas_core.analyses.effects import mean_effect

        eff = mean_effect(fv["forgetting"])
        verdict = {-1: "the other architectures' steps detectably erase what an architecture's own step taught it",
                   1: "the other architectures' steps detectably help it further",
                   0: "no forgetting is detectable at this profile"}[eff.direction]
        out.append(f"- Forgetting value FV = accuracy after the other architectures' steps − accuracy right after "
                   f"its own step: mean {_fmt(eff.delta, 2)} points (95 % interval {_fmt(eff.low, 2)} to "
                   f"{_fmt(eff.high, 2)}, n = {eff.n} (architecture, checkpoint) values): {verdict}.")
    gs = diag.get("gradient_similarity")
    if gs is not None and not gs.empty:
        m = gs.groupby("epoch")["cosine"].mean()
        out.append(f"- Mean gradient cosine similarity between architectures: {_fmt(m.iloc[0], 3)} at the first "
                   f"diagnosed checkpoint, {_fmt(m.iloc[-1], 3)} at the last; share of layers with conflicting "
                   f"(negative) gradients at the last: {_fmt((gs[gs['epoch'] == gs['epoch'].max()]['cosine'] < 0).mean(), 2)}.")
    adj = stab.get("adjacent")
    if adj is not None and not adj.empty:
        out.append(f"- Kendall's τ between adjacent checkpoints: mean {_fmt(adj['kendall_tau_b'].mean())} "
                   f"(1 = the ranking does not change).")
    sd = stab.get("seed_summary")
    if sd is not None and not sd.empty:
        out.append(f"- Across supernet seeds at the last checkpoint: τ vs truth {_fmt(sd['mean'].iloc[0])} ± "
                   f"{_fmt(sd['std'].iloc[0])}; mean τ between seeds' rankings {_fmt(stab.get('between_seeds', np.nan))}.")
    return "\n".join(out) or "No variance diagnostics."


def rq2_conclusions(rd, op_bias, prefs, diag, stab, slopes=None) -> str:
    """3-6 takeaways: the one-shot complexity bias, how many estimators share it, the strongest
    op bias, what the best proxies follow, forgetting and seed agreement."""
    out = []
    slopes = slopes or {}
    os_eff = slopes.get("os_acc")
    if os_eff is not None:
        what = {1: "over-rates large architectures", -1: "over-rates small architectures",
                0: "shows no detectable complexity trend"}[os_eff.direction]
        out.append(f"**Complexity bias of the one-shot estimator.** OS acc {what} (slope of the mean ranking "
                   f"difference per FLOPs quintile, {os_eff.interval_text()})"
                   + (f"; not comparable at this profile: {os_eff.withheld}" if os_eff.withheld else "") + ".")
    if slopes:
        up = [e for e, x in slopes.items() if x.direction > 0]
        down = [e for e, x in slopes.items() if x.direction < 0]
        out.append(f"**Across estimators.** {len(up)} of {len(slopes)} detectably over-rate large architectures"
                   + (f" ({', '.join(up)})" if up else "") + f", {len(down)} small ones"
                   + (f" ({', '.join(down)})" if down else "") + "; the rest show no detectable trend.")
    if op_bias is not None and not op_bias.empty:
        g = op_bias.dropna(subset=["bias"])
        if not g.empty:
            top = g.loc[g["bias"].abs().idxmax()]
            out.append(f"**Operations.** The strongest op-level bias is {top['estimator']} on {top['from_op']} → "
                       f"{top['to_op']}: the estimate rises in {_fmt(top['p_estimate_up'], 2)} of "
                       f"{int(top['n_pairs'])} one-mutation pairs, the truth in {_fmt(top['p_truth_up'], 2)}.")
    if prefs is not None and not prefs.empty:
        size = [f for f in ("params", "n_params", "flops") if f in set(prefs["feature"])]
        if size:
            f = size[0]
            p = prefs[(prefs["feature"] == f) & ~prefs["estimator"].isin(["truth", "params", "flops"])]
            p = p.dropna(subset=["spearman"])
            if not p.empty:
                high = p[p["spearman"] >= 0.7]["estimator"].tolist()
                truth = prefs[(prefs["feature"] == f) & (prefs["estimator"] == "truth")]["spearman"]
                out.append(f"**What proxies measure.** {len(high)} of {len(p)} proxies follow *{f}* at Spearman ρ ≥ 0.7"
                           + (f" ({', '.join(high)})" if high else "") + f"; the ground truth itself: ρ = "
                           f"{_fmt(truth.iloc[0] if len(truth) else np.nan, 2)} — a proxy this close to size is "
                           "largely a size counter.")
    v = variance_summary(diag, stab)
    if not v.startswith("No"):
        out.append("**Variance.**\n" + v)
    return "\n".join(f"{i}. {t}" for i, t in enumerate(out[:6], 1)) or "No RQ2 results."


ESTIMATOR_WORDS = {"os_acc": "OS acc", "os_loss": "OS loss"}


def variant_summary(crit: pd.DataFrame, what: str, effects: dict[str, Effect] | None = None,
                    baseline: str = "") -> str:
    """τ of each variant at its last checkpoint, OS acc and OS loss named apart (they are two
    estimators, drawn in two panels); with `effects` ({variant: Effect of OS acc vs the
    baseline, paired over architectures}) the difference to the baseline and whether it is
    detectable."""
    d = overall(crit)
    if d.empty:
        return f"No {what} results."
    last = d[d["epoch"] == d.groupby("variant")["epoch"].transform("max")]
    has_est = "estimator" in last.columns
    order = (last[last["estimator"] == "os_acc"] if has_est and (last["estimator"] == "os_acc").any() else last) \
        .sort_values("value", ascending=False)["variant"].drop_duplicates().tolist()
    n = f", n = {int(last['n'].iloc[0])} architectures" if "n" in last.columns and pd.notna(last["n"].iloc[0]) else ""
    parts = []
    for v in order:
        g = last[last["variant"] == v]
        epoch = int(g["epoch"].iloc[0])
        if has_est:
            vals = ", ".join(f"{ESTIMATOR_WORDS.get(e, e)} τ = {_fmt(r)}" for e, r in
                             g.set_index("estimator")["value"].items())
        else:
            vals = f"τ = {_fmt(g['value'].iloc[0])}"
        parts.append(f"- **{v}** (epoch {epoch}): {vals}")
    text = f"At the last checkpoint, by {what}{n} (OS acc = held-out accuracy, OS loss = negated held-out loss):\n" \
        + "\n".join(parts)
    for v, e in (effects or {}).items():
        text += f"\n- OS acc: {describe(e, f'{v} instead of {baseline}' if baseline else v)}."
    return text


def pruning_summary(frame: pd.DataFrame, withheld: str = "") -> str:
    """One-shot pruning against the unpruned supernet at the same epoch, on the kept archs;
    directions only where the paired intervals exclude 0 (and the one-shot estimator is
    informative at this profile: `withheld` says why not)."""
    if frame.empty:
        return "No pruning results."
    out = []
    for p, g in frame.groupby("keep_fraction"):
        after = g[g["stage"] == "after"]
        before = g[g["stage"] == "before"]
        if after.empty or before.empty:
            continue
        a, b = after.iloc[0], before.iloc[0]
        tau = Effect(a["delta_tau"], a.get("delta_tau_low", np.nan), a.get("delta_tau_high", np.nan),
                     n=int(a["n_archs"]), withheld=withheld)
        acc = Effect(a["delta_mean_os_acc"], a.get("delta_mean_os_acc_low", np.nan),
                     a.get("delta_mean_os_acc_high", np.nan), n=int(a["n_archs"]), withheld=withheld)
        out.append(f"- keep {p * 100:g} % ({int(a['n_archs'])} archs), pruned at epoch {int(a['prune_epoch'])} and "
                   f"fine-tuned to {int(a['epoch'])}, against the unpruned supernet at epoch {int(b['epoch'])}: "
                   f"{describe(acc, 'pruning', quantity='mean OS acc (points)', digits=2)}; "
                   f"{describe(tau, 'pruning', quantity='τ inside the kept sub-space')}.")
    return "\n".join(out) or "No pruning results."


def rq3_conclusions(samplers, post, pruning, ensemble, affine, withheld: str = "", sampler_effects=None) -> str:
    """3-6 takeaways, each from the numbers: the best sampler (and whether its gain over iso is
    detectable), OS loss vs OS acc, post-de-isomorphism, pruning, ensembles, BN affine."""
    out = []
    d = overall(samplers)
    if not d.empty:
        last = d[d["epoch"] == d.groupby("variant")["epoch"].transform("max")]
        acc = last[last["estimator"] == "os_acc"].set_index("variant")["value"] if "estimator" in last else \
            last.set_index("variant")["value"]
        best = acc.idxmax()
        eff = (sampler_effects or {}).get(best)
        gain = describe(eff, f"{best} instead of iso") if eff is not None else "no interval computed"
        out.append(f"**Sampling.** The best sampler for OS acc is **{best}** (τ = {_fmt(acc[best])} vs iso "
                   f"{_fmt(acc.get('iso', np.nan))}); {gain}.")
        if "estimator" in last and (last["estimator"] == "os_loss").any():
            loss = last[last["estimator"] == "os_loss"].set_index("variant")["value"].reindex(acc.index)
            wins = int((loss > acc).sum())
            out.append(f"**OS loss vs OS acc.** The negated loss ranks better than the accuracy for {wins} of "
                       f"{len(acc)} samplers at the last checkpoint (point values; accuracy on few held-out "
                       "batches ties many architectures, the loss does not).")
    p = _scalar(post) if post is not None else pd.DataFrame()
    if len(p) >= 2:
        vals = p.set_index("estimator")["value"]
        out.append("**Post-de-isomorphism.** " + "; ".join(f"{k}: τ = {_fmt(v)}" for k, v in vals.items())
                   + f" — averaging isomorphic cells changes τ by {_fmt(vals.max() - vals.min())} (point values).")
    text = pruning_summary(pruning, withheld)
    if not text.startswith("No"):
        out.append("**One-shot pruning.**\n" + text)
    e = _scalar(ensemble)
    if not e.empty:
        out.append(f"**Temporal ensemble.** Best: {e.iloc[0]['estimator']} (τ = {_fmt(e.iloc[0]['value'])}); "
                   + "; ".join(f"{r['estimator']} {_fmt(r['value'])}" for _, r in e.iloc[1:].iterrows())
                   + " (point values, one supernet).")
    a = overall(affine) if affine is not None else pd.DataFrame()
    if not a.empty and "estimator" in a.columns:
        la = a[(a["epoch"] == a["epoch"].max()) & (a["estimator"] == "os_acc")].set_index("variant")["value"]
        if len(la) == 2:
            out.append("**BN affine.** OS acc τ at the last checkpoint: " + "; ".join(
                f"{k} {_fmt(v)}" for k, v in la.items()) + " (one supernet each: no interval, no direction claimed).")
    return "\n".join(f"{i}. {t}" for i, t in enumerate(out[:6], 1)) or "No RQ3 results."


def trained_weights_summary(crit: pd.DataFrame, effects: dict[str, Effect] | None = None) -> str:
    """`effects`: {proxy: Effect of τ on the last checkpoint's weights minus τ at epoch 0}."""
    d = overall(crit)
    if d.empty:
        return "No results."
    out = []
    for est, g in d.groupby("estimator"):
        g = g.sort_values("epoch")
        r0, rl = g.iloc[0], g.iloc[-1]
        eff = (effects or {}).get(est)
        change = (describe(eff, "training the weights", up="raises", down="lowers") if eff is not None
                  else "no interval computed")
        out.append(f"- **{est}**: τ {_fmt(r0['value'])} at epoch {int(r0['epoch'])} (the supernet's random init), "
                   f"{_fmt(rl['value'])} at epoch {int(rl['epoch'])}; {change}.")
    return "\n".join(out)


def input_modes_summary(crit: pd.DataFrame, effects: dict[str, Effect] | None = None) -> str:
    """`effects`: {proxy: Effect of τ with real images minus τ with Gaussian noise}."""
    d = overall(crit)
    if d.empty:
        return "No results."
    w = d.pivot_table(index="estimator", columns="input_mode", values="value")
    out = []
    for est, r in w.iterrows():
        if "real" not in r or "noise" not in r:
            continue
        line = f"- **{est}**: real {_fmt(r.get('real'))}, noise {_fmt(r.get('noise'))}, ones {_fmt(r.get('ones'))}"
        eff = (effects or {}).get(est)
        if eff is not None:
            line += ("; real images detectably help" if eff.direction > 0 else
                     "; real images detectably hurt" if eff.direction < 0 else
                     "; no detectable difference between images and noise — it may not use the data")
            line += f" ({eff.interval_text()})"
        out.append(line + ".")
    return "\n".join(out)


def rq4_conclusions(trained, inputs, sizes, length, trained_effects=None, input_effects=None) -> str:
    """3-6 takeaways: does training help the proxies, do they use the data, batching, training
    length of the one-shot estimator — counts from the per-proxy effects, not the lists again."""
    out = []
    te = trained_effects or {}
    if te:
        down = [e for e, x in te.items() if x.direction < 0]
        up = [e for e, x in te.items() if x.direction > 0]
        n = next(iter(te.values())).n
        out.append(f"**Trained weights.** On the trained supernet's weights, {len(down)} of {len(te)} proxies rank "
                   f"detectably worse than on its random init" + (f" ({', '.join(down)})" if down else "")
                   + f" and {len(up)} detectably better" + (f" ({', '.join(up)})" if up else "")
                   + f" (paired over n = {n} architectures).")
    ie = input_effects or {}
    if ie:
        same = [e for e, x in ie.items() if x.direction == 0]
        helps = [e for e, x in ie.items() if x.direction > 0]
        out.append(f"**Input data.** Real images detectably help {len(helps)} of {len(ie)} proxies"
                   + (f" ({', '.join(helps)})" if helps else "") + f"; for {len(same)} the τ with Gaussian noise is not "
                   "detectably different — those rank architectures without looking at the data.")
    if sizes is not None and not sizes.empty:
        best = sizes.groupby(["batch_size", "batches"])["kendall_tau_b"].mean()
        b = best.idxmax()
        out.append(f"**Batching.** Mean τ over proxies is highest with batch size {b[0]} and {b[1]} batch(es) "
                   f"({_fmt(best.max())}) and lowest at {_fmt(best.min())}: a spread of {_fmt(best.max() - best.min())} "
                   "(point estimates), to set against the per-proxy intervals of RQ1.")
    if length is not None and not length.empty:
        g = length[length["batches"] == length["batches"].max()].sort_values("epoch")
        out.append(f"**Training length.** OS acc τ with all validation batches: {_fmt(g['kendall_tau_b'].iloc[0])} at "
                   f"epoch {int(g['epoch'].iloc[0])}, {_fmt(g['kendall_tau_b'].iloc[-1])} at epoch "
                   f"{int(g['epoch'].iloc[-1])} (one supernet: point values).")
    return "\n".join(f"{i}. {t}" for i, t in enumerate(out[:6], 1)) or "No RQ4 results."


def search_summary(summary: pd.DataFrame, n_candidates: int | None = None) -> str:
    if summary.empty:
        return "No searches."
    out = []
    if n_candidates:
        out.append(f"The searches run on the **{n_candidates} sampled architectures**, not the whole space: the "
                   "\"oracle\" (the ground truth driving the same search) finds the best of what it queries, and the "
                   "regret is measured against **the sample's best**, not the space's. A budget of "
                   f"{n_candidates} or more queries the whole sample. ± is the sd over search seeds.")
    for (method, budget), g in summary.groupby(["method", "budget"]):
        g = g.sort_values("true_acc_mean", ascending=False)
        oracle = g[g["estimator"] == "truth"]
        best = g[g["estimator"] != "truth"].iloc[0] if (g["estimator"] != "truth").any() else None
        if best is None:
            continue
        whole = " (the whole sample)" if n_candidates and budget >= n_candidates else ""
        sd = f" ± {_fmt(best['true_acc_std'], 2)}" if "true_acc_std" in best and pd.notna(best["true_acc_std"]) else ""
        out.append(f"- {method}, budget {budget}{whole}: best estimator **{best['estimator']}** finds "
                   f"{_fmt(best['true_acc_mean'], 2)}{sd} % (regret {_fmt(best['regret_mean'], 2)})"
                   + (f"; the ground truth driving the same search finds {_fmt(oracle['true_acc_mean'].iloc[0], 2)} %."
                      if len(oracle) else "."))
    return "\n".join(out)


def guidelines(evidence: pd.DataFrame, search: pd.DataFrame) -> str:
    """Numbered guidelines; each names its evidence (estimator, checkpoint, n, seeds) from the
    `evidence` table (engines/rq5.py: collect_evidence) and states a direction only where its interval
    carries one."""
    if evidence.empty:
        return "Not enough results for guidelines."
    ev = evidence.set_index("item")

    def eff(key):
        if key not in ev.index:
            return None
        r = ev.loc[key]
        return Effect(r["value"], r["low"], r["high"], n=int(r["n"]), withheld=r.get("withheld", "") or "")

    def cite(key):
        return f" *Evidence: {ev.loc[key, 'evidence']}.*"

    g = []
    best_zs = evidence.attrs.get("best_zse")
    gap = eff("best_zse_minus_baseline")
    if gap is not None:
        verdict = {1: f"{best_zs} detectably beats the best complexity baseline",
                   -1: f"even the best proxy, {best_zs}, ranks detectably worse than a plain size count",
                   0: f"the best proxy, {best_zs}, is not detectably better than a plain size count"}[gap.direction]
        g.append(f"**Always report #params / #FLOPs beside a proxy.** Here {verdict} ({gap.interval_text()})."
                 + cite("best_zse_minus_baseline") + " " + cite("n_zse_beating_baseline").strip())
    os_gap = eff("os_minus_baseline")
    if os_gap is not None:
        if os_gap.withheld:
            g.append(f"**Do not trust a short supernet run.** The one-shot estimator is not comparable at this profile "
                     f"({os_gap.withheld}); train longer or with more seeds before using it." + cite("os_minus_baseline"))
        else:
            word = {1: "ranks detectably better than", -1: "ranks detectably worse than",
                    0: "is not detectably different from"}[os_gap.direction]
            g.append(f"**Choose the estimator by measured ranking quality, not by cost alone.** The one-shot "
                     f"estimator {word} the best complexity baseline ({os_gap.interval_text()})." + cite("os_minus_baseline"))
    e = eff("deiso_gain")
    if e is not None:
        g.append(f"**Sample de-isomorphic architectures.** Here {describe(e, 'de-isomorphic sampling (vs iso)')}."
                 + cite("deiso_gain"))
    e = eff("batches_gain")
    if e is not None:  # the advice follows the sign of the kit's own number
        advice = {1: "**Score the supernet on enough validation data.** Extra batches break ties between accuracy "
                     "levels.",
                  -1: "**More validation data is not automatically better.** At this checkpoint more batches rank "
                      "worse — the study saw the same reversal early in training (epoch 200), where more batches "
                      "merged accuracy levels the truth separates; it helped only late (epoch 1000).",
                  0: "**Check how many validation batches you need.** No difference is detectable here."}[e.direction]
        if e.withheld:  # direction 0 here means "not readable", not "no difference"
            advice = "**Check how many validation batches you need.** This profile cannot tell."
        g.append(f"{advice} Here {describe(e, 'scoring on all validation batches (vs one)')}." + cite("batches_gain"))
    e = eff("complexity_slope")
    if e is not None:
        what = {1: "over-rates large architectures", -1: "over-rates small architectures",
                0: "shows no detectable complexity bias at this profile"}[e.direction]
        if e.withheld:
            what = "cannot be read for a complexity bias at this profile"
        g.append(f"**Watch the complexity bias.** The one-shot estimator {what} (RD slope per FLOPs quintile, "
                 f"{e.interval_text()}" + (f"; not comparable: {e.withheld}" if e.withheld else "") + "); compare "
                 "architectures of similar FLOPs when you can." + cite("complexity_slope"))
    if "noise_gap" in ev.index:
        g.append(f"**Check what a proxy measures.** Replacing the images by noise changes the proxies' τ by "
                 f"{_fmt(ev.loc['noise_gap', 'value'])} on average." + cite("noise_gap")
                 + " Proxies whose τ does not change are architecture counters rather than data-driven estimates.")
    if not search.empty:
        s = search[search["estimator"] != "truth"].sort_values("true_acc_mean", ascending=False)
        if len(s):
            r = s.iloc[0]
            spread = f" ± {_fmt(r['true_acc_std'], 2)} (sd over {int(r['n'])} search seeds)" if "true_acc_std" in r else ""
            g.append(f"**Judge estimators by the search they drive.** The best-driven search ({r['estimator']}, "
                     f"{r['method']}, budget {r['budget']}) finds {_fmt(r['true_acc_mean'], 2)} %{spread}.")
    return "\n".join(f"{i}. {t}" for i, t in enumerate(g, 1)) or "Not enough results for guidelines."


def partial_rank_summary(frame: pd.DataFrame) -> str:
    """Which estimators keep a ranking signal once #params and op counts are accounted for: a
    direction only where the interval excludes 0."""
    if frame.empty:
        return frame.attrs.get("note", "No estimators to compare.").capitalize() + "."
    ok = frame.dropna(subset=["partial"])
    beyond = ok[ok["ci_low"] > 0].sort_values("partial", ascending=False)
    nothing = ok[(ok["ci_low"] <= 0) & (ok["ci_high"] >= 0)]
    below = ok[ok["ci_high"] < 0]
    n = int(frame["n"].max())
    parts = [f"Over {n} architectures (intervals: bootstrap over architectures, one network init per architecture):"]
    if len(beyond):
        parts.append("- **Signal beyond size and op counts** (partial ρ interval above 0): " + ", ".join(
            f"{r.proxy} {_fmt(r.partial, 2)} [{_fmt(r.ci_low, 2)}, {_fmt(r.ci_high, 2)}]" for r in beyond.itertuples()))
    if len(nothing):
        parts.append("- **No detectable signal beyond them** (interval contains 0): " + ", ".join(nothing["proxy"])
                     + " — at this n these rank architectures no better than counting does; more architectures "
                     "would narrow the intervals.")
    if len(below):
        parts.append("- **Against the truth once size is accounted for**: " + ", ".join(below["proxy"]))
    return "\n".join(parts)
