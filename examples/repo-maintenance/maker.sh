#!/bin/sh
# A scripted stand-in for the coding agent, so the example runs end to end offline
# (`loopgate run examples/repo-maintenance`, in shadow mode: the draft stays on a local branch).
# loopgate runs it in the item's own git worktree, with the item in LOOPGATE_* variables and
# the rendered prompt in $LOOPGATE_PROMPT_FILE. A real loop names its agent under `## Roles`, e.g.
#   - maker command: claude -p "$(cat "$LOOPGATE_PROMPT_FILE")" --permission-mode acceptEdits --output-format stream-json --verbose
# (README: "the maker examples").
echo "maker: stand-in for a coding agent; item $LOOPGATE_ITEM_ID, attempt $LOOPGATE_ATTEMPT"
case "$LOOPGATE_ITEM_ID" in
  MT-121)
    # The change an agent would draft: a note in the codes reference, inside the allowed paths.
    printf '\n<!-- MT-121: anchors checked against the headings above -->\n' >> docs/codes.md ;;
  *) echo "maker: the stand-in has no change for $LOOPGATE_ITEM_ID" ;;
esac
# Agents may report what they spent; loopgate also reads Claude Code and Codex JSON output.
printf '{"tool_calls": 1, "input_tokens": 900, "output_tokens": 120, "cost_usd": 0.0}\n' > "$LOOPGATE_USAGE_FILE"
