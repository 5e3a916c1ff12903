"""The links gate on local links: real files in temporary trees, and the real CLI process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mistune
import pytest

from loopgate.gates import _mdlinks, links
from loopgate.gates.base import GateContext, GateResult, GateStatus

from .conftest import Cli, git_env, make_repo


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def check(root: Path, *paths: str, **options: object) -> GateResult:
    options.setdefault("offline", True)
    options.setdefault("cache_ttl", 0)
    return links.run(links.Options(paths=paths, **options), GateContext(cwd=str(root)))  # type: ignore[arg-type]


def found(result: GateResult) -> list[str]:
    return [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]


def test_relative_files_images_references_autolinks_and_html(tmp_path: Path) -> None:
    write(tmp_path, {
        "docs/guide.md": "# Guide\n\nSee [intro](intro.md), ![logo](../img/logo.png) and [ref][r].\n"
                         "Also <a href=\"intro.md\">intro</a> and <img src=\"../img/gone.png\">.\n\n"
                         "[r]: ./missing.md \"a title\"\n",
        "docs/intro.md": "# Intro\n",
        "img/logo.png": "png",
    })
    result = check(tmp_path, "docs")
    assert result.status is GateStatus.FAILED
    assert found(result) == [
        "docs/guide.md:4:49: LG441 ../img/gone.png: file not found: img/gone.png",
        "docs/guide.md:6:6: LG441 ./missing.md: file not found: docs/missing.md",
    ]
    assert result.summary.startswith("5 links in 2 files: 5 local checked; 2 broken links")


def test_autolinks_and_other_schemes_are_counted_not_checked(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "<https://example.com/a> <mailto:me@example.com> <me@example.com>\n"
                             "https://www.example.com/bare. [ftp](ftp://example.com/x)\n"})
    result = check(tmp_path)
    assert result.status is GateStatus.PASSED
    assert result.summary == ("5 links in 1 file: 0 local checked, 2 external not checked (--offline); "
                              "not checked: 1 ftp: links, 2 mailto: links; none broken")


def test_anchors_within_and_across_files(tmp_path: Path) -> None:
    write(tmp_path, {
        "a.md": "# Install the Tool!\n\n## Usage: `run` it\n\n"
                "[ok](#install-the-tool) [ok2](#usage-run-it) [bad](#instal-the-tool)\n"
                "[cross](b.md#setup) [cross-bad](b.md#set-up) [top](#) [case](#Install-The-Tool)\n",
        "b.md": "Setup\n=====\n\nSub heading\n-----------\n",
    })
    result = check(tmp_path)
    assert found(result) == [
        "a.md:5:52: LG442 #instal-the-tool: anchor #instal-the-tool not found in this file; "
        "did you mean #install-the-tool?",
        "a.md:6:33: LG442 b.md#set-up: anchor #set-up not found in b.md; did you mean #setup?",
    ]


def test_duplicate_headings_get_numbered_slugs(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "## Notes\n## Notes\n## Notes\n## Notes-1\n\n"
                             "[1](#notes) [2](#notes-1) [3](#notes-2) [4](#notes-1-1) [5](#notes-3)\n"})
    assert _mdlinks.parse("## Notes\n## Notes\n## Notes\n## Notes-1\n").anchors == \
        ["notes", "notes-1", "notes-2", "notes-1-1"]
    assert found(check(tmp_path)) == [
        "a.md:6:61: LG442 #notes-3: anchor #notes-3 not found in this file; did you mean #notes-2?"]


@pytest.mark.parametrize(("heading", "slug"), [
    ("Hello, World!", "hello-world"),
    ("What's new in v2.0?", "whats-new-in-v20"),
    ("`code` and **bold** and _emph_", "code-and-bold-and-emph"),
    ("snake_case_name", "snake_case_name"),
    ("A [link](x.md) here", "a-link-here"),
    ("Ünïcödé Straße", "ünïcödé-straße"),
    ("  spaced   out  ", "spaced---out"),
    ("C++ & C#", "c--c"),
])
def test_github_slugs(heading: str, slug: str) -> None:
    assert _mdlinks.slug(heading) == slug


def test_did_you_mean_has_a_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each suggestion compares with every candidate: thousands of headings times thousands of broken
    anchors took two minutes. Past a run's budget of comparisons, messages go without one."""
    write(tmp_path, {"a.md": "".join(f"## Part {n}\n" for n in range(5)) +
                             "[1](#prt-1) [2](#prt-2) [3](#prt-3) [4](#part-9) [5](#part-0)\n"})
    monkeypatch.setattr(links, "SUGGESTION_BUDGET", 10)  # two lookups among the 5 headings
    assert [f.message for f in check(tmp_path).findings] == [
        "#prt-1: anchor #prt-1 not found in this file; did you mean #part-1?",
        "#prt-2: anchor #prt-2 not found in this file; did you mean #part-2?",
        "#prt-3: anchor #prt-3 not found in this file",
        "#part-9: anchor #part-9 not found in this file",
    ]
    monkeypatch.setattr(links, "SUGGESTION_BUDGET", 0)
    write(tmp_path, {"b.md": "[x](gone/a.md) [y](a.mdx)\n"})
    assert [f.message for f in check(tmp_path, "b.md").findings] == [
        "gone/a.md: file not found: gone/a.md", "a.mdx: file not found: a.mdx"]


def test_explicit_html_ids(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": '<a id="custom"></a>\n\n<div id="block-id">\n</div>\n\nText <a name="named">x</a>\n\n'
                             "[1](#custom) [2](#block-id) [3](#named) [4](#nope)\n"})
    assert found(check(tmp_path)) == ["a.md:8:45: LG442 #nope: anchor #nope not found in this file"]


def test_code_blocks_and_inline_code_are_not_links(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "```md\n[no](fenced.md)\n```\n\n~~~\n[no](tilde.md)\n~~~\n\n    [no](indented.md)\n\n"
                             "`[no](span.md)` and ``[no](`double`.md)`` but [yes](gone.md)\n\n"
                             "- item\n\n      [no](code-in-list.md)\n"})
    assert found(check(tmp_path)) == ["a.md:11:53: LG441 gone.md: file not found: gone.md"]


def test_disable_comments(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "[1](gone1.md)\n<!-- loopgate: disable links -->\n[2](gone2.md)\n\n[3](gone3.md)\n"
                             "<!-- loopgate: enable links -->\n[4](gone4.md)\n"
                             "<!-- loopgate: disable-next-line links -->\n[5](gone5.md)\n[6](gone6.md)\n"
                             "[7](gone7.md) <!-- loopgate: disable-line -->\n"
                             "<!-- loopgate: disable-next-line spelling -->\n[8](gone8.md)\n"
                             "```\n<!-- loopgate: disable links -->\n```\n[9](gone9.md)\n"})
    result = check(tmp_path)
    assert [f.message.split(":")[0] for f in result.findings] == [
        "gone1.md", "gone4.md", "gone6.md", "gone8.md", "gone9.md"]
    assert "4 turned off by a loopgate: disable comment" in result.summary


def test_excludes_gitignore_and_the_ignore_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo.path, {
        ".gitignore": "build/\n",
        "build/out.md": "[x](gone.md)\n",
        "archive/old.md": "[x](gone.md)\n",
        "docs/a.md": "[x](gone.md) [y](https://example.com/skip-me) [z](legacy/page.md)\n",
        ".loopgate-links-ignore": "# legacy pages are generated\n^legacy/\n",
    })
    result = check(repo.path, exclude=("archive/",), ignore=("gone", "skip-me"))
    assert result.status is GateStatus.PASSED
    assert result.summary == "3 links in 1 file: 0 local checked; not checked: 3 ignored by pattern; none broken"
    back = check(repo.path, ignore_file="")  # no ignore patterns, no excludes: archive/ is checked again
    assert [f.path for f in back.findings] == ["archive/old.md", "docs/a.md", "docs/a.md"]
    assert back.summary.startswith("4 links in 2 files")  # build/ stays out: git ignores it


def test_unicode_and_spaces_in_file_names(tmp_path: Path) -> None:
    write(tmp_path, {
        "docs/My Notes.md": "# Überblick\n",
        "docs/ünï.md": "x\n",
        "index.md": "[a](docs/My%20Notes.md#überblick) [b](<docs/My Notes.md>) [c](docs/%C3%BCn%C3%AF.md) "
                    "[d](docs/ünï.md) [e](docs/My%20Note.md)\n",
    })
    assert found(check(tmp_path, "index.md")) == [
        "index.md:1:107: LG441 docs/My%20Note.md: file not found: docs/My Note.md; did you mean docs/My Notes.md?"]


def test_root_relative_links_and_directories(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo.path, {"docs/a.md": "[root](/README.md) [dir](../docs/) [q](a.md?plain=1#L3) [code](../x.py#L3)\n",
                      "README.md": "x\n", "x.py": "pass\n"})
    result = check(repo.path / "docs", "a.md")
    assert result.status is GateStatus.PASSED, found(result)
    assert "1 anchors in files that are not markdown, 1 line anchors" in result.summary


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    result = check(tmp_path, "nope")
    assert result.status is GateStatus.ERROR
    assert found(result) == ["nope:1:1: LG444 nope: no such file or directory"]


def test_bad_options_are_input_errors(tmp_path: Path) -> None:
    result = check(tmp_path, ignore=("(",), accept=("200-199",), request_timeout=0.0)
    assert result.status is GateStatus.ERROR
    assert [f.code for f in result.findings] == ["LG446", "LG446", "LG446"]
    assert "--request-timeout must be more than 0 (got 0.0)" in result.reason


def test_unreadable_file_fails(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe[x](y.md)\n")
    result = check(tmp_path)
    assert result.status is GateStatus.FAILED
    assert found(result) == ["bad.md:1:1: LG445 bad.md: not UTF-8 (byte 0); its links were not checked"]
    assert result.summary == ("0 links in 1 file: 0 local checked; 1 file not read: unreadable, binary or not UTF-8; "
                              "none broken")


def test_binary_file_named_md_is_not_passed(tmp_path: Path, cli: Cli) -> None:
    """Valid UTF-8 with NUL bytes (it used to pass with its links checked as text): binary, like not UTF-8."""
    write(tmp_path, {"ok.md": "[bin](bin.md)\n"})
    (tmp_path / "bin.md").write_bytes(b"\x7fELF\x02\x01\x00\x00[x](gone.md)\x00")
    result = check(tmp_path)
    assert result.status is GateStatus.FAILED
    assert found(result) == ["bin.md:1:1: LG445 bin.md: binary (a NUL at byte 6); its links were not checked"]
    assert result.summary == ("1 link in 2 files: 1 local checked; 1 file not read: unreadable, binary or not "
                              "UTF-8; none broken")
    done = cli("links", "--offline", "bin.md", cwd=tmp_path)
    assert done.returncode == 1
    assert "LG445 bin.md: binary" in done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_are_never_opened(tmp_path: Path, cli: Cli) -> None:
    """A FIFO named *.md: skipped and counted in a directory, an input error by name, never read (a read hangs).

    Real processes with a timeout, so a regression fails the test instead of hanging the suite.
    """
    plain = write(tmp_path / "plain", {"ok.md": "[pipe](pipe.md) [anchor](pipe.md#x) [gone](gone.md)\n"})
    os.mkfifo(plain / "pipe.md")
    walked = cli("links", "--offline", ".", cwd=plain)
    assert walked.returncode == 1, walked.stdout + walked.stderr
    assert ("3 links in 1 file: 3 local checked; not checked: 1 anchors in unreadable files; "
            "1 file named *.md not read: not a regular file (FIFO, device, socket); 1 broken link") in walked.stdout
    named = cli("links", "--offline", "pipe.md", cwd=plain)
    assert named.returncode == 2
    assert ("pipe.md:1:1: LG002 pipe.md: not a regular file (a FIFO, device or socket); "
            "the links gate never opens one") in named.stdout
    # In a work tree git lists a tracked file that a FIFO has replaced; untracked FIFOs it never lists.
    repo = make_repo(tmp_path / "repo")
    repo.write("docs/a.md", "# A\n")
    repo.write("docs/b.md", "[a](a.md#a)\n")
    repo.commit("docs")
    (repo.path / "docs" / "a.md").unlink()
    os.mkfifo(repo.path / "docs" / "a.md")
    os.mkfifo(repo.path / "docs" / "c.md")
    tracked = cli("links", "--offline", "docs", cwd=repo.path)
    assert tracked.returncode == 0, tracked.stdout + tracked.stderr
    assert "1 file named *.md not read: not a regular file" in tracked.stdout


def test_worker_processes_give_the_same_answer(tmp_path: Path) -> None:
    files = {f"d{i}/p{i}.md": f"# P{i}\n\n[next](../d{i + 1}/p{i + 1}.md#p{i + 1}) [bad](#nope)\n" + "x " * 60000
             for i in range(40)}
    write(tmp_path, files)
    alone, pooled = check(tmp_path, jobs=1), check(tmp_path, jobs=2)
    assert found(alone) == found(pooled)
    assert len(alone.findings) == 41  # 40 missing anchors, and p40.md does not exist


# -- the scanner against mistune ------------------------------------------------------------------

CORPUS = """\
# Title [with link](a.md)

Text [one](b.md "title") and ![img](c.png) and [nested ![i](d.png)](e.md).
A [ref][r1], a [collapsed][] and a [shortcut].
Escaped \\[not](x.md) and [esc](f\\_g.md) and [ent](h&amp;i.md) and [paren](j(k).md).
<https://example.com/auto> and `[code](no.md)`.
Multi-line [link
text](m.md) and [angle](<n o.md>). <!-- [commented](out.md) -->

> quote [q](q.md)
> - list in quote [lq](lq.md)

1. one [o](o.md)
   - nested [n](n.md)

[r1]: r1.md
[collapsed]: collapsed.md 'title'
[shortcut]: <short cut.md>

```
[fenced](no.md)
```
"""


def _mistune_urls(text: str) -> set[str]:
    urls: set[str] = set()

    def walk(tokens: list[dict[str, object]]) -> None:
        for tok in tokens:
            if tok.get("type") in ("link", "image"):
                urls.add(str(tok["attrs"]["url"]))  # type: ignore[index]
            walk(tok.get("children", []))  # type: ignore[arg-type]

    tokens, state = mistune.create_markdown(renderer=None).parse(text)
    walk(tokens)  # type: ignore[arg-type]
    urls.update(str(ref["url"]) for ref in state.env["ref_links"].values())
    return urls


def test_scanner_finds_what_mistune_finds() -> None:
    from mistune.util import escape_url

    parsed = _mdlinks.parse(CORPUS)
    ours = {escape_url(link.target) for link in parsed.links}
    assert ours == _mistune_urls(CORPUS)
    where = {link.target: (link.line, link.column) for link in parsed.links}
    assert where["e.md"] == (3, 69)
    assert where["m.md"] == (8, 7)
    assert where["short cut.md"] == (18, 14)
    assert where["lq.md"] == (11, 24)


# Inputs that made the scanner quadratic (each `](` or `<!--` read to the end of the text), and
# cases where it disagreed with mistune: a `<` in an angle destination, an escaped `>`, an inactive
# `[` before a link, parentheses nested deeper than mistune's 20.
PATHOLOGICAL = {
    "unclosed destinations": "[a](", "unclosed image destinations": "![a](", "nested parens": "[a](b(c)",
    "angle destinations": "[a](<", "titles": '[a](b "', "comments": "<!-- loopgate: disable ",
    "bare URLs in one run": "http://,", "inline comments": "<!--", "tags": "<a href=x", "code spans": "`a``",
    "emphasis": "*_", "brackets": "[", "autolinks": "<http:a", "unclosed tag quote": "<a href=\"x",
}
EDGE_CASES = [
    "[a](<b<c>)", "[a](<b\\>c>)", "![a [b [c](d) e](f)", "[x [y](z)](w)",
    "[a](" + "(" * 20 + "x" + ")" * 20 + ")", "[a](" + "(" * 21 + "x" + ")" * 21 + ")",
    "![" * 50 + "[a](b)" * 50, "`a``" * 50 + "[x](y)", "<!--" * 50 + "[a](b)",
]


@pytest.mark.parametrize("text", [*(unit * 60 for unit in PATHOLOGICAL.values()), *EDGE_CASES])
def test_scanner_matches_mistune_on_pathological_input(text: str) -> None:
    from mistune.util import escape_url

    ours = {escape_url(link.target) for link in _mdlinks.parse(text).links if link.kind not in ("html", "url")}
    assert ours == _mistune_urls(text)


def test_scanner_is_linear_on_pathological_input() -> None:
    """50,000 repetitions of each: about a second in all when linear; the `[a](` case alone took
    minutes before (0.8 s at 2,000, 10.5 s at 8,000). The timeout is a generous bound, not a measure."""
    script = ("import sys\nfrom loopgate.gates import _mdlinks\nunits = sys.argv[1:]\n"
              "texts = [u * 50000 for u in units] + ['# ' + units[0] * 50000, '# a' + ' ' * 400000 + 'b',"
              " '![' * 50000 + '[a](b)' * 50000, ''.join('`' * (i % 300 + 1) + 'x' for i in range(20000))]\n"
              "print(sum(len(_mdlinks.parse(t).links) for t in texts))\n")
    done = subprocess.run([sys.executable, "-c", script, *PATHOLOGICAL.values()], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 50000  # it did parse: the `[a](b)` after the `![` alone are 50,000 links


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_exit_codes_and_json(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"docs/ok.md": "[b](bad.md#x)\n", "docs/bad.md": "# X\n"})
    passed = cli("links", "--offline", "docs", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 link in 2 files: 1 local checked; none broken" in passed.stdout
    write(tmp_path, {"docs/bad.md": "# Y\n[gone](gone.md)\n"})
    failed = cli("links", "--offline", "--format", "json", "docs", cwd=tmp_path)
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    assert [(p["path"], p["line"], p["column"], p["code"]) for p in report["problems"]] == [
        ("docs/bad.md", 2, 8, "LG441"), ("docs/ok.md", 1, 5, "LG442")]
    assert report["gates"][0]["summary"].startswith("2 links in 2 files: 2 local checked")
    missing = cli("links", "--offline", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2
    assert "LG444" in missing.stdout
    bad = cli("links", "--accept", "abc", cwd=tmp_path)
    assert bad.returncode == 2


def test_example_loop_args_work(tmp_path: Path, cli: Cli) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shadow-loop" / "repo"
    done = cli("links", "--offline", "docs", cwd=example)
    assert done.returncode == 1
    assert "docs/guide.md:3:55: LG441 faq.md: file not found: docs/faq.md" in done.stdout


def test_loopgate_check_runs_the_example_checklist(tmp_path: Path) -> None:
    """`loopgate check` (gates in a thread pool) with the example's `gate: links`, `args: --offline docs`."""
    example = Path(__file__).resolve().parents[2] / "examples" / "shadow-loop" / "repo"
    repo = make_repo(tmp_path / "repo")
    shutil.copytree(example, repo.path, dirs_exist_ok=True)
    repo.commit("example")

    def check_loop() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "loopgate", "check", "--loop", ".loop", "--only", "links",
                               "--format", "json"], cwd=repo.path, env=git_env(), capture_output=True, text=True,
                              check=False, timeout=120)

    broken = check_loop()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    problems = json.loads(broken.stdout)["problems"]
    assert ("docs/guide.md", 3, 55, "LG441") in [(p["path"], p["line"], p["column"], p["code"]) for p in problems]
    guide = repo.path / "docs" / "guide.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("(faq.md)", "(questions.md)"), encoding="utf-8")
    fixed = check_loop()
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
