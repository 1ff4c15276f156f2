"""Fixtures for the LlamaIndex adapter tests: a small labelled corpus and event capture.

The model fixtures (``minilm_path``, ``tiny_reranker_path``) and the loopback API server
(``fake_jina_server``, ``fake_jina_server_factory``) come from the shared test kit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import llama_index.core.instrumentation as instrument
import pytest
from llama_index.core import Document
from llama_index.core.instrumentation.event_handlers import BaseEventHandler

# Twelve documents on distinct topics; each query below paraphrases exactly one of them.
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


@pytest.fixture
def corpus() -> dict[str, str]:
    """topic -> text, twelve distinct topics."""
    return dict(CORPUS)


@pytest.fixture
def queries() -> dict[str, str]:
    """query -> the topic of the one document that answers it."""
    return dict(QUERIES)


@pytest.fixture
def documents() -> list[Document]:
    """The corpus as LlamaIndex documents, ``doc_id`` = topic, ``metadata["topic"]`` too."""
    return [Document(text=text, doc_id=key, metadata={"topic": key}) for key, text in CORPUS.items()]


class EventLog(BaseEventHandler):
    """Records every instrumentation event (``BaseEventHandler`` is a pydantic model)."""

    events: list[Any] = []

    @classmethod
    def class_name(cls) -> str:
        return "EventLog"

    def handle(self, event: Any, **kwargs: Any) -> None:
        self.events.append(event)

    def named(self, name: str) -> list[Any]:
        return [e for e in self.events if e.class_name() == name]


@pytest.fixture
def event_log() -> Iterator[EventLog]:
    """Instrumentation events seen by the root dispatcher during the test."""
    root = instrument.get_dispatcher()
    log = EventLog(events=[])
    root.add_event_handler(log)
    try:
        yield log
    finally:
        root.event_handlers = [h for h in root.event_handlers if h is not log]
