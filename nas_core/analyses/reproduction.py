"""The study beside the kit: its published numbers (nas_core/resources/published.csv, see
docs/reproduction.md) next to what the kit computes, with a verdict that is computed, never typed.

Verdicts:
  reproduced      the published value lies inside the kit's interval widened by the row's
                  tolerance (τ: ±0.05); without an interval, |kit − published| ≤ tolerance.
                  A qualitative row: its computed check holds.
  differs         otherwise.
  not comparable  the run cannot be set beside the study: a hard requirement of the row is not
                  met (benchmark, supernet epochs, network size) or the kit's interval is wider
                  than the row's `max_half_width` (sample too small). The reason says which.
  not checked automatically   a qualitative row without a computed check, or one the kit does not
                  compute yet.

A row's `key` says how the kit computes its side from the result tables (name -> frame, the
names the notebooks write, e.g. `rq1_zse_criteria`):
  value:<table>:<estimator>:<criterion>[:<k>][:<col>=<v>;...]   one value (+ its interval); `last` = max
  lowest:<table>:<estimator>:<criterion>          the estimator has the lowest value of the table
  not_better:<table>:<estimator>:<criterion>:<a,b,c>   not above the best expert's interval
  pruning_delta:<table>:<keep_fraction>           τ after − τ before fine-tuning in the kept sub-space
  op_bias:<table>:<over_op>:<under_op>            mean bias of mutations to over_op > 0 > to under_op
  batches_gain:<table>                            τ(most batches) > τ(fewest) at the last checkpoint
  falls:<table>:<criterion>                        most estimators' value falls from first to last epoch
  none                                            the kit does not compute it yet
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

REPRODUCED, DIFFERS, NOT_COMPARABLE, NOT_CHECKED = ("reproduced", "differs", "not comparable",
                                                    "not checked automatically")
VERDICTS = (REPRODUCED, DIFFERS, NOT_COMPARABLE, NOT_CHECKED)
# how a context key reads in a reason
PHRASES = {"benchmark": "benchmark", "supernet_epochs": "supernet epochs", "supernet_network": "supernet network",
           "zs_network": "zero-shot network", "zs_batch_size": "zero-shot batch size", "n": "architectures"}
OPS = {">=": operator.ge, "<=": operator.le, "=": None}


@dataclass(frozen=True)
class KitValue:
    """The kit's side of a row: a number with its interval and n, or a check (value 1 = holds,
    0 = does not); `detail` says what was computed."""
    value: float
    low: float = math.nan
    high: float = math.nan
    n: int | None = None
    detail: str = ""


def load_published(rq: str | None = None) -> pd.DataFrame:
    text = resources.files("nas_core").joinpath("resources/published.csv").read_text(encoding="utf-8")
    from io import StringIO

    frame = pd.read_csv(StringIO(text), keep_default_na=False, dtype=str)
    for c in ("published", "tolerance", "max_half_width"):
        frame[c] = pd.to_numeric(frame[c].replace("", np.nan), errors="coerce")
    return frame if rq is None else frame[frame["rq"] == rq].reset_index(drop=True)


def profile_context(profile: str, benchmark: str, n: int | None = None, oneshot: dict | None = None) -> dict:
    """What the comparability rules look at, from the profile's protocols. `oneshot`: the
    study's one-shot verdict (`Study.oneshot_verdict()`); when it is not informative, every
    row about the supernet (a `supernet_*` requirement) is "not comparable" with its reason."""
    from nas_core import benchmarks

    bench = benchmarks.get(benchmark)
    sn, zs = bench.protocol("supernet", profile), bench.protocol("zeroshot", profile)
    own = bench.network_size  # zero-shot C/N None = the benchmark's own network
    context = {"benchmark": benchmark, "supernet_epochs": sn.epochs, "supernet_network": f"C{sn.C}/N{sn.N}",
               "zs_network": f"C{zs.C or own[0]}/N{zs.N or own[1]}", "zs_batch_size": zs.batch_size, "n": n}
    if oneshot is not None and not oneshot.get("informative", True):
        context["oneshot_withheld"] = oneshot.get("reason") or "the one-shot verdict is not informative"
    return context


def _requirements(text: str) -> list[tuple[str, str, str]]:
    out = []
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        for sym in (">=", "<=", "="):
            if sym in part:
                key, want = part.split(sym, 1)
                out.append((key.strip(), sym, want.strip()))
                break
    return out


def _unmet(text: str, context: dict) -> list[str]:
    reasons = []
    for key, sym, want in _requirements(text):
        have = context.get(key)
        phrase = PHRASES.get(key, key)
        if have is None:
            reasons.append(f"{phrase} unknown (the study: {want})")
            continue
        ok = str(have) == want if sym == "=" else OPS[sym](float(have), float(want))
        if not ok:
            reasons.append(f"{phrase} {have}, the study {want if sym == '=' else sym + ' ' + want}"
                           .replace(">= ", "").replace("<= ", "≤ "))
    return reasons


def judge(row, kit: KitValue | None, context: dict) -> tuple[str, str]:
    """(verdict, reason) of one published row against the kit's value at `context`."""
    unmet = _unmet(row["requires"], context)
    if context.get("oneshot_withheld") and "supernet_" in str(row["requires"]):
        unmet.append(f"one-shot verdict: {context['oneshot_withheld']}")
    if unmet:
        return NOT_COMPARABLE, "; ".join(unmet)
    caveat = "; ".join(_unmet(row.get("caveats", ""), context))
    caveat = f" (caveat: {caveat})" if caveat else ""
    if kit is None or not np.isfinite(kit.value):
        return NOT_CHECKED, ("the kit does not compute this yet" if kit is None else kit.detail or "no value") + caveat
    published = row["published"]
    if not np.isfinite(published):  # a qualitative row: the kit's value is its check
        return (REPRODUCED if kit.value >= 0.5 else DIFFERS), (kit.detail + caveat).strip()
    tol = row["tolerance"] if np.isfinite(row["tolerance"]) else 0.05
    has_ci = np.isfinite(kit.low) and np.isfinite(kit.high)
    limit = row.get("max_half_width", math.nan)
    if has_ci and np.isfinite(limit) and (kit.high - kit.low) / 2 > limit:
        return NOT_COMPARABLE, (f"sample too small: interval ±{(kit.high - kit.low) / 2:.2f} at n = {kit.n}, "
                                f"wider than ±{limit:g}")
    low, high = (kit.low, kit.high) if has_ci else (kit.value, kit.value)
    inside = low - tol <= published <= high + tol
    where = f"interval [{low:.3g}, {high:.3g}]" if has_ci else f"value {kit.value:.3g}"
    reason = f"published {published:g} {'within' if inside else 'outside'} the kit's {where} ± {tol:g}"
    return (REPRODUCED if inside else DIFFERS), reason + caveat


# ---- the kit's side, from the result tables --------------------------------------------------

def _filter(frame: pd.DataFrame, spec: str) -> pd.DataFrame:
    for cond in filter(None, spec.split(";")):
        col, want = cond.split("=", 1)
        if want == "last":
            frame = frame[frame[col] == frame[col].max()]
        else:
            frame = frame[frame[col].astype(str) == want]
    return frame


def _pick(frame: pd.DataFrame, estimator: str, criterion: str, k: str = "") -> pd.DataFrame:
    sel = frame[(frame["estimator"] == estimator) & (frame["criterion"] == criterion)]
    return sel[sel["k"].isna()] if not k else sel[np.isclose(sel["k"].astype(float), float(k))]


def kit_value(key: str, tables: dict) -> KitValue | None:
    """The kit's side of a row (see the module docstring), or None when its table is absent."""
    kind, *args = key.split(":")
    if kind == "none":
        return None
    table = tables.get(args[0])
    if table is None:
        return None
    if kind == "value":
        _, est, crit, *rest = args
        k = rest[0] if rest and "=" not in rest[0] else ""
        spec = next((r for r in rest if "=" in r), "")
        sel = _pick(_filter(table, spec), est, crit, k)
        if sel.empty:
            return None
        r = sel.iloc[0]
        return KitValue(float(r["value"]), float(r.get("ci_low", math.nan)), float(r.get("ci_high", math.nan)),
                        int(r["n"]) if "n" in r and pd.notna(r["n"]) else None)
    if kind == "lowest":
        _, est, crit = args
        taus = table[(table["criterion"] == crit) & table["k"].isna()].set_index("estimator")["value"]
        if est not in taus:
            return None
        worst = taus.idxmin()
        return KitValue(float(worst == est), detail=f"lowest {crit}: {worst} ({taus.min():.3f}); {est} {taus[est]:.3f}",
                        n=len(taus))
    if kind == "not_better":
        _, est, crit, experts = args
        rows = table[(table["criterion"] == crit) & table["k"].isna()].set_index("estimator")
        experts = [e for e in experts.split(",") if e in rows.index]
        if est not in rows.index or not experts:
            return None
        best = rows.loc[experts, "value"].idxmax()
        ceiling = rows.loc[best, "ci_high"] if "ci_high" in rows.columns and pd.notna(rows.loc[best, "ci_high"]) \
            else rows.loc[best, "value"]
        v = rows.loc[est, "value"]
        return KitValue(float(v <= ceiling), detail=f"{est} {v:.3f}, best expert {best} {rows.loc[best, 'value']:.3f} "
                                                    f"(upper bound {ceiling:.3f})")
    if kind == "pruning_delta":
        keep = float(args[1])
        sel = table[np.isclose(table["keep_fraction"].astype(float), keep)].set_index("stage")["kendall_tau_b"]
        if not {"before", "after"} <= set(sel.index):
            return None
        return KitValue(float(sel["after"] - sel["before"]), detail="τ after − τ before fine-tuning")
    if kind == "op_bias":
        _, over, under = args
        frame = table[table["estimator"].astype(str).str.startswith("os_")] if "estimator" in table else table
        mean = lambda op: np.average(frame.loc[frame["to_op"] == op, "bias"],  # noqa: E731
                                     weights=frame.loc[frame["to_op"] == op, "n_pairs"])
        if not ((frame["to_op"] == over).any() and (frame["to_op"] == under).any()):
            return None
        a, b = mean(over), mean(under)
        return KitValue(float(a > 0 > b), detail=f"mean bias of mutations to {over} {a:+.3f}, to {under} {b:+.3f}")
    if kind == "batches_gain":
        last = table[table["epoch"] == table["epoch"].max()].sort_values("batches")
        if len(last) < 2:
            return None
        gain = last["kendall_tau_b"].iloc[-1] - last["kendall_tau_b"].iloc[0]
        return KitValue(float(gain > 0), detail=f"τ {int(last['batches'].iloc[-1])} batches − "
                                                f"{int(last['batches'].iloc[0])} batch(es) = {gain:+.3f} at epoch "
                                                f"{int(last['epoch'].iloc[0])}")
    if kind == "falls":
        crit = args[1]
        sel = table[(table["criterion"] == crit) & table["k"].isna()]
        first, last = sel["epoch"].min(), sel["epoch"].max()
        a = sel[sel["epoch"] == first].set_index("estimator")["value"]
        b = sel[sel["epoch"] == last].set_index("estimator")["value"].reindex(a.index)
        falls = int((b < a).sum())
        return KitValue(float(falls > len(a) / 2), detail=f"{falls} of {len(a)} estimators fall from epoch {first} to {last}")
    raise ValueError(f"unknown key kind {kind!r} in {key!r}")


def reproduction_table(published: pd.DataFrame, tables: dict, context: dict) -> pd.DataFrame:
    """Per published row: published, the kit's value [interval], n, verdict, reason, source."""
    out = []
    for _, row in published.iterrows():
        kit = kit_value(row["key"], tables)
        verdict, reason = judge(row, kit, context)
        if kit is None or not np.isfinite(kit.value):
            shown = ""
        elif not np.isfinite(row["published"]):
            shown = "holds" if kit.value >= 0.5 else "does not hold"
        else:  # in the study's unit: a percentage where it gives one
            pct = str(row["published_text"]).strip().endswith("%")
            fmt = (lambda v: f"{v * 100:.3g} %") if pct else (lambda v: f"{v:.3g}")  # noqa: E731
            shown = fmt(kit.value) + (f" [{fmt(kit.low)}, {fmt(kit.high)}]" if np.isfinite(kit.low) else "")
        out.append({"id": row["id"], "rq": row["rq"], "benchmark": row["benchmark"], "setting": row["setting"],
                    "criterion": row["criterion"], "published": row["published_text"], "kit": shown,
                    "n": (kit.n if kit is not None and kit.n is not None else context.get("n")),
                    "verdict": verdict, "reason": reason, "source": row["source"]})
    return pd.DataFrame(out)


def summary(frames) -> pd.DataFrame:
    """Count of verdicts per notebook, from the per-notebook tables."""
    frame = pd.concat(list(frames), ignore_index=True) if frames else pd.DataFrame(columns=["rq", "verdict"])
    counts = frame.groupby(["rq", "verdict"]).size().unstack(fill_value=0)
    return counts.reindex(columns=[v for v in VERDICTS if v in counts.columns]).reset_index()


def markdown_section(frames, profile: str) -> str:
    """'What reproduces, what does not yet', generated from the per-notebook tables."""
    frame = pd.concat(list(frames), ignore_index=True) if frames else pd.DataFrame()
    lines = [f"## What reproduces, what does not yet (profile `{profile}`)", ""]
    if frame.empty:
        return "\n".join(lines + ["No comparison with the study's published numbers was written in this run.", ""])
    counts = frame["verdict"].value_counts()
    lines.append("Of the study's published numbers: " + ", ".join(
        f"**{counts[v]} {v}**" for v in VERDICTS if v in counts) + ".")
    lines.append("")
    for verdict in VERDICTS:
        part = frame[frame["verdict"] == verdict]
        if part.empty:
            continue
        if verdict in (NOT_COMPARABLE, NOT_CHECKED):  # one line per reason: the why matters, not the list
            for reason, rows in part.groupby("reason", sort=False):
                lines.append(f"- **{verdict}** ({reason}): " + "; ".join(
                    f"{r.setting} — {r.criterion}" for r in rows.itertuples()))
            continue
        lines.append(f"- **{verdict}**: " + "; ".join(
            f"{r.setting} — {r.criterion} (study {r.published}" + (f", kit {r.kit}" if r.kit else "") + ")"
            + (f": {r.reason}" if verdict == DIFFERS and r.reason else "")
            for r in part.itertuples()))
    return "\n".join(lines + [""])


def section_markdown(ids, tables: dict, context: dict) -> str:
    """The study's numbers for one notebook section, as short lines a reader can follow:
    what the study found (value, source), what the kit finds (value [interval], n), the verdict
    and why. `ids`: rows of published.csv (their `id`)."""
    pub = load_published()
    pub = pub[pub["id"].isin(list(ids))]
    if pub.empty:
        return ""
    table = reproduction_table(pub, tables, context)
    lines = []
    for r in table.itertuples():
        kit = f"{r.kit}" if r.kit else "not computed"
        n = f", n = {int(r.n)}" if r.n not in (None, "") and pd.notna(r.n) else ""
        lines.append(f"- **{r.setting}**, {r.criterion} — study: **{r.published}** ({r.source}); kit: **{kit}**{n}; "
                     f"verdict: **{r.verdict}** ({r.reason}).")
    return "**The study beside the kit**\n\n" + "\n".join(lines)


def study_value(row_id: str) -> str:
    """The study's published value of one row, with its source, for a sentence."""
    pub = load_published().set_index("id")
    r = pub.loc[row_id]
    return f"{r['published_text']} ({r['source']})"
