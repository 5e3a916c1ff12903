"""The registry of finding codes.

A code is a promise: it never changes meaning, so users can select, ignore and look it up.
`loopgate explain CODE`, the README's code table and the tests all read this one table.

This module defines the core's codes (the artifacts: LG0xx-LG3xx); every gate module defines its
own when imported, and the table fills as they are. Nothing here imports upward: the whole table
is collected where the gate registry lives (`loopgate.gates.registry.all_codes()`), which imports
every gate.
"""

from __future__ import annotations

from loopgate.findings import Finding, Severity
from loopgate.records import record


@record(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    hint: str
    # Input errors (the file could not be read as an artifact at all) exit 2, not 1.
    input_error: bool = False

    def at(self, path: str, line: int, column: int, message: str, hint: str | None = None) -> Finding:
        return Finding(
            path=path,
            line=max(line, 1),
            column=max(column, 1),
            code=self.code,
            severity=self.severity,
            message=message,
            hint=hint if hint is not None else self.hint,
        )


REGISTRY: dict[str, Code] = {}


def define(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    explanation: str,
    hint: str,
    *,
    input_error: bool = False,
) -> Code:
    entry = Code(code, name, severity, summary, explanation.strip(), hint, input_error)
    if code in REGISTRY:  # pragma: no cover - guards the table itself
        raise ValueError(f"duplicate finding code {code}")
    REGISTRY[code] = entry
    return entry


E, W = Severity.ERROR, Severity.WARNING

# -- LG0xx: the input could not be read as an artifact (exit 2) --------------------------------
PATH_NOT_FOUND = define(
    "LG001", "path-not-found", E, "A path given on the command line does not exist.",
    "loopgate was asked to check a file or directory that is not there. Nothing is checked for it.",
    "Check the spelling, or run from the directory that holds the loop.", input_error=True,
)
UNREADABLE = define(
    "LG002", "unreadable", E, "A file could not be read.",
    "The operating system refused to read the file (permissions, a directory where a file was "
    "expected, a broken symlink), or it is not a regular file at all (a FIFO or a device, which "
    "loopgate never opens: reading one could block forever). A symlink (or a symlinked directory "
    "on the way) that leads out of the repository is not followed: another checkout's spec or "
    "/etc/passwd is not this loop's artifact.",
    "Make the file readable by the user running loopgate; where a symlink leads out of the "
    "repository, put the file itself there (or a symlink to a file inside the repository).", input_error=True,
)
NOT_UTF8 = define(
    "LG003", "not-utf8", E, "A file is not valid UTF-8 text.",
    "Loop artifacts are markdown and must be UTF-8. The line and column point at the first byte "
    "that does not decode.",
    "Re-save the file as UTF-8.", input_error=True,
)
BINARY = define(
    "LG004", "binary", E, "A file looks binary (it contains NUL bytes).",
    "A markdown artifact never contains NUL bytes; the file is probably not what its name says.",
    "Point loopgate at the markdown artifact, not at a binary file.", input_error=True,
)
TOO_LARGE = define(
    "LG005", "too-large", E, "A file is larger than loopgate reads.",
    "Artifacts are small, human-reviewed files. loopgate refuses files over 2 MiB rather than spend "
    "seconds parsing something that cannot be a loop artifact.",
    "Split the file, or check that the path is right.", input_error=True,
)
UNKNOWN_ARTIFACT = define(
    "LG006", "unknown-artifact", E, "A file given by name is not a loop artifact.",
    "A file is recognised by its name (LOOP_SPEC.md, LOOP_STATE.md, quality-gate-checklist.md, "
    "escalation-policy.md, loop-readiness.md) or by its title (`# Loop Spec: ...`, `# Loop State: ...`, "
    "`# Quality Gate Checklist: ...`, `# Escalation Policy: ...`, `# Loop Readiness: ...`).",
    "Rename the file to an artifact name, or give it a title such as `# Loop Spec: My Loop`.",
    input_error=True,
)

# -- LG1xx: document structure ---------------------------------------------------------------
MISSING_SPEC = define(
    "LG101", "missing-spec", E, "A loop directory has no LOOP_SPEC.md.",
    "The spec is the one artifact a loop cannot do without: it says what work may enter the loop "
    "and when the loop must stop.",
    "Run `loopgate init DIR --name \"...\"` to write a starting set, or add LOOP_SPEC.md.",
)
MISSING_ARTIFACT = define(
    "LG102", "missing-artifact", W, "An optional artifact is missing from a loop directory.",
    "Besides the spec, a loop directory should hold LOOP_STATE.md, quality-gate-checklist.md, "
    "escalation-policy.md and loop-readiness.md. Without them the cross-file checks cannot run.",
    "Run `loopgate init DIR --name \"...\"` in an empty directory to see a complete set.",
)
EMPTY_FILE = define(
    "LG103", "empty-file", E, "An artifact file is empty.",
    "An empty artifact defines nothing; it is almost always a file created and never filled in.",
    "Fill it in (see `loopgate init`) or delete it.",
)
MISSING_TITLE = define(
    "LG104", "missing-title", W, "An artifact has no `#` title naming the loop.",
    "Each artifact starts with a title such as `# Loop Spec: Repository Maintenance Triage`, which "
    "names the loop and lets loopgate recognise the file whatever it is called.",
    "Add a first line like `# Loop Spec: <loop name>`.",
)
MISSING_SECTION = define(
    "LG105", "missing-section", E, "A required `##` section is missing.",
    "A spec needs Purpose, Trigger, Work Selection Rules, Budgets and Stop Conditions; an escalation "
    "policy needs Always Escalate; a state file needs Current Run.",
    "Add the section as a `## Heading` (case, spaces, `-` and `_` do not matter).",
)
DUPLICATE_SECTION = define(
    "LG106", "duplicate-section", E, "A section or entry heading appears twice.",
    "Two sections with the same name (or two `###` entries with the same id, or a gate named under "
    "both Required and Advisory Gates, in any case) make the artifact ambiguous: a reader cannot tell "
    "which one the loop obeys.",
    "Merge the two sections, or rename one.",
)
EMPTY_SECTION = define(
    "LG107", "empty-section", E, "A section has no content loopgate can read.",
    "The section exists but holds nothing of the form it needs (text, `key: value` bullets, a list "
    "or `###` entries).",
    "Fill in the section, or remove it if it is optional.",
)
MISPLACED_CONTENT = define(
    "LG108", "misplaced-content", W, "Content sits where loopgate does not read it.",
    "A `###` heading before the first `##` section, or content in a section of `###` entries that "
    "sits outside any entry, is ignored by the checks. (Prose under the `#` title is fine: it "
    "introduces the artifact.) It is a warning because it may be a heading at the wrong level.",
    "Move the content under the right `##` section, or fix the heading level.",
)
NOT_A_FIELD = define(
    "LG109", "not-a-field", E, "A bullet in a `key: value` section has no key.",
    "Sections such as Budgets, Current Run and work items are read as `- key: value` bullets; a "
    "bullet without a colon cannot be read.",
    "Write the bullet as `- key: value`.",
)
DUPLICATE_KEY = define(
    "LG110", "duplicate-key", E, "A key is given twice in the same place.",
    "Two bullets set the same key (e.g. two `max iterations`); loopgate will not guess which wins.",
    "Keep one of the two bullets.",
)
UNNAMED_LIST = define(
    "LG111", "unnamed-list", E, "A list in Work Selection Rules does not say what it is for.",
    "Work Selection Rules holds two lists: what the loop may select, and what it must skip and "
    "escalate. Each list is introduced by a line such as `The loop may select work only when:` or "
    "`The loop must skip and escalate when:`, or sits under a `### May Select` / `### Must Skip And "
    "Escalate` heading.",
    "Put `The loop may select work only when:` or `The loop must skip and escalate when:` above the list.",
)
NO_REQUIRED_GATE = define(
    "LG112", "no-required-gate", W, "The quality-gate checklist has no required gate.",
    "Without a required gate nothing decides that work is done: the maker would get the final vote.",
    "Add at least one entry under `## Required Gates`.",
)

# -- LG2xx: values and schema ----------------------------------------------------------------
REQUIRED_FIELD = define(
    "LG201", "required-field", E, "A required key is missing.",
    "The schema of this artifact requires the key (e.g. every budget: max iterations, max tool calls "
    "per iteration, max runtime, max pull requests per run).",
    "Add the missing `- key: value` bullet.",
)
WRONG_TYPE = define(
    "LG202", "wrong-type", E, "A value is not of the kind the key needs.",
    "Counters and budgets are whole numbers, flags are yes/no, names and reasons are text.",
    "Write the value as the kind the message names, e.g. `- max iterations: 3`.",
)
BAD_DURATION = define(
    "LG203", "bad-duration", E, "A value that must be a duration is not one.",
    "Durations are written with units: `30 minutes`, `90s`, `1h 30m`, `2 hours`, `45 min`. A bare "
    "number is refused because a runtime budget in the wrong unit is a budget off by 60x.",
    "Write the duration with a unit, e.g. `30 minutes`.",
)
BAD_MONEY = define(
    "LG204", "bad-money", E, "A value that must be an amount of money is not one.",
    "Money is written as `$5`, `$2.50`, `5 USD` or `3 EUR`.",
    "Write the amount with its currency, e.g. `$5` or `5 USD`.",
)
OUT_OF_RANGE = define(
    "LG205", "out-of-range", E, "A number is outside its allowed range.",
    "Budgets must be positive (a budget of 0 never lets the loop run); counters must not be negative.",
    "Use a positive number for budgets and zero or more for counters.",
)
INVALID_CHOICE = define(
    "LG206", "invalid-choice", E, "A value is not one of the allowed words.",
    "Some keys take one of a fixed set of words: rollout modes (shadow, draft-pr, pr), item statuses "
    "(pending, selected, in-progress, drafted, pr-opened, done, escalated, failed, skipped), gate "
    "results (passed, failed, error, skipped, pending). `_` and `-` are alike.",
    "Use one of the words listed in the message.",
)
UNKNOWN_KEY = define(
    "LG207", "unknown-key", E, "A key is not one this section knows.",
    "In closed sections (Budgets, Rollout, gate entries) an unknown key is almost always a typo, and "
    "a misspelt budget is a budget nobody enforces.",
    "Fix the spelling (the message suggests the closest known key), or remove the bullet.",
)
SCHEMA_VIOLATION = define(
    "LG208", "schema-violation", E, "The artifact does not match its schema.",
    "A rule of the artifact's JSON schema that has no more specific code failed. "
    "`loopgate schema NAME` prints the schema.",
    "Read the message; `loopgate schema` shows what is allowed.",
)
DUPLICATE_ITEM = define(
    "LG209", "duplicate-item", E, "Two work items in the state share an id.",
    "Item ids are unique within a state file; the loop keys its memory of attempts and escalations "
    "by id, so a duplicate would merge two items' histories.",
    "Give each `###` item its own id, or merge the two entries.",
)

# -- LG3xx: checks across the artifacts of one loop --------------------------------------------
COUNTER_OVER_BUDGET = define(
    "LG301", "counter-over-budget", E, "A state counter exceeds the spec's budget.",
    "The state records more than the spec allows (e.g. opened_pull_requests above max pull requests "
    "per run): the loop broke its budget, or the budget was lowered after the run.",
    "Investigate the run; raise the budget in LOOP_SPEC.md only on purpose.",
)
MODE_NOT_ALLOWED = define(
    "LG302", "mode-not-allowed", E, "The state's mode is beyond what the spec allows.",
    "Modes go shadow -> draft-pr -> pr. The state ran in a mode past the spec's rollout mode, i.e. with "
    "more authority than the spec grants.",
    "Run the loop in the spec's mode, or raise the spec's `## Rollout` mode on purpose.",
)
UNKNOWN_GATE = define(
    "LG303", "unknown-gate", E, "The state records a gate the checklist does not define.",
    "Every gate result in LOOP_STATE.md must come from a gate in quality-gate-checklist.md; a result "
    "for an unknown gate cannot have been produced by the checker.",
    "Add the gate to the checklist, or fix the gate's name in the state.",
)
GATE_ONLY_IN_PROSE = define(
    "LG304", "gate-only-in-prose", W, "The spec names a gate the checklist does not define.",
    "The spec's `## Gates` section lists a gate that has no entry (command or built-in gate) in the "
    "quality-gate checklist, so nothing will run it: it exists only in prose.",
    "Add a `###` entry for the gate to quality-gate-checklist.md.",
)
READINESS_UNDECIDED = define(
    "LG305", "readiness-undecided", W, "A readiness item is not decided.",
    "Every item of loop-readiness.md should be ticked (`- [x]`) once it holds. An unticked item means "
    "the work is not yet shown to be ready for automation.",
    "Tick the item when it holds; until then the loop may run in shadow mode only.",
)
NOT_READY_FOR_MODE = define(
    "LG306", "not-ready-for-mode", E, "The spec's rollout mode needs a passing readiness audit.",
    "Only shadow mode may run while loop-readiness.md has unticked items: draft-pr and pr modes act on "
    "shared systems.",
    "Set `- mode: shadow` in `## Rollout`, or finish the readiness audit.",
)


# -- LG87x: spend budgets no run could enforce as written --------------------------------------
CURRENCY_NOT_REPORTED = define(
    "LG871", "currency-not-reported", E, "A money budget is in a currency no agent reports.",
    "Agents report cost in USD (Claude Code's total_cost_usd); a `max cost: 20 EUR` compared with "
    "USD figures would be off by the exchange rate, so `loopgate run` refuses it unless the spec "
    "gives a rate that converts it.",
    "Write the budget in USD, or add `- exchange rate: 1 EUR = 1.08 USD` under ## Budgets.",
)
PRICE_PAIR_INCOMPLETE = define(
    "LG872", "price-pair-incomplete", E, "A token price is given without its pair.",
    "Tokens are charged at `price per million input tokens` and `price per million output tokens`; "
    "with one of them only, output (or input) tokens would be free and the cost budget too lax.",
    "Give both prices under ## Budgets.",
)
UNPRICED_TOKEN_MAKER = define(
    "LG873", "unpriced-token-maker", E, "A cost budget for a maker that reports tokens and no price.",
    "Codex reports tokens per turn and never a cost, so `max cost` could never trip; `loopgate run` "
    "refuses to start until the spec gives per-million-token prices (fail closed).",
    "Add `- price per million input tokens: $N` and `- price per million output tokens: $N` "
    "under ## Budgets (your model's list prices), or remove `max cost`.",
)


def codes_markdown(entries: list[Code]) -> str:
    """The finding-code reference as markdown; docs/codes.md is this text for every code
    (`loopgate.gates.registry.all_codes()`)."""
    chosen = entries
    out = [
        "# loopgate finding codes",
        "",
        "Generated by `loopgate explain --format markdown`; do not edit by hand.",
        "Codes never change meaning. LG0xx: the input could not be read (exit 2). LG1xx: document",
        "structure. LG2xx: values and schema. LG3xx: checks across the artifacts of one loop.",
        "LG4xx and up: the gates (`loopgate gate NAME`, `loopgate check`).",
        "",
        "| code | name | severity | summary |",
        "|---|---|---|---|",
    ]
    out += [f"| [{e.code}](#{e.code.lower()}) | {e.name} | {e.severity.value} | {e.summary} |" for e in chosen]
    for e in chosen:
        out += ["", f"## {e.code}", "", f"**{e.name}** ({e.severity.value}). {e.summary}", "", e.explanation,
                "", f"Fix: {e.hint}"]
    return "\n".join(out) + "\n"
