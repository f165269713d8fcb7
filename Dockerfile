# syntax=docker/dockerfile:1
#
# sluice worker image (CPU). Build:   docker build -t sluice:dev .
# Run:                                docker run --rm sluice:dev run --config /etc/sluice/sluice.yaml
#
# Three stages:
#   ort      fetches the official ONNX Runtime build with the project's own
#            script (npm pack onnxruntime-node, no install scripts run) and
#            checks it against the sha256 pinned below, which a test keeps
#            equal to the one in scripts/fetch-onnxruntime.sh;
#   build    compiles sluice with cgo and writes the demo model;
#   runtime  debian slim, non-root, the binary, the library and the model.
#
# The pinned ONNX Runtime build is linux/x86_64 only, so every stage is
# built for linux/amd64 (emulated on other hosts). The builder is Debian
# bookworm so the binary needs no newer glibc than 2.36, which both runtime
# bases (this one and Dockerfile.cuda's Ubuntu) have. Image tags are pinned;
# a release pipeline should add @sha256 digests.

ARG ORT_VERSION=1.30.0
ARG ORT_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

FROM --platform=linux/amd64 node:24.11.1-bookworm-slim AS ort
ARG ORT_VERSION
ARG ORT_SHA256
COPY scripts/fetch-onnxruntime.sh /usr/local/bin/fetch-onnxruntime.sh
RUN set -eu; \
    lib="$(ORT_VERSION="$ORT_VERSION" SLUICE_CACHE=/ort fetch-onnxruntime.sh)"; \
    echo "$ORT_SHA256  $lib" | sha256sum -c -; \
    mkdir -p /out && cp "$lib" /out/libonnxruntime.so.1

FROM --platform=linux/amd64 golang:1.26.8-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags='-s -w' -o /out/sluice ./cmd/sluice && \
    go run ./deploy/demomodel -dir /out/models/fraud/1

FROM --platform=linux/amd64 debian:trixie-20251208-slim AS runtime
ARG ORT_VERSION
# busybox is here for its wget, which the HEALTHCHECK uses (slim images have
# no curl or wget; busybox is about 1 MB with no dependencies beyond libc).
# libstdc++6 is what libonnxruntime.so links against besides libc.
RUN apt-get update && \
    apt-get install -y --no-install-recommends ca-certificates busybox libstdc++6 && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --system --gid 65532 sluice && \
    useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice
COPY --from=ort /out/libonnxruntime.so.1 /opt/onnxruntime/lib/libonnxruntime.so.1
COPY --from=build /out/sluice /usr/local/bin/sluice
COPY --from=build /out/models /opt/sluice/models
COPY deploy/sluice.yaml /etc/sluice/sluice.yaml
LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="Streaming model server for Kafka (ONNX Runtime ${ORT_VERSION}, CPU)" \
      org.opencontainers.image.source="https://github.com/sluice-ml/sluice"
# The admin server must listen on all interfaces inside a container (its
# default is 127.0.0.1:8080), and EXPOSE and HEALTHCHECK below depend on its
# port, so the image sets it; SLUICE_* variables override the config file.
# Everything else comes from the config file (model.dir of the example
# config is the demo model baked in above).
ENV ONNXRUNTIME_LIB=/opt/onnxruntime/lib/libonnxruntime.so.1 \
    SLUICE_ADMIN_ADDR=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["sluice"]
CMD ["run", "--config", "/etc/sluice/sluice.yaml"]
