#!/bin/bash
# Submits a sweep without the service as a Slurm job array: one array task per point
# (wafersim-array.sbatch runs `wafersim run` on it), then a gather step (wafersim-gather.py) that
# starts when every task has ended and writes OUT/table.csv. See docs/deploy.md, Slurm.
#
#   deploy/slurm/wafersim-array-submit.sh --out runs/lps --grid params.lps=1024,4096 \
#       --grid simulation.seed=1,2,3 examples/phold.yaml
#   deploy/slurm/wafersim-array-submit.sh --out runs/mine --points my-points.txt scenario.yaml -- --nodes 2
#
# Options:
#   --grid KEY=V1,V2,...   every value (repeatable: the cartesian product, keys in sorted order and
#                          the last one fastest, the order of `wafersim sweep --grid`)
#   --points FILE          the points instead, one per line as key=value;key=value
#   --out DIR              the results folder on shared storage (required; created)
#   --concurrency N        at most N array tasks at once
#   --sbatch-arg ARG       an sbatch option for the array and the gather step (repeatable:
#                          --sbatch-arg=--partition=short)
#   --wait                 wait for the gather step and exit with its status (0: every point succeeded)
#   -- ...                 the rest goes to each `wafersim run` (--nodes 2, --set k=v, ...)
# Prints the array's and the gather step's job ids.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

grids=() points_file="" out="" concurrency="" wait_flag="" scenario="" sbatch_args=() run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --grid) grids+=("$2"); shift 2 ;;
    --grid=*) grids+=("${1#--grid=}"); shift ;;
    --points) points_file=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --sbatch-arg) sbatch_args+=("$2"); shift 2 ;;
    --sbatch-arg=*) sbatch_args+=("${1#--sbatch-arg=}"); shift ;;
    --wait) wait_flag=--wait; shift ;;
    --) shift; run_args=("$@"); break ;;
    -h|--help) usage ;;
    -*) echo "wafersim-array-submit: unknown option $1" >&2; usage ;;
    *) [ -z "$scenario" ] || usage; scenario=$1; shift ;;
  esac
done
if [ -z "$scenario" ] || [ -z "$out" ]; then usage; fi
if [ ${#grids[@]} -gt 0 ] && [ -n "$points_file" ]; then
  echo "wafersim-array-submit: give --grid or --points, not both" >&2
  exit 2
fi
scenario=$(realpath "$scenario")
mkdir -p "$out"
out=$(realpath "$out")

# points.txt: the given file, or the grid's cartesian product.
if [ -n "$points_file" ]; then
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$points_file" >"$out/points.txt" || true
else
  [ ${#grids[@]} -gt 0 ] || { echo "wafersim-array-submit: no --grid and no --points" >&2; exit 2; }
  mapfile -t sorted < <(printf '%s\n' "${grids[@]}" | LC_ALL=C sort -t= -k1,1)
  expand() {  # expand PREFIX GRID_INDEX: every point from grid GRID_INDEX on, after PREFIX
    local prefix=$1 i=$2
    if [ "$i" -ge ${#sorted[@]} ]; then
      printf '%s\n' "$prefix"
      return
    fi
    local key=${sorted[$i]%%=*} values value
    IFS=',' read -r -a values <<<"${sorted[$i]#*=}"
    for value in "${values[@]}"; do
      expand "${prefix:+$prefix;}$key=$value" $((i + 1))
    done
  }
  expand "" 0 >"$out/points.txt"
fi
count=$(wc -l <"$out/points.txt")
[ "$count" -gt 0 ] || { echo "wafersim-array-submit: no points" >&2; exit 2; }

range="0-$((count - 1))${concurrency:+%$concurrency}"
array_id=$(sbatch --parsable --array="$range" --output="$out/slurm-%A_%a.out" "${sbatch_args[@]}" \
  "$here/wafersim-array.sbatch" "$scenario" "$out/points.txt" "$out" "${run_args[@]}")
array_id=${array_id%%;*}
echo "wafersim-array-submit: $count points in array job $array_id, results in $out"
gather=$(printf '%q ' python3 "$here/wafersim-gather.py" "$out")
gather_id=$(sbatch --parsable $wait_flag --dependency="afterany:$array_id" --job-name=wafersim-gather \
  --ntasks=1 --output="$out/gather-%j.out" "${sbatch_args[@]}" --wrap="$gather") || status=$?
echo "wafersim-array-submit: gather job ${gather_id%%;*} writes $out/table.csv"
if [ -n "$wait_flag" ]; then
  cat "$out"/gather-*.out 2>/dev/null || true
  exit "${status:-0}"
fi
