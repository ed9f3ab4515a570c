"""Bring your own estimator: a proxy registered from user code, one from an entry point, and
`nas-core evaluate` on a user's CSV giving the tutorial's leaderboard row."""
import importlib.metadata
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from nas_core import proxies
from nas_core.errors import BadParameter

ROOT = Path(__file__).resolve().parents[1]


def test_register_from_user_code_and_unknown_needs(monkeypatch):
    monkeypatch.setattr(proxies, "REGISTRY", dict(proxies.REGISTRY))

    @proxies.register("my_weight_count")
    def my_weight_count(passed, context):
        return 42

    (p,) = proxies.get(["my_weight_count"])
    assert p.fn is my_weight_count and p.needs == ("grads",) and "my_weight_count" in proxies.available()
    with pytest.raises(BadParameter, match="unknown needs"):
        proxies.register("bad", needs=("telepathy",))


def test_entry_point_proxies_load_lazily(monkeypatch):
    monkeypatch.setattr(proxies, "REGISTRY", dict(proxies.REGISTRY))
    monkeypatch.setattr(proxies, "_LOADED_ENTRY_POINTS", set())
    loaded = []

    def third_party(passed, context):
        return 1

    ep = SimpleNamespace(name="third_party", value="pkg.mod:third_party", load=lambda: loaded.append(1) or third_party)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [ep] if group == "nas_core.proxies" else [])
    assert not loaded  # nothing imported before the registry is asked
    (p,) = proxies.get(["third_party"])
    assert p.fn is third_party and loaded == [1]
    proxies.available()
    assert loaded == [1]  # imported once


TUTORIAL_TABLES = [ROOT / "outputs" / d / "tables" for d in ("smoke", "smoke-mini")]


@pytest.mark.outputs
@pytest.mark.parametrize("tables", TUTORIAL_TABLES, ids=lambda t: t.parent.name)
def test_cli_evaluate_on_the_tutorials_csv_gives_its_leaderboard_row(tables, tmp_path, capsys):
    csv = tables / "tutorial_my_scores.csv"
    if not csv.is_file():
        pytest.skip(f"tutorial not executed into {tables.parent.name} yet")
    meta = json.loads((tables / "tutorial_leaderboard.csv.meta.json").read_text())
    from nas_core.cli import main
    from nas_core.reporting import leaderboard

    dataset, _, metric = meta["ground_truth"].partition("_")
    out = tmp_path / "crit.csv"
    args = ["evaluate", "--scores", str(csv), "--benchmark", meta["benchmark"], "--dataset", dataset,
            "--metric", metric, "--bootstrap", str(meta["bootstrap"]), "--out", str(out)]
    if meta["benchmark"] == "nb201" and not os.environ.get("NAS_CORE_DATA"):
        pytest.skip("needs NAS_CORE_DATA")
    assert main(args) == 0
    mine = leaderboard(pd.read_csv(out)).set_index("estimator")
    tutorial = pd.read_csv(tables / "tutorial_leaderboard.csv").set_index("estimator")
    cols = [c for c in mine.columns if c in tutorial.columns]
    pd.testing.assert_frame_equal(mine.loc[["my_score"], cols], tutorial.loc[["my_score"], cols], check_dtype=False)
