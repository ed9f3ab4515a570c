import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_core import criteria as C
from nas_core.engines.evaluate import deiso_aggregate, evaluate, format_table
from nas_core.errors import BadData, BadParameter

M = 200


@pytest.fixture()
def truth_frame():
    """Ground-truth frame shaped like load_ground_truth's: 200 archs, classes of 2."""
    rng = np.random.default_rng(0)
    index = np.arange(M)
    return pd.DataFrame({"index": index, "arch_str": [f"a{i}" for i in index], "iso_class": index // 2,
                         "iso_representative": index % 2 == 0,
                         "cifar10_test_acc_200ep": rng.uniform(10, 94, M).round(2),
                         "cifar100_test_acc_200ep": rng.uniform(1, 73, M).round(2)})


@pytest.fixture()
def scores(truth_frame):
    rng = np.random.default_rng(1)
    acc = truth_frame["cifar10_test_acc_200ep"].to_numpy()
    return pd.DataFrame({"index": truth_frame["index"], "good": acc + rng.normal(0, 5, M),
                         "loss": -acc + rng.normal(0, 5, M), "noise": rng.normal(size=M)})


def _truth(frame):
    return frame.set_index("index")["cifar10_test_acc_200ep"]


def _value(table, estimator, criterion, k=np.nan):
    sel = (table.estimator == estimator) & (table.criterion == criterion)
    sel &= table.k.isna() if np.isnan(k) else np.isclose(table.k, k)
    assert sel.sum() == 1
    return table.loc[sel, "value"].iloc[0]


def test_evaluate_table_shape_and_values(scores, truth_frame):
    table = evaluate(scores, _truth(truth_frame))
    assert list(table.columns) == ["estimator", "criterion", "k", "value", "n", "n_invalid", "invalid_policy"]
    assert table.estimator.unique().tolist() == ["good", "loss", "noise"]
    per = C.compute_all(scores["good"], truth_frame["cifar10_test_acc_200ep"])
    np.testing.assert_allclose(table[table.estimator == "good"].value, per.value)
    ref = stats.kendalltau(scores["good"], truth_frame["cifar10_test_acc_200ep"]).statistic
    assert _value(table, "good", "kendall_tau_b") == pytest.approx(ref)
    assert (table.n == M).all() and (table.invalid_policy == "worst").all()


def test_evaluate_aligns_by_index_not_by_row(scores, truth_frame):
    shuffled = scores.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(evaluate(shuffled, _truth(truth_frame)), evaluate(scores, _truth(truth_frame)))
    # a subset of the truth is fine: M is the number scored
    sub = evaluate(scores.iloc[:50], _truth(truth_frame), estimators=["good"])
    assert (sub.n == 50).all()


def test_negate_is_explicit(scores, truth_frame):
    plain = evaluate(scores, _truth(truth_frame), estimators=["loss"])
    flipped = evaluate(scores, _truth(truth_frame), estimators=["loss"], negate=["loss"])
    assert _value(plain, "loss", "kendall_tau_b") < -0.5  # never guessed: a raw loss ranks backwards
    assert _value(flipped, "loss", "kendall_tau_b") == pytest.approx(-_value(plain, "loss", "kendall_tau_b"))
    with pytest.raises(BadParameter, match="negate"):
        evaluate(scores, _truth(truth_frame), estimators=["good"], negate=["loss"])


def test_id_errors(scores, truth_frame):
    truth = _truth(truth_frame)
    dup = pd.concat([scores, scores.iloc[[3, 5]]])
    with pytest.raises(BadData, match=r"duplicate index values in scores: \[3, 5\]"):
        evaluate(dup, truth)
    unknown = scores.copy()
    unknown.loc[:6, "index"] = [1000, 1001, 1002, 1003, 1004, 1005, 1006]
    with pytest.raises(BadData, match=r"index values not in ground truth: \[1000, 1001, 1002, 1003, 1004\]"):
        evaluate(unknown, truth)
    with pytest.raises(BadData, match="no 'index' column"):
        evaluate(scores.drop(columns="index"), truth)
    with pytest.raises(BadParameter, match="not in scores"):
        evaluate(scores, truth, estimators=["good", "synflow"])
    with pytest.raises(BadData, match="not numeric"):
        evaluate(scores.assign(txt="x"), truth)
    nan_truth = truth.copy()
    nan_truth.iloc[7] = np.nan
    with pytest.raises(BadData, match="ground truth is NaN"):
        evaluate(scores, nan_truth)


def test_invalid_policies_reported(scores, truth_frame):
    bad = scores.copy()
    bad.loc[[0, 1, 2], "good"] = [np.nan, np.inf, -np.inf]
    worst = evaluate(bad, _truth(truth_frame), estimators=["good"])
    drop = evaluate(bad, _truth(truth_frame), estimators=["good"], invalid="drop")
    assert (worst.n_invalid == 3).all() and (worst.n == M).all() and (worst.invalid_policy == "worst").all()
    assert (drop.n_invalid == 3).all() and (drop.n == M - 3).all() and (drop.invalid_policy == "drop").all()
    assert np.isnan(_value(worst, "good", "pearson")) and not np.isnan(_value(drop, "good", "pearson"))
    kept = scores.loc[3:, "good"]
    ref = stats.kendalltau(kept, truth_frame["cifar10_test_acc_200ep"][3:]).statistic
    assert _value(drop, "good", "kendall_tau_b") == pytest.approx(ref)
    with pytest.raises(BadParameter):
        evaluate(bad, _truth(truth_frame), invalid="skip")


def test_bootstrap_columns(scores, truth_frame):
    table = evaluate(scores, _truth(truth_frame), estimators=["good", "noise"], bootstrap=100, seed=0)
    assert {"ci_low", "ci_high"} <= set(table.columns)
    tau = table[table.criterion == "kendall_tau_b"]
    assert (tau.ci_low <= tau.value).all() and (tau.value <= tau.ci_high).all()
    good, noise = tau.set_index("estimator").loc["good"], tau.set_index("estimator").loc["noise"]
    assert noise.ci_low < 0.2 < good.ci_low  # the informative estimator is clearly separated


def test_deiso_aggregate():
    scores = pd.DataFrame({"index": [0, 1, 2, 3, 5], "s": [1.0, 3.0, 5.0, np.nan, 7.0]})
    truth = pd.Series([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], index=pd.Index(range(6), name="index"))
    iso = pd.Series([0, 0, 1, 1, 2, 2], index=range(6))
    agg, t = deiso_aggregate(scores, truth, iso)
    # class 0 (idx 0,1): mean(1, 3) = 2; class 1 (2,3): a NaN member keeps it invalid;
    # class 2: only idx 5 scored -> 7, labelled by its representative (smallest index) 4
    assert agg["index"].tolist() == [0, 2, 4]
    assert agg["s"].tolist()[0] == 2.0 and np.isnan(agg["s"].tolist()[1]) and agg["s"].tolist()[2] == 7.0
    # truth averages all members: (10+20)/2, (30+40)/2, (50+60)/2
    assert t.to_dict() == {0: 15.0, 2: 35.0, 4: 55.0}
    with pytest.raises(BadData, match="without an isomorphism class"):
        deiso_aggregate(scores, truth, iso.iloc[:4])
    table = evaluate(agg, t)
    assert (table.n == 3).all() and (table.n_invalid == 1).all()


def test_format_table(scores, truth_frame):
    text = format_table(evaluate(scores, _truth(truth_frame)))
    lines = text.splitlines()
    assert "kendall_tau_b" in lines[0] and "p_at_top@5%" in lines[0] and "br_at_k@0.5%" in lines[0]
    assert lines[1].split()[0] == "good" and len(lines) == 4


def test_evaluate_speed_smoke():
    # 15,625 archs x 3 estimators (the full 20 is in benchmarks/bench_criteria.py)
    rng = np.random.default_rng(2)
    idx = np.arange(15625)
    truth = pd.Series(rng.normal(size=idx.size).round(2), index=idx)
    frame = pd.DataFrame({"index": idx, **{f"e{i}": rng.normal(size=idx.size) for i in range(3)}})
    table = evaluate(frame, truth)
    assert len(table) == 3 * len(C.compute_all(frame["e0"], truth))


# ---- CLI --------------------------------------------------------------------------------------

@pytest.fixture()
def fake_truth(monkeypatch, truth_frame):
    import nas_core.data.groundtruth as gt

    calls = []

    def load(benchmark="nb201", data_root=None):
        calls.append((benchmark, data_root))
        return truth_frame.copy()
    monkeypatch.setattr(gt, "load_ground_truth", load)
    return calls


def test_cli_wide_csv(tmp_path, scores, fake_truth, capsys):
    from nas_core.cli import main

    path, out = tmp_path / "scores.csv", tmp_path / "eval.csv"
    scores.to_csv(path, index=False)
    rc = main(["evaluate", "--scores", str(path), "--benchmark", "nb201", "--dataset", "cifar10",
               "--metric", "test_acc_200ep", "--out", str(out), "--data-root", str(tmp_path),
               "--negate", "loss", "--truth", "raw"])
    assert rc == 0 and [(b, str(r)) for b, r in fake_truth] == [("nb201", str(tmp_path.resolve()))]
    table = pd.read_csv(out)
    assert list(table.columns[:4]) == ["estimator", "criterion", "k", "value"]
    assert set(table.criterion) == set(C.CRITERIA) and "n_invalid" in table.columns
    assert table.loc[table.criterion == "kendall_tau_b", "k"].isna().all()
    tau = table[table.criterion == "kendall_tau_b"].set_index("estimator")["value"]
    assert tau["loss"] > 0.5  # negated
    printed = capsys.readouterr().out
    assert "cifar10_test_acc_200ep" in printed and "negated: loss" in printed and "p_at_top@5%" in printed


def test_cli_long_parquet_matches_wide(tmp_path, scores, fake_truth):
    from nas_core.cli import main

    # two seeds x two batches whose mean is the wide score
    long = []
    for seed, batch, delta in [(0, 0, -1.0), (0, 1, 1.0), (1, 0, 2.0), (1, 1, -2.0)]:
        part = scores.melt(id_vars="index", var_name="proxy", value_name="value")
        long.append(part.assign(seed=seed, batch=batch, value=part.value + delta))
    pd.concat(long).to_parquet(tmp_path / "long.parquet", index=False)
    scores.to_csv(tmp_path / "wide.csv", index=False)
    for name in ("long.parquet", "wide.csv"):
        assert main(["evaluate", "--scores", str(tmp_path / name), "--out", str(tmp_path / f"{name}.csv"),
                     "--benchmark", "nb201", "--data-root", str(tmp_path)]) == 0
    a, b = pd.read_csv(tmp_path / "long.parquet.csv"), pd.read_csv(tmp_path / "wide.csv.csv")
    a = a.sort_values(["estimator", "criterion", "k"]).reset_index(drop=True)
    b = b.sort_values(["estimator", "criterion", "k"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)


def test_cli_errors(tmp_path, scores, fake_truth, capsys):
    from nas_core.cli import main

    path = tmp_path / "scores.csv"
    scores.to_csv(path, index=False)
    nb201 = ["--benchmark", "nb201", "--data-root", str(tmp_path)]
    assert main(["evaluate", "--scores", str(path), "--metric", "valid_acc", *nb201]) == 2
    err = capsys.readouterr().err
    assert "cifar10_valid_acc" in err and "cifar100_test_acc_200ep" in err  # lists what exists
    long = scores.melt(id_vars="index", var_name="proxy", value_name="value").assign(checkpoint=1)
    long.loc[:5, "checkpoint"] = 2
    long.to_csv(tmp_path / "long.csv", index=False)
    assert main(["evaluate", "--scores", str(tmp_path / "long.csv"), *nb201]) == 2
    assert "checkpoint" in capsys.readouterr().err
    assert main(["evaluate", "--scores", str(tmp_path / "missing.csv")]) == 2


def test_cli_deiso_and_bootstrap(tmp_path, scores, fake_truth):
    from nas_core.cli import main

    path, out = tmp_path / "scores.csv", tmp_path / "eval.csv"
    scores.to_csv(path, index=False)
    assert main(["evaluate", "--scores", str(path), "--deiso", "--bootstrap", "20", "--out", str(out),
                 "--benchmark", "nb201", "--data-root", str(tmp_path)]) == 0
    table = pd.read_csv(out)
    assert (table.n == M // 2).all()  # classes of two
    assert table[["ci_low", "ci_high"]].notna().any().all()


def test_cli_params_tau_matches_scipy_on_real_benchmark(tmp_path, nb201_truth, data_root):
    """Issue 4's acceptance check: #params from the kit's own space export, evaluated by the CLI,
    gives the same Kendall tau as scipy on the real CIFAR-10 ground truth."""
    from nas_core.cli import main as cli_main
    from nas_core.cli.space import space_frame

    space = space_frame(nb201_truth["arch_str"].tolist(), nb201_truth["index"].to_numpy())
    scores = tmp_path / "params.csv"
    space[["index", "params_M_cifar10"]].rename(columns={"params_M_cifar10": "params"}).to_csv(scores, index=False)
    out = tmp_path / "crit.csv"
    assert cli_main(["evaluate", "--scores", str(scores), "--benchmark", "nb201", "--dataset", "cifar10",
                     "--metric", "test_acc_200ep", "--data-root", str(data_root), "--truth", "raw", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    got = table[(table["estimator"] == "params") & (table["criterion"] == "kendall_tau_b")]["value"].item()
    ref = stats.kendalltau(space["params_M_cifar10"], nb201_truth["cifar10_test_acc_200ep"]).statistic
    assert got == pytest.approx(ref, abs=1e-12)
    assert 0.5 < ref < 0.7  # #params is a strong baseline on NB201 CIFAR-10
    # the default truth is the study's: each architecture carries its isomorphism class's mean
    assert cli_main(["evaluate", "--scores", str(scores), "--data-root", str(data_root), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    got = table[(table["estimator"] == "params") & (table["criterion"] == "kendall_tau_b")]["value"].item()
    means = nb201_truth.groupby("iso_class")["cifar10_test_acc_200ep"].transform("mean")
    assert got == pytest.approx(stats.kendalltau(space["params_M_cifar10"], means).statistic, abs=1e-12)


def test_per_batch_supernet_scores_are_averaged_and_checkpoints_never_mixed(tmp_path):
    from nas_core.cli.evaluate import read_scores

    rows = pd.DataFrame({"index": [3, 3, 1, 1], "arch_str": "x", "epoch": 5, "batch": [0, 1, 0, 1],
                         "os_acc": [50.0, 60.0, 10.0, np.nan], "os_loss": [1.0, 2.0, 3.0, 5.0]})
    path = tmp_path / "os.csv"
    rows.to_csv(path, index=False)
    wide = read_scores(path).set_index("index")
    assert wide.loc[3, "os_acc"] == 55.0 and wide.loc[1, "os_loss"] == 4.0
    assert np.isnan(wide.loc[1, "os_acc"])  # an invalid batch is not averaged away
    rows.assign(epoch=[5, 10, 5, 10]).to_csv(path, index=False)
    with pytest.raises(BadData, match="several values"):
        read_scores(path)
