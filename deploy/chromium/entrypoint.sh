#!/bin/sh
# Starts headless Chromium with its DevTools server reachable from other containers on port 9222.
#
# Current Chromium ignores --remote-debugging-address: its DevTools server binds 127.0.0.1 whatever the flag says
# (Chromium 156 with --headless=new, checked by hand), so the address flag alone cannot publish it. Chromium
# listens on 127.0.0.1:9223 and socat forwards the container's port 9222 to it.
#
# Chromium also refuses DevTools requests (discovery and the WebSocket upgrade alike) whose Host header is neither
# an IP address nor localhost, and the relay sends the runtime's address as Host: register this runtime by IP
# (compose.yaml pins one), not by its service name.
set -eu

profile=$(mktemp -d)
socat TCP-LISTEN:9222,fork,reuseaddr TCP:127.0.0.1:9223 &

# The flags of src/Bctrl.Relay/DevRuntime/ChromiumProcess.cs: keep Chromium off the networks it cannot reach
# (updates, sync, field trials); --no-sandbox because containers usually lack the namespaces its sandbox needs.
exec chromium \
  --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run \
  --no-default-browser-check --disable-background-networking --disable-component-update --disable-sync \
  --disable-extensions --mute-audio \
  --remote-debugging-address=127.0.0.1 --remote-debugging-port=9223 \
  --user-data-dir="$profile" about:blank
