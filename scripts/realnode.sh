# The real node of the local cluster (`scripts/cluster up --real-node`); sourced by
# scripts/cluster, not run. See tests/cluster/README.md, "The real node".
#
# Beside the KWOK node, a node that really runs containers: kubelet (built from the same
# k8s.io/kubernetes module and version as the control plane), containerd and its runc
# shim (built from containerd's Go module), runc from Debian, the CNI plugins bridge,
# host-local and loopback (built from their Go module), and a registry on 127.0.0.1
# (Debian's docker-registry) that holds images built here: our own sandbox ("pause")
# program and the app image (a Debian base made with debootstrap from Debian's packages,
# with Erlang/Elixir, the PostgreSQL client and the fixture release). Nothing is pulled
# from outside.

# ---- pinned versions (part of the node's cache key) --------------------------
CONTAINERD_VERSION=v2.4.2
CNI_PLUGINS_VERSION=v1.10.0
GO_CONTAINERREGISTRY_VERSION=v0.20.6
NODE_BUILD_REV=1
# The app image's Debian base: suite and packages (their candidate versions are part of
# the image's cache key, so a Debian update rebuilds it).
APP_SUITE=bookworm
APP_MIRROR=http://deb.debian.org/debian
APP_PACKAGES=(elixir erlang-base erlang-ssl erlang-dev postgresql-client ca-certificates procps)
APP_IMAGE_REV=1
# Debian packages the node needs on the host.
NODE_DEBS=(runc docker-registry debootstrap socat)

REAL_NODE_NAME=real-node-0
REAL_NODE_TAINT=kmigrate.test/real-node
NODE_COMPONENTS=(docker-registry containerd kubelet socat)
NODE_BINARIES=(kubelet containerd containerd-shim-runc-v2 bridge host-local loopback pause imgpush)
KMIGRATE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kmigrate

# ---- build -------------------------------------------------------------------

node_cache_key() {
	go_env
	{
		printf '%s\n' "$K8S_VERSION $CONTAINERD_VERSION $CNI_PLUGINS_VERSION $GO_CONTAINERREGISTRY_VERSION $NODE_BUILD_REV"
		printf '%s\n' "$(kube_ldflags)" "$(go env GOVERSION GOOS GOARCH)"
		(cd "$CLUSTER_SRC" && cat kubelet/go.mod kubelet/go.sum kubelet/*.go containerd/go.mod containerd/go.sum \
			containerd/*.go cni/go.mod cni/go.sum cni/*.go images/go.mod images/go.sum images/*/*.go)
	} | sha256sum | cut -c1-16
}

node_bin_dir() { printf '%s/node/%s' "$KMIGRATE_CACHE" "$(node_cache_key)"; }

node_build_one() {
	local name=$1 out=$2 start tmp
	start=$(now)
	tmp="$out.tmp.$$"
	log "building $name ..."
	# nice: a cold build takes minutes of both cores.
	case $name in
	kubelet)
		(cd "$CLUSTER_SRC/kubelet" && CGO_ENABLED=0 nice -n 10 go build -trimpath -tags selinux,notest \
			-ldflags "$(kube_ldflags)" -o "$tmp" k8s.io/kubernetes/cmd/kubelet)
		;;
	containerd | containerd-shim-runc-v2)
		(cd "$CLUSTER_SRC/containerd" && CGO_ENABLED=0 nice -n 10 go build -trimpath \
			-tags "no_btrfs no_devmapper no_zfs" -ldflags "-s -w" -o "$tmp" \
			"github.com/containerd/containerd/v2/cmd/$name")
		;;
	bridge | loopback)
		(cd "$CLUSTER_SRC/cni" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" -o "$tmp" \
			"github.com/containernetworking/plugins/plugins/main/$name")
		;;
	host-local)
		(cd "$CLUSTER_SRC/cni" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" -o "$tmp" \
			"github.com/containernetworking/plugins/plugins/ipam/$name")
		;;
	pause | imgpush)
		(cd "$CLUSTER_SRC/images" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" -o "$tmp" "./$name")
		;;
	esac
	mv -f "$tmp" "$out"
	log "built $name in $(since "$start")s"
}

node_debs() {
	local -a need=()
	local p
	for p in "${NODE_DEBS[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
	done
	((${#need[@]})) || return 0
	[[ $(id -u) == 0 ]] || die "the real node needs root and Debian packages: apt-get install ${need[*]}"
	log "installing ${need[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}" >&2; }
}

# The app image's base key: the recipe and the candidate versions of its packages.
app_base_key() {
	{
		printf '%s\n' "$APP_IMAGE_REV $APP_SUITE $APP_MIRROR ${APP_PACKAGES[*]}"
		apt-cache policy "${APP_PACKAGES[@]}" 2>/dev/null | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }'
		dpkg-query -W -f '${Version}\n' debootstrap 2>/dev/null
	} | sha256sum | cut -c1-16
}

# The fixture release's key: its files (names and contents).
app_release_key() {
	(cd "$REPO/tests/fixtures/demo_release" && find . -type f -print0 | sort -z | xargs -0 sha256sum) |
		{
			cat
			printf '%s\n' "$APP_IMAGE_REV"
		} | sha256sum | cut -c1-16
}

# build_app_base DIR: DIR/rootfs.tar, a Debian root file system (debootstrap minbase)
# with the app's packages, and nothing else.
build_app_base() {
	local dir=$1 start root
	start=$(now)
	log "building the app image's Debian base (debootstrap $APP_SUITE) ..."
	root=$(mktemp -d "$KMIGRATE_CACHE/images/.base.XXXXXX")
	nice -n 10 debootstrap --variant=minbase --include="$(
		IFS=,
		printf '%s' "${APP_PACKAGES[*]}"
	)" "$APP_SUITE" "$root/rootfs" "$APP_MIRROR" >"$root/debootstrap.log" 2>&1 || {
		tail -n 20 "$root/debootstrap.log" >&2
		rm -rf "$root"
		die "debootstrap failed"
	}
	# Apt's caches and lists are not needed at run time.
	rm -rf "$root/rootfs/var/cache/apt/archives/"*.deb "$root/rootfs/var/lib/apt/lists/"*
	tar --numeric-owner --xattrs -C "$root/rootfs" -cf "$dir/rootfs.tar.tmp" .
	mv -f "$dir/rootfs.tar.tmp" "$dir/rootfs.tar"
	rm -rf "$root"
	log "built the app image's base in $(since "$start")s"
}

# build_app_release BASE_DIR DIR: DIR/release.tar, a layer with the fixture release at
# /app, compiled once at build time (bin/demo's cache under /root/.cache), so that pods
# do not compile it on their first command.
build_app_release() {
	local base=$1 dir=$2 start tmp rc=0
	start=$(now)
	log "building the app image's release layer ..."
	tmp=$(mktemp -d "$KMIGRATE_CACHE/images/.release.XXXXXX")
	mkdir -p "$tmp/lower" "$tmp/upper" "$tmp/work" "$tmp/merged"
	tar -C "$tmp/lower" -xf "$base/rootfs.tar"
	mount -t overlay overlay -o "lowerdir=$tmp/lower,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/merged"
	cp -a "$REPO/tests/fixtures/demo_release" "$tmp/merged/app"
	mount -t proc proc "$tmp/merged/proc"
	chroot "$tmp/merged" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
		/app/bin/demo eval 'IO.puts(:compiled)' >"$tmp/compile.log" 2>&1 || rc=$?
	umount "$tmp/merged/proc"
	umount "$tmp/merged"
	if ((rc)); then
		cat "$tmp/compile.log" >&2
		rm -rf "$tmp"
		die "compiling the fixture release in the app image failed"
	fi
	rm -rf "$tmp/upper/proc" "$tmp/upper/tmp"/*
	tar --numeric-owner -C "$tmp/upper" -cf "$dir/release.tar.tmp" .
	mv -f "$dir/release.tar.tmp" "$dir/release.tar"
	rm -rf "$tmp"
	log "built the release layer in $(since "$start")s"
}

# node_images: the OCI layouts of our images, cached by key under
# $KMIGRATE_CACHE/images/: pause-<node key>, app-<base key>-<release key>.
node_images() {
	local base rel layer
	mkdir -p "$KMIGRATE_CACHE/images"
	PAUSE_LAYOUT=$KMIGRATE_CACHE/images/pause-$(basename "$NODE_BIN")
	if [[ ! -f $PAUSE_LAYOUT/index.json ]]; then
		layer=$(mktemp -d)
		install -D -m 755 "$NODE_BIN/pause" "$layer/root/pause"
		tar --numeric-owner -C "$layer/root" -cf "$layer/pause.tar" .
		rm -rf "$PAUSE_LAYOUT"
		"$NODE_BIN/imgpush" build "$PAUSE_LAYOUT" --entrypoint '["/pause"]' "$layer/pause.tar"
		rm -rf "$layer"
	fi
	base=$KMIGRATE_CACHE/images/base-$(app_base_key)
	rel=$(app_release_key)
	APP_LAYOUT=$KMIGRATE_CACHE/images/app-$(basename "$base")-$rel
	[[ -f $APP_LAYOUT/index.json ]] && return 0
	mkdir -p "$base"
	[[ -f $base/rootfs.tar ]] || build_app_base "$base"
	mkdir -p "$base/release-$rel"
	[[ -f $base/release-$rel/release.tar ]] || build_app_release "$base" "$base/release-$rel"
	rm -rf "$APP_LAYOUT"
	"$NODE_BIN/imgpush" build "$APP_LAYOUT" --env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 \
		--env HOME=/root --workdir /app --cmd '["/app/bin/demo","start"]' \
		"$base/rootfs.tar" "$base/release-$rel/release.tar"
}

cmd_node_build() {
	local start name built=0
	go_env
	node_debs
	NODE_BIN=$(node_bin_dir)
	mkdir -p "$NODE_BIN"
	exec 7>"$NODE_BIN/.lock"
	flock 7
	start=$(now)
	for name in "${NODE_BINARIES[@]}"; do
		[[ -x $NODE_BIN/$name ]] && continue
		node_build_one "$name" "$NODE_BIN/$name"
		built=$((built + 1))
	done
	((built)) && log "built $built node binaries in $(since "$start")s into $NODE_BIN"
	node_images
	exec 7>&-
}

# ---- kmigrate's own image ----------------------------------------------------

KMIGRATE_IMAGE_REV=1

# cmd_kmigrate_image BINARY: an image of kmigrate for the real node's Jobs (kmigrate run
# inside the cluster, as a CI runner or a GitOps hook runs it), pushed to the running
# node's registry; prints its reference. One layer: BINARY without its debug sections at
# /usr/local/bin/kmigrate, and the shared libraries `ldd` names (glibc, libgcc_s) at the
# paths the binary looks for them, nothing else. Cached by the hash of BINARY and of
# those libraries under <repo>/.e2e/images/ (git-ignored).
cmd_kmigrate_image() {
	local bin=${1:-} registry imgpush key layout tmp lib
	local -a libs=()
	[[ -x $bin ]] || die "usage: scripts/cluster kmigrate-image BINARY (an executable; got ${bin:-nothing})"
	[[ -f $STATE/cluster.json ]] || die "cluster is not up (no $STATE/cluster.json); run scripts/cluster up --real-node"
	registry=$(json_get "$STATE/cluster.json" REGISTRY)
	imgpush=$(json_get "$STATE/cluster.json" IMGPUSH)
	[[ -n $registry && -x $imgpush ]] || die "the real node is not up; run scripts/cluster up --real-node"
	mapfile -t libs < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	key=$({
		printf '%s\n' "$KMIGRATE_IMAGE_REV" "${libs[@]}"
		sha256sum "$bin" "${libs[@]}" | cut -d' ' -f1
	} | sha256sum | cut -c1-16)
	layout=$REPO/.e2e/images/kmigrate-$key
	if [[ ! -f $layout/index.json ]]; then
		mkdir -p "$REPO/.e2e/images"
		tmp=$(mktemp -d "$REPO/.e2e/images/.kmigrate.XXXXXX")
		mkdir -p "$tmp/root/usr/local/bin" "$tmp/root/tmp"
		chmod 1777 "$tmp/root/tmp"
		objcopy --strip-debug "$bin" "$tmp/root/usr/local/bin/kmigrate"
		for lib in "${libs[@]}"; do
			install -D -m 755 "$(readlink -f "$lib")" "$tmp/root$lib"
		done
		tar --numeric-owner --owner=0 --group=0 -C "$tmp/root" -cf "$tmp/layer.tar" .
		"$imgpush" build "$tmp/layout" --entrypoint '["/usr/local/bin/kmigrate"]' --env HOME=/tmp --workdir /tmp \
			"$tmp/layer.tar" >&2
		rm -rf "$layout"
		mv "$tmp/layout" "$layout"
		rm -rf "$tmp"
	fi
	"$imgpush" push "$layout" "$registry/kmigrate/kmigrate:$key" >&2
	printf '%s\n' "$registry/kmigrate/kmigrate:$key"
}

# ---- up ----------------------------------------------------------------------

# The pod network: a bridge and a /24 of 10.88.0.0/16 of this state folder's own, so
# that two clones can run a real node at once.
node_net() {
	local n
	n=$(printf '%s' "$STATE" | sha256sum | cut -c1-4)
	n=$((16#$n % 250 + 1))
	NODE_BRIDGE=kmig$n
	NODE_SUBNET=10.88.$n.0/24
	NODE_IP=10.88.$n.1
	NODE_CGROUP=kmigrate-$n
	NODE_RUN=$STATE/node/run
}

write_node_configs() {
	local d=$STATE/node
	mkdir -p "$d/cni" "$d/certs.d/127.0.0.1:$REGISTRY_PORT" "$d/kubelet" "$NODE_RUN"
	cat >"$d/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $d/registry}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: kmigrate-local-registry
EOF
	cat >"$d/certs.d/127.0.0.1:$REGISTRY_PORT/hosts.toml" <<EOF
server = "http://127.0.0.1:$REGISTRY_PORT"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
	cat >"$d/cni/10-kmigrate.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kmigrate",
  "plugins": [{
    "type": "bridge",
    "bridge": "$NODE_BRIDGE",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": "$d/cni-ipam",
      "ranges": [[{"subnet": "$NODE_SUBNET", "gateway": "$NODE_IP"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
EOF
	cat >"$d/containerd.toml" <<EOF
version = 4
root = '$d/containerd'
state = '$NODE_RUN/containerd'
disabled_plugins = ['io.containerd.nri.v1.nri', 'io.containerd.internal.v1.tracing']
[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = '$NODE_RUN/containerd.sock'
  [plugins.'io.containerd.server.v1.ttrpc']
    address = '$NODE_RUN/containerd.sock.ttrpc'
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$PAUSE_IMAGE'
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '$d/certs.d'
  [plugins.'io.containerd.cri.v1.runtime']
    disable_apparmor = true
    # Here root may not lower an OOM score below its own (no CAP_SYS_RESOURCE):
    # runc failed "failed to update /proc/self/oom_score_adj: Permission denied".
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '$(command -v runc)'
          Root = '$NODE_RUN/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['$NODE_BIN']
      conf_dir = '$d/cni'
EOF
	cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1; kubelet 1.35+ refuses it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$NODE_CGROUP
containerRuntimeEndpoint: unix://$NODE_RUN/containerd.sock
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $d/kubelet/serving.crt
tlsPrivateKeyFile: $d/kubelet/serving.key
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: AlwaysAllow}
failSwapOn: false
registerWithTaints:
- {key: $REAL_NODE_TAINT, value: "true", effect: NoSchedule}
maxPods: 30
serializeImagePulls: false
imageMinimumGCAge: 1h
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
podLogsDir: $d/pod-logs
resolvConf: /etc/resolv.conf
syncFrequency: 10s
fileCheckFrequency: 1h
nodeStatusUpdateFrequency: 5s
shutdownGracePeriod: 0s
EOF
}

# The kubelet's serving certificate: our CA, for the node's address.
node_serving_cert() {
	local d=$STATE/node/kubelet pki=$STATE/pki
	[[ -f $d/serving.crt && $(cat "$d/serving.ip" 2>/dev/null) == "$NODE_IP" ]] && return 0
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=system:node:$REAL_NODE_NAME" \
		-keyout "$d/serving.key" -out "$d/serving.csr" 2>/dev/null
	printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "$REAL_NODE_NAME" >"$d/serving.ext"
	openssl x509 -req -sha256 -days 3650 -in "$d/serving.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -extfile "$d/serving.ext" -out "$d/serving.crt" 2>/dev/null
	rm -f "$d/serving.csr" "$d/serving.ext"
	chmod 600 "$d/serving.key"
	printf '%s\n' "$NODE_IP" >"$d/serving.ip"
}

# The bridge exists before any pod, so that the node's address (and PostgreSQL's
# listener on it) are there from the start; the CNI bridge plugin adopts it.
node_bridge_up() {
	if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
		ip link add "$NODE_BRIDGE" type bridge
	fi
	ip addr replace "$NODE_IP/24" dev "$NODE_BRIDGE"
	ip link set "$NODE_BRIDGE" up
}

node_cgroups() { # create|remove
	local c dir
	for c in /sys/fs/cgroup/*/; do
		[[ -f $c/cgroup.procs ]] || continue
		dir=$c$NODE_CGROUP
		if [[ $1 == create ]]; then
			# kubelet asks for the v1 hierarchies; runc also makes one in the
			# hybrid v2 one (unified), which only `remove` has to handle.
			[[ $c == */unified/ ]] || mkdir -p "$dir"
		elif [[ -d $dir ]]; then
			# Leaves first; an empty cgroup is removed with rmdir.
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
		fi
	done
}

# What kube-proxy does for the \`kubernetes\` Service, for this node's pods only: its
# ClusterIP (which the kubelet puts in KUBERNETES_SERVICE_HOST, and which the API server's
# certificate names) is an address of the bridge, and socat bound to it there
# (so-bindtodevice: another clone's node can bind the same address on its own bridge)
# passes each connection on to the API server on 127.0.0.1. In-cluster config then works
# as on any cluster. By its full path: component_pid knows a component by "/<name> ".
node_service_proxy() {
	ip addr replace "$SERVICE_IP/32" dev "$NODE_BRIDGE"
	start_component socat "$(command -v socat)" \
		"TCP-LISTEN:443,bind=$SERVICE_IP,so-bindtodevice=$NODE_BRIDGE,fork,reuseaddr" \
		"TCP:127.0.0.1:$KUBE_APISERVER_PORT"
}

real_node_ready() {
	[[ $(kc get node "$REAL_NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

node_probe_done() {
	[[ $(kc -n default get pod kmigrate-real-probe -o 'jsonpath={.status.phase}') == Succeeded ]]
}

# Called by cmd_up once the control plane is up; BIN, STATE and the tokens are set.
node_up() {
	local t0 var
	t0=$(now)
	cmd_node_build
	node_net
	for var in REGISTRY_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT; do
		free_port "$var" || die "no free port found"
	done
	REGISTRY=127.0.0.1:$REGISTRY_PORT
	PAUSE_IMAGE=$REGISTRY/kmigrate/pause:1
	APP_IMAGE=$REGISTRY/kmigrate/app:1
	log "real node: bridge $NODE_BRIDGE $NODE_SUBNET, registry $REGISTRY, kubelet $NODE_IP:$KUBELET_PORT"
	# Left over from a killed run: stop and clean before starting again.
	node_clean
	node_bridge_up
	node_cgroups create
	write_node_configs
	node_serving_cert
	write_kubeconfig "$STATE/run/kubelet.kubeconfig" "system:node:$REAL_NODE_NAME" "$(token_of "system:node:$REAL_NODE_NAME")"

	start_component docker-registry /usr/bin/docker-registry serve "$STATE/node/registry.yml"
	WATCH="docker-registry"
	wait_for "registry answers" 30 curl -fsS "http://$REGISTRY/v2/" || {
		alive_or_die docker-registry
		die "the registry does not answer at $REGISTRY; see $STATE/logs/docker-registry.log"
	}
	"$NODE_BIN/imgpush" push "$PAUSE_LAYOUT" "$PAUSE_IMAGE"
	"$NODE_BIN/imgpush" push "$APP_LAYOUT" "$APP_IMAGE"
	log "pushed $PAUSE_IMAGE and $APP_IMAGE ($(since "$t0")s)"

	start_component containerd env -i PATH="$NODE_BIN:$PATH" HOME="$HOME" \
		"$NODE_BIN/containerd" --config "$STATE/node/containerd.toml"
	WATCH="docker-registry containerd"
	wait_for "containerd serves" 30 test -S "$NODE_RUN/containerd.sock" || {
		alive_or_die containerd
		die "containerd does not serve $NODE_RUN/containerd.sock; see $STATE/logs/containerd.log"
	}

	start_component kubelet env -i PATH="$NODE_BIN:$PATH" HOME="$HOME" \
		"$NODE_BIN/kubelet" --config="$STATE/node/kubelet.yaml" \
		--kubeconfig="$STATE/run/kubelet.kubeconfig" \
		--root-dir="$STATE/node/kubelet/root" --cert-dir="$STATE/node/kubelet/pki" \
		--hostname-override="$REAL_NODE_NAME" --node-ip="$NODE_IP" \
		--node-labels="type=real,kmigrate.test/real-node=true" --v=1
	node_service_proxy
	WATCH="docker-registry containerd kubelet socat"
	wait_for "node $REAL_NODE_NAME is Ready" 120 real_node_ready || {
		alive_or_die kubelet containerd
		die "node $REAL_NODE_NAME not Ready; see $STATE/logs/kubelet.log"
	}
	# A pod that runs to completion proves sandbox image, pull, runc and CNI.
	kc -n default delete pod kmigrate-real-probe --ignore-not-found --wait=false >/dev/null
	kc -n default apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: kmigrate-real-probe}
spec:
  nodeName: $REAL_NODE_NAME
  restartPolicy: Never
  automountServiceAccountToken: false
  tolerations: [{key: $REAL_NODE_TAINT, operator: Exists}]
  containers:
  - name: probe
    image: $APP_IMAGE
    command: [/app/bin/demo, version]
EOF
	wait_for "probe pod ran on $REAL_NODE_NAME" 180 node_probe_done || {
		kc -n default describe pod kmigrate-real-probe >&2 || true
		alive_or_die kubelet containerd
		die "probe pod did not complete on $REAL_NODE_NAME"
	}
	kc -n default delete pod kmigrate-real-probe --wait=false >/dev/null
	log "real node up in $(since "$t0")s"
}

# ---- down --------------------------------------------------------------------

# node_clean: stop the containers, shims, mounts, network namespaces, bridge and
# cgroups the real node left; only ours (found by this state folder's paths).
node_clean() {
	local d=$STATE/node id pid m root sock
	local -a ids=()
	[[ -n ${NODE_BRIDGE:-} ]] || node_net
	# runc's state for containerd's namespace k8s.io is $NODE_RUN/runc/k8s.io.
	for root in "$NODE_RUN"/runc/*/; do
		[[ -d $root ]] && command -v runc >/dev/null || continue
		mapfile -t ids < <(runc --root "$root" list -q 2>/dev/null)
		for id in "${ids[@]}"; do
			runc --root "$root" kill -a "$id" KILL 2>/dev/null || runc --root "$root" kill "$id" KILL 2>/dev/null || true
		done
		sleep 0.2
		for id in "${ids[@]}"; do
			runc --root "$root" delete -f "$id" 2>/dev/null || true
			# A killed shim leaves its socket in containerd's fixed folder, named by
			# sha256(<containerd socket>/<namespace>/<sandbox id>).
			sock=$(printf '%s' "$NODE_RUN/containerd.sock/$(basename "$root")/$id" | sha256sum | cut -c1-64)
			rm -f "/run/containerd/s/$sock"
		done
	done
	# The shims outlive containerd; ours name our socket on their command line.
	for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $NODE_RUN/containerd.sock" || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	# Mounts under the state folder (overlay root file systems, volumes, network
	# namespaces), deepest first.
	while IFS= read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
		ip link del "$NODE_BRIDGE" 2>/dev/null || true
	fi
	node_cgroups remove
	rm -rf "$NODE_RUN" "$d/kubelet/root" "$d/cni-ipam" "$d/pod-logs"
	# The shims' socket folder is fixed (/run/containerd/s); remove it once empty.
	rmdir /run/containerd/s /run/containerd 2>/dev/null || true
}
