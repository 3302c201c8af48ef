import json

import numpy as np
import pytest

from conftest import make_pool, make_record, random_pool
from vlprune import RandomSelector, SubsetManifest, export_llava_json
from vlprune.data.export import to_llava_records
from vlprune.errors import ConfigError, DataError
from vlprune.select.farthest_point import FarthestPointSelector


def test_manifest_round_trip(tmp_path):
    pool = random_pool(40)
    sel = FarthestPointSelector(embedder="tfidf").select(pool, 7, seed=3)
    path = tmp_path / "subset.json"
    SubsetManifest.from_selection(sel, pool).save(path)
    raw = json.loads(path.read_text())
    # The embedder's provenance comes with the selection, the same from Python as from the CLI.
    assert raw["embedder"]["name"] == "tfidf" and raw["embedder"]["fingerprint"].startswith("sha256:")
    assert raw["format"] == "vlprune.subset" and raw["format_version"] == 1
    assert raw["k"] == 7 and raw["seed"] == 3 and raw["ids"] == sel.ids
    assert raw["dataset"]["fingerprint"] == pool.fingerprint and raw["dataset"]["size"] == 40
    assert raw["selector"]["name"] == "farthest-point" and raw["selector"]["params"]["embedder"] == "tfidf"
    assert raw["scores"] == pytest.approx(sel.scores.tolist())
    loaded = SubsetManifest.load(path)
    assert loaded.ids == sel.ids
    assert loaded.positions_in(pool).tolist() == sel.positions.tolist()


def test_manifest_refuses_a_different_dataset(tmp_path):
    pool = random_pool(20)
    manifest = SubsetManifest.from_selection(RandomSelector().select(pool, 5), pool)
    other = make_pool([make_record(i, question="changed?") for i in range(20)])
    with pytest.raises(ConfigError, match="differs from the one this subset was selected from.*--allow-mismatch"):
        manifest.positions_in(other)
    assert len(manifest.positions_in(other, allow_mismatch=True)) == 5
    smaller = make_pool([make_record(i) for i in range(3)])
    with pytest.raises(ConfigError, match=r"of 5 subset ids are not in this test pool.*'r"):
        manifest.positions_in(smaller, allow_mismatch=True)


@pytest.mark.parametrize(("content", "message"), [
    ("[]", "not a vlprune subset manifest"),
    ('{"format": "vlprune.subset", "format_version": 9}', "format version 9"),
    ('{"format": "vlprune.subset", "format_version": 1, "dataset": {}, "selector": {}}', "field 'ids'"),
    ('{"format": "vlprune.subset", "format_version": 1, "dataset": {"loader": "x"}, "selector": {},'
     ' "ids": ["a", "a"]}', "ids repeat"),
    ("{", "not valid JSON"),
])
def test_bad_manifest(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        SubsetManifest.load(path)


def test_llava_export_qcm_lea_layout(tmp_path):
    records = [
        make_record(0, question="Which is a mammal?", choices=["wolf", "trout"], answer=0, hint="",
                    image="image.png", image_path="/data/img0.png", lecture="Mammals have fur.",
                    solution="A wolf has fur."),
        make_record(1, question="Pick one.", choices=["a", "b", "c"], answer=2, hint="Read this.",
                    image="", lecture="", solution=""),
    ]
    pool = make_pool(records)
    out = to_llava_records(pool, np.array([1, 0]))
    assert [o["id"] for o in out] == ["r1", "r0"]
    assert "image" not in out[0]
    assert out[0]["conversations"] == [
        {"from": "human", "value": "Pick one.\nContext: Read this.\nOptions: (A) a (B) b (C) c"},
        {"from": "gpt", "value": "The answer is C."},
    ]
    assert out[1]["image"] == "/data/img0.png"
    assert out[1]["conversations"][0]["value"] == (
        "<image>\nWhich is a mammal?\nContext: N/A\nOptions: (A) wolf (B) trout")
    assert out[1]["conversations"][1]["value"] == "Mammals have fur. A wolf has fur. The answer is A."
    path = tmp_path / "llava.json"
    assert export_llava_json(pool, None, path) == 2
    assert json.loads(path.read_text()) == to_llava_records(pool)


def test_llava_export_keeps_original_conversations():
    turns = [{"from": "human", "value": "<image>\nQ"}, {"from": "gpt", "value": "A"}]
    pool = make_pool([make_record(0, conversations=turns, image="coco/x.jpg", image_path="")])
    out = to_llava_records(pool)[0]
    assert out["conversations"] == turns and out["image"] == "train/r0/coco/x.jpg"
