"""The people index (qa/index/people.py): built from titles with the alias table, saved with a build, used as a mask."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.index.lexical import Analyzer
from qa.index.people import OFFSETS_FILE, PEOPLE_FILE, POSITIONS_FILE, People, person_key
from qa.records import Record


def _record(i: int, title: str) -> Record:
    return Record(
        id=str(i), title=title, date=None, date_precision=None, summary="", url=None, collection="c", source=f"f:{i}"
    )


TITLES = [
    "Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]",
    "Cable, Stalin to Mao Zedong [via Kovalev]",
    "Memorandum of Conversation between Anastas Mikoyan and Mao Tse-tung",
    "Letter from Joseph Stalin to Chairman Mao",
    "Note on the Soviet Loan",
    "Telegram from the Chinese Embassy in Moscow to the Foreign Ministry",
]


@pytest.fixture(scope="module")
def people():
    return People.build([_record(i, t) for i, t in enumerate(TITLES)], Analyzer.from_files())


def test_one_person_under_every_name_the_alias_table_gives(people):
    assert people.positions("stalin", ("recipients",)).tolist() == [0]
    assert people.positions("stalin", ("authors",)).tolist() == [1, 3]
    assert people.positions("mao zedong").tolist() == [1, 2, 3]
    assert people.positions("kovalev", ("intermediaries",)).tolist() == [1]
    assert "chinese embassy in moscow" in people  # a leading article is no part of a key
    assert people.positions("nobody").tolist() == []
    assert person_key("Filippov", people.analyzer) == person_key("Joseph Stalin", people.analyzer) == "stalin"


def test_names_are_shown_as_the_titles_write_them_most(people):
    assert people.name_of("stalin") == "Stalin"
    assert dict(people.names())["Stalin"] == 3
    assert people.names()[0][0] in ("Stalin", "Mao Zedong")


@pytest.mark.parametrize(
    ("name", "keys"),
    [("Filippov", ["stalin"]), ("Mikoyan", ["anastas mikoyan"]), ("Mao", ["mao zedong"]), ("Nobody", []), ("", [])],
)
def test_a_name_finds_the_people_it_stands_for(people, name, keys):
    assert people.find(name) == keys


def test_a_mask_holds_the_records_of_the_people_in_those_roles(people):
    assert np.flatnonzero(people.mask(["stalin"], ("authors",))).tolist() == [1, 3]
    assert np.flatnonzero(people.mask(["stalin", "kovalev"])).tolist() == [0, 1, 3]
    assert not people.mask(["nobody"]).any() and people.mask([]).shape == (len(TITLES),)


def test_question_handles_are_whole_names_and_the_words_of_personal_names(people):
    assert people.keys_for_handle("mikoyan") == {"anastas mikoyan"}
    assert people.keys_for_handle("mao") == {"mao zedong"}
    assert people.keys_for_handle("embassy") == set()  # not a personal name: only its whole name is a handle
    assert people.keys_for_handle("chinese embassy in moscow") == {"chinese embassy in moscow"}


def test_a_body_named_with_its_place_is_found_by_the_place(people):
    """`Telegram from the Chinese Embassy in Moscow …`: "documents from Moscow" finds the Embassy's telegram."""
    assert people.keys_for_handle("moscow") == {"chinese embassy in moscow"}
    assert people.find("Moscow") == ["chinese embassy in moscow"]


def test_a_surname_holds_the_whole_name_only_when_it_names_one_person():
    from qa.index.people import with_names

    titles = ["Letter from Wang Ming to Stalin", "Letter from Wang Jiaxiang to Mao Zedong", "Cable, Stalin to Mao"]
    people = People.build([_record(i, t) for i, t in enumerate(titles)], Analyzer.from_files())
    mao, ming = people.named("mao zedong"), people.named("wang ming")
    assert with_names({"mao", "loan"}, [mao]) == {"mao", "zedong", "loan"}
    assert with_names({"wang"}, [ming]) == {"wang"}  # two Wangs in the titles: "Wang" alone is neither
    assert with_names({"ming"}, [ming]) == {"wang", "ming"}


def test_saved_and_loaded_people_are_the_same(people, tmp_path):
    people.save(tmp_path)
    loaded = People.load(tmp_path, [], people.analyzer)
    assert loaded.count == people.count and loaded.keys == people.keys
    assert loaded.positions("stalin", ("authors",)).tolist() == [1, 3] and loaded.name_of("stalin") == "Stalin"


def test_a_build_made_before_the_file_existed_reads_its_titles(people, tmp_path):
    loaded = People.load(tmp_path, [_record(i, t) for i, t in enumerate(TITLES)], people.analyzer)
    assert loaded.keys == people.keys


def test_the_index_writes_and_loads_its_people(hashing_index):
    for name in (PEOPLE_FILE, POSITIONS_FILE, OFFSETS_FILE):
        assert name in hashing_index.manifest.files  # checked like every file of the build
    assert hashing_index.people.find("Filippov") == ["stalin"]
    assert len(hashing_index.people.positions("kovalev", ("authors",))) == 4


def test_search_takes_a_record_mask(hashing_index):
    mask = hashing_index.people.mask(["kovalev"], ("authors",))
    query = hashing_index.query("Soviet loan to China", mode="bm25")
    hits = hashing_index.search(query, 10, "bm25", None, mask)
    assert hits and all(mask[h.position] for h in hits)
    assert hashing_index.search(query, 10, "bm25", None, np.zeros(hashing_index.count, dtype=bool)) == []


def _same_people(a: People, b: People) -> None:
    assert (a.keys, a.names_shown, a.count, a.codes, a.shown) == (b.keys, b.names_shown, b.count, b.codes, b.shown)
    assert np.array_equal(a.positions_, b.positions_) and np.array_equal(a.offsets, b.offsets)


def test_people_updated_for_changed_records_are_those_built_afresh(people):
    """Records kept (renumbered), gone, retitled and added: the update reads only the new titles, and gives what a
    fresh build gives, names shown and code names included."""
    more = TITLES + ["Letter from Stalin to Kovalev", "Cable, Filippov [Stalin] to Mao Zedong"]
    before = People.build([_record(i, t) for i, t in enumerate(more)], people.analyzer)
    # now: record 0 gone, 1 and 2 kept (moved up), 3 retitled, a new one, the rest kept
    titles = [more[1], more[2], "Letter from Kovalev to Filippov", "Telegram from Mikoyan to Stalin", *more[4:]]
    origin = np.asarray([1, 2, -1, -1, 4, 5, 6, 7])
    read: list[int] = []

    def old_title(position: int) -> str:
        read.append(position)
        return more[position]

    updated = People.update(before, titles, origin, old_title, people.analyzer)
    assert sorted(read) == [0, 3]  # only the titles of the records gone are read again
    _same_people(updated, People.build([_record(i, t) for i, t in enumerate(titles)], people.analyzer))
    assert updated.positions("stalin", ("recipients",)).tolist() == [2, 3]


def test_people_of_another_format_or_alias_table_are_not_updated(people, tmp_path):
    titles = list(TITLES)
    with pytest.raises(ValueError):
        People.update(People(people.keys, people.names_shown, people.positions_, people.offsets, people.count,
                             people.analyzer), titles, np.arange(len(titles)), TITLES.__getitem__, people.analyzer)
    with pytest.raises(ValueError):
        People.update(people, titles, np.arange(len(titles)), TITLES.__getitem__, Analyzer({"uncle joe": "stalin"}))
    people.save(tmp_path)
    _same_people(People.read(tmp_path, people.analyzer), people)
    data = json.loads((tmp_path / PEOPLE_FILE).read_text(encoding="utf-8"))
    del data["shown"]
    (tmp_path / PEOPLE_FILE).write_text(json.dumps({**data, "format": 2}), encoding="utf-8")
    older = People.read(tmp_path, people.analyzer)  # a build of the format before: loaded, but built afresh
    assert older.keys == people.keys and older.shown is None
    with pytest.raises(ValueError):
        People.update(older, titles, np.arange(len(titles)), TITLES.__getitem__, people.analyzer)
