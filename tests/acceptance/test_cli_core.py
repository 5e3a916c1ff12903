"""`loopgate verify`, `init`, `schema` and `explain` as a user runs them: real processes, real files.

Every test runs `python -m loopgate ...` in a temporary directory and reads only what a user
sees: stdout, stderr and the exit status (0 clean, 1 findings, 2 usage or input error).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from loopgate import codes
from loopgate.artifacts.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "repo-maintenance"
RUNTIME = "- max runtime: 30 minutes"


def loopgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "CI", "NO_COLOR")}
    done = subprocess.run([sys.executable, "-m", "loopgate", *args], cwd=cwd, env=env, capture_output=True,
                          check=False, timeout=120)
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8"),
                                       done.stderr.decode("utf-8"))


def copy_example(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) and return the line it was on."""
    text = path.read_text("utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "loop")


# -- verify: output formats and exit statuses -----------------------------------------------------
def test_clean_example_exits_0(loop: Path) -> None:
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert (done.returncode, done.stdout, done.stderr) == (0, "loopgate: ok: 5 files checked, no findings\n", "")


def test_text_output_names_file_line_column_code_and_hint(loop: Path) -> None:
    line = edit(loop / "LOOP_SPEC.md", RUNTIME, "- max runtime: 30")
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"loop/LOOP_SPEC.md:{line}:16: LG203 max runtime: '30' has no unit; write e.g. '30 minutes'",
        "    hint: Write the duration with a unit, e.g. `30 minutes`.",
        "loopgate: failed: 1 error, 0 warnings in 5 files checked",
    ]


def test_json_output_shape(loop: Path) -> None:
    line = edit(loop / "LOOP_SPEC.md", RUNTIME, "- max runtime: 30")
    edit(loop / "loop-readiness.md", "- [x] the work repeats", "- [ ] the work repeats")
    done = loopgate("verify", str(loop), "--format", "json", cwd=loop.parent)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert set(report) == {"ok", "problems"} and report["ok"] is False
    assert [p["code"] for p in report["problems"]] == ["LG203", "LG305"]
    first = report["problems"][0]
    assert first == {"path": str(loop / "LOOP_SPEC.md"), "line": line, "column": 16, "code": "LG203",
                     "severity": "error", "message": "max runtime: '30' has no unit; write e.g. '30 minutes'",
                     "hint": "Write the duration with a unit, e.g. `30 minutes`."}
    assert report["problems"][1]["severity"] == "warning"


def test_json_output_when_clean(loop: Path) -> None:
    done = loopgate("verify", "loop", "--format", "json", cwd=loop.parent)
    assert (done.returncode, json.loads(done.stdout)) == (0, {"ok": True, "problems": []})


def test_github_annotations(loop: Path) -> None:
    line = edit(loop / "LOOP_STATE.md", "- mode: shadow", "- mode: yolo")
    done = loopgate("verify", "loop", "--format", "github", cwd=loop.parent)
    assert done.returncode == 1
    annotations = [ln for ln in done.stdout.splitlines(keepends=True) if not ln.startswith(("::group::", "::endgroup"))
                   and ln.startswith("::")]
    assert annotations == [f"::error file=loop/LOOP_STATE.md,line={line},col=9,title=LG206::mode: 'yolo' is not a "
                           "valid rollout mode%0AUse one of: shadow, draft-pr, pr.\n"]
    # before them, the readable log folded into a group
    assert done.stdout.startswith("::group::loopgate verify: failed\n")


def test_github_is_the_default_under_github_actions(loop: Path) -> None:
    edit(loop / "LOOP_STATE.md", "- mode: shadow", "- mode: yolo")
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    done = subprocess.run([sys.executable, "-m", "loopgate", "verify", "loop"], cwd=loop.parent, env=env,
                          capture_output=True, text=True, check=False)
    assert "\n::error file=loop/LOOP_STATE.md," in done.stdout


def test_strict_fails_on_warnings(loop: Path) -> None:
    edit(loop / "loop-readiness.md", "- [x] the work repeats", "- [ ] the work repeats")
    relaxed = loopgate("verify", "loop", cwd=loop.parent)
    assert relaxed.returncode == 0
    assert "LG305 [warning] readiness item" in relaxed.stdout
    assert relaxed.stdout.endswith("loopgate: passed with findings: 0 errors, 1 warning in 5 files checked\n")
    strict = loopgate("verify", "loop", "--strict", cwd=loop.parent)
    assert strict.returncode == 1
    assert strict.stdout.endswith("loopgate: failed: 0 errors, 1 warning in 5 files checked\n")


def test_one_file_by_name_uses_its_siblings(loop: Path) -> None:
    edit(loop / "LOOP_STATE.md", "- opened_pull_requests: 0", "- opened_pull_requests: 9")
    done = loopgate("verify", "loop/LOOP_STATE.md", cwd=loop.parent)
    assert done.returncode == 1
    assert "LG301 opened pull requests is 9, over the spec's max pull requests per run of 2" in done.stdout
    assert done.stdout.endswith("in 1 file checked\n")


# -- verify: where it looks ---------------------------------------------------------------------
def test_a_directory_without_artifacts_is_searched_below(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "nested/gamma"):
        copy_example(tmp_path / "mono" / "loops" / name)
    copy_example(tmp_path / "mono" / "node_modules" / "ignored")
    edit(tmp_path / "mono" / "loops" / "beta" / "LOOP_SPEC.md", RUNTIME, "- max runtime: 30")
    done = loopgate("verify", "mono", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("mono/loops/beta/LOOP_SPEC.md:")
    assert done.stdout.endswith("loopgate: failed: 1 error, 0 warnings in 15 files checked\n")


def test_a_directory_with_no_loop_anywhere(tmp_path: Path) -> None:
    (tmp_path / "empty" / "src").mkdir(parents=True)
    done = loopgate("verify", "empty", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("empty/LOOP_SPEC.md:1:1: LG101 empty: no LOOP_SPEC.md here, in .loop/, or in any "
                                  "directory below\n")


def test_no_arguments_finds_the_dot_loop_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    copy_example(repo / ".loop")
    (repo / "README.md").write_text("# a project\n", encoding="utf-8")
    done = loopgate("verify", cwd=repo)
    assert (done.returncode, done.stdout) == (0, "loopgate: ok: 5 files checked, no findings\n")
    edit(repo / ".loop" / "LOOP_STATE.md", "- mode: shadow", "- mode: pr")
    failed = loopgate("verify", cwd=repo)
    assert failed.returncode == 1
    assert failed.stdout.startswith(".loop/LOOP_STATE.md:5:9: LG302 ")


# -- verify: pyproject.toml -------------------------------------------------------------------
def test_pyproject_settings_are_honoured_and_the_command_line_wins(loop: Path) -> None:
    edit(loop / "loop-readiness.md", "- [x] the work repeats", "- [ ] the work repeats")
    (loop.parent / "pyproject.toml").write_text('[tool.loopgate.verify]\nstrict = true\nformat = "json"\n',
                                                encoding="utf-8")
    configured = loopgate("verify", "loop", cwd=loop.parent)
    assert configured.returncode == 1
    assert json.loads(configured.stdout)["problems"][0]["code"] == "LG305"
    overridden = loopgate("verify", "loop", "--no-strict", "--format", "text", cwd=loop.parent)
    assert overridden.returncode == 0
    assert overridden.stdout.endswith("loopgate: passed with findings: 0 errors, 1 warning in 5 files checked\n")


def test_a_change_that_drops_strict_is_still_verified_strictly(loop: Path) -> None:
    """`strict = true` committed, removed in the working tree: the stricter of the two applies."""
    edit(loop / "loop-readiness.md", "- [x] the work repeats", "- [ ] the work repeats")
    (loop.parent / "pyproject.toml").write_text("[tool.loopgate.verify]\nstrict = true\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "strict"]):
        subprocess.run(["git", *args], cwd=loop.parent, env=env, check=True, capture_output=True)
    (loop.parent / "pyproject.toml").write_text("[tool.loopgate.verify]\nstrict = false\n", encoding="utf-8")
    assert loopgate("verify", "loop", cwd=loop.parent).returncode == 1
    assert loopgate("verify", "loop", "--no-strict", cwd=loop.parent).returncode == 0  # asked for on purpose


def test_pyproject_is_found_from_a_subdirectory(loop: Path) -> None:
    (loop.parent / "pyproject.toml").write_text('[tool.loopgate]\nformat = "json"\n', encoding="utf-8")
    done = loopgate("verify", ".", cwd=loop)
    assert json.loads(done.stdout) == {"ok": True, "problems": []}


@pytest.mark.parametrize(("toml", "message"), [
    ("[tool.loopgate.verify\n", "cannot read [tool.loopgate]"),
    ('[tool.loopgate.verify]\nformat = "xml"\n', "unknown format 'xml'"),
    ('[tool.loopgate.verify]\nstrict = "no"\n', "must be true or false"),
    ('[tool.loopgate]\nverify = 1\n', "[tool.loopgate.verify] must be a table"),
])
def test_a_broken_pyproject_is_a_usage_error(loop: Path, toml: str, message: str) -> None:
    (loop.parent / "pyproject.toml").write_text(toml, encoding="utf-8")
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("loopgate: error: ") and message in done.stderr


# -- verify: bad input -------------------------------------------------------------------------
def _binary(loop: Path) -> str:
    (loop / "LOOP_STATE.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return "LG004"


def _latin1(loop: Path) -> str:
    (loop / "LOOP_STATE.md").write_bytes("# Loop State: Caf\u00e9\n".encode("latin-1"))
    return "LG003"


def _huge(loop: Path) -> str:
    (loop / "LOOP_SPEC.md").write_text("# Loop Spec: X\n" + "- padding\n" * 500_000, encoding="utf-8")
    return "LG005"


def _directory_as_file(loop: Path) -> str:
    (loop / "escalation-policy.md").unlink()
    (loop / "escalation-policy.md").mkdir()
    return "LG002"


def _dangling_symlink(loop: Path) -> str:
    (loop / "LOOP_SPEC.md").unlink()
    (loop / "LOOP_SPEC.md").symlink_to(loop / "gone.md")
    return "LG002"


DAMAGED = {_binary: "LOOP_STATE.md", _latin1: "LOOP_STATE.md", _huge: "LOOP_SPEC.md",
           _directory_as_file: "escalation-policy.md", _dangling_symlink: "LOOP_SPEC.md"}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_unreadable_input_exits_2_with_a_finding(loop: Path, damage: Callable[[Path], str]) -> None:
    code = damage(loop)
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert done.returncode == 2, done.stdout
    lines = [line for line in done.stdout.splitlines() if f" {code} " in line]
    assert len(lines) == 1 and lines[0].startswith(f"loop/{DAMAGED[damage]}:"), done.stdout  # the damaged file
    assert "hint: " in done.stdout


def test_a_missing_path_exits_2(tmp_path: Path) -> None:
    done = loopgate("verify", "nowhere", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("nowhere:1:1: LG001 nowhere: no such file or directory\n")


def test_a_file_that_is_not_an_artifact_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n", encoding="utf-8")
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    done = loopgate("verify", "notes.md", "empty.md", cwd=tmp_path)
    assert done.returncode == 2
    assert [line.split(" ")[1] for line in done.stdout.splitlines() if ": LG" in line] == ["LG006", "LG006"]


@pytest.mark.parametrize(("text", "code"), [
    ("", "LG103"),
    ("# Loop Spec: X\n\n## Purpose\nA\n\n## Purpose\nB\n", "LG106"),
    ("# Loop Spec: X\n## Budgets\n" + "".join("  " * i + "- deeper:\n" for i in range(400)), "LG105"),
])
def test_broken_documents_are_findings_not_crashes(loop: Path, text: str, code: str) -> None:
    (loop / "LOOP_SPEC.md").write_text(text, encoding="utf-8")
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert done.returncode == 1
    assert f" {code} " in done.stdout


def test_sections_in_any_order_are_fine(loop: Path) -> None:
    spec = loop / "LOOP_SPEC.md"
    title, *sections = spec.read_text("utf-8").split("\n## ")
    spec.write_text("\n## ".join([title, *reversed([s.rstrip("\n") + "\n" for s in sections])]), encoding="utf-8")
    done = loopgate("verify", "loop", cwd=loop.parent)
    assert (done.returncode, done.stdout) == (0, "loopgate: ok: 5 files checked, no findings\n")


def test_an_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    done = loopgate("verify", "--frobnicate", cwd=tmp_path)
    assert done.returncode == 2
    assert "No such option '--frobnicate'" in done.stderr


# -- init ----------------------------------------------------------------------------------------
def test_init_then_verify(tmp_path: Path) -> None:
    done = loopgate("init", "loops/docs", "--name", "Documentation Link Repair", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.splitlines() == [*(f"wrote loops/docs/{k.filename}" for k in KINDS),
                                        "wrote loops/docs/work-queue.md",
                                        "next: edit the files, then run `loopgate verify loops/docs` "
                                        "and `loopgate readiness loops/docs`"]
    verified = loopgate("verify", "loops/docs", cwd=tmp_path)
    assert verified.returncode == 0
    assert {line.split(" ")[1] for line in verified.stdout.splitlines() if ": LG" in line} == {"LG305"}
    assert loopgate("verify", "loops/docs", "--strict", cwd=tmp_path).returncode == 1
    again = loopgate("init", "loops/docs", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.startswith("loopgate: error: would overwrite loops/docs/LOOP_SPEC.md")
    assert loopgate("init", "loops/docs", "--name", "Other", "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "loops/docs/LOOP_SPEC.md").read_text("utf-8").startswith("# Loop Spec: Other\n")


def test_init_names_the_loop_after_the_directory(tmp_path: Path) -> None:
    assert loopgate("init", "ci-failure_grouping", cwd=tmp_path).returncode == 0
    spec = (tmp_path / "ci-failure_grouping" / "LOOP_SPEC.md").read_text("utf-8")
    assert spec.startswith("# Loop Spec: Ci Failure Grouping\n")


def test_init_writes_nothing_when_one_file_exists(tmp_path: Path) -> None:
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "loop-readiness.md").write_text("mine\n", encoding="utf-8")
    done = loopgate("init", "loop", "--name", "X", cwd=tmp_path)
    assert done.returncode == 2
    assert sorted(p.name for p in (tmp_path / "loop").iterdir()) == ["loop-readiness.md"]


# -- schema ---------------------------------------------------------------------------------------
def test_schema_lists_the_names(tmp_path: Path) -> None:
    done = loopgate("schema", cwd=tmp_path)
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert {"loop-spec", "loop-state", "quality-gate-checklist", "escalation-policy", "loop-readiness"} <= set(names)
    assert "loop-spec                LOOP_SPEC.md" in done.stdout.splitlines()


@pytest.mark.parametrize(("name", "schema"), [
    ("loop-spec", "loop-spec"), ("spec", "loop-spec"), ("LOOP_SPEC.md", "loop-spec"), ("loop_state.md", "loop-state"),
    ("policy", "escalation-policy"), ("checklist", "quality-gate-checklist"), ("Readiness", "loop-readiness"),
    ("loop-state.schema.json", "loop-state"),
])
def test_schema_by_name_short_name_or_file_name(tmp_path: Path, name: str, schema: str) -> None:
    done = loopgate("schema", name, cwd=tmp_path)
    assert done.returncode == 0
    shipped = resources.files("loopgate.artifacts").joinpath("schemas", f"{schema}.schema.json").read_text("utf-8")
    assert done.stdout == shipped
    assert json.loads(done.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_unknown_name(tmp_path: Path) -> None:
    done = loopgate("schema", "loop-spex", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("loopgate: error: no schema named 'loop-spex' (try: ")


# -- explain --------------------------------------------------------------------------------------
def test_explain_one_code(tmp_path: Path) -> None:
    done = loopgate("explain", "lg203", cwd=tmp_path)
    assert done.returncode == 0
    entry = codes.REGISTRY["LG203"]
    assert done.stdout.startswith("LG203 bad-duration (error)\n\nA value that must be a duration is not one.\n")
    assert f"Fix: {entry.hint}" in done.stdout


def test_explain_unknown_code(tmp_path: Path) -> None:
    done = loopgate("explain", "LG999", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "loopgate: error: unknown code 'LG999' (run `loopgate explain` for the list)\n"


def test_explain_table_lists_every_code(tmp_path: Path) -> None:
    done = loopgate("explain", cwd=tmp_path)
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert listed == sorted(listed)
    assert {c for c in codes.REGISTRY if c < "LG400"} <= set(listed)
    assert "LG305  warning  readiness-undecided" in done.stdout


def test_explain_json(tmp_path: Path) -> None:
    done = loopgate("explain", "LG001", "--format", "json", cwd=tmp_path)
    (entry,) = json.loads(done.stdout)
    assert entry["code"] == "LG001" and entry["severity"] == "error" and entry["hint"]
