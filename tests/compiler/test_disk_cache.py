"""The persistent compile cache: hits across compiled objects and processes, keys that change
with the function, and the faults it must survive (corrupt, truncated and foreign entries,
concurrent writers, a directory other users can write into)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad.compiler import disk_cache

ROOT = Path(__file__).resolve().parents[2]
X = np.linspace(-1.0, 1.0, 5)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("SYMGRAD_CACHE", "1")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(folder))
    return folder


def loss(x):
    return (symgrad.tanh(x) * x + 2.0 * x).sum()


def other_loss(x):
    return (symgrad.tanh(x) * x + 3.0 * x).sum()


def _compile_and_run(fn=loss):
    """A fresh compiled object (an empty in-memory cache): value, gradient, its program."""
    compiled = symgrad.value_and_grad(fn)
    value, gradient = compiled(X)
    return value, gradient, compiled._compiled._entries[-1].program


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _expected():
    x = symgrad.tensor(X, requires_grad=True)
    out = loss(x)
    out.backward()
    return out.item(), x.grad.numpy()


def test_second_compile_loads_from_disk(cache_dir):
    value, gradient, program = _compile_and_run()
    assert not program.from_disk
    assert len(_entries(cache_dir)) == 1
    value2, gradient2, program2 = _compile_and_run()
    assert program2.from_disk
    assert "disk cache load" in program2.phase_seconds
    assert "rewrite" not in program2.phase_seconds
    assert program2.source == program.source
    expected_value, expected_gradient = _expected()
    np.testing.assert_allclose(value2, expected_value, rtol=1e-14)
    np.testing.assert_allclose(gradient2, expected_gradient, rtol=1e-14)
    assert value2 == value and np.array_equal(gradient2, gradient)


def test_loaded_program_still_shows_its_graph_and_explanation(cache_dir):
    _compile_and_run()
    compiled = symgrad.value_and_grad(loss)
    compiled(X)
    assert compiled._compiled._entries[-1].program.from_disk
    assert "tanh" in str(compiled.graph(X))
    assert "disk cache load" in str(compiled.explain(X))


def test_changed_function_gets_another_key(cache_dir):
    _compile_and_run(loss)
    _compile_and_run(other_loss)
    assert len(_entries(cache_dir)) == 2
    _, gradient, program = _compile_and_run(other_loss)
    assert program.from_disk
    np.testing.assert_allclose(gradient, np.tanh(X) + X * (1 - np.tanh(X) ** 2) + 3.0)


def test_other_shape_dtype_or_wrt_gets_another_key(cache_dir):
    symgrad.value_and_grad(loss)(X)
    symgrad.value_and_grad(loss)(X[:3])
    symgrad.value_and_grad(loss)(X.astype(np.float32))
    symgrad.compile(loss)(symgrad.tensor(X, requires_grad=True))
    symgrad.compile(loss)(symgrad.tensor(X))
    assert len(_entries(cache_dir)) == 5


def test_versions_are_part_of_the_key(cache_dir, monkeypatch):
    _compile_and_run()
    real = disk_cache.versions

    monkeypatch.setattr(disk_cache, "versions", lambda extra=None: {**real(extra), "numpy": "9"})
    _, _, program = _compile_and_run()
    assert not program.from_disk
    assert len(_entries(cache_dir)) == 2


def _damage(path: Path, how: str) -> None:
    raw = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"\x00not json at all")
    elif how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "tampered":  # the source changed, the hash kept: must not run
        entry = json.loads(raw)
        entry["payload"] = entry["payload"].replace("np.tanh", "np.sinh")
        path.write_text(json.dumps(entry))
    elif how == "foreign version":
        entry = json.loads(raw)
        entry["versions"]["symgrad"] = "0.0.0-other"
        path.write_text(json.dumps(entry))
    elif how == "empty":
        path.write_bytes(b"")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["garbage", "truncated", "tampered", "foreign version", "empty"])
def test_bad_entry_is_ignored_with_a_warning_and_rebuilt(cache_dir, caplog, how):
    _compile_and_run()
    (entry,) = _entries(cache_dir)
    _damage(entry, how)
    with caplog.at_level(logging.WARNING, logger="symgrad.compile.cache"):
        value, gradient, program = _compile_and_run()
    assert not program.from_disk
    assert "ignoring the entry" in caplog.text
    expected_value, expected_gradient = _expected()
    np.testing.assert_allclose(value, expected_value, rtol=1e-14)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-14)
    # rebuilt: the next compile loads the repaired entry
    assert _compile_and_run()[2].from_disk


def test_tampered_module_file_and_bytecode_are_replaced(cache_dir):
    _, _, program = _compile_and_run()
    (module_file,) = (cache_dir / "modules").glob("*.py")
    (bytecode,) = (cache_dir / "modules").glob("*.bytecode")
    module_file.write_text(program.source.replace("np.tanh", "np.sinh"))
    bytecode.write_bytes(b"junk")
    value, gradient, program2 = _compile_and_run()
    assert program2.from_disk
    assert module_file.read_text() == program.source
    expected_value, expected_gradient = _expected()
    np.testing.assert_allclose(value, expected_value, rtol=1e-14)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-14)


def test_directory_writable_by_others_is_refused(cache_dir, caplog):
    cache_dir.chmod(0o777)
    disk_cache._warned_directories.discard(str(cache_dir))
    with caplog.at_level(logging.WARNING, logger="symgrad.compile.cache"):
        with pytest.warns(UserWarning, match="other users can write into it"):
            value, gradient, program = _compile_and_run()
    assert not program.from_disk
    assert list(cache_dir.iterdir()) == []
    assert "not using the compile cache directory" in caplog.text
    np.testing.assert_allclose(gradient, _expected()[1], rtol=1e-14)
    info = symgrad.cache.info()
    assert not info.enabled and "unsafe" in str(info)


def test_cache_off(cache_dir, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE", "0")
    _compile_and_run()
    assert list(cache_dir.iterdir()) == []
    assert str(symgrad.cache.info()) == "symgrad disk cache: off (SYMGRAD_CACHE=0)"


def test_default_directory_is_under_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SYMGRAD_CACHE_DIR", raising=False)
    monkeypatch.setenv("SYMGRAD_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert disk_cache.configured_directory() == str(tmp_path / "xdg" / "symgrad")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert disk_cache.configured_directory() == str(tmp_path / "home" / ".cache" / "symgrad")


def test_info_and_clear(cache_dir):
    _compile_and_run(loss)
    _compile_and_run(other_loss)
    info = symgrad.cache.info()
    assert info.enabled and info.entries == 2 and info.bytes > 0
    assert info.directory == str(cache_dir)
    assert symgrad.cache.clear() == 2
    assert symgrad.cache.info().entries == 0
    assert not _compile_and_run()[2].from_disk


SCRIPT = """
import sys
import numpy as np
import symgrad

def loss(x):
    return (symgrad.sin(x) * symgrad.exp(-x * x)).sum()

compiled = symgrad.value_and_grad(loss)
value, gradient = compiled(np.linspace(-1.0, 1.0, 7))
program = compiled._compiled._entries[-1].program
print(program.from_disk, repr(float(value)), repr(gradient.tolist()))
"""


def _run_script(folder: Path, script: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(SYMGRAD_CACHE="1", SYMGRAD_CACHE_DIR=str(folder))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )


def test_concurrent_processes_share_one_entry(cache_dir, tmp_path):
    """Four processes compile the same function into the same directory at once; then a fifth
    loads the entry. All print the same numbers; the entry is whole."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    processes = [_run_script(cache_dir, script) for _ in range(4)]
    outputs = [p.communicate(timeout=300)[0].split(" ", 1) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert len({numbers for _, numbers in outputs}) == 1
    (entry,) = _entries(cache_dir)
    assert json.loads(entry.read_text())["key"] == entry.stem
    assert not list(cache_dir.rglob(".tmp-*"))
    late = _run_script(cache_dir, script)
    from_disk, numbers = late.communicate(timeout=300)[0].split(" ", 1)
    assert from_disk == "True" and numbers == outputs[0][1]


def row_max(x):
    return (x.max(1).values * 2.0).sum()


def test_constants_captured_after_tracing_are_stored(cache_dir):
    """Regression: max over a dim's gradient captures a tensor while differentiating (after
    tracing); a loaded entry lacked it and its forward missed an argument."""
    data = np.array([[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]])
    first = symgrad.compile(row_max)
    x = symgrad.tensor(data, requires_grad=True)
    first(x).backward()
    assert len(first._entries[0].program.captured) == 1
    second = symgrad.compile(row_max)
    y = symgrad.tensor(data, requires_grad=True)
    out = second(y)
    out.backward()
    assert second._entries[0].program.from_disk
    assert out.item() == 24.0
    np.testing.assert_array_equal(y.grad.numpy(), x.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 2, 0], [2, 0, 0]])


def test_an_array_api_module_from_disk_takes_mixed_libraries(cache_dir):
    """Found running benchmarks/dask_scaling.py: an array_api module imported from the disk
    cache skipped the backend's preparation (numpy weights beside Dask data converted to Dask),
    so the second process's call failed with "Multiple namespaces for array inputs"."""
    need("array_api_compat")
    da = need("dask.array")

    def loss(w, X):
        return ((X @ w) ** 2).mean()

    w = np.ones(3, np.float32)
    X = da.ones((8, 3), chunks=(4, 3), dtype=np.float32)
    first = symgrad.value_and_grad(loss, backend="array_api")(w, X)
    again = symgrad.value_and_grad(loss, backend="array_api")  # a fresh function: from disk
    value, grad = again(w, X)
    assert "disk cache load" in str(again.explain(w, X))
    assert float(value.compute()) == float(first[0].compute()) == 9.0
    np.testing.assert_allclose(grad.compute(), [6.0, 6.0, 6.0])
