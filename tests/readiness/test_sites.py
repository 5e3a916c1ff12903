"""`links-site`: the audit says which site profile the checklist's links gate will use, from which
file, and when a documentation site would be checked as plain markdown. Real fixture sites
(tests/fixtures/sites/, written from each generator's documentation) in real git repositories;
the links gate itself, run through `loopgate check`, is the peer the audit must agree with."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopgate.readiness.audit import audit
from loopgate.readiness.criteria import Criterion

from .conftest import ROOT, commit

SITES = ROOT / "tests" / "fixtures" / "sites"
DOCUSAURUS = {  # Docusaurus' documented layout: the config beside docs/
    "docusaurus.config.js": "module.exports = { title: 'Site', url: 'https://example.com', baseUrl: '/' };\n",
    "docs/intro.md": "# Intro\n\nSee [the guide](guide.md).\n",
    "docs/guide.md": "# Guide\n",
}


def add_site(repo: Path, kind: str, under: str = "") -> None:
    target = repo / under if under else repo
    if kind == "docusaurus":
        for name, text in DOCUSAURUS.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text, encoding="utf-8")
    else:
        shutil.copytree(SITES / kind, target, dirs_exist_ok=True)


def link_args(loop: Path, args: str) -> None:
    checklist = loop / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text("utf-8").replace("- args: --offline docs", f"- args: {args}"),
                         encoding="utf-8")


def site_of(loop: Path) -> Criterion | None:
    criteria = audit(str(loop), run_checks=False, write=False).criteria
    return next((c for c in criteria if c.id == "links-site"), None)


def gate_summary(repo: Path) -> str:
    """What the links gate itself says it used, run by `loopgate check` as the loop runs it."""
    done = subprocess.run([sys.executable, "-m", "loopgate", "check", "--loop", ".loop", "--only", "link check",
                           "--format", "json"], cwd=repo, capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert '"gate": "link check"' in done.stdout, done.stderr  # the gate ran (or errored) and said so
    return done.stdout


@pytest.mark.parametrize(("kind", "title", "config"), [
    ("mkdocs", "MkDocs", "mkdocs.yml"), ("mdbook", "mdBook", "book.toml"), ("hugo", "Hugo", "hugo.toml"),
    ("jekyll", "Jekyll", "_config.yml"), ("docusaurus", "Docusaurus", "docusaurus.config.js")])
def test_the_detected_profile_and_its_file_are_shown(loop_repo: Path, kind: str, title: str, config: str) -> None:
    repo = loop_repo.parent
    add_site(repo, kind)
    commit(repo, kind)
    found = site_of(loop_repo)
    assert found is not None and found.ok is True, found
    assert found.detail == f"link check: {title} site, from {config}"
    assert f"site: {title} (from {config})" in gate_summary(repo)  # the gate agrees


def test_a_site_the_gate_would_not_find_blocks_and_says_where_it_is(loop_repo: Path) -> None:
    repo = loop_repo.parent
    add_site(repo, "docusaurus", "website")
    commit(repo, "website")
    found = site_of(loop_repo)
    assert found is not None and found.ok is False
    assert "website/docusaurus.config.js is a docusaurus site" in found.detail and "`docs`" in found.detail
    assert "`- args: --offline website`" in found.fix
    result = audit(str(loop_repo), run_checks=False, write=False)
    assert "links-site" in {c.id for c in result.blocking("shadow")}
    assert "site:" not in gate_summary(repo)  # the gate did check it as plain markdown
    link_args(loop_repo, "--offline website")  # the fix the audit gave
    commit(repo, "check the site")
    fixed = site_of(loop_repo)
    assert fixed is not None and fixed.ok is True
    assert fixed.detail == "link check: Docusaurus site, from website/docusaurus.config.js"


def test_a_site_named_in_the_checklist_that_is_not_there(loop_repo: Path) -> None:
    repo = loop_repo.parent
    add_site(repo, "mdbook")
    link_args(loop_repo, "--offline --site mkdocs docs")
    commit(repo, "wrong site")
    found = site_of(loop_repo)
    assert found is not None and found.ok is False
    assert found.detail.startswith("link check: --site mkdocs, but the gate checking `docs` cannot use it: "
                                   "--site mkdocs: no mkdocs config found")
    assert "(detection finds mdbook from book.toml)" in found.detail
    assert "change --site to what the site is (mdbook)" in found.fix


@pytest.mark.parametrize(("files", "said"), [
    ({"mkdocs.yml": "site_name: [unclosed\n"}, "mkdocs.yml: not valid YAML"),
    ({"book.toml": "[book]\n"}, "an mdBook needs src/SUMMARY.md, which is missing"),
])
def test_a_site_config_the_gate_cannot_read(loop_repo: Path, files: dict[str, str], said: str) -> None:
    repo = loop_repo.parent
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    commit(repo, "broken config")
    found = site_of(loop_repo)
    assert found is not None and found.ok is False
    assert "does not load, so the gate cannot run" in found.detail and said in found.detail
    assert said in gate_summary(repo)  # the gate errors with the same words


def test_no_site_site_none_and_no_links_gate(loop_repo: Path) -> None:
    plain = site_of(loop_repo)
    assert plain is not None and plain.ok is True and "no documentation site" in plain.detail
    add_site(loop_repo.parent, "docusaurus", "website")
    link_args(loop_repo, "--offline --site=none docs")
    off = site_of(loop_repo)
    assert off is not None and off.ok is True and "--site none" in off.detail
    checklist = loop_repo / "quality-gate-checklist.md"
    checklist.write_text(checklist.read_text("utf-8").replace("- gate: links", "- gate: forbidden")
                         .replace("- args: --offline --site=none docs\n", ""), encoding="utf-8")
    assert site_of(loop_repo) is None


def test_the_site_in_pyproject_counts(loop_repo: Path) -> None:
    repo = loop_repo.parent
    add_site(repo, "mkdocs")
    (repo / "pyproject.toml").write_text("[tool.loopgate.gates.links]\nsite = \"hugo\"\n", encoding="utf-8")
    commit(repo, "hugo by config")
    found = site_of(loop_repo)
    assert found is not None and found.ok is False and "--site hugo" in found.detail
    assert "detection finds mkdocs from mkdocs.yml" in found.detail


def test_the_text_report_names_the_profile(loop_repo: Path) -> None:
    repo = loop_repo.parent
    add_site(repo, "mkdocs")
    commit(repo, "mkdocs")
    done = subprocess.run([sys.executable, "-m", "loopgate", "readiness", ".loop", "--no-run-checks", "--dry-run"],
                          cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, "NO_COLOR": "1"})
    assert "ok   links-site [shadow, draft-pr, pr]: link check: MkDocs site, from mkdocs.yml" in done.stdout
