#!/usr/bin/env bash
# Runs the benchmark's heavy model on the CPU and on CUDA, one after the
# other on this machine with the same ONNX Runtime library, and prints ONNX
# Runtime's rows/s by batch size and the pipeline's events/s for both, with
# the GPU/CPU ratio.
#
# Needs an NVIDIA GPU (nvidia-smi) and a GPU build of ONNX Runtime:
#   ONNXRUNTIME_LIB=/path/to/libonnxruntime.so   with
#     libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
#     beside it, or
#   the build scripts/fetch-onnxruntime-gpu.sh installed (ONNX Runtime 1.29.0,
#     CUDA 13, cuDNN 9), used when it is in the cache, or
#   --fetch       run scripts/fetch-onnxruntime-gpu.sh first (npm), or
#   --from DIR    the same with the packages' files copied over by hand.
# The CUDA libraries are looked for on LD_LIBRARY_PATH, in NVIDIA's Python
# packages (site-packages/nvidia/*/lib, added to LD_LIBRARY_PATH) and by
# ldconfig. --check stops after saying what was found.
# Environment: OUT_DIR (default bench-gpu), QUICK=1 for --quick runs,
# SLUICE_BIN (default bin/sluice, built when missing).
# Exit status 2: nothing to measure here (no GPU, no GPU build, missing
# CUDA libraries).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out=${OUT_DIR:-bench-gpu}
fetch=() check=false
while [[ $# -gt 0 ]]; do
	case $1 in
	--fetch) fetch=(--fetch) ;;
	--from)
		fetch=(--from "${2:?--from needs a directory}")
		shift
		;;
	--check) check=true ;;
	*)
		echo "usage: $0 [--fetch | --from DIR] [--check]" >&2
		exit 1
		;;
	esac
	shift
done

say() { echo "bench-gpu: $*" >&2; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
	say "no NVIDIA GPU here (nvidia-smi is missing or finds none); nothing to measure"
	exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2

lib=${ONNXRUNTIME_LIB:-}
if [[ -z $lib ]]; then
	cached="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/onnxruntime-gpu/1.29.0/libonnxruntime.so"
	if [[ ${#fetch[@]} -gt 0 ]]; then
		if [[ ${fetch[0]} == --fetch ]]; then
			lib=$("$here/fetch-onnxruntime-gpu.sh")
		else
			lib=$("$here/fetch-onnxruntime-gpu.sh" "${fetch[@]}")
		fi
	elif [[ -f $cached ]]; then
		lib=$cached
	else
		say "set ONNXRUNTIME_LIB to a GPU build of ONNX Runtime (libonnxruntime.so with its CUDA provider beside it), or run with --fetch (scripts/fetch-onnxruntime-gpu.sh, npm) or --from DIR (its files copied over by hand)"
		exit 2
	fi
fi
dir=$(dirname "$lib")
for need in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
	if [[ ! -f $dir/$need ]]; then
		say "$dir has no $need: $lib is not a GPU build of ONNX Runtime"
		exit 2
	fi
done

# NVIDIA's Python packages (nvidia-cuda-runtime, nvidia-cublas, nvidia-cudnn,
# ...) each keep their libraries in site-packages/nvidia/<name>/lib.
nvidia_dirs=$(python3 - 2>/dev/null <<'EOF' || true
import os
try:
    import nvidia
except ImportError:
    raise SystemExit
for root in nvidia.__path__:
    for name in sorted(os.listdir(root)):
        lib = os.path.join(root, name, "lib")
        if os.path.isdir(lib):
            print(lib)
EOF
)
ld=$dir
for d in $nvidia_dirs; do ld="$ld:$d"; done
export LD_LIBRARY_PATH="$ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ONNXRUNTIME_LIB=$lib
say "ONNX Runtime: $lib"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# What the CUDA provider links against, and cuDNN, which it loads later.
missing=()
for so in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9; do
	found=false
	IFS=: read -ra dirs <<<"$LD_LIBRARY_PATH"
	for d in "${dirs[@]}"; do
		[[ -n $d && -e $d/$so ]] && found=true && break
	done
	$found || ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$so " && found=true
	$found || missing+=("$so")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	say "missing CUDA libraries: ${missing[*]} (install CUDA 13 and cuDNN 9, e.g. NVIDIA's Python packages nvidia-cuda-runtime, nvidia-cublas, nvidia-curand, nvidia-cudnn-cu13, or add their folders to LD_LIBRARY_PATH)"
	exit 2
fi
say "CUDA libraries found"
if $check; then
	exit 0
fi

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
