"""The per-entry workspace (``symgrad/compiler/workspace.py``): temporaries kept across calls,
per thread, never aliased by what a call returns, freed with their entry, never on disk."""

from __future__ import annotations

import gc
import threading
import types
import weakref

import numpy as np
import pytest
from extras import need
from op_table import ALL_CASES, flat_arrays, to_symgrad

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler import schedule, workspace

N = 4096  # above schedule.LARGE: temporaries of this size go to the workspace


def mix(x):
    return (x.tanh() * x.sin() + (x * x).log1p()).sum()


def mix_numpy_gradient(x):
    t, s = np.tanh(x), np.sin(x)
    return (1 - t * t) * s + t * np.cos(x) + 2 * x / (1 + x * x)


def _inputs(seed: int, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, n)


def _program(compiled):
    """The program of the (only) cache entry of a compiled function or transform."""
    inner = getattr(compiled, "_compiled", compiled)
    (entry,) = inner._entries
    return entry.program


def _all_buffers(program) -> list[np.ndarray]:
    """This thread's idle workspace buffers of every generated function of a program."""
    found = []
    for name in ("forward", "backward", "forward_backward"):
        buffers = getattr(getattr(program, name), "buffers", lambda: None)()
        found += list(buffers or [])
    return found


# ------------------------------------------------------------------ the generated code


def test_large_temporaries_are_written_into_the_workspace():
    f = symgrad.value_and_grad(mix)
    source = f.source(_inputs(0))
    assert "forward_backward_workspace = (" in source
    assert "def forward_backward(x, workspace=None):" in source
    assert "out=w0)" in source
    program = _program(f)
    layout = program.workspace_layouts["forward_backward"]
    assert all(shape == (N,) and dtype is np.float64 for shape, dtype in layout)


def test_small_functions_have_no_workspace():
    f = symgrad.value_and_grad(mix)
    source = f.source(_inputs(0, n=8))
    assert "workspace=None" not in source
    assert _program(f).forward_backward.__name__ == "forward_backward"
    assert "workspace: none (no temporary of 1024 elements" in str(f.explain(_inputs(0, n=8)))


def test_explain_shows_buffers_and_bytes_per_function():
    f = symgrad.value_and_grad(mix)
    x = _inputs(0)
    layout = _program_after_call(f, x).workspace_layouts
    text = str(f.explain(x))
    count = sum(len(v) for v in layout.values())
    total = sum(workspace.nbytes(v) for v in layout.values())
    assert f"workspace: {count} buffers, {workspace.size_text(total)} per thread" in text
    assert f"forward_backward   {len(layout['forward_backward'])} buffers, " in text
    assert "workspace (per thread)" in f.explain(x)._repr_html_()


def _program_after_call(f, x):
    f(x)
    return _program(f)


def test_size_text():
    assert workspace.size_text(512) == "512 bytes"
    assert workspace.size_text(4096 * 8) == "32.0 KiB"
    assert workspace.size_text(3 * 1024**2 + 1024**2 // 2) == "3.5 MiB"
    assert workspace.size_text(5 * 1024**3) == "5.0 GiB"


def test_slots_are_shared_by_temporaries_whose_lifetimes_do_not_overlap():
    def chain(x):
        for _ in range(20):
            x = (x * 1.5).sin() * x
        return x.sum()

    f = symgrad.compile(chain)
    x = _inputs(0)
    assert np.allclose(f(x), chain(symgrad.tensor(x)).numpy(), rtol=1e-12)
    # sixty statements on (N,) arrays; without sharing there would be a buffer per statement
    assert len(_program(f).workspace_layouts["forward"]) <= 2


def test_the_generated_function_runs_without_a_workspace():
    """``workspace=None``: the module allocates its temporaries for that call (what an
    exported module does when nobody passes buffers)."""
    f = symgrad.value_and_grad(mix)
    x = _inputs(0)
    program = _program_after_call(f, x)
    plain = program.module.forward_backward
    value, gradient = plain(x)
    np.testing.assert_allclose(gradient, mix_numpy_gradient(x), rtol=1e-12)
    own = workspace.allocate(program.workspace_layouts["forward_backward"])
    value_2, gradient_2 = plain(x, own)
    assert value_2 == value
    np.testing.assert_array_equal(gradient_2, gradient)


def test_exported_module_runs_alone(tmp_path):
    f = symgrad.value_and_grad(mix)
    x = _inputs(0)
    path = f.export(str(tmp_path / "exported.py"), x)
    namespace: dict = {}
    with open(path, encoding="utf-8") as file:
        exec(compile(file.read(), path, "exec"), namespace)  # noqa: S102 - the test's own module
    _, gradient = namespace["forward_backward"](x)
    np.testing.assert_allclose(gradient, mix_numpy_gradient(x), rtol=1e-12)


def test_self_check_mode_has_no_workspace(monkeypatch):
    monkeypatch.setenv("SYMGRAD_CHECK", "1")
    f = symgrad.value_and_grad(mix)
    x = _inputs(0)
    assert "workspace=None" not in f.source(x)
    np.testing.assert_allclose(f(x)[1], mix_numpy_gradient(x), rtol=1e-12)


def test_array_api_backend_has_no_workspace():
    f = symgrad.value_and_grad(mix, backend="array_api")
    x = _inputs(0)
    assert "workspace=None" not in f.source(x)
    assert "workspace: none (the array_api backend allocates every temporary" in str(f.explain(x))


# ------------------------------------------------ outputs are fresh arrays the caller owns


def _eager_gradient(fn, x):
    t = symgrad.tensor(x, requires_grad=True)
    fn(t).backward()
    return t.grad.numpy()


def _assert_second_call_keeps_first(call, make_args, program_of):
    """Two calls with different inputs: the first call's results are unchanged after the
    second, share no memory with its results nor with the workspace."""
    first = call(*make_args(0))
    first_arrays = _arrays(first)
    copies = [a.copy() for a in first_arrays]
    second_arrays = _arrays(call(*make_args(1)))
    for kept, copy in zip(first_arrays, copies, strict=True):
        np.testing.assert_array_equal(kept, copy)
    buffers = _all_buffers(program_of())
    for kept in first_arrays:
        for other in second_arrays + buffers:
            assert not np.shares_memory(kept, other)
    return first, second_arrays


def _arrays(result) -> list[np.ndarray]:
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _arrays(r)]
    if isinstance(result, symgrad.Tensor):
        return [result.numpy()]
    return [result] if isinstance(result, np.ndarray) and result.ndim else []


def _views(x):
    y = x * 2.0 + 1.0
    return y.reshape(64, 64), y.reshape(64, 64).t(), y[1:], y.exp()[::2]


def test_returned_views_of_temporaries_are_fresh_arrays():
    f = symgrad.compile(_views)
    _assert_second_call_keeps_first(f, lambda seed: (_inputs(seed),), lambda: _program(f))
    assert "workspace" not in f.source(_inputs(0)).split("def forward(", 1)[1].split("\n")[0]


def test_values_saved_for_backward_are_fresh_arrays():
    """Residuals of forward (returned to the caller inside the grad_fn) survive a second
    forward call: each output's .backward() uses its own call's values."""

    def f(x):
        y = (x * 3.0).exp()
        return (y.reshape(64, 64).t() * y.reshape(64, 64)).sin().sum()

    compiled = symgrad.compile(f)
    inputs = [symgrad.tensor(_inputs(seed), requires_grad=True) for seed in (0, 1)]
    outs = [compiled(x) for x in inputs]
    for out in reversed(outs):
        out.backward()
    for x in inputs:
        expected = _eager_gradient(f, x.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


# ----------------------------------- the op table: every op called twice with new inputs


def _op_table_params():
    return [
        pytest.param(case, id=case.name, marks=case.marks) for case in ALL_CASES if case.compiles
    ]


@pytest.fixture
def every_temporary_is_large(monkeypatch):
    """Every array of two elements or more counts as large: the op table's small shapes then
    go through the workspace (and in-place reuse) like large ones."""
    monkeypatch.setattr(schedule, "LARGE", 2)


@pytest.mark.parametrize("case", _op_table_params())
def test_op_table_results_survive_the_next_call(case, every_temporary_is_large):
    def make_args(seed):
        return to_symgrad(case.sample(0, np.float64, seed=seed))

    def plain(seed):
        return [a.numpy() if isinstance(a, symgrad.Tensor) else a for a in make_args(seed)]

    forward = symgrad.compile(case.fn)
    first, second = _assert_second_call_keeps_first(
        lambda *a: forward(*a), plain, lambda: _program(forward)
    )
    # a random op (dropout) draws new values on each call: compared with eager elsewhere
    third = _arrays(forward(*plain(1)))
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(second, third, strict=True)):
        return
    expected = flat_arrays(case.fn(*make_args(0)))
    for got, want in zip(flat_arrays(first), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    expected = [a for a in flat_arrays(case.fn(*make_args(1))) if a.ndim]
    for got, want in zip(second, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    if not case.grad:
        return

    def with_grad(seed):
        return [
            a.requires_grad_(True) if isinstance(a, symgrad.Tensor) and a.is_floating_point() else a
            for a in make_args(seed)
        ]

    compiled = symgrad.compile(case.fn)
    calls = [with_grad(seed) for seed in (0, 1)]
    # both forward calls before either backward: each backward reads its own call's residuals
    losses = [_sum_squares(compiled(*args)) for args in calls]
    for total in reversed(losses):
        if total.requires_grad:
            total.backward()
    for seed, args in enumerate(calls):
        eager_args = with_grad(seed)
        total = _sum_squares(case.fn(*eager_args))
        if total.requires_grad:
            total.backward()
        for got, want in zip(args, eager_args, strict=True):
            if isinstance(got, symgrad.Tensor) and want.grad is not None:
                np.testing.assert_allclose(
                    got.grad.numpy(), want.grad.numpy(), rtol=1e-7, atol=1e-12
                )


def _float_tensors(result) -> list:
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _float_tensors(r)]
    if isinstance(result, symgrad.Tensor) and result.dtype.is_floating_point:
        return [result]
    return []


def _sum_squares(result):
    return sum(((o * o).sum() for o in _float_tensors(result)), start=symgrad.tensor(0.0))


# ------------------------------------------------------------- threads and reentrancy


def test_threads_never_share_temporaries():
    f = symgrad.value_and_grad(mix)
    f(_inputs(0))  # compile once, before the threads race
    errors: list = []
    buffers: dict[int, list] = {}
    start = threading.Barrier(4)

    def work(seed):
        try:
            x = _inputs(seed)
            expected = mix_numpy_gradient(x)
            start.wait()
            for _ in range(30):
                _, gradient = f(x)
                np.testing.assert_allclose(gradient, expected, rtol=1e-12)
            buffers[seed] = _program(f).forward_backward.buffers()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    sets = list(buffers.values())
    assert len(sets) == 4 and all(s is not None for s in sets)
    for i, a in enumerate(sets):
        for b in sets[i + 1 :]:
            assert not any(np.shares_memory(p, q) for p in a for q in b)


def test_a_finished_thread_frees_its_workspace():
    f = symgrad.value_and_grad(mix)
    f(_inputs(0))
    held = []

    def work():
        f(_inputs(1))
        held.append(weakref.ref(_program(f).forward_backward.buffers()[0]))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    gc.collect()
    assert held[0]() is None


def test_a_call_nested_in_a_call_gets_its_own_buffers():
    """User code can run in the middle of a generated function (a finalizer, a signal
    handler): a compiled call made there must not overwrite the temporaries of the call it
    interrupts, and the outer call's buffers are the thread's again afterwards. (numpy's
    float-error callback cannot be that code: generated code runs ignoring float errors.)"""
    seen = []

    def generated(depth, workspace):
        (buffer,) = workspace
        seen.append(buffer)
        buffer[:] = depth
        if depth:
            bound(depth - 1)
        return buffer.copy()

    module = types.SimpleNamespace(generated=generated)
    setattr(module, f"generated_{workspace.PARAMETER}", (((4,), np.float64),))
    bound = workspace.bind(module, "generated")
    np.testing.assert_array_equal(bound(2), [2.0] * 4)
    assert len({id(b) for b in seen}) == 3
    outer = seen[0]
    seen.clear()
    bound(0)
    assert seen[0] is outer


# ------------------------------------------------------------------ memory stays bounded


def _held_buffer(f, x):
    f(x)
    return weakref.ref(_program(f).forward_backward.buffers()[0])


def test_cache_clear_frees_the_workspace():
    f = symgrad.value_and_grad(mix)
    held = _held_buffer(f, _inputs(0))
    f.cache_clear()
    gc.collect()
    assert held() is None


SCALE = symgrad.tensor(np.ones(N))


def _scaled(x):
    return ((x * SCALE).sin() * x).sum()


def test_a_replaced_entry_frees_its_workspace():
    """An entry recompiled because a captured tensor changed shape is dropped, and its
    workspace with it."""
    global SCALE
    compiled = symgrad.compile(_scaled)
    x = symgrad.tensor(_inputs(0), requires_grad=True)
    compiled(x).backward()
    held = weakref.ref(compiled._entries[0].program.forward.buffers()[0])
    old = SCALE
    try:
        SCALE = symgrad.tensor(np.ones(1))
        compiled(x).backward()
    finally:
        SCALE = old
    assert len(compiled._entries) == 1
    gc.collect()
    assert held() is None


def test_a_collected_function_frees_its_workspace():
    f = symgrad.value_and_grad(mix)
    held = _held_buffer(f, _inputs(0))
    del f
    gc.collect()
    assert held() is None


# ------------------------------------------------------------------------- disk cache


def test_the_disk_cache_stores_code_not_buffers(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("SYMGRAD_CACHE", "1")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(folder))
    x = _inputs(0)
    first = symgrad.value_and_grad(mix)
    first(x)
    entries = list(folder.glob("*.json"))
    assert entries
    for entry in entries:  # the code (naming its layout), never buffers
        assert b"forward_backward_workspace = (" in entry.read_bytes()
        assert entry.stat().st_size < workspace.nbytes(
            _program(first).workspace_layouts["forward_backward"]
        )
    loaded = symgrad.value_and_grad(mix)
    value, gradient = loaded(x)
    program = _program(loaded)
    assert program.from_disk
    assert program.workspace_layouts == _program(first).workspace_layouts
    np.testing.assert_allclose(gradient, mix_numpy_gradient(x), rtol=1e-12)
    _, again = loaded(_inputs(1))
    np.testing.assert_array_equal(gradient, loaded(x)[1])
    assert not np.shares_memory(gradient, again)


# ---------------------------------------------------------------------- numba backend


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def test_numba_kernel_outputs_and_ufunc_passes_use_the_workspace():
    need("numba")
    f = symgrad.value_and_grad(mix, backend="numba")
    x = _inputs(0)
    source = f.source(x)
    assert "forward_backward_workspace = (" in source
    assert "= w0\n" in source  # a kernel's output array is a workspace buffer
    assert "out=w" in source  # and so is a numpy pass between kernels
    assert "workspace: " in str(f.explain(x)) and "workspace: none" not in str(f.explain(x))
    np.testing.assert_allclose(f(x)[1], mix_numpy_gradient(x), rtol=1e-12)


@pytest.mark.parametrize("fn", [mix, _rosenbrock, lambda x: _views(x)[3].sum()])
def test_numba_results_survive_the_next_call(fn):
    need("numba")
    f = symgrad.value_and_grad(fn, backend="numba")
    first, second = _assert_second_call_keeps_first(
        f, lambda seed: (_inputs(seed),), lambda: _program(f)
    )
    for seed, gradient in ((0, first[1]), (1, second[-1])):
        np.testing.assert_allclose(gradient, _eager_gradient(fn, _inputs(seed)), rtol=1e-10)


def test_numba_returned_views_of_kernel_outputs_are_fresh():
    need("numba")
    f = symgrad.compile(_views, backend="numba")
    _assert_second_call_keeps_first(f, lambda seed: (_inputs(seed),), lambda: _program(f))


def test_argument_names_never_collide_with_the_workspace():
    def f(workspace, w0):
        return ((workspace * w0).sin() * workspace).sum()

    compiled = symgrad.value_and_grad(f, argnums=(0, 1))
    a, b = _inputs(0), _inputs(1)
    source = compiled.source(a, b)
    assert "def forward_backward(workspace_, w0, workspace=None):" in source
    assert "out=w0_1)" in source
    _, (d_a, d_b) = compiled(a, b)
    np.testing.assert_allclose(d_a, np.sin(a * b) + a * b * np.cos(a * b), rtol=1e-12)
    np.testing.assert_allclose(d_b, a * a * np.cos(a * b), rtol=1e-12)


def test_a_call_that_raises_leaves_the_workspace_usable():
    """A target out of range fails in the middle of the generated code (after temporaries
    were written); the next call still computes from its own inputs."""

    def loss(W, x, labels):
        return F.cross_entropy((x @ W).tanh() * 2.0, labels)

    f = symgrad.value_and_grad(loss)
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((64, 16)), rng.standard_normal((128, 64))
    labels = rng.integers(0, 16, 128)
    value, gradient = f(W, x, labels)
    assert "forward_backward_workspace = (" in f.source(W, x, labels)
    bad = labels.copy()
    bad[3] = 99
    with pytest.raises(IndexError):
        f(W, x, bad)
    value_after, gradient_after = f(W, x, labels)
    assert value_after == value
    np.testing.assert_array_equal(gradient_after, gradient)
