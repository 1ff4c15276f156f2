"""Root conftest: hermetic environment for every test in the monorepo."""

import os

# Set before any test module imports transformers / haystack / huggingface_hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
for _name in ("JINA_API_KEY", "JINAAI_API_KEY"):
    os.environ.pop(_name, None)  # tests pass keys explicitly; a developer's real key never leaks in

pytest_plugins = ["jina_testkit.pytest_plugin", "jina_testkit.model_fixtures"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_calibration_registry() -> None:
    """int8/uint8 ranges learned in one test must not reach the next (they are shared per process)."""
    from jina_embeddings import _calibration

    _calibration._ranges.clear()
