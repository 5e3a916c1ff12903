"""The git configuration a maker sees: what its git needs, none of the user's credentials.

The maker's HOME is replaced, so the user's ~/.gitconfig (and the credential helpers, tokens in
`url.*.insteadOf` and `http.extraHeader` it holds) never reaches it; but then its git has no
identity either. And the repository's own `.git/config` stays readable inside the sandbox,
where CI checkouts keep their token (`http.https://github.com/.extraheader`). So loopgate writes
two cleaned files into the attempt's directory (read-only to the maker): a global config with
the user's name and email only (GIT_CONFIG_GLOBAL), and a copy of the repository's config
without credential helpers, URL rewrites, includes, http settings, ssh commands or passwords in
URLs, which the sandbox mounts over the real one; and the same for each submodule's config
(`.git/modules/<name>/config`), where a CI checkout with submodules puts its token too.
"""

from __future__ import annotations

import os
import re

from loopgate.runner import git as gitops

# Sections whose every key can carry a secret or run a program that fetches one.
DROPPED_SECTIONS = frozenset({"credential", "url", "include", "includeif", "http", "sendemail"})
# Single keys of that kind in sections that are otherwise needed.
DROPPED_KEYS = frozenset({"core.sshcommand", "core.askpass", "core.gitproxy"})
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_NO_USERINFO = r"\1"
IDENTITY = ("user.name", "user.email")


def _entries(args: list[str], cwd: str) -> list[tuple[str, str | None]]:
    """(key, value) pairs of `git config -z --list`-style output; None for a key without `=`."""
    out = gitops.git(["config", "-z", *args], cwd, check=False)
    pairs: list[tuple[str, str | None]] = []
    for record in out.split("\0"):
        if not record:
            continue
        key, newline, value = record.partition("\n")
        pairs.append((key, value if newline else None))
    return pairs


def kept(key: str) -> bool:
    lowered = key.lower()
    section = lowered.split(".", 1)[0]
    return section not in DROPPED_SECTIONS and f"{section}.{lowered.rsplit('.', 1)[-1]}" not in DROPPED_KEYS


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def render(entries: list[tuple[str, str | None]]) -> str:
    """A config file holding `entries` (kept in order, grouped under their sections)."""
    lines: list[str] = []
    current = ""
    for key, value in entries:
        section, _, rest = key.partition(".")
        subsection, _, name = rest.rpartition(".")
        header = f"[{section} {_quote(subsection)}]" if subsection else f"[{section}]"
        if header != current:
            lines.append(header)
            current = header
        lines.append(f"\t{name}" if value is None else f"\t{name} = {_quote(_USERINFO.sub(_NO_USERINFO, value))}")
    return "\n".join(lines) + "\n"


def cleaned_repository_config(path: str, cwd: str) -> str:
    """The repository's config file `path` without what could carry a credential."""
    return render([(k, v) for k, v in _entries(["--file", path, "--list"], cwd) if kept(k)])


def identity_config(root: str) -> str:
    """A global config with only the identity the user's git would use in this repository."""
    found = _entries(["--get-regexp", r"^user\.(name|email)$"], root)
    return render([(k, v) for k, v in found if k.lower() in IDENTITY and v is not None])


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def module_configs(common: str) -> list[str]:
    """The git configs of the repository's submodules (<common>/modules/<name>/config, nested ones
    under their parent's modules/): a CI checkout with submodules writes its token into each."""
    found = []
    for folder, dirs, names in os.walk(os.path.join(common, "modules")):
        dirs.sort()
        if "config" in names and os.path.exists(os.path.join(folder, "HEAD")):
            found.append(os.path.join(folder, "config"))
    return found


def write_maker_config(attempt_dir: str, root: str, common: str) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """Write the maker's config files into `attempt_dir`: ((cleaned copy, the config it is mounted
    over), ...) for the repository's config and each submodule's, and the environment naming the
    global one."""
    global_file, repo_file = os.path.join(attempt_dir, "gitconfig"), os.path.join(attempt_dir, "repo-config")
    _write(global_file, identity_config(root))
    _write(repo_file, cleaned_repository_config(os.path.join(common, "config"), root))
    over = [(repo_file, os.path.join(common, "config"))]
    for number, config in enumerate(module_configs(common)):
        copy = os.path.join(attempt_dir, f"module-config-{number}")
        _write(copy, cleaned_repository_config(config, root))
        over.append((copy, config))
    return tuple(over), {"GIT_CONFIG_GLOBAL": global_file}
