"""A local Ray (2 CPUs, no dashboard) for the whole session, and one tiny v5-shaped model.

Ray starts once (about 3 s) and is shut down at the end; every test builds its own dataset,
so actors of one test never serve another. Models are session fixtures: only the actors
load them, the test process loads them once for the in-process reference vectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("pyarrow")

V5 = "jina-embeddings-v5-text-small"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ray's own ``DataContext.get_current()`` warns about its deprecated fields: not ours."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"))


@pytest.fixture(scope="session")
def local_ray() -> Iterator[Any]:
    """``ray.init(num_cpus=2, ...)`` once; ``ray.shutdown()`` after the session."""
    if ray.is_initialized():  # started by someone else: not ours to configure or stop
        yield ray
        return
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200_000_000, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(autouse=True)
def _release_actors() -> Iterator[None]:
    """After a failed run, the pool's actors live until the exception's reference cycles are
    collected; collect now, so the next test does not wait for their CPUs."""
    yield
    import gc

    gc.collect()


@pytest.fixture(scope="session")
def tiny_v5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny random qwen3 folder laid out like a v5 repo (4 LoRA adapters, v5 prompts)."""
    pytest.importorskip("peft")
    import transformers

    from jina_testkit.tiny_models import build

    transformers.logging.set_verbosity_error()
    return build("qwen3", tmp_path_factory.mktemp("ray-tiny") / "qwen3")[0]


def corpus(n: int, *, seed: int = 0) -> list[str]:
    """``n`` distinct texts of varied length (so length-sorted batches differ from input order)."""
    import random

    rng = random.Random(seed)
    words = [
        "search",
        "vector",
        "model",
        "query",
        "document",
        "embedding",
        "retrieval",
        "index",
        "server",
        "batch",
        "token",
    ]
    return [f"{i} " + " ".join(rng.choice(words) for _ in range(1 + (i * 7) % 23)) for i in range(n)]


@pytest.fixture
def helpers() -> Any:
    """Plain helpers (test modules cannot import each other under importlib mode)."""

    class H:
        corpus = staticmethod(corpus)

        @staticmethod
        def dataset(texts: list[Any], blocks: int, **columns: list[Any]) -> Any:
            rows = [{"text": t, "n": i, **{k: v[i] for k, v in columns.items()}} for i, t in enumerate(texts)]
            return ray.data.from_items(rows, override_num_blocks=blocks)

    return H
