import numpy as np
import pytest

from models.vector_index import VECTORS_FILE, IndexMismatch, VectorIndex

IDS = ["a", "b", "c", "d", "e"]


def vectors() -> np.ndarray:
    v = np.array([
        [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.8, 0.6, 0.0], [0.6, 0.0, 0.8],
    ], dtype=np.float32)
    return v


def query(*values: float) -> np.ndarray:
    return np.array([values], dtype=np.float32)


@pytest.fixture
def index() -> VectorIndex:
    built = VectorIndex(3)
    built.build(IDS, vectors())
    return built


def test_search_ranks_by_inner_product(index):
    hits = index.search(query(1, 0, 0), 3)[0]
    assert [i for i, _ in hits] == ["a", "d", "e"]
    # stored as 16-bit floats: scores to about three decimals
    assert hits[0][1] == pytest.approx(1.0, abs=1e-3) and hits[1][1] == pytest.approx(0.8, abs=1e-3)


def test_filter_applies_before_the_cut(index):
    # a, d and e beat b and c for this query; with only b and c allowed both still come back.
    hits = index.search(query(1, 0, 0), 2, allowed={"b", "c"})[0]
    assert sorted(i for i, _ in hits) == ["b", "c"]
    assert index.search(query(1, 0, 0), 2, allowed=set())[0] == []


def test_add_replaces_and_delete_removes(index):
    index.add(["b"], query(1, 0, 0))
    assert index.count() == 5
    assert {i for i, _ in index.search(query(1, 0, 0), 2)[0]} == {"a", "b"}
    index.delete(["a", "zzz"])
    assert index.count() == 4
    assert [i for i, _ in index.search(query(1, 0, 0), 1)[0]] == ["b"]


def test_saved_index_loads_and_refuses_another_model_or_generation(index, tmp_path):
    index.save(tmp_path, {"model": "m1", "generation": 7})
    loaded = VectorIndex(3)
    meta = loaded.load(tmp_path, {"model": "m1", "generation": 7})
    assert meta["generation"] == 7 and loaded.count() == 5
    assert loaded.search(query(0, 0, 1), 1)[0][0][0] == "c"
    with pytest.raises(IndexMismatch, match="generation"):
        VectorIndex(3).load(tmp_path, {"model": "m1", "generation": 8})
    with pytest.raises(IndexMismatch, match="model"):
        VectorIndex(3).load(tmp_path, {"model": "m2", "generation": 7})
    with pytest.raises(IndexMismatch, match="dimension"):
        VectorIndex(4).load(tmp_path, {"model": "m1", "generation": 7})


def test_missing_or_unreadable_vectors_are_a_mismatch(index, tmp_path):
    index.save(tmp_path, {"model": "m1", "generation": 1})
    (tmp_path / VECTORS_FILE).write_bytes(b"half written")
    with pytest.raises(IndexMismatch, match="vectors"):
        VectorIndex(3).load(tmp_path, {"generation": 1})
    (tmp_path / VECTORS_FILE).unlink()
    with pytest.raises(IndexMismatch, match="vectors"):
        VectorIndex(3).load(tmp_path, {"generation": 1})


def test_missing_index_is_a_mismatch(tmp_path):
    with pytest.raises(IndexMismatch):
        VectorIndex(3).load(tmp_path / "nothing")


def test_an_index_saved_with_another_storage_is_refused(index, tmp_path):
    index.save(tmp_path, {"generation": 1})
    meta = tmp_path / "meta.json"
    meta.write_text(meta.read_text().replace('"storage":"fp16"', '"storage":"float32"'))
    with pytest.raises(IndexMismatch, match="storage"):
        VectorIndex(3).load(tmp_path, {"generation": 1})


def unit_vectors(count: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    raw = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def top(index: VectorIndex, vector: np.ndarray, k: int, **options) -> list[str]:
    return [doc_id for doc_id, _ in index.search(vector, k, **options)[0]]


def test_a_build_of_graph_from_vectors_or_more_is_a_graph_that_finds_the_exact_top():
    vectors, ids = unit_vectors(600), [f"p{n}" for n in range(600)]
    small = VectorIndex(16, graph_from=601)
    small.build(ids, vectors)
    graph = VectorIndex(16, graph_from=600)
    graph.build(ids, vectors)
    assert not small.graph and graph.graph and graph.count() == 600
    probes = unit_vectors(20, seed=1)
    for probe in probes:  # 600 vectors: the walk visits nearly all of them
        assert top(graph, probe, 10) == top(small, probe, 10) == top(graph, probe, 10, exact=True)


def test_a_graph_masks_replaced_and_removed_vectors_and_filters_exactly():
    vectors, ids = unit_vectors(300), [f"p{n}" for n in range(300)]
    graph = VectorIndex(16, graph_from=100)
    graph.build(ids, vectors)
    graph.add(["p0"], -vectors[0])  # p0 now points the other way
    graph.delete(["p1", "nobody"])
    assert graph.count() == 299 and graph.ids() == set(ids) - {"p1"}
    assert "p0" not in top(graph, vectors[0], 5) and top(graph, -vectors[0], 1) == ["p0"]
    assert "p1" not in top(graph, vectors[1], 5) + top(graph, vectors[1], 5, exact=True)
    assert graph.vectors(["p0"])[0] == pytest.approx(-vectors[0], abs=1e-3)
    assert sorted(top(graph, vectors[2], 5, allowed={"p2", "p7", "p1"})) == ["p2", "p7"]


def test_a_saved_graph_loads_with_its_masks_and_changes_layout_with_the_setting(tmp_path):
    vectors, ids = unit_vectors(300), [f"p{n}" for n in range(300)]
    graph = VectorIndex(16, graph_from=100)
    graph.build(ids, vectors)
    graph.delete(["p3"])
    graph.save(tmp_path, {"generation": 2})
    loaded = VectorIndex(16, graph_from=100)
    loaded.load(tmp_path, {"generation": 2})
    assert loaded.graph and loaded.count() == 299 and "p3" not in top(loaded, vectors[3], 5)
    flat = VectorIndex(16)  # graphs switched off: the saved vectors are laid out flat
    flat.load(tmp_path, {"generation": 2})
    assert not flat.graph and flat.count() == 299
    assert top(flat, vectors[4], 10) == top(loaded, vectors[4], 10, exact=True)
