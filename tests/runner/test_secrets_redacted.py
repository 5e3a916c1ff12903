"""The values of the variables the spec hands the maker (`## Sandbox` `environment`) never reach
LOOP_STATE.md, the escalation summary or the terminal, however the maker's output is quoted:
the run report was redacted, and now so is everything else the run writes or prints."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from .conftest import LoopRepo

SECRET = "sk-live-SECRETVALUE99"


def _with_environment(repo: LoopRepo, maker: str, iterations: int = 1) -> None:
    repo.set_spec(maker, iterations=iterations, contain=False)
    spec = repo.loop / "LOOP_SPEC.md"
    spec.write_text(spec.read_text() + "- environment: MY_API_KEY\n")
    repo.commit("the maker gets its API key")


def _run(repo: LoopRepo) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MY_API_KEY": SECRET}
    return subprocess.run([sys.executable, "-m", "loopgate", "run", str(repo.loop)], cwd=repo.root, env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def _written(repo: LoopRepo) -> str:
    files = [repo.loop / "LOOP_STATE.md", *sorted((repo.loop / "runs").glob("*"))]
    return "\n".join(f.read_text() for f in files)


@pytest.mark.parametrize("maker", [
    # a maker that "could not start" (exit 127): its output is quoted in the environmental stop
    'echo "sh: 1: $MY_API_KEY: not found"; exit 127',
    # a maker whose gates fail: its output is quoted in the escalation (the escalation summary too)
    "printf 'see [x](missing-$MY_API_KEY.md)\\n' >> docs/guide.md; echo \"key $MY_API_KEY\"",
])
def test_an_environment_value_the_maker_prints_is_never_shown(loop_repo: LoopRepo, maker: str) -> None:
    _with_environment(loop_repo, maker)
    done = _run(loop_repo)
    assert "DOC-1" in done.stdout and done.returncode in (3, 5), done.stderr
    written = _written(loop_repo)
    assert "DOC-1" in written
    assert SECRET not in done.stdout and SECRET not in done.stderr
    assert SECRET not in written


def test_the_state_quotes_the_redacted_reason(loop_repo: LoopRepo) -> None:
    _with_environment(loop_repo, 'echo "sh: 1: $MY_API_KEY: not found"; exit 127')
    _run(loop_repo)
    state = (loop_repo.loop / "LOOP_STATE.md").read_text()
    assert "[redacted]" in state  # the reason is still there, without the value


def test_an_encoded_value_the_maker_prints_is_never_stored(loop_repo: LoopRepo) -> None:
    # printed as itself, in base64 (at an offset inside a larger stream), in hex, inside a JSON
    # string: the run report and the maker's own log hold none of them
    maker = ("echo \"plain $MY_API_KEY\"; printf 'x%s\\n' \"$MY_API_KEY\" | base64; "
             "printf '%s' \"$MY_API_KEY\" | od -An -tx1 | tr -d ' \\n'; echo; "
             "printf '{\"key\": \"%s\"}\\n' \"$MY_API_KEY\"; exit 3")
    _with_environment(loop_repo, maker)
    done = _run(loop_repo)
    assert "DOC-1" in done.stdout, done.stderr
    logs = sorted((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker.log"))
    assert len(logs) == 1, "the maker did not run"
    log = logs[0].read_text()
    assert "plain [redacted]" in log  # the log is still the maker's output, its secrets masked
    forms = [SECRET, base64.b64encode(b"x" + SECRET.encode()).decode()[2:-4], SECRET.encode().hex()]
    for shown in (done.stdout, done.stderr, _written(loop_repo), log):
        for form in forms:
            assert form not in shown, (form, shown[:2000])


def test_an_item_id_shaped_like_a_key_prefix_is_not_redacted(loop_repo: LoopRepo) -> None:
    # `sk-` starts OpenAI's and Anthropic's keys, and a slug: the state redacted the id out of its own
    # heading, the next run did the work again and the third refused the state (the id twice)
    queue = loop_repo.loop / "work-queue.md"
    queue.write_text(queue.read_text().replace("### DOC-1", "### sk-learn-upgrade-docs-links"))
    loop_repo.set_spec("good", iterations=1, contain=False)
    first = _run(loop_repo)
    state = (loop_repo.loop / "LOOP_STATE.md").read_text()
    assert "### sk-learn-upgrade-docs-links" in state and "[redacted]" not in state, first.stdout + first.stderr
    branch = subprocess.run(["git", "rev-parse", "refs/heads/loop/docs-repair/sk-learn-upgrade-docs-links"],
                            cwd=loop_repo.root, capture_output=True, text=True, check=True).stdout
    second = _run(loop_repo)
    assert second.returncode in (0, 3), second.stdout + second.stderr
    again = subprocess.run(["git", "rev-parse", "refs/heads/loop/docs-repair/sk-learn-upgrade-docs-links"],
                           cwd=loop_repo.root, capture_output=True, text=True, check=True).stdout
    assert again == branch  # drafted once: the second run did not do the work again
    assert (loop_repo.loop / "LOOP_STATE.md").read_text().count("### sk-learn-upgrade-docs-links") == 1


def test_terminal_escapes_the_maker_prints_never_reach_the_terminal_or_the_state(loop_repo: LoopRepo) -> None:
    # a maker that "cannot start" has its last line quoted in the stop's reason: OSC 52 writes the
    # reader's clipboard, OSC 0 the window title, CSI 2J clears the screen, U+009B is a one-byte CSI
    _with_environment(loop_repo, "printf 'sh: 1: \\033]52;c;SGVsbG8=\\007\\033]0;PWNED\\007\\033[2J\\302\\2332J "
                                 "claud: not found\\n'; exit 127")
    done = _run(loop_repo)
    assert done.returncode == 5, done.stdout + done.stderr
    state = (loop_repo.loop / "LOOP_STATE.md").read_text()
    written = _written(loop_repo)
    assert "claud: not found" in done.stdout + done.stderr and "claud: not found" in state
    for text in (done.stdout, done.stderr, state):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, text
    assert "\\x1b]52;c;" in state  # shown, as text
    report = json.loads(next((loop_repo.loop / "runs").glob("*.json")).read_text())
    assert "claud: not found" in json.dumps(report)  # the report is JSON still, its escapes its own
    assert "\x1b" in written or "\\u001b" in written


def test_a_secret_cut_by_the_output_tails_window_is_not_half_shown(loop_repo: LoopRepo) -> None:
    # the report quotes the last 4000 bytes of maker.log: a window that starts inside the key showed
    # its second half, which redaction of the whole key never matched
    cut = 7  # characters of the key before the window
    after = 4000 - (len(SECRET) - cut) - 1  # bytes after the key's line, so the window starts there
    maker = (f"printf 'header: %s\\n' \"$MY_API_KEY\"; head -c {after} /dev/zero | tr '\\0' 'x'; echo; exit 3")
    _with_environment(loop_repo, maker)
    _run(loop_repo)
    report = json.loads(next((loop_repo.loop / "runs").glob("*.json")).read_text())
    [attempt] = next(i for i in report["items"] if i["id"] == "DOC-1")["attempts"]
    tail = attempt["maker"]["output_tail"]
    assert "xxxx" in tail  # the window is the one meant
    assert SECRET[cut:] not in tail and SECRET[-8:] not in json.dumps(report), tail[:200]


def test_a_secret_after_a_newline_leaves_the_run_report_valid_json(loop_repo: LoopRepo) -> None:
    # redacting the report's JSON text matched a key starting with `n` across the `\n` escape of the
    # newline before it, and left `\[redacted]`: no JSON escape, a traceback and no report at all
    key = "nK7x9Qp2Lm4Vb8Tz3Hc6"
    _with_environment(loop_repo, "printf 'header\\n%s\\n' \"$MY_API_KEY\"; exit 3")
    env = {**os.environ, "MY_API_KEY": key}
    done = subprocess.run([sys.executable, "-m", "loopgate", "run", str(loop_repo.loop)], cwd=loop_repo.root, env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    [report] = list((loop_repo.loop / "runs").glob("*.json"))
    text = report.read_text()
    json.loads(text)  # valid JSON
    assert key not in text and key[1:] not in text
    assert "header\n[redacted]" in json.dumps(json.loads(text)["items"][0]["attempts"][0]["maker"]["output_tail"]) \
        .replace("\\n", "\n")


TOKEN = "ghp_" + "Xq3Zr8Lm2Vb7Np4Tc9Kd1Wf6Hy5Js0Ga2Ue8"


def test_a_token_shape_is_masked_in_the_makers_log_after_a_json_escape_and_with_no_secret_named(
        loop_repo: LoopRepo) -> None:
    # an agent's JSON stream line holds `\n` escapes: a token at a line's start follows the escape's
    # `n`, where no word boundary is; and with no variable named, maker.log was not redacted at all
    maker = f"printf '{{\"text\":\"found:\\\\n{TOKEN}\"}}\\n{{\"text\":\"found: {TOKEN}\"}}\\n'; exit 3"
    loop_repo.set_spec(maker, iterations=1, contain=False)
    _run(loop_repo)
    [log] = list((loop_repo.root / ".git" / "loopgate").glob("*/attempts/DOC-1/*-1/maker.log"))
    assert "found:\\n[redacted]" in log.read_text() and "found: [redacted]" in log.read_text(), log.read_text()
    assert TOKEN not in _written(loop_repo) and TOKEN not in log.read_text()
