"""Random sequences of type writes give the same results and errors on ml_metadata and on ours.

Names, versions, external ids and property names come from small pools, so that sequences hit
upgrades (``can_add_fields`` / ``can_omit_fields``), value-type conflicts, ``UNKNOWN`` value
types, base types set, changed or cleared, types given by id, external ids taken by another
version or type, and the reads of types by name, version, id and external id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

KINDS = ("artifact", "execution", "context")
TYPE_PROTO = {"artifact": pb.ArtifactType, "execution": pb.ExecutionType, "context": pb.ContextType}
#: Each kind's SystemDefinedBaseType values (a context type has only UNSET).
BASE_TYPES = {"artifact": range(5), "execution": range(6), "context": range(1)}
VALUE_TYPES = [pb.INT, pb.STRING, pb.DOUBLE, pb.STRUCT, pb.BOOLEAN]


@st.composite
def type_writes(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    kind = draw(st.sampled_from(KINDS))
    t = TYPE_PROTO[kind](name=draw(st.sampled_from(["a", "b"])))
    version = draw(st.none() | st.sampled_from(["", "v1"]))
    if version is not None:
        t.version = version
    value_types = st.sampled_from(VALUE_TYPES) | st.just(pb.UNKNOWN)  # UNKNOWN: 1 in 6
    for key, value in draw(st.dictionaries(st.sampled_from("pq"), value_types)).items():
        t.properties[key] = value
    base = draw(st.none() | st.sampled_from(BASE_TYPES[kind]))
    if base is not None:
        t.base_type = base
    # per kind: two types of different kinds sharing one is a documented difference (D11)
    external_id = draw(st.none() | st.sampled_from(["x", "y"]))
    if external_id is not None:
        t.external_id = f"{kind}-{external_id}"
    description = draw(st.none() | st.sampled_from(["", "d"]))
    if description is not None:
        t.description = description
    type_id = draw(st.none() | st.integers(9, 13))
    if type_id is not None:
        t.id = type_id
    flags = {"can_add_fields": draw(st.booleans()), "can_omit_fields": draw(st.booleans())}
    return (f"put_{kind}_type", (t,), flags)


#: An update to an external id another type holds: ml_metadata's InternalError, our
#: AlreadyExistsError (documented, D11).
_ALIKE = ((errors.InternalError, errors.AlreadyExistsError),)


def _read(b: Both, method: str, *args: Any, clear: tuple[str, ...] = ()) -> None:
    try:
        getattr(b.ref, method)(*args)  # a read: asking twice changes nothing
    except errors.StatusError:
        b.fails(method, *args)
    else:
        b.call(method, *args, clear=clear)


@settings(
    max_examples=30,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking replays cost minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(type_writes(), min_size=1, max_size=10))
def test_random_type_writes_agree(make_both: Callable[[], Both], ops: list[Any]) -> None:
    b = make_both()
    for op in ops:
        b.replay(op, alike=_ALIKE)
    for kind in KINDS:
        _read(b, f"get_{kind}_types", clear=("external_id",))  # D6
        _read(b, f"get_{kind}_types_by_id", [13, 10, 1, 99, 10, 11, 12, 9])
        # D6: MLMD leaves base_type out of these
        external_ids = [f"{kind}-{x}" for x in ("y", "x", "z", "x")]
        _read(b, f"get_{kind}_types_by_external_ids", external_ids, clear=("base_type",))
        for name in ("a", "b"):
            for version in (None, "", "v1"):
                _read(b, f"get_{kind}_type", name, version)
