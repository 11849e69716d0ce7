"""`forewarn.hook.fastjson` agrees with the `json` package it stands in for."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forewarn.hook import fastjson

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_dumps_round_trips_through_json_and_is_ascii(value: object) -> None:
    text = fastjson.dumps(value)
    assert text.isascii()
    assert json.loads(text) == value


@given(JSON_VALUES, st.sampled_from([0, None, 2]))
def test_loads_agrees_with_json(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    assert fastjson.loads(text) == value
    assert fastjson.loads(text.encode()) == value
    assert fastjson.loads(" \n" + text + "\n\t") == value


@given(st.text(max_size=30))
def test_loads_raises_valueerror_exactly_when_json_rejects(text: str) -> None:
    try:
        expected = json.loads(text, strict=False)
    except ValueError:
        with pytest.raises(ValueError):
            fastjson.loads(text)
    else:
        if text.strip() and "NaN" not in text and "Infinity" not in text:
            assert fastjson.loads(text) == expected


@pytest.mark.parametrize(
    "bad", [b"", b"   ", b"{", b'{"a": 1} x', b"\xff", b"NaN", b"[Infinity]", b"01"]
)
def test_loads_rejects(bad: bytes) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(bad)


def test_loads_accepts_bom_and_control_characters_in_strings() -> None:
    assert fastjson.loads("\ufeff{}") == {}
    assert fastjson.loads('{"a": "line\nbreak"}') == {"a": "line\nbreak"}


def test_dumps_rejects_what_json_cannot_hold() -> None:
    for bad in (float("nan"), {1: "x"}, object()):
        with pytest.raises((TypeError, ValueError)):
            fastjson.dumps(bad)
