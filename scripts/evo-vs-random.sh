#!/usr/bin/env bash
# Evolution against random search at an equal trial budget on several seeds:
# one search per (strategy, seed), no final training, then `nasrun pareto`
# compares the runs' accuracy–latency fronts by hypervolume (one reference
# point for all runs). Re-running continues unfinished runs (--resume) and
# skips finished ones, so the comparison survives an interruption.
#
#   scripts/evo-vs-random.sh [OUT_DIR]   (environment: SEEDS, TRIALS, NASRUN, EXTRA)
set -euo pipefail
out="${1:-runs/evo-vs-random}"
seeds="${SEEDS:-1 2 3}"
trials="${TRIALS:-30}"
nasrun="${NASRUN:-bin/nasrun}"
# A smaller proxy than the default search's, so that 6 runs take ~20 minutes
# on 2 cores: 2,000 images at batch 32 (63 steps; at batch 64 the nets stay
# near chance); population and sample as a 30-trial evolution needs them.
flags=(--trials "$trials" --population 8 --sample 3 --proxy-images 2000 --proxy-batch 32 --val-images 1000
  --final-top 0 --references none ${EXTRA:-})
mkdir -p "$out"
dirs=()
for seed in $seeds; do
  for strategy in evolution random; do
    dir="$out/$strategy-seed$seed"
    dirs+=("$dir")
    if [ -e "$dir/report.md" ]; then
      echo "== $dir: finished"
    elif [ -e "$dir/run.json" ]; then
      echo "== $dir: resuming"
      "$nasrun" evolve --resume "$dir"
    else
      echo "== $dir"
      "$nasrun" evolve --strategy "$strategy" --seed "$seed" --out "$dir" "${flags[@]}"
    fi
  done
done
"$nasrun" pareto --trials "$trials" "${dirs[@]}" | tee "$out/pareto.txt"
