"""symgrad.autograd.profiler: torch's ``profile`` context manager and ``record_function``,
counting and timing symgrad's own ops.

While a ``profile`` is active, every op call (``mul``, ``sum`` ...), every backward node the
engine runs (``MulBackward0`` ...) and every ``record_function`` range is one event with its
wall time; ``key_averages().table()`` prints them in torch's layout. Op names are symgrad's
(``mul``, not ``aten::mul``). When no profiler is active the dispatch pays one module
attribute test per op.

>>> import symgrad
>>> from symgrad.autograd import profiler
>>> x = symgrad.ones(2, 2, requires_grad=True)
>>> with profiler.profile() as prof:
...     (x * x + x).sum().backward()
>>> sorted((e.key, e.count) for e in prof.key_averages())[:3]
[('AddBackward0', 1), ('MulBackward0', 1), ('SumBackward0', 1)]
"""

from __future__ import annotations

import functools
import time

from . import dispatch_gate

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]

# The profilers recording now (innermost last); ``recording`` is what the dispatch tests.
_active: list[profile] = []
recording = False


class FunctionEvent:
    """One timed call: its name, input shapes, and wall time in microseconds (total, and self:
    without the events nested in it)."""

    __slots__ = ("name", "input_shapes", "cpu_time_total", "self_cpu_time_total", "_children")

    def __init__(self, name: str, input_shapes: list):
        self.name = name
        self.input_shapes = input_shapes
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self._children = 0.0

    @property
    def key(self) -> str:
        return self.name

    @property
    def count(self) -> int:
        return 1

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent name={self.name} cpu_time_total={self.cpu_time_total:.3f}us "
            f"self_cpu_time_total={self.self_cpu_time_total:.3f}us "
            f"input_shapes={self.input_shapes}>"
        )


class FunctionEventAvg:
    """The events of one key (name, and input shapes when grouped by them), summed."""

    def __init__(self, key: str, input_shapes: list | None = None):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0

    def add(self, event) -> FunctionEventAvg:
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        """Average total time per call, in microseconds."""
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
            f"cpu_time={self.cpu_time:.3f}us count={self.count} input_shapes={self.input_shapes}>"
        )


class EventList(list):
    """A list of events (or of averages) that prints as torch's table."""

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One FunctionEventAvg per name (and per input shapes), in order of first call."""
        groups: dict = {}
        for event in self:
            shapes = event.input_shapes if group_by_input_shape else None
            key = (event.key, str(shapes)) if group_by_input_shape else event.key
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, shapes)
            groups[key].add(event)
        averaged = EventList(groups.values())
        averaged._with_shapes = group_by_input_shape
        return averaged

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_src_column_width: int = 75,
        max_name_column_width: int = 55,
        max_shapes_column_width: int = 80,
        header: str | None = None,
        top_level_events_only: bool = False,
        time_unit: str | None = None,
    ) -> str:
        """torch's table: Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of
        Calls (and Input Shapes when grouped by them); ``sort_by`` names a column such as
        ``"self_cpu_time_total"``, ``"cpu_time_total"`` or ``"count"``, descending."""
        return _table(
            self,
            sort_by,
            row_limit,
            max_name_column_width,
            max_shapes_column_width,
            header,
            time_unit,
        )

    def __str__(self) -> str:
        return self.table()


_SORT_KEYS = {
    "cpu_time": "cpu_time",
    "cpu_time_total": "cpu_time_total",
    "self_cpu_time_total": "self_cpu_time_total",
    "count": "count",
}


def _table(events, sort_by, row_limit, name_width, shapes_width, header, time_unit) -> str:
    rows = list(events)
    if sort_by is not None:
        attribute = _SORT_KEYS.get(sort_by)
        if attribute is None:
            raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
        rows.sort(key=lambda e: getattr(e, attribute), reverse=True)
    if row_limit is not None and row_limit > 0:
        rows = rows[:row_limit]
    with_shapes = getattr(events, "_with_shapes", False)
    self_total = sum(e.self_cpu_time_total for e in events)
    width = min(max([len(e.key) for e in events] + [4]) + 4, name_width)
    headers = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    widths = [width] + [12] * len(headers)
    titles = ["Name", *headers]
    if with_shapes:
        shapes = [str(e.input_shapes) for e in rows]
        widths.append(min(max(len(s) for s in shapes + ["Input Shapes"]) + 4, shapes_width))
        titles.append("Input Shapes")
    line = "  ".join("-" * w for w in widths) + "  "

    def row(cells) -> str:
        return "  ".join(str(c)[:w].rjust(w) for c, w in zip(cells, widths, strict=True)) + "  "

    def percent(value: float) -> str:
        return f"{100 * value / self_total:.2f}%" if self_total > 0 else "0.00%"

    out = []
    if header is not None:
        out += ["=" * len(line), header]
    out += [line, row(titles), line]
    for e in rows:
        name = e.key if len(e.key) <= width else e.key[: width - 3] + "..."
        cells = [
            name,
            percent(e.self_cpu_time_total),
            _format_time(e.self_cpu_time_total, time_unit),
            percent(e.cpu_time_total),
            _format_time(e.cpu_time_total, time_unit),
            _format_time(e.cpu_time, time_unit),
            e.count,
        ]
        if with_shapes:
            cells.append(str(e.input_shapes))
        out.append(row(cells))
    out += [line, f"Self CPU time total: {_format_time(self_total, time_unit)}", ""]
    return "\n".join(out)


def _format_time(us: float, unit: str | None = None) -> str:
    """torch's time format: microseconds as us, ms or s with three decimals."""
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class profile:  # noqa: N801 - torch's name
    """Record the ops, backward nodes and ``record_function`` ranges run inside ``with``.

    Accepts torch's arguments; ``record_shapes`` keeps the input shapes of each op (for
    ``key_averages(group_by_input_shape=True)``); the CUDA, memory, FLOP, stack and module
    options have nothing to measure here and are accepted as no-ops.
    """

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device=None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        experimental_config=None,
        acc_events: bool = False,
        custom_trace_id_callback=None,
        post_processing_timeout_s: float | None = None,
        activity_filters=None,
    ):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.function_events: EventList | None = None
        self._events = EventList()
        self._open: list[FunctionEvent] = []

    def __enter__(self) -> profile:
        if self.enabled:
            self.function_events = None
            self._events = EventList()
            _active.append(self)
            _set_recording()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and self in _active:
            _active.remove(self)
            _set_recording()
            self.function_events = self._events

    def _check_finished(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def events(self) -> EventList:
        """Every recorded event, in the order they finished."""
        return self._check_finished()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0):
        """The events averaged per name (and per input shapes when asked)."""
        return self._check_finished().key_averages(group_by_input_shape)

    def total_average(self) -> FunctionEventAvg:
        return self._check_finished().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The summed self time of every event, in microseconds."""
        return self._check_finished().self_cpu_time_total

    def table(self, *args, **kwargs) -> str:
        return self._check_finished().table(*args, **kwargs)

    def __str__(self) -> str:
        return str(self._check_finished())


def _set_recording() -> None:
    global recording
    if recording != bool(_active):
        dispatch_gate.hold("profiler", 1 if _active else -1)
    recording = bool(_active)


class _Range:
    """One event being timed in every active profiler; nested ranges subtract from self."""

    __slots__ = ("events", "start")

    def __init__(self, name: str, args=()):
        self.events = []
        for prof in _active:
            shapes = _shapes(args) if prof.record_shapes else []
            event = FunctionEvent(name, shapes)
            prof._open.append(event)
            self.events.append((prof, event))
        self.start = time.perf_counter_ns()

    def close(self) -> None:
        elapsed = (time.perf_counter_ns() - self.start) / 1e3
        for prof, event in self.events:
            if prof._open and prof._open[-1] is event:
                prof._open.pop()
            event.cpu_time_total = elapsed
            event.self_cpu_time_total = elapsed - event._children
            if prof._open:
                prof._open[-1]._children += elapsed
            prof._events.append(event)


def _shapes(args) -> list:
    return [list(a.shape) if hasattr(a, "shape") else [] for a in args]


def timed(name: str, args, fn, *fn_args):
    """Run ``fn(*fn_args)`` as one event named ``name`` (the dispatch calls this only while
    ``recording``)."""
    event = _Range(name, args)
    try:
        return fn(*fn_args)
    finally:
        event.close()


class record_function:  # noqa: N801 - torch's name
    """A named range in the profile (``with record_function("forward"):`` or a decorator);
    outside a profile it does nothing."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._range: _Range | None = None

    def __enter__(self) -> record_function:
        if recording:
            self._range = _Range(self.name)
        return self

    def __exit__(self, *exc) -> None:
        if self._range is not None:
            self._range.close()
            self._range = None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapped
