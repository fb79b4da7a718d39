#!/usr/bin/env bash
# Bring gep up on one Debian 12 machine: the PostgreSQL role and database, gep in a venv, the data folder, the
# environment file, nginx with TLS in front of `gep serve`, and the web and worker services: with systemd when it
# is PID 1, otherwise as plain processes with pid files (containers have no systemd).
#
#   deploy/install.sh [install]   bring everything up (the default); run it again after changing a setting
#   deploy/install.sh stop        stop the services (the systemd units, or the processes the direct mode started)
#   deploy/install.sh upgrade     stop, install the new gep, migrate the database, start
#   deploy/install.sh backup      one archive into GEP_BACKUP_DIR now (the systemd timer makes one every night)
#   deploy/install.sh restore --restore-archive FILE   stop, set the data folder and database aside, restore, start
#   deploy/install.sh --help      the settings and their defaults
#
# Every setting is an environment variable GEP_NAME or an option --name=VALUE (or --name VALUE):
#   deploy/install.sh --server-name gep.example.org --create-db 1 --admin-user alice --admin-password '…'
#
# docs/deploy.md explains each step; its command blocks are the functions below, verbatim, and
# tests/test_deploy.py checks that the two agree and runs this script (direct mode) against PostgreSQL.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # bash 5.2: '&' in a replacement is literal, as in a password
DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=$DEPLOY/install.sh

settings() {
  : "${GEP_PREFIX:=}"                        # a folder every path below starts in (the test installs into one)
  : "${GEP_MODE:=auto}"                      # systemd, direct (plain processes), or auto: systemd when it runs
  : "${GEP_USER:=gep}"                       # the system user the services run as; made when missing
  : "${GEP_GROUP:=$GEP_USER}"
  : "${GEP_SERVER_NAME:=$(hostname --fqdn 2>/dev/null || hostname)}"  # the name people reach gep at
  : "${GEP_HTTPS_PORT:=443}"
  : "${GEP_HTTP_PORT:=80}"                   # answers with a redirect to HTTPS
  : "${GEP_PORT:=8000}"                      # gep serve, on 127.0.0.1 only
  : "${GEP_WORKERS:=2}"                      # gep worker processes
  : "${GEP_UPLOAD_MB:=2048}"                 # the largest upload (a region package); nginx takes 64 MB more
  : "${GEP_NGINX_BODY_MB:=$((GEP_UPLOAD_MB + 64))}"  # for the form around the files
  : "${GEP_PUBLIC_URL:=https://$GEP_SERVER_NAME$([ "$GEP_HTTPS_PORT" = 443 ] || echo ":$GEP_HTTPS_PORT")}"
  : "${GEP_DB_ROLE:=$GEP_USER}"              # the same name as the system user: no password over the socket
  : "${GEP_DB_NAME:=gep}"
  : "${GEP_DATABASE_URL:=postgresql+psycopg://$GEP_DB_ROLE@/$GEP_DB_NAME?host=/var/run/postgresql}"
  : "${GEP_CREATE_DB:=0}"                    # 1: create the role and the database when they are missing
  : "${GEP_PG_ADMIN:=postgres}"              # the system user that runs createuser and createdb; empty: the
                                             # current user, reaching the server by PGHOST, PGPORT and PGUSER
  : "${GEP_INSTALL_POSTGRESQL:=0}"           # 1: install the PostgreSQL server (Debian's package) here
  : "${GEP_SOURCE:=$(dirname "$DEPLOY")}"    # what pip installs: this checkout, a wheel file, or gep==VERSION
  : "${GEP_EXISTING_VENV:=}"                 # a venv with gep already in it, used as it is
  : "${GEP_VENV:=${GEP_EXISTING_VENV:-$GEP_PREFIX/opt/gep}}"
  : "${GEP_DATA_DIR:=$GEP_PREFIX/var/lib/gep}"
  : "${GEP_CACHE_DIR:=$GEP_PREFIX/var/cache/gep}"
  : "${GEP_LOG_DIR:=$GEP_PREFIX/var/log/gep}"
  : "${GEP_LOG_LEVEL:=INFO}"
  : "${GEP_LOG_FILES:=0}"                    # 1: the services write GEP_LOG_DIR/*.log instead of the journal
  : "${GEP_RUN_DIR:=$GEP_PREFIX/run/gep}"    # direct mode: pid files and nginx's temporary files
  : "${GEP_CONF_DIR:=$GEP_PREFIX/etc/gep}"
  : "${GEP_ENV_FILE:=$GEP_CONF_DIR/gep.env}"
  : "${GEP_TLS_CERT:=}"                      # the certificate (full chain) and its key; empty: a self-signed one
  : "${GEP_TLS_KEY:=}"
  : "${GEP_NGINX_DIR:=$GEP_PREFIX/etc/nginx}"
  : "${GEP_NGINX_USER:=www-data}"            # direct mode: the user of nginx's worker processes
  : "${GEP_SYSTEMD_DIR:=$GEP_PREFIX/etc/systemd/system}"
  : "${GEP_LOGROTATE_DIR:=$GEP_PREFIX/etc/logrotate.d}"
  : "${GEP_SBIN_DIR:=$GEP_PREFIX/usr/local/sbin}"  # where gep-manage goes
  : "${GEP_BACKUP_DIR:=$GEP_PREFIX/var/backups/gep}"  # nightly archives (copy them off the machine too)
  : "${GEP_BACKUP_KEEP:=30}"                 # how many archives stay in GEP_BACKUP_DIR
  : "${GEP_RESTORE_ARCHIVE:=}"               # `install.sh restore`: the archive to restore
  : "${GEP_ADMIN_USER:=}"                    # the first administrator, made when set
  : "${GEP_ADMIN_PASSWORD:=}"
}

# -- helpers the steps use ---------------------------------------------------------------------------------------

render() {  # render TEMPLATE DEST [MODE] [OWNER:GROUP]: a file of deploy/ with its @GEP_…@ placeholders filled in
  local text name owner=${4:-root:root}
  text=$(<"$DEPLOY/$1")
  for name in $(grep -o '@GEP_[A-Z0-9_]*@' "$DEPLOY/$1" | sort -u | tr -d @); do
    text=${text//@$name@/${!name}}
  done
  mkdir -p "$(dirname "$2")"
  printf '%s\n' "$text" | install -m "${3:-0644}" -o "${owner%%:*}" -g "${owner##*:}" /dev/stdin "$2"
}

pg_admin() {  # a PostgreSQL client command as the database's superuser
  if [ -n "$GEP_PG_ADMIN" ]; then runuser -u "$GEP_PG_ADMIN" -- "$@"; else "$@"; fi
}

alive() {  # a process that runs (a zombie no longer does)
  [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_pid() {  # the process of a pid file: SIGTERM, up to 60 s to hand its work back, then SIGKILL
  local pid
  pid=$(cat "$1")
  if [ -n "$pid" ] && alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 600); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then echo "$1: process $pid did not stop in 60 s; killed"; kill -KILL "$pid"; fi
  fi
  rm -f "$1"
}

# -- the steps (docs/deploy.md shows each one's body) -------------------------------------------------------------

step_packages() {
  apt-get update -q
  apt-get install -y -q nginx openssl curl postgresql-client python3-venv
}

step_postgresql() {
  apt-get install -y -q postgresql
}

step_user() {
  id -u "$GEP_USER" >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir "$GEP_DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$GEP_USER"
}

step_database() {
  [ "$(pg_admin psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$GEP_DB_ROLE'")" = 1 ] ||
    pg_admin createuser "$GEP_DB_ROLE"
  [ "$(pg_admin psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$GEP_DB_NAME'")" = 1 ] ||
    pg_admin createdb --owner="$GEP_DB_ROLE" --encoding=UTF8 --template=template0 "$GEP_DB_NAME"
}

step_venv() {
  python3 -m venv "$GEP_VENV"
  "$GEP_VENV/bin/pip" install --upgrade "$GEP_SOURCE"
}

step_folders() {
  install -d -o "$GEP_USER" -g "$GEP_GROUP" -m 0750 "$GEP_DATA_DIR" "$GEP_CACHE_DIR"
  install -d -o "$GEP_USER" -g "$GEP_GROUP" -m 0700 "$GEP_DATA_DIR/keys"
  install -d -o root -g adm -m 0750 "$GEP_LOG_DIR"
  install -d -o root -g "$GEP_GROUP" -m 0750 "$GEP_CONF_DIR"
  install -d -o "$GEP_USER" -g "$GEP_GROUP" -m 0700 "$GEP_BACKUP_DIR"
}

step_config() {
  if [ -e "$GEP_ENV_FILE" ]; then
    echo "kept $GEP_ENV_FILE as it is"
  else
    render gep.env.example "$GEP_ENV_FILE" 0640 "root:$GEP_GROUP"
  fi
  render gep-manage "$GEP_SBIN_DIR/gep-manage" 0755 root:root
}

step_tls() {
  install -d -m 0700 "$(dirname "$GEP_TLS_KEY")"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=$GEP_SERVER_NAME" -addext "subjectAltName=DNS:$GEP_SERVER_NAME,DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
    -keyout "$GEP_TLS_KEY" -out "$GEP_TLS_CERT"
}

step_nginx() {
  render nginx/gep.conf "$GEP_NGINX_DIR/sites-available/gep" 0644 root:root
  mkdir -p "$GEP_NGINX_DIR/sites-enabled"
  ln -sfn ../sites-available/gep "$GEP_NGINX_DIR/sites-enabled/gep"
  rm -f "$GEP_NGINX_DIR/sites-enabled/default"
}

step_units() {
  render systemd/gep-web.service "$GEP_SYSTEMD_DIR/gep-web.service" 0644 root:root
  render systemd/gep-worker@.service "$GEP_SYSTEMD_DIR/gep-worker@.service" 0644 root:root
  render systemd/gep-backup.service "$GEP_SYSTEMD_DIR/gep-backup.service" 0644 root:root
  render systemd/gep-backup.timer "$GEP_SYSTEMD_DIR/gep-backup.timer" 0644 root:root
  render logrotate/gep "$GEP_LOGROTATE_DIR/gep" 0644 root:root
}

step_log_files() {
  render systemd/web-log-file.conf "$GEP_SYSTEMD_DIR/gep-web.service.d/log-file.conf" 0644 root:root
  render systemd/worker-log-file.conf "$GEP_SYSTEMD_DIR/gep-worker@.service.d/log-file.conf" 0644 root:root
}

step_migrate() {
  gep-manage db upgrade
}

step_admin() {
  gep-manage user create "$GEP_ADMIN_USER" --role admin --password "$GEP_ADMIN_PASSWORD"
}

step_start_systemd() {
  systemctl daemon-reload
  systemctl enable --now gep-web.service
  for i in $(seq "$GEP_WORKERS"); do systemctl enable --now "gep-worker@$i.service"; done
  nginx -t
  systemctl enable nginx.service
  systemctl reload-or-restart nginx.service
  systemctl enable --now gep-backup.timer
}

step_start_direct() {
  install -d -m 0755 "$GEP_RUN_DIR"
  cd /
  nohup gep-manage serve --host 127.0.0.1 --port "$GEP_PORT" >>"$GEP_LOG_DIR/web.log" 2>&1 </dev/null &
  echo $! >"$GEP_RUN_DIR/web.pid"
  for i in $(seq "$GEP_WORKERS"); do
    nohup gep-manage worker >>"$GEP_LOG_DIR/worker-$i.log" 2>&1 </dev/null &
    echo $! >"$GEP_RUN_DIR/worker-$i.pid"
  done
  render nginx/direct.conf "$GEP_CONF_DIR/nginx-direct.conf" 0644 root:root
  nginx -t -q -e "$GEP_LOG_DIR/nginx-error.log" -c "$GEP_CONF_DIR/nginx-direct.conf"
  nginx -e "$GEP_LOG_DIR/nginx-error.log" -c "$GEP_CONF_DIR/nginx-direct.conf"
}

step_check() {
  curl --fail --silent --show-error --cacert "$GEP_TLS_CERT" \
    --resolve "$GEP_SERVER_NAME:$GEP_HTTPS_PORT:127.0.0.1" "https://$GEP_SERVER_NAME:$GEP_HTTPS_PORT/api/health"
}

step_stop_systemd() {
  systemctl stop gep-web.service 'gep-worker@*.service'
}

step_stop_direct() {
  for pidfile in "$GEP_RUN_DIR"/nginx.pid "$GEP_RUN_DIR"/web.pid "$GEP_RUN_DIR"/worker-*.pid; do
    if [ -e "$pidfile" ]; then stop_pid "$pidfile"; fi
  done
}

step_backup() {
  gep-manage backup "$GEP_BACKUP_DIR" --keep "$GEP_BACKUP_KEEP"
}

step_restore() {
  aside=$(date -u +%Y%m%dT%H%M%SZ)  # not `local`: the guide's readers paste this block into a shell
  mv "$GEP_DATA_DIR" "$GEP_DATA_DIR.before-restore-$aside"
  install -d -o "$GEP_USER" -g "$GEP_GROUP" -m 0750 "$GEP_DATA_DIR"
  pg_admin psql -v ON_ERROR_STOP=1 -c "ALTER DATABASE \"$GEP_DB_NAME\" RENAME TO \"${GEP_DB_NAME}_before_restore_$aside\""
  pg_admin createdb --owner="$GEP_DB_ROLE" --encoding=UTF8 --template=template0 "$GEP_DB_NAME"
  gep-manage restore "$GEP_RESTORE_ARCHIVE"
}

step_pip_upgrade() {
  "$GEP_VENV/bin/pip" install --upgrade "$GEP_SOURCE"
}

# -- the rest: not commands a person types --------------------------------------------------------------------------

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 2; }

usage() {
  sed -n '2,17p' "$SCRIPT" | sed 's/^# \{0,1\}//'
  echo
  echo "Settings (environment GEP_NAME, or --name VALUE) and their defaults:"
  sed -n '/^settings() {$/,/^}$/p' "$SCRIPT" | sed '1d;$d'
}

set_option() {  # --data-dir VALUE sets GEP_DATA_DIR
  local var
  var=GEP_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
  grep -q "^  : \"\${$var:=" "$SCRIPT" || die "unknown option --$1 (see --help)"
  printf -v "$var" '%s' "$2"
}

systemd_mode() {
  case "$GEP_MODE" in
    systemd) return 0 ;;
    direct) return 1 ;;
    auto) [ -d /run/systemd/system ] ;;
    *) die "GEP_MODE is systemd, direct or auto, not $GEP_MODE" ;;
  esac
}

check_settings() {
  [ "$(id -u)" = 0 ] || die "run as root: it makes a system user, folders owned by it, and services"
  local name
  for name in GEP_USER GEP_DB_ROLE GEP_DB_NAME; do
    [[ ${!name} =~ ^[a-z_][a-z0-9_-]*$ ]] || die "$name must be lower-case letters, digits, - and _: ${!name}"
  done
  for name in GEP_HTTPS_PORT GEP_HTTP_PORT GEP_PORT GEP_WORKERS; do
    [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a number: ${!name}"
  done
}

missing_packages() {  # true when a command the install needs is not there
  local cmd
  for cmd in nginx openssl curl pg_dump; do command -v "$cmd" >/dev/null || return 0; done
  if [ -z "$GEP_EXISTING_VENV" ] && ! python3 -c 'import ensurepip' 2>/dev/null; then return 0; fi
  return 1
}

wait_ready() {  # gep serve answers (it migrates first), or its log says why not
  local url="http://127.0.0.1:$GEP_PORT/api/health"
  for _ in $(seq 240); do
    if curl --fail --silent --output /dev/null "$url"; then return 0; fi
    if systemd_mode && systemctl is-failed --quiet gep-web.service; then
      journalctl -u gep-web.service -n 30 --no-pager >&2 || true
      die "gep-web.service failed: journalctl -u gep-web.service"
    elif ! systemd_mode && ! alive "$(cat "$GEP_RUN_DIR/web.pid")"; then
      tail -n 30 "$GEP_LOG_DIR/web.log" >&2 || true
      die "gep serve stopped; its log is $GEP_LOG_DIR/web.log"
    fi
    sleep 0.5
  done
  die "gep serve did not answer at $url within 2 minutes"
}

run() { say "$1"; "$1"; }

install_all() {
  check_settings
  if missing_packages; then run step_packages; fi
  if [ "$GEP_INSTALL_POSTGRESQL" = 1 ]; then run step_postgresql; fi
  run step_user
  if [ "$GEP_CREATE_DB" = 1 ]; then run step_database; fi
  if [ -n "$GEP_EXISTING_VENV" ]; then say "using the venv $GEP_VENV as it is"; else run step_venv; fi
  [ -x "$GEP_VENV/bin/gep" ] || die "$GEP_VENV/bin/gep is missing"
  run step_folders
  run step_config
  if [ -z "$GEP_TLS_CERT" ]; then
    GEP_TLS_CERT=$GEP_CONF_DIR/tls/gep.crt GEP_TLS_KEY=$GEP_CONF_DIR/tls/gep.key
    if [ -e "$GEP_TLS_CERT" ]; then say "kept the certificate $GEP_TLS_CERT"; else run step_tls; fi
  fi
  if [ ! -r "$GEP_TLS_CERT" ] || [ ! -r "$GEP_TLS_KEY" ]; then die "cannot read $GEP_TLS_CERT or $GEP_TLS_KEY"; fi
  run step_nginx
  run step_units
  if [ "$GEP_LOG_FILES" = 1 ]; then run step_log_files; fi
  run step_migrate
  if [ -n "$GEP_ADMIN_USER" ]; then run step_admin; fi
  if running; then stop; fi  # a second run: started again, with what changed
  start
  say "gep is at $GEP_PUBLIC_URL/ ($(systemd_mode && echo systemd || echo "direct mode: stop with $SCRIPT stop"))"
}

running() {
  if systemd_mode; then
    systemctl is-active --quiet gep-web.service 'gep-worker@*.service'
  else
    compgen -G "$GEP_RUN_DIR/*.pid" >/dev/null
  fi
}

start() {
  if systemd_mode; then run step_start_systemd; else run step_start_direct; fi
  wait_ready
  run step_check
}

stop() {
  if systemd_mode; then run step_stop_systemd; else run step_stop_direct; fi
}

upgrade() {
  check_settings
  stop
  if [ -n "$GEP_EXISTING_VENV" ]; then say "using the venv $GEP_VENV as it is"; else run step_pip_upgrade; fi
  run step_migrate
  : "${GEP_TLS_CERT:=$GEP_CONF_DIR/tls/gep.crt}"
  start
}

restore() {
  check_settings
  [ -r "$GEP_RESTORE_ARCHIVE" ] || die "give the archive to restore: --restore-archive FILE"
  stop
  run step_restore
  : "${GEP_TLS_CERT:=$GEP_CONF_DIR/tls/gep.crt}"
  start
}

main() {
  local action=install opt
  while [ $# -gt 0 ]; do
    case "$1" in
      install | stop | upgrade | backup | restore) action=$1 ;;
      -h | --help) usage; exit 0 ;;
      --*=*) opt=${1%%=*}; set_option "${opt#--}" "${1#*=}" ;;
      --*) [ $# -ge 2 ] || die "$1 needs a value"; set_option "${1#--}" "$2"; shift ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
  done
  settings
  export PATH="$GEP_SBIN_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  case "$action" in
    install) install_all ;;
    stop) stop ;;
    upgrade) upgrade ;;
    backup) run step_backup ;;
    restore) restore ;;
  esac
}

main "$@"
