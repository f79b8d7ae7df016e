#!/usr/bin/env bash
# Install the Debian packages landkit's tests need, when missing. Called by `make test` and so
# by .ci/run. Needs root (or sudo); on a machine that has them all, it does nothing.
set -euo pipefail

# command that proves the package is there → Debian package
declare -A NEEDED=(
  [ogrinfo]=gdal-bin
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "landkit tests need the Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
