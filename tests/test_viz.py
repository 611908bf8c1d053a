"""Graph pictures: the eager autograd graph (make_dot) and the compiled graph (to_dot)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad import viz
from symgrad.compiler import pipeline, rewrite
from symgrad.ir import trace
from symgrad.ir.graph import Graph
from symgrad.viz import Dot, RenderError, make_dot

NODE = re.compile(r"^  (\w+) \[label=\"((?:[^\"\\]|\\.)*)\"(.*)\]$", re.MULTILINE)


def nodes(dot: str) -> dict[str, tuple[str, str]]:
    """node id -> (label, other attributes) of every node statement."""
    return {m[1]: (m[2].replace("\\n", "\n"), m[3]) for m in NODE.finditer(dot)}


def edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^  (\w+) -> (\w+)", dot, flags=re.MULTILINE))


def labels(dot: str) -> Counter:
    return Counter(label for label, _ in nodes(dot).values())


# ------------------------------------------------------------------------------- make_dot


def test_make_dot_draws_each_grad_fn_and_labelled_leaves():
    w = symgrad.ones(3, requires_grad=True)
    x = symgrad.ones(3, requires_grad=True)
    out = (x * w).sum()
    dot = make_dot(out, params={"w": w, "x": x})
    assert isinstance(dot, Dot) and isinstance(dot, str)
    assert labels(dot) == Counter(
        {
            "()": 1,  # the output
            "SumBackward0": 1,
            "MulBackward0": 1,
            "AccumulateGrad": 2,
            "w\n(3)": 1,  # torchviz writes sizes so
            "x\n(3)": 1,
        }
    )
    by_label = {label: node for node, (label, _) in nodes(dot).items()}
    assert (by_label["MulBackward0"], by_label["SumBackward0"]) in edges(dot)
    assert (by_label["SumBackward0"], by_label["()"]) in edges(dot)
    accumulate = {node for node, (label, _) in nodes(dot).items() if label == "AccumulateGrad"}
    assert {(by_label["w\n(3)"], a) for a in accumulate} & edges(dot)
    assert "orange" not in dot  # saved tensors only on request


def test_make_dot_takes_named_parameters_pairs():
    weight = symgrad.nn.Parameter(symgrad.ones(2, 3))
    bias = symgrad.nn.Parameter(symgrad.zeros(2))
    out = (symgrad.ones(4, 3) @ weight.T + bias).sum()
    dot = make_dot(out, params=iter([("weight", weight), ("bias", bias)]))
    found = labels(dot)
    assert found["weight\n(2, 3)"] == 1 and found["bias\n(2)"] == 1
    assert found["AccumulateGrad"] == 2


def test_make_dot_shows_saved_tensors_as_torch_names_them():
    x = symgrad.ones(2, 2, requires_grad=True)
    y = x + 2
    out = (y * y).exp().sum()
    dot = make_dot(out, show_saved=True)
    saved = {label for label, attrs in nodes(dot).values() if "orange" in attrs}
    assert saved == {"self\n(2, 2)", "other\n(2, 2)", "result\n(2, 2)"}  # mul's two, exp's
    assert 'dir="none"' in dot


def test_make_dot_of_several_outputs_shares_their_graph():
    x = symgrad.ones(2, requires_grad=True)
    y = x * 3
    dot = make_dot((y.sum(), y.mean()))
    found = labels(dot)
    assert found["MulBackward0"] == 1 and found["AccumulateGrad"] == 1
    assert found["SumBackward0"] == 1 and found["MeanBackward0"] == 1


def test_make_dot_names_match_torch():
    torch = need("torch")

    def program(lib, x, w):
        return (lib.tanh(x @ w) * 2 - x.sum()).pow(2).mean()

    ours = program(
        symgrad, symgrad.ones(2, 3, requires_grad=True), symgrad.ones(3, 4, requires_grad=True)
    )
    theirs = program(
        torch, torch.ones(2, 3, requires_grad=True), torch.ones(3, 4, requires_grad=True)
    )
    names, stack, seen = Counter(), [theirs.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names[type(fn).__name__] += 1
        stack += [child for child, _ in fn.next_functions]
    drawn = labels(make_dot(ours))
    assert {k: drawn[k] for k in names} == dict(names)


def test_labels_with_quotes_and_backslashes_stay_valid_dot():
    assert viz.quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


# ------------------------------------------------------------------------ compiled graph


@symgrad.compile
def lse(x):
    return symgrad.log(symgrad.exp(x).sum(-1)).sum()


def test_compiled_dot_marks_forward_backward_saved_and_rules():
    x = symgrad.ones(3, 4, requires_grad=True)
    graph = lse.graph(x)
    dot = graph.to_dot()
    found = {label.split("\n")[0]: attrs for label, attrs in nodes(dot).values()}
    assert 'fillcolor="orange"' in found["logsumexp"]  # saved for backward
    assert 'color="red"' in found["logsumexp"]  # made by a rewrite rule...
    assert "rule: log_of_sum_of_exp" in dot  # ...named
    assert 'fillcolor="white"' in found["sum"]  # forward
    assert 'fillcolor="lavender"' in found["exp"]  # backward
    assert 'fillcolor="lightyellow"' in found["d_out"]  # the output's cotangent
    assert 'fillcolor="orange"' in found["x"]  # an input backward reads
    assert {"out", "d_x"} <= set(found)
    # every node of the text form is drawn, plus one box per result
    text_nodes = len(str(graph).splitlines())
    assert len(nodes(dot)) == text_nodes + 2


def test_nodes_of_one_rule_application_are_boxed_with_the_rule_name():
    graph = Graph()
    active = trace.Trace("f", lambda value: None)
    active.graph = graph
    x = graph.input("x", (3,), symgrad.float32)

    def split_exp(node, builder):
        """exp(x) -> exp(x/2) * exp(x/2)"""
        if node.op.name != "exp" or node.inputs[0].kind != "input":
            return None
        half = builder.op("exp", builder.op("mul", node.inputs[0], builder.const(0.5, node.dtype)))
        return builder.op("mul", half, half)

    rule = rewrite.Rule("split_exp", "test", split_exp, split_exp.__doc__)
    with trace.tracing(active):
        out = symgrad.Tensor._wrap(x).exp().sum()._data
    hits = Counter()
    (result,) = rewrite.rewrite(graph, [out], [rule], hits)
    assert hits == {"split_exp": 1}
    parts = pipeline.GraphParts([result], ["out"], [], [], [], graph.created_by)
    dot = viz.compiled_dot(parts, "f")
    boxes = re.findall(
        r"subgraph (cluster_rewrite\d+) \{\n    label=\"(\w+)\";[^\n]*\n((?:    n\d+;\n)+)", dot
    )
    assert len(boxes) == 1 and boxes[0][1] == "split_exp"
    assert len(boxes[0][2].split()) == 3  # mul by 0.5, exp, mul
    assert dot.count("rule: split_exp") == 3


# ------------------------------------------------------------------------------ rendering


def _renders() -> bool:
    return viz.can_render()


@pytest.mark.skipif(not _renders(), reason="needs the graphviz package and Graphviz's dot")
def test_render_writes_a_real_svg_with_one_shape_per_node(tmp_path):
    x = symgrad.ones(3, 4, requires_grad=True)
    dot = lse.graph(x).to_dot()
    path = dot.render(tmp_path / "graph.svg")
    svg = open(path, encoding="utf-8").read()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == len(nodes(dot))
    assert svg.count('class="cluster"') == dot.count("subgraph cluster_")
    eager = make_dot(x.exp().sum(), params={"x": x})
    assert eager._repr_mimebundle_()["image/svg+xml"].count('class="node"') == len(nodes(eager))


@pytest.mark.skipif(not _renders(), reason="needs the graphviz package and Graphviz's dot")
def test_render_png(tmp_path):
    x = symgrad.ones(2, requires_grad=True)
    path = make_dot((x * x).sum()).render(tmp_path / "graph.png", format="png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_without_graphviz_rendering_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(viz, "graphviz", None)
    x = symgrad.ones(2, requires_grad=True)
    dot = make_dot((x * x).sum())
    with pytest.raises(
        RenderError, match=r"pip install 'symgrad\[viz\]'.*apt-get install graphviz"
    ):
        dot.render(tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()
    assert dot._repr_mimebundle_() == {"text/plain": str(dot)}
    assert dot._repr_svg_() is None
    assert not viz.can_render()


def test_render_refuses_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="format must be one of svg, png, not 'pdf'"):
        Dot("digraph {}\n").render(tmp_path / "g.pdf", format="pdf")


def test_dot_is_deterministic():
    def draw():
        x = symgrad.tensor(np.arange(3.0), requires_grad=True)
        return make_dot((x.sin() * x).sum(), params={"x": x}, show_saved=True)

    assert draw() == draw()


def test_make_dot_of_a_compiled_call_shows_its_saved_values_until_backward():
    f = symgrad.compile(lambda x: (x.exp() * x).sum())
    x = symgrad.ones(3, requires_grad=True)
    out = f(x)
    before = make_dot(out, params={"x": x}, show_saved=True)
    assert labels(before)["CompiledFunctionBackward"] == 1 and labels(before)["x\n(3)"] == 1
    saved = [label for label, attrs in nodes(before).values() if "orange" in attrs]
    assert len(saved) == len(f.explain(x).saved) and all(s.endswith("\n(3)") for s in saved)
    out.backward()
    after = make_dot(out, show_saved=True)
    assert "orange" not in after  # backward released them, as torch does
