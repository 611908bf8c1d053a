"""Jupyter display of what the compiler shows, and examples/tour.ipynb executed end to end."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
from extras import need

import symgrad
from symgrad.compiler import display

ROOT = Path(__file__).resolve().parents[1]


@symgrad.compile
def logistic(w, X, y):
    z = X @ w
    return ((z - y) * (z - y)).mean()


def _inputs(n=8):
    rng = np.random.default_rng(0)
    w = symgrad.zeros(3, requires_grad=True)
    X = symgrad.tensor(rng.standard_normal((n, 3)), dtype=symgrad.float32)
    y = symgrad.tensor(rng.standard_normal(n), dtype=symgrad.float32)
    return w, X, y


def test_source_is_still_the_same_str_and_prints_unchanged(capsys):
    source = logistic.source(*_inputs())
    assert isinstance(source, str)
    plain = logistic._entry_for(_inputs(), {}).program.source
    assert source == plain and str(source) == plain
    print(source)
    assert capsys.readouterr().out == plain + "\n"


def test_source_html_is_highlighted_by_pygments():
    need("pygments")
    html = logistic.source(*_inputs())._repr_html_()
    assert "<span" in html and "color" in html  # inline styles: no stylesheet needed
    assert "forward" in html and "<pre" in html


def test_source_html_without_pygments_is_escaped_pre(monkeypatch):
    monkeypatch.setattr(display, "pygments", None)
    source = logistic.source(*_inputs())
    html = source._repr_html_()
    assert html.startswith("<pre>") and html.endswith("</pre>")
    assert "-&gt; the inputs&#x27; gradients" in html  # from the header comment
    assert "<span" not in html


def test_explain_html_is_tables_of_the_report():
    explanation = logistic.explain(*_inputs())
    html = explanation._repr_html_()
    assert html.count("<table>") == 4
    for stage, count in explanation.node_counts.items():
        assert f"<td>{stage}</td><td>{count}</td>" in html
    for name, type_text, nbytes in explanation.saved:
        assert f"<td>{name}</td><td>{type_text}</td><td>{nbytes}</td>" in html
    assert str(explanation).startswith("symgrad explain: logistic")  # text unchanged


def test_cache_info_html_lists_entries_and_escaped_reasons():
    f = symgrad.compile(lambda x: (x * x).sum())
    f(np.ones(2))
    f(np.ones(3))
    html = f.cache_info()._repr_html_()
    assert html.count("<tr>") == 3  # header and two entries
    assert "recompiled because" in html
    assert "arg &#x27;x&#x27;: shape (2,) -&gt; (3,)" in html


def test_graph_is_its_text_and_shows_as_svg_when_graphviz_renders(monkeypatch):
    graph = logistic.graph(*_inputs())
    assert graph == logistic._entry_for(_inputs(), {}).program.graph_text
    monkeypatch.setattr(symgrad.viz, "graphviz", None)
    assert graph._repr_mimebundle_() == {"text/plain": str(graph)}


# ------------------------------------------------------------------------ the tour notebook


def _kernel_for_this_interpreter(tmp_path, monkeypatch) -> str:
    """A kernel spec that runs this very interpreter (so a fresh CI venv is the one used)."""
    name = "symgrad-tour-test"
    spec_dir = tmp_path / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "symgrad test",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    return name


def _outputs(cell) -> str:
    """Everything a cell showed, as one text (stream text and every mime type)."""
    texts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(output["text"])
        for value in output.get("data", {}).values():
            texts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(texts)


def test_tour_notebook_is_committed_without_outputs():
    notebook = json.loads((ROOT / "examples" / "tour.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_tour_notebook_runs_and_shows_what_it_promises(tmp_path, monkeypatch):
    nbclient = need("nbclient")
    nbformat = need("nbformat")
    need("ipykernel")
    kernel = _kernel_for_this_interpreter(tmp_path, monkeypatch)
    notebook = nbformat.read(ROOT / "examples" / "tour.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=300,
        resources={"metadata": {"path": str(ROOT / "examples")}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    code = [c for c in notebook.cells if c.cell_type == "code"]
    by_source = {c.source.split("\n")[0]: _outputs(c) for c in code}
    shown = "\n".join(_outputs(c) for c in code)
    assert "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])" in shown  # x.grad
    assert "tensor([2.])" in shown  # the second derivative
    assert "MulBackward0" in by_source["from symgrad.viz import make_dot"]
    source_output = next(_outputs(c) for c in code if c.source.startswith("logistic_loss.source"))
    assert "def forward(w, b, X, y):" in source_output
    explain_output = next(_outputs(c) for c in code if c.source.startswith("logistic_loss.explain"))
    assert "<table>" in explain_output
    formula_output = by_source["formula = logistic_loss.formula(w, b, X, y)"]
    assert "d logistic_loss/d w = X.T @ u1/1000" in formula_output  # print()
    assert r"\frac{1}{1000} X^{T} u_{1}" in formula_output  # rendered as LaTeX
    graph_cell = next(c for c in code if c.source.startswith("logistic_loss.graph"))
    graph_data = graph_cell.outputs[0]["data"]
    assert "input X  :: f32[1000,100]" in graph_data["text/plain"]
    if symgrad.viz.can_render():
        assert "<svg" in graph_data["image/svg+xml"]
    assert "arg 'X': shape (1000, 100) -> (17, 100)" in shown
