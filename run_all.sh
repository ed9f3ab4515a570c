#!/usr/bin/env bash
# The kit's main job: compute every missing result (cached, resumable), then execute the
# RQ1-RQ5 notebooks with papermill into outputs/<profile>/ and write its index page.
#
#   ./run_all.sh [--profile smoke|quick|paper] [--only rq1,rq3] [--device auto|cpu|cuda]
#                [--data-root DIR] [--benchmark auto|nb201,nb301,nb101,nds_resnet,...] [--skip-compute]
#                [--executor serial|dask] [--cluster local[:N]|slurm[:N]] [--scheduler ADDRESS]
#
# With no data root (no --data-root, no $NAS_CORE_DATA) the kit uses its own mini benchmark
# on Fashion-MNIST. Safe to interrupt and rerun: finished work is reused. --executor dask runs
# the compute stage as Dask tasks (several GPUs or nodes; README, section Dask).
set -euo pipefail
cd "$(dirname "$0")"
profile=quick; only=""; device=auto; shard=""; skip=""; executor=serial; cluster=""; scheduler=""; benchmark=""
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run_all.sh: error: $*" >&2; echo "  usage: ./run_all.sh --help" >&2; exit 2; }
# an option that takes a value must have one (not the end of the line, not the next option)
value() { if [ $# -lt 2 ] || [[ "$2" == --* ]] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) value "$@"; profile="$2"; shift 2 ;;
    --only) value "$@"; only="$2"; shift 2 ;;
    --device) value "$@"; device="$2"; shift 2 ;;
    --data-root) value "$@"; export NAS_CORE_DATA="$2"; shift 2 ;;
    --benchmark) value "$@"; benchmark="$2"; shift 2 ;;
    --shard) value "$@"; shard="$2"; shift 2 ;;
    --skip-compute) skip=1; shift ;;
    --executor) value "$@"; executor="$2"; shift 2 ;;
    --cluster) value "$@"; cluster="$2"; shift 2 ;;
    --scheduler) value "$@"; scheduler="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1'" ;;
  esac
done
# Parameter mistakes stop here, before any set-up or work.
case "$profile" in smoke|quick|paper) ;; *) die "unknown profile '$profile' (use smoke, quick or paper)" ;; esac
case "$device" in auto|cpu|cuda|cuda:[0-9]*) ;; *) die "unknown device '$device' (use auto, cpu or cuda)" ;; esac
if [ -n "$only" ]; then
  for rq in ${only//,/ }; do case "$rq" in rq1|rq2|rq3|rq4|rq5) ;; *) die "unknown notebook '$rq' in --only (use rq1..rq5)" ;; esac; done
fi
if [ -n "$shard" ]; then
  die "--shard was replaced by --executor dask (one machine: --executor dask --cluster local; several: --scheduler ADDRESS)"
fi
case "$executor" in serial|dask) ;; *) die "unknown executor '$executor' (use serial or dask)" ;; esac
if [ "$executor" != dask ] && [ -n "$cluster" ]; then die "--cluster needs --executor dask"; fi
if [ "$executor" != dask ] && [ -n "$scheduler" ]; then die "--scheduler needs --executor dask"; fi
if [ -n "$cluster" ] && [ -n "$scheduler" ]; then die "--cluster and --scheduler exclude each other"; fi
if [ -n "$cluster" ] && ! [[ "$cluster" =~ ^(local|slurm)(:[1-9][0-9]*)?$ ]]; then
  die "--cluster takes local[:N] or slurm[:N], e.g. local:4"
fi
if [ -n "${NAS_CORE_DATA:-}" ] && [ ! -d "$NAS_CORE_DATA" ]; then
  die "data root '$NAS_CORE_DATA' is not a folder (fix --data-root / NAS_CORE_DATA, or unset it to use the mini benchmark)"
fi

source scripts/bootstrap.sh
if [ -z "${NAS_CORE_DATA:-}" ]; then
  ensure_fashion_mnist || die "the mini benchmark needs Fashion-MNIST (see the message above)"
fi
export MPLBACKEND=Agg PYTHONHASHSEED=0
args=(--profile "$profile" --device "$device")
[ -n "$only" ] && args+=(--only "$only")
[ -n "$benchmark" ] && args+=(--benchmark "$benchmark")
args+=(--executor "$executor")
[ -n "$cluster" ] && args+=(--cluster "$cluster")
[ -n "$scheduler" ] && args+=(--scheduler "$scheduler")
[ -n "$skip" ] && args+=(--skip-compute)
exec "$PY" -m nas_core run "${args[@]}"
