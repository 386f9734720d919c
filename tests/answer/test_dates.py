"""Dates in questions become ranges; follow-ups bring new dates."""

import pytest

from qa.answer.dates import find_date_range, strip_dates


@pytest.mark.parametrize(
    ("question", "start", "end", "described"),
    [
        ("What did Kovalev report in 1949?", 19490101, 19491231, "from 1949"),
        ("Cables in May 1949", 19490501, 19490531, "from May 1949"),
        ("between 1949 and 1951", 19490101, 19511231, "from 1949 to 1951"),
        ("reports from 1949 to 1950", 19490101, 19501231, "from 1949 to 1950"),
        ("documents 1949-1951", 19490101, 19511231, "from 1949 to 1951"),
        ("anything before 1960?", None, 19591231, "up to 1959"),
        ("anything after 1970?", 19710101, None, "from 1971 on"),
        ("since March 1977", 19770301, None, "from March 1977 on"),
        ("What happened in the 1970s?", 19700101, 19791231, "from 1970 to 1979"),
        ("What about 1950?", 19500101, 19501231, "from 1950"),
        ("between May 1949 and June 1949", 19490501, 19490630, "from May 1949 to June 1949"),
        ("What did Kovalev write in spring 1949?", 19490301, 19490531, "from March 1949 to May 1949"),
        ("in the summer of 1949", 19490601, 19490831, "from June 1949 to August 1949"),
        ("during the winter of 1950", 19491201, 19500228, "from December 1949 to February 1950"),
        ("anything from late 1949?", 19490901, 19491231, "from September 1949 to December 1949"),
        ("in mid-1949", 19490501, 19490831, "from May 1949 to August 1949"),
        ("in the first half of 1963", 19630101, 19630630, "from January 1963 to June 1963"),
        ("What happened between May and July 1949?", 19490501, 19490731, "from May 1949 to July 1949"),
        ("from February to June 1949", 19490201, 19490630, "from February 1949 to June 1949"),
        ("How did it evolve from 1949 to the 1970s?", 19490101, 19791231, "from 1949 to 1979"),
    ],
)
def test_date_expressions_become_ranges(question, start, end, described):
    found = find_date_range(question)
    assert found is not None
    assert (found.start, found.end) == (start, end)
    assert found.describe() == described


@pytest.mark.parametrize(
    "question", ["Ciphered Telegram No. 53517", "What did Stalin tell Mao?", "Who is Filippov?", "PLA forces"]
)
def test_questions_without_dates_have_no_range(question):
    assert find_date_range(question) is None


def test_strip_dates_keeps_the_rest_of_the_question():
    assert strip_dates("What did Stalin discuss in May 1949?") == "What did Stalin discuss ?"
    assert strip_dates("telegrams between 1949 and 1951 from Kovalev") == "telegrams from Kovalev"
