"""A sentence-transformers model exported once to ONNX, then run by ONNX Runtime."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from models.embedders.base import l2_normalise, resolve_model_path
from models.embedders.sentence_transformer import SentenceTransformerEmbedder

log = logging.getLogger(__name__)


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
