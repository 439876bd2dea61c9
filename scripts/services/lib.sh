# shellcheck shell=bash
# Shared helpers for scripts/services/{up,down,status,kafka-node}. Sourced, never run directly.
#
# Runtime state lives in .services/ (logs, pids, data dirs) and downloaded jars in .cache/,
# both at the repo root and gitignored. See docs/services.md.

SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SERVICES_DIR/../.." && pwd)
STATE_DIR=${EDAKIT_SERVICES_STATE:-$REPO_ROOT/.services}
CACHE_DIR=${EDAKIT_SERVICES_CACHE:-$REPO_ROOT/.cache}
LOG_DIR=$STATE_DIR/logs
PID_DIR=$STATE_DIR/pids
HOST=127.0.0.1

# ---------------------------------------------------------------------------------------------
# messages

# die MESSAGE [LOGFILE]: one line on stderr, exit 1. SERVICES_LOG_TAIL=N also prints N log lines.
die() {
  local msg=$1 log=${2:-}
  if [ -n "$log" ] && [ -f "$log" ] && [ "${SERVICES_LOG_TAIL:-0}" -gt 0 ] 2>/dev/null; then
    tail -n "$SERVICES_LOG_TAIL" "$log" | sed 's/^/  | /' >&2
  fi
  if [ -n "$log" ]; then
    echo "services: $msg (log: $log)" >&2
  else
    echo "services: $msg" >&2
  fi
  exit 1
}

note() { echo "services: $*" >&2; }

# report NAME STATE ADDRESS PID LOG: the one line printed per service by up/down/status.
report() {
  printf '%-16s %-9s %-42s pid %-8s log %s\n' "$1" "$2" "$3" "${4:--}" "${5:--}"
}

# ---------------------------------------------------------------------------------------------
# locking: up/down/kafka-node run one at a time (fd 9). Every long-lived child started while the
# lock is held gets `9>&-` so it does not keep the lock.

take_lock() {
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$PID_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w "${SERVICES_LOCK_TIMEOUT:-900}" 9 || die "another scripts/services command holds $STATE_DIR/.lock"
}

# ---------------------------------------------------------------------------------------------
# ports and processes

# port_open PORT [HOST]: something accepts TCP connections on HOST:PORT.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c ': >"/dev/tcp/$1/$2"' _ "${2:-$HOST}" "$1" 2>/dev/null
}

port_closed() { ! port_open "$@"; }

# pid_on_port PORT: pid of the process listening on PORT (empty if none / not visible).
pid_on_port() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

# pid_state PID: one-letter process state (R, S, T, Z, ...) or empty when there is no such process.
pid_state() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  echo "${stat%% *}"
}

# pid_alive PID [NAME]: the process exists, is not a zombie and (with NAME) was started by us as NAME.
pid_alive() {
  local pid=$1 name=${2:-} state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(pid_state "$pid")
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
  [ -z "$name" ] && return 0
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Dedakit.service=$name"
}

pid_file() { echo "$PID_DIR/$1.pid"; }

# read_pid NAME: prints the pid of our running NAME process; removes a stale pid file.
read_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null || true)
  if pid_alive "$pid" "$1"; then
    echo "$pid"
    return 0
  fi
  rm -f "$f"
  return 1
}

# wait_gone PID SECONDS: 0 when the process is gone in time.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# stop_pid PID [SECONDS] [WHAT]: SIGTERM (graceful), SIGKILL after SECONDS (default 30).
stop_pid() {
  local pid=$1 grace=${2:-30} what=${3:-pid $1}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # a paused (SIGSTOP) process would never see the TERM
  wait_gone "$pid" "$grace" && return 0
  note "$what (pid $pid) still running ${grace}s after SIGTERM, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "pid $pid survives SIGKILL"
}

# kill_pid PID: SIGKILL and wait until it is gone (crash simulation).
kill_pid() {
  local pid=$1
  pid_alive "$pid" || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "pid $pid survives SIGKILL"
}

# wait_for_port PORT SECONDS WHAT [PID] [LOG]: until HOST:PORT accepts connections; with PID, fail
# as soon as that process dies.
wait_for_port() {
  local port=$1 secs=$2 what=$3 pid=${4:-} log=${5:-} deadline=$((SECONDS + $2))
  until port_open "$port"; do
    if [ -n "$pid" ] && ! pid_alive "$pid"; then
      die "$what: process $pid exited before $HOST:$port accepted connections" "$log"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$what: $HOST:$port does not accept connections after ${secs}s" "$log"
    sleep 0.3
  done
}

# wait_until SECONDS WHAT LOG CMD...: retries CMD until it succeeds.
wait_until() {
  local secs=$1 what=$2 log=$3 deadline=$(($1 + SECONDS))
  shift 3
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what (waited ${secs}s)" "$log"
    sleep 0.5
  done
}

# log_has_since FILE OFFSET TEXT: TEXT occurs in FILE after byte OFFSET.
log_has_since() {
  local n
  n=$(tail -c "+$(($2 + 1))" "$1" 2>/dev/null | grep -cF -- "$3" || true)
  [ "${n:-0}" -gt 0 ]
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------------------------------------
# Debian packages (only used when a service is missing)

APT_UPDATED=
apt_install() {
  local log=$LOG_DIR/apt.log
  [ "$(id -u)" = 0 ] || die "installing $* needs root (run: apt-get install -y $*)"
  command -v apt-get >/dev/null || die "no apt-get: install $* yourself"
  note "installing Debian packages: $*"
  if [ -z "$APT_UPDATED" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 9>&- || die "apt-get update failed" "$log"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$log" 2>&1 9>&- ||
    die "apt-get install $* failed" "$log"
}

# =============================================================================================
# Kafka

KAFKA_POM=$SERVICES_DIR/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$KAFKA_POM" | head -n 1)
KAFKA_HOME=$CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_MARKER=$KAFKA_LIBS/.complete
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-180}
KAFKA_SINGLE_HEAP=${KAFKA_SINGLE_HEAP:--Xms256m -Xmx512m}
KAFKA_CLUSTER_HEAP=${KAFKA_CLUSTER_HEAP:--Xms128m -Xmx384m}
KAFKA_STARTED_TEXT='Kafka Server started'
KAFKA_SCRAM_USER=edakit
KAFKA_SCRAM_PASSWORD=edakit-secret
KAFKA_CLUSTER_NODES=(1 2 3)
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

# the JVM options bin/kafka-run-class.sh uses (KAFKA_JVM_PERFORMANCE_OPTS), minus JMX
KAFKA_JVM_OPTS=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)

pom_hash() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

# kafka_libs_ok: the libs dir was filled from the current pom.xml and no jar is missing.
kafka_libs_ok() {
  [ -f "$KAFKA_MARKER" ] || return 1
  [ "$(head -n 1 "$KAFKA_MARKER")" = "pom-sha256 $(pom_hash)" ] || return 1
  local jar
  while IFS= read -r jar; do
    [ -f "$KAFKA_LIBS/$jar" ] || return 1
  done < <(tail -n +2 "$KAFKA_MARKER")
}

# kafka_fetch: fill .cache/kafka-<version>/libs from Maven Central unless it is already complete.
kafka_fetch() {
  [ -n "$KAFKA_VERSION" ] || die "cannot read <kafka.version> from $KAFKA_POM"
  kafka_libs_ok && return 0
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch the Kafka $KAFKA_VERSION jars"
  local log=$LOG_DIR/kafka-fetch.log tmp=$KAFKA_HOME/libs.tmp.$$ t0=$SECONDS
  mkdir -p "$KAFKA_HOME" "$LOG_DIR"
  rm -rf "$tmp"
  note "fetching Kafka $KAFKA_VERSION jars from Maven Central into ${KAFKA_LIBS#"$REPO_ROOT"/} ..."
  # a project-local Maven repository, so the whole download cache is .cache/ (easy to cache in CI)
  mvn -B -ntp -f "$KAFKA_POM" -Dmaven.repo.local="$CACHE_DIR/m2" \
    dependency:copy-dependencies -Dkafka.libs.dir="$tmp" >"$log" 2>&1 9>&- ||
    die "kafka: mvn could not fetch the Kafka $KAFKA_VERSION jars" "$log"
  if [ ! -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || ! compgen -G "$tmp/reload4j-*.jar" >/dev/null; then
    die "kafka: mvn finished but $tmp lacks kafka_2.13/reload4j jars" "$log"
  fi
  {
    echo "pom-sha256 $(pom_hash)"
    (cd "$tmp" && ls -1 -- *.jar)
  } >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  note "fetched $(($(wc -l <"$KAFKA_MARKER") - 1)) jars in $((SECONDS - t0))s"
}

# kafka_java [JVM args...] MAINCLASS args...: a Kafka command line class, logging WARN to stderr.
kafka_java() {
  "$JAVA" -Xmx256m -Dlog4j.configuration="file:$SERVICES_DIR/kafka/tools-log4j.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# kafka_node_vars NAME: sets K_* for NAME = kafka | kafka-cluster-1 | kafka-cluster-2 | kafka-cluster-3.
kafka_node_vars() {
  K_NAME=$1
  case "$1" in
    kafka)
      K_ID=1
      K_PORT=${KAFKA_PORT:-9092}
      K_CTRL_PORT=${KAFKA_CONTROLLER_PORT:-9093}
      K_SASL_PORT=${KAFKA_SASL_PORT:-9094}
      K_DIR=$STATE_DIR/kafka
      K_CLUSTER_ID_FILE=$K_DIR/cluster.id
      K_HEAP=$KAFKA_SINGLE_HEAP
      ;;
    kafka-cluster-[123])
      K_ID=${1##*-}
      K_PORT=${K_ID}9092
      K_CTRL_PORT=${K_ID}9093
      K_SASL_PORT=
      K_DIR=$STATE_DIR/kafka-cluster/node$K_ID
      K_CLUSTER_ID_FILE=$STATE_DIR/kafka-cluster/cluster.id
      K_HEAP=$KAFKA_CLUSTER_HEAP
      ;;
    *) die "unknown Kafka node '$1'" ;;
  esac
  K_DATA=$K_DIR/data
  K_CONF=$K_DIR/server.properties
  K_LOG=$LOG_DIR/$1.log
  K_ADDR="$HOST:$K_PORT"
  [ -n "$K_SASL_PORT" ] && K_ADDR="$K_ADDR sasl=$HOST:$K_SASL_PORT"
  return 0
}

kafka_cluster_voters() {
  local n v=
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do v+="${v:+,}$n@$HOST:${n}9093"; done
  echo "$v"
}

kafka_cluster_bootstrap() {
  local n v=
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do v+="${v:+,}$HOST:${n}9092"; done
  echo "$v"
}

# kafka_write_config: (re)writes $K_CONF for the node selected by kafka_node_vars. Regenerated on
# every start so changes here apply; the data dir is kept.
kafka_write_config() {
  mkdir -p "$K_DIR" "$K_DATA"
  {
    echo "# generated by scripts/services/lib.sh (kafka_write_config) -- edits are overwritten"
    echo "process.roles=broker,controller"
    echo "node.id=$K_ID"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=PLAINTEXT"
    echo "log.dirs=$K_DATA"
    echo "auto.create.topics.enable=false"
    echo "group.initial.rebalance.delay.ms=0"
    # after a kill -9 the restarted node cannot register again until the old registration's
    # session expired (DUPLICATE_BROKER_REGISTRATION): shorter than the 9000 ms default
    echo "broker.session.timeout.ms=6000"
    echo "broker.heartbeat.interval.ms=1000"
    echo "group.min.session.timeout.ms=1000"
    echo "num.recovery.threads.per.data.dir=1"
    echo "num.network.threads=2"
    if [ "$K_NAME" = kafka ]; then
      echo "controller.quorum.voters=$K_ID@$HOST:$K_CTRL_PORT"
      echo "listeners=PLAINTEXT://$HOST:$K_PORT,CONTROLLER://$HOST:$K_CTRL_PORT,SASL_PLAINTEXT://$HOST:$K_SASL_PORT"
      echo "advertised.listeners=PLAINTEXT://$HOST:$K_PORT,SASL_PLAINTEXT://$HOST:$K_SASL_PORT"
      echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
      echo "sasl.enabled.mechanisms=SCRAM-SHA-512"
      echo "listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512"
      echo "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "num.io.threads=4"
      echo "num.partitions=1"
      echo "default.replication.factor=1"
      echo "min.insync.replicas=1"
      echo "offsets.topic.replication.factor=1"
      echo "offsets.topic.num.partitions=1"
      echo "transaction.state.log.replication.factor=1"
      echo "transaction.state.log.min.isr=1"
      echo "transaction.state.log.num.partitions=1"
    else
      echo "controller.quorum.voters=$(kafka_cluster_voters)"
      echo "listeners=PLAINTEXT://$HOST:$K_PORT,CONTROLLER://$HOST:$K_CTRL_PORT"
      echo "advertised.listeners=PLAINTEXT://$HOST:$K_PORT"
      echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
      echo "num.io.threads=2"
      echo "num.partitions=3"
      echo "default.replication.factor=3"
      echo "min.insync.replicas=2"
      echo "offsets.topic.replication.factor=3"
      echo "offsets.topic.num.partitions=3"
      echo "transaction.state.log.replication.factor=3"
      echo "transaction.state.log.min.isr=2"
      echo "transaction.state.log.num.partitions=3"
      echo "unclean.leader.election.enable=false"
      # faster ISR shrink for failover tests (default 30000)
      echo "replica.lag.time.max.ms=10000"
    fi
  } >"$K_CONF.tmp"
  mv "$K_CONF.tmp" "$K_CONF"
}

new_cluster_id() { # a random base64url 16-byte id, as `kafka-storage random-uuid` prints
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || break
  done
  echo "$id"
}

# kafka_format: formats $K_DATA once (kept across restarts and crashes).
kafka_format() {
  [ -f "$K_DATA/meta.properties" ] && return 0
  local cid args=()
  if [ -s "$K_CLUSTER_ID_FILE" ]; then
    cid=$(cat "$K_CLUSTER_ID_FILE")
  else
    cid=$(new_cluster_id)
    mkdir -p "$(dirname "$K_CLUSTER_ID_FILE")"
    echo "$cid" >"$K_CLUSTER_ID_FILE"
  fi
  if [ "$K_NAME" = kafka ]; then
    args+=(--add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]")
  fi
  echo "[$(date '+%F %T')] scripts/services: formatting $K_DATA (cluster id $cid)" >>"$K_LOG"
  kafka_java kafka.tools.StorageTool format --ignore-formatted -t "$cid" -c "$K_CONF" "${args[@]}" \
    >>"$K_LOG" 2>&1 9>&- || die "$K_NAME: kafka-storage format failed" "$K_LOG"
}

# kafka_check_ports: the ports of the selected (stopped) node are free.
kafka_check_ports() {
  local busy
  for busy in $K_PORT $K_CTRL_PORT $K_SASL_PORT; do
    if port_open "$busy"; then
      die "$K_NAME: port $busy is already in use by another process (pid $(pid_on_port "$busy"))"
    fi
  done
}

# kafka_launch: starts the JVM for the selected node in the background (own session, survives the
# caller). Sets K_PID and K_LOG_OFFSET (where this start's output begins in $K_LOG).
kafka_launch() {
  local pidf
  pidf=$(pid_file "$K_NAME")
  kafka_check_ports
  if [ "$(file_size "$K_LOG")" -gt $((64 * 1024 * 1024)) ]; then mv -f "$K_LOG" "$K_LOG.1"; fi
  echo "[$(date '+%F %T')] scripts/services: starting $K_NAME (Kafka $KAFKA_VERSION, $K_CONF)" >>"$K_LOG"
  K_LOG_OFFSET=$(file_size "$K_LOG")
  rm -f "$pidf"
  # shellcheck disable=SC2086 # K_HEAP holds several options
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidf" \
    "$JAVA" $K_HEAP "${KAFKA_JVM_OPTS[@]}" "-Dedakit.service=$K_NAME" \
    "-Dlog4j.configuration=file:$SERVICES_DIR/kafka/log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$K_CONF" \
    </dev/null >>"$K_LOG" 2>&1 9>&- &
  local tries=50
  until [ -s "$pidf" ] || [ "$tries" -eq 0 ]; do
    sleep 0.1
    tries=$((tries - 1))
  done
  K_PID=$(cat "$pidf" 2>/dev/null || true)
  [ -n "$K_PID" ] || die "$K_NAME: could not start java" "$K_LOG"
}

# kafka_wait_started: waits for "Kafka Server started" (after K_LOG_OFFSET) and then the listeners.
kafka_wait_started() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until log_has_since "$K_LOG" "$K_LOG_OFFSET" "$KAFKA_STARTED_TEXT"; do
    pid_alive "$K_PID" || die "$K_NAME: broker exited during startup" "$K_LOG"
    [ "$SECONDS" -lt "$deadline" ] ||
      die "$K_NAME: no \"$KAFKA_STARTED_TEXT\" after ${KAFKA_START_TIMEOUT}s (pid $K_PID still running)" "$K_LOG"
    sleep 0.5
  done
  wait_for_port "$K_PORT" 30 "$K_NAME" "$K_PID" "$K_LOG"
  [ -z "$K_SASL_PORT" ] || wait_for_port "$K_SASL_PORT" 30 "$K_NAME" "$K_PID" "$K_LOG"
}

# kafka_node_state NAME: sets K_* (kafka_node_vars), K_PID and K_STATE =
# running | paused | starting | stopped | foreign (port served by a process we did not start).
kafka_node_state() {
  kafka_node_vars "$1"
  local had_pid_file=
  [ ! -f "$(pid_file "$1")" ] || had_pid_file=1
  K_PID=$(read_pid "$1" || true)
  if [ -z "$K_PID" ] && [ -n "$had_pid_file" ]; then
    # our broker just died (e.g. kill -9 by a test): its sockets may close a moment later
    local tries=50
    while port_open "$K_PORT" && [ "$tries" -gt 0 ]; do
      sleep 0.2
      tries=$((tries - 1))
    done
  fi
  if [ -n "$K_PID" ]; then
    if [ "$(pid_state "$K_PID")" = T ]; then
      K_STATE=paused
    elif port_open "$K_PORT"; then
      K_STATE=running
    else
      K_STATE=starting
    fi
  elif port_open "$K_PORT"; then
    K_PID=$(pid_on_port "$K_PORT")
    K_STATE=foreign
  else
    K_STATE=stopped
  fi
}

# stale_edakit_broker PID: true when PID is a Kafka broker that scripts/services launched
# (its command line runs kafka.Kafka with a config under a .services/kafka folder).
stale_edakit_broker() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  case "$cmdline" in
    *kafka.Kafka*/.services/kafka*) return 0 ;;
    *) return 1 ;;
  esac
}

# replace_stale_broker NAME: on `up` only (status and down never call it). A port held by a
# broker that scripts/services launched from another checkout (CI runs in a fresh clone on
# the machine a developer used) is ours, but its pid file is elsewhere: stop it so tests that
# kill and restart the broker control the process they talk to. Sets K_STATE=stopped when done.
replace_stale_broker() {
  [ -n "${K_PID:-}" ] && stale_edakit_broker "$K_PID" || return 1
  echo "$1: stopping pid $K_PID, a broker started by scripts/services from another checkout"
  kill -TERM "$K_PID" 2>/dev/null || true
  local waits=150
  while kill -0 "$K_PID" 2>/dev/null && [ "$waits" -gt 0 ]; do
    sleep 0.2
    waits=$((waits - 1))
  done
  kill -KILL "$K_PID" 2>/dev/null || true
  waits=50
  while port_open "$K_PORT" && [ "$waits" -gt 0 ]; do
    sleep 0.2
    waits=$((waits - 1))
  done
  K_PID=
  K_STATE=stopped
}

kafka_report() { report "$K_NAME" "$1" "$K_ADDR" "$K_PID" "$K_LOG"; }

# kafka_node_begin NAME: if the node is not running, formats (once) and launches it without waiting.
# Sets K_STATE_<n> to "running" or "started" (the caller then runs kafka_node_finish). Calling it
# again for the same node in the same run does nothing.
kafka_node_begin() {
  local state bv="K_STATE_${1//-/_}"
  [ -z "${!bv:-}" ] || return 0
  kafka_node_state "$1"
  state=$K_STATE
  if [ "$state" = foreign ]; then
    replace_stale_broker "$1" || die "$1: $HOST:$K_PORT is already served by a process not started by scripts/services (pid ${K_PID:-?})"
    state=stopped
  fi
  case "$state" in
    running) ;;
    paused) die "$1: pid $K_PID is paused (SIGSTOP); resume it with scripts/services/kafka-node resume" ;;
    starting) ;; # finish waits for the port
    stopped)
      kafka_fetch
      command -v "$JAVA" >/dev/null || die "java not found (set JAVA_HOME or install a JDK; tested with OpenJDK 17)"
      kafka_write_config
      kafka_format
      kafka_launch
      state=started
      ;;
  esac
  printf -v "K_STATE_${1//-/_}" '%s' "$state"
  printf -v "K_OFFSET_${1//-/_}" '%s' "${K_LOG_OFFSET:-0}"
}

# kafka_node_finish NAME: waits until the node begun by kafka_node_begin serves clients; prints its line.
kafka_node_finish() {
  local sv="K_STATE_${1//-/_}" ov="K_OFFSET_${1//-/_}"
  kafka_node_vars "$1"
  K_PID=$(read_pid "$1" || true)
  [ -n "$K_PID" ] || die "$1: broker exited during startup" "$K_LOG"
  case "${!sv}" in
    started)
      K_LOG_OFFSET=${!ov}
      kafka_wait_started
      ;;
    starting)
      wait_for_port "$K_PORT" "$KAFKA_START_TIMEOUT" "$1" "$K_PID" "$K_LOG"
      [ -z "$K_SASL_PORT" ] || wait_for_port "$K_SASL_PORT" 30 "$1" "$K_PID" "$K_LOG"
      ;;
  esac
}

kafka_node_stop() { # NAME [term|kill]
  kafka_node_state "$1"
  case "$K_STATE" in
    stopped | foreign) kafka_report "$K_STATE" ;;
    *) kafka_stop_pid "$1" "$K_PID" "${2:-term}" ;;
  esac
}

# kafka_stop_pid NAME PID term|kill [GRACE]: ends our node process PID (SIGTERM: SIGKILL after
# GRACE seconds, default 30) and waits until its ports are free.
kafka_stop_pid() {
  local name=$1 pid=$2 how=$3 grace=${4:-30} port
  kafka_node_vars "$name"
  if [ "$how" = kill ]; then kill_pid "$pid"; else stop_pid "$pid" "$grace" "$name"; fi
  rm -f "$(pid_file "$name")"
  # the JVM's threads may still hold the sockets for a moment after the main thread is gone
  for port in $K_PORT $K_CTRL_PORT $K_SASL_PORT; do
    wait_until 15 "$name: port $port still open after pid $pid ended" "$K_LOG" port_closed "$port"
  done
  echo "[$(date '+%F %T')] scripts/services: $name pid $pid stopped (SIG${how^^})" >>"$K_LOG"
  K_PID=$pid
  if [ "$how" = kill ]; then kafka_report killed; else kafka_report stopped; fi
}

# kafka_cluster_brokers: number of brokers the cluster's metadata reports (registered and unfenced).
kafka_cluster_brokers() {
  kafka_java kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$(kafka_cluster_bootstrap)" \
    2>/dev/null 9>&- | grep -cE '^[^ ]+ \(id: [0-9]+ rack: ' || true
}

# kafka_cluster_wait_registered: until all cluster nodes are registered brokers.
kafka_cluster_wait_registered() {
  local want=${#KAFKA_CLUSTER_NODES[@]} have=0 deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    have=$(kafka_cluster_brokers)
    [ "${have:-0}" -ge "$want" ] && return 0
    [ "$SECONDS" -lt "$deadline" ] ||
      die "kafka-cluster: only ${have:-0} of $want brokers registered after ${KAFKA_START_TIMEOUT}s" \
        "$LOG_DIR/kafka-cluster-*.log"
    sleep 1
  done
}

# kafka_shown_state NAME: "started" when this run launched the node, else "running".
kafka_shown_state() {
  local sv="K_STATE_${1//-/_}"
  if [ "${!sv:-}" = started ]; then echo started; else echo running; fi
}

kafka_up() {
  kafka_node_begin kafka
  kafka_node_finish kafka
  kafka_report "$(kafka_shown_state kafka)"
}

# kafka_cluster_begin: launches the stopped cluster nodes (after checking that all their ports are free).
kafka_cluster_begin() {
  local n
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_node_state "kafka-cluster-$n"
    case "$K_STATE" in
      stopped) kafka_check_ports ;;
      foreign) replace_stale_broker "kafka-cluster-$n" || die "kafka-cluster-$n: $HOST:$K_PORT is already served by a process not started by scripts/services (pid ${K_PID:-?})" ;;
    esac
  done
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_node_begin "kafka-cluster-$n"; done
}

kafka_cluster_up() {
  local n
  kafka_cluster_begin
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_node_finish "kafka-cluster-$n"; done
  kafka_cluster_wait_registered
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_node_vars "kafka-cluster-$n"
    K_PID=$(read_pid "kafka-cluster-$n" || true)
    kafka_report "$(kafka_shown_state "kafka-cluster-$n")"
  done
}

kafka_down() { kafka_node_stop kafka term; }

kafka_cluster_down() {
  # SIGTERM all nodes at once, then wait for each. Whichever node is the last one in controlled
  # shutdown usually cannot finish it (its partitions have no other live replica to move to and the
  # controller quorum is gone with the other two nodes), so it gets SIGKILL after
  # KAFKA_CLUSTER_STOP_GRACE seconds (default 15; its logs are recovered on the next start).
  local n pids=()
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_node_state "kafka-cluster-$n"
    case "$K_STATE" in
      stopped | foreign) pids[n]= ;;
      *)
        pids[n]=$K_PID
        kill -TERM "$K_PID" 2>/dev/null || true
        kill -CONT "$K_PID" 2>/dev/null || true
        ;;
    esac
  done
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    if [ -n "${pids[n]}" ]; then
      kafka_stop_pid "kafka-cluster-$n" "${pids[n]}" term "${KAFKA_CLUSTER_STOP_GRACE:-15}"
    else
      kafka_status_line "kafka-cluster-$n"
    fi
  done
}

kafka_status_line() { # NAME
  kafka_node_state "$1"
  kafka_report "$K_STATE"
}

# =============================================================================================
# RabbitMQ, Redis, PostgreSQL (system services; left running by default)

REDIS_PORT=6379
RABBITMQ_PORT=5672
PG_PORT=5432
PG_TEST_DB=edakit_test

# --- Redis
redis_ping() { [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_logfile() {
  local f
  f=$(redis-cli -h "$HOST" -p "$REDIS_PORT" config get logfile 2>/dev/null | sed -n 2p)
  echo "${f:-/var/log/redis/ci.log}"
}

redis_up() {
  local state=running
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then apt_install redis-server; fi
  if ! redis_ping; then
    if port_open "$REDIS_PORT"; then
      die "redis: $HOST:$REDIS_PORT is open but does not answer PING (pid $(pid_on_port "$REDIS_PORT"))"
    fi
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >>"$LOG_DIR/redis.log" 2>&1 9>&- ||
      die "redis: redis-server failed to start" "/var/log/redis/ci.log"
    wait_until 30 "redis: no PONG from $HOST:$REDIS_PORT" /var/log/redis/ci.log redis_ping
    state=started
  fi
  # the outbox/saga stores refuse to run on an evicting Redis
  redis-cli -h "$HOST" -p "$REDIS_PORT" config set maxmemory-policy noeviction >/dev/null ||
    die "redis: CONFIG SET maxmemory-policy noeviction failed" "$(redis_logfile)"
  report redis "$state" "$HOST:$REDIS_PORT" "$(pid_on_port "$REDIS_PORT")" "$(redis_logfile)"
}

redis_down() {
  if ! redis_ping; then
    report redis stopped "$HOST:$REDIS_PORT" - /var/log/redis/ci.log
    return 0
  fi
  local pid log
  pid=$(pid_on_port "$REDIS_PORT")
  log=$(redis_logfile)
  redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  wait_until 30 "redis: still answering after SHUTDOWN" "$log" port_closed "$REDIS_PORT"
  report redis stopped "$HOST:$REDIS_PORT" "$pid" "$log"
}

redis_status() {
  if redis_ping; then
    local policy
    policy=$(redis-cli -h "$HOST" -p "$REDIS_PORT" config get maxmemory-policy 2>/dev/null | sed -n 2p)
    report redis "running" "$HOST:$REDIS_PORT policy=$policy" "$(pid_on_port "$REDIS_PORT")" "$(redis_logfile)"
  else
    report redis stopped "$HOST:$REDIS_PORT" - /var/log/redis/ci.log
  fi
}

# --- PostgreSQL (Debian cluster "main" of the newest installed major version)
pg_version() { find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1; }
pg_ready() { pg_isready -q -h "$HOST" -p "$PG_PORT" >/dev/null 2>&1; }
pg_logfile() {
  local v f
  v=$(pg_version)
  f=$(pg_lsclusters -h 2>/dev/null | awk -v v="$v" '$1 == v && $2 == "main" { print $7 }')
  echo "${f:-/var/log/postgresql/postgresql-$v-main.log}"
}
pg_psql() { psql -X -w -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

pg_ensure_trust() {
  pg_psql -Atc 'select 1' >/dev/null 2>&1 && return 0
  local hba
  hba=$(runuser -u postgres -- psql -X -Atc 'show hba_file' 2>/dev/null) ||
    die "postgres: cannot log in as postgres on $HOST:$PG_PORT" "$(pg_logfile)"
  [ "${PG_JUST_INSTALLED:-}" = 1 ] ||
    die "postgres: user postgres needs a password on $HOST:$PG_PORT; tests expect trust auth for 127.0.0.1 in $hba"
  note "postgres: enabling trust auth for 127.0.0.1/::1 in $hba (fresh install)"
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  runuser -u postgres -- psql -X -qc 'select pg_reload_conf()' >/dev/null
  wait_until 10 "postgres: trust auth still refused" "$(pg_logfile)" pg_psql -Atc 'select 1'
}

postgres_up() {
  local state=running v
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(pg_version)" ]; then
    apt_install postgresql
    PG_JUST_INSTALLED=1
  fi
  v=$(pg_version)
  if ! pg_ready; then
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >>"$LOG_DIR/postgres.log" 2>&1 9>&- ||
      die "postgres: pg_ctlcluster $v main start failed" "$(pg_logfile)"
    wait_until 60 "postgres: pg_isready -h $HOST fails" "$(pg_logfile)" pg_ready
    state=started
  fi
  pg_ensure_trust
  if [ "$(pg_psql -Atc "select 1 from pg_database where datname = '$PG_TEST_DB'")" != 1 ]; then
    pg_psql -c "create database $PG_TEST_DB" >/dev/null 2>&1 ||
      [ "$(pg_psql -Atc "select 1 from pg_database where datname = '$PG_TEST_DB'")" = 1 ] ||
      die "postgres: could not create database $PG_TEST_DB" "$(pg_logfile)"
  fi
  report postgres "$state" "$HOST:$PG_PORT db=$PG_TEST_DB" "$(pid_on_port "$PG_PORT")" "$(pg_logfile)"
}

postgres_down() {
  local v pid
  v=$(pg_version)
  if [ -z "$v" ] || ! pg_ready; then
    report postgres stopped "$HOST:$PG_PORT" - "$(pg_logfile)"
    return 0
  fi
  pid=$(pid_on_port "$PG_PORT")
  pg_ctlcluster --skip-systemctl-redirect "$v" main stop >>"$LOG_DIR/postgres.log" 2>&1 9>&- ||
    die "postgres: pg_ctlcluster $v main stop failed" "$(pg_logfile)"
  report postgres stopped "$HOST:$PG_PORT" "$pid" "$(pg_logfile)"
}

postgres_status() {
  if pg_ready; then
    local db="db=$PG_TEST_DB"
    [ "$(pg_psql -Atc "select 1 from pg_database where datname = '$PG_TEST_DB'" 2>/dev/null)" = 1 ] || db="$db(missing)"
    report postgres running "$HOST:$PG_PORT $db" "$(pid_on_port "$PG_PORT")" "$(pg_logfile)"
  else
    report postgres stopped "$HOST:$PG_PORT" - "$(pg_logfile)"
  fi
}

# --- RabbitMQ
rabbitmq_running() { rabbitmq-diagnostics -q check_running >/dev/null 2>&1 9>&-; }
rabbitmq_logfile() {
  local f
  f=$(rabbitmq-diagnostics -q log_location 2>/dev/null 9>&- | head -n 1)
  if [ -z "$f" ]; then
    for f in /var/log/rabbitmq/rabbit@*.log ""; do
      case "$f" in *_upgrade.log) ;; *) break ;; esac
    done
  fi
  echo "${f:-/var/log/rabbitmq}"
}

rabbitmq_up() {
  local state=running
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  if ! rabbitmq_running; then
    if ! port_open "$RABBITMQ_PORT"; then
      rabbitmq-server -detached >>"$LOG_DIR/rabbitmq.log" 2>&1 9>&- ||
        die "rabbitmq: rabbitmq-server -detached failed" "$LOG_DIR/rabbitmq.log"
      state=started
    fi
    wait_until 120 "rabbitmq: node not running (rabbitmq-diagnostics check_running)" \
      "$(rabbitmq_logfile)" rabbitmq_running
  fi
  wait_for_port "$RABBITMQ_PORT" 60 rabbitmq "" "$(rabbitmq_logfile)"
  report rabbitmq "$state" "$HOST:$RABBITMQ_PORT guest/guest" "$(pid_on_port "$RABBITMQ_PORT")" "$(rabbitmq_logfile)"
}

rabbitmq_down() {
  local log pid
  log=$(rabbitmq_logfile)
  if ! rabbitmq_running && ! port_open "$RABBITMQ_PORT"; then
    report rabbitmq stopped "$HOST:$RABBITMQ_PORT" - "$log"
    return 0
  fi
  pid=$(pid_on_port "$RABBITMQ_PORT")
  rabbitmqctl -q stop >>"$LOG_DIR/rabbitmq.log" 2>&1 9>&- || die "rabbitmq: rabbitmqctl stop failed" "$log"
  [ -z "$pid" ] || wait_gone "$pid" 60 || die "rabbitmq: pid $pid still running after rabbitmqctl stop" "$log"
  report rabbitmq stopped "$HOST:$RABBITMQ_PORT" "$pid" "$log"
}

rabbitmq_status() {
  if rabbitmq_running && port_open "$RABBITMQ_PORT"; then
    report rabbitmq running "$HOST:$RABBITMQ_PORT guest/guest" "$(pid_on_port "$RABBITMQ_PORT")" "$(rabbitmq_logfile)"
  else
    report rabbitmq stopped "$HOST:$RABBITMQ_PORT" - "$(rabbitmq_logfile)"
  fi
}

# =============================================================================================
# argument handling shared by up/down

SERVICES_ALL=(kafka rabbitmq redis postgres)

# expand_services ARGS...: validated service names ("all" expands; default all).
expand_services() {
  local a out=()
  [ $# -gt 0 ] || set -- all
  for a in "$@"; do
    case "$a" in
      all) out+=("${SERVICES_ALL[@]}") ;;
      kafka | kafka-cluster | rabbitmq | redis | postgres) out+=("$a") ;;
      *) die "unknown service '$a' (expected kafka, kafka-cluster, rabbitmq, redis, postgres or all)" ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}
