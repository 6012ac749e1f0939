# Helpers shared by scripts/cluster and scripts/postgres; sourced, not run.
#
# Their state files (cluster.json, pg.json) are JSON objects of strings, named like the
# environment variables that `scripts/cluster env` and `scripts/postgres env` export, so
# the tests (serde), scripts/bench (json module) and shells read the same file.

# json_object KEY VALUE...: print a JSON object of strings, one member a line.
json_object() {
	local sep='' key value
	printf '{'
	while (($# >= 2)); do
		key=$(json_string "$1") && value=$(json_string "$2") || return 1
		printf '%s\n  %s: %s' "$sep" "$key" "$value"
		sep=,
		shift 2
	done
	printf '\n}\n'
}

# json_string TEXT: TEXT as a JSON string. Paths, tokens and ports never hold control
# characters, so those are refused rather than escaped.
json_string() {
	local s=$1
	if [[ $s == *[[:cntrl:]]* ]]; then
		printf 'control character in %q\n' "$s" >&2
		return 1
	fi
	s=${s//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# json_exports FILE: an `export NAME=value` line for each member of FILE.
json_exports() {
	python3 -c '
import json, shlex, sys
for name, value in json.load(open(sys.argv[1])).items():
    print(f"export {name}={shlex.quote(value)}")' "$1"
}

# json_get FILE NAME: the value of one member of FILE.
json_get() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
