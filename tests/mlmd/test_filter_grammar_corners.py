"""Corners of the filter grammar against ml_metadata 1.17.1 itself: path parts that start with a
digit, and characters the tokenizer must refuse with MLMD's error class.
"""

from __future__ import annotations

from typing import Any

import pytest
from ml_metadata import ListOptions, errors
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

#: Custom property names that ZetaSQL reads after a dot although they start with a digit.
DIGIT_NAMES = {"1": 6, "1a": 7, "12": 8, "0x1": 9, "1e5": 10, "1_": 11}


def _ids(store: Any, query: str) -> list[int] | type[Exception]:
    try:
        return [a.id for a in store.get_artifacts(list_options=ListOptions(filter_query=query))]
    except errors.StatusError as exc:
        return type(exc)


@pytest.fixture
def digits(both: Both) -> Both:
    t = both.call("put_artifact_type", pb.ArtifactType(name="A", properties={"2": pb.INT}))
    plain = pb.Artifact(type_id=t, uri="plain")
    named = pb.Artifact(type_id=t, uri="named")
    named.properties["2"].int_value = 2
    for name, value in DIGIT_NAMES.items():
        named.custom_properties[name].int_value = value
    ctx = pb.Context(type_id=both.call("put_context_type", pb.ContextType(name="C")), name="c")
    both.call("put_artifacts", [plain, named])
    both.call("put_contexts", [ctx])
    both.call(
        "put_attributions_and_associations", [pb.Attribution(artifact_id=2, context_id=1)], []
    )
    return both


@pytest.mark.parametrize(
    "query",
    [
        *(f"custom_properties.{n}.int_value = {v}" for n, v in DIGIT_NAMES.items()),
        "custom_properties.1.int_value=6",
        "custom_properties.1.int_value IN (6, 7)",
        "custom_properties.1.int_value BETWEEN 5 AND 6 AND uri = 'named'",
        "6 = custom_properties.1.int_value",
        "custom_properties.1.int_value IS NULL",
        "custom_properties.1.int_value IS NOT NULL",
        "NOT custom_properties.1a.int_value = 7",
        "properties.2.int_value = 2",
        "properties.2.int_value = .5 OR id = 1",
        "custom_properties.`1`.int_value = 6",
        "id IN (1, 2) AND .5 < 1",
        "contexts_1.name = 'c'",
    ],
)
def test_a_path_part_may_start_with_a_digit(digits: Both, query: str) -> None:
    """``custom_properties.1.int_value`` reads the property ``1`` in MLMD (ZetaSQL lexes a part
    right after a dot as a name); it was a syntax error here ("got number .1")."""
    digits.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "custom_properties.1.5.int_value = 9",  # a path of four parts
        "custom_properties.1.INT_VALUE = 6",
        "custom_properties.1.int_value.5 = 1",
        "contexts_a.1 = 1",
        "id = \u0661",  # ARABIC-INDIC DIGIT ONE: not a digit of the grammar
        "name = 'x' OR id = \u0665",
        "id = 1\u0661",
    ],
)
def test_malformed_digit_forms_are_invalid_on_both(digits: Both, query: str) -> None:
    """A digit other than 0-9 was taken for the start of a number and failed an assertion
    (an ``AssertionError``, not ml_metadata's ``InvalidArgumentError``)."""
    assert digits.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )
