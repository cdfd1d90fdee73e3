#!/usr/bin/env bash
# The local mail server of the devnet and the tests: a Postfix instance of our own (Debian's `postfix`, installed by
# scripts/setup.sh), separate from any system MTA (own config, queue and data directories, own master process).
#   scripts/mail.sh start          start it (idempotent); waits until the port answers with an SMTP greeting
#   scripts/mail.sh stop           stop it (only ours)
#   scripts/mail.sh status         up or down, port, mailbox directory; exit 0 when up, 3 when down
#   scripts/mail.sh box ADDRESS    the Maildir of that recipient
#   scripts/mail.sh clear          delete every delivered message (the Maildirs themselves stay)
# It listens on 127.0.0.1:$REFERRAL_SMTP_PORT (default 2525) only, plain SMTP, no AUTH and no TLS (lettre's
# builder_dangerous(host).port(p)), messages up to 50 MiB. Every recipient in every domain is accepted and delivered
# by Postfix's virtual(8) agent into the Maildir $REFERRAL_MAIL_DIR/<recipient address, lowercased>/{new,cur,tmp}.
# Nothing is ever relayed: there is no SMTP client transport at all, and every other transport is `error`.
# A delivered file is the message as received (header and body unchanged, lines ending in LF as Maildir stores them)
# below the trace headers the MTA prepends: Return-Path, X-Original-To, Delivered-To and its own Received.
# State (config, queue, data, log): $REFERRAL_MAIL_STATE (default /var/lib/referral-mail); log: $STATE/log/maillog.
# Delivered files belong to $REFERRAL_MAIL_USER (default: the sudo caller, else the system user referral-mail, made
# when missing) with mode 0600: root and that user can read them.
set -euo pipefail

STATE=${REFERRAL_MAIL_STATE:-/var/lib/referral-mail}
BOXES=${REFERRAL_MAIL_DIR:-$STATE/boxes}
PORT=${REFERRAL_SMTP_PORT:-2525}
CONF=$STATE/etc
START_TIMEOUT=${REFERRAL_MAIL_START_TIMEOUT:-20}

log() { printf '\033[1;36m[mail]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[mail]\033[0m %s\n' "$*" >&2; exit 1; }

# Postfix's master runs as root; re-run through sudo (keeping REFERRAL_* settings) when we are not.
as_root() {
  [ "$(id -u)" = 0 ] && return 0
  command -v sudo >/dev/null || die "$1 needs root (and sudo is missing)"
  exec sudo --preserve-env=REFERRAL_MAIL_STATE,REFERRAL_MAIL_DIR,REFERRAL_SMTP_PORT,REFERRAL_MAIL_USER,REFERRAL_MAIL_START_TIMEOUT \
    "$0" "$@"
}

# Lowercased as Postfix folds it (ASCII only).
lower() { printf '%s' "$1" | LC_ALL=C tr '[:upper:]' '[:lower:]'; }

master_pid() { { tr -dc '0-9' <"$STATE/spool/pid/master.pid"; } 2>/dev/null || true; }
# Our master process is alive: the pid in our queue directory's pid file, a Postfix master, and with our
# configuration directory (never another Postfix instance, nor a reused pid). Without root (the pid file is root's
# only): our own greeting on the port.
running() {
  [ -f "$CONF/main.cf" ] || return 1
  if [ "$(id -u)" != 0 ]; then
    smtp_ready
    return
  fi
  local pid
  pid=$(master_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ] &&
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$CONF"
}

BANNER="referral-mail.localhost ESMTP referral-mail"
# Connects and reads the greeting: true only when our server (its banner) answers 220 on the port.
smtp_ready() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    printf "QUIT\r\n" >&3
    case "$line" in "220 $2"*) exit 0 ;; *) exit 1 ;; esac' _ "$PORT" "$BANNER" 2>/dev/null
}
# shellcheck disable=SC2016 # expanded by the inner bash
port_taken() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$PORT" 2>/dev/null; }

delivery_user() {
  local user=${REFERRAL_MAIL_USER:-}
  if [ -z "$user" ]; then
    if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then user=$SUDO_USER; else user=referral-mail; fi
  fi
  if ! id -u "$user" >/dev/null 2>&1; then
    [ "$user" = referral-mail ] || die "delivery user $user does not exist"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin referral-mail
  fi
  [ "$(id -u "$user")" != 0 ] || die "mail is never delivered as root: set REFERRAL_MAIL_USER to another user"
  echo "$user"
}

write_config() {
  local user=$1 uid gid
  uid=$(id -u "$user")
  gid=$(id -g "$user")
  d() { postconf -d -h "$1"; }
  mkdir -p "$CONF.new"
  # Every recipient address without a '/' has the Maildir <address, lowercased>/ (a trailing slash means Maildir).
  # A lookup table that computes it: virtual(8) refuses regexp/pcre substitutions as paths, so the table is an SQL
  # query over an empty SQLite database (Postfix escapes the quotes in %s).
  : >"$CONF.new/empty.sqlite"
  cat >"$CONF.new/mailboxes.sqlite.cf" <<EOF
dbpath = $CONF/empty.sqlite
query = SELECT lower('%s') || '/' WHERE instr('%s', '/') = 0 AND instr('%s', '@') > 1
EOF
  cat >"$CONF.new/main.cf" <<EOF
# Written by scripts/mail.sh (rewritten at each start): the referral project's own local Postfix instance.
compatibility_level = 3.6
config_directory = $CONF
queue_directory = $STATE/spool
data_directory = $STATE/data
meta_directory = $(d meta_directory)
daemon_directory = $(d daemon_directory)
command_directory = $(d command_directory)
shlib_directory = $(d shlib_directory)
mail_owner = postfix
setgid_group = postdrop
syslog_name = referral-mail
maillog_file = $STATE/log/maillog
maillog_file_prefixes = $STATE/log
myhostname = referral-mail.localhost
mydomain = localhost
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_banner = $BANNER
smtpd_client_restrictions = permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = no
smtputf8_enable = yes
disable_vrfy_command = yes
# Any domain, any recipient: all delivered here by virtual(8) into Maildirs, never relayed.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
recipient_delimiter =
virtual_mailbox_domains = static:all
virtual_mailbox_base = $BOXES
virtual_mailbox_maps = sqlite:$CONF/mailboxes.sqlite.cf
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
mailbox_size_limit = 0
message_size_limit = 52428800
local_transport = error:local delivery is disabled on this server
relay_transport = error:this server never relays
default_transport = error:this server never relays
# The message as the client sent it: no header rewriting, no added From/Date/Message-ID.
local_header_rewrite_clients =
remote_header_rewrite_domain =
always_add_missing_headers = no
append_dot_mydomain = no
receive_override_options = no_address_mappings, no_header_body_checks, no_milters
biff = no
# Retry soon after a transient failure (tests wait for mail).
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
delay_warning_time = 0
EOF
  cat >"$CONF.new/master.cf" <<EOF
# Written by scripts/mail.sh: loopback SMTP listener, the queue, virtual(8) delivery. No smtp/lmtp client: no relaying.
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  chmod 0644 "$CONF.new"/*
  # Replaced only when it changed, so that a running instance is reloaded only then.
  local changed=0
  for f in main.cf master.cf mailboxes.sqlite.cf empty.sqlite; do
    if ! cmp -s "$CONF.new/$f" "$CONF/$f"; then
      mv -f "$CONF.new/$f" "$CONF/$f"
      changed=1
    fi
  done
  rm -rf "$CONF.new"
  [ "$changed" = 1 ]
}

start() {
  command -v postfix >/dev/null || die "postfix is missing (scripts/setup.sh installs Debian's postfix)"
  [ -e "$(postconf -d -h shlib_directory)/postfix-sqlite.so" ] ||
    die "Postfix's sqlite table is missing (scripts/setup.sh installs Debian's postfix-sqlite)"
  as_root start
  local user config_changed=0 t0=$SECONDS
  user=$(delivery_user)
  mkdir -p "$STATE" "$CONF" "$STATE/spool" "$STATE/data" "$STATE/log"
  chown root:root "$STATE" "$CONF" "$STATE/spool"
  chmod 0755 "$STATE" "$CONF" "$STATE/spool"
  chown postfix: "$STATE/data"
  chmod 0700 "$STATE/data"
  mkdir -p "$BOXES"
  # Delivery runs as that user: it must own every Maildir (all of them again when the user changed).
  if [ "$(stat -c %u "$BOXES")" != "$(id -u "$user")" ]; then chown -R "$user:$(id -gn "$user")" "$BOXES"; fi
  chmod 0755 "$BOXES"
  # A running instance moved to another port (a reload) must find it free: its master would exit otherwise.
  if running && [ "$(awk '$2 == "inet" { print $1; exit }' "$CONF/master.cf")" != "127.0.0.1:$PORT" ] && port_taken; then
    die "127.0.0.1:$PORT is taken by another process (set REFERRAL_SMTP_PORT to a free port)"
  fi
  write_config "$user" && config_changed=1

  if running; then
    if [ "$config_changed" = 1 ]; then
      log "configuration changed: reloading"
      postfix -c "$CONF" reload 2>>"$STATE/log/maillog" || die "postfix reload failed: see $STATE/log/maillog"
    fi
  else
    if port_taken; then
      die "127.0.0.1:$PORT is taken by another process (set REFERRAL_SMTP_PORT to a free port)"
    fi
    # Creates the missing queue and data directories with Postfix's owners and modes, then starts the master.
    postfix -c "$CONF" check 2>>"$STATE/log/maillog" || die "postfix check failed: see $STATE/log/maillog"
    postfix -c "$CONF" start 2>>"$STATE/log/maillog" || die "postfix did not start: see $STATE/log/maillog"
  fi

  local deadline=$((SECONDS + START_TIMEOUT))
  until smtp_ready; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$STATE/log/maillog" >&2 2>/dev/null || true
      die "no SMTP greeting on 127.0.0.1:$PORT within ${START_TIMEOUT}s (log: $STATE/log/maillog)"
    fi
    sleep 0.2
  done
  log "SMTP on 127.0.0.1:$PORT (postfix master pid $(master_pid), ready in $((SECONDS - t0))s); Maildirs: $BOXES/<address>/"
}

stop() {
  if ! running; then
    log "not running"
    return 0
  fi
  as_root stop
  local pid deadline=$((SECONDS + 20))
  pid=$(master_pid)
  postfix -c "$CONF" stop 2>>"$STATE/log/maillog" || true
  while running || { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "postfix did not stop in 20s: aborting it"
      postfix -c "$CONF" abort 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.2
  done
  log "stopped"
}

status() {
  if running && smtp_ready; then
    local pid
    pid=$(master_pid)
    echo "mail: up${pid:+ (postfix master pid $pid)}, smtp://127.0.0.1:$PORT, Maildirs: $BOXES/<address>/"
    return 0
  fi
  echo "mail: down (port $PORT, Maildirs: $BOXES/<address>/)"
  return 3
}

box() {
  if [ $# != 1 ]; then die "usage: scripts/mail.sh box ADDRESS"; fi
  case "$1" in ?*@?*) ;; *) die "not an address (local-part@domain): $1" ;; esac
  case "$1" in */*) die "not deliverable here (a '/' in the address): $1" ;; esac
  echo "$BOXES/$(lower "$1")"
}

clear_boxes() {
  [ -d "$BOXES" ] || return 0
  [ -w "$BOXES" ] || as_root clear
  find "$BOXES" -mindepth 3 -maxdepth 3 -type f \( -path '*/new/*' -o -path '*/cur/*' -o -path '*/tmp/*' \) -delete
  log "cleared every mailbox in $BOXES"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  box) shift; box "$@" ;;
  clear) clear_boxes ;;
  *)
    echo "usage: scripts/mail.sh start|stop|status|box ADDRESS|clear" >&2
    exit 2
    ;;
esac
