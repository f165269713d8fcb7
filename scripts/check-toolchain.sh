#!/usr/bin/env bash
# Checks that the Go toolchain and a C compiler (cgo, for ONNX Runtime) are there.
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
	echo "sluice: Go is not installed; install Go 1.26 or newer from your package manager or go.dev/dl" >&2
	exit 1
fi
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
	echo "sluice: a C compiler is needed for cgo (ONNX Runtime bindings): apt-get install gcc" >&2
	exit 1
fi
