# Drives fish's completion (`complete -C`, what Tab runs) for each command
# line given; prints the line, then each candidate, tab-separated.
#   fish drive.fish COMPLETION_FILE LINE...
source $argv[1]; or exit 1
for line in $argv[2..-1]
    printf '%s' $line
    for candidate in (complete -C"$line" | string replace -r '\t.*' '')
        printf '\t%s' $candidate
    end
    printf '\n'
end
