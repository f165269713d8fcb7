#!/usr/bin/env bash
# Makes sure redis-server is installed for the tests: installs it with apt-get
# when it is missing and we are root, else says how to.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "sluice: installing redis-server with apt-get ..." >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null
	# The package's own service is not needed: tests start their own servers.
	(systemctl disable --now redis-server >/dev/null 2>&1 || service redis-server stop >/dev/null 2>&1) || true
	command -v redis-server >/dev/null 2>&1 && exit 0
fi
echo "sluice: redis-server is needed by the tests; install it (apt-get install redis-server) or run make test as root" >&2
exit 1
