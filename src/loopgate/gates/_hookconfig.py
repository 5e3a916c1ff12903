"""Does a change to `.pre-commit-config.yaml` weaken the loopgate hooks?

pre-commit reads its hooks from the tree being committed, so a commit that edits the config
judges itself with the edited hooks: it can drop `loopgate-secrets`, or give it
`exclude: .*`, and pass. The forbidden gate therefore compares the config at the change's base
with the changed one, and reports every loopgate hook that is removed or reconfigured, and a
changed top-level `files`/`exclude`/`default_stages` (which filter every hook). Adding hooks,
adding the file, and moving `rev:` (`pre-commit autoupdate`) are not reported: they do not make
a gate weaker.

The file is read with PyYAML's safe loader, at most 2 MiB, and a document with aliases is not
interpreted (comparing an alias bomb would take exponential time): it is reported as one that
cannot be judged, as is a document that does not parse.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BYTES = 2 * 1024 * 1024
NAME = ".pre-commit-config.yaml"
_TOP_LEVEL = ("files", "exclude", "default_stages")


def _load(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the config, "") or (None, why it cannot be judged)."""
    import yaml  # noqa: PLC0415

    if len(raw) > MAX_BYTES:
        return None, "it is over 2 MiB"
    try:
        text = raw.decode("utf-8")
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            return None, "it uses YAML aliases, which are not interpreted"
        document = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as err:
        return None, f"it does not parse ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
    if document is None:
        return {}, ""
    if not isinstance(document, dict):
        return None, "it is not a mapping"
    return document, ""


def _loopgate_hooks(config: dict[str, Any]) -> dict[str, str]:
    """hook id -> its settings as canonical JSON (the repo URL included, `rev` left out)."""
    found: dict[str, str] = {}
    repos = config.get("repos")
    for repo in repos if isinstance(repos, list) else []:
        if not isinstance(repo, dict):
            continue
        hooks = repo.get("hooks")
        for hook in hooks if isinstance(hooks, list) else []:
            if isinstance(hook, dict) and str(hook.get("id", "")).startswith("loopgate-"):
                settings = {"repo": repo.get("repo"), **{k: v for k, v in hook.items() if k != "id"}}
                found.setdefault(str(hook["id"]), json.dumps(settings, sort_keys=True, default=str))
    return found


def weakened(before: bytes | None, after: bytes | None) -> list[str]:
    """What the change does to the loopgate hooks, in words; [] when it weakens nothing.

    `before`: the config at the base (None: there was none); `after`: the changed one (None: deleted).
    """
    if before is None:
        return []  # a new config only adds hooks
    old, why = _load(before)
    if old is None:
        return []  # the base's config could not run either: nothing to weaken
    if after is None:
        hooks = sorted(_loopgate_hooks(old))
        return [f"deletes the file, and with it the hook{'s' if len(hooks) != 1 else ''} {', '.join(hooks)}"] \
            if hooks else []
    new, why = _load(after)
    if new is None:
        return [f"cannot be judged: {why}"]
    said = []
    old_hooks, new_hooks = _loopgate_hooks(old), _loopgate_hooks(new)
    for hook in sorted(old_hooks):
        if hook not in new_hooks:
            said.append(f"removes the hook {hook}")
        elif old_hooks[hook] != new_hooks[hook]:
            said.append(f"changes the settings of the hook {hook}")
    if old_hooks:
        for key in _TOP_LEVEL:
            if old.get(key) != new.get(key):
                said.append(f"changes the top-level `{key}`, which filters every hook")
    return said
