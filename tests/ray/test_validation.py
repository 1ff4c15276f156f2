"""Bad options fail at the ``embed_dataset`` call, with the core's typed error, before any actor starts.

``embed_dataset`` returns a lazy Dataset, so an error raised by the call itself means no
actor was created and no batch ran; where a server is configured, it got no request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jina_embeddings import InvalidInputError, ModelNotFoundError
from jina_embeddings.ray import RayEmbedConfig, embed_config, embed_dataset
from jina_testkit.fake_api import FakeJinaServer

V5 = "jina-embeddings-v5-text-small"

CASES: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"precision": "int4"}, InvalidInputError, "precision"),
    ({"dimensions": 100}, InvalidInputError, "dimensions"),
    ({"task": "summarization"}, InvalidInputError, "task"),
    ({"batch_size": 0}, InvalidInputError, "batch_size"),
    ({"precision": "int8"}, InvalidInputError, "quantization_ranges"),
    (
        {"late_chunking": True, "backend": "api", "api_key": "k", "model": "jina-embeddings-v3"},
        InvalidInputError,
        "late_chunking",
    ),
    ({"device": "gpu"}, InvalidInputError, "device"),
    ({"dtype": "int8"}, InvalidInputError, "dtype"),
    ({"timeout": 5.0}, InvalidInputError, "timeout"),  # a remote option on the local backend
    ({"num_actors": 0}, InvalidInputError, "num_actors"),
    ({"num_actors": (3, 2)}, InvalidInputError, "num_actors"),
    ({"num_cpus_per_actor": 0}, InvalidInputError, "num_cpus_per_actor"),
    ({"num_gpus_per_actor": -1}, InvalidInputError, "num_gpus_per_actor"),
    ({"rows_per_batch": 0}, InvalidInputError, "rows_per_batch"),
    ({"role": "passage"}, InvalidInputError, "role"),
    ({"vector_type": "numpy"}, InvalidInputError, "vector_type"),
    ({"column": "body"}, InvalidInputError, "column"),
    ({"id_column": "doc_id"}, InvalidInputError, "id_column"),
    ({"output_column": "n"}, InvalidInputError, "output_column"),
    ({"ray_remote_args": {"num_gpus": 1}}, InvalidInputError, "ray_remote_args"),
    ({"model": "no-such-model-anywhere"}, ModelNotFoundError, "model"),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "field"), CASES, ids=[c[2] + str(i) for i, c in enumerate(CASES)]
)
def test_refused_at_the_call(
    local_ray: Any, helpers: Any, kwargs: dict[str, Any], error: type, field: str
) -> None:
    ds = helpers.dataset(["a b", "c d"], blocks=1)
    kwargs = {"model": V5, "backend": "fake", **kwargs}
    with pytest.raises(error) as info:
        embed_dataset(ds, **kwargs)
    if field != "model":
        assert getattr(info.value, "field", None) == field, info.value


def test_an_unknown_option_is_a_type_error(local_ray: Any, helpers: Any) -> None:
    with pytest.raises(TypeError, match="dimension"):
        embed_dataset(helpers.dataset(["a"], blocks=1), model=V5, backend="fake", dimension=256)  # type: ignore[call-arg]


def test_int8_with_given_ranges_is_accepted(local_ray: Any, helpers: Any) -> None:
    ranges = np.stack([np.full(64, -0.5, np.float32), np.full(64, 0.5, np.float32)])
    out = embed_dataset(
        helpers.dataset(["a b", "c d"], blocks=1), model=V5, backend="fake", dimensions=64,
        precision="int8", quantization_ranges=ranges,
    )  # fmt: skip
    assert out is not None  # lazy: accepted, nothing ran


def test_remote_misconfiguration_sends_nothing(local_ray: Any, helpers: Any) -> None:
    with FakeJinaServer(api_key="jina_test") as srv:
        ds = helpers.dataset(["a b", "c d"], blocks=1)
        for bad in ({"dimensions": 5000}, {"max_concurrency": 0}, {"device": "cpu"}):
            with pytest.raises(InvalidInputError):
                embed_dataset(ds, model=V5, backend="api", api_key="jina_test", base_url=srv.base_url, **bad)
        assert srv.requests == []


def test_the_hosted_api_without_a_key_is_refused(local_ray: Any, helpers: Any) -> None:
    with pytest.raises(InvalidInputError, match="(?i)key") as info:
        embed_dataset(helpers.dataset(["a"], blocks=1), model=V5, backend="api")
    assert info.value.field == "api_key"


def test_the_input_dataset_and_global_context_keep_their_settings(local_ray: Any, helpers: Any) -> None:
    import ray.data

    ds = helpers.dataset(["a b", "c d"], blocks=1)
    out = embed_dataset(ds, model=V5, backend="fake")
    assert out.context.execution_options.preserve_order is True
    assert ds.context.execution_options.preserve_order is False
    assert ray.data.DataContext.get_current().execution_options.preserve_order is False


def test_the_config_shows_no_key_and_the_backend_the_driver_chose(local_ray: Any) -> None:
    with FakeJinaServer(api_key="jina_test") as srv:
        cfg = embed_config(model=V5, api_key="jina_test_secret_key", base_url=srv.base_url)
    assert isinstance(cfg, RayEmbedConfig)
    assert cfg.backend == "api"  # backend=None chose it on the driver; actors use it explicitly
    assert "jina_test_secret_key" not in repr(cfg)
