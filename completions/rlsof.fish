# fish completion for rlsof (and for lsof, when rlsof is installed as lsof).
#
# lsof's grammar: options start with - or + (some mean different things with
# +), letters share a prefix (-nP), and a value is either the rest of the
# token (-p1234, -iTCP:22) or the next token (-p 1234). Values come from the
# running system: PIDs, users, command names, ports in use.

set -g __rlsof_long_options deleted recover recover-all to force summary metrics metrics-file metrics-paths serve serve-remote fd-top listeners-max cache-age top changes leak-cycles help version
set -g __rlsof_minus_options '?' a b c d e E f F g h H i J j K l L m M n N o O p P Q r R s S t T u U v V w x X Z
set -g __rlsof_plus_options c d D e E f L m M n O P r w
set -g __rlsof_field_letters a c d D f G g i k K l L m M n o p P r R s S t T u 0
set -g __rlsof_tcp_states CLOSED ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING
# Letters whose value is required (it may be the next token), and letters
# whose value is optional.
set -g __rlsof_needs_value c d D e p u
set -g __rlsof_may_take_value F g i K L m o r s S T x Z

# The words $argv[2..] that start with $argv[1] (literally: values hold
# characters such as ? that a glob would read).
function __rlsof_starting
    set -l prefix $argv[1]
    set -l length (string length -- "$prefix")
    for word in $argv[2..-1]
        test "$(string sub -l $length -- $word)" = "$prefix"; and printf '%s\n' $word
    end
end

function __rlsof_pids
    string match -r '^[0-9]+$' -- (path basename /proc/*)
end

function __rlsof_ports
    for file in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6
        test -r $file; or continue
        for local in (tail -n +2 $file | string trim | string split -f2 ' ')
            math "0x"(string split -f2 : $local)
        end
    end | sort -nu
end

# Whole values for option letter $argv[1] (sign $argv[2]) starting with
# the typed value $argv[3].
function __rlsof_values
    set -l letter $argv[1]
    set -l sign $argv[2]
    set -l value $argv[3]
    switch $letter
        case d p u g c
            if test $letter = d -a $sign = +
                __fish_complete_directories $value
                return
            end
            set -l head ''
            string match -q '*,*' -- $value; and set head (string replace -r ',[^,]*$' , -- $value)
            set -l item (string replace -r '^.*,' '' -- $value)
            set -l hat ''
            string match -q '^*' -- $item; and set hat '^'
            set item (string replace -r '^\^' '' -- $item)
            set -l words
            switch $letter
                case d
                    set words cwd rtd txt mem DEL NOFD fd
                case p g
                    set words (__rlsof_pids)
                case u
                    set words (__fish_complete_users | string replace -r '\t.*' '')
                case c
                    set words (cat /proc/(__rlsof_pids)/comm 2>/dev/null | sort -u)
            end
            for word in (__rlsof_starting "$item" $words)
                printf '%s\n' "$head$hat$word"
            end
        case D e
            __fish_complete_directories $value
        case F
            printf '%s\n' $value
            test -z "$value"; and printf '?\n'
            for l in $__rlsof_field_letters
                string match -q -- "*$l*" $value; or printf '%s\n' "$value$l"
            end
        case i
            if string match -q '*:*' -- $value
                set -l before (string replace -r ':[^:]*$' '' -- $value)
                __rlsof_starting "$value" "$before:"(__rlsof_ports)
            else
                __rlsof_starting "$value" 4 6 TCP UDP UDPLITE 4TCP 4UDP 6TCP 6UDP : TCP: UDP: @
            end
        case s
            set -l words TCP: UDP:
            if string match -qi 'tcp:*' -- $value
                set -l proto (string split -f1 : -- $value)
                set words
                for state in $__rlsof_tcp_states
                    set -a words "$proto:$state" "$proto:^$state"
                end
            else if string match -qi 'udp:*' -- $value
                set -l proto (string split -f1 : -- $value)
                set words "$proto:ESTABLISHED" "$proto:^ESTABLISHED"
            end
            __rlsof_starting "$value" $words
        case T x K f
            set -l words
            switch $letter
                case T
                    set words f q s fq fs qs fqs
                case x
                    set words f l fl
                case K
                    set words i
                case f
                    set words g G
            end
            __rlsof_starting "$value" $words
    end
end

# The letter (with its sign) whose value the next token would be, when
# token $argv[1] is an option cluster ending with a letter that takes one.
function __rlsof_option_before
    set -l word $argv[1]
    string match -qr '^[-+][^-+]' -- $word; or return
    set -l letters (string split '' -- (string sub -s 2 -- $word))
    for i in (seq (count $letters))
        if contains -- $letters[$i] $__rlsof_needs_value $__rlsof_may_take_value
            test $i -eq (count $letters); and printf '%s\n' (string sub -l 1 -- $word)$letters[$i]
            return
        end
    end
end

function __rlsof_options
    set -l cur $argv[1]
    if string match -q -- '--*' $cur
        __rlsof_starting "$cur" --$__rlsof_long_options
        return
    end
    set -l sign (string sub -l 1 -- $cur)
    set -l rest (string sub -s 2 -- $cur)
    if test -n "$rest"
        set -l letters (string split '' -- $rest)
        for i in (seq (count $letters))
            if contains -- $letters[$i] $__rlsof_needs_value $__rlsof_may_take_value
                set -l before (string sub -l (math $i + 1) -- $cur)
                for value in (__rlsof_values $letters[$i] $sign (string sub -s (math $i + 1) -- $rest))
                    printf '%s\n' "$before$value"
                end
                return
            end
        end
    end
    set -l letters $__rlsof_minus_options
    test $sign = +; and set letters $__rlsof_plus_options
    __rlsof_starting "$cur" $sign$letters
    if test "$cur" = -
        printf '%s\n' --$__rlsof_long_options
    end
end

function __rlsof_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l prev ''
    test (count $tokens) -ge 2; and set prev $tokens[-1]
    set -l option (__rlsof_option_before $prev)
    switch $prev
        case --to --metrics-file
            __fish_complete_path $cur
        case --recover
            string match -q '*:*' -- $cur; or __rlsof_starting "$cur" (__rlsof_pids):
        case --serve --metrics-paths --fd-top --listeners-max --cache-age --leak-cycles
            return
        case '*'
            if test -n "$option"; and begin
                    not string match -qr '^[-+]' -- $cur; or contains -- (string sub -s 2 -- $option) $__rlsof_needs_value
                end
                __rlsof_values (string sub -s 2 -- $option) (string sub -l 1 -- $option) $cur
            else if string match -qr '^[-+]' -- $cur
                __rlsof_options $cur
            else
                __fish_complete_path $cur
            end
    end
end

complete -c rlsof -f -a '(__rlsof_complete)'
# When lsof is rlsof (see README, "An lsof name"), complete it the same way.
if test (path resolve (command -s lsof) 2>/dev/null) = (path resolve (command -s rlsof) 2>/dev/null) 2>/dev/null
    and command -sq rlsof
    complete -c lsof -e
    complete -c lsof -f -a '(__rlsof_complete)'
end
