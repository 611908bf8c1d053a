"""The compiler logs through ``logging`` under ``symgrad.compile.*``; SYMGRAD_LOGS configures it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.compiler import logs

ROOT = Path(__file__).resolve().parents[2]
PHASES = [
    "trace",
    "stabilize forward",
    "reverse",
    "rewrite",
    "sympy regions",
    "rewrite",
    "schedule",
    "render and load",
]


@pytest.fixture
def restore_loggers():
    """configure() changes process-wide loggers: put them back after the test."""
    levels = {c: logging.getLogger(f"symgrad.compile.{c}").level for c in logs.CHANNELS}
    handlers = list(logging.getLogger("symgrad").handlers)
    handler = logs._handler
    yield
    for channel, level in levels.items():
        logging.getLogger(f"symgrad.compile.{channel}").setLevel(level)
    logging.getLogger("symgrad").handlers[:] = handlers
    logs._handler = handler


def _records(caplog, channel):
    return [r for r in caplog.records if r.name == f"symgrad.compile.{channel}"]


def test_recompiles_log_at_info_with_the_reason(caplog):
    f = symgrad.compile(lambda x: x * 2)
    with caplog.at_level(logging.INFO, logger="symgrad.compile.recompiles"):
        f(np.ones(2))
        assert _records(caplog, "recompiles") == []  # the first compile is not a recompile
        f(np.ones(3))
    (record,) = _records(caplog, "recompiles")
    assert record.levelno == logging.INFO
    assert record.getMessage() == "Recompiling <lambda>: arg 'x': shape (2,) -> (3,)"


def test_code_and_graph_log_at_debug(caplog):
    def square(x):
        return (x * x).sum()

    f = symgrad.compile(square)
    with caplog.at_level(logging.DEBUG, logger="symgrad"):
        f(np.ones(4))
    (code,) = _records(caplog, "code")
    (graph,) = _records(caplog, "graph")
    assert code.levelno == graph.levelno == logging.DEBUG
    assert code.getMessage() == f"Generated code for square:\n{f.source(np.ones(4))}"
    assert graph.getMessage() == f"Graph of square:\n{f.graph(np.ones(4))}"


def test_nothing_is_logged_at_info_by_a_fast_first_compile(caplog):
    f = symgrad.compile(lambda x: x + 1)
    with caplog.at_level(logging.INFO, logger="symgrad"):
        f(np.ones(2))
    assert caplog.records == []


def test_timing_logs_each_phase_in_order_at_debug(caplog):
    f = symgrad.compile(lambda x: x.exp().sum())
    with caplog.at_level(logging.DEBUG, logger="symgrad.compile.timing"):
        f(np.ones(2))
    messages = [r.getMessage() for r in _records(caplog, "timing")]
    assert [m.split(": ")[1].split(" took")[0] for m in messages[:-1]] == PHASES
    assert all(m.startswith("compiling <lambda>: ") for m in messages[:-1])
    assert messages[-1].startswith("compiled <lambda> in ")


def test_a_slow_compile_logs_its_phases_at_info_as_they_go(caplog, monkeypatch):
    # Every compile counts as slow past 0 s: the phases then show at INFO, one per phase, each
    # logged when its phase ends (before the next one starts).
    monkeypatch.setattr(logs, "SLOW_COMPILE_SECONDS", 0.0)
    seen_when_tracing_ended = []

    def f(x):
        return x.sin().sum()

    compiled = symgrad.compile(f)
    original = logs.phase_done

    def spy(function, phase, seconds, total):
        original(function, phase, seconds, total)
        seen_when_tracing_ended.append(len(_records(caplog, "timing")))

    monkeypatch.setattr(logs, "phase_done", spy)
    with caplog.at_level(logging.INFO, logger="symgrad.compile.timing"):
        compiled(np.ones(2))
    infos = [r for r in _records(caplog, "timing") if r.levelno == logging.INFO]
    assert [r.getMessage().split(": ")[1].split(" took")[0] for r in infos] == PHASES
    assert seen_when_tracing_ended == list(range(1, len(PHASES) + 1))  # logged as they went


def test_configure_turns_channels_on_with_one_handler(restore_loggers):
    logs.configure("code, recompiles")
    assert logging.getLogger("symgrad.compile.code").level == logging.DEBUG
    assert logging.getLogger("symgrad.compile.recompiles").level == logging.DEBUG
    assert logging.getLogger("symgrad.compile.graph").level == logging.NOTSET
    logs.configure(["all"])
    assert all(
        logging.getLogger(f"symgrad.compile.{c}").level == logging.DEBUG for c in logs.CHANNELS
    )
    assert logging.getLogger("symgrad").handlers.count(logs._handler) == 1


def test_configure_refuses_unknown_channels(restore_loggers):
    with pytest.raises(ValueError, match="unknown symgrad log channel 'cod'; the channels are "):
        logs.configure("cod")


def _run_with_logs(value: str) -> subprocess.CompletedProcess:
    script = (
        "import numpy as np, symgrad\n"
        "f = symgrad.compile(lambda x: (x * x).sum())\n"
        "f(np.ones(2)); f(np.ones(3))\n"
    )
    env = dict(os.environ, SYMGRAD_LOGS=value, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )


def test_symgrad_logs_shortcut_shows_only_the_channels_named():
    result = _run_with_logs("recompiles,timing")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "[symgrad] Recompiling <lambda>: arg 'x': shape (2,) -> (3,)" in lines
    assert sum(line.startswith("[symgrad] compiling <lambda>: trace took") for line in lines) == 2
    assert "def forward" not in result.stderr  # code was not asked for


def test_symgrad_logs_typo_warns_and_still_imports():
    result = _run_with_logs("recompile")
    assert result.returncode == 0
    assert "SYMGRAD_LOGS: unknown symgrad log channel 'recompile'" in result.stderr
