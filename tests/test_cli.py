"""``python -m symgrad``: show and export, run as a user would (a subprocess each)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import symgrad
import symgrad.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]

MODEL = '''
import symgrad
import symgrad.nn.functional as F


def loss(W, b, X, y):
    """Softmax regression."""
    return F.cross_entropy(X @ W + b, y)


@symgrad.compile
def already_compiled(x):
    return (x * x).sum()


step = symgrad.value_and_grad(loss, argnums=(0, 1))


def broken(x):
    return x @ x @ x
'''

LOSS_ARGS = [
    "--arg",
    "W=float32[20,5]",
    "--arg",
    "b=float32[5]",
    "--arg",
    "X=float32[16,20]",
    "--arg",
    "y=int64[16]",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "model.py"
    path.write_text(textwrap.dedent(MODEL))
    return path


def symgrad_cli(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "symgrad", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _compiled_loss():
    """The same function compiled in this process, for the expected texts."""

    def loss(W, b, X, y):
        return F.cross_entropy(X @ W + b, y)

    rng = np.random.default_rng(0)
    W, b, X = (
        symgrad.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
        for s in [(20, 5), (5,), (16, 20)]
    )
    return symgrad.compile(loss), (W, b, X, symgrad.zeros(16, dtype=symgrad.int64))


def test_show_prints_the_generated_source(model):
    result = symgrad_cli("show", f"{model}:loss", *LOSS_ARGS)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("# symgrad: loss(W: f32[20,5], b: f32[5], X: f32[16,20], y: i64[16])")
    assert "def forward(W, b, X, y):" in out and "def backward(" in out
    assert "return (d_W, d_b, d_X)" in out  # every float input differentiated by default
    compiled, args = _compiled_loss()
    assert _code(out) == _code(compiled.source(*args))  # the same code, from another file


def _code(source: str) -> list[str]:
    """The generated lines without comments (they name the file and line they came from)."""
    lines = [re.sub(r"\s*#.*$", "", line) for line in source.splitlines()]
    return [line for line in lines if line]


def test_wrt_limits_the_gradients(model):
    result = symgrad_cli("show", f"{model}:loss", *LOSS_ARGS, "--wrt", "W")
    assert result.returncode == 0, result.stderr
    assert "return (d_W,)" in result.stdout and "d_X" not in result.stdout


def test_show_explain_graph_and_dot(model):
    explain = symgrad_cli("show", f"{model}:loss", *LOSS_ARGS, "--what", "explain")
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("symgrad explain: loss\ncache key: (W: tensor float32[20, 5]")
    graph = symgrad_cli("show", f"{model}:loss", *LOSS_ARGS, "--what", "graph")
    assert "= input X  :: f32[16,20]" in graph.stdout
    dot = symgrad_cli("show", f"{model}:loss", *LOSS_ARGS, "--what", "dot", "--backend", "numpy")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith("digraph {") and dot.stdout.rstrip().endswith("}")
    assert 'label="d_W"' in dot.stdout


def test_an_already_compiled_function_is_used_as_it_is(model):
    result = symgrad_cli("show", f"{model}:already_compiled", "--arg", "x=float64[]")
    assert result.returncode == 0, result.stderr
    assert "# symgrad: already_compiled(x: f64[])" in result.stdout


def test_a_transform_is_used_as_it_is(model):
    result = symgrad_cli("show", f"{model}:step", *LOSS_ARGS)
    assert result.returncode == 0, result.stderr
    assert "return (out, d_W, d_b)" in result.stdout  # value_and_grad's argnums, fused


def test_export_writes_a_module_that_runs_with_numpy_only(model, tmp_path):
    target = tmp_path / "loss_module.py"
    result = symgrad_cli("export", f"{model}:loss", *LOSS_ARGS, "-o", target)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {target}\n"
    spec = importlib.util.spec_from_file_location("loss_module", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "symgrad" not in module.__dict__ and "import numpy as np" in target.read_text()
    compiled, (W, b, X, y) = _compiled_loss()
    value, d_W, d_b, d_X = module.forward_backward(*(t.detach().numpy() for t in (W, b, X, y)))
    eager = F.cross_entropy(X @ W + b, y)
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-6)
    for ours, leaf in [(d_W, W), (d_b, b), (d_X, X)]:
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_help_documents_commands_specs_and_exit_status():
    top = symgrad_cli("--help")
    assert top.returncode == 0
    for text in ["show", "export", "NAME=DTYPE[SHAPE]", "float32", "exit status"]:
        assert text in top.stdout
    show = symgrad_cli("show", "--help").stdout
    for option in ["--arg", "--wrt", "--backend", "--what", "source", "explain", "graph", "dot"]:
        assert option in show
    export = symgrad_cli("export", "--help").stdout
    assert "-o PATH" in export and "--arg" in export


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "{dir}/missing.py:loss"], "no such file: {dir}/missing.py"),
        (["show", "{model}:lost"], "{model} has no function 'lost' (functions there: "),
        (["show", "{model}"], "bad target '{model}': expected FILE.py:FUNCTION"),
        (["show", "{model}:loss", "--arg", "W=float31[3]"], "unknown dtype 'float31'"),
        (["show", "{model}:loss", "--arg", "W=float32[3,x]"], "bad shape [3,x] in --arg"),
        (["show", "{model}:loss", "--arg", "W=float32[-3]"], "bad shape [-3] in --arg"),
        (["show", "{model}:loss", "--arg", "W=float32"], "bad --arg 'W=float32': expected"),
        (["show", "{model}:loss", "--arg", "Q=float32[3]"], "loss has no parameter 'Q'"),
        (["show", "{model}:loss", "--arg", "W=float32[3]"], "missing a required argument: 'b'"),
        (
            ["show", "{model}:loss", *LOSS_ARGS, "--wrt", "y"],
            "--wrt y: only floating-point inputs have gradients",
        ),
        (["show", "{model}:broken", "--arg", "x=float32[2,3]"], "cannot compile {model}:broken"),
        (["show", "{model}:loss", "--what", "pictures"], "invalid choice: 'pictures'"),
        (["show", "{model}:loss", "--backend", "cuda"], "invalid choice: 'cuda'"),
        (["export", "{model}:loss", *LOSS_ARGS], "the following arguments are required: -o"),
        (
            ["export", "{model}:loss", *LOSS_ARGS, "-o", "{dir}/no/such/dir/m.py"],
            "cannot write {dir}/no/such/dir/m.py: No such file or directory",
        ),
        ([], "the following arguments are required"),
    ],
)
def test_bad_usage_is_one_line_and_status_2(model, args, message):
    fill = {"model": model, "dir": model.parent}
    result = symgrad_cli(*(a.format(**fill) for a in args))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("symgrad: error: ")
    assert message.format(**fill) in result.stderr


def test_a_file_that_fails_to_import_is_status_1(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("raise ImportError('no module named nothing')\n")
    result = symgrad_cli("show", f"{path}:f", "--arg", "x=float32[2]")
    assert result.returncode == 1
    assert result.stderr == (
        f"symgrad: error: importing {path} failed: ImportError: no module named nothing\n"
    )
