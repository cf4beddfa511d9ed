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
