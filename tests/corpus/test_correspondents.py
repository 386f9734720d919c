"""Who wrote to whom, read from the archive's title conventions (qa/corpus/correspondents.py)."""

from __future__ import annotations

import pytest

from qa.corpus.correspondents import Correspondents, code_names, read_title


@pytest.mark.parametrize(
    ("title", "authors", "recipients", "intermediaries", "participants"),
    [
        ("Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]", ("Kovalev",), ("Stalin",), (), ()),
        ("Cable, Stalin to Mao Zedong [via Kovalev]", ("Stalin",), ("Mao Zedong",), ("Kovalev",), ()),
        (
            "Cable, Kovalev to Stalin, Report on the 22 May 1949 CCP CC Politburo Discussion",
            ("Kovalev",),
            ("Stalin",),
            (),
            (),
        ),
        ("Report, Kovalev to Stalin", ("Kovalev",), ("Stalin",), (), ()),
        ("Letter from Fidel Castro to Nikita Khrushchev", ("Fidel Castro",), ("Nikita Khrushchev",), (), ()),
        ("Telegram from Pyongyang to Bucharest, No. 76.219", ("Pyongyang",), ("Bucharest",), (), ()),
        ("Cable from Filippov [Stalin] to Mao Zedong on the Armistice Talks", ("Stalin",), ("Mao Zedong",), (), ()),
        ("Letter from Peng Dehuai to Mao Zedong, undated [1951]", ("Peng Dehuai",), ("Mao Zedong",), (), ()),
        ("Cable from Mao Zedong to Stalin via Kovalev", ("Mao Zedong",), ("Stalin",), ("Kovalev",), ()),
        (
            "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong",
            (),
            (),
            (),
            ("Anastas Mikoyan", "Mao Zedong"),
        ),
        (
            "Conversation between Nicolae Ceaușescu and Zhou Enlai on the Sino-Soviet Border",
            (),
            (),
            (),
            ("Nicolae Ceaușescu", "Zhou Enlai"),
        ),
        (
            "Conversation between Deng Xiaoping and Yuri Andropov, undated [1963]",
            (),
            (),
            (),
            ("Deng Xiaoping", "Yuri Andropov"),
        ),
        ("Record of a Meeting between Stalin and Kim Il Sung", (), (), (), ("Stalin", "Kim Il Sung")),
        ("Record of a Conversation with Ambassador Yudin", (), (), (), ("Ambassador Yudin",)),
        ("Speech by Enver Hoxha to the Politburo (excerpt)", ("Enver Hoxha",), ("the Politburo",), (), ()),
        (
            "Note by the Bulgarian Embassy in Beijing on the Ussuri Incidents",
            ("the Bulgarian Embassy in Beijing",),
            (),
            (),
            (),
        ),
        ("Reply of the Chinese Ambassador to Imre Horváth", ("the Chinese Ambassador",), ("Imre Horváth",), (), ()),
        (
            "Cable from the Romanian Embassy in Beijing, January 21, 1980, 057026, Secret",
            ("the Romanian Embassy in Beijing",),
            (),
            (),
            (),
        ),
        ("Kim Il Sung's Notes for a Speech to Party Cadres, undated [1950]", ("Kim Il Sung",), (), (), ()),
    ],
)
def test_titles_name_their_correspondents(title, authors, recipients, intermediaries, participants):
    assert read_title(title) == Correspondents(authors, recipients, intermediaries, participants)


@pytest.mark.parametrize(
    "title",
    [
        "Transcript of Meeting of the Political Bureau of the CC of Romanian Worker’s Party",
        "CC CPSU Information on Chinese Foreign Policy Issues",
        "Note on the Soviet Loan, undated [1949]",
        "List of Chinese Students Expelled from Moscow University",
        "Record of a Conversation on Railway Supplies in the Northeast",
        "Report of the Meeting on the Railway",
        "",
    ],
)
def test_a_title_that_fits_no_rule_names_no_one(title):
    assert not read_title(title)


def test_a_list_of_names_splits_on_commas_and_and():
    found = read_title("Memorandum of Conversation between Stalin, Mao Zedong and Zhou Enlai")
    assert found.participants == ("Stalin", "Mao Zedong", "Zhou Enlai")
    assert found.everyone == found.participants


def test_code_names_are_read_from_titles():
    assert code_names("Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]") == [("Filippov", "Stalin")]
    assert code_names("Cable, Stalin to Mao Zedong [via Kovalev]") == []
