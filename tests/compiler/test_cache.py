"""The per-shape cache: hits, misses with reasons, the recompile limit, threads."""

import logging
import threading

import numpy as np
import pytest

import symgrad


def test_hit_does_not_retrace():
    traces = []

    @symgrad.compile
    def f(x):
        traces.append(1)
        return x * 2

    for _ in range(5):
        f(np.ones(3))
    assert len(traces) == 1
    assert f.cache_info().entries[0].hits == 5


def test_miss_reasons_diff_against_closest_key():
    f = symgrad.compile(lambda x, y: x + y)
    f(np.ones((32, 784), np.float32), np.ones(784, np.float32))
    f(np.ones((17, 784), np.float32), np.ones(784, np.float32))
    f(np.ones((17, 784), np.float64), np.ones(784, np.float32))
    reasons = f.cache_info().recompile_reasons
    assert reasons[0] == "arg 'x': shape (32, 784) -> (17, 784)"
    assert reasons[1] == "arg 'x': dtype float32 -> float64"


def test_requires_grad_and_grad_mode_are_in_the_key():
    f = symgrad.compile(lambda x: x * 2)
    f(symgrad.ones(2))
    f(symgrad.ones(2, requires_grad=True))
    with symgrad.no_grad():
        f(symgrad.ones(2, requires_grad=True))
    reasons = f.cache_info().recompile_reasons
    assert reasons == ["arg 'x': requires_grad False -> True", "grad mode enabled -> disabled"]


def test_recompiles_are_logged(caplog):
    f = symgrad.compile(lambda x: x * 2)
    with caplog.at_level(logging.DEBUG, logger="symgrad"):
        f(np.ones(2))
        f(np.ones(3))
    assert any("shape (2,) -> (3,)" in r.message for r in caplog.records)


def test_recompile_limit_warns_loudly_and_still_compiles():
    f = symgrad.compile(lambda x: x + 1, recompile_limit=2)
    f(np.ones(1))
    f(np.ones(2))
    with pytest.warns(UserWarning, match="past recompile_limit=2"):
        result = f(np.ones(3))
    np.testing.assert_array_equal(result, [2.0, 2.0, 2.0])


def test_captured_tensor_shape_change_recompiles():
    w = symgrad.ones(2)
    f = symgrad.compile(lambda x: x * w)
    f(np.ones(2))
    globals_holder = {"w": w}
    w2 = symgrad.ones(3)
    w._data = w2._data  # the same Python object now holds a different shape
    assert f(np.ones(3)).shape == (3,)
    assert globals_holder


def test_concurrent_first_calls_compile_once():
    traces = []

    @symgrad.compile
    def f(x):
        traces.append(1)
        return (x * x).sum()

    barrier = threading.Barrier(8)
    results = []

    def worker(k):
        barrier.wait()
        results.append(float(f(np.full(4, float(k)))))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(traces) == 1
    assert sorted(results) == [4.0 * k * k for k in range(8)]


def test_explain_reports_stages_rules_saved_and_key():
    f = symgrad.compile(lambda x: (x * 1).log().sum())
    x = symgrad.rand(10, requires_grad=True)
    text = str(f.explain(x))
    for expected in (
        "traced",
        "after reverse",
        "after canonicalize",
        "multiply_by_one",
        "saved for backward",
        "cache key: (x: tensor float32[10]",
        "time per phase",
    ):
        assert expected in text


def test_graph_dump_one_node_per_line():
    f = symgrad.compile(lambda x: (x * x).sum())
    text = f.graph(np.ones((128, 256), np.float32))
    assert "%" in text and ":: f32[128,256]" in text
    assert "test_cache.py" in text
