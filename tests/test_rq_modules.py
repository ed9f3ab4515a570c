"""The study's core and its per-RQ modules (engines/rq1.py .. rq5.py): the core imports none of
them, every analysis job of the compute stage names a function that exists, and every call the
notebooks make (`rqN.f(study, ...)`, `study.attr`) exists with a signature that accepts it."""
import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RQS = ("rq1", "rq2", "rq3", "rq4", "rq5")
SOURCES = sorted((ROOT / "notebooks" / "src").glob("*.py"))


def _study_attributes() -> set:
    """Study's methods and properties, and the attributes its __init__ assigns."""
    from nas_core.engines.study import Study

    tree = ast.parse(inspect.getsource(Study.__init__).strip())
    assigned = {t.attr for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"}
    return set(dir(Study)) | assigned


def test_the_core_imports_no_rq_module():
    tree = ast.parse((ROOT / "nas_core" / "engines" / "study.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported |= {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert not [m for m in imported if m.rsplit(".", 1)[-1] in RQS]


def test_every_analysis_job_names_an_rq_function(monkeypatch, tmp_path):
    from nas_core.engines import jobs
    from nas_core.engines.study import Study

    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path))
    study = Study("smoke", device="cpu")
    called = {dict(j.args)["method"] for j in jobs.build_jobs(study) if j.action == "call"}
    analyses = jobs.analyses()
    # the collect jobs read the study's own cached calls; every other name is an RQ function
    assert called - set(analyses) == {"zs_scores", "os_scores"}
    assert set(analyses) <= called  # no stale name: the smoke profile on the mini benchmark runs them all
    for name, f in analyses.items():
        assert f.__module__ in {f"nas_core.engines.{rq}" for rq in RQS} and f.__name__ == name
        assert next(iter(inspect.signature(f).parameters)) == "study"


def _calls(tree):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in RQS):
            yield node.func.value.id, node.func.attr, node


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_calls_exist_with_their_signature(source):
    tree = ast.parse(source.read_text())
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "nas_core.engines" for a in node.names}
    for rq, name, call in _calls(tree):
        assert rq in imported, f"{source.name}: {rq}.{name} without `from nas_core.engines import {rq}`"
        f = getattr(importlib.import_module(f"nas_core.engines.{rq}"), name, None)
        assert callable(f), f"{source.name}: {rq}.{name} does not exist"
        sig = inspect.signature(f)
        sig.bind(*[None] * len(call.args), **{k.arg: None for k in call.keywords})  # raises if it cannot
        if "study" in sig.parameters:
            assert call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == "study", \
                f"{source.name}: {rq}.{name} takes the study first"
    attrs = _study_attributes()
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "study"}
    assert used <= attrs, f"{source.name}: study has no {sorted(used - attrs)}"
