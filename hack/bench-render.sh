#!/usr/bin/env bash
# Compares in-process rendering with the pipe users build today:
#   kubectl-secure lint OVERLAY        vs  kustomize build OVERLAY | kubectl-secure lint -
#   kubectl-secure lint CHART          vs  helm template CHART     | kubectl-secure lint -
# kustomize is kubectl's built-in (`kubectl kustomize`); helm is built from the
# Go module proxy into .cache/bin. Prints the median of N runs of each.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/kubectl-secure}
HELM=${HELM:-.cache/bin/helm}
N=${N:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A 50-resource overlay: 50 Deployments in a base, an overlay with a name
# prefix, a namespace, a strategic-merge patch and an image override.
mkdir -p "$work/base" "$work/overlay"
res=""
for i in $(seq -w 1 50); do
  cat > "$work/base/app$i.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app$i
spec:
  replicas: 1
  selector: {matchLabels: {app: app$i}}
  template:
    metadata: {labels: {app: app$i}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app$i:1.0.0
          ports: [{containerPort: 8080}]
YAML
  res+="  - app$i.yaml"$'\n'
done
printf 'resources:\n%s' "$res" > "$work/base/kustomization.yaml"
cat > "$work/overlay/kustomization.yaml" <<YAML
namePrefix: prod-
namespace: prod
resources: [../base]
patches:
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/securityContext
        value: {privileged: true}
images:
  - name: ghcr.io/acme/app01
    newTag: 1.0.1
YAML

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # runs "$@" N times, prints the median wall time in ms
  for _ in $(seq "$N"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
  done | median
}

lint_overlay() { "$BIN" lint --no-config "$work/overlay"; }
pipe_overlay() { kubectl kustomize "$work/overlay" | "$BIN" lint --no-config -; }
echo "kustomize, 50 resources:  lint OVERLAY $(timeit lint_overlay) ms;  kubectl kustomize | lint - $(timeit pipe_overlay) ms"

chart=testdata/render/helm/web
if [ -x "$HELM" ]; then
  lint_chart() { "$BIN" lint --no-config "$chart"; }
  pipe_chart() { "$HELM" template "$chart" | "$BIN" lint --no-config -; }
  echo "helm, chart $chart:  lint CHART $(timeit lint_chart) ms;  helm template | lint - $(timeit pipe_chart) ms"
else
  echo "helm not built ($HELM); run make helm"
fi

# Many overlays of one base that includes the project's CRDs (the shape of
# real manifests/ folders): time and peak memory of one lint run.
tree="$work/tree"
hack/overlay-tree.sh "$tree" "${OVERLAYS:-40}" "${CRDS:-12}"
crdsize=$(du -sh "$tree/crds" | cut -f1)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "overlay tree, ${OVERLAYS:-40} overlays x ${CRDS:-12} CRDs ($crdsize):  %e s wall, %U s CPU, %M KB peak RSS" \
    "$BIN" lint --no-config -o json --output-file /dev/null "$tree" || true
else
  s=$(date +%s%N); "$BIN" lint --no-config -o json --output-file /dev/null "$tree" || true; e=$(date +%s%N)
  echo "overlay tree, ${OVERLAYS:-40} overlays: $(( (e - s) / 1000000 )) ms (install GNU time for peak memory)"
fi
