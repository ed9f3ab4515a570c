"""nas_core: the engines behind the efficient-estimator study kit (see README.md).

`nas_core.score(net, x, y, proxies)` scores any PyTorch module with the zero-shot proxies
(docs/zeroshot.md); it is imported on first use so `import nas_core` stays light.
"""
__version__ = "0.1.0"


def __getattr__(name):
    if name == "score":
        from nas_core.proxies.api import score

        return score
    raise AttributeError(f"module 'nas_core' has no attribute {name!r}")
