# bash completion for supervisor-ts-client: operations, options, child names, key files.
# Written by "supervisor-ts-client completions bash"; load it with: source <(supervisor-ts-client completions bash)
# Child names come from "supervisor-ts-client __complete-children [on HOST]... [with KEY.pem]",
# which asks the server named on the command line and prints nothing when it cannot.

# Sets _supervisor_ts_client_words and _supervisor_ts_client_cword from COMP_WORDS, gluing back what bash
# split at COMP_WORDBREAKS: "on 127.0.0.1:4000" arrives as "on" "127.0.0.1" ":" "4000".
_supervisor_ts_client_split() {
  _supervisor_ts_client_words=()
  _supervisor_ts_client_cword=0
  local i n=-1 word rest="${COMP_LINE-}" trimmed
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    word="${COMP_WORDS[i]}"
    trimmed="${rest#"${rest%%[![:space:]]*}"}"
    if ((i > 0)) && [[ -n ${COMP_LINE+set} && $trimmed == "$rest" ]]; then
      _supervisor_ts_client_words[n]+="$word"
    else
      _supervisor_ts_client_words[++n]="$word"
    fi
    rest="${trimmed#"$word"}"
    ((i == COMP_CWORD)) && _supervisor_ts_client_cword=$n
  done
  return 0
}

# A word as the client gets it from the shell: quotes around it removed, a leading ~/ expanded.
_supervisor_ts_client_unquote() {
  local value="$1"
  if ((${#value} >= 2)); then
    case "$value" in
      \"*\" | \'*\') value="${value:1:${#value}-2}" ;;
    esac
  fi
  case "$value" in
    "~/"*) value="$HOME/${value#"~/"}" ;;
  esac
  printf '%s' "$value"
}

# The children of the servers named by the on/with words given, one a line.
_supervisor_ts_client_children() {
  local self="$1"
  shift
  "$self" __complete-children "$@" 2>/dev/null
}

_supervisor_ts_client() {
  local _supervisor_ts_client_words _supervisor_ts_client_cword
  _supervisor_ts_client_split
  local words=("${_supervisor_ts_client_words[@]}") cword=$_supervisor_ts_client_cword
  local cur="${words[cword]}" prev="" self="${words[0]}"
  ((cword > 0)) && prev="${words[cword - 1]}"
  [[ $self == "~/"* ]] && self="$HOME/${self#"~/"}"
  COMPREPLY=()
  case "$prev" in
    with)
      local IFS=$'\n'
      COMPREPLY=($(compgen -f -- "$cur"))
      compopt -o filenames 2>/dev/null
      return 0
      ;;
    on|with|--timeout|--parallel|--lines|-n|--max-unavailable) return 0 ;;
  esac
  local i word op="" operands=0 target=()
  for ((i = 1; i < cword; i++)); do
    word="${words[i]}"
    case "$word" in
      on|with)
        ((i += 1))
        ((i < cword)) && target+=("$word" "$(_supervisor_ts_client_unquote "${words[i]}")")
        ;;
      on|with|--timeout|--parallel|--lines|-n|--max-unavailable) ((i += 1)) ;;
      -*) ;;
      *) if [[ -z $op ]]; then op="$word"; else ((operands += 1)); fi ;;
    esac
  done
  if [[ $cur == -* ]]; then
    local flags="--json --timeout --parallel --help --version"
    case "$op" in
      "") flags+=" --stderr --lines --follow --main --no-wait --rolling --max-unavailable" ;;
      log) flags+=" --stderr --lines --follow" ;;
      events) flags+=" --follow" ;;
      signal) flags+=" --main" ;;
      start) flags+=" --no-wait" ;;
      restart) flags+=" --no-wait --rolling --max-unavailable" ;;
      trystart) flags+=" --no-wait --rolling --max-unavailable" ;;
      update) flags+=" --no-wait" ;;
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  # A word bash split at ":" or "=" is a value being typed: nothing to offer.
  [[ $cur == *[:=]* ]] && return 0
  if [[ -z $op ]]; then
    COMPREPLY=($(compgen -W "start stop restart trystart check status info kill log signal update events completions help on with" -- "$cur"))
    return 0
  fi
  local choices="on with"
  case "$op" in
    completions|help) choices="" ;;
  esac
  if ((operands == 0)); then
    case "$op" in
      completions) choices="bash zsh fish" ;;
      start|stop|restart|trystart|log|signal) choices="$(_supervisor_ts_client_children "$self" "${target[@]}")" ;;
      check|status) choices+=" $(_supervisor_ts_client_children "$self" "${target[@]}")" ;;
    esac
    case "$op" in
      start) choices+=" all" ;;
      stop) choices+=" all" ;;
      restart) choices+=" all" ;;
      signal) choices+=" all" ;;
    esac
  fi
  if ((operands == 1)); then
    case "$op" in
      signal) choices="HUP INT QUIT ABRT KILL USR1 USR2 ALRM TERM CONT STOP TSTP TTIN TTOU WINCH PWR" ;;
    esac
  fi
  local IFS=$' \t\n'
  COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  return 0
}

complete -F _supervisor_ts_client supervisor-ts-client
