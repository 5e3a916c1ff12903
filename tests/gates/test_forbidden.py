"""The forbidden gate: the default escalation set, project patterns, and where changes come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopgate.gates import forbidden
from loopgate.gates.base import GateContext, GateStatus

from .conftest import Cli, Repo


def _check(tmp_path: Path, *files: str, **options: object) -> forbidden.GateResult:
    """Given paths need not exist: the gate judges names. Outside git the directory is the root."""
    return forbidden.run(forbidden.Options(files=files, **options), GateContext(cwd=str(tmp_path)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "pattern", "kind"), [
    (".env", ".env*", "secrets and key files"),
    ("config/.env.production", ".env*", "secrets and key files"),
    ("certs/server.pem", "*.pem", "secrets and key files"),
    ("home/.ssh/id_rsa", "id_rsa*", "secrets and key files"),
    ("app/client_secret.json", "*secret*", "secrets and key files"),
    ("credentials.json", "credentials*", "secrets and key files"),
    ("infra/main.tf", "*.tf", "deployment and infrastructure"),
    ("envs/prod.tfvars", "*.tfvars", "deployment and infrastructure"),
    ("k8s/deployment.yaml", "k8s/", "deployment and infrastructure"),
    ("ops/helm/values.yaml", "helm/", "deployment and infrastructure"),
    ("Dockerfile", "Dockerfile", "deployment and infrastructure"),
    ("deploy/prod.yaml", "deploy/", "deployment and infrastructure"),
    (".github/workflows/ci.yml", ".github/workflows/", "CI workflows and commit hooks"),
    ("docs/.loopgate-links-ignore", ".loopgate-links-ignore", "CI workflows and commit hooks"),
    ("src/auth/login.py", "**/auth/**", "authentication, authorization, billing and payments"),
    ("services/billing/invoice.py", "**/billing/**", "authentication, authorization, billing and payments"),
    ("api/payments/refund.go", "**/payments/**", "authentication, authorization, billing and payments"),
    ("CODEOWNERS", "CODEOWNERS", "ownership, security policy and legal"),
    ("docs/SECURITY.md", "SECURITY.md", "ownership, security policy and legal"),
    # Any case: on macOS and Windows checkouts these are the same files as the lowercase ones.
    (".ENV", ".env*", "secrets and key files"),
    ("keys/ID_RSA", "id_rsa*", "secrets and key files"),
    ("certs/server.PEM", "*.pem", "secrets and key files"),
    ("Credentials.json", "credentials*", "secrets and key files"),
    ("src/Auth/login.py", "**/auth/**", "authentication, authorization, billing and payments"),
    ("Deploy/values.yaml", "deploy/", "deployment and infrastructure"),
    ("DOCKERFILE", "Dockerfile", "deployment and infrastructure"),
])
def test_defaults_fire_and_say_which_pattern(tmp_path: Path, path: str, pattern: str, kind: str) -> None:
    result = _check(tmp_path, path)
    assert result.status is GateStatus.FAILED
    (finding,) = result.findings
    assert finding.code == "LG411"
    assert finding.message == f"{path} is forbidden by '{pattern}' (default: {kind})"


@pytest.mark.parametrize("path", [
    "src/app.py", "docs/guide.md", "README.md", "tests/test_app.py", ".github/ISSUE_TEMPLATE.md",
    # people commit it to adopt the hooks; the run loop keeps the maker off it (a control file)
    ".pre-commit-config.yaml",
    "src/authors.py", "docs/deployment-notes.md", "LOOP_STATE.md", "src/keyboard.py",
    # The loop's own artifacts: a person commits them (verify checks them); the run loop keeps the maker off.
    "LOOP_SPEC.md", ".loop/quality-gate-checklist.md", "loops/triage/escalation-policy.md", "loop-readiness.md",
])
def test_ordinary_files_pass(tmp_path: Path, path: str) -> None:
    result = _check(tmp_path, path)
    assert result.status is GateStatus.PASSED, result.findings
    assert "checked against" in result.summary


def test_project_patterns_extend_and_take_defaults_back(tmp_path: Path) -> None:
    (tmp_path / "forbid.txt").write_text("# data deletion\nmigrations/**\n")
    result = _check(tmp_path, "db/migrations/0001_drop.sql", "migrations/0002.sql", ".env.example", ".env",
                    "src/jobs/purge.py", forbid=("!.env.example", "**/purge.py"), forbid_file="forbid.txt")
    messages = {f.path: f.message for f in result.findings}
    assert messages == {
        "migrations/0002.sql": "migrations/0002.sql is forbidden by 'migrations/**' (forbid.txt:2)",
        ".env": ".env is forbidden by '.env*' (default: secrets and key files)",
        "src/jobs/purge.py": "src/jobs/purge.py is forbidden by '**/purge.py' (--forbid)",
    }
    assert "2 the project's" not in result.summary and "3 the project's" in result.summary


def test_no_defaults(tmp_path: Path) -> None:
    only_mine = _check(tmp_path, ".env", "src/x.py", defaults=False, forbid=("src/**",))
    assert [f.path for f in only_mine.findings] == ["src/x.py"]
    nothing = _check(tmp_path, ".env", defaults=False)
    assert (nothing.status, [f.code for f in nothing.findings]) == (GateStatus.ERROR, ["LG412"])
    only_negations = _check(tmp_path, ".env", defaults=False, forbid=("!x",))
    assert [f.code for f in only_negations.findings] == ["LG412"]


def test_unreadable_forbid_file_and_bad_pattern(tmp_path: Path) -> None:
    missing = _check(tmp_path, "a.py", forbid_file="missing.txt")
    assert (missing.status, [f.code for f in missing.findings]) == (GateStatus.ERROR, ["LG439"])
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9/\n")
    not_utf8 = _check(tmp_path, "a.py", forbid_file="latin1.txt")
    assert "not UTF-8" in not_utf8.findings[0].message
    bad = _check(tmp_path, "a.py", forbid=("!",))
    assert (bad.status, [f.code for f in bad.findings]) == (GateStatus.ERROR, ["LG438"])


def test_paths_outside_the_repository_fail(repo: Repo, tmp_path: Path) -> None:
    (repo.path / "docs/out").symlink_to(tmp_path)
    result = repo.gate(forbidden, files=("../x.py", "docs/out", "docs/guide.md"))
    assert sorted(f.code for f in result.findings) == ["LG436", "LG436"]


def test_base_counts_deletions_and_renames(repo: Repo) -> None:
    repo.write("deploy/prod.yaml", "replicas: 3\n")
    repo.write(".github/workflows/ci.yml", "on: push\n")
    repo.commit()
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("rm", "-q", "deploy/prod.yaml")
    repo.git("mv", ".github/workflows/ci.yml", "ci-old.yml")
    repo.write("src/auth/new.py")
    result = repo.gate(forbidden, base=base)
    assert {f.path: f.message for f in result.findings} == {
        "deploy/prod.yaml": "deploy/prod.yaml (deleted) is forbidden by 'deploy/' (default: deployment and "
                            "infrastructure)",
        ".github/workflows/ci.yml": ".github/workflows/ci.yml (deleted) is forbidden by '.github/workflows/' "
                                    "(default: CI workflows and commit hooks)",
        "src/auth/new.py": "src/auth/new.py (untracked) is forbidden by '**/auth/**' (default: authentication, "
                           "authorization, billing and payments)",
    }


def test_default_source_is_the_index(repo: Repo) -> None:
    repo.write("Dockerfile", "FROM scratch\n")
    repo.write("infra/main.tf", "")
    repo.git("add", "infra/main.tf")
    result = repo.gate(forbidden)
    assert [f.path for f in result.findings] == ["infra/main.tf"]
    assert "staged" in result.summary


def test_cli_hook_style_filenames(repo: Repo, cli: Cli) -> None:
    done = cli("forbidden", "src/app.py", "secrets/prod.key", cwd=repo.path)
    assert done.returncode == 1
    assert "secrets/prod.key:1:1: LG411 secrets/prod.key is forbidden by '*.key'" in done.stdout
    assert cli("forbidden", "--no-defaults", "--forbid", "src/", "docs/guide.md", cwd=repo.path).returncode == 0


def test_docs_list_every_default() -> None:
    for pattern, _kind in forbidden.DEFAULTS:
        assert f"`{pattern}`" in (forbidden.__doc__ or "")


def test_project_patterns_match_any_case_too(tmp_path: Path) -> None:
    result = _check(tmp_path, "loop_spec.md", "Migrations/0001.SQL", ".ENV.Example",
                    forbid=("LOOP_SPEC.md", "migrations/*.sql", "!.env.EXAMPLE"))
    messages = {f.path: f.message for f in result.findings}
    assert messages == {
        "loop_spec.md": "loop_spec.md is forbidden by 'LOOP_SPEC.md' (--forbid)",
        "Migrations/0001.SQL": "Migrations/0001.SQL is forbidden by 'migrations/*.sql' (--forbid)",
    }


# -- .pre-commit-config.yaml: a change that weakens the loopgate hooks is judged by content ----------

CONFIG = """\
repos:
  - repo: https://github.com/loopgate-cli/loopgate
    rev: v0.1.0
    hooks:
      - id: loopgate-forbidden
      - id: loopgate-secrets
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: trailing-whitespace
"""


def _hooks(repo: Repo, text: str | None, **options: object) -> forbidden.GateResult:
    path = repo.path / ".pre-commit-config.yaml"
    if text is None:
        repo.git("rm", "-q", ".pre-commit-config.yaml")
    else:
        path.write_text(text)
        repo.git("add", ".pre-commit-config.yaml")
    return repo.gate(forbidden, **options)  # type: ignore[arg-type]


def test_adding_the_pre_commit_config_is_how_people_adopt_and_passes(repo: Repo) -> None:
    assert _hooks(repo, CONFIG).status is GateStatus.PASSED


@pytest.mark.parametrize(("edit", "line", "said"), [
    (lambda t: t.replace("      - id: loopgate-secrets\n", ""), 1, "removes the hook loopgate-secrets"),
    (lambda t: t.replace("id: loopgate-secrets\n", "id: loopgate-secrets\n        exclude: .*\n"), 6,
     "changes the settings of the hook loopgate-secrets"),
    (lambda t: t.replace("id: loopgate-forbidden\n", "id: loopgate-forbidden\n        stages: [manual]\n"), 5,
     "changes the settings of the hook loopgate-forbidden"),
    (lambda t: t.replace("https://github.com/loopgate-cli/loopgate", "https://example.invalid/fork"), 5,
     "changes the settings of the hook loopgate-forbidden; changes the settings of the hook loopgate-secrets"),
    (lambda t: "exclude: '.*'\n" + t, 1, "changes the top-level `exclude`, which filters every hook"),
    (lambda t: "x: &a [1]\ny: *a\n" + t, 1, "cannot be judged: it uses YAML aliases, which are not interpreted"),
    (lambda t: None, 1, "deletes the file, and with it the hooks loopgate-forbidden, loopgate-secrets"),
])
def test_a_change_that_weakens_the_loopgate_hooks_is_forbidden(repo: Repo, edit: object, line: int,
                                                               said: str) -> None:
    repo.write(".pre-commit-config.yaml", CONFIG)
    repo.commit("hooks")
    result = _hooks(repo, edit(CONFIG))  # type: ignore[operator]
    assert [(f.code, f.path, f.line) for f in result.findings] == [("LG413", ".pre-commit-config.yaml", line)]
    assert result.findings[0].message == (f".pre-commit-config.yaml: the change {said}; pre-commit would judge "
                                          "this commit with the weakened hooks")
    repo.git("reset", "-q", "--hard")
    # the same edit judged with --base, after it was committed on a branch
    repo.git("checkout", "-q", "-b", "weaken")
    _hooks(repo, edit(CONFIG))  # type: ignore[operator]
    repo.git("commit", "-q", "-m", "weaken")
    assert [f.code for f in repo.gate(forbidden, base="main").findings] == ["LG413"]


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("rev: v0.1.0", "rev: v0.2.0"),  # pre-commit autoupdate
    lambda t: t.replace("rev: v0.1.0", "rev: 2c9f875913ee60ca25ce70243dc24d5b6415598c  # frozen: v0.1.0"),
    lambda t: t + "  - repo: local\n    hooks:\n      - id: mine\n        name: mine\n        entry: 'true'\n"
                  "        language: system\n",
    lambda t: t.replace("      - id: trailing-whitespace\n", ""),  # not a loopgate hook
    lambda t: t.replace("id: loopgate-secrets\n", "id: loopgate-secrets\n      - id: loopgate-links\n"),
])
def test_autoupdate_and_added_or_other_hooks_pass(repo: Repo, edit: object) -> None:
    repo.write(".pre-commit-config.yaml", CONFIG)
    repo.commit("hooks")
    result = _hooks(repo, edit(CONFIG))  # type: ignore[operator]
    assert result.status is GateStatus.PASSED, result.findings
