#!/usr/bin/env bash
# Fetches a GPU build of ONNX Runtime for linux x64, pinned file by file by
# sha256, into a cache outside the repository, and prints the path of its
# libonnxruntime.so (libonnxruntime_providers_shared.so and
# libonnxruntime_providers_cuda.so sit beside it).
#
# The build is ONNX Runtime 1.29.0 as two npm packages: the core library in
# com.github.asus4.onnxruntime@0.4.9 and the CUDA provider (linked against
# CUDA 13; it loads cuDNN 9) in com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9.
# `npm pack` downloads them without running any install script. Its CUDA
# provider is a plugin execution-provider library, which sluice registers
# itself (inference/epdevice.go).
#
#   scripts/fetch-onnxruntime-gpu.sh               fetch with npm
#   scripts/fetch-onnxruntime-gpu.sh --from DIR    no network: DIR holds the
#       two package tarballs (com.github.asus4.onnxruntime-0.4.9.tgz and
#       com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz), or either one
#       split into pieces named <tarball>.part-* (joined in name order), or the
#       three .so files themselves; every file is checked against the same
#       sha256 before it is installed.
#
#   SLUICE_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/sluice)
set -euo pipefail

version=1.29.0
core_pkg=com.github.asus4.onnxruntime@0.4.9
cuda_pkg=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
core_tgz=com.github.asus4.onnxruntime-0.4.9.tgz
cuda_tgz=com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
member_dir=package/Plugins/Linux/x64

# name sha256 tarball: the provider bridge comes from the GPU package, whose
# copy is the one built with the CUDA provider.
pins="libonnxruntime.so 5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca $core_tgz
libonnxruntime_providers_shared.so c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772 $cuda_tgz
libonnxruntime_providers_cuda.so 56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037 $cuda_tgz"

say() { echo "fetch-onnxruntime-gpu: $*" >&2; }

from=""
case "${1:-}" in
"") ;;
--from)
	from="${2:?--from needs a directory}"
	[ -d "$from" ] || { say "--from $from: no such directory"; exit 1; }
	;;
*)
	say "usage: $0 [--from DIR]"
	exit 1
	;;
esac

if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
	say "only linux/x86_64 is pinned; set ONNXRUNTIME_LIB to a GPU build for $(uname -s)/$(uname -m)"
	exit 1
fi

cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/onnxruntime-gpu/$version"
sum() { sha256sum "$1" | cut -d' ' -f1; }
verified() { # dir: every pinned file there with its sha256
	local name want tgz
	while read -r name want tgz; do
		[ -f "$1/$name" ] && [ "$(sum "$1/$name")" = "$want" ] || return 1
	done <<<"$pins"
}

if verified "$cache"; then
	echo "$cache/libonnxruntime.so"
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib"

# tarball NAME: a path to it (whole, or joined from its pieces), fetched with
# npm unless --from was given.
tarball() {
	local name=$1 pkg=$2
	if [ -z "$from" ]; then
		if [ ! -f "$tmp/$name" ]; then
			command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch $pkg (apt-get install npm), or copy the files over and use --from DIR"; exit 1; }
			say "downloading $pkg with npm pack ..."
			(cd "$tmp" && npm pack --silent "$pkg" >/dev/null) || { say "npm pack $pkg failed; check access to the npm registry, or copy the files over and use --from DIR"; exit 1; }
		fi
		echo "$tmp/$name"
	elif [ -f "$from/$name" ]; then
		echo "$from/$name"
	elif compgen -G "$from/$name.part-*" >/dev/null; then
		[ -f "$tmp/$name" ] || cat "$from/$name".part-* >"$tmp/$name"
		echo "$tmp/$name"
	else
		echo ""
	fi
}

while read -r name want tgz; do
	if [ -n "$from" ] && [ -f "$from/$name" ]; then
		cp "$from/$name" "$tmp/lib/$name"
	else
		t="$(tarball "$tgz" "$([ "$tgz" = "$core_tgz" ] && echo "$core_pkg" || echo "$cuda_pkg")")"
		if [ -z "$t" ]; then
			say "$from has neither $name nor $tgz (nor $tgz.part-*)"
			exit 1
		fi
		tar --no-same-owner -xzf "$t" -C "$tmp" "$member_dir/$name" || { say "$t has no $member_dir/$name"; exit 1; }
		mv "$tmp/$member_dir/$name" "$tmp/lib/$name"
	fi
	got="$(sum "$tmp/lib/$name")"
	if [ "$got" != "$want" ]; then
		say "sha256 mismatch for $name (want $want, got $got); refusing to install it"
		exit 1
	fi
done <<<"$pins"

mkdir -p "$cache"
chmod 755 "$tmp"/lib/*.so
for f in "$tmp"/lib/*.so; do
	mv "$f" "$cache/$(basename "$f").tmp" && mv "$cache/$(basename "$f").tmp" "$cache/$(basename "$f")"
done
say "installed ONNX Runtime $version GPU build in $cache"
echo "$cache/libonnxruntime.so"
