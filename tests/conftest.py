"""Shared fixtures. Tests that need the real benchmark files use `nb201_truth` / `data_root`,
which skip cleanly when NAS_CORE_DATA is not set (CI sets it to the shared data folder beside the clone)."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # every test writes its cache in a private folder, never in the user's .cache
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def _data_root_restored():
    # entry points publish the data root they resolved (config.use_data_root sets NAS_CORE_DATA
    # for the engines and worker processes): a test calling one in-process must not leave its
    # temporary root to the tests after it
    before = os.environ.get("NAS_CORE_DATA")
    yield
    if before is None:
        os.environ.pop("NAS_CORE_DATA", None)
    else:
        os.environ["NAS_CORE_DATA"] = before


@pytest.fixture(scope="session")
def data_root():
    root = os.environ.get("NAS_CORE_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("NAS_CORE_DATA is not set: real-data test skipped")
    return Path(root)


@pytest.fixture(scope="session")
def nb201_truth(data_root):
    from nas_core.data.groundtruth import load_ground_truth

    return load_ground_truth("nb201", data_root)


@pytest.fixture(scope="session")
def nb201_raw_table(data_root):
    """The compact table as written on disk (with its own iso_class column)."""
    import pandas as pd

    path = data_root / "nasbench201" / "nb201_ground_truth.csv"
    if not path.is_file():
        pytest.skip("compact NB201 table not present")
    return pd.read_csv(path)
