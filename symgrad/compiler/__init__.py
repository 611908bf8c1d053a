"""The symbolic compiler: trace -> reverse mode -> rewrites -> schedule -> numpy code -> cache."""

import os


def templates_dir() -> str:
    """The Jinja2 templates: inside the installed package, or ``templates/`` of a checkout."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (
        os.path.join(package, "templates"),
        os.path.join(os.path.dirname(package), "templates"),
    ):
        if os.path.isfile(os.path.join(candidate, "numpy.py.j2")):
            return candidate
    raise FileNotFoundError("symgrad's code templates are missing (numpy.py.j2)")
