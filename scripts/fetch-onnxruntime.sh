#!/usr/bin/env bash
# Fetches the official ONNX Runtime shared library for linux x64, pinned by
# version and sha256, into a cache outside the repository, and prints its path.
#
# The build ships inside the npm package onnxruntime-node; `npm pack` downloads
# the tarball without running any install script.
#
#   ORT_VERSION   version to fetch (default 1.30.0; only pinned versions verify)
#   SLUICE_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/sluice)
set -euo pipefail

version="${ORT_VERSION:-1.30.0}"
case "$version" in
1.30.0) want="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23" ;;
*)
	echo "fetch-onnxruntime: no pinned sha256 for ONNX Runtime $version; add it to $0" >&2
	exit 1
	;;
esac

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) member="package/bin/napi-v6/linux/x64/libonnxruntime.so.1" ;;
*)
	echo "fetch-onnxruntime: only linux/x86_64 is pinned here; set ONNXRUNTIME_LIB to an ONNX Runtime $version build for $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/onnxruntime/$version"
lib="$cache/libonnxruntime.so.1"

verify() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ]; }

if verify "$lib"; then
	echo "$lib"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "fetch-onnxruntime: npm is needed to fetch onnxruntime-node@$version (apt-get install npm), or set ONNXRUNTIME_LIB to a libonnxruntime.so" >&2
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-onnxruntime: downloading onnxruntime-node@$version (about 110 MB) ..." >&2
if ! (cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null); then
	echo "fetch-onnxruntime: npm pack onnxruntime-node@$version failed; check access to the npm registry or set ONNXRUNTIME_LIB" >&2
	exit 1
fi
tar -xzf "$tmp"/onnxruntime-node-"$version".tgz -C "$tmp" "$member"
if ! verify "$tmp/$member"; then
	echo "fetch-onnxruntime: sha256 mismatch for $member (want $want, got $(sha256sum "$tmp/$member" | cut -d' ' -f1)); refusing to install it" >&2
	exit 1
fi
mkdir -p "$cache"
mv "$tmp/$member" "$lib.tmp" && mv "$lib.tmp" "$lib"
echo "fetch-onnxruntime: installed $lib" >&2
echo "$lib"
