"""Verdicts against the study's published numbers, on hand-made rows and tables."""
import math

import numpy as np
import pandas as pd
import pytest

from nas_core.analyses import reproduction as R

CTX = {"benchmark": "nb201", "supernet_epochs": 1000, "supernet_network": "C16/N5", "zs_network": "C16/N5",
       "zs_batch_size": 128, "n": 300}


def _row(published=0.61, tolerance=0.05, requires="benchmark=nb201", caveats="", max_half_width=0.1, text="0.61"):
    return pd.Series({"published": published, "tolerance": tolerance, "requires": requires, "caveats": caveats,
                      "max_half_width": max_half_width, "published_text": text})


def test_reproduced_when_published_is_inside_the_widened_interval():
    # interval [0.50, 0.57] widened by 0.05 -> [0.45, 0.62] holds 0.61
    assert R.judge(_row(), R.KitValue(0.53, 0.50, 0.57, 300), CTX)[0] == R.REPRODUCED
    assert R.judge(_row(0.62), R.KitValue(0.53, 0.50, 0.57, 300), CTX)[0] == R.REPRODUCED  # the edge
    verdict, reason = R.judge(_row(0.63), R.KitValue(0.53, 0.50, 0.57, 300), CTX)
    assert verdict == R.DIFFERS and "outside" in reason


def test_without_an_interval_the_stated_tolerance_applies():
    row = _row(0.019, tolerance=0.005, max_half_width=math.nan)
    assert R.judge(row, R.KitValue(0.023), CTX)[0] == R.REPRODUCED
    assert R.judge(row, R.KitValue(0.025), CTX)[0] == R.DIFFERS


def test_not_comparable_says_why():
    row = _row(requires="benchmark=nb201;supernet_epochs>=1000;supernet_network=C16/N5")
    ctx = {**CTX, "supernet_epochs": 20, "supernet_network": "C8/N1"}
    verdict, reason = R.judge(row, R.KitValue(0.6, 0.55, 0.65, 300), ctx)
    assert verdict == R.NOT_COMPARABLE
    assert "supernet epochs 20, the study 1000" in reason and "C8/N1, the study C16/N5" in reason
    assert R.judge(_row(requires="benchmark=nb301"), R.KitValue(0.6), CTX)[0] == R.NOT_COMPARABLE
    # a sample too small: interval ±0.15 is wider than ±0.1
    verdict, reason = R.judge(_row(), R.KitValue(0.6, 0.45, 0.75, 50), CTX)
    assert verdict == R.NOT_COMPARABLE and "n = 50" in reason


def test_caveats_are_said_but_do_not_block_and_missing_values_are_not_checked():
    verdict, reason = R.judge(_row(caveats="zs_batch_size>=128"), R.KitValue(0.6, 0.55, 0.65), {**CTX, "zs_batch_size": 64})
    assert verdict == R.REPRODUCED and "caveat: zero-shot batch size 64" in reason
    assert R.judge(_row(), None, CTX) == (R.NOT_CHECKED, "the kit does not compute this yet")


def test_qualitative_checks_are_computed_from_the_tables():
    crit = pd.DataFrame({"estimator": ["plain", "synflow", "jacob_cov", "snip", "vote"],
                         "criterion": "kendall_tau_b", "k": np.nan, "value": [-0.4, 0.55, 0.52, 0.2, 0.50],
                         "ci_low": [-0.5, 0.5, 0.47, 0.1, 0.45], "ci_high": [-0.3, 0.6, 0.57, 0.3, 0.55], "n": 300})
    tables = {"t": crit}
    plain = R.kit_value("lowest:t:plain:kendall_tau_b", tables)
    assert plain.value == 1.0
    assert R.kit_value("lowest:t:snip:kendall_tau_b", tables).value == 0.0
    assert R.kit_value("not_better:t:vote:kendall_tau_b:jacob_cov,snip,synflow", tables).value == 1.0
    row = _row(published=np.nan, text="the worst ZSE")
    assert R.judge(row, plain, CTX)[0] == R.REPRODUCED
    assert R.judge(row, R.kit_value("lowest:t:snip:kendall_tau_b", tables), CTX)[0] == R.DIFFERS
    value = R.kit_value("value:t:synflow:kendall_tau_b", tables)
    assert (value.value, value.low, value.high, value.n) == (0.55, 0.5, 0.6, 300)
    prune = pd.DataFrame({"keep_fraction": [0.25, 0.25], "stage": ["before", "after"], "kendall_tau_b": [0.1, 0.3]})
    assert R.kit_value("pruning_delta:p:0.25", {"p": prune}).value == pytest.approx(0.2)
    assert R.kit_value("value:absent:x:kendall_tau_b", tables) is None


def test_published_data_and_the_generated_section():
    published = R.load_published()
    assert published["id"].is_unique and set(published["rq"]) <= {"rq1", "rq2", "rq3", "rq4", "rq5"}
    numeric = published[published["published"].notna()]
    assert (numeric["tolerance"] > 0).all()
    assert published.loc[published["id"] == "nb201_params_tau", "published"].item() == 0.61
    crit = pd.DataFrame({"estimator": ["params"], "criterion": "kendall_tau_b", "k": np.nan, "value": [0.59],
                         "ci_low": [0.54], "ci_high": [0.64], "n": 300})
    table = R.reproduction_table(published[published["id"] == "nb201_params_tau"], {"rq1_zse_criteria": crit}, CTX)
    assert table["verdict"].tolist() == [R.REPRODUCED] and table["kit"].item() == "0.59 [0.54, 0.64]"
    text = R.markdown_section([table], "quick")
    assert "**1 reproduced**" in text and "#params vs ground truth" in text
