"""Data-parallel gradients on Dask: ``backend="array_api"`` code on Dask arrays chunked by rows
builds a lazy task graph, one piece per chunk, whose result equals the numpy backend's.

A module-scoped ``distributed.LocalCluster`` (2 worker processes, small memory) runs the
compiled logistic regression and MLP gradients; the other tests use Dask's local schedulers.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from extras import need

dask = need("dask")
distributed = need("distributed")
need("array_api_compat")

import dask.array as da  # noqa: E402

import symgrad  # noqa: E402
import symgrad.nn.functional as F  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="300MiB",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def logistic_loss(w, b, X, y):
    return F.binary_cross_entropy_with_logits(X @ w + b, y)


def mlp_loss(W1, b1, W2, b2, X, y):
    hidden = symgrad.tanh(X @ W1 + b1)
    return F.cross_entropy(hidden @ W2 + b2, y)


def _logistic_data(rows=2000, features=6, chunk_rows=250):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features))
    y = (X @ rng.standard_normal(features) > 0).astype(np.float64)
    w = rng.standard_normal(features) * 0.1
    b = np.float64(0.3) * np.ones(())
    return (w, b, X, y), (
        da.from_array(X, chunks=(chunk_rows, features)),
        da.from_array(y, chunks=chunk_rows),
    )


def _assert_tree_close(got, expected, rtol=1e-10):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _assert_tree_close(g, e, rtol)
        return
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rtol, atol=1e-12)


def test_logistic_regression_gradient_on_a_cluster_equals_numpy(client):
    (w, b, X, y), (dX, dy) = _logistic_data()
    expected = symgrad.value_and_grad(logistic_loss, argnums=(0, 1))(w, b, X, y)
    lazy = symgrad.value_and_grad(logistic_loss, argnums=(0, 1), backend="array_api")(w, b, dX, dy)
    value, (d_w, d_b) = lazy
    assert all(isinstance(a, da.Array) for a in (value, d_w, d_b))
    computed = client.compute([value, [d_w, d_b]], sync=True)
    _assert_tree_close(computed, [expected[0], list(expected[1])])


def test_mlp_gradients_on_a_cluster_equal_numpy(client):
    rng = np.random.default_rng(1)
    rows, features, hidden, classes = 1200, 5, 16, 4
    X = rng.standard_normal((rows, features))
    y = rng.integers(0, classes, rows)
    params = [
        rng.standard_normal((features, hidden)) * 0.5,
        np.zeros(hidden),
        rng.standard_normal((hidden, classes)) * 0.5,
        rng.standard_normal(classes) * 0.1,
    ]
    argnums = (0, 1, 2, 3)
    expected = symgrad.value_and_grad(mlp_loss, argnums=argnums)(*params, X, y)
    dX, dy = da.from_array(X, chunks=(300, features)), da.from_array(y, chunks=300)
    step = symgrad.value_and_grad(mlp_loss, argnums=argnums, backend="array_api")
    value, grads = step(*params, dX, dy)
    computed_value, computed_grads = client.compute([value, list(grads)], sync=True)
    _assert_tree_close(computed_value, expected[0])
    _assert_tree_close(computed_grads, list(expected[1]))


def _forbidden_scheduler(*args, **kwargs):
    raise AssertionError("the generated code computed a Dask array")


def test_nothing_is_computed_before_compute():
    (w, b, X, _), _ = _logistic_data()
    calls = []

    def load_rows(block, block_info=None):
        calls.append(block_info[None]["chunk-location"])
        return block

    dX = da.map_blocks(load_rows, da.from_array(X, chunks=(250, X.shape[1])), dtype=X.dtype)
    dy = (dX[:, 0] > 0).astype(np.float64)
    step = symgrad.value_and_grad(logistic_loss, argnums=(0, 1), backend="array_api")
    with dask.config.set(scheduler=_forbidden_scheduler):
        value, (d_w, d_b) = step(w, b, dX, dy)  # compiles on the first call
        value, (d_w, d_b) = step(w, b, dX, dy)  # and runs cached code on the second
    assert calls == []
    value, d_w, d_b = dask.compute(value, d_w, d_b, scheduler="sync")
    assert len(calls) >= 8  # each of the 8 row chunks was loaded
    y = (X[:, 0] > 0).astype(np.float64)
    expected_value, (expected_w, expected_b) = symgrad.value_and_grad(
        logistic_loss, argnums=(0, 1)
    )(w, b, X, y)
    _assert_tree_close([value, d_w, d_b], [expected_value, expected_w, expected_b])


def _graph_size(chunks: int) -> int:
    rows = 4000
    (w, b, X, y), _ = _logistic_data(rows=rows)
    dX = da.from_array(X, chunks=(rows // chunks, X.shape[1]))
    dy = da.from_array(y, chunks=rows // chunks)
    step = symgrad.value_and_grad(logistic_loss, argnums=(0, 1), backend="array_api")
    value, grads = step(w, b, dX, dy)
    return len({key for a in (value, *grads) for key in a.__dask_graph__()})


def test_the_task_graph_grows_with_the_number_of_chunks_only():
    sizes = {chunks: _graph_size(chunks) for chunks in (4, 8, 16)}
    per_chunk = (sizes[16] - sizes[8]) / 8
    # a fixed number of tasks per chunk plus a small shared part (the tree reductions)
    assert 0 < per_chunk < 40
    assert sizes[8] - sizes[4] == pytest.approx(4 * per_chunk, rel=0.2)
    assert sizes[4] - 4 * per_chunk < 40


def test_the_tasks_need_only_dask_and_numpy_on_the_workers():
    (w, b, _, _), (dX, dy) = _logistic_data()
    value, grads = symgrad.value_and_grad(logistic_loss, argnums=(0, 1), backend="array_api")(
        w, b, dX, dy
    )
    for array in (value, *grads):
        for key, task in dict(array.__dask_graph__()).items():
            pickled = pickle.dumps(task)
            assert b"symgrad" not in pickled and b"array_api_compat" not in pickled, key


def test_an_array_of_unknown_shape_is_a_clear_error():
    (w, b, X, y), _ = _logistic_data()
    dX = da.from_array(X, chunks=(250, X.shape[1]))
    unknown = dX[dX[:, 0] > 10]  # rows chosen by value: their count is unknown
    step = symgrad.value_and_grad(logistic_loss, argnums=(0, 1), backend="array_api")
    with pytest.raises(ValueError, match="backend 'array_api' needs arrays of known shape"):
        step(w, b, unknown, da.from_array(y[:0], chunks=1))
