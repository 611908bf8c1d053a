"""How the compiler's inspection results look in Jupyter; ``print()`` shows them as before.

``fn.source(...)`` is a ``Source`` (a ``str``, syntax-highlighted through Pygments when it is
installed), ``fn.graph(...)`` a ``GraphText`` (a ``str`` that draws itself as SVG), and
``explain()`` and ``cache_info()`` render as HTML tables.
"""

from __future__ import annotations

import html

from .. import viz

try:
    import pygments
    import pygments.formatters
    import pygments.lexers
except ImportError:  # optional: without it source is shown as plain preformatted text
    pygments = None


class Source(str):
    """Generated source code: a ``str`` that Jupyter shows syntax-highlighted."""

    def _repr_html_(self) -> str:
        return highlighted_html(self)


def highlighted_html(code: str) -> str:
    """``code`` as HTML: colored by Pygments when installed, escaped ``<pre>`` otherwise."""
    if pygments is None:
        return f"<pre>{html.escape(code)}</pre>"
    formatter = pygments.formatters.HtmlFormatter(noclasses=True)
    return pygments.highlight(code, pygments.lexers.PythonLexer(), formatter)


class GraphText(str):
    """The compiled graph, one node a line; ``to_dot()`` draws it, Jupyter shows the picture."""

    def __new__(cls, text: str, parts=None, function: str = ""):
        self = super().__new__(cls, text)
        self._parts = parts
        self._function = function
        return self

    def to_dot(self) -> viz.Dot:
        """The graph as Graphviz DOT (see ``symgrad.viz.compiled_dot`` for the colors)."""
        return viz.compiled_dot(self._parts, self._function)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = self.to_dot()._repr_mimebundle_(include, exclude)
        bundle["text/plain"] = str.__str__(self)
        return bundle


def table(headers: list[str], rows: list[list], caption: str = "") -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def explanation_html(explanation) -> str:
    """``explain()`` as HTML: the cache key, then one table per section of the text report."""
    parts = [
        f"<p><b>symgrad explain: {html.escape(explanation.function)}</b><br>"
        f"cache key: <code>{html.escape(explanation.key)}</code></p>",
        table(["stage", "nodes"], list(explanation.node_counts.items()), "nodes"),
        table(["rule", "hits"], sorted(explanation.rule_hits.items()), "rules applied"),
        table(
            ["name", "type", "bytes"],
            [list(saved) for saved in explanation.saved],
            "saved for backward",
        ),
        "<p>" + html.escape(explanation.workspace_lines()[0]) + "</p>",
        table(
            ["phase", "ms"],
            [[phase, f"{s * 1000:.2f}"] for phase, s in explanation.phase_seconds.items()],
            "time per phase",
        ),
    ]
    if explanation.workspace:
        rows = [[name, count, nbytes] for name, (count, nbytes) in explanation.workspace.items()]
        parts.insert(-1, table(["function", "buffers", "bytes"], rows, "workspace (per thread)"))
    return "\n".join(parts)


def cache_info_html(info) -> str:
    """``cache_info()`` as an HTML table, one row per entry."""
    rows = [
        [
            i,
            entry.key,
            entry.hits,
            f"{sum(entry.compile_seconds.values()) * 1000:.1f}",
            entry.reason or "",
        ]
        for i, entry in enumerate(info.entries)
    ]
    caption = (
        f"cache of {info.function}: {len(info.entries)} entries, {info.hits} hits, "
        f"{info.misses} misses"
    )
    return table(["entry", "key", "hits", "compile ms", "recompiled because"], rows, caption)
