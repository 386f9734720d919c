"""Settings: defaults, then the environment, then flags; each field's parser and help; bad values named."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from qa.config import DEFAULT_MODEL, MAX_K, AnswerWeights, Config, default_cache
from qa.errors import ConfigError

# One good text per field, and the value it gives.
GOOD = {
    "corpus": ("/data/corpus", Path("/data/corpus")),
    "index": ("/data/index", Path("/data/index")),
    "model": ("/models/minilm", "/models/minilm"),
    "k": (" 7 ", 7),
    "mode": ("bm25", "bm25"),
    "index_kind": ("hnsw", "hnsw"),
    "vector_dtype": ("float16", "float16"),
    "hnsw_threshold": ("1000", 1000),
    "aliases": ("extra.tsv", Path("extra.tsv")),
    "query_backend": ("torch", "torch"),
    "encoder": ("onnx", "onnx"),
    "device": ("cuda", "cuda"),
    "engine": ("ray", "ray"),
    "ray_address": ("10.0.0.5:6379", "10.0.0.5:6379"),
    "cache": ("/tmp/qa-cache", Path("/tmp/qa-cache")),
    "answer_weights": ("1, 0, 0.5, 0, 0", AnswerWeights(1, 0, 0.5, 0, 0)),
    "conversations": ("/data/chats.sqlite3", Path("/data/chats.sqlite3")),
    "archive_url": ("https://archive.example/ ", "https://archive.example"),
    "llm_url": ("http://localhost:11434/v1/", "http://localhost:11434/v1"),
    "llm_model": ("llama3.2:3b", "llama3.2:3b"),
    "llm_key": ("sk-local", "sk-local"),
    "llm_timeout": ("2.5", 2.5),
}

# Texts each field refuses, with a part of the message.
BAD = [
    ("k", "five", "'five' is not a whole number"),
    ("k", "0", f"0 must be between 1 and {MAX_K}"),
    ("k", str(MAX_K + 1), f"must be between 1 and {MAX_K}"),
    ("k", "9" * 5000, "is not a whole number"),
    ("mode", "semantic", "'semantic' is not one of hybrid, dense, bm25"),
    ("index_kind", "ivf", "'ivf' is not one of auto, flat, hnsw"),
    ("vector_dtype", "int8", "'int8' is not one of auto, float32, float16"),
    ("hnsw_threshold", "-3", "-3 must be at least 1"),
    ("query_backend", "tensorrt", "is not one of onnx, torch"),
    ("encoder", "tensorrt", "is not one of onnx, onnx-int8, torch"),
    ("engine", "spark", "'spark' is not one of local, ray"),
    ("archive_url", "javascript:alert(1)", "is not an http(s) address"),
    ("llm_url", "localhost:11434", "is not an http(s) address"),
    ("llm_timeout", "soon", "'soon' is not a number of seconds"),
    ("llm_timeout", "0", "0.0 must be a number of seconds above 0"),
    ("llm_timeout", "inf", "inf must be a number of seconds above 0"),
    ("answer_weights", "1,2,3", "is not 5 numbers separated by commas"),
    ("answer_weights", "1,2,3,4,x", "is not 5 numbers separated by commas"),
    ("answer_weights", "1,2,3,4,nan", "is not 5 numbers separated by commas"),
]


def test_every_field_is_a_setting_with_a_variable_and_one_help_line():
    settings = Config.settings()
    assert list(settings) == [f.name for f in fields(Config)] == list(GOOD)
    for name, setting in settings.items():
        assert setting.env == f"ARCHIVE_QA_{name.upper()}"
        assert setting.help and "\n" not in setting.help and len(setting.help) < 100


def test_the_defaults():
    config = Config.from_env({})
    assert config == Config()
    assert (config.corpus, config.index, config.model, config.k, config.mode) == (
        Path("corpus"),
        None,
        DEFAULT_MODEL,
        5,
        "hybrid",
    )
    assert (config.index_kind, config.hnsw_threshold, config.query_backend) == ("auto", 50_000, "onnx")
    assert config.answer_weights == AnswerWeights()
    assert str(config.answer_weights) == "0.35,0.3,0.15,0.2,0.03"


@pytest.mark.parametrize("name", list(GOOD))
def test_each_field_is_parsed_from_its_variable(name):
    text, value = GOOD[name]
    setting = Config.settings()[name]
    assert setting.parse(text) == value
    assert getattr(Config.from_env({setting.env: text}), name) == value


def test_the_environment_overrides_the_defaults_and_flags_override_both():
    environ = {"ARCHIVE_QA_K": "7", "ARCHIVE_QA_MODE": "dense", "ARCHIVE_QA_MODEL": "hashing:64"}
    config = Config.from_env(environ, k=3, mode=None)  # a flag not given (None) leaves the value alone
    assert (config.k, config.mode, config.model) == (3, "dense", "hashing:64")
    assert Config.from_env({"ARCHIVE_QA_K": ""}).k == 5  # an empty variable is not set


def test_the_process_environment_is_read_when_none_is_given(monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_HNSW_THRESHOLD", "12")
    assert Config.from_env().hnsw_threshold == 12


def test_written_answers_are_off_by_default_and_the_key_is_not_shown():
    assert Config().llm_url is None
    config = Config.from_env({"ARCHIVE_QA_LLM_URL": "http://127.0.0.1:8080", "ARCHIVE_QA_LLM_KEY": "sk-secret"})
    assert config.llm_key == "sk-secret" and "sk-secret" not in repr(config)


def test_paths_expand_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Config.settings()["cache"].parse("~/qa") == tmp_path / "qa"


def test_the_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache() == tmp_path / "archive-qa" == Config().cache
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache() == tmp_path / "home" / ".cache" / "archive-qa"


@pytest.mark.parametrize(("name", "text", "message"), BAD)
def test_a_bad_value_in_the_environment_names_its_variable(name, text, message):
    env = Config.settings()[name].env
    with pytest.raises(ConfigError) as caught:
        Config.from_env({env: text})
    assert str(caught.value).startswith(f"{env}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"k": 0}, "k: 0 must be between 1"),
        ({"k": True}, "k: True must be between 1"),
        ({"mode": "fuzzy"}, "mode: 'fuzzy' is not one of"),
        ({"index_kind": "ivf"}, "index_kind: 'ivf' is not one of"),
        ({"hnsw_threshold": 0}, "hnsw_threshold: 0 must be at least 1"),
        ({"llm_url": "localhost:11434"}, "llm_url: 'localhost:11434' is not an http"),
    ],
)
def test_a_bad_flag_or_value_in_code_names_its_field(values, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env({}, **values)
    with pytest.raises(ConfigError, match=message):
        Config(**values).validate()


def test_the_index_folder_defaults_to_index_beside_the_corpus(tmp_path):
    assert Config(corpus=tmp_path / "corpus").index_dir == tmp_path / "index"
    assert Config(corpus=tmp_path / "corpus", index=tmp_path / "elsewhere").index_dir == tmp_path / "elsewhere"


def test_a_bad_variable_is_one_line_from_the_command_line(monkeypatch, capfd):
    from archive_qa.cli import main

    monkeypatch.setenv("ARCHIVE_QA_K", "many")
    assert main(["ask", "Who met Mao?"]) == 2
    out, err = capfd.readouterr()
    assert out == "" and err == "archive-qa: ARCHIVE_QA_K: 'many' is not a whole number\n"


def test_the_readme_lists_every_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [s.env for s in Config.settings().values() if f"`{s.env}`" not in readme]
    assert missing == []
