#!/usr/bin/env bash
# Writes a kustomize overlay tree of the shape real repositories' manifests/
# folders have: OVERLAYS overlays (default 40), each building one base that
# includes the project's CRDs (CRDS CustomResourceDefinitions of about
# 120 KB each, default 12) and a few workloads.
#   hack/overlay-tree.sh DIR [OVERLAYS] [CRDS]
set -euo pipefail
dir=${1:?usage: overlay-tree.sh DIR [OVERLAYS] [CRDS]}
overlays=${2:-40}
crds=${3:-12}
mkdir -p "$dir/crds" "$dir/base" "$dir/overlays" "$dir/.git"
# A work tree of its own: rendering reads only inside it.
echo "ref: refs/heads/main" > "$dir/.git/HEAD"

# One CRD: a wide, nested openAPIV3Schema, as generated CRDs have.
crd() { # $1: index
  awk -v i="$1" 'BEGIN {
    printf "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widget%02ds.example.com\n", i
    printf "spec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget%02d\n    plural: widget%02ds\n", i, i
    printf "  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n"
    for (a = 0; a < 40; a++) {
      printf "            field%02d:\n              type: object\n              description: Field %d of the widget, with a long description as generated CRDs carry.\n              properties:\n", a, a
      for (b = 0; b < 12; b++) {
        printf "                sub%02d:\n                  type: string\n                  description: Sub-field %d of field %d; defaults to the empty string.\n                  maxLength: 253\n", b, b, a
      }
    }
  }' > "$dir/crds/crd$1.yaml"
}
res=""
for i in $(seq -w 1 "$crds"); do crd "$i"; res+="  - crd$i.yaml"$'\n'; done
printf 'resources:\n%s' "$res" > "$dir/crds/kustomization.yaml"

res="  - ../crds"$'\n'
for i in $(seq -w 1 5); do
  cat > "$dir/base/app$i.yaml" <<YAML
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
      serviceAccountName: app$i
      containers:
        - name: app
          image: ghcr.io/acme/app$i:1.0.0
          ports: [{containerPort: 8080}]
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app$i
YAML
  res+="  - app$i.yaml"$'\n'
done
printf 'resources:\n%s' "$res" > "$dir/base/kustomization.yaml"

for i in $(seq -w 1 "$overlays"); do
  mkdir -p "$dir/overlays/env$i"
  cat > "$dir/overlays/env$i/kustomization.yaml" <<YAML
namespace: env$i
namePrefix: env$i-
resources:
  - ../../base
patches:
  - target: {kind: Deployment, name: app01}
    patch: |-
      - op: add
        path: /spec/template/spec/hostNetwork
        value: true
images:
  - name: ghcr.io/acme/app02
    newTag: 1.0.$i
YAML
done
