"""Real ScienceQA: the text-only train and test splits in ../shared/data/scienceqa-text.

The numbers are those of that folder's README (which fields are known for how many
records). Without the folder the tests skip, naming it; in CI it is present and they run.
"""

import json
import logging

import numpy as np
import pytest

from conftest import SLICE
from vlprune import StratifiedSelector, load_pool
from vlprune.cli import main
from vlprune.data.loaders import in_dev
from vlprune.data.metrics import coverage_notes, score_predictions
from vlprune.data.pool import field_coverage
from vlprune.errors import DataError

#: The README's table: records that know each field, per split.
KNOWN = {
    "train": {"hint": 7029, "subject": 5105, "topic": 5105, "category": 5105, "skill": 5105, "grade": 5105,
              "lecture": 1510, "solution": 1510},
    "test": {"hint": 4241, "subject": 4241, "topic": 1797, "category": 1797, "skill": 1797, "grade": 1797,
             "lecture": 627, "solution": 627},
}


def test_train_and_test_sizes(scienceqa_text):
    assert len(scienceqa_text["train"]) == 12237
    assert len(scienceqa_text["test"]) == 4241
    assert int(scienceqa_text["train"].has_image.sum()) == 5729
    assert int(scienceqa_text["test"].has_image.sum()) == 2017


@pytest.mark.parametrize("split", ["train", "test"])
def test_known_fields_match_the_readme(scienceqa_text, split):
    pool = scienceqa_text[split]
    assert field_coverage(pool) == KNOWN[split]
    # Empty and unknown hints are different: the 5,208 unknown ones are image problems.
    if split == "train":
        unknown_hint = ~pool.known("hint")
        assert int(unknown_hint.sum()) == 5208 and pool.has_image[unknown_hint].all()
        assert int((pool.table["hint"] == "").sum()) > 0


def test_test_categories_and_their_known_counts(scienceqa_text):
    test = scienceqa_text["test"]
    known = test.category_known().sum().to_dict()
    assert known == {"NAT": 4241, "SOC": 4241, "LAN": 4241, "TXT": 4241, "IMG": 4241, "NO": 4241,
                     "G1-6": 1797, "G7-12": 1797}
    flags = test.categories()
    assert int(flags["NAT"].sum() + flags["SOC"].sum() + flags["LAN"].sum()) == 4241
    assert int(flags["G1-6"].sum() + flags["G7-12"].sum()) == 1797
    m = score_predictions(test, test.table["answer"])
    assert m["categories"]["G1-6"]["known"] == 1797 and m["known_fields"]["grade"] == 1797
    notes = coverage_notes({c: v["known"] for c, v in m["categories"].items()}, m["count"])
    assert notes == ["G1-6 / G7-12 over 1,797 of 4,241 problems (grade unknown for the rest)"]


def test_train_categories_never_guess(scienceqa_text):
    train = scienceqa_text["train"]
    flags, known = train.categories(), train.category_known()
    assert not (flags & ~known).to_numpy().any()
    assert int(known["NAT"].sum()) == 5105 and int(known["TXT"].sum()) == 7029
    assert int(flags["IMG"].sum()) == 5729  # the image is always known


def test_missing_train_pids_are_one_warning_and_val_is_empty(scienceqa_text_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="vlprune"):
        load_pool("scienceqa", scienceqa_text_dir, split="train")
    pid_warnings = [r.getMessage() for r in caplog.records if "pid_splits.json" in r.getMessage()]
    assert pid_warnings == ["pid_splits.json lists 12,726 train pids; 489 of them are not in problems.json "
                            "and are left out"]
    with pytest.raises(DataError, match="the val pool is empty: pid_splits.json lists 4,241 val pids and "
                                        "none of them is in problems.json"):
        load_pool("scienceqa", scienceqa_text_dir, split="val")


def test_dev_and_tune_split_train(scienceqa_text_dir, scienceqa_text):
    dev = load_pool("scienceqa", scienceqa_text_dir, split="dev")
    tune = load_pool("scienceqa", scienceqa_text_dir, split="tune")
    assert (len(dev), len(tune)) == (1269, 10968)
    assert len(dev) + len(tune) == len(scienceqa_text["train"])
    assert not set(dev.ids) & set(tune.ids)
    assert set(dev.ids) | set(tune.ids) == set(scienceqa_text["train"].ids)
    assert in_dev(dev.ids).all() and not in_dev(tune.ids).any()
    assert dev.reference.split == "dev" and tune.reference.split == "tune"


def test_sample_knows_every_field(sample_dir):
    pool = load_pool("scienceqa", sample_dir, split="test")
    assert all(n == len(pool) for n in field_coverage(pool).values())


# -- a slice of the real data, through the command line ------------------------------------------
def test_slice_loads_with_its_unknowns(scienceqa_text_slice):
    train = load_pool("scienceqa", scienceqa_text_slice, split="train")
    assert len(train) == SLICE["train"]
    coverage = field_coverage(train)
    assert 0 < coverage["subject"] < len(train) and 0 < coverage["hint"] < len(train)


def test_stratified_on_the_slice_has_an_unknown_group(scienceqa_text_slice, caplog):
    train = load_pool("scienceqa", scienceqa_text_slice, split="train")
    n_unknown = int((~train.known("subject")).sum())
    with caplog.at_level(logging.INFO, logger="vlprune"):
        sel = StratifiedSelector(by="subject").select(train, k=100, seed=0)
    picked_unknown = int((~train.known("subject")[sel.positions]).sum())
    assert picked_unknown == round(100 * n_unknown / len(train))
    assert f"field 'subject' is unknown for {n_unknown} of {len(train)} records" in caplog.text


def test_select_and_inspect_on_the_slice_say_what_is_known(scienceqa_text_slice, tmp_path, capsys):
    out = tmp_path / "subset.json"
    code = main(["select", "--dataset", "scienceqa", "--data", str(scienceqa_text_slice), "--k", "60",
                 "--selector", "stratified", "--by", "subject", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    train = load_pool("scienceqa", scienceqa_text_slice, split="train")
    manifest = json.loads(out.read_text())
    positions = train.positions_of(manifest["ids"])
    n_sub, n_pool = int(train.known("subject")[positions].sum()), int(train.known("subject").sum())
    assert f"subject, topic, skill, grade {n_sub} of 60 selected ({n_pool} of 300 in the pool)" in printed
    assert "(unknown)" in printed
    code = main(["inspect", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "records that know each field" in printed
    hint_line = next(line for line in printed.splitlines() if line.strip().startswith("hint "))
    assert hint_line.split()[1:] == [str(int(train.known("hint")[positions].sum())),
                                     str(int(train.known("hint").sum()))]
    assert "grade histogram; known for" in printed
    # The subset card counts unknown values as such, never as a value "None".
    code = main(["-q", "inspect", str(out), "--card"])
    card = capsys.readouterr().out
    assert code == 0
    assert f"Per subject (known for {n_sub} of 60 selected and {n_pool} of 300 in the pool; the rest " \
           "(unknown)):" in card
    assert "| (unknown) |" in card and "None" not in card and "<NA>" not in card


def test_train_split_scores_report_the_grade_count(scienceqa_text_slice):
    test = load_pool("scienceqa", scienceqa_text_slice, split="test")
    rng = np.random.default_rng(0)
    m = score_predictions(test, rng.integers(0, 2, size=len(test)))
    n_grade = int(test.known("grade").sum())
    assert m["categories"]["G1-6"]["known"] == m["categories"]["G7-12"]["known"] == n_grade < len(test)
    assert m["categories"]["G1-6"]["count"] + m["categories"]["G7-12"]["count"] == n_grade
