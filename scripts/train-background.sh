#!/usr/bin/env bash
# Runs `cm3leon train ARGS...` in the background in its own process group, so a long run survives
# the shell that started it and can be stopped as a whole (the trainer and anything it spawns).
#
#   bash scripts/train-background.sh RUN_DIR [train options...]    # starts; --run RUN_DIR is added
#   kill -- -"$(cat RUN_DIR/trainer.pid)"                           # stops the whole group
#
# The log goes to RUN_DIR/train.log (appended, so a resumed run keeps its history). A second
# trainer is refused while RUN_DIR/trainer.pid names a live process group: two trainers must never
# write one run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir="${1:?usage: train-background.sh RUN_DIR [train options...]}"
shift
mkdir -p "$run_dir"
pid_file="$run_dir/trainer.pid"
if [[ -f "$pid_file" ]] && kill -0 -- "-$(cat "$pid_file")" 2>/dev/null; then
  echo "train-background: a trainer (process group $(cat "$pid_file")) is already running in $run_dir" >&2
  exit 1
fi
echo "=== $(date -u +%FT%TZ) cm3leon train --run $run_dir $*" >> "$run_dir/train.log"
setsid node dist/src/cli/main.js train --run "$run_dir" "$@" >> "$run_dir/train.log" 2>&1 < /dev/null &
# With setsid the child leads its own group: its pid is the group id.
echo $! > "$pid_file"
echo "train-background: started process group $! in $run_dir (log: $run_dir/train.log)"
