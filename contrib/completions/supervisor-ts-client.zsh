#compdef supervisor-ts-client
# zsh completion for supervisor-ts-client: operations, options, child names, key files.
# Written by "supervisor-ts-client completions zsh"; save it as _supervisor-ts-client in a directory of $fpath, or load it with: source <(supervisor-ts-client completions zsh)
# Child names come from "supervisor-ts-client __complete-children [on HOST]... [with KEY.pem]",
# which asks the server named on the command line and prints nothing when it cannot.

_supervisor_ts_client() {
  local -a op_list word_list option_list target children
  op_list=(
    'start:start a child that is not running, or every child'
    'stop:stop a running child, or every child'
    'restart:stop a running child and start it again, or every one'
    'trystart:start a child, restarting it if it runs'
    'check:list every child with its state, or show one'
    'status:the same as check, as supervisorctl calls it'
    'info:show the server'\''s version, pid, config, address'
    'kill:stop every child, then the server'
    'log:the last lines a child wrote'
    'signal:send a signal to a child'\''s process group (with --main, its main process only)'
    'update:restart children whose config changed, stop those whose file was removed'
    'events:the recent changes of state (with --follow, each one as it happens)'
    'completions:print a shell completion script'
    'help:print the help'
  )
  word_list=(
    'on:ask this server; repeat for several'
    'with:sign with this private key'
  )
  local i word op='' operands=0 cur=${words[CURRENT]} prev=${words[CURRENT-1]}
  local self="${${(Q)words[1]}/#\~/$HOME}"
  case $prev in
    with) _files; return ;;
    on) _message -e hosts 'HOST'; return ;;
    --timeout) _message -e values 'S, seconds to wait for each host'; return ;;
    --parallel) _message -e values 'N, hosts asked at once, at most'; return ;;
    --lines|-n) _message -e values 'N, how many lines to show'; return ;;
    --max-unavailable) _message -e values 'N, like --rolling, with N hosts at a time'; return ;;
  esac
  for (( i = 2; i < CURRENT; i++ )); do
    word=${words[i]}
    case $word in
      on|with)
        (( i += 1 ))
        (( i < CURRENT )) && target+=("$word" "${${(Q)words[i]}/#\~/$HOME}")
        ;;
      on|with|--timeout|--parallel|--lines|-n|--max-unavailable) (( i += 1 )) ;;
      -*) ;;
      *) if [[ -z $op ]]; then op=$word; else (( operands += 1 )); fi ;;
    esac
  done
  if [[ $cur == -* ]]; then
    option_list=(
      '--json:print one JSON array, one object per host'
      '--timeout:seconds to wait for each host'
      '--parallel:hosts asked at once, at most'
      '--help:print the help'
      '--version:print the version'
    )
    if [[ -z $op || $op == log ]]; then
      option_list+=(
        '--stderr:show what the child wrote to stderr'
        '--lines:how many lines to show'
      )
    fi
    if [[ -z $op || $op == (log|events) ]]; then
      option_list+=(
        '--follow:keep printing new lines (or changes) until Ctrl-C'
      )
    fi
    if [[ -z $op || $op == signal ]]; then
      option_list+=(
        '--main:signal the child'\''s main process, not its whole process group'
      )
    fi
    if [[ -z $op || $op == (start|restart|trystart|update) ]]; then
      option_list+=(
        '--no-wait:answer at once, without waiting start_seconds for the child to count as started'
      )
    fi
    if [[ -z $op || $op == (restart|trystart) ]]; then
      option_list+=(
        '--rolling:one host at a time, each ready again before the next; stop at the first failure'
        '--max-unavailable:like --rolling, with N hosts at a time'
      )
    fi
    _describe -t options option option_list
    return
  fi
  if [[ -z $op ]]; then
    _describe -t operations operation op_list
    _describe -t words word word_list
    return
  fi
  if (( operands == 0 )); then
    case $op in
      completions) compadd -- bash zsh fish; return ;;
      start|stop|restart|trystart|log|signal|check|status)
        children=(${(f)"$("$self" __complete-children "${target[@]}" 2>/dev/null)"})
        compadd -- $children
        ;;
    esac
    case $op in
      start) compadd -- all ;;
      stop) compadd -- all ;;
      restart) compadd -- all ;;
      signal) compadd -- all ;;
    esac
    case $op in
      start|stop|restart|trystart|log|signal) return ;;
    esac
  fi
  if (( operands == 1 )); then
    case $op in
      signal) compadd -- HUP INT QUIT ABRT KILL USR1 USR2 ALRM TERM CONT STOP TSTP TTIN TTOU WINCH PWR; return ;;
    esac
  fi
  case $op in
    completions|help) return ;;
  esac
  _describe -t words word word_list
}

if [[ ${funcstack[1]} == _supervisor-ts-client ]]; then
  _supervisor_ts_client "$@"
else
  compdef _supervisor_ts_client supervisor-ts-client
fi
