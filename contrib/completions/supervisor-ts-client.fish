# fish completion for supervisor-ts-client: operations, options, child names, key files.
# Written by "supervisor-ts-client completions fish"; save it as ~/.config/fish/completions/supervisor-ts-client.fish, or load it with: supervisor-ts-client completions fish | source
# Child names come from "supervisor-ts-client __complete-children [on HOST]... [with KEY.pem]",
# which asks the server named on the command line and prints nothing when it cannot.

# What is typed before the cursor, without the command: "operation" prints the operation,
# "operands" how many words follow it, "target" the on/with words and their values, one a line.
function _supervisor_ts_client_scan --argument-names what
    set --local tokens (commandline --current-process --tokenize --cut-at-cursor)
    set --erase tokens[1]
    set --local op ''
    set --local operands 0
    set --local target
    set --local pending ''
    for token in $tokens
        if test -n "$pending"
            if contains -- $pending on with
                set --append target $pending (string replace --regex '^~/' "$HOME/" -- $token)
            end
            set pending ''
        else if contains -- $token on with --timeout --parallel --lines -n --max-unavailable
            set pending $token
        else if string match --quiet -- '-*' $token
            continue
        else if test -z "$op"
            set op $token
        else
            set operands (math $operands + 1)
        end
    end
    switch $what
        case operation
            echo $op
        case operands
            echo $operands
        case target
            if set --query target[1]
                printf '%s\n' $target
            end
    end
end

# The word before the cursor is one of the arguments.
function _supervisor_ts_client_after
    set --local tokens (commandline --current-process --tokenize --cut-at-cursor)
    test (count $tokens) -gt 1; and contains -- $tokens[-1] $argv
end

# Whether the word at the cursor may be: "operation", "word" (on/with), "operand OP" (the
# word after OP) or "next OP" (the one after that).
function _supervisor_ts_client_wants --argument-names what op
    set --local tokens (commandline --current-process --tokenize --cut-at-cursor)
    if test (count $tokens) -gt 1; and contains -- $tokens[-1] on with --timeout --parallel --lines -n --max-unavailable
        return 1
    end
    set --local current (_supervisor_ts_client_scan operation)
    switch $what
        case operation
            test -z "$current"
        case word
            not contains -- "$current" completions help
        case operand
            test "$current" = "$op"; and test (_supervisor_ts_client_scan operands) -eq 0
        case next
            test "$current" = "$op"; and test (_supervisor_ts_client_scan operands) -eq 1
    end
end

# An option that goes with some operations is offered before any operation, or with those.
function _supervisor_ts_client_goes_with
    set --local current (_supervisor_ts_client_scan operation)
    test -z "$current"; or contains -- "$current" $argv
end

# The children of the servers named on the command line, one a line; nothing when unreachable.
function _supervisor_ts_client_children
    set --local self (commandline --current-process --tokenize --cut-at-cursor)[1]
    set self (string replace --regex '^~/' "$HOME/" -- $self)
    $self __complete-children (_supervisor_ts_client_scan target) 2>/dev/null
end

complete --command supervisor-ts-client --no-files
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments start --description 'start a child that is not running, or every child'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments stop --description 'stop a running child, or every child'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments restart --description 'stop a running child and start it again, or every one'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments trystart --description 'start a child, restarting it if it runs'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments check --description 'list every child with its state, or show one'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments status --description 'the same as check, as supervisorctl calls it'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments info --description 'show the server\'s version, pid, config, address'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments kill --description 'stop every child, then the server'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments log --description 'the last lines a child wrote'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments signal --description 'send a signal to a child\'s process group (with --main, its main process only)'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments update --description 'restart children whose config changed, stop those whose file was removed'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments events --description 'the recent changes of state (with --follow, each one as it happens)'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments completions --description 'print a shell completion script'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operation' --arguments help --description 'print the help'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants word' --arguments on --description 'HOST, ask this server; repeat for several'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants word' --arguments with --description 'KEY.pem, sign with this private key'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_after with' --force-files
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand start' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand start' --arguments 'all'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand stop' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand stop' --arguments 'all'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand restart' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand restart' --arguments 'all'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand trystart' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand check' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand status' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand log' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand signal' --arguments '(_supervisor_ts_client_children)' --description child
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand signal' --arguments 'all'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants next signal' --arguments 'HUP INT QUIT ABRT KILL USR1 USR2 ALRM TERM CONT STOP TSTP TTIN TTOU WINCH PWR' --description 'a signal'
complete --command supervisor-ts-client --condition '_supervisor_ts_client_wants operand completions' --arguments 'bash zsh fish' --description 'a shell'
complete --command supervisor-ts-client --long-option json --description 'print one JSON array, one object per host'
complete --command supervisor-ts-client --long-option timeout --require-parameter --no-files --description 'seconds to wait for each host'
complete --command supervisor-ts-client --long-option parallel --require-parameter --no-files --description 'hosts asked at once, at most'
complete --command supervisor-ts-client --long-option stderr --condition '_supervisor_ts_client_goes_with log' --description 'show what the child wrote to stderr'
complete --command supervisor-ts-client --long-option lines --short-option n --require-parameter --no-files --condition '_supervisor_ts_client_goes_with log' --description 'how many lines to show'
complete --command supervisor-ts-client --long-option follow --short-option f --condition '_supervisor_ts_client_goes_with log events' --description 'keep printing new lines (or changes) until Ctrl-C'
complete --command supervisor-ts-client --long-option main --condition '_supervisor_ts_client_goes_with signal' --description 'signal the child\'s main process, not its whole process group'
complete --command supervisor-ts-client --long-option no-wait --condition '_supervisor_ts_client_goes_with start restart trystart update' --description 'answer at once, without waiting start_seconds for the child to count as started'
complete --command supervisor-ts-client --long-option rolling --condition '_supervisor_ts_client_goes_with restart trystart' --description 'one host at a time, each ready again before the next; stop at the first failure'
complete --command supervisor-ts-client --long-option max-unavailable --require-parameter --no-files --condition '_supervisor_ts_client_goes_with restart trystart' --description 'like --rolling, with N hosts at a time'
complete --command supervisor-ts-client --long-option help --short-option h --description 'print the help'
complete --command supervisor-ts-client --long-option version --short-option V --description 'print the version'
