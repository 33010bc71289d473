#!/bin/sh
# install.sh: installs supervisor-ts-server and supervisor-ts-client from a release.
#
# Picks the binaries for this machine's OS (uname -s) and CPU (uname -m), downloads them and
# SHA256SUMS with curl or wget, checks both checksums, and only then installs both into
# PREFIX/bin. A checksum mismatch installs nothing. Run with --help for the options.
set -eu

# The GitHub repository releases are published from.
OWNER="supervisor-ts"
REPO="supervisor-ts"
DEFAULT_RELEASE_URL="https://github.com/${OWNER}/${REPO}/releases/latest/download"
DEFAULT_PREFIX="/usr/local"
BINARIES="supervisor-ts-server supervisor-ts-client"

usage() {
  cat <<EOF
install.sh: installs supervisor-ts-server and supervisor-ts-client for this machine

Usage: sh install.sh [--url URL] [--prefix DIR]

  --url URL      where the release files are (default: \$SUPERVISOR_TS_RELEASE_URL, else
                 ${DEFAULT_RELEASE_URL});
                 a release for tag vX.Y.Z is at
                 https://github.com/${OWNER}/${REPO}/releases/download/vX.Y.Z
  --prefix DIR   install into DIR/bin (default: \$SUPERVISOR_TS_PREFIX, else ${DEFAULT_PREFIX})
  -h, --help     print this help

Supported: Linux and macOS (Darwin) on x86_64 (amd64) and aarch64 (arm64). Both binaries are
checked against the release's SHA256SUMS before anything is installed.
EOF
}

say() { printf '%s\n' "$*"; }
fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'error: %s\n\nRun "sh install.sh --help" for usage.\n' "$*" >&2
  exit 2
}

release_url="${SUPERVISOR_TS_RELEASE_URL:-$DEFAULT_RELEASE_URL}"
prefix="${SUPERVISOR_TS_PREFIX:-$DEFAULT_PREFIX}"

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --url)
      [ "$#" -ge 2 ] || usage_error "--url needs a URL"
      release_url="$2"
      shift 2
      ;;
    --url=*)
      release_url="${1#--url=}"
      shift
      ;;
    --prefix)
      [ "$#" -ge 2 ] || usage_error "--prefix needs a directory"
      prefix="$2"
      shift 2
      ;;
    --prefix=*)
      prefix="${1#--prefix=}"
      shift
      ;;
    *) usage_error "unexpected argument \"$1\"" ;;
  esac
done
[ -n "$release_url" ] || usage_error "the release URL is empty"
[ -n "$prefix" ] || usage_error "the prefix is empty"
release_url="${release_url%/}"

# The release target for this machine.
os="$(uname -s)"
cpu="$(uname -m)"
case "$os" in
  Linux) os_part="unknown-linux-gnu" ;;
  Darwin) os_part="apple-darwin" ;;
  *) fail "unsupported operating system \"$os\": supervisor-ts releases have binaries for Linux and macOS (Darwin) only; on other systems run it with Deno (see the README)" ;;
esac
case "$cpu" in
  x86_64 | amd64) cpu_part="x86_64" ;;
  aarch64 | arm64) cpu_part="aarch64" ;;
  *) fail "unsupported CPU architecture \"$cpu\" on $os: supervisor-ts releases have binaries for x86_64 (amd64) and aarch64 (arm64) only; on other CPUs run it with Deno (see the README)" ;;
esac
target="${cpu_part}-${os_part}"

# Tools: a downloader and a SHA-256 program.
if command -v curl >/dev/null 2>&1; then
  download() { curl --fail --silent --show-error --location --output "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  download() { wget --quiet --output-document="$2" "$1"; }
else
  fail "neither curl nor wget was found: install one of them and run this again"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  fail "neither sha256sum nor shasum was found: install coreutils (or perl's shasum) and run this again"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/supervisor-ts-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fetch() {
  say "downloading $release_url/$1"
  download "$release_url/$1" "$tmp/$1" || fail "could not download $release_url/$1: check the URL (--url) and your network, then run this again; nothing was installed"
}

say "installing supervisor-ts for $target ($os $cpu) from $release_url"
fetch SHA256SUMS
for binary in $BINARIES; do fetch "$binary-$target"; done

# Every checksum is checked before anything is installed.
for binary in $BINARIES; do
  file="$binary-$target"
  expected="$(awk -v f="$file" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS" | tr 'A-F' 'a-f')"
  [ -n "$expected" ] || fail "SHA256SUMS from $release_url has no line for $file; nothing was installed"
  actual="$(sha256 "$tmp/$file" | tr 'A-F' 'a-f')"
  if [ "$expected" != "$actual" ]; then
    {
      printf 'error: checksum mismatch for %s\n' "$file"
      printf '  expected (SHA256SUMS): %s\n' "$expected"
      printf '  actual (downloaded):   %s\n' "$actual"
      printf 'Nothing was installed. The download is damaged or is not the file the release\n'
      printf 'published: run this again, and report it if the mismatch persists.\n'
    } >&2
    exit 1
  fi
  say "checksum ok: $file $actual"
done

bindir="$prefix/bin"
mkdir -p "$bindir" 2>/dev/null || fail "cannot create $bindir: run as a user who can write there (e.g. with sudo), or choose another place with --prefix \"\$HOME/.local\""
for binary in $BINARIES; do
  # Copy next to the destination, then rename: a running binary is replaced, never overwritten.
  staged="$bindir/.$binary.$$"
  if ! { cp "$tmp/$binary-$target" "$staged" && chmod 755 "$staged" && mv -f "$staged" "$bindir/$binary"; } 2>/dev/null; then
    rm -f "$staged"
    fail "cannot write $bindir/$binary: run as a user who can write to $bindir (e.g. with sudo), or choose another place with --prefix \"\$HOME/.local\""
  fi
  say "installed $bindir/$binary ($binary-$target)"
done

case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *) say "note: $bindir is not on your PATH; add it, or run $bindir/supervisor-ts-server directly" ;;
esac
say "done: run \"supervisor-ts-server --help\" and \"supervisor-ts-client --help\" to get started"
