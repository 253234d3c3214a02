"""setup.cfg's dependency ranges: no lower bound lets in a release that is known to fail with
this package, each lower bound is a version that the tests were run with (the record of the
lowest versions tested, a comment above ``install_requires``), and the pinned environment
(constraints.txt) lies inside every range."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

#: The oldest release of each dependency that works, and what fails in the one before it (found
#: by installing the lower bounds with ``pip install --only-binary :all:`` and running the tests).
NEEDED = {
    "transformers": (
        "5.10.1",
        "5.0-5.9 have no transformers.utils.hub.hf_api (push_to_hub of a model or tokenizer "
        "fails) and cannot load the tokenizer as remote code (FileNotFoundError)",
    ),
    "huggingface-hub": ("1.5", "transformers 5.10.1 requires huggingface-hub>=1.5"),
    "safetensors": ("0.4.3", "transformers 5.10.1 and accelerate 1.14 require it"),
    "accelerate": (
        "1.14",
        "1.13 refuses the training sampler's batch_size None on two processes ('You need to use "
        "even_batches=False'); the evaluation needs even batches for gather_for_metrics",
    ),
    "numpy": ("2.0", "with 1.26 the pyarrow that datasets installs (26) fails at import"),
    "scikit-learn": ("1.4.2", "1.3-1.4.1 require numpy<2"),
    "tensorboard": ("2.17.1", "2.15.0-2.17.0 use np.string_ (gone in NumPy 2) to log the hparams"),
    "matplotlib": ("3.8.4", "3.7.0 fails to import with NumPy 2; 3.7.1-3.8.3 require numpy<2"),
    "tqdm": ("4.66.3", "datasets 4.0 requires it: the floors could not be installed together"),
    "pytest-xdist": ("3.0.2", "the first 3.x release on PyPI"),
    "python": ("3.11", "constraints.txt pins numpy 2.4.6, scipy 1.17.1 and pandas 3.1.1: 3.11+"),
    "ruff": (
        "0.17.5",
        "earlier releases fail CI's `ruff check .` on this code: 0.6-0.8 do not know UP045, "
        "0.9-0.12 report UP038, 0.13-0.17.4 B008 for a frozen dataclass default",
    ),
}


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def python_floor() -> Version:
    """The version of setup.cfg's ``python_requires = >=X.Y``."""
    return lower_bound(Requirement("python" + _setup_cfg()["options"]["python_requires"]))


def recorded_versions() -> dict[str, Version]:
    """The ``name==version`` entries of setup.cfg's "Lowest versions tested" comment."""
    lines = (ROOT / "setup.cfg").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("# Lowest versions tested")]
    assert starts, "setup.cfg has no '# Lowest versions tested' record"
    record = []
    for line in lines[starts[0] :]:
        if not line.startswith("#"):
            break
        record.append(line)
    pairs = re.findall(r"([A-Za-z0-9_.-]+)==([0-9][^\s]*)", "\n".join(record))
    return {canonicalize_name(name): Version(version) for name, version in pairs}


def declared_requirements() -> dict[str, Requirement]:
    """setup.cfg's ``install_requires`` and the ``all`` and ``test`` extras, by canonical name."""
    config = _setup_cfg()
    lines = config["options"]["install_requires"].splitlines()
    for extra in ("all", "test"):
        lines += config["options.extras_require"][extra].splitlines()
    requirements = [Requirement(line) for line in lines if line.strip()]
    return {canonicalize_name(r.name): r for r in requirements}


def lower_bound(requirement: Requirement) -> Version | None:
    """The version of the requirement's ``>=`` clause (None without one)."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return max(floors, default=None)


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_no_lower_bound_lets_in_a_release_known_to_fail(name):
    needed, why = NEEDED[name]
    if name == "python":
        floor, requirement = python_floor(), f"python_requires >={python_floor()}"
    else:
        requirement = declared_requirements()[canonicalize_name(name)]
        floor = lower_bound(requirement)
    assert floor is not None and floor >= Version(needed), f"{requirement}: {why}"


def test_every_lower_bound_is_a_version_the_tests_were_run_with():
    """A floor changed without a run at the new floors (or a run not recorded) shows here.
    torch is tested at the one build the project's machines have, above its floor."""
    tested = recorded_versions()
    requirements = declared_requirements()
    assert set(tested) == set(requirements) | {"python"}, set(tested) ^ set(requirements)
    untested = {
        str(r): str(tested[name])
        for name, r in requirements.items()
        if name != "torch" and tested[name] != lower_bound(r)
    }
    assert not untested, f"floors that differ from the versions tested: {untested}"
    assert tested["torch"] in requirements["torch"].specifier
    python = tested["python"]
    assert Version(f"{python.major}.{python.minor}") == python_floor()


def test_the_pinned_environment_is_inside_every_range():
    """The README's install (``pip install -c constraints.txt``) resolves only when each pin
    satisfies setup.cfg's range."""
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.M))
    pins = {canonicalize_name(name): version for name, version in pins.items()}
    requirements = declared_requirements()
    assert set(requirements) <= set(pins), set(requirements) - set(pins)
    outside = {str(r): pins[n] for n, r in requirements.items() if pins[n] not in r.specifier}
    assert not outside
