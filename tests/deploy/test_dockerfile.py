"""deploy/Dockerfile: the image carries the compiled scoring engine.

Docker cannot run here, so the Dockerfile is parsed (``dockerfile-parse``) and
its build stage checked step by step: the project installs with the
``native`` extra (the compiler), ``healthscore native`` compiles in the
source tree, the build is placed beside the installed package, and
``HEALTHSCORE_NATIVE=require`` proves it is in use, all before the runtime
stage copies the virtualenv. The same commands were run by hand in a venv
outside the repository, and the engine then loaded compiled.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage, (INSTRUCTION, value), comments left out."""
    stages: list[list[tuple[str, str]]] = []
    for step in DockerfileParser(path=str(DOCKERFILE)).structure:
        if step["instruction"] == "FROM":
            stages.append([])
        if step["instruction"] != "COMMENT":
            stages[-1].append((step["instruction"], " ".join(step["value"].split())))
    return stages


def test_the_build_stage_compiles_the_engine_and_checks_it_is_used() -> None:
    build, runtime = _stages()
    runs = [value for instruction, value in build if instruction == "RUN"]
    (install,) = [i for i, run in enumerate(runs) if "pip install '.[native]'" in run]
    (compile_,) = [i for i, run in enumerate(runs) if "healthscore native" in run]
    assert install < compile_
    steps = [s.strip() for s in runs[compile_].split("&&")]
    assert steps[0] == "PYTHONPATH=/src /opt/venv/bin/healthscore native"
    assert steps[1].startswith("cp -r /src/build ") and "purelib" in steps[1]
    assert steps[2] == "HEALTHSCORE_NATIVE=require /opt/venv/bin/healthscore native status"
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    # A C compiler in the build stage only.
    assert any("gcc" in value for i, value in build if i == "RUN")
    assert not any("gcc" in value for i, value in runtime if i == "RUN")


def test_the_native_extra_has_the_compiler_and_its_stubs() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {r.split(">")[0].split("=")[0] for r in extras["native"]}
    assert {"mypy", "types-PyYAML", "setuptools"} <= names


def test_every_copied_source_is_in_the_build_context() -> None:
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for stage in _stages():
        for instruction, value in stage:
            if instruction == "COPY" and not value.startswith("--from"):
                *sources, _ = value.split()
                for source in sources:
                    assert source in allowed, f"{source} is outside the build context"
                    assert (ROOT / source).exists()
