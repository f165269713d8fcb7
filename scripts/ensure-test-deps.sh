#!/usr/bin/env bash
# Makes sure what the tests run against is installed: redis-server (needed),
# Confluent's Python client with its Avro serde (the interoperability test)
# and Chromium (the status page test). Missing packages are installed with
# apt-get when we are root; otherwise it says what to install. Only
# redis-server is required: the other tests skip with a message when their
# tools are missing, unless SLUICE_REQUIRE_INTEROP / SLUICE_REQUIRE_CHROMIUM
# are set (CI sets them).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import confluent_kafka.avro' >/dev/null 2>&1 || missing+=(python3-confluent-kafka python3-avro python3-requests)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "sluice: installing test dependencies with apt-get: ${missing[*]} ..." >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		echo "sluice: apt-get install ${missing[*]} failed" >&2
	fi
	# The package's own Redis service is not needed: tests start their own.
	(systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1) || true
fi
if ! command -v redis-server >/dev/null 2>&1; then
	echo "sluice: redis-server is needed by the tests; install it (apt-get install redis-server) or run make test as root" >&2
	exit 1
fi
exit 0
