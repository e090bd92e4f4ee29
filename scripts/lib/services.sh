# shellcheck shell=bash
# Shared by scripts/start-*, scripts/stop-services and scripts/test. Sourced, not run.
#
# Convention: a start-* script installs what its service needs, starts it on loopback in its
# own folder under the services folder (LETHE_SERVICES_DIR), waits until it answers, and prints
# `export NAME='value'` lines on stdout (and writes them to <folder>/env), so that
#   eval "$(scripts/start-postgres)"
# sets the variables the tests read. Everything else goes to stderr. A service already running
# from the same services folder is reused. scripts/stop-services stops them and deletes the folder.

LETHE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LETHE_TOOLS=$LETHE_ROOT/.tools

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# One services folder per checkout for a developer's own use; scripts/test sets its own per run.
services_dir() {
  if [[ -n ${LETHE_SERVICES_DIR:-} ]]; then
    printf '%s\n' "$LETHE_SERVICES_DIR"
  else
    printf '%s/lethe-services-%s\n' "${TMPDIR:-/tmp}" "$(printf '%s' "$LETHE_ROOT" | cksum | cut -d' ' -f1)"
  fi
}

is_root() { [[ $(id -u) == 0 ]]; }

# True while the process runs; a zombie (exited, not yet reaped) counts as gone.
pid_alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# Something accepts connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR DEFAULT [TAKEN...]: the port named by $VAR, which must be free; else DEFAULT or,
# when that is busy (another checkout's services, a colleague's Azurite), the next free one above.
pick_port() {
  local var=$1 default=$2 port
  shift 2
  if [[ -n ${!var:-} ]]; then
    port=${!var}
    [[ $port =~ ^[0-9]+$ ]] || die "$var=$port is not a port number"
    port_in_use "$port" && die "port $port (set by $var) is already in use on 127.0.0.1: free it or choose another $var"
    printf '%s\n' "$port"
    return
  fi
  for ((port = default; port < default + 100; port++)); do
    [[ " $* " == *" $port "* ]] && continue
    if ! port_in_use "$port"; then
      [[ $port != "$default" ]] && log "port $default is busy; using $port (set $var to choose)"
      printf '%s\n' "$port"
      return
    fi
  done
  die "no free port in $default-$((default + 99)); set $var"
}

# wait_until SECONDS WHAT LOG PID COMMAND...: polls COMMAND until it succeeds; fails with the
# log's tail when the time is up or the process PID (if not empty) has died.
wait_until() {
  local seconds=$1 what=$2 logfile=$3 pid=$4 deadline
  shift 4
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pid ]] && ! pid_alive "$pid"; then
      printf 'error: %s exited before it was ready; the end of %s:\n' "$what" "$logfile" >&2
      tail -n 40 "$logfile" >&2 2>/dev/null || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      printf 'error: %s was not ready within %ss; the end of %s:\n' "$what" "$seconds" "$logfile" >&2
      tail -n 40 "$logfile" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

# Installs the Debian packages that are missing; `apt-get update` once, only if one is.
ensure_apt_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  is_root || die "missing Debian packages: ${missing[*]}; install them: sudo apt-get install ${missing[*]}"
  log "installing ${missing[*]} (apt-get)"
  local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
  {
    "${apt[@]}" update
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "${missing[@]}"
  } >&2 || die "apt-get could not install ${missing[*]}"
}

# Newest PostgreSQL server from Debian's packages: /usr/lib/postgresql/<version>/bin.
postgres_bin() {
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5n | tail -n 1)
  [[ -n $dir && -x $dir/postgres ]] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin"
  printf '%s\n' "$dir"
}

ensure_postgres() {
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ensure_apt_packages postgresql
}

# Azurite and maildev from npm, pinned by scripts/tools/package-lock.json, in .tools/.
ensure_node_tools() {
  local lock=$LETHE_ROOT/scripts/tools/package-lock.json
  if [[ -x $LETHE_TOOLS/node_modules/.bin/azurite-blob && -x $LETHE_TOOLS/node_modules/.bin/maildev ]] \
    && cmp -s "$lock" "$LETHE_TOOLS/package-lock.json"; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed for Azurite and maildev: install Node.js 20 or later"
  mkdir -p "$LETHE_TOOLS"
  (
    # Two runs at once in one checkout: the second waits, then finds the tools installed.
    flock 9
    if [[ -x $LETHE_TOOLS/node_modules/.bin/azurite-blob && -x $LETHE_TOOLS/node_modules/.bin/maildev ]] \
      && cmp -s "$lock" "$LETHE_TOOLS/package-lock.json"; then
      exit 0
    fi
    log "installing Azurite and maildev into .tools/ (npm ci)"
    cp "$LETHE_ROOT/scripts/tools/package.json" "$lock" "$LETHE_TOOLS/"
    # No install scripts: neither tool needs one, and nothing may download a browser.
    cd "$LETHE_TOOLS" && PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
      npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  ) 9>"$LETHE_TOOLS/.install.lock" || die "npm could not install the tools in .tools/"
}

# start_detached DIR LOG COMMAND...: runs COMMAND in a session of its own (so a Ctrl-C aimed at
# the caller does not reach it and it can be stopped as a group), records its pid in DIR/pid.
start_detached() {
  local dir=$1 logfile=$2
  shift 2
  rm -f "$dir/pid"
  # shellcheck disable=SC2016 # expanded by the inner bash, on purpose
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/pid" "$@" </dev/null >"$logfile" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $dir/pid ]] && break
    sleep 0.1
  done
  [[ -s $dir/pid ]] || die "could not start $1"
  cat "$dir/pid"
}

# stop_detached DIR: stops what start_detached started there, only if its command line still
# names DIR (so a recycled pid is never someone else's process).
stop_detached() {
  local dir=$1 pid i
  [[ -s $dir/pid ]] || return 0
  pid=$(<"$dir/pid")
  if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/pid"
}

# The running service in DIR, if any, from its recorded pid.
detached_running() {
  local dir=$1 pid
  [[ -s $dir/pid && -s $dir/env ]] || return 1
  pid=$(<"$dir/pid")
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir"
}

# Runs a command as the owner of the PostgreSQL data folder: `postgres` when we are root
# (the server refuses to run as root), else ourselves.
as_postgres() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
