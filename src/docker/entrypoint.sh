#!/bin/sh
# whitelabel-env.sh: the entrypoint wrapper of a whitelabel image. For each
# secret variable X whose X_FILE is set, it exports X with that file's content
# (one trailing newline stripped) and unsets X_FILE; then it runs the command
# with its arguments exactly as given:
#
#   sh /app/docker/entrypoints/whitelabel-env.sh COMMAND [ARG]...
#
# Known variables: POSTGRES_PASSWORD SECRET_KEY_BASE SMTP_PASSWORD
# REDIS_PASSWORD, plus the names listed in WHITELABEL_FILE_VARS (space
# separated). Only these: a generic *_FILE rule would also catch variables such
# as SSL_CERT_FILE that name files for other reasons. X and X_FILE both set is
# an error, as in the official postgres image. There is no fallback to
# /run/secrets/<x>: the stack file names every file, so a typo fails here
# instead of running without the secret. No value is ever printed.
set -eu

_wl_fail() {
  printf 'whitelabel-env: %s\n' "$*" >&2
  exit 1
}

_wl_nl='
'
set -f # WHITELABEL_FILE_VARS is split into names, never globbed
for _wl_name in POSTGRES_PASSWORD SECRET_KEY_BASE SMTP_PASSWORD REDIS_PASSWORD ${WHITELABEL_FILE_VARS:-}; do
  case $_wl_name in
    [!A-Za-z_]* | *[!A-Za-z0-9_]*)
      _wl_fail "WHITELABEL_FILE_VARS: \"$_wl_name\" is not a variable name"
      ;;
  esac
  eval "_wl_file_set=\${${_wl_name}_FILE+x} _wl_value_set=\${${_wl_name}+x}"
  [ -n "$_wl_file_set" ] || continue
  [ -z "$_wl_value_set" ] || _wl_fail "both $_wl_name and ${_wl_name}_FILE are set; set only one of them"
  eval "_wl_file=\${${_wl_name}_FILE}"
  if [ ! -f "$_wl_file" ] || [ ! -r "$_wl_file" ]; then
    _wl_fail "${_wl_name}_FILE: cannot read \"$_wl_file\" (missing, not a regular file, or not readable by uid $(id -u))"
  fi
  # The x keeps trailing newlines from $(...); then exactly one is removed.
  _wl_value=$(cat -- "$_wl_file" && printf x) || _wl_fail "${_wl_name}_FILE: cannot read \"$_wl_file\""
  _wl_value=${_wl_value%x}
  _wl_value=${_wl_value%"$_wl_nl"}
  export "$_wl_name=$_wl_value"
  unset "${_wl_name}_FILE"
done
set +f
unset _wl_name _wl_file _wl_file_set _wl_value_set _wl_value _wl_nl

[ "$#" -gt 0 ] || _wl_fail "no command given (usage: sh whitelabel-env.sh COMMAND [ARG]...)"
exec "$@"
