"""pyproject.toml ships the whole sagaops package tree and nothing else of the repository's."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_package_list_is_every_package_of_the_app():
    on_disk = sorted(".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "sagaops").rglob("__init__.py"))
    assert sorted(PYPROJECT["tool"]["setuptools"]["packages"]) == on_disk


def test_the_templates_and_static_files_live_in_the_package():
    assert (ROOT / "sagaops/templates/sagaops/console/stuck.html").exists()
    assert (ROOT / "sagaops/templates/admin/sagaops/saga/change_list.html").exists()
    assert (ROOT / "sagaops/static/sagaops/console.css").exists()
    assert not (ROOT / "templates").exists()
