#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are not installed yet.
# Needs root (or sudo) only when something is missing, so repeated runs are quick and quiet.
set -euo pipefail
if ! command -v dpkg-query >/dev/null; then
  echo "cnn-lab: not a Debian system; make sure these (or their equivalents) are installed: $*" >&2
  exit 0
fi
missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "cnn-lab: installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "cnn-lab: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
