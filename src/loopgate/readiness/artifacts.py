"""Criteria from the loop's own artifacts: is the loop described well enough to trust?"""

from __future__ import annotations

import os
import re
from typing import Any

from loopgate.artifacts.artifact import Artifact
from loopgate.artifacts.crosscheck import cross_check
from loopgate.artifacts.kinds import CHECKLIST, POLICY, READINESS, SPEC, ArtifactKind
from loopgate.findings import Finding, Severity
from loopgate.gates._changes import BAD_PATTERN
from loopgate.gates._patterns import Rule, RuleSet
from loopgate.history.text import code
from loopgate.readiness.criteria import ALL, PROMOTED, Criterion, judged, met, unmet
from loopgate.records import record
from loopgate.verify import load_artifact, load_loop_dir

G = "artifacts"

# The article's always-escalate baseline. Each topic is matched by the words teams use for it,
# so "anything touching login or tokens" covers auth without the exact word. Each form is a whole
# word (a regular expression, case-insensitive; `[\s-]` is a space or a hyphen), never a piece of
# one: "author" is not auth, "redeploymentless" is not a deployment. The forms that count:
# - auth: auth, authn, authz, authenticate/-ed/-s/-ing, authentication(s), authenticator(s),
#   authorize/authorise (-d, -s, -ing), authorization/authorisation(s), login(s), log in,
#   sign-in, signin, session(s), password(s), permission(s), oauth, sso;
# - billing, payment(s), invoice(s)/invoicing, pricing, subscription(s), charge(s)/charged/charging;
# - secret(s), token(s), credential(s), api key(s), private key(s), key material;
# - migration(s), drop table, destructive, delete data, deletion(s), data loss, schema change(s);
# - deploy(s/ed/ing/ment/ments) and redeploy..., release(s), production, infrastructure, ci/cd,
#   rollout(s).
BASELINE: dict[str, tuple[str, ...]] = {
    "authentication": (r"auth[nz]?", r"authenticat(?:e[ds]?|ing|ions?|ors?)",
                       r"authori[sz](?:e[ds]?|ing|ations?)", r"log[\s-]?ins?", r"sign[\s-]?ins?", r"sessions?",
                       r"passwords?", r"permissions?", "oauth", "sso"),
    "billing": ("billing", r"payments?", r"invoic(?:es?|ing)", "pricing", r"subscriptions?", r"charg(?:es?|ed|ing)"),
    "secrets": (r"secrets?", r"tokens?", r"credentials?", r"api[\s-]+keys?", r"private[\s-]+keys?",
                r"key[\s-]+material"),
    "destructive migrations": (r"migrations?", r"drop[\s-]+table", "destructive", r"delete[\s-]+data", r"deletions?",
                               r"data[\s-]+loss", r"schema[\s-]+changes?"),
    "deployment": (r"(?:re)?deploy(?:s|ed|ing|ments?)?", r"releases?", "production", "infrastructure", "ci/cd",
                   r"rollouts?"),
}
_TOPICS = {topic: re.compile(r"\b(?:" + "|".join(forms) + r")\b", re.I) for topic, forms in BASELINE.items()}
# Paths an allowlist that bounds the maker does not allow all of: a file at the top, one with an
# extension no loop is about, a hidden folder's, one deep in folders of no known name.
_PROBES = ("zz-loopgate-probe", "zz-loopgate-probe.bin", ".zz-loopgate-probe/x.txt", "zz/loopgate/probe/deep.txt")
# A command that asks a model is a judge, not a gate the model cannot talk its way around.
_MODEL_WORDS = re.compile(r"\b(model|llm|claude|codex|gpt|openai|anthropic|gemini|review[-_ ]with)\b", re.I)


@record(frozen=True)
class LoopArtifacts:
    """A loop directory read once: what `verify` finds, and each artifact's data by file name
    (empty for one that is missing or does not load). Every criterion reads from this."""

    findings: list[Finding]
    data: dict[str, dict[str, Any]]
    crossed: tuple[Finding, ...] = ()  # the findings between artifacts (spec against state, ...)

    def errors_in(self, kind: ArtifactKind) -> list[Finding]:
        """The errors of one artifact on its own (what loading it alone would find)."""
        return [f for f in self.findings if f.severity is Severity.ERROR and os.path.basename(f.path) == kind.filename
                and f not in self.crossed]

    def of(self, kind: ArtifactKind) -> dict[str, Any]:
        return self.data.get(kind.filename, {})

    @property
    def spec(self) -> dict[str, Any]:
        return self.of(SPEC)

    def checklist(self) -> dict[str, dict[str, Any]]:
        """Every checklist entry, required and advisory, by name."""
        return checklist_entries(self.of(CHECKLIST))


def read_loop(loop_dir: str) -> LoopArtifacts:
    return loop_artifacts(*load_loop_dir(loop_dir))


def loop_artifacts(findings: list[Finding], artifacts: list[Artifact]) -> LoopArtifacts:
    """What `verify.load_loop_dir` returned, as the audit reads it: a caller that has loaded the
    loop already (`loopgate run`) passes it to `audit(..., loop=)` rather than have it read twice."""
    return LoopArtifacts(findings, {a.kind.filename: a.data for a in artifacts if isinstance(a.data, dict)},
                         tuple(cross_check(artifacts)))  # pure: no file is read again


def spec_data(loop_dir: str) -> dict[str, Any]:
    """The spec alone (`loopgate report` needs its name and thresholds, not a whole audit)."""
    path = os.path.join(loop_dir, SPEC.filename)
    if not os.path.isfile(path):
        return {}
    artifact, _ = load_artifact(path, SPEC)
    return artifact.data if artifact is not None and isinstance(artifact.data, dict) else {}


def checklist_entries(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for section in ("required_gates", "advisory_gates"):
        group = data.get(section)
        if isinstance(group, dict):
            entries.update({k: v for k, v in group.items() if isinstance(v, dict)})
    return entries


def artifact_criteria(loop: LoopArtifacts) -> list[Criterion]:
    spec = loop.spec
    out = [_valid(loop.findings)]
    out.append(_budgets(spec))
    stops = spec.get("stop_conditions")
    out.append(judged(bool(stops), "stop-conditions", G, "stop conditions are written down",
                      f"{len(stops)} stop condition(s)" if isinstance(stops, list) and stops else "none",
                      "Add a `## Stop Conditions` list to LOOP_SPEC.md.", ALL))
    out.append(_baseline(loop.of(POLICY)))
    out.append(_deterministic(loop.of(CHECKLIST)))
    out.append(_scope(spec))
    out.append(_decided(loop.of(READINESS)))
    return out


def _scope(spec: dict[str, Any]) -> Criterion:
    """An allowlist that matches everything bounds nothing: it counts as none. Judged by the scope
    gate's own matcher (gitignore patterns), on paths no bounded allowlist allows all of, and by
    the patterns that name no folder or file at all (`**`, `*`, `/`, `.`, `./**`): to a person
    they mean the whole repository (to gitignore, `.` and `/` mean no file, which bounds nothing
    either: every change fails the scope gate)."""
    scope = spec.get("scope")
    allowed = scope.get("allowed_paths") if isinstance(scope, dict) else None
    patterns = [str(p).strip() for p in allowed if str(p).strip()] if isinstance(allowed, list) else []
    title = "a scope allowlist bounds what the maker may change"
    if not patterns:
        return unmet("scope-allowlist", G, title, "no `allowed paths` under ## Scope",
                     "Add `## Scope` with `- allowed paths: docs/**, README.md` to LOOP_SPEC.md.", PROMOTED)
    whole = [p for p in patterns if not p.startswith("!") and all(part in ("", ".", "*", "**")
                                                                 for part in p.split("/"))]
    rules = RuleSet([Rule(p, "LOOP_SPEC.md") for p in patterns], BAD_PATTERN)
    if whole or all(rules.included(path) for path in _PROBES):
        shown = ", ".join(code(p) for p in whole or patterns)
        return unmet("scope-allowlist", G, title,
                     f"`allowed paths` {shown[:200]} "
                     + ("name no folder or file, only the whole repository" if whole else "match every path")
                     + ": an allowlist that allows everything bounds nothing, so it counts as none",
                     "Name the folders and files the loop may change under `## Scope` in LOOP_SPEC.md "
                     "(`- allowed paths: docs/**, README.md`), not the whole repository.", PROMOTED)
    return met("scope-allowlist", G, title, f"{len(patterns)} allowed path pattern(s)", PROMOTED)


def _valid(findings: list[Finding]) -> Criterion:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return judged(True, "artifacts-valid", G, "the five artifacts pass `loopgate verify`", "no errors", "")
    first = errors[0]
    return unmet("artifacts-valid", G, "the five artifacts pass `loopgate verify`",
                 f"{len(errors)} error(s), first {first.path}:{first.line}: {first.code} {first.message}",
                 "Run `loopgate verify` on the loop and fix what it reports.", ALL, weight=3)


def _budgets(spec: dict[str, Any]) -> Criterion:
    budgets = spec.get("budgets") if isinstance(spec.get("budgets"), dict) else {}
    assert isinstance(budgets, dict)
    spend = [k for k in ("max_cost", "max_tokens") if k in budgets]
    per_attempt = [k for k in ("max_runtime_per_iteration", "stalled_after") if k in budgets]
    missing = []
    if not spend:
        missing.append("`max cost` or `max tokens`")
    if not per_attempt:
        missing.append("`max runtime per iteration` or `stalled after`")
    examples = ([] if spend else ["`- max cost: $5`"]) + ([] if per_attempt else ["`- max runtime per iteration: "
                                                                                "10 minutes`"])
    return judged(not missing, "budgets-set", G, "spend and per-attempt budgets are set",
                  "set: " + ", ".join(k.replace("_", " ") for k in spend + per_attempt) if not missing
                  else "missing " + " and ".join(missing),
                  f"Add {' and '.join(examples)} under `## Budgets` in LOOP_SPEC.md.", PROMOTED)


def _baseline(policy: dict[str, Any]) -> Criterion:
    rules = policy.get("always_escalate")
    text = " ".join(_flatten(rules)).lower()
    missing = [topic for topic, words in _TOPICS.items() if not words.search(text)]
    return judged(bool(policy) and not missing, "escalation-baseline", G,
                  "the escalation policy always escalates auth, billing, secrets, destructive migrations, deployment",
                  "covers all five" if policy and not missing else
                  ("no escalation-policy.md" if not policy else "not covered: " + ", ".join(missing)),
                  "Add `## Always Escalate` bullets for: " + ", ".join(missing or list(BASELINE)) + ".", PROMOTED)


def _deterministic(checklist: dict[str, Any]) -> Criterion:
    required = checklist.get("required_gates")
    gates = required if isinstance(required, dict) else {}
    deterministic = [name for name, entry in gates.items() if isinstance(entry, dict) and _deterministic_entry(entry)]
    return judged(bool(deterministic), "deterministic-gate", G,
                  "at least one required gate is deterministic (a loopgate gate or a command, not a model)",
                  f"{len(deterministic)} of {len(gates)} required gate(s): {', '.join(deterministic)[:200]}"
                  if deterministic else f"{len(gates)} required gate(s), none deterministic",
                  "Add a required gate with `- gate: scope` or `- command: pytest -q` to the checklist.", ALL, weight=2)


def _deterministic_entry(entry: dict[str, Any]) -> bool:
    if entry.get("gate"):
        return True
    return bool(entry.get("command")) and not _MODEL_WORDS.search(str(entry["command"]))


def _decided(data: dict[str, Any]) -> Criterion:
    checks = data.get("checks")
    rows = [c for group in (checks or {}).values() if isinstance(group, list) for c in group
            if isinstance(c, dict)] if isinstance(checks, dict) else []
    open_ = [str(c.get("text", "")) for c in rows if not c.get("checked")]
    if not rows:
        return unmet("readiness-decided", G, "every readiness item is decided", "no loop-readiness.md items",
                     "Write loop-readiness.md (`loopgate init` has a template) and tick what holds.", PROMOTED)
    return judged(not open_, "readiness-decided", G, "every readiness item is decided",
                  f"{len(rows) - len(open_)} of {len(rows)} ticked" + (f"; open: {open_[0][:80]}" if open_ else ""),
                  "Decide each item in loop-readiness.md and tick it (`- [x]`) when it holds.", PROMOTED)


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(k) for k in value] + [s for v in value.values() for s in _flatten(v)]
    if isinstance(value, list):
        return [s for v in value for s in _flatten(v)]
    return []
