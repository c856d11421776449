#!/bin/sh
# Builds native/train_kernels.c into the two WebAssembly modules lib/wasm/native.ts loads:
#   native/train_kernels.wasm         imports the plain heap of the single-threaded tfjs build
#   native/train_kernels-shared.wasm  imports the shared heap of the threaded build (max 4 GiB)
# Needs clang and wasm-ld (Debian: apt-get install clang lld). The outputs are committed, so
# users need no compiler; test/wasm-native.test.ts checks that they match this script's output.
# Usage: tools/build-wasm.sh [output-dir]   (default: native/)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/native"}
src="$root/native/train_kernels.c"
common="--target=wasm32 -msimd128 -mbulk-memory -O3 -nostdlib -ffreestanding -fno-builtin
  -Wall -Werror -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--strip-all
  -Wl,--initial-memory=131072 -Wl,-z,stack-size=0"
# shellcheck disable=SC2086
clang $common -o "$out/train_kernels.wasm" "$src"
# shellcheck disable=SC2086
clang $common -matomics -Wl,--shared-memory -Wl,--max-memory=4294967296 -o "$out/train_kernels-shared.wasm" "$src"
# The compiler that made them: another version may emit other (equally valid) bytes.
clang --version | head -n 1 > "$out/train_kernels.compiler.txt"
