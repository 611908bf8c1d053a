"""A real, non-editable install ships the Jinja2 templates and can compile."""

import os
import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_installed_package_finds_its_templates(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("symgrad-*.whl")
    assert "symgrad/templates/numpy.py.j2" in zipfile.ZipFile(wheel).namelist()

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = (
        "import numpy as np, symgrad\n"
        f"assert symgrad.__file__.startswith({str(target)!r}), symgrad.__file__\n"
        "from symgrad.compiler import templates_dir\n"
        "print(templates_dir())\n"
        "print(symgrad.grad(lambda x: (x * x).sum())(np.array([1.0, 2.0])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(target)),
        check=True,
    )
    assert str(target) in result.stdout
    assert "[2. 4.]" in result.stdout
