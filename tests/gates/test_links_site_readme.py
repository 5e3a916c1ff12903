"""The README's section on site profiles: every command in it runs as written (from the checkout's
root, with the real CLI), and the ones on the fixture sites say what the section says they do."""

from __future__ import annotations

import re
import shlex

from .conftest import ROOT, Cli


def site_section_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("*Documentation sites.*"):readme.index("**schema**: validates")]
    return [line for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S) for line in block.splitlines()
            if line.strip()]


def test_every_command_of_the_site_section_runs(cli: Cli) -> None:
    commands = site_section_commands()
    assert len(commands) == 6, commands
    outputs = {}
    for command in commands:
        words = shlex.split(command)
        assert words[:3] == ["loopgate", "gate", "links"], command
        done = cli(*words[2:], cwd=ROOT)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert done.returncode in (0, 1), (command, done.stdout, done.stderr)
        outputs[command] = done.stdout
    hugo, plain, jekyll = (outputs[c] for c in commands[:3])
    assert "site: Hugo (from tests/fixtures/sites/hugo/hugo.toml)" in hugo and "unchecked, LG482" in hugo
    assert "site:" not in plain and plain.count(" LG441 ") > hugo.count(" LG441 ")
    assert "site: Jekyll (from tests/fixtures/sites/jekyll/_config.yml)" in jekyll
