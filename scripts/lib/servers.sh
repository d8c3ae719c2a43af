# Shared by scripts/orthanc.sh, scripts/oidc.sh and scripts/fhir.sh: the
# parts of starting and stopping a throw-away server on loopback that do not
# depend on the server. Sourced; the sourcing script defines `log`.

# Whether nothing listens on 127.0.0.1:$1.
port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free TCP port on 127.0.0.1 (random, 20000-59999), or exit 1.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port"; then
      echo "$port"
      return
    fi
  done
  log "no free TCP port found on 127.0.0.1"
  exit 1
}

# Installs Debian packages ($@), with sudo when not root, after one
# `apt-get update` (a fresh machine's package lists are empty).
apt_install() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

# Stops the process whose pid is in file $1 ($2 names it in messages):
# SIGTERM, then WAITS for it to exit (a second server on the same files
# fails until the first has gone), SIGKILL after 30 s.
stop_pid_file() {
  local pid
  pid=$(cat "$1" 2>/dev/null || true)
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      return
    fi
    sleep 0.1
  done
  log "$2 (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# Removes directory $1 only when its name matches the glob $2 (a temporary
# directory the script made), never anything else an environment variable
# might point at.
remove_own_dir() {
  # shellcheck disable=SC2254
  case "$1" in
    $2) rm -rf "$1" ;;
    *) log "not removing $1: not a directory this script created" ;;
  esac
}
