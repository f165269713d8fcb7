#!/usr/bin/env bash
# Runs the benchmark's heavy model on the CPU and on CUDA, one after the
# other on this machine, and prints ONNX Runtime's rows/s by batch size and
# the pipeline's events/s for both, with the GPU/CPU ratio.
#
# Needs an NVIDIA GPU (nvidia-smi) and a GPU build of ONNX Runtime:
#   ONNXRUNTIME_LIB=/path/to/libonnxruntime.so.<version>   (with
#     libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
#     beside it, and CUDA 12 and cuDNN 9 on the library path), or
#   scripts/bench-gpu.sh --fetch   to download the official
#     onnxruntime-linux-x64-gpu release of the pinned version.
# Environment: OUT_DIR (default bench-gpu), QUICK=1 for --quick runs,
# SLUICE_BIN (default bin/sluice, built when missing).
# Exit status 2: nothing to measure here (no GPU, no GPU build).
set -euo pipefail

ORT_VERSION=1.30.0
TGZ_URL="https://github.com/microsoft/onnxruntime/releases/download/v${ORT_VERSION}/onnxruntime-linux-x64-gpu-${ORT_VERSION}.tgz"
out=${OUT_DIR:-bench-gpu}
fetch=false
[[ ${1:-} == --fetch ]] && fetch=true

say() { echo "bench-gpu: $*" >&2; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
	say "no NVIDIA GPU here (nvidia-smi is missing or finds none); nothing to measure"
	exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2

lib=${ONNXRUNTIME_LIB:-}
if [[ -z $lib ]]; then
	cache="${XDG_CACHE_HOME:-$HOME/.cache}/sluice/onnxruntime-gpu/${ORT_VERSION}"
	lib="$cache/lib/libonnxruntime.so.${ORT_VERSION}"
	if [[ ! -f $lib ]]; then
		if ! $fetch; then
			say "set ONNXRUNTIME_LIB to a GPU build of ONNX Runtime (libonnxruntime.so with its CUDA provider beside it), or run with --fetch to download $TGZ_URL"
			exit 2
		fi
		mkdir -p "$cache"
		say "downloading $TGZ_URL"
		tmp=$(mktemp)
		trap 'rm -f "$tmp"' EXIT
		curl -fsSL -o "$tmp" "$TGZ_URL"
		say "sha256 $(sha256sum "$tmp" | cut -d' ' -f1) (record it to pin this download)"
		tar -xzf "$tmp" -C "$cache" --strip-components=1
	fi
fi
dir=$(dirname "$lib")
for need in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
	if [[ ! -f $dir/$need ]]; then
		say "$dir has no $need: $lib is not a GPU build of ONNX Runtime"
		exit 2
	fi
done
export ONNXRUNTIME_LIB=$lib
export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

bin=${SLUICE_BIN:-bin/sluice}
if [[ ! -x $bin ]]; then
	make build >&2
fi
mkdir -p "$out"
flags=(--models heavy)
[[ -n ${QUICK:-} ]] && flags+=(--quick)
for provider in cpu cuda; do
	say "running the heavy model on $provider"
	"$bin" bench "${flags[@]}" --provider "$provider" --json "$out/$provider.json" | tee "$out/$provider.md"
done

python3 - "$out/cpu.json" "$out/cuda.json" <<'EOF' | tee "$out/compare.md"
import json, sys
cpu = json.load(open(sys.argv[1]))["heavy"]
gpu = json.load(open(sys.argv[2]))["heavy"]
print(f"heavy model, {cpu['cpu']}; CPU run provider {cpu['provider']}, GPU run provider {gpu['provider']}\n")
print("| figure | cpu | cuda | cuda / cpu |")
print("| --- | --- | --- | --- |")
def row(name, a, b):
    print(f"| {name} | {a:,.0f} | {b:,.0f} | {b / a if a else float('nan'):.2f}× |")
for batch in sorted(cpu["raw_rows_per_s_by_batch"], key=int):
    row(f"raw ONNX Runtime, batch {batch} (rows/s)", cpu["raw_rows_per_s_by_batch"][batch], gpu["raw_rows_per_s_by_batch"][batch])
row("pipeline, default batching (events/s)", cpu["pipeline_events_per_s"], gpu["pipeline_events_per_s"])
row("pipeline, batch 1 (events/s)", cpu["pipeline_batch1_events_per_s"], gpu["pipeline_batch1_events_per_s"])
EOF
if ! grep -q '"provider": "cuda"' "$out/cuda.json"; then
	say "the cuda run fell back to the CPU (see its log line above); the comparison is CPU against CPU"
	exit 1
fi
