#!/bin/sh
# A full shadow run of the example loop in a throwaway git repository: no agent, no network.
# Usage: sh examples/shadow-loop/try.sh   (with `loopgate` on PATH)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-shadow.XXXXXX")
cp -R "$here/repo/." "$work/"
cd "$work"
git init -q -b main
git add -A
git -c user.name=loopgate-example -c user.email=example@localhost commit -qm "example repository"
echo "== loopgate run (in $work)"
status=0
loopgate run .loop || status=$?
echo
echo "== loopgate status"
loopgate status .loop
echo
echo "state:  $work/.loop/LOOP_STATE.md"
echo "report: $(ls "$work"/.loop/runs/*.json)"
echo "branch: git -C $work diff main loop/DOC-1"
# 3 = escalations pending: INFRA-2 and AUTH-3 are meant to need a human.
[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
