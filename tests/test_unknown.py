"""Unknown fields are first-class: absent in the source is unknown, never "" or a category.

A hand-made pool mixes known, empty and unknown values; the real-data counterparts are in
test_real_data.py.
"""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from conftest import make_pool, make_record, random_pool
from vlprune import HandRuleSelector, StratifiedSelector, TopicCoverageSelector, load_pool
from vlprune.data.export import to_llava_records
from vlprune.data.metrics import coverage_notes, format_metrics, score_predictions
from vlprune.data.pool import UNKNOWN_LABEL, field_coverage
from vlprune.data.prompts import format_prompt, format_target
from vlprune.data.schema import CATEGORIES
from vlprune.data.summary import format_comparison, format_summary, subset_summary
from vlprune.errors import MissingFieldError
from vlprune.select.rules import default_difficulty, difficulty_scores


def mixed_pool():
    """Six records: 0-1 know everything, 2 has an unknown hint and an image, 3 an unknown
    hint and no image, 4 an unknown subject and grade, 5 an empty hint and unknown topic."""
    return make_pool([
        make_record(0, hint="a context", grade=2, subject="natural science"),
        make_record(1, hint="", grade=9, subject="social science", image="image.png"),
        make_record(2, hint=None, grade=4, subject="language science", image="image.png"),
        make_record(3, hint=None, grade=11, subject="natural science"),
        make_record(4, hint="context", grade=None, subject=None, topic=None, skill=None),
        make_record(5, hint="", grade=7, subject="natural science", topic=None, skill=None, lecture=None,
                    solution=None),
    ])


def test_table_keeps_unknown_apart_from_empty():
    pool = mixed_pool()
    t = pool.table
    assert t["hint"].tolist() == ["a context", "", None, None, "context", ""]
    assert str(t["grade"].dtype) == "Int64"
    assert t["grade"].isna().tolist() == [False] * 4 + [True, False]
    assert pool.known("hint").tolist() == [True, True, False, False, True, True]
    assert pool.known("question").all()  # cannot be unknown
    assert field_coverage(pool, ["hint", "subject", "grade", "topic", "lecture"]) == {
        "hint": 4, "subject": 5, "grade": 5, "topic": 4, "lecture": 5}


def test_fingerprint_tells_unknown_from_empty_and_is_unchanged_without_unknowns():
    empty = make_pool([make_record(0, hint="")])
    unknown = make_pool([make_record(0, hint=None)])
    text_null = make_pool([make_record(0, hint="null")])
    assert len({empty.fingerprint, unknown.fingerprint, text_null.fingerprint}) == 3
    assert make_pool([make_record(0, grade=None)]).fingerprint != make_pool([make_record(0, grade=3)]).fingerprint
    # Recorded with the code before unknown fields existed: pools without unknowns (the
    # synthetic data, the ScienceQA sample) keep their fingerprints, manifests and caches.
    assert random_pool(30).fingerprint == "sha256:cd3f9418866d592c5d0fb09b500e2002"


def test_a_grade_of_zero_from_old_loaders_is_unknown():
    assert make_pool([make_record(0, grade=0)]).table["grade"].isna().all()


def test_categories_never_take_an_unknown_record():
    pool = mixed_pool()
    flags, known = pool.categories(), pool.category_known()
    assert list(flags.columns) == list(CATEGORIES) == list(known.columns)
    f = {c: flags[c].tolist() for c in CATEGORIES}
    assert f["NAT"] == [True, False, False, True, False, True]   # record 4: subject unknown
    assert f["LAN"] == [False, False, True, False, False, False]
    assert f["TXT"] == [True, False, False, False, True, False]   # 2, 3: hint unknown, not TXT
    assert f["IMG"] == [False, True, True, False, False, False]   # 2: image known, so IMG
    assert f["NO"] == [False, False, False, False, False, True]   # 3: hint unknown, not NO
    assert f["G1-6"] == [True, False, True, False, False, False]
    assert f["G7-12"] == [False, True, False, True, False, True]  # 4: grade unknown, neither
    k = {c: known[c].tolist() for c in CATEGORIES}
    assert k["NAT"] == k["SOC"] == k["LAN"] == [True, True, True, True, False, True]
    assert k["TXT"] == [True, True, False, False, True, True]
    assert k["IMG"] == [True] * 6
    assert k["NO"] == [True, True, True, False, True, True]      # 2 has an image: not NO, decided
    assert k["G1-6"] == k["G7-12"] == [True, True, True, True, False, True]
    # A record is in a category only where the category is decided for it.
    assert not (flags & ~known).to_numpy().any()


def test_metrics_record_how_many_problems_each_category_is_known_for():
    pool = mixed_pool()
    predictions = pool.table["answer"].to_numpy().copy()
    predictions[0] = 1  # record 0 wrong
    m = score_predictions(pool, predictions)
    assert m["count"] == 6 and m["correct"] == 5
    assert m["categories"]["G1-6"] == {"accuracy": 0.5, "correct": 1, "count": 2, "known": 5}
    assert m["categories"]["G7-12"]["known"] == 5 and m["categories"]["G7-12"]["count"] == 3
    assert m["categories"]["IMG"]["known"] == 6 and m["categories"]["TXT"]["known"] == 4
    assert m["known_fields"] == {"subject": 5, "hint": 4, "grade": 5}
    json.dumps(m)  # metrics.json: plain JSON types only
    notes = coverage_notes({c: v["known"] for c, v in m["categories"].items()}, m["count"])
    assert notes == ["NAT / SOC / LAN over 5 of 6 problems (subject unknown for the rest)",
                     "TXT over 4 of 6 problems (hint unknown for the rest)",
                     "NO over 5 of 6 problems (hint unknown for the rest)",
                     "G1-6 / G7-12 over 5 of 6 problems (grade unknown for the rest)"]
    text = format_metrics(m)
    assert "(G1-6 / G7-12 over 5 of 6 problems (grade unknown for the rest))" in text


def test_metrics_without_unknowns_have_no_notes():
    pool = random_pool(20)
    m = score_predictions(pool, pool.table["answer"])
    assert all(c["known"] == 20 for c in m["categories"].values())
    assert "unknown for the rest" not in format_metrics(m)


def test_texts_leave_unknown_fields_out():
    pool = mixed_pool()
    texts = pool.texts(("question", "hint", "choices"))
    assert texts[0] == "Question 0?\na context\nyes | no"
    assert texts[1] == "Question 1?\n\nyes | no"   # empty hint: joined as ""
    assert texts[2] == "Question 2?\nyes | no"     # unknown hint: left out
    assert "None" not in "".join(pool.texts(("question", "subject", "lecture", "grade")))


def test_prompts_render_an_unknown_hint_as_no_context():
    pool = mixed_pool()
    records = pool.table.to_dict("records")
    assert format_prompt(records[2], image_token=False).splitlines()[1] == "Context: N/A"
    assert format_prompt(records[3]).splitlines()[1] == "Context: N/A"
    assert format_prompt(records[1], image_token=False).splitlines()[1] == "Context: N/A"  # empty hint
    assert format_prompt(records[0]).splitlines()[1] == "Context: a context"
    assert format_target(records[5]) == "The answer is A."  # unknown lecture and solution left out
    exported = to_llava_records(pool)
    assert "None" not in json.dumps(exported)


def test_the_trainer_prompt_with_captions_and_an_unknown_hint():
    from vlprune.train.data import problem_prompt

    record = make_record(0, hint=None, image="image.png", caption="a red square")
    assert problem_prompt(record, use_image=False).splitlines()[1] == "Context: a red square"
    assert problem_prompt(make_record(0, hint=None), use_image=False).splitlines()[1] == "Context: N/A"


def test_has_field_and_column_for_a_field_nobody_knows():
    pool = make_pool([make_record(i, topic=None) for i in range(3)])
    assert not pool.has_field("topic")
    with pytest.raises(MissingFieldError, match="unknown or empty for every record"):
        pool.column("topic", needed_by="selector 'stratified' (--by topic)")


# -- rules: unknown is a value of its own -------------------------------------------------------
def pool_with_unknown_subjects(n_unknown=6):
    known = [make_record(i, subject=s) for i, s in enumerate(["natural science"] * 6 + ["social science"] * 6)]
    unknown = [make_record(100 + i, subject=None) for i in range(n_unknown)]
    return make_pool(known + unknown)


def test_stratified_puts_unknown_in_a_group_of_its_own(caplog):
    pool = pool_with_unknown_subjects()
    with caplog.at_level(logging.INFO, logger="vlprune"):
        sel = StratifiedSelector(by="subject", allocation="equal").select(pool, k=9, seed=0)
    subjects = pool.table.loc[sel.positions, "subject"].tolist()
    assert subjects.count(None) == 3
    assert subjects.count("natural science") == 3 and subjects.count("social science") == 3
    assert "field 'subject' is unknown for 6 of 18 records" in caplog.text and UNKNOWN_LABEL in caplog.text


def test_stratified_keeps_unknown_apart_from_empty():
    records = ([make_record(i, topic="") for i in range(4)] + [make_record(10 + i, topic=None) for i in range(4)]
               + [make_record(20 + i, topic="maps") for i in range(4)])
    pool = make_pool(records)
    codes, labels = pool.groups("topic", needed_by="test")
    assert labels == ["", "maps", UNKNOWN_LABEL]
    assert codes.tolist() == [0] * 4 + [2] * 4 + [1] * 4
    sel = StratifiedSelector(by="topic", allocation="equal").select(pool, k=6, seed=1)
    assert sorted(repr(v) for v in pool.table.loc[sel.positions, "topic"]) == [
        "''", "''", "'maps'", "'maps'", "None", "None"]


def test_stratified_by_grade_with_unknown_grades():
    pool = make_pool([make_record(i, grade=g) for i, g in enumerate([1, 1, 2, 2, None, None])])
    _, labels = pool.groups("grade", needed_by="test", sort=True)
    assert labels == ["1", "2", UNKNOWN_LABEL]
    sel = StratifiedSelector(by="grade", allocation="equal").select(pool, k=3, seed=0)
    assert pool.table.loc[sel.positions, "grade"].isna().sum() == 1


def test_topic_coverage_covers_unknown_as_one_value(caplog):
    pool = pool_with_unknown_subjects()
    with caplog.at_level(logging.INFO, logger="vlprune"):
        sel = TopicCoverageSelector(by="subject").select(pool, k=3, seed=0)
    assert sel.info == {"values_covered": 3, "values_total": 3}
    subjects = pool.table.loc[sel.positions, "subject"].tolist()
    assert subjects.count(None) == 1 and {"natural science", "social science"} <= set(subjects)
    assert "unknown for 6 of 18" in caplog.text


def test_default_difficulty_leaves_unknown_terms_out(caplog):
    pool = make_pool([
        make_record(0, grade=12, choices=["a", "b"], solution=""),
        make_record(1, grade=None, choices=["a", "b", "c", "d", "e"], solution=""),
        make_record(2, grade=None, choices=["a", "b"], solution=None),
    ])
    with caplog.at_level(logging.INFO, logger="vlprune"):
        d = default_difficulty(pool)
    # 0: (12/12 + 0 + 0) / 3; 1: grade unknown -> (choices 1 + solution 0) / 2; 2: choices alone.
    np.testing.assert_allclose(d, [1 / 3, 0.5, 0.0])
    assert "grade / solution unknown for 2 / 1 of 3 records" in caplog.text


def test_difficulty_by_grade_ranks_unknown_below_every_known_grade(caplog):
    pool = make_pool([make_record(i, grade=g) for i, g in enumerate([3, None, 1, None, 12])])
    with caplog.at_level(logging.INFO, logger="vlprune"):
        scores = difficulty_scores(pool, "grade")
    assert scores.tolist() == [3, 0, 1, 0, 12]
    assert "score 'grade' is unknown for 2 of 5 records" in caplog.text
    sel = HandRuleSelector(rules=("difficulty",), score="grade").select(pool, k=3, seed=0)
    assert sorted(sel.positions.tolist()) == [0, 2, 4]


# -- summaries ---------------------------------------------------------------------------------
def test_selection_summary_says_how_many_records_know_each_field():
    pool = pool_with_unknown_subjects()
    summary = subset_summary(pool, [0, 6, 12, 13])
    assert summary["per_subject"] == {UNKNOWN_LABEL: 2, "natural science": 1, "social science": 1}
    assert summary["known"]["subject"] == {"subset": 2, "pool": 12}
    text = format_summary(summary)
    assert "known for: subject 2 of 4 selected (12 of 18 in the pool)" in text
    assert "known for" not in format_summary(subset_summary(random_pool(10), [0, 1]))


def test_inspect_table_counts_unknown_and_known():
    pool = mixed_pool()
    text = format_comparison(pool, [2, 3, 4])
    assert "records that know each field" in text
    assert "  hint              1         4" in text
    assert "grade histogram; known for 2 of 3 selected and 5 of 6 in the pool, the rest (unknown)" in text
    assert UNKNOWN_LABEL in text.split("grade histogram")[1]
    assert "every field is known for every record" in format_comparison(random_pool(10), [0, 1])


# -- loaders -------------------------------------------------------------------------------------
def test_scienceqa_loader_reads_absent_fields_as_unknown(tmp_path):
    problems = {
        "1": {"question": "Q?", "choices": ["a", "b"], "answer": 0, "hint": "", "image": None, "split": "train",
              "subject": "natural science", "grade": "grade3", "topic": "t", "category": "c", "skill": "s",
              "lecture": "", "solution": ""},
        "2": {"question": "Q2?", "choices": ["a", "b"], "answer": 1, "image": "image.png", "split": "train"},
    }
    (tmp_path / "problems.json").write_text(json.dumps(problems))
    pool = load_pool("scienceqa", tmp_path)
    assert pool.table["hint"].tolist() == ["", None]
    assert pool.table["grade"].isna().tolist() == [False, True]
    assert field_coverage(pool) == {f: 1 for f in field_coverage(pool)}
    assert pool.categories().loc["2"].to_dict() == {c: c == "IMG" for c in CATEGORIES}


def test_llava_json_fields_are_unknown(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"id": "a", "conversations": [{"from": "human", "value": "Hi?"},
                                                              {"from": "gpt", "value": "Hello."}]}]))
    pool = load_pool("llava-json", path)
    assert field_coverage(pool) == {"hint": 0, "subject": 0, "topic": 0, "category": 0, "skill": 0,
                                    "grade": 0, "lecture": 0, "solution": 1}
    assert not pool.categories().to_numpy().any()
    assert pool.category_known()["NAT"].sum() == 0


def test_synthetic_knows_every_field():
    pool = load_pool("synthetic", size="tiny")
    assert all(n == len(pool) for n in field_coverage(pool).values())
    assert pd.api.types.is_integer_dtype(pool.table["grade"])


def test_hf_null_values_are_unknown(tmp_path):
    from test_loaders import hf_rows, write_parquet

    rows = hf_rows(2)
    rows[1]["hint"] = None
    rows[1]["grade"] = None
    pool = load_pool("hf", write_parquet(tmp_path / "train.parquet", rows))
    assert pool.table["hint"].tolist() == ["", None]
    assert pool.known("grade").tolist() == [True, False]
