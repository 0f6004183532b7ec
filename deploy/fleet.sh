#!/usr/bin/env bash
# A local fleet as plain processes, all on 127.0.0.1: N relays sharing one redis-server, and one headless Chromium
# registered as runtime `local` through the first relay's control API (Redis makes it visible to every relay).
#
#   deploy/fleet.sh [start]   start it in the background, print the relays, the control key and a sample lease
#   deploy/fleet.sh run       the same, in the foreground: Ctrl-C stops everything
#   deploy/fleet.sh stop      stop the fleet started from this checkout (relays first, so they drain)
#   deploy/fleet.sh status    what runs, and each relay's /readyz
#
# Environment (all optional):
#   FLEET_NODES=3             number of relays
#   FLEET_BASE_PORT=18080     relay i listens on FLEET_BASE_PORT+i-1
#   FLEET_DIR=deploy/.fleet   pids, logs, Chromium's profile and fleet.env (sourceable: the URLs and the key)
#   FLEET_REDIS_PORT          redis-server's port; default the first free one from 16379
#   FLEET_REDIS=1             0 runs each relay on in-memory stores and registers the runtime on each: a lease then
#                             works only on the relay that issued it (for a build without fleet state)
#   FLEET_RELAY_DLL           the relay to run; default src/Bctrl.Relay/bin/Release/net10.0/Bctrl.Relay.dll,
#                             built first when missing or when FLEET_BUILD=1
#   FLEET_CHROMIUM            the Chromium to start; default the first of chromium, chromium-browser, google-chrome
#   RELAY_CONTROL_API_KEY, RELAY_SIGNING_KEY   the fleet's keys; default generated for this fleet
#
# Needs the .NET SDK, redis-server, Chromium and curl; as root on Debian it installs redis-server and Chromium.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
nodes=${FLEET_NODES:-3}
base_port=${FLEET_BASE_PORT:-18080}
state=${FLEET_DIR:-$repo/deploy/.fleet}
use_redis=${FLEET_REDIS:-1}
dll=${FLEET_RELAY_DLL:-$repo/src/Bctrl.Relay/bin/Release/net10.0/Bctrl.Relay.dll}
runtime_id=local
case $state in /*) ;; *) state=$PWD/$state ;; esac # the relays start from their own folder
case $dll in /*) ;; *) dll=$PWD/$dll ;; esac
stop_wait=25 # seconds a process gets after SIGTERM; a relay's drain ends within DOTNET_shutdownTimeoutSeconds (15)

say() { printf '%s\n' "$*"; }
fail() { printf 'fleet: %s\n' "$*" >&2; exit 1; }

# --- processes -------------------------------------------------------------------------------------------------

# Starts a command in its own session (so that stopping it takes its children too, Chromium's renderers for one),
# output to $state/NAME.log, its pid in $state/NAME.pid.
launch() {
  local name=$1; shift
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

halt() {
  local name=$1 pid
  [ -f "$state/$name.pid" ] || return 0
  pid=$(cat "$state/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((stop_wait * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "  $name did not stop within ${stop_wait}s: killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$state/$name.pid"
}

stop_fleet() {
  [ -d "$state" ] || return 0
  local name pids=()
  # Relays first and together: each drains (503 draining to new attaches, 1001 to live ones) while the others,
  # Redis and Chromium are still up.
  for pidfile in "$state"/relay-*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    halt "$name" &
    pids+=($!)
  done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
  halt chromium
  halt redis
  rm -rf "$state/chromium-profile" "$state/redis" "$state/fleet.env"
}

# True when something accepts connections on 127.0.0.1:PORT.
port_in_use() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    if ! port_in_use "$port"; then echo "$port"; return 0; fi
  done
  fail "no free port in $1..$(($1 + 200))"
}

wait_for() { # DESCRIPTION SECONDS NAME COMMAND...: until COMMAND succeeds, while process NAME lives
  local what=$1 seconds=$2 name=$3; shift 3
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@"; then return 0; fi
    if ! alive "$name"; then
      say "fleet: $name exited while waiting for $what; the end of $state/$name.log:" >&2
      tail -n 20 "$state/$name.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  say "fleet: timed out after ${seconds}s waiting for $what; the end of $state/$name.log:" >&2
  tail -n 20 "$state/$name.log" >&2 || true
  return 1
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$@" 2>/dev/null; }

# --- prerequisites ---------------------------------------------------------------------------------------------

install_missing() {
  local packages=()
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  [ -n "${FLEET_CHROMIUM:-}" ] || find_chromium >/dev/null || packages+=(chromium)
  command -v curl >/dev/null 2>&1 || packages+=(curl)
  [ ${#packages[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "fleet: installing ${packages[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    fail "missing ${packages[*]}: sudo apt-get install ${packages[*]}"
  fi
}

find_chromium() {
  local candidate
  for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
  done
  return 1
}

random_base64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

# --- start -----------------------------------------------------------------------------------------------------

start_fleet() {
  if [ -f "$state/fleet.env" ] || compgen -G "$state/*.pid" >/dev/null; then
    fail "a fleet from this checkout is running or was not stopped ($state): deploy/fleet.sh stop"
  fi

  [[ $nodes =~ ^[1-9][0-9]*$ ]] || fail "FLEET_NODES must be a positive number"
  install_missing
  local chromium=${FLEET_CHROMIUM:-$(find_chromium)}
  [ -x "$chromium" ] || fail "no Chromium at $chromium"

  if [ ! -f "$dll" ] || [ "${FLEET_BUILD:-0}" = 1 ]; then
    say "fleet: building the relay (Release)"
    dotnet build "$repo/src/Bctrl.Relay" -c Release -nologo -v quiet >/dev/null
  fi
  [ -f "$dll" ] || fail "no relay at $dll"

  local i port
  for i in $(seq 1 "$nodes"); do
    port=$((base_port + i - 1))
    ! port_in_use "$port" || fail "port $port is in use: set FLEET_BASE_PORT to another base"
  done

  mkdir -p "$state"
  chmod 700 "$state"
  # From here on, a failure stops whatever was started.
  trap 'stop_fleet' EXIT

  local control_key=${RELAY_CONTROL_API_KEY:-$(random_base64 24 | tr '+/' '-_' | tr -d '=')}
  local signing_key=${RELAY_SIGNING_KEY:-$(random_base64 32)}

  local redis_endpoint=
  if [ "$use_redis" = 1 ]; then
    local redis_port=${FLEET_REDIS_PORT:-}
    if [ -n "$redis_port" ]; then
      [[ $redis_port =~ ^[1-9][0-9]*$ ]] || fail "FLEET_REDIS_PORT must be a port number"
      ! port_in_use "$redis_port" || fail "port $redis_port is in use: set FLEET_REDIS_PORT to another port"
    else
      redis_port=$(free_port 16379)
    fi
    # As every Redis of deploy/ (deploy/README.md, "Redis"): an append-only file, so that a restarted redis-server
    # keeps the lease records (without it, every lease is refused lease_unknown and reissued: availability, not
    # safety), and no eviction, which would refuse a lease before it expires. The file lives in $state/redis for
    # the fleet's life (its keys are made for it); `stop` removes it.
    mkdir -p "$state/redis"
    launch redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$state/redis" --save '' \
      --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --protected-mode yes
    redis_endpoint=127.0.0.1:$redis_port
    # Ready when this redis-server says so, not when something answers on the port: another fleet's Redis that took
    # the port first would answer too, while ours exits on the failed bind.
    wait_for "Redis on $redis_endpoint" 10 redis grep -q 'Ready to accept connections' "$state/redis.log"
  fi

  # The flags of src/Bctrl.Relay/DevRuntime/ChromiumProcess.cs; the OS picks the DevTools port, read back from the
  # "DevTools listening on ws://…" line.
  mkdir -p "$state/chromium-profile"
  launch chromium "$chromium" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
    --no-first-run --no-default-browser-check --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --mute-audio --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 \
    "--user-data-dir=$state/chromium-profile" about:blank
  wait_for "Chromium's DevTools line" 30 chromium grep -q 'DevTools listening on ws://' "$state/chromium.log"
  local cdp_url
  cdp_url=$(grep -o 'DevTools listening on ws://[^[:space:]]*' "$state/chromium.log" | head -n1 | sed 's/^DevTools listening on //')

  for i in $(seq 1 "$nodes"); do
    port=$((base_port + i - 1))
    (
      cd "$(dirname "$dll")"
      export ASPNETCORE_ENVIRONMENT=Production
      export Relay__PublicBaseUrl=ws://127.0.0.1:$port
      export Relay__ControlApiKey=$control_key
      export Relay__SigningKeys__0__Id=fleet
      export Relay__SigningKeys__0__Secret=$signing_key
      export Relay__DevRuntime__Enabled=false
      export DOTNET_shutdownTimeoutSeconds=15
      if [ -n "$redis_endpoint" ]; then export Relay__Redis=$redis_endpoint; fi
      launch "relay-$i" dotnet "$dll" --urls "http://127.0.0.1:$port"
    )
  done

  for i in $(seq 1 "$nodes"); do
    port=$((base_port + i - 1))
    wait_for "relay $i to be ready on port $port" 60 "relay-$i" http_ok "http://127.0.0.1:$port/readyz"
  done

  local body="{\"cdpUrl\":\"$cdp_url\"}" first=http://127.0.0.1:$base_port
  local registrars=("$first")
  if [ "$use_redis" != 1 ]; then
    registrars=()
    for i in $(seq 1 "$nodes"); do registrars+=("http://127.0.0.1:$((base_port + i - 1))"); done
  fi

  for url in "${registrars[@]}"; do
    curl -fsS -o /dev/null --max-time 5 -X PUT -H "Authorization: Bearer $control_key" -H 'Content-Type: application/json' \
      -d "$body" "$url/v1/runtimes/$runtime_id" || fail "registering runtime $runtime_id through $url failed"
  done

  # Every relay must see the runtime: through Redis when it is there, that is the fleet working.
  for i in $(seq 1 "$nodes"); do
    port=$((base_port + i - 1))
    wait_for "runtime $runtime_id to be visible on relay $i" 5 "relay-$i" \
      http_ok -H "Authorization: Bearer $control_key" "http://127.0.0.1:$port/v1/runtimes/$runtime_id"
  done

  local urls=()
  for i in $(seq 1 "$nodes"); do urls+=("http://127.0.0.1:$((base_port + i - 1))"); done
  umask 077
  cat >"$state/fleet.env" <<EOF
# Written by deploy/fleet.sh; removed by deploy/fleet.sh stop. Source it.
FLEET_RELAY_URLS="${urls[*]}"
FLEET_CONTROL_API_KEY="$control_key"
FLEET_REDIS="$redis_endpoint"
FLEET_RUNTIME_ID="$runtime_id"
FLEET_CHROMIUM_CDP_URL="$cdp_url"
EOF

  local lease endpoint
  lease=$(curl -fsS --max-time 5 -X POST -H "Authorization: Bearer $control_key" -H 'Content-Type: application/json' \
    -d '{"protocol":"cdp","ttlSeconds":300}' "$first/v1/runtimes/$runtime_id/connections") || fail "creating a sample lease failed"
  endpoint=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' <<<"$lease")

  trap - EXIT
  say ""
  say "Bctrl.Relay fleet: $nodes relay(s), $([ -n "$redis_endpoint" ] && echo "Redis on $redis_endpoint" || echo "no Redis (in-memory stores)"), Chromium as runtime \"$runtime_id\""
  for i in $(seq 1 "$nodes"); do
    say "  relay $i  http://127.0.0.1:$((base_port + i - 1))   log: $state/relay-$i.log"
  done
  say "  control API key: $control_key"
  say "  state: $state/fleet.env (source it)"
  say ""
  say "A sample lease (5 minutes), created through relay 1:"
  say "  $endpoint"
  if [ "$use_redis" = 1 ] && [ "$nodes" -gt 1 ]; then
    say "The same token attaches through any relay, e.g. ${endpoint/:$base_port\//:$((base_port + 1))/}"
  fi
  say ""
  say "Create another:"
  say "  curl -s -X POST -H 'Authorization: Bearer $control_key' -H 'Content-Type: application/json' \\"
  say "       -d '{\"protocol\":\"cdp\",\"ttlSeconds\":300}' $first/v1/runtimes/$runtime_id/connections"
  say "Drive it (npm i playwright-core):"
  say "  node -e \"require('playwright-core').chromium.connectOverCDP(process.argv[1]).then(async b => { const p = await b.contexts()[0].newPage(); await p.goto('about:blank'); console.log(await p.evaluate(() => navigator.userAgent)); await b.close(); })\" '$endpoint'"
  say "Stop it: deploy/fleet.sh stop"
}

status_fleet() {
  local name
  if ! compgen -G "$state/*.pid" >/dev/null; then
    say "no fleet running from $state"
    return 0
  fi

  for pidfile in "$state"/*.pid; do
    name=$(basename "$pidfile" .pid)
    if alive "$name"; then say "  $name  pid $(cat "$pidfile")  running"; else say "  $name  pid $(cat "$pidfile")  exited"; fi
  done

  if [ -f "$state/fleet.env" ]; then
    # shellcheck disable=SC1091
    . "$state/fleet.env"
    for url in $FLEET_RELAY_URLS; do
      say "  $url/readyz: $(curl -s --max-time 2 "$url/readyz" || echo unreachable)"
    done
  fi
}

case "${1:-start}" in
  start)
    start_fleet
    ;;
  run)
    start_fleet
    trap 'say ""; say "stopping the fleet"; stop_fleet; exit 0' INT TERM
    say "(Ctrl-C stops everything)"
    # Until a process of the fleet exits or the user interrupts: then stop the rest.
    while :; do
      for pidfile in "$state"/*.pid; do
        name=$(basename "$pidfile" .pid)
        if ! alive "$name"; then
          say "fleet: $name exited; stopping the fleet. The end of $state/$name.log:"
          tail -n 20 "$state/$name.log" || true
          stop_fleet
          exit 1
        fi
      done
      sleep 1
    done
    ;;
  stop)
    stop_fleet
    say "fleet stopped"
    ;;
  status)
    status_fleet
    ;;
  *)
    say "usage: deploy/fleet.sh [start|run|stop|status]" >&2
    exit 2
    ;;
esac
