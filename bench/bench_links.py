"""Benchmark: the links gate against markdown-link-check, offline on a docs tree and online on a local server.

(a) Offline: a generated tree of 2,000 markdown files with 50,000 local links (relative files,
    images, reference definitions, anchors in the same file and in other files) and 2,000
    http links that both tools are told to skip. Side by side, whole processes:
    - `loopgate gate links --offline` (both cores), and with `--jobs 1` (one core);
    - markdown-link-check, with `ignorePatterns: ^https?://`;
    - the bare mistune parse of the same files (read + `create_markdown(renderer=None)`), one
      core, in one process: the floor a mistune-based checker cannot go under.
    The tree has planted broken links; the script counts what each tool reports.
(b) HTTP: 2,000 unique URLs on a local 127.0.0.1 server (another process) that answers every
    request after 50 ms. The gate with its defaults and with `--per-host 64 --concurrency 64`,
    a second, cached run, and markdown-link-check.
(c) HTTP over many hosts: the same 2,000 URLs spread over `--hosts` servers (default 50) on
    127.0.0.2, 127.0.0.3, ... (loopback addresses only; nothing else is ever contacted), where the
    per-host limit does not bind: the gate's defaults, a higher `--concurrency`, markdown-link-check.

markdown-link-check is installed into bench/out/npm with `npm install --prefix bench/out/npm
markdown-link-check` when it is not there yet. Everything is written under bench/out/links
(git-ignored); the tree is made its own git repository so that the main repository's ignore of
bench/out does not hide it from the gate.

Run: `.venv/bin/python bench/bench_links.py [--files 2000] [--repeat 3] [--skip-http] [--skip-offline]
[--hosts 50]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "links"
NPM = HERE / "out" / "npm"
MLC = NPM / "node_modules" / ".bin" / "markdown-link-check"
PYTHON = sys.executable
LOOPGATE = [PYTHON, "-m", "loopgate", "gate", "links"]
WORDS = ["loop", "gate", "link", "anchor", "check", "markdown", "file", "tree", "docs", "guide", "install", "usage",
         "config", "option", "value", "change", "review", "scope", "budget", "agent", "maker", "checker", "heading",
         "section", "page"]


# -- the offline tree -------------------------------------------------------------------------------


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _headings(index: int) -> list[str]:
    # Punctuation, code, emphasis and a repeated heading: the slugs have to be worked out properly.
    return [f"Overview of page {index}", "Install & configure", "Usage: `run` it", "Options", "Options",
            "What's *new* in v2.0?", "Troubleshooting", "See also"]


def _slugs(index: int) -> list[str]:
    return [f"overview-of-page-{index}", "install--configure", "usage-run-it", "options", "options-1",
            "whats-new-in-v20", "troubleshooting", "see-also"]


def _break(link: str, slot: int) -> str:
    """A broken variant: a file renamed away, or an anchor (in this file or another) that is not there."""
    if "#" in link and (slot % 2 or ".md" not in link):
        return link.replace("#", "#no-such-", 1)
    if ".md" in link:
        return link.replace(".md", "-old.md", 1)
    return link.replace(".png", "-old.png", 1)


def _page(index: int, count: int, per_dir: int, rng: random.Random, broken: set[int]) -> tuple[str, int]:
    """One page with 25 local links (and 1 http link); returns the text and how many links are broken."""
    here = index // per_dir

    def path_to(other: int) -> str:
        there = other // per_dir
        return f"p{other}.md" if there == here else f"../d{there}/p{other}.md"

    links: list[str] = []
    planted = 0
    for slot in range(25):
        other = rng.randrange(count)
        kind = slot % 5
        if kind == 0:
            link = f"[page {other}]({path_to(other)})"
        elif kind == 1:
            link = f"[section]({path_to(other)}#{rng.choice(_slugs(other))})"
        elif kind == 2:
            link = f"[here](#{rng.choice(_slugs(index))})"
        elif kind == 3:
            link = f"![diagram](../img/d{rng.randrange(20)}.png)" if slot != 23 else f"[ref {other}][r{slot}]"
        else:
            link = f"[page {other} again]({path_to(other)}#{_slugs(other)[0]})"
        if index * 25 + slot in broken:
            changed = _break(link, slot)
            planted += changed != link
            link = changed
        links.append(link)
    lines = [f"# Page {index}", ""]
    heads = _headings(index)
    for section in range(8):
        lines += [f"## {heads[section]}", "", _prose(rng, 40)]
        lines += [" ".join(f"{_prose(rng, 4)} {link}" for link in links[section * 3:section * 3 + 3]), ""]
        if section == 3:
            lines += ["```markdown", "[not a link](nowhere.md) `also` [not](#missing)", "```", ""]
        if section == 5:
            lines += [f"An external page: [example](https://example.com/page/{index}).", ""]
    lines += [" ".join(links[24:]), "", f"[r23]: {path_to((index + 1) % count)}", ""]
    return "\n".join(lines), planted


def make_tree(count: int, where: Path = OUT) -> tuple[Path, int]:
    tree = where / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    rng = random.Random(7)
    per_dir = 50
    broken = set(rng.sample(range(count * 25), count // 20))  # one link in 500 is broken
    planted = 0
    for index in range(count):
        text, bad = _page(index, count, per_dir, rng, broken)
        planted += bad
        target = tree / f"d{index // per_dir}" / f"p{index}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tree / "img").mkdir()
    for number in range(20):
        (tree / "img" / f"d{number}.png").write_bytes(b"\x89PNG\r\n")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    return tree, planted


# -- running and timing ---------------------------------------------------------------------------


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=env, timeout=3600)
    elapsed = time.perf_counter() - start
    return elapsed, done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def best_of(repeat: int, command: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float, str]:
    runs = [timed(command, cwd, env) for _ in range(repeat)]
    times = [t for t, _ in runs]
    return min(times), statistics.median(times), runs[-1][1]


def ensure_mlc() -> str:
    if not MLC.exists():
        subprocess.run(["npm", "install", "--prefix", str(NPM), "markdown-link-check"], check=True,
                       capture_output=True)
    meta = json.loads((NPM / "node_modules" / "markdown-link-check" / "package.json").read_text())
    return str(meta["version"])


def mlc_dead(output: str) -> int:
    match = re.findall(r"(\d+) dead links? found", output)
    return sum(int(m) for m in match)


BARE_PARSE = """
import sys, time, pathlib, mistune
files = sorted(pathlib.Path(sys.argv[1]).rglob("*.md"))
start = time.perf_counter()
markdown = mistune.create_markdown(renderer=None)
for path in files:
    markdown(path.read_text(encoding="utf-8"))
print(f"{time.perf_counter() - start:.3f}")
"""


def gate_summary(output: str) -> tuple[str, int]:
    report = json.loads(output)
    gate = report["gates"][0]
    return gate["summary"], len(gate["findings"])


def offline(count: int, repeat: int, rows: list[str]) -> None:
    tree, planted = make_tree(count)
    size = sum(p.stat().st_size for p in tree.rglob("*.md"))
    version = ensure_mlc()
    config = OUT / "mlc-offline.json"
    config.write_text(json.dumps({"ignorePatterns": [{"pattern": "^https?://"}]}), encoding="utf-8")
    gate = [*LOOPGATE, "--offline", "--format", "json", "."]
    g_best, g_median, g_out = best_of(repeat, gate, tree)
    one_best, one_median, one_out = best_of(repeat, [*gate, "--jobs", "1"], tree)
    summary, found = gate_summary(g_out)
    assert gate_summary(one_out)[1] == found
    parse_runs = [timed([PYTHON, "-c", BARE_PARSE, "."], tree) for _ in range(repeat)]
    parse_inner = min(float(out.strip().splitlines()[-1]) for _, out in parse_runs)
    parse_whole = min(t for t, _ in parse_runs)
    m_best, m_median, m_out = best_of(max(1, repeat - 1), [str(MLC), "-q", "-c", str(config), "."], tree)
    rows += [
        f"### (a) offline: {count:,} files ({size / 1e6:.1f} MB), {count * 25:,} local links, "
        f"{count:,} http links skipped, {planted} planted broken links",
        "",
        "| tool | wall time (best) | median | broken links reported |",
        "|---|---|---|---|",
        f"| `loopgate gate links --offline --format json .` (2 worker processes) | **{g_best:.2f} s** | "
        f"{g_median:.2f} s | {found} |",
        f"| the same with `--jobs 1` (one process) | {one_best:.2f} s | {one_median:.2f} s | {found} |",
        f"| markdown-link-check {version} `-q -c mlc-offline.json .` | {m_best:.2f} s | {m_median:.2f} s | "
        f"{mlc_dead(m_out)} |",
        f"| bare mistune parse, one process (parse only) | {parse_inner:.2f} s | - | - |",
        f"| bare mistune parse, whole process | {parse_whole:.2f} s | - | - |",
        "",
        f"gate summary: {summary}",
        "",
        f"planted broken links: {planted}; the gate reported {found}"
        f"{' (all of them)' if found == planted else ' (MISMATCH)'}; markdown-link-check {mlc_dead(m_out)}.",
        "",
        f"speed-up over markdown-link-check: {m_best / g_best:.1f}x; gate (2 cores) / bare parse (1 core): "
        f"{g_best / parse_inner:.2f}; gate --jobs 1 / bare parse: {one_best / parse_inner:.2f}",
        "",
    ]


# -- the HTTP benchmark -----------------------------------------------------------------------------

SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        time.sleep(0.05)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_HEAD = do_GET = answer
import threading
# One server on 127.0.0.1, or (argv: N) one on each of 127.0.0.2 .. 127.0.0.N+1: loopback
# addresses only, which Linux routes to `lo` without any configuration.
hosts = ["127.0.0.1"] if len(sys.argv) < 2 else [f"127.0.0.{2 + i}" for i in range(int(sys.argv[1]))]
servers = []
for host in hosts:
    s = ThreadingHTTPServer((host, 0), H)
    s.daemon_threads = True
    s.request_queue_size = 256
    servers.append(s)
print(" ".join(f"{h}:{s.server_address[1]}" for h, s in zip(hosts, servers)), flush=True)
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
"""


def _url_tree(name: str, hosts: list[str]) -> Path:
    """100 pages of 20 links: 2,000 distinct URLs, spread round-robin over `hosts` (host:port)."""
    tree = OUT / name
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    for page in range(100):
        numbers = range(page * 20, page * 20 + 20)
        urls = [f"http://{hosts[n % len(hosts)]}/page/{n}" for n in numbers]
        (tree / f"p{page}.md").write_text("# Links\n\n" + "\n".join(f"- [u{i}]({u})" for i, u in enumerate(urls))
                                          + "\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    return tree


def http(repeat: int, rows: list[str]) -> None:
    server = subprocess.Popen([PYTHON, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        tree = _url_tree("http", server.stdout.readline().split())
        version = ensure_mlc()
        cache = OUT / "http-cache.json"
        default_runs, tuned_runs = [], []
        for _ in range(repeat):
            cache.unlink(missing_ok=True)
            default_runs.append(timed([*LOOPGATE, "--cache-ttl", "0", "--format", "json", "."], tree))
            cache.unlink(missing_ok=True)
            tuned_runs.append(timed([*LOOPGATE, "--per-host", "64", "--concurrency", "64", "--cache-file",
                                     str(cache), "--format", "json", "."], tree))
        cached_best, cached_median, cached_out = best_of(repeat, [*LOOPGATE, "--cache-file", str(cache), "--format",
                                                                  "json", "."], tree)
        m_time, m_out = timed([str(MLC), "-q", "."], tree)
        d_best, t_best = min(t for t, _ in default_runs), min(t for t, _ in tuned_runs)
        rows += [
            "### (b) HTTP: 2,000 unique URLs in 100 files, a 127.0.0.1 server that answers after 50 ms",
            "",
            "| tool | wall time (best) | median | broken |",
            "|---|---|---|---|",
            f"| `loopgate gate links --cache-ttl 0 .` (defaults: --per-host 8, --concurrency 64) | {d_best:.2f} s | "
            f"{statistics.median(t for t, _ in default_runs):.2f} s | {gate_summary(default_runs[-1][1])[1]} |",
            f"| `loopgate gate links --per-host 64 --concurrency 64 .` (cold cache) | **{t_best:.2f} s** | "
            f"{statistics.median(t for t, _ in tuned_runs):.2f} s | {gate_summary(tuned_runs[-1][1])[1]} |",
            f"| the same again, every URL from the cache | **{cached_best:.2f} s** | {cached_median:.2f} s | "
            f"{gate_summary(cached_out)[1]} |",
            f"| markdown-link-check {version} `-q .` (1 run) | {m_time:.2f} s | - | {mlc_dead(m_out)} |",
            "",
            f"gate summary (cached run): {gate_summary(cached_out)[0]}",
            "",
            f"speed-up over markdown-link-check: {m_time / t_best:.1f}x tuned, {m_time / d_best:.1f}x with defaults",
            "",
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)


def http_many_hosts(repeat: int, hosts: int, rows: list[str]) -> None:
    """The same 2,000 URLs over `hosts` loopback servers: the per-host limit no longer binds, the global one does."""
    server = subprocess.Popen([PYTHON, "-c", SERVER, str(hosts)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        tree = _url_tree("http-hosts", server.stdout.readline().split())
        version = ensure_mlc()
        table = [f"### (c) HTTP: the same 2,000 URLs spread over {hosts} hosts (127.0.0.2 .. 127.0.0.{hosts + 1}), "
                 "50 ms each", "", "| tool | wall time (best) | median | broken |", "|---|---|---|---|"]
        for label, extra in (("defaults: --per-host 8, --concurrency 64", []),
                             ("--concurrency 32, the default before", ["--concurrency", "32"]),
                             ("--concurrency 128", ["--concurrency", "128"])):
            best, median, out = best_of(repeat, [*LOOPGATE, "--cache-ttl", "0", *extra, "--format", "json", "."],
                                        tree)
            table.append(f"| `loopgate gate links --cache-ttl 0 .` ({label}) | {best:.2f} s | {median:.2f} s | "
                         f"{gate_summary(out)[1]} |")
        m_time, m_out = timed([str(MLC), "-q", "."], tree)
        table += [f"| markdown-link-check {version} `-q .` (1 run) | {m_time:.2f} s | - | {mlc_dead(m_out)} |", ""]
        rows += table
    finally:
        server.terminate()
        server.wait(timeout=10)


PARITY = """
import glob, sys, mistune
from mistune.util import escape_url
from loopgate.gates import _mdlinks
def theirs(text):
    urls = set()
    def walk(tokens):
        for tok in tokens:
            if tok.get("type") in ("link", "image"):
                urls.add(tok["attrs"]["url"])
            walk(tok.get("children", []))
    tokens, state = mistune.create_markdown(renderer=None).parse(text)
    walk(tokens)
    return urls | {ref["url"] for ref in state.env["ref_links"].values()}
files = sorted({f for pattern in sys.argv[1:] for f in glob.glob(pattern, recursive=True)})
differ = 0
for name in files:
    try:
        text = open(name, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        continue
    ours = {escape_url(l.target) for l in _mdlinks.parse(text).links if l.kind not in ("html", "url")}
    if ours != theirs(text):
        differ += 1
        print("differs:", name, sorted(ours ^ theirs(text))[:3])
print(f"{len(files)} files, {differ} with a different set of link destinations than mistune")
"""


def parity(patterns: list[str]) -> None:
    """The scanner against mistune: the same link destinations (markdown links, images, definitions)?"""
    subprocess.run([PYTHON, "-c", PARITY, *patterns], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument("--hosts", type=int, default=50, metavar="N",
                        help="loopback hosts (127.0.0.2 ..) for the many-host HTTP scenario; 0 skips it")
    parser.add_argument("--parity", nargs="+", metavar="GLOB",
                        help="only compare the links found with mistune's on these files")
    args = parser.parse_args()
    if args.parity:
        parity(args.parity)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[str] = []
    if not args.skip_offline:
        offline(args.files, args.repeat, rows)
    if not args.skip_http:
        http(args.repeat, rows)
        if args.hosts:
            http_many_hosts(args.repeat, min(args.hosts, 250), rows)
    print("\n".join(rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
