#!/bin/sh
# A scripted stand-in for a coding agent. loopgate runs it in the item's own git worktree
# with the item in LOOPGATE_* variables and a rendered prompt in $LOOPGATE_PROMPT_FILE.
# A real loop would run e.g.
#   claude -p "$(cat "$LOOPGATE_PROMPT_FILE")" --permission-mode acceptEdits --output-format stream-json --verbose
echo "maker: item $LOOPGATE_ITEM_ID, attempt $LOOPGATE_ATTEMPT"
case "$LOOPGATE_ITEM_ID" in
  DOC-1) sed -i.bak 's/(faq.md)/(questions.md)/' docs/guide.md && rm -f docs/guide.md.bak ;;
  *) echo "maker: nothing to do for $LOOPGATE_ITEM_ID" ;;
esac
# Agents may report what they spent; loopgate also reads Claude Code and Codex JSON output.
printf '{"tool_calls": 2, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.01}\n' > "$LOOPGATE_USAGE_FILE"
echo "maker: all tests pass"
