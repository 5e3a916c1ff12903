"""The links gate's finding codes (defined here so every part of the gate can report them)."""

from __future__ import annotations

from loopgate import codes
from loopgate.findings import Severity

E = Severity.ERROR

MISSING_FILE = codes.define(
    "LG441", "link-target-not-found", E, "A local link points to a file that does not exist.",
    "The link's destination, read relative to the file that holds it (or to the repository root when it "
    "starts with `/`), with `%20`-style escapes decoded, names no file or directory. On GitHub the link "
    "leads to a 404 page. In a documentation site (a site profile: `--site`), the link is read the way the "
    "built site reads it, and the message also says when the generator publishes nothing there though a "
    "source file is named: a page published at another URL (a slug, a permalink, `uglyURLs`), a draft, a "
    "Jekyll collection without `output: true`, a Hugo leaf bundle's resource, a link outside Jekyll's "
    "`baseurl`, a relative link the browser reads from the page's URL, not the file's folder.",
    "Fix the path (the message suggests a close name when there is one), or restore the file.",
)
MISSING_ANCHOR = codes.define(
    "LG442", "anchor-not-found", E, "A `#anchor` names no heading or id in the target file.",
    "Anchors are GitHub's heading slugs (github-slugger's): the heading's rendered text lowercased, "
    "punctuation other than `-` and `_`, symbols and emoji removed, spaces turned into `-`; a repeated heading "
    "gets `-1`, `-2`, ... A trailing `{#id}` on a heading, explicit HTML `id=` and `<a name=>` count too. "
    "The target file has none with this name, so the link opens the page at the top.",
    "Use the slug of the heading as it is now (the message suggests a close one), or add `<a id=\"...\"></a>`.",
)
BROKEN_URL = codes.define(
    "LG443", "url-broken", E, "An http(s) link does not answer with an accepted status.",
    "The URL answered with a status outside `--accept` (after following redirects and retrying 429, 5xx "
    "and timeouts), or could not be reached at all: connection refused, a host name that does not "
    "resolve, a TLS error, or no answer within `--request-timeout`.",
    "Fix or replace the URL. If the site refuses robots or rate-limits, accept its status with `--accept`, "
    "or skip the URL with `--ignore REGEX`.",
)
PATH_NOT_FOUND = codes.define(
    "LG444", "links-path-not-found", E, "A path given to the links gate does not exist.",
    "The gate was asked to check a file or directory that is not there, so it could not check it (exit 2).",
    "Check the path; paths are relative to the working directory.",
    input_error=True,
)
UNREADABLE = codes.define(
    "LG445", "markdown-unreadable", E, "A markdown file could not be read.",
    "The file exists but could not be read, is binary (it holds a NUL byte, which no markdown file does), "
    "or is not UTF-8 text, so its links were not checked. The gate does not pass a file it has not looked "
    "at: the finding fails the run, and the summary counts the files not read.",
    "Make the file readable and save it as UTF-8 text; if it is not markdown, rename it or leave it out "
    "with `--exclude`.",
)
BAD_OPTION = codes.define(
    "LG446", "links-bad-option", E, "An option of the links gate cannot be used.",
    "An `--accept` value is not a status or range of statuses (100-599), an `--ignore` pattern (or a line "
    "of the ignore file) is not a valid regular expression, the ignore file cannot be read, or a number is "
    "out of range. Nothing was checked (exit 2).",
    "Fix the option: `--accept 200-299 --accept 403`, `--ignore '^https://example\\.com/'`.",
    input_error=True,
)
NETWORK_DOWN = codes.define(
    "LG447", "network-unavailable", E, "No external link could be reached at all: the network looks down.",
    "Every http(s) request failed because a host name did not resolve or the network was unreachable, and "
    "none got any answer. That says more about the machine than the links, so the gate reports an "
    "environment error (exit 2) instead of failing every URL.",
    "Restore the network (or DNS), or check local links only with `--offline`.",
)
OUTSIDE = codes.define(
    "LG448", "link-outside-repository", E, "A local link points outside the repository.",
    "The link's path, read from the file that holds it, leaves the repository (`../../..`), or names a "
    "symlink to a place outside it. On GitHub such a link cannot work, and on the machine that checks "
    "it the gate does not look: `../../../../etc/passwd` existing there says nothing about the link. "
    "Outside git, the working directory stands for the repository.",
    "Link to a file inside the repository (copy it in, or link its published URL instead).",
)
SYMLINK_OUTSIDE = codes.define(
    "LG449", "markdown-symlink-outside", E,
    "A markdown file is a symlink to a file outside the repository: not read.",
    "The file to check is a symlink (or lies under a symlinked directory) that leads out of the "
    "repository. The gate does not follow it: what it points to is not part of the change, and may be "
    "anything on the checking machine. GitHub shows such a file as a link to nowhere. Like a file that "
    "cannot be read (LG445), a file the gate has not looked at fails the run.",
    "Replace the symlink with the file itself, or leave it out with `--exclude`.",
)
UNCHECKED = codes.define(
    "LG482", "link-unchecked", Severity.WARNING,
    "A link that only the built site can resolve: listed, not checked.",
    "The link's destination holds template code (`{{ ... }}`, `{% ... %}`, a Hugo shortcode) or names a site "
    "route that is no file in the repository (a Jekyll permalink, a Docusaurus slug), so where it leads is "
    "known only once the site generator has run. The gate does not guess: it is neither passed silently nor "
    "called broken. A warning: it does not fail the run.",
    "Check it on the built site (lychee on the generated HTML), or write it as a path to the source file.",
)
SITE_CONFIG = codes.define(
    "LG483", "site-config-unreadable", E, "The documentation site's config cannot be read.",
    "The links gate reads the generator's own config (`mkdocs.yml`, `book.toml`, `hugo.toml`, `_config.yml`) "
    "to check links the way the built site resolves them. This one cannot be read, is not valid YAML or TOML, "
    "or was asked for with `--site NAME` and is not there; or it is a symlink, a FIFO or a device (a config is "
    "read only from a regular file, never through a symlink, which could lead out of the repository), or it names "
    "a site folder out of the repository (`source: /`, `contentDir = \"../x\"`: nothing outside is read). "
    "Nothing was checked (exit 2): checking the site without its config would report the links it publishes "
    "elsewhere as broken.",
    "Fix the config file, or turn the site profile off with `--site none`.",
    input_error=True,
)
CACHE_UNUSABLE = codes.define(
    "LG484", "links-cache-unusable", Severity.WARNING,
    "The links cache file could not be used: ignored, and replaced when the run saves.",
    "The cache (`--cache-file`, default `$XDG_CACHE_HOME/loopgate/links.json`) is not what the gate writes: "
    "its header is missing or names another version, it is not JSON, it is larger than 64 MB, or in its "
    "place is a symlink, a directory, a FIFO or a device. The gate does not trust it and never follows a "
    "symlink there: every URL is asked again, and the good answers are saved to a new file written beside "
    "it and renamed over it (a directory is left alone; the cache is then not written). Also reported when "
    "the cache could not be written at all. A warning: the links were still checked.",
    "Nothing, if it happens once. If it repeats, remove the file or point `--cache-file` somewhere the gate "
    "can write.",
)
