"""Reading a site generator's own config file, the way the generator reads it, without running anything.

mkdocs.yml is YAML read with the project's safe loader (libyaml's parser when present). Real
mkdocs.yml files carry tags only MkDocs' own loader knows: `!!python/name:material.extensions.
emoji.twemoji` (a Python object), `!ENV [VAR, default]`, `!relative`. A safe loader must not build
those, and must not crash on them either: each becomes an `Opaque` value the profiles ignore.
MkDocs reads YAML 1.1 (`use_directory_urls: no` is false there), so `flag` reads booleans that way.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import sys

from loopgate.records import record
from loopgate.smallfile import NotRegular, TooLarge, read_small

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

# YAML and TOML are imported when a config is read, not with the gate: most runs have no site, and
# the links gate's cold start is measured (bench/README.md).

# A site's config is a few KiB; one far bigger is not one, and is not read into memory.
MAX_BYTES = 4 * 1024 * 1024


class ConfigError(Exception):
    """A config file that cannot be read or parsed: the message says which and why."""


@record(frozen=True)
class Opaque:
    """A value under a tag the safe loader does not build (`!!python/name:...`, `!ENV`): kept as its tag."""

    tag: str


def _opaque(loader: Any, suffix: str, node: Any) -> Opaque:
    return Opaque(str(node.tag))


# Ruby's YAML (Psych, YAML 1.1), which reads Jekyll's _config.yml and front matter, takes these plain
# scalars as booleans, in any case (`published: No`); quoted, they stay text.
_RUBY_BOOL = re.compile(r"^(?i:yes|true|on|no|false|off)$")


@functools.lru_cache(maxsize=2)
def site_loader(ruby: bool = False) -> Any:
    """The project's safe YAML loader (YAML 1.2), with every tag it does not know read as `Opaque`;
    `ruby`: with Psych's booleans too (`yes`/`no`/`on`/`off`)."""
    from loopgate.gates._schema.yaml12 import YamlLoader  # noqa: PLC0415  (see above)

    class SiteLoader(YamlLoader):
        pass

    # The empty prefix matches every tag no constructor claims exactly: the safe ones stay safe.
    SiteLoader.add_multi_constructor("", _opaque)
    if ruby:
        SiteLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _RUBY_BOOL, list("yYnNoOtTfF"))
    return SiteLoader


def load_yaml(text: str, ruby: bool = False) -> Any:
    """Raises ConfigError-ready exceptions: yaml.YAMLError, RecursionError, and ValueError (an integer of
    more than 4,300 digits, which Python will not convert; yaml12.TooLong is one). `ruby`: as Jekyll
    (Ruby's YAML 1.1) reads booleans."""
    import yaml  # noqa: PLC0415  (see above)

    return yaml.load(text, Loader=site_loader(ruby))  # a safe loader: unknown tags are Opaque


def real_inside_repository(path: str) -> str | None:
    """`path` with its symlinks followed, when that stays inside the repository holding `path` (the
    nearest folder above it with a `.git`; its own folder when there is none), else None."""
    top = folder = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            top = folder
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    real, real_top = os.path.realpath(path), os.path.realpath(top)
    return real if real == real_top or real.startswith(real_top.rstrip(os.sep) + os.sep) else None


def read_text(path: str, shown: str, *, strict: bool = True) -> str:
    """The config's text (`strict`: UTF-8 or ConfigError; else undecodable bytes replaced)."""
    # Read as routes.front_matter and mdBook's includes read a page: never through a symlink (it may
    # lead out of the repository: `_config.yml -> /etc/passwd`), only a regular file (`-> /proc/kmsg`
    # or a FIFO would block the read forever), non-blocking, at most MAX_BYTES. A config refused here
    # stops the gate with a clear error (exit 2): treating it as absent would check the site's links
    # without its profile, and report the links it publishes elsewhere as broken.
    if os.path.islink(path):  # a config symlinked within the repository (a monorepo's shared one) is read
        inside = real_inside_repository(path)
        if inside is None:
            raise ConfigError(f"{shown}: a symlink leading out of the repository; loopgate reads no site config "
                              "there: put the file itself there, or check with --site none")
        path = inside
    try:
        raw = read_small(path, MAX_BYTES, follow=False)
    except TooLarge as err:
        raise ConfigError(f"{shown}: larger than {MAX_BYTES // (1024 * 1024)} MiB, not a site config") from err
    except NotRegular as err:
        raise ConfigError(f"{shown}: not a regular file; loopgate reads a site config only from one") from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ConfigError(f"{shown}: a symlink; loopgate reads no site config through one (it may lead out of "
                              "the repository): put the file itself there, or check with --site none") from err
        raise ConfigError(f"{shown}: cannot be read: {err.strerror or err}") from err
    try:
        return raw.decode("utf-8-sig", errors="strict" if strict else "replace")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{shown}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def read_yaml(path: str, shown: str, ruby: bool = False) -> dict[str, Any]:
    """The top mapping of a YAML config ({} for an empty file; `ruby`: as load_yaml)."""
    import yaml  # noqa: PLC0415  (see above)

    text = read_text(path, shown)
    try:
        data = load_yaml(text, ruby)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{shown}: not valid YAML{where}: {problem}") from err
    except RecursionError as err:
        raise ConfigError(f"{shown}: nested too deeply to read") from err
    except ValueError as err:  # a number too long to convert (Python's 4,300-digit limit)
        raise ConfigError(f"{shown}: not readable YAML: {str(err).splitlines()[0][:200]}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the top level is not a mapping")
    return data


def load_toml(text: str) -> dict[str, Any]:
    """Raises ValueError (tomllib's TOMLDecodeError is one) or RecursionError."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415  (see above)
    else:  # pragma: no cover  (Python 3.10)
        import tomli as tomllib  # noqa: PLC0415

    return tomllib.loads(text)


def read_toml(path: str, shown: str) -> dict[str, Any]:
    text = read_text(path, shown)
    try:
        return load_toml(text)
    except (ValueError, RecursionError) as err:
        raise ConfigError(f"{shown}: not valid TOML: {err}") from err


def read_json(path: str, shown: str) -> dict[str, Any]:
    import json  # noqa: PLC0415  (see above)

    text = read_text(path, shown)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ConfigError(f"{shown}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the top level is not an object")
    return data


def flag(value: Any, default: bool) -> bool:
    """A YAML 1.1 boolean as MkDocs (PyYAML) reads it: `no`, `off`, `false` are false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "on", "true", "y"):
        return True
    if isinstance(value, str) and value.lower() in ("no", "off", "false", "n"):
        return False
    return default


def text_value(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value.strip() else default
