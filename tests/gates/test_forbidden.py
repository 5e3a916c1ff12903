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
    (".github/workflows/ci.yml", ".github/workflows/", "CI workflows"),
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
                                    "(default: CI workflows)",
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
