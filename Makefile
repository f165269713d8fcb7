# sluice — make targets. `make demo` and `make test` work on a fresh machine:
# they fetch Go modules, the pinned ONNX Runtime library and (for tests, as
# root) redis-server before they run.
SHELL := /bin/bash
GO ?= go
BIN := bin/sluice
ORT_LIB = $(shell scripts/fetch-onnxruntime.sh)
GOFLAGS_TEST ?= -race -count=1
TEST_TIMEOUT ?= 20m

.PHONY: all build deps ort ort-gpu test test-short fuzz demo dev bench bench-gpu soak vet fmt clean

all: build

deps:
	@scripts/check-toolchain.sh
	$(GO) mod download

ort:
	@scripts/fetch-onnxruntime.sh >/dev/null

# The pinned GPU build of ONNX Runtime (about 330 MB of npm downloads); only
# make bench-gpu and a worker with inference.provider cuda need it.
ort-gpu:
	@scripts/fetch-onnxruntime-gpu.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/sluice

vet:
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

test: deps ort
	@scripts/ensure-test-deps.sh
	$(MAKE) --no-print-directory vet
	ONNXRUNTIME_LIB=$(ORT_LIB) $(GO) test $(GOFLAGS_TEST) -timeout $(TEST_TIMEOUT) ./...

test-short: deps ort
	ONNXRUNTIME_LIB=$(ORT_LIB) $(GO) test -count=1 -short ./...

FUZZTIME ?= 30s
fuzz: deps
	$(GO) test -run x -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./schemas/
	$(GO) test -run x -fuzz '^FuzzParseFrame$$' -fuzztime $(FUZZTIME) ./schemas/
	$(GO) test -run x -fuzz '^FuzzMapRow$$' -fuzztime $(FUZZTIME) ./inference/

demo: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) $(BIN) demo

dev: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) $(BIN) dev

bench: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) $(BIN) bench $(BENCHFLAGS)

# sluice dev under a steady labelled load (SOAK_RATE events/s with their
# labels) for SOAK (1h; `make soak SOAK=10m` for the short one): memory of
# every process, Redis's used memory, disk, in/out and lag over time.
SOAK ?= 1h
SOAK_RATE ?= 20000
soak: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) $(BIN) soak --duration $(SOAK) --rate $(SOAK_RATE) $(SOAKFLAGS)

# CPU against CUDA on the heavy model; needs a GPU and a GPU build of ONNX
# Runtime (see scripts/bench-gpu.sh).
bench-gpu: build
	scripts/bench-gpu.sh $(BENCHGPUFLAGS)

clean:
	rm -rf bin .sluice
