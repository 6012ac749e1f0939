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

# port_in_use PORT: any socket on PORT, listening or connected, counts. Without ss
# (iproute2) only a listener on 127.0.0.1 is seen.
port_in_use() {
	if command -v ss >/dev/null; then
		ss -Htan "sport = :$1" 2>/dev/null | grep -q .
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# free_port NAME: set the variable NAME to a free port. Ports are picked at random
# below the kernel's ephemeral range, so that outgoing connections (e.g.
# kube-apiserver -> etcd) cannot take them between picking and binding, and never
# twice in one script (it sets the variable, rather than printing from a subshell,
# so that it can remember).
PICKED_PORTS=" "
free_port() {
	local p i lo=20000 hi=32000 eph
	eph=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	if ((eph - 1 < hi)); then hi=$((eph - 1)); fi
	if ((hi - lo < 1000)); then lo=$((hi - 5000)); fi
	for i in $(seq 1 200); do
		p=$((lo + RANDOM % (hi - lo)))
		[[ $PICKED_PORTS == *" $p "* ]] && continue
		port_in_use "$p" && continue
		PICKED_PORTS+="$p "
		printf -v "$1" '%s' "$p"
		return 0
	done
	return 1
}
