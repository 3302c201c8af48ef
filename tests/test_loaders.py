import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from vlprune import load_pool
from vlprune.data.schema import CATEGORIES
from vlprune.errors import ConfigError, DataError

# -- the real ScienceQA sample -----------------------------------------------------------------


def test_sample_split_counts(sample_dir):
    counts = {s: len(load_pool("scienceqa", sample_dir, split=s)) for s in ("train", "val", "test")}
    assert counts == {"train": 1041, "val": 371, "test": 361}
    assert len(load_pool("scienceqa", sample_dir, split=None)) == 1773


def test_sample_ids_and_fingerprint_are_stable(sample_dir):
    a = load_pool("scienceqa", sample_dir)
    b = load_pool("scienceqa", str(sample_dir / "problems.json"))
    assert list(a.ids) == list(b.ids)
    assert a.fingerprint == b.fingerprint
    raw = json.loads((sample_dir / "problems.json").read_text())
    assert list(a.ids) == [pid for pid, p in raw.items() if p["split"] == "train"]


def test_sample_category_flags_match_the_raw_fields(sample_dir):
    pool = load_pool("scienceqa", sample_dir, split="test")
    raw = json.loads((sample_dir / "problems.json").read_text())
    flags = pool.categories()
    assert list(flags.columns) == list(CATEGORIES)
    for pid, row in flags.iterrows():
        p = raw[pid]
        assert row["NAT"] == (p["subject"] == "natural science")
        assert row["SOC"] == (p["subject"] == "social science")
        assert row["LAN"] == (p["subject"] == "language science")
        assert row["TXT"] == bool(p["hint"])
        assert row["IMG"] == (p["image"] is not None)
        assert row["NO"] == (not p["hint"] and p["image"] is None)
        grade = int(p["grade"].removeprefix("grade"))
        assert row["G1-6"] == (grade <= 6) and row["G7-12"] == (grade >= 7)


def test_sample_missing_images_reported_once_and_captions_stand_in(sample_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        pool = load_pool("scienceqa", sample_dir)
    warnings = [r for r in caplog.records if "images were not found" in r.getMessage()]
    assert len(warnings) == 1 and "521 of 521" in warnings[0].getMessage()
    assert pool.missing_images == 521
    with_image = pool.table[pool.has_image]
    assert (with_image["caption"] != "").all()
    assert pool.image(int(np.flatnonzero(pool.has_image)[0])) is None


def test_sample_require_images_is_an_error(sample_dir):
    with pytest.raises(DataError, match="521 of 521 image files are missing"):
        load_pool("scienceqa", sample_dir, require_images=True)


def test_sample_mini_split(sample_dir):
    pool = load_pool("scienceqa", sample_dir, split="minitest")
    listed = set(json.loads((sample_dir / "pid_splits.json").read_text())["minitest"])
    assert len(pool) > 0 and set(pool.ids) <= listed


# -- ScienceQA layout, hand-made --------------------------------------------------------------
def write_sqa(root, problems, images=()):
    root.mkdir(parents=True, exist_ok=True)
    (root / "problems.json").write_text(json.dumps(problems) if not isinstance(problems, str) else problems)
    for split, pid in images:
        path = root / "images" / split / pid / "image.png"
        path.parent.mkdir(parents=True)
        Image.new("RGB", (8, 8), (255, 0, 0)).save(path)
    return root


PROBLEM = {"question": "Q?", "choices": ["a", "b"], "answer": 1, "hint": "", "image": "image.png",
           "grade": "grade2", "subject": "natural science", "topic": "t", "category": "c",
           "skill": "s", "lecture": "", "solution": "", "split": "train"}


def test_images_are_found_and_read(tmp_path):
    root = write_sqa(tmp_path / "sqa", {"1": PROBLEM, "2": {**PROBLEM, "image": None}}, images=[("train", "1")])
    pool = load_pool("scienceqa", root)
    assert pool.missing_images == 0
    assert pool.image_available.tolist() == [True, False]
    img = pool.image(0)
    assert img.size == (8, 8) and img.getpixel((0, 0)) == (255, 0, 0)
    assert pool.image(1) is None


@pytest.mark.parametrize(("text", "message"), [
    ("{\"1\": {", "not valid JSON"),
    (f'{{"1": {json.dumps(PROBLEM)}, "1": {json.dumps(PROBLEM)}}}', "record '1', field 'id': duplicate id"),
    (json.dumps({"7": {**PROBLEM, "answer": 3}}), "record '7', field 'answer': answer index 3"),
    (json.dumps({"7": {**PROBLEM, "split": "dev2"}}), "record '7', field 'split': unknown split"),
    (json.dumps({"7": {k: v for k, v in PROBLEM.items() if k != "question"}}), "field 'question': missing"),
    (json.dumps({"7": {**PROBLEM, "choices": "a|b"}}), "field 'choices': expected a list"),
    (json.dumps([PROBLEM]), "expected an object mapping problem ids"),
])
def test_bad_problems_file_names_file_record_and_field(tmp_path, text, message):
    root = write_sqa(tmp_path / "bad", text)
    with pytest.raises(DataError, match=message) as info:
        load_pool("scienceqa", root)
    assert str(root / "problems.json") in str(info.value)


def test_missing_folder_and_missing_source(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_pool("scienceqa", tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="needs --data"):
        load_pool("scienceqa")


def test_unknown_loader():
    with pytest.raises(ConfigError, match="unknown dataset 'sciencqa'.*did you mean 'scienceqa'"):
        load_pool("sciencqa", "x")


# -- Hugging Face ------------------------------------------------------------------------------
def hf_rows(n=4):
    import io

    rows = []
    for i in range(n):
        img = None
        if i % 2 == 0:
            buf = io.BytesIO()
            Image.new("RGB", (6, 6), (0, 10 * i, 0)).save(buf, format="PNG")
            img = {"bytes": buf.getvalue(), "path": None}
        rows.append({"image": img, "question": f"Q{i}?", "choices": ["x", "y", "z"], "answer": i % 3,
                     "hint": "h" if i == 1 else "", "task": "closed choice", "grade": f"grade{i + 1}",
                     "subject": "social science", "topic": "geography", "category": "Maps",
                     "skill": "Read a map", "lecture": "L", "solution": "S"})
    return rows


def write_parquet(path, rows):
    import datasets

    features = datasets.Features({
        "image": datasets.Image(), "question": datasets.Value("string"),
        "choices": datasets.Sequence(datasets.Value("string")), "answer": datasets.Value("int8"),
        **{k: datasets.Value("string") for k in ("hint", "task", "grade", "subject", "topic", "category",
                                                  "skill", "lecture", "solution")}})
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))
    return path


def test_hf_parquet_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    path = write_parquet(tmp_path / "train-00000-of-00001.parquet", hf_rows())
    pool = load_pool("hf", path, split="train")
    assert len(pool) == 4
    assert all(i.startswith("train-") and len(i) == len("train-") + 12 for i in pool.ids)
    assert pool.has_image.tolist() == [True, False, True, False]
    assert pool.image(2).getpixel((0, 0)) == (0, 20, 0)
    assert pool.table["grade"].tolist() == [1, 2, 3, 4]
    assert pool.categories()["TXT"].tolist() == [False, True, False, False]


def test_hf_ids_survive_reordering_and_duplicates_get_suffixes(tmp_path, monkeypatch):
    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    rows = hf_rows()
    a = load_pool("hf", write_parquet(tmp_path / "a.parquet", rows))
    b = load_pool("hf", write_parquet(tmp_path / "b.parquet", rows[::-1]))
    assert sorted(a.ids) == sorted(b.ids)
    dup = load_pool("hf", write_parquet(tmp_path / "d.parquet", [rows[0], rows[1], rows[0]]))
    assert dup.ids[2] == dup.ids[0] + "~2"


def test_hf_folder_of_split_files_and_save_to_disk(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("VLPRUNE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "hub" / "data"
    folder.mkdir(parents=True)
    write_parquet(folder / "train-00000-of-00001.parquet", hf_rows(4))
    write_parquet(folder / "validation-00000-of-00001.parquet", hf_rows(2))
    assert len(load_pool("hf", tmp_path / "hub", split="val")) == 2
    assert load_pool("hf", tmp_path / "hub", split="val").table["split"].unique().tolist() == ["val"]
    ds = datasets.load_dataset("parquet", data_files={"train": str(folder / "train-00000-of-00001.parquet")})
    ds.save_to_disk(str(tmp_path / "saved"))
    assert len(load_pool("hf", tmp_path / "saved", split="train")) == 4


def test_hf_bad_path(tmp_path):
    with pytest.raises(DataError, match="no such dataset folder"):
        load_pool("hf", str(tmp_path / "missing"))


# -- LLaVA conversation JSON -----------------------------------------------------------------
def llava_items():
    return [
        {"id": "000000033471", "image": "coco/train2017/000000033471.jpg",
         "conversations": [{"from": "human", "value": "<image>\nWhat colour is the bus?"},
                           {"from": "gpt", "value": "Red."},
                           {"from": "human", "value": "Is it moving?"}, {"from": "gpt", "value": "No."}]},
        {"id": "gqa1", "image": "gqa/images/1.jpg",
         "conversations": [{"from": "human", "value": "Where?\n<image>"}, {"from": "gpt", "value": "Left."}]},
        {"id": "i6IyJda_0", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
    ]


def test_llava_json_fields_and_source(tmp_path, caplog):
    (tmp_path / "coco" / "train2017").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "coco" / "train2017" / "000000033471.jpg")
    path = tmp_path / "mix.json"
    path.write_text(json.dumps(llava_items()))
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        pool = load_pool("llava-json", path)
    assert pool.table["source"].tolist() == ["coco", "gqa", "none"]
    assert pool.table["question"].tolist() == ["What colour is the bus?", "Where?", "Hi"]
    assert pool.table["solution"].tolist() == ["Red.", "Left.", "Hello"]
    assert len(pool.table.at[0, "conversations"]) == 4
    assert pool.image_available.tolist() == [True, False, False]
    assert pool.missing_images == 1 and "1 of 2 images" in caplog.text
    assert not pool.has_field("topic") and not pool.has_field("grade")


def test_llava_json_duplicate_ids(tmp_path):
    items = llava_items()
    items.append(dict(items[2]))
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(items))
    with pytest.raises(DataError, match="record 'i6IyJda_0', field 'id': duplicate id"):
        load_pool("llava-json", path)
    pool = load_pool("llava-json", path, on_duplicate_id="suffix")
    assert pool.ids[-1] == "i6IyJda_0~2"


@pytest.mark.parametrize(("items", "message"), [
    ({"id": 1}, "expected a list of conversations"),
    ([{"conversations": []}], "record '#0', field 'id': missing"),
    ([{"id": "a", "conversations": []}], "record 'a', field 'conversations': expected a non-empty"),
    ([{"id": "a", "conversations": [{"from": "bot", "value": "x"}]}], "turn 0 must be"),
])
def test_llava_json_bad_input(tmp_path, items, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(items))
    with pytest.raises(DataError, match=message):
        load_pool("llava-json", path)


def test_llava_json_has_only_train(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(llava_items()))
    with pytest.raises(ConfigError, match="only a train split"):
        load_pool("llava-json", path, split="test")


# -- synthetic ---------------------------------------------------------------------------------
def test_synthetic_tiny_pool():
    pool = load_pool("synthetic", size="tiny")
    assert len(pool) == 200 and pool.reference.loader == "synthetic"
    assert len(load_pool("synthetic", size="tiny", split="test")) == 50
    assert pool.image_available[pool.has_image].all()
    assert 0.3 < pool.has_image.mean() < 0.7
    assert set(pool.table["subject"]) == {"natural science", "social science", "language science"}
    again = load_pool({"loader": "synthetic", "source": None, "split": "train", "options": {"size": "tiny"}})
    assert again.fingerprint == pool.fingerprint


def test_synthetic_refuses_a_source():
    with pytest.raises(ConfigError, match="drop --data"):
        load_pool("synthetic", "some/path", size="tiny")


def test_synthetic_bad_size():
    with pytest.raises(ConfigError, match="synthetic size must be"):
        load_pool("synthetic", size="huge")


def test_sample_copy_with_image_folder_option(sample_dir, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(sample_dir, root)
    images = tmp_path / "imgs" / "train" / "1"
    images.mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(images / "image.png")
    pool = load_pool("scienceqa", root, image_folder=str(tmp_path / "imgs"))
    assert pool.missing_images == 520
    assert pool.image_available[list(pool.ids).index("1")]
