"""Bad data says so: empty pools with the reason, pids missing from problems.json, empty
questions, a pid in two splits, image paths that climb out of the image folder, malformed
LLaVA conversations, corrupt parquet files. Command-line cases go through the entry point:
exit code 2, one line on stderr, no traceback, nothing written."""

import io
import json
import logging
import re

import pytest
from PIL import Image

from conftest import make_pool, make_record
from vlprune import load_pool
from vlprune.cli import main
from vlprune.data.export import to_llava_records
from vlprune.data.subset import SubsetManifest
from vlprune.errors import ConfigError, DataError
from vlprune.select.base import get_selector

PROBLEM = {"question": "Q?", "choices": ["a", "b"], "answer": 1, "hint": "", "image": None,
           "grade": "grade2", "subject": "natural science", "topic": "t", "category": "c",
           "skill": "s", "lecture": "", "solution": "", "split": "train"}


def sqa(root, problems, pid_splits=None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "problems.json").write_text(json.dumps(problems))
    if pid_splits is not None:
        (root / "pid_splits.json").write_text(json.dumps(pid_splits))
    return root


def refused(capsys, tmp_path, argv, match):
    """Run ``vlprune select`` and check it is refused the right way; returns the line."""
    out = tmp_path / "subset.json"
    capsys.readouterr()  # what the test printed while preparing (progress bars) is not ours
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["select", "--k", "5", "--selector", "random", "--out", str(out), *argv])
    _, stderr = capsys.readouterr()
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("vlprune select: error: ") and "Traceback" not in stderr
    assert re.search(match, lines[0]), lines[0]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == before
    return lines[0]


# -- empty pools ------------------------------------------------------------------------------
def test_empty_problems_file(tmp_path, capsys):
    root = sqa(tmp_path / "d", {})
    line = refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root)],
                   r"problems\.json: the pool is empty: the file holds no problems")
    assert "larger than the pool" not in line


def test_empty_split(tmp_path, capsys):
    root = sqa(tmp_path / "d", {"1": PROBLEM, "2": PROBLEM})
    refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root), "--split", "test"],
            r"the test pool is empty: no problem of problems\.json is in split 'test' "
            r"\(its problems by split: train 2\)")


def test_mini_split_whose_pids_are_all_missing(tmp_path, capsys):
    root = sqa(tmp_path / "d", {"1": PROBLEM}, {"train": ["1"], "minitrain": ["7", "8"]})
    refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root), "--split", "minitrain"],
            r"the minitrain pool is empty: pid_splits\.json lists 2 minitrain pids and none of them is in "
            r"problems\.json")


def test_synthetic_split_of_size_zero(tmp_path, capsys):
    from vlprune.io import cache_dir

    before = sorted(p.name for p in cache_dir("synthetic").iterdir())
    refused(capsys, tmp_path, ["--size", "train=0,val=5,test=5"],
            r"the train pool is empty: synthetic size 'train=0,val=5,test=5' gives train 0 records")
    assert sorted(p.name for p in cache_dir("synthetic").iterdir()) == before  # nothing generated
    with pytest.raises(ConfigError, match="the train pool is empty: synthetic size"):  # dev lies in train
        load_pool("synthetic", split="dev", size="train=0,val=5,test=5")


def test_an_empty_dev_split_says_why(tmp_path):
    # One record whose id hashes outside dev: the dev split of this train split is empty.
    from vlprune.data.loaders import in_dev

    pid = next(str(i) for i in range(100) if not in_dev([str(i)])[0])
    root = sqa(tmp_path / "d", {pid: PROBLEM})
    with pytest.raises(DataError, match=r"the dev pool is empty: the 1 train records .* put none in dev"):
        load_pool("scienceqa", root, split="dev")


def test_empty_llava_and_hf(tmp_path):
    (tmp_path / "m.json").write_text("[]")
    with pytest.raises(DataError, match="the pool is empty: the file holds no conversations"):
        load_pool("llava-json", tmp_path / "m.json")


def test_pids_missing_from_problems_are_one_warning(tmp_path, caplog, capsys):
    root = sqa(tmp_path / "d", {"1": PROBLEM, "2": PROBLEM},
               {"train": ["1", "2", "3", "4", "5"], "val": ["6"], "test": []})
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        pool = load_pool("scienceqa", root)
    assert len(pool) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["pid_splits.json lists 5 train pids; 3 of them are not in problems.json and are left out"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        load_pool("scienceqa", root, split=None)
    assert [r.getMessage() for r in caplog.records] == [
        "pid_splits.json lists 6 pids (all splits); 4 of them are not in problems.json and are left out"]
    # Through the command line: one warning line, then the normal output.
    code = main(["select", "--k", "2", "--selector", "random", "--dataset", "scienceqa", "--data", str(root),
                 "--out", str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 0 and err.count("pid_splits.json lists") == 1


# -- records -----------------------------------------------------------------------------------
def test_empty_question(tmp_path, capsys):
    root = sqa(tmp_path / "d", {"1": PROBLEM, "2": {**PROBLEM, "question": "  "}})
    refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root)],
            r"problems\.json: record '2', field 'question': the question is empty")


def test_pid_in_two_splits(tmp_path, capsys):
    root = sqa(tmp_path / "d", {"1": PROBLEM, "2": PROBLEM},
               {"train": ["1", "2"], "val": ["3"], "test": ["2"], "minitrain": ["1"], "minitest": ["2"]})
    refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root)],
            r"pid_splits\.json: record '2', field 'split': listed in two splits, train and test")


def test_mini_splits_may_share_pids_with_their_own_split(tmp_path):
    root = sqa(tmp_path / "d", {"1": PROBLEM, "2": PROBLEM},
               {"train": ["1", "2"], "minitrain": ["1"], "minitest": ["1"]})
    with pytest.raises(DataError, match="record '1', field 'split': listed in two splits, minitrain and minitest"):
        load_pool("scienceqa", root)
    (root / "pid_splits.json").write_text(json.dumps({"train": ["1", "2"], "minitrain": ["1"]}))
    assert len(load_pool("scienceqa", root, split="minitrain")) == 1


@pytest.mark.parametrize(("pid", "image", "shown"), [
    ("1", "../../../etc/passwd", "'../../../etc/passwd' climbs out"),
    ("1", "/etc/passwd", "'/etc/passwd' is absolute"),
    ("../../x", "image.png", "train/../../x/image.png climbs out"),
])
def test_image_path_that_escapes_the_image_folder(tmp_path, capsys, pid, image, shown):
    root = sqa(tmp_path / "d", {pid: {**PROBLEM, "image": image}})
    line = refused(capsys, tmp_path, ["--dataset", "scienceqa", "--data", str(root),
                                      "--export-llava", str(tmp_path / "llava.json")],
                   f"record '{re.escape(pid)}', field 'image': image path ")
    assert shown in line


def test_export_refuses_an_image_that_escapes(tmp_path):
    # A table built by hand skips the loaders' checks; the export checks again.
    pool = make_pool([make_record(0, image="../../etc/passwd", image_path="/etc/passwd"), make_record(1)])
    with pytest.raises(DataError, match="record 'r0', field 'image': image path '../../etc/passwd' climbs out"):
        to_llava_records(pool)
    selection = get_selector("random").select(pool, 2, seed=0)
    out, export = tmp_path / "s.json", tmp_path / "llava.json"
    with pytest.raises(DataError):
        SubsetManifest.from_selection(selection, pool).save(out, export_llava=export, pool=pool)
    assert not out.exists() and not export.exists()
    assert to_llava_records(pool, [1])[0]["id"] == "r1"


# -- LLaVA conversations -----------------------------------------------------------------------
@pytest.mark.parametrize(("turns", "image", "message"), [
    ([{"from": "human", "value": "Hi?"}], None, "the conversation has no assistant \\(gpt\\) turn"),
    ([{"from": "human", "value": "Hi?"}, {"from": "human", "value": "Hello?"}], None, "no assistant"),
    ([{"from": "gpt", "value": "Hello."}, {"from": "human", "value": "Hi?"}], None,
     "opens with an assistant turn; it must open with a human turn"),
    ([{"from": "human", "value": "<image>\n"}, {"from": "gpt", "value": "A cat."}], "a.jpg",
     "the question \\(the first human turn, without <image>\\) is empty"),
    ([{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}], "../../etc/passwd",
     "field 'image': image path '../../etc/passwd' climbs out"),
])
def test_malformed_llava_conversations(tmp_path, capsys, turns, image, message):
    item = {"id": "bad1", "conversations": turns, **({"image": image} if image else {})}
    good = {"id": "ok", "conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]}
    path = tmp_path / "data" / "mix.json"
    path.parent.mkdir()
    path.write_text(json.dumps([good, item]))
    line = refused(capsys, tmp_path, ["--dataset", "llava-json", "--data", str(path)], message)
    assert f"{path}: record 'bad1'" in line


def test_llava_absolute_image_paths_are_accepted(tmp_path):
    # vlprune's own export writes absolute paths for images on this machine.
    img = tmp_path / "img.png"
    Image.new("RGB", (4, 4)).save(img)
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"id": "a", "image": str(img), "conversations": [
        {"from": "human", "value": "<image>\nQ?"}, {"from": "gpt", "value": "A."}]}]))
    assert load_pool("llava-json", path).image_available.tolist() == [True]


# -- corrupt parquet for --dataset hf ----------------------------------------------------------
def real_parquet_bytes():
    import datasets

    buf = io.BytesIO()
    datasets.Dataset.from_list([{"question": "Q?", "choices": ["a", "b"], "answer": 0}] * 3).to_parquet(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("train.parquet", b"this is not parquet at all", "not a parquet file"),
    ("train.parquet", b"", "not a parquet file"),
    ("train.parquet", "truncated", "not a parquet file"),
    ("train.parquet", "damaged", "cannot read the dataset"),
    ("train.csv", b"question,answer\nQ,0\n", "expected a .parquet file or a dataset folder"),
])
def test_corrupt_or_foreign_file_for_hf(tmp_path, capsys, name, content, message):
    data = real_parquet_bytes()
    if content == "truncated":
        content = data[: len(data) // 2]
    elif content == "damaged":  # magic bytes intact, the footer's metadata scrambled
        content = data[:4] + bytes(len(data) - 12) + data[-8:]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(content)
    line = refused(capsys, tmp_path, ["--dataset", "hf", "--data", str(path)], re.escape(message))
    assert str(path) in line


def test_corrupt_parquet_in_a_split_folder(tmp_path, capsys):
    folder = tmp_path / "hub" / "data"
    folder.mkdir(parents=True)
    (folder / "train-00000-of-00001.parquet").write_bytes(b"PAR1 garbage")
    line = refused(capsys, tmp_path, ["--dataset", "hf", "--data", str(tmp_path / "hub")], "not a parquet file")
    assert "train-00000-of-00001.parquet" in line
