# bash completion for rlsof (and for lsof, when rlsof is installed as lsof).
#
# lsof's grammar: options start with - or + (some mean different things with
# +), letters share a prefix (-nP), and a value is either the rest of the
# word (-p1234, -iTCP:22) or the next word (-p 1234). Values are completed
# from the running system: PIDs, users, command names, ports in use.

_rlsof_long_options='--deleted --recover --recover-all --to --force --summary
--metrics --metrics-file --metrics-paths --serve --serve-remote --fd-top
--listeners-max --cache-age --top --changes --leak-cycles --help --version'
_rlsof_minus_options='-\? -a -b -c -d -e -E -f -F -g -h -H -i -J -j -K -l -L -n
-N -o -O -p -P -Q -r -R -s -S -t -T -u -U -v -V -w -x -X -Z'
_rlsof_plus_options='+c +d +D +e +E +f +L +m +M +n +O +P +r +w'
_rlsof_field_letters='a c d D f G g i k K l L m M n o p P r R s S t T u 0'
_rlsof_fd_names='cwd rtd txt mem DEL NOFD fd'
_rlsof_tcp_states='CLOSED ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2
TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING'

# Letters whose value is required, and may be the next word.
_rlsof_needs_value='cdDepu'
# Letters whose value is optional and is attached or the next word.
_rlsof_may_take_value='FgiKLmorsSTxZ'

_rlsof_pids() {
    local dir
    for dir in /proc/[0-9]*; do printf '%s\n' "${dir#/proc/}"; done
}

_rlsof_commands() {
    cat /proc/[0-9]*/comm 2>/dev/null | sort -u
}

# Ports of the TCP and UDP sockets in use (local ports, in decimal).
_rlsof_ports() {
    local file
    for file in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
        [ -r "$file" ] || continue
        while read -r _ local _; do
            [[ $local == *:* ]] && printf '%d\n' "0x${local##*:}"
        done < <(tail -n +2 "$file")
    done | sort -nu
}

# Candidates for the value of option letter $1 (prefix sign $2) when the
# value typed so far is $3; printed one per line, whole values.
_rlsof_values() {
    local letter=$1 sign=$2 value=$3 head item
    # Comma lists: complete the last item, keeping the ones before it.
    case $letter in
        d | p | u | g | c)
            head=''
            [[ $value == *,* ]] && head=${value%,*},
            item=${value##*,}
            local hat=''
            [[ $item == ^* ]] && hat='^' && item=${item#^}
            local words
            case $letter in
                d) words=$_rlsof_fd_names ;;
                p | g) words=$(_rlsof_pids) ;;
                u) words=$(compgen -u) ;;
                c) words=$(_rlsof_commands) ;;
            esac
            if [[ $letter == d && $sign == + ]]; then
                compgen -d -- "$value"
                return
            fi
            local w
            compgen -W "$words" -- "$item" | while read -r w; do
                printf '%s\n' "$head$hat$w"
            done
            ;;
        D | e) compgen -d -- "$value" ;;
        F)
            local l
            printf '%s\n' "$value"
            [[ -z $value ]] && printf '?\n'
            for l in $_rlsof_field_letters; do
                [[ $value == *"$l"* ]] || printf '%s\n' "$value$l"
            done
            ;;
        i)
            if [[ $value == *:* ]]; then
                local port
                for port in $(_rlsof_ports); do
                    printf '%s\n' "${value%:*}:$port"
                done | grep -F -- "$value"
            else
                compgen -W '4 6 TCP UDP UDPLITE 4TCP 4UDP 6TCP 6UDP :
                    TCP: UDP: @' -- "$value"
            fi
            ;;
        s)
            case $value in
                TCP:* | tcp:*)
                    compgen -W "$_rlsof_tcp_states" -P "${value%%:*}:" -- "${value#*:}"
                    compgen -W "$_rlsof_tcp_states" -P "${value%%:*}:^" -- "${value#*:^}"
                    ;;
                UDP:* | udp:*) compgen -W 'UDP:ESTABLISHED UDP:^ESTABLISHED' -- "$value" ;;
                *) compgen -W 'TCP: UDP:' -- "$value" ;;
            esac
            ;;
        T) compgen -W 'f q s fq fs qs fqs' -- "$value" ;;
        K) compgen -W 'i' -- "$value" ;;
        x) compgen -W 'f l fl' -- "$value" ;;
        f) compgen -W 'g G' -- "$value" ;;
    esac
}

# The option letter (with its sign) whose value the next word would be,
# when word $1 is an option cluster ending with a letter that takes one.
_rlsof_option_before() {
    local word=$1
    [[ $word =~ ^[-+][^-+] ]] || return
    local letters=${word:1} i
    for ((i = 0; i < ${#letters}; i++)); do
        if [[ $_rlsof_needs_value$_rlsof_may_take_value == *"${letters:i:1}"* ]]; then
            ((i == ${#letters} - 1)) && printf '%s\n' "${word:0:1}${letters:i:1}"
            return
        fi
    done
}

# Candidates for a word starting with - or +.
_rlsof_options() {
    local cur=$1
    case $cur in
        --*) compgen -W "$_rlsof_long_options" -- "$cur" ;;
        - | +)
            local options=$_rlsof_minus_options
            [[ $cur == + ]] && options=$_rlsof_plus_options
            [[ $cur == - ]] && options="$options $_rlsof_long_options"
            compgen -W "$options" -- "$cur"
            ;;
        *)
            # A cluster: after its first letter that takes a value, the
            # rest of the word is that value.
            local sign=${cur:0:1} rest=${cur:1} i
            for ((i = 0; i < ${#rest}; i++)); do
                if [[ $_rlsof_needs_value$_rlsof_may_take_value == *"${rest:i:1}"* ]]; then
                    local before=${cur:0:i+2} value
                    _rlsof_values "${rest:i:1}" "$sign" "${rest:i+1}" | while read -r value; do
                        printf '%s\n' "$before$value"
                    done
                    return
                fi
            done
            local options=$_rlsof_minus_options
            [[ $sign == + ]] && options=$_rlsof_plus_options
            compgen -W "$options" -- "$cur"
            ;;
    esac
}

_rlsof() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<<"$line"
    local n=${#words[@]} cur='' prev=''
    if [[ -z $line || $line == *[[:space:]] ]]; then
        ((n >= 2)) && prev=${words[n - 1]}
    else
        cur=${words[n - 1]}
        ((n >= 3)) && prev=${words[n - 2]}
    fi

    local -a candidates=()
    local option
    option=$(_rlsof_option_before "$prev")
    if [[ $prev == --to || $prev == --metrics-file ]]; then
        mapfile -t candidates < <(compgen -f -- "$cur")
    elif [[ $prev == --recover ]]; then
        [[ $cur == *:* ]] || mapfile -t candidates < <(compgen -W "$(_rlsof_pids)" -S : -- "$cur")
    elif [[ $prev == --serve || $prev == --metrics-paths || $prev == --fd-top ||
        $prev == --listeners-max || $prev == --cache-age || $prev == --leak-cycles ]]; then
        :
    elif [[ -n $option && ($cur != [-+]* || $_rlsof_needs_value == *"${option:1}"*) ]]; then
        mapfile -t candidates < <(_rlsof_values "${option:1}" "${option:0:1}" "$cur")
    elif [[ $cur == [-+]* ]]; then
        mapfile -t candidates < <(_rlsof_options "$cur")
    fi

    # bash splits words at ':' and '=' (COMP_WORDBREAKS): the part before
    # the last one is not replaced, so candidates must not repeat it.
    local word=${COMP_WORDS[COMP_CWORD]} cut=''
    if [[ -n $cur && $word != "$cur" && $cur == *"$word" ]]; then
        cut=${cur:0:${#cur}-${#word}}
    fi
    COMPREPLY=()
    local candidate
    for candidate in "${candidates[@]}"; do
        [[ -n $candidate ]] && COMPREPLY+=("${candidate#"$cut"}")
    done
    # Values that go on (a list, a protocol before its port) get no space.
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[:,@] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o bashdefault -o default -F _rlsof rlsof
# Scripts and fingers that call lsof: complete it the same way when lsof
# is rlsof (see README, "An lsof name").
if [ "$(readlink -f "$(type -P lsof 2>/dev/null)" 2>/dev/null)" = "$(readlink -f "$(type -P rlsof 2>/dev/null)" 2>/dev/null)" ] &&
    type -P rlsof >/dev/null 2>&1; then
    complete -o bashdefault -o default -F _rlsof lsof
fi
