#!/usr/bin/env bash
# Builds the pinned control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) into a cache directory outside git and prints that directory. A second run with the same
# pins reuses the binaries; the first takes about 15 minutes on 2 cores.
#
#   tools/controlplane/build.sh            # -> $BATCHLENS_CACHE/controlplane-<pins hash>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${BATCHLENS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/batchlens}"
hash="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/etcd/main.go" | sha256sum | cut -c1-12)"
out="$cache/controlplane-$hash"
tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$out"
v=k8s.io/component-base/version
ldflags="-s -w -X $v.gitVersion=v1.36.3 -X $v.gitMajor=1 -X $v.gitMinor=36 -X $v.gitTreeState=clean"
start=$SECONDS
echo "building the control plane into $out (first time only, about 15 minutes on 2 cores)" >&2
cd "$here"
for t in "${tools[@]}"; do
  case $t in
    etcd) pkg=./etcd ;;
    kwok) pkg=sigs.k8s.io/kwok/cmd/kwok ;;
    *) pkg=k8s.io/kubernetes/cmd/$t ;;
  esac
  t0=$SECONDS
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$t" "$pkg"
  echo "  $t built in $((SECONDS - t0)) s" >&2
done
# kwok's own stages, from the pinned module: nodes become Ready and heartbeat; pods start, Job pods
# complete, deleted pods go away. The project's stages (e2e/stages) add the failure outcomes.
kwok="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
mkdir -p "$out/stages"
cp "$kwok/node/fast/node-initialize.yaml" "$kwok/node/heartbeat/node-heartbeat.yaml" \
   "$kwok/pod/fast/pod-ready.yaml" "$kwok/pod/fast/pod-complete.yaml" "$kwok/pod/fast/pod-delete.yaml" "$out/stages/"
touch "$out/.complete"
echo "control plane built in $((SECONDS - start)) s" >&2
echo "$out"
