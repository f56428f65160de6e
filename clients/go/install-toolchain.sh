#!/usr/bin/env bash
# Installs, from Debian's packages, what clients/go/build.sh needs: Go, protoc with protoc-gen-go and
# protoc-gen-go-grpc, and the Go libraries (grpc, protobuf, genproto) in /usr/share/gocode.
# Idempotent: does nothing when all are installed. Installing needs root.
set -euo pipefail

# protoc-gen-go 1.28 generates for the protobuf APIv2; grpc-dev would otherwise pull the APIv1-only
# golang-github-golang-protobuf-1-3-dev, so -1-5-dev is named to satisfy it instead. genproto brings
# google.api's annotations (the contract imports them) and google.rpc's errdetails (ErrorInfo).
PACKAGES=(
  golang-go
  golang-google-grpc-dev
  golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev
  golang-google-genproto-dev
  protoc-gen-go
  protoc-gen-go-grpc
)

missing=()
for package in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null)" != installed ]; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-toolchain.sh: missing ${missing[*]}; run it as root: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
