"""Option parity: every adapter takes the core's options, by the core's names, with its defaults,
and refuses a bad value at construction exactly as the core does.

An adapter module instantiates :class:`OptionParityContract` once per adapter class with
``make(**options)`` (build the adapter offline), ``names()`` (its option names -> defaults),
``renames`` (core name -> the framework's word) and ``framework_defaults`` (the few defaults
that follow the framework's own convention, each with its reason in the adapter's source).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from jina_embeddings import InvalidInputError
from jina_embeddings.integration import option_specs

#: (option, bad value) pairs the core refuses at construction, whatever the backend.
BAD_VALUES: dict[str, list[tuple[str, Any]]] = {
    "embedding": [
        ("precision", "int4"),
        ("dimensions", 0),
        ("timeout", -1.0),
        ("max_retries", 99),
        ("dtype", "float8"),
        ("batch_size", 5000),
    ],
    "reranker": [("top_n", 0), ("timeout", -1.0), ("max_concurrency", 0), ("dtype", "float8")],
    "multivector": [("precision", "int8"), ("dimensions", 32), ("timeout", -1.0), ("dtype", "float8")],
}


class OptionParityContract:
    kind: ClassVar[str]
    #: options the adapter leaves out on purpose (e.g. batch_size for a single-query component)
    excluded: ClassVar[tuple[str, ...]] = ()
    renames: ClassVar[Mapping[str, str]] = {}
    framework_defaults: ClassVar[Mapping[str, Any]] = {}

    def make(self, **options: Any) -> Any:
        raise NotImplementedError

    def defaults(self) -> Mapping[str, Any]:
        """The adapter's option names (its own words) -> defaults."""
        raise NotImplementedError

    def test_same_names(self) -> None:
        core = {
            self.renames.get(o.name, o.name)
            for o in option_specs(self.kind)  # type: ignore[arg-type]
            if o.name not in self.excluded
        }
        missing = core - set(self.defaults())
        assert not missing, f"core options missing from the adapter: {sorted(missing)}"

    def test_same_defaults(self) -> None:
        theirs = self.defaults()
        for option in option_specs(self.kind):  # type: ignore[arg-type]
            if option.name in self.excluded:
                continue
            name = self.renames.get(option.name, option.name)
            expected = self.framework_defaults.get(option.name, option.default)
            assert theirs[name] == expected, (
                f"{name}: adapter default {theirs[name]!r}, expected {expected!r}"
            )

    def test_same_validation_at_construction(self) -> None:
        cases = [c for c in BAD_VALUES[self.kind] if c[0] not in self.excluded]
        assert len(cases) >= 3
        for option, value in cases:
            with pytest.raises(InvalidInputError) as core:
                make_core(self.kind, **{option: value})
            name = self.renames.get(option, option)
            with pytest.raises(InvalidInputError) as adapter:
                self.make(**{name: value})
            # the same error, in the framework's words where it renames the option
            assert core.value.field == option, option
            assert adapter.value.field == name, option
            assert str(adapter.value) == str(core.value).replace(option, name), option


def make_core(kind: str, **options: Any) -> Any:
    """The core object with ``options`` (values are checked before the backend is looked at)."""
    from jina_embeddings import Embedder, MultiVectorEmbedder, Reranker

    if kind == "multivector":  # no fake multi-vector backend: local builds without loading anything
        return MultiVectorEmbedder("jina-colbert-v2", backend="local", **options)
    cls: Callable[..., Any] = Embedder if kind == "embedding" else Reranker
    return cls(backend="fake", **options)
