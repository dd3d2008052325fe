"""The publisher's articleBody against trafilatura's paragraphs."""

from __future__ import annotations

from archive.extraction.vouching import key, reconcile, standfirst

BODY = [
    "The council approved the transit budget on Tuesday after a long debate that went on into the night.",
    "Bus service on the three busiest routes will run every ten minutes from six in the morning, it said.",
    "Opponents said the cost of the plan would fall on property owners and promised to fight it in court.",
    "The first new buses are expected in the spring, and the full timetable should be in place by summer.",
    "Riders at the meeting said they had waited years for service that matched the size of their city.",
]
LEAD = "Buses every ten minutes: what the new budget means for riders."
TAIL = ["Sign up for our newsletter", "More from the city desk: five stories you may have missed this week."]


def never() -> str:
    raise AssertionError("the page's text was not needed")


def test_key_ignores_punctuation_case_and_spacing() -> None:
    assert key("It’s  the Council's  “plan”!") == key("its the councils plan")


def test_lines_after_the_last_vouched_one_are_dropped_the_lead_stays() -> None:
    result = reconcile([LEAD, *BODY, *TAIL], "\n".join(BODY), never)
    assert result.decided
    assert result.lines == [LEAD, *BODY]


def test_a_teaser_body_decides_nothing() -> None:
    result = reconcile([*BODY, *TAIL], BODY[0], never)
    assert (result.lines, result.decided) == ([*BODY, *TAIL], False)


def test_a_body_trafilatura_missed_replaces_its_text_only_if_the_page_shows_it() -> None:
    body = "\n".join(BODY)
    shown = reconcile(["Menu", "Home"], body, lambda: key(" ".join(["Menu", *BODY, "Footer"])))
    assert (shown.lines, shown.decided) == (BODY, True)
    hidden = reconcile(["Menu", "Home"], body, lambda: key("Menu Home Footer"))
    assert (hidden.lines, hidden.decided) == (["Menu", "Home"], False)


def test_a_paywall_teaser_is_kept_when_the_body_is_the_full_text() -> None:
    teaser = ["A long teaser paragraph that the paywalled page shows to every reader before the wall. " * 8]
    result = reconcile(teaser, "\n".join(BODY * 3), never)
    assert (result.lines, result.decided) == (teaser, False)


def test_body_paragraphs_trafilatura_dropped_are_put_back_in_the_pages_order() -> None:
    page = key(" ".join(["Menu", *BODY, *TAIL]))
    result = reconcile([BODY[0], BODY[2], BODY[4]], "\n".join(BODY), lambda: page)
    assert (result.lines, result.decided) == (BODY, True)


def test_a_body_paragraph_the_page_does_not_show_is_not_put_back() -> None:
    page = key(" ".join(["Menu", *BODY[:3], *BODY[4:]]))
    result = reconcile([BODY[0], BODY[2], BODY[4]], "\n".join(BODY), lambda: page)
    assert result.lines == [BODY[0], BODY[1], BODY[2], BODY[4]]


def test_a_body_paragraph_running_two_kept_lines_together_is_not_put_back_again() -> None:
    body = "\n".join([BODY[0] + " " + BODY[1], *BODY[2:]])
    result = reconcile(BODY, body, never)
    assert result.lines == BODY


# -- the standfirst the description announces ----------------------------------------------------------------------

STANDFIRST = "Buses every ten minutes on the three busiest routes: the council's budget, and what riders get from it."


def blocks(*texts: str):
    """A page's ``block(position, letters)``: the one of ``texts`` whose key holds the letters."""
    return lambda position, letters: next((t for t in texts if letters in key(t)), None)


def test_a_description_the_page_shows_above_the_text_is_put_in_where_it_shows_it() -> None:
    page = key(" ".join(["Menu", LEAD, STANDFIRST, *BODY]))
    result = standfirst([LEAD, *BODY], STANDFIRST, lambda: page, blocks(STANDFIRST))
    assert result == [LEAD, STANDFIRST, *BODY]


def test_a_description_cut_short_gives_the_whole_lead_the_page_shows() -> None:
    page = key(" ".join(["Menu", STANDFIRST, *BODY]))
    result = standfirst(BODY, STANDFIRST[:70] + "…", lambda: page, blocks(STANDFIRST))
    assert result == [STANDFIRST, *BODY]


def test_a_description_shown_only_after_the_text_is_another_pages_teaser() -> None:
    page = key(" ".join(["Menu", *BODY, "More stories", STANDFIRST]))
    assert standfirst(BODY, STANDFIRST, lambda: page, blocks(STANDFIRST)) == BODY


def test_a_description_the_page_does_not_show_or_the_text_holds_is_not_put_in() -> None:
    hidden = key(" ".join(["Menu", *BODY]))
    assert standfirst(BODY, STANDFIRST, lambda: hidden, blocks()) == BODY
    assert standfirst([STANDFIRST, *BODY], STANDFIRST, never, blocks()) == [STANDFIRST, *BODY]
    assert standfirst(BODY, "Local news", never, blocks()) == BODY  # a label, not a standfirst


def test_a_description_inside_a_container_of_more_is_put_in_as_stated() -> None:
    container = " ".join([STANDFIRST, *TAIL, "A long list of other stories. " * 30])
    page = key(" ".join(["Menu", container, *BODY]))
    assert standfirst(BODY, STANDFIRST, lambda: page, blocks(container)) == [STANDFIRST, *BODY]
