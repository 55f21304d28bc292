#!/usr/bin/env bash
# Run a fixed set of CLI commands with fixed seeds on the built-ins and keep every output
# (stdout and the files written), so two builds can be compared byte for byte:
#
#   scripts/cli-outputs.sh BINARY OUTDIR      then   diff -r OUTDIR_A OUTDIR_B
#
# Used when restructuring code that must not change results (the CLI's outputs are part of
# the project's contract). stderr is not kept: progress lines depend on timing.
set -euo pipefail
bin=$(realpath "$1"); out=$2
rm -rf "$out"; mkdir -p "$out"; cd "$out"
run() { local name=$1; shift; "$bin" "$@" > "$name.stdout" 2>/dev/null || echo "exit $?" >> "$name.stdout"; }

run opt-toy2d optimize toy2d --measure cka --seed 0 --watch nbs procrustes-angular-score --out opt-toy2d --svg
run opt-hats optimize hatsopoulos2007 --measure cka --steps 150 --seed 3 --decode-every 25 --out opt-hats
run opt-golub optimize golub2018 --measure procrustes-angular-score --steps 60 --watch cka --out opt-golub
run opt-ultra optimize ultrametric --measure procrustes-euclidean --steps 40 --stop none --snapshot-every 10 --out opt-ultra
run opt-ctx optimize context-integration --measure nbs --steps 20 --pc-every 5 --decode-every 10 --out opt-ctx
run opt-sgd optimize toy2d --measure rsa-correlation-pearson --optimizer sgd --lr 0.5 --steps 30 --out opt-sgd
run cal-toy2d calibrate toy2d --measure cka nbs --seeds 2 --out cal-toy2d
run cal-hats calibrate hatsopoulos2007 --measure procrustes-angular-score --seeds 1 --steps 120 --out cal-hats
run joint-toy2d joint toy2d --a cka --b nbs --per-side 3 --steps 40 --out joint-toy2d
run joint-ultra joint ultrametric --a cka --b procrustes-angular-score --per-side 3 --steps 25 --seed 2 --out joint-ultra
run pert-one perturb ultrametric --pc 3 --angle 45 --scale 0.5
run pert-sweep perturb hatsopoulos2007 --sweep --out pert-sweep.csv --max-pcs 8
run prune-demo prune prune-demo-mit --target-rdm kriegeskorte2008-mit --out prune-demo
run prune-cat prune prune-categories-hit --target-rdm kriegeskorte2008-hit --method forward --compare spearman --out prune-cat
run measures measures --json
run datasets datasets --json
run info info toy2d
echo "wrote $(find . -type f | wc -l) files to $out"
