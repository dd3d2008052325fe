from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from archive.db import ArticleVersion
from archive.diff import PILCROW, diff_versions, paragraphs, render, word_diff

OLD = "Talks collapsed on Thursday.\nNo agreement was reached in Hanoi.\nThe two leaders left early."
NEW = "Talks collapsed abruptly on Thursday.\nNo agreement was reached in Hanoi.\nThe leaders left early for home."


def test_words_added_and_removed_are_counted_word_by_word() -> None:
    diff = word_diff(OLD, NEW)
    changed = [(c.op, c.old, c.new) for c in diff.changes if c.op != "equal"]
    assert changed == [
        ("insert", [], ["abruptly"]),
        ("delete", ["two"], []),
        ("replace", ["early."], ["early", "for", "home."]),  # punctuation belongs to its word
    ]
    assert (diff.added, diff.removed) == (4, 2)


def test_identical_texts_and_paragraph_moves() -> None:
    assert word_diff(OLD, OLD).unchanged and word_diff(OLD, OLD).added == 0
    # re-wrapping paragraphs changes breaks, not words
    rewrapped = word_diff("one two\nthree", "one\ntwo three")
    assert (rewrapped.added, rewrapped.removed) == (0, 0) and not rewrapped.unchanged


def test_rendering_marks_changes_keeps_paragraphs_and_shortens_long_unchanged_runs() -> None:
    assert render(word_diff(OLD, NEW), context=3) == (
        "Talks collapsed {+abruptly+} on Thursday.\n[…] Hanoi.\nThe [-two-] leaders left [-early.-] {+early for home.+}"
    )
    assert render(word_diff(OLD, NEW), context=20).count("\n") == 2  # nothing to shorten
    colored = render(word_diff(OLD, NEW), color=True)
    assert "\033[32mabruptly\033[0m" in colored and "\033[31mtwo\033[0m" in colored


def test_a_version_diff_covers_headline_text_and_metadata() -> None:
    def version(title: str, text: str, author: str | None, at: datetime) -> ArticleVersion:
        return ArticleVersion(
            title=title,
            text=text,
            author=author,
            published="2019-02-28",
            description=None,
            license=None,
            language="en",
            canonical_url=None,
            extractor_version="2.0",
            first_seen_at=at,
        )

    old = version("Summit ends", OLD, "A. Writer", datetime(2019, 2, 28, 10))
    new = version("Summit ends early", NEW, "A. Writer and B. Writer", datetime(2019, 2, 28, 12))
    diff = diff_versions(old, new, 1, 2)
    assert (diff.headline.added, diff.headline.removed, diff.text.added) == (1, 0, 4)
    assert diff.metadata == {"author": ("A. Writer", "A. Writer and B. Writer")}
    data = diff.to_dict()
    assert data["old_version"] == 1 and data["new_seen"] == "2019-02-28T12:00:00"
    assert data["headline"]["changes"][-1] == {"op": "insert", "old": "", "new": "early"}
    assert data["metadata"] == {"author": {"old": "A. Writer", "new": "A. Writer and B. Writer"}}


def test_paragraphs_cut_every_run_at_a_break_and_mark_breaks_of_one_side() -> None:
    assert paragraphs(word_diff("one two\nthree", "one\ntwo three")) == [
        [("equal", "one"), ("insert", PILCROW)],
        [("equal", "two"), ("delete", PILCROW)],
        [("equal", "three")],
    ]
    assert paragraphs(word_diff(OLD, NEW))[0] == [
        ("equal", "Talks collapsed"),
        ("insert", "abruptly"),
        ("equal", "on Thursday."),
    ]
    assert paragraphs(word_diff("", "")) == []


@given(
    old=st.lists(st.sampled_from(["a", "b", "c", "\n"]), max_size=40),
    new=st.lists(st.sampled_from(["a", "b", "d", "\n"]), max_size=40),
)
def test_paragraphs_hold_both_texts_and_no_run_crosses_a_break(old: list[str], new: list[str]) -> None:
    cut = paragraphs(word_diff(" ".join(old), " ".join(new)))
    runs = [run for paragraph in cut for run in paragraph]
    assert all("\n" not in words for _, words in runs)

    def side(keep: str) -> list[str]:
        return [w for op, words in runs if op in ("equal", keep) for w in words.split() if w != PILCROW]

    assert side("delete") == [w for w in old if w != "\n"] and side("insert") == [w for w in new if w != "\n"]
