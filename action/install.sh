#!/usr/bin/env bash
# Installs kubectl-secure for the composite action (action.yml), with the
# shell only: no other actions, so it runs on self-hosted and air-gapped
# runners and under act.
#
#   KS_VERSION   latest | vX.Y.Z | source
#   KS_TOKEN     token for the releases API (latest); downloads go without it
#
# Release archives are verified against the release's checksums.txt
# (sha256) before they are unpacked, and kept in the runner's tool cache
# ($RUNNER_TOOL_CACHE/kubectl-secure/<version>/<arch>). `source` builds the
# action's own checkout with the Go on the runner. The binary's path is the
# step output `bin`.
set -euo pipefail

version="${KS_VERSION:-latest}"
action_path="${KS_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
repo="${KS_ACTION_REPOSITORY:-kubectl-secure/kubectl-secure}"
server="${GITHUB_SERVER_URL:-https://github.com}"
api="${GITHUB_API_URL:-https://api.github.com}"
tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

out() { echo "bin=$1" >>"${GITHUB_OUTPUT:-/dev/null}"; echo "kubectl-secure: $1"; }
die() { echo "::error title=kubectl-secure install::$*"; exit 2; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "unsupported runner OS $(uname -s) (use version: source)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported runner architecture $(uname -m) (use version: source)" ;;
esac

if [ "$version" = source ]; then
  command -v go >/dev/null || die "version: source needs Go on the runner"
  dir="$tmp/kubectl-secure-source"
  mkdir -p "$dir"
  rev="$(git -C "$action_path" rev-parse --short HEAD 2>/dev/null || echo source)"
  (cd "$action_path" && go build -trimpath -ldflags "-X github.com/kubectl-secure/kubectl-secure/plugin.version=source-$rev" -o "$dir/kubectl-secure" ./cmd/kubectl-secure) ||
    die "building kubectl-secure from $action_path failed"
  out "$dir/kubectl-secure"
  exit 0
fi

auth=()
[ -n "${KS_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $KS_TOKEN")

if [ "$version" = latest ]; then
  # The release this action was pinned to, else the newest.
  if [[ "${KS_ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    version="$KS_ACTION_REF"
  else
    version="$(curl -fsSL ${auth[@]+"${auth[@]}"} "$api/repos/$repo/releases/latest" |
      sed -n 's/^ *"tag_name": *"\([^"]*\)".*/\1/p' | head -n1)" || true
    [ -n "$version" ] || die "could not find the newest release of $repo"
  fi
fi
[[ "$version" =~ ^v?[0-9A-Za-z._+-]+$ ]] || die "version: $version is not latest, source or a release tag"

cache="${RUNNER_TOOL_CACHE:-$tmp/tool-cache}/kubectl-secure/$version/$arch"
if [ -x "$cache/kubectl-secure" ] && [ -f "$cache.complete" ]; then
  out "$cache/kubectl-secure"
  exit 0
fi

work="$(mktemp -d "$tmp/kubectl-secure-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
base="$server/$repo/releases/download/$version"
curl -fsSL --retry 3 -o "$work/checksums.txt" "$base/checksums.txt" ||
  die "downloading $base/checksums.txt failed"
# The archive's exact name comes from the checksums it must match.
archive="$(awk -v s="_${os}_${arch}.tar.gz" '{ n=$2; sub(/^\*/, "", n) } substr(n, length(n)-length(s)+1) == s && n ~ /^kubectl-secure_/ { print n; exit }' "$work/checksums.txt")"
[ -n "$archive" ] || die "no kubectl-secure archive for ${os}/${arch} in $version's checksums.txt"
curl -fsSL --retry 3 -o "$work/$archive" "$base/$archive" || die "downloading $base/$archive failed"
want="$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$work/checksums.txt")"
if command -v sha256sum >/dev/null; then
  got="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
else
  got="$(shasum -a 256 "$work/$archive" | cut -d' ' -f1)"
fi
[ "$got" = "$want" ] || die "$archive: sha256 $got does not match checksums.txt ($want); not using it"

rm -rf "$cache"
mkdir -p "$cache"
tar -xzf "$work/$archive" -C "$cache"
[ -x "$cache/kubectl-secure" ] || die "$archive holds no kubectl-secure binary"
touch "$cache.complete"
out "$cache/kubectl-secure"
