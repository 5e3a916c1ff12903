"""Site profiles given hostile input (review 8): config files that are symlinks or devices, site
directories configured out of the repository, numbers too long to convert, deep trees, deep config
merges, long template lines, huge `exclude:` lists. Each runs the gate as users run it
(`python -m loopgate gate links`, a real process on a real repository in a tmp dir): no traceback, and
exit 0 (clean), 1 (findings) or 2 (the gate cannot check: LG483 for a site config it refuses).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Cli, make_repo
from .test_links_site_hugo import built_breaks, hugo_site


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    repo = make_repo(root)
    for name, text in files.items():
        repo.write(name, text)
    return root


def _no_traceback(done: object) -> None:
    assert "Traceback" not in getattr(done, "stderr", "") + getattr(done, "stdout", "")


PAGE = "---\ntitle: a\n---\n[x](missing.md)\n"


# -- bug 7: a site config is read only from a regular file that is no symlink ---------------------


def test_a_symlinked_config_out_of_the_repository_is_refused_not_read(tmp_path: Path, cli: Cli) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("permalink: /secret-marker/:title/\n", encoding="utf-8")
    root = _site(tmp_path, {"a.md": PAGE})
    (root / "_config.yml").symlink_to(outside)
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "LG483" in done.stdout and "_config.yml: a symlink" in done.stdout


def test_a_config_symlinked_within_the_repository_is_read(tmp_path: Path, cli: Cli) -> None:
    # a monorepo's shared config, linked where the generator looks for it: a valid site, read as one
    root = _site(tmp_path, {"a.md": "---\ntitle: a\n---\n[b](/b/)\n", "b.md": "---\ntitle: b\n---\nB\n",
                            "shared/site.yml": "permalink: pretty\n"})
    (root / "_config.yml").symlink_to("shared/site.yml")
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 0 and "LG483" not in done.stdout, done.stdout + done.stderr
    assert "from _config.yml)" in done.stdout  # the site's profile, read through the link


def test_a_config_symlinked_to_a_blocking_device_does_not_hang(tmp_path: Path, cli: Cli) -> None:
    # /proc/kmsg is a "regular file" to os.path.isfile whose read blocks until the kernel logs (as root,
    # as CI containers run); /dev/zero never ends. Either is refused before any read.
    target = "/proc/kmsg" if os.access("/proc/kmsg", os.R_OK) else "/dev/zero"
    root = _site(tmp_path, {"content/a.md": PAGE, "hugo.toml": 'title = "x"\n'})
    (root / "config" / "_default").mkdir(parents=True)
    (root / "config" / "_default" / "params.yaml").symlink_to(target)
    done = cli("links", "--offline", ".", cwd=root)  # the fixture's timeout (60 s) fails a hang
    _no_traceback(done)
    assert done.returncode == 2 and "params.yaml: " in done.stdout, done.stdout + done.stderr


def test_a_fifo_or_a_dangling_link_named_as_a_config_is_refused(tmp_path: Path, cli: Cli) -> None:
    # Not passed over as if there were no config: the site's links would be checked without its profile.
    for name, files, config in (("hugo", {"content/a.md": PAGE, "config/_default/hugo.toml": 'title = "x"\n'},
                                 "config/_default/menus.toml"),
                                ("jekyll", {"a.md": PAGE}, "_config.yml"),
                                ("docusaurus", {"docs/a.md": PAGE}, "docusaurus.config.js")):
        root = _site(tmp_path / name, files)
        os.mkfifo(root / config)
        done = cli("links", "--offline", ".", cwd=root)
        _no_traceback(done)
        assert done.returncode == 2 and f"{config}: not a regular file" in done.stdout, (name, done.stdout)
        (root / config).unlink()
        (root / config).symlink_to(tmp_path / "nowhere")
        done = cli("links", "--offline", ".", cwd=root)
        assert done.returncode == 2 and f"{config}: a symlink" in done.stdout, (name, done.stdout)


# -- bug 12: an integer of more than 4,300 digits ------------------------------------------------


def test_a_huge_integer_in_front_matter_leaves_the_page_its_default_url(tmp_path: Path, cli: Cli) -> None:
    root = _site(tmp_path, {"a.md": PAGE, "_config.yml": "title: x\n", "b.md": "---\nx: " + "9" * 4301 + "\n---\n"})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout + done.stderr


def test_a_huge_integer_in_a_site_config_is_reported(tmp_path: Path, cli: Cli) -> None:
    configs = (("_config.yml", "x: 0x" + "f" * 4000 + "\n"), ("mkdocs.yml", "site_name: x\nx: " + "9" * 4301))
    for config, text in configs:
        root = _site(tmp_path / config, {"docs/a.md": PAGE, "a.md": PAGE, config: text})
        done = cli("links", "--offline", ".", cwd=root)
        _no_traceback(done)
        assert done.returncode == 2 and "LG483" in done.stdout and "not readable YAML" in done.stdout, done.stdout


# -- bug 1: a site directory the config names out of the repository is refused ---------------------


def test_site_directories_out_of_the_repository_are_refused(tmp_path: Path, cli: Cli) -> None:
    outside = tmp_path / "outside"
    (outside / "src").mkdir(parents=True)
    (outside / "src" / "SUMMARY.md").write_text("# S\n\n- [x](x.md)\n", encoding="utf-8")
    (outside / "secret.md").write_text("---\npermalink: /x/\n---\n", encoding="utf-8")
    cases = {
        "jekyll-root": ({"_config.yml": "source: /\n", "a.md": PAGE}, "`source:` leads out"),
        "jekyll-up": ({"_config.yml": "source: ../outside\n", "a.md": PAGE}, "`source:` leads out"),
        "hugo-content": ({"hugo.toml": 'contentDir = "../outside"\n', "content/a.md": PAGE}, "`contentDir` leads out"),
        "hugo-layouts": ({"hugo.toml": 'layoutDir = "/"\n', "content/a.md": PAGE}, "`layoutDir` leads out"),
        "hugo-static": ({"hugo.toml": 'staticDir = "/etc"\n', "content/a.md": PAGE}, "`staticDir` leads out"),
        "mdbook": ({"book.toml": '[book]\nsrc = "../../outside/src"\n', "src/SUMMARY.md": "# S\n"}, "`src` leads out"),
    }
    for name, (files, message) in cases.items():
        root = _site(tmp_path / name, files)
        done = cli("links", "--offline", ".", cwd=root)
        _no_traceback(done)
        assert done.returncode == 2 and "LG483" in done.stdout and message in done.stdout, (name, done.stdout)


def test_a_content_folder_symlinked_out_of_the_repository_is_refused(tmp_path: Path, cli: Cli) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.md").write_text(PAGE, encoding="utf-8")
    root = _site(tmp_path, {"hugo.toml": 'title = "x"\n', "README.md": "# r\n"})
    (root / "content").symlink_to(outside)
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 2 and "`contentDir` leads out" in done.stdout, done.stdout


def test_a_site_directory_inside_the_repository_is_read(tmp_path: Path, cli: Cli) -> None:
    root = _site(tmp_path, {"_config.yml": "source: site\n", "site/a.md": PAGE, "site/b.md": "# b\n"})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout


# -- bug 2: a tree about 1,000 levels deep ---------------------------------------------------------


@pytest.fixture
def deep_tmp(tmp_path: Path) -> Iterator[Path]:
    """tmp_path, removed by `rm -rf` after the test: pytest's own cleanup (shutil.rmtree) recurses once
    per level and would die on the deep tree in a later session."""
    yield tmp_path
    subprocess.run(["rm", "-rf", str(tmp_path)], check=False)


def _deep(root: Path, under: str, name: str, text: str) -> None:
    folder = root / under / os.path.join(*["d"] * 1000)
    subprocess.run(["mkdir", "-p", str(folder)], check=True)  # Path.mkdir and os.makedirs recurse per level
    (folder / name).write_text(text, encoding="utf-8")


def test_a_tree_a_thousand_levels_deep_is_walked_without_recursion(deep_tmp: Path, cli: Cli) -> None:
    tmp_path = deep_tmp
    sites = {
        "jekyll": ({"_config.yml": "title: x\n", "a.md": PAGE}, ".", "x.md"),
        "hugo": ({"hugo.toml": 'title = "x"\n', "content/a.md": PAGE}, "content", "index.md"),
        "hugo-bundle": ({"hugo.toml": 'title = "x"\n', "content/a/index.md": PAGE}, "content/a", "img.png"),
        "docusaurus": ({"docusaurus.config.js": "module.exports = {};\n", "docs/a.md": PAGE}, "docs", "x.md"),
    }
    for name, (files, under, deep_name) in sites.items():
        root = _site(tmp_path / name, files)
        _deep(root, under, deep_name, "# deep\n\n[up](/a/)\n")
        done = cli("links", "--offline", ".", cwd=root)
        _no_traceback(done)
        assert done.returncode in (0, 1) and "missing.md" in done.stdout, (name, done.stdout, done.stderr[-2000:])


def test_a_deep_tree_outside_git_is_walked_without_recursion(deep_tmp: Path, cli: Cli) -> None:
    tmp_path = deep_tmp
    # no repository: the gate lists markdown by walking the folder itself
    (tmp_path / "a.md").write_text(PAGE, encoding="utf-8")
    _deep(tmp_path, ".", "x.md", "[gone](nowhere.md)\n")
    done = cli("links", "--offline", ".", cwd=tmp_path)
    _no_traceback(done)
    assert done.returncode == 1 and "missing.md" in done.stdout and "nowhere.md" in done.stdout, done.stdout


# -- bug 13: a long line of `]({{` in a templated site ---------------------------------------------


def test_a_long_line_of_template_openers_is_read_in_linear_time(tmp_path: Path, cli: Cli) -> None:
    # 400 KB of `]({{` without a closer took minutes (the regex scanned to the end from every one);
    # the fixture's 60 s timeout fails a quadratic scan.
    root = _site(tmp_path, {"hugo.toml": 'title = "x"\n',
                            "content/a.md": "# A\n\n[x](missing.md) " + "]({{" * 100_000 + "\n"})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout


def test_template_links_are_still_found_and_listed_unchecked(tmp_path: Path, cli: Cli) -> None:
    page = ('---\ntitle: a\n---\n[r]({{< ref "b.md" >}}) [l]( {{ "/x" | relURL }} ) [m](missing.md)\n'
            "[n]({{ a }}b c) [o]({{x}}y)\n")
    root = _site(tmp_path, {"hugo.toml": 'title = "x"\n', "content/a.md": page, "content/b.md": "# b\n"})
    done = cli("links", "--offline", "--format", "json", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1, done.stdout
    assert "missing.md" in done.stdout and "unchecked" in done.stdout, done.stdout


# -- bug 6: Hugo's config files merged without a depth bound ---------------------------------------


def test_deep_or_cyclic_hugo_config_merges_are_reported(tmp_path: Path, cli: Cli) -> None:
    dotted = ".".join(["k"] * 1200) + " = 1\n"  # tomllib reads it without recursing; the merge recursed
    cases = {
        "toml": {"config/_default/hugo.toml": dotted, "config/production/hugo.toml": dotted},
        "yaml-alias": {"hugo.yaml": "a: &x {b: *x}\n", "config/_default/hugo.yaml": "a: &y {b: *y}\n"},
    }
    for name, files in cases.items():
        root = _site(tmp_path / name, {**files, "content/a.md": PAGE})
        done = cli("links", "--offline", ".", cwd=root)
        _no_traceback(done)
        assert done.returncode == 2 and "LG483" in done.stdout and "levels deep" in done.stdout, (name, done.stdout)


def test_a_config_directory_of_ordinary_depth_is_merged(tmp_path: Path, cli: Cli) -> None:
    root = _site(tmp_path, {"hugo.toml": '[params.a.b]\nc = 1\n', "config/_default/params.toml": "[a.b]\nd = 2\n",
                            "config/_default/permalinks.toml": 'posts = "/p/:slug/"\n', "content/a.md": PAGE})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1 and "missing.md" in done.stdout, done.stdout


# -- bug 4: a top-level content folder is a Hugo section without `_index.md` ------------------------


def test_a_top_level_hugo_folder_is_a_section_without_an_index(tmp_path: Path, cli: Cli) -> None:
    page = "---\ntitle: A\n---\n[s](/docs/) [t](/blog/) [g](/guide/) [b](/docs/b/) [n](/blog/sub/) [e](/empty/)\n"
    root = hugo_site(tmp_path, {"hugo.toml": 'baseURL = "https://example.org/"\ntitle = "x"\n',
                                "content/docs/a.md": page, "content/docs/b.md": "---\ntitle: B\n---\n# b\n",
                                "content/blog/sub/c.md": "---\ntitle: C\n---\n",
                                "content/Guide/g.md": "---\ntitle: G\n---\n# g\n"})
    make_repo(root)
    (root / "content" / "empty").mkdir()
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    # /blog/sub/ (nested, no _index.md) is no page; /empty/ has no content, so Hugo makes no section
    broken = {line.split(" ")[2].rstrip(":") for line in done.stdout.splitlines() if " LG441 " in line}
    assert done.returncode == 1 and broken == {"/blog/sub/", "/empty/"}, done.stdout
    assert built_breaks(root, tmp_path / "out") == broken  # what the real hugo builds


# -- bug 5: `[permalinks.page]` and `[permalinks.section]` for the same section --------------------


def test_a_sections_page_and_section_permalinks_are_both_kept(tmp_path: Path, cli: Cli) -> None:
    config = ('baseURL = "https://example.org/"\ntitle = "x"\n'
              '[permalinks.page]\nposts = "/articles/:year/:month/:slug/"\n'
              '[permalinks.section]\nposts = "/articles/"\n')
    post = "---\ntitle: My Post\ndate: 2023-03-30\nslug: my-post\n---\n"
    root = hugo_site(tmp_path, {"hugo.toml": config, "content/posts/my-post.md": post,
                                "content/_index.md": "---\ntitle: Home\n---\n[u](/articles/2023/03/my-post/) "
                                                    "[s](/articles/)\n"})
    make_repo(root)
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 0 and "LG441" not in done.stdout, done.stdout
    assert "LG482" in done.stdout and "/articles/2023/03/my-post/" in done.stdout, done.stdout
    assert built_breaks(root, tmp_path / "out") == set()  # the real hugo publishes both


# -- bug 16: a Jekyll `exclude:` list of many thousand patterns ------------------------------------


def test_a_huge_exclude_list_is_matched_fast_and_still_excludes(tmp_path: Path, cli: Cli) -> None:
    # 200,000 globs (a 3 MiB config, under the 4 MiB cap): fnmatch per pattern overran its cache and
    # recompiled every one for every page (40,000 took 77 s); the fixture's 60 s timeout fails that.
    patterns = "".join(f'  - "zz{i}*q"\n' for i in range(200_000))
    files = {"_config.yml": "exclude:\n" + patterns + '  - "drafts/"\n  - "*.tmp.md"\n', "a.md": PAGE,
             "drafts/d.md": "# d\n", "x.tmp.md": "# t\n", "b.md": "[d](/drafts/d.html) [t](/x.tmp.html) [a](/a.html)\n"}
    files.update({f"p{i}.md": "---\ntitle: x\n---\n" for i in range(50)})
    root = _site(tmp_path, files)
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    broken = {line.split(" ")[2].rstrip(":") for line in done.stdout.splitlines() if " LG441 " in line}
    assert done.returncode == 1 and broken == {"missing.md", "/drafts/d.html", "/x.tmp.html"}, done.stdout


# -- review 8b: false alarms and misses on valid sites ----------------------------------------------


def test_hugo_builds_the_home_page_without_an_index_file(tmp_path: Path, cli: Cli) -> None:
    root = _site(tmp_path, {"hugo.toml": 'baseURL = "https://example.org/"\n',
                            "content/posts/p.md": "---\ntitle: p\n---\n[home](/) [posts](/posts/)\n"})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 0, done.stdout


def test_hugo_serves_every_static_folder_and_static_mounts(tmp_path: Path, cli: Cli) -> None:
    page = "---\ntitle: p\n---\n[a](/a.png) [b](/b.png) [c](/images/c.png) [gone](/gone.png)\n"
    root = _site(tmp_path, {"hugo.toml": 'staticDir = ["static", "assets2"]\n[[module.mounts]]\nsource = "content"\n'
                                         'target = "content"\n[[module.mounts]]\nsource = "images"\n'
                                         'target = "static/images"\n',
                            "content/docs/p.md": page, "static/a.png": "x", "assets2/b.png": "y",
                            "images/c.png": "z"})
    done = cli("links", "--offline", ".", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1, done.stdout
    assert "/gone.png" in done.stdout
    assert "/a.png" not in done.stdout and "/b.png" not in done.stdout and "/images/c.png" not in done.stdout


def test_jekyll_exclude_globs_match_as_rubys_fnmatch(tmp_path: Path, cli: Cli) -> None:
    # jekyll 4.3 (File.fnmatch): `[^0-9]` negates, and a leading `/` is joined to the source folder;
    # it leaves out notes-draft.md and drafts/x.md, and publishes notes-1.md
    page = "---\ntitle: t\n---\n"
    root = _site(tmp_path, {"_config.yml": 'exclude: ["notes-[^0-9]*", "/drafts"]\n',
                            "index.md": page + "[one](/notes-1.html) [draft](/notes-draft.html) [d](/drafts/x.html)\n",
                            "notes-1.md": page, "notes-draft.md": page, "drafts/x.md": page})
    done = cli("links", "--offline", "index.md", cwd=root)
    _no_traceback(done)
    assert done.returncode == 1, done.stdout
    assert "/notes-draft.html" in done.stdout and "/drafts/x.html" in done.stdout
    assert "/notes-1.html" not in done.stdout
