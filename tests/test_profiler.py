"""symgrad.autograd.profiler: per-op counts and times of symgrad's own ops and backward nodes,
record_function ranges, torch's table layout, and nothing recorded outside a profile."""

from __future__ import annotations

import pytest

import symgrad
from symgrad.autograd import profiler


def counts(prof) -> dict:
    return {e.key: e.count for e in prof.key_averages()}


def program(x):
    y = (x * x + x).sum()
    y.backward()


def test_counts_forward_ops_and_backward_nodes():
    x = symgrad.ones(2, 2, requires_grad=True)
    with profiler.profile() as prof:
        program(x)
    found = counts(prof)
    # forward: mul, add, sum; backward: one node each, and MulBackward0 runs two muls (the
    # engine sums the three gradients reaching x in numpy, not as ops)
    assert found["MulBackward0"] == found["AddBackward0"] == found["SumBackward0"] == 1
    assert found["mul"] == 3 and found["add"] == 1 and found["sum"] == 1
    assert x.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_times_nest_record_function_and_add_up():
    x = symgrad.ones(3, requires_grad=True)
    with profiler.profile() as prof:
        with profiler.record_function("outer"):
            with profiler.record_function("inner"):
                x.exp().sum()
            x.sin()
    events = {e.name: e for e in prof.events()}
    for event in prof.events():
        assert 0 <= event.self_cpu_time_total <= event.cpu_time_total
    inner, outer = events["inner"], events["outer"]
    assert inner.cpu_time_total >= events["exp"].cpu_time_total + events["sum"].cpu_time_total
    assert outer.cpu_time_total >= inner.cpu_time_total + events["sin"].cpu_time_total
    total = sum(e.self_cpu_time_total for e in prof.events())
    assert prof.self_cpu_time_total == pytest.approx(total)
    # self times partition the outermost range
    assert total == pytest.approx(outer.cpu_time_total, rel=1e-9)


def test_table_is_torchs_layout_and_sorts():
    x = symgrad.ones(2, requires_grad=True)
    with profiler.profile() as prof:
        for _ in range(3):
            x * 2
        x + 1
    table = prof.key_averages().table(sort_by="count", row_limit=10)
    lines = table.splitlines()
    titles = "Name Self CPU % Self CPU CPU total % CPU total CPU time avg # of Calls"
    assert lines[1].split() == titles.split()
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    rows = [line.split() for line in lines[3:-2]]
    assert [(r[0], r[-1]) for r in rows] == [("mul", "3"), ("add", "1")]
    assert lines[-1].startswith("Self CPU time total: ")
    assert str(prof.key_averages()) == prof.key_averages().table()
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="no_such_column")


def test_group_by_input_shape():
    a, b = symgrad.ones(2), symgrad.ones(3, 1)
    with profiler.profile(record_shapes=True) as prof:
        a * 2
        a * 3
        b * b
    grouped = prof.key_averages(group_by_input_shape=True)
    assert sorted((e.key, str(e.input_shapes), e.count) for e in grouped) == [
        ("mul", "[[2], []]", 2),
        ("mul", "[[3, 1], [3, 1]]", 1),
    ]
    assert "Input Shapes" in grouped.table()
    assert [e.count for e in prof.key_averages()] == [3]


def test_nothing_is_recorded_outside_or_when_disabled():
    x = symgrad.ones(2)
    with profiler.profile() as prof:
        pass
    x * 2
    with profiler.record_function("alone"):
        x + 1
    assert list(prof.events()) == []
    assert not profiler.recording
    with profiler.profile(enabled=False) as off:
        x * 2
    with pytest.raises(RuntimeError, match="^Profiler didn't finish running$"):
        off.key_averages()


def test_profile_stops_on_error_and_accepts_torchs_options():
    with pytest.raises(ValueError):
        with profiler.profile(
            use_cuda=False, profile_memory=True, with_stack=True, with_flops=True
        ):
            raise ValueError
    assert not profiler.recording


def test_nested_profiles_both_record_and_decorator():
    @profiler.record_function("step")
    def step(x):
        return x * 2

    x = symgrad.ones(2)
    with profiler.profile() as outer:
        with profiler.profile() as inner:
            step(x)
        x + 1
    assert counts(inner) == {"mul": 1, "step": 1}
    assert counts(outer) == {"mul": 1, "step": 1, "add": 1}


def test_reachable_as_torch_autograd_profiler():
    assert symgrad.autograd.profiler.profile is profiler.profile
