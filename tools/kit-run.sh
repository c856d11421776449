#!/bin/sh
# mnist-speedrun GPU kit, written by `npm run kit`: step 8 on WebGPU, the bench's step-8 line (wasm,
# on this machine's CPU), then PyTorch's step 8 on CUDA where python3 has torch with CUDA.
# Needs only sh, tar and gzip: Node 24, the bundled CLI, Dawn, the Vulkan loader and MNIST are here.
# No network is used. Results go to $OUT if set, else ./out: one JSON file per part, summary.json
# and kit.log.
#
# Usage: sh run.sh [--runs N] [--quick] [--no-warm-up] [--no-bench] [--no-pytorch]
#   --runs N      timed WebGPU runs of step 8, seeds 1..N (default 5)
#   --quick       the CLI's quick mode: 2,048 training and 512 test images (a check, not a timing)
#   --no-warm-up  no untimed warm-up run before the WebGPU runs (the CLI's --no-warm-up)
#   --no-bench    skip the bench's step-8 line (wasm on the CPU)
#   --no-pytorch  skip PyTorch
set -u
kit=$(cd "$(dirname "$0")" && pwd)
runs=5
quick=
warm_up=
bench=1
pytorch=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2-}; shift; [ $# -gt 0 ] && shift ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    --quick) quick=--quick; shift ;;
    --no-warm-up) warm_up=--no-warm-up; shift ;;
    --no-bench) bench=; shift ;;
    --no-pytorch) pytorch=; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1': use --runs N, --quick, --no-warm-up, --no-bench or --no-pytorch" >&2; exit 2 ;;
  esac
done
case $runs in '' | *[!0-9]* | 0) echo "run.sh: --runs '$runs' is not allowed: use a whole number from 1" >&2; exit 2 ;; esac

out=${OUT:-$PWD/out}
mkdir -p "$out" || { echo "run.sh: cannot create the output folder $out: set OUT to a writable folder" >&2; exit 6; }
out=$(cd "$out" && pwd)
log=$out/kit.log
: >"$log"
say() { printf '%s\n' "$*" | tee -a "$log" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-speedrun-kit.XXXXXX") || { echo "run.sh: mktemp failed: set TMPDIR to a writable folder" >&2; exit 1; }
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
node=$work/node
app=$work/app
gzip -dc "$kit/node.gz" >"$node" && chmod 755 "$node" && tar -xzf "$kit/app.tar.gz" -C "$work" ||
  { say "run.sh: unpacking node.gz and app.tar.gz into $work failed: is the kit complete (see MANIFEST.txt)?"; exit 1; }
"$node" --version >/dev/null 2>&1 ||
  { say "run.sh: $node does not run (is $work on a noexec mount?): set TMPDIR to a folder that allows programs"; exit 1; }

# The machine, as the results' context
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "kernel: $(uname -srm)"
  echo "cpu:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(grep -c '^processor' /proc/cpuinfo) logical cores"
  echo "memory: $(grep -m1 MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2-)"
  echo "node: $("$node" --version)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
  else
    echo "gpu: no nvidia-smi"
  fi
} >"$out/machine.txt"
tee -a "$log" <"$out/machine.txt" >&2
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >>"$log" 2>&1

# Vulkan: the kit's loader; the driver's ICD file where the system has one, else one written for
# NVIDIA's library when only that library is present (containers often mount it without the file)
export LD_LIBRARY_PATH="$app/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] &&
  ! ls /etc/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json /usr/local/share/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  glx=
  for dir in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/lib /usr/local/lib; do
    [ -e "$dir/libGLX_nvidia.so.0" ] && { glx=$dir/libGLX_nvidia.so.0; break; }
  done
  if [ -n "$glx" ]; then
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3"}}\n' "$glx" >"$work/nvidia_icd.json"
    export VK_ICD_FILENAMES="$work/nvidia_icd.json" VK_DRIVER_FILES="$work/nvidia_icd.json"
    say "vulkan: no NVIDIA ICD file on this system; using $glx through $work/nvidia_icd.json"
  elif command -v nvidia-smi >/dev/null 2>&1; then
    say "vulkan: no NVIDIA ICD file and no libGLX_nvidia.so.0: the driver's Vulkan part is not installed or not mounted"
  fi
fi

# The CLI's settings: MNIST from the kit, never downloaded; its ledger in the output folder
export MNIST_DIR="$kit/mnist" MNIST_SPEEDRUN_MIRRORS= MNIST_SPEEDRUN_LEDGER="$out/ledger" XDG_CACHE_HOME="$work/cache"
cd "$app" || exit 1

say "== step 8 on WebGPU: train --step 8 --backend webgpu --json --runs $runs $quick $warm_up"
"$node" main.mjs train --step 8 --backend webgpu --json --runs "$runs" $quick $warm_up >"$out/train-webgpu.jsonl" 2>>"$log"
train_status=$?
say "train exit code: $train_status"

bench_status=skipped
if [ -n "$bench" ]; then
  cores=$(grep -c '^processor' /proc/cpuinfo)
  say "== the bench's step-8 line: wasm, tuned kernels, $cores threads (at most 8), full MNIST"
  "$node" variant.mjs "{\"kind\":\"step08\",\"backend\":\"wasm\",\"threads\":$cores,\"tunedKernels\":true}" >"$out/bench-step08-wasm.json" 2>>"$log"
  bench_status=$?
  say "bench exit code: $bench_status"
fi

pytorch_status=skipped
if [ -n "$pytorch" ]; then
  script=$kit/pytorch_reference.py
  if ! command -v python3 >/dev/null 2>&1; then
    say "== PyTorch skipped: no python3"
  elif ! python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >>"$log" 2>&1; then
    say "== PyTorch skipped: python3 has no torch with CUDA here (see the log)"
  else
    say "== PyTorch step 8 on CUDA: pytorch_reference.py"
    TORCH_DEVICE=cuda python3 "$script" "$kit/step08-recipe.json" >"$out/pytorch-step08-cuda.json" 2>>"$log"
    pytorch_status=$?
    say "pytorch exit code: $pytorch_status"
    # the script reports where it trained: a time that is not a CUDA time is never passed off as one
    [ "$pytorch_status" -eq 0 ] && ! grep -q '"device": "cuda' "$out/pytorch-step08-cuda.json" &&
      say "pytorch: pytorch_reference.py did not report \"device\": \"cuda\"; its time is not a CUDA time"
  fi
fi

"$node" summary.mjs "$out" "$train_status" "$bench_status" "$pytorch_status" >"$out/summary.json" 2>>"$log"
tee -a "$log" <"$out/summary.json" >&2
say "results in $out"
exit "$train_status"
