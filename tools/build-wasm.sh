#!/bin/sh
# Builds native/train_kernels.c into the four WebAssembly modules lib/wasm/native.ts loads:
#   native/train_kernels.wasm                 plain SIMD, the plain heap of the single-threaded tfjs build
#   native/train_kernels-shared.wasm          plain SIMD, the shared heap of the threaded build (max 4 GiB)
#   native/train_kernels-relaxed.wasm         relaxed SIMD (fused multiply-add), plain heap
#   native/train_kernels-relaxed-shared.wasm  relaxed SIMD (fused multiply-add), shared heap
# lib/wasm/native-build.ts picks the relaxed pair where the runtime validates relaxed SIMD (Node 24;
# Node 20 with --experimental-wasm-relaxed-simd), the plain pair otherwise.
# Needs clang 16 and its wasm-ld (Debian: apt-get install clang-16 lld-16): clang 14 emits the
# pre-standard relaxed-SIMD opcodes, which V8 rejects. CLANG names another compiler.
# The outputs are committed, so users need no compiler; test/wasm-native.test.ts checks that they
# match this script's output.
# Usage: tools/build-wasm.sh [output-dir]   (default: native/)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/native"}
src="$root/native/train_kernels.c"
clang=${CLANG:-clang-16}
# clang runs the first wasm-ld on PATH: put its own LLVM's first (lld-16's, not another version's)
PATH="$(dirname "$(readlink -f "$(command -v "$clang")")"):$PATH"
cflags="--target=wasm32 -msimd128 -mbulk-memory -O3 -nostdlib -ffreestanding -fno-builtin -Wall -Werror"
# The module has no C stack (stack-size=0 below): a function that spilled an array to one would
# share that memory between the threads, and race. Refuse to build such a function.
for relaxed in "" -mrelaxed-simd; do
  # shellcheck disable=SC2086
  if "$clang" $cflags $relaxed -S -o - "$src" | grep -q 'global\.get[[:space:]]*__stack_pointer'; then
    echo "build-wasm: a function in $src uses the C stack (an array indexed at run time?): keep its values in registers" >&2
    exit 1
  fi
done
common="$cflags -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--strip-all
  -Wl,--initial-memory=131072 -Wl,-z,stack-size=0"
shared="-matomics -Wl,--shared-memory -Wl,--max-memory=4294967296"
# shellcheck disable=SC2086
"$clang" $common -o "$out/train_kernels.wasm" "$src"
# shellcheck disable=SC2086
"$clang" $common $shared -o "$out/train_kernels-shared.wasm" "$src"
# shellcheck disable=SC2086
"$clang" $common -mrelaxed-simd -o "$out/train_kernels-relaxed.wasm" "$src"
# shellcheck disable=SC2086
"$clang" $common -mrelaxed-simd $shared -o "$out/train_kernels-relaxed-shared.wasm" "$src"
# The compiler that made them: another version may emit other (equally valid) bytes.
"$clang" --version | head -n 1 > "$out/train_kernels.compiler.txt"
