#!/usr/bin/env bash
# Builds the bench models for every target and dtype and prints the sha256 of each image, so
# that a change meant to keep behaviour can be checked for byte-identical images:
#   bash scripts/image-sums.sh > before.txt; (change); bash scripts/image-sums.sh > after.txt; diff before.txt after.txt
# EDGESPEC_CLI: the edgespec to build with (default: this checkout's bin/edgespec), e.g. an
#   older checkout's, to compare against a commit.
# EDGESPEC_SUMS_CACHE: where bundles are captured once and kept (default: .bench-cache/sums).
# MODELS, TARGETS, DTYPES: space-separated subsets.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${EDGESPEC_CLI:-$PWD/bin/edgespec}
CACHE=${EDGESPEC_SUMS_CACHE:-$PWD/.bench-cache/sums}
MODELS=${MODELS:-"mobilenet_v2 mobilenet_v3_small resnet18 squeezenet1_1 shufflenet_v2_x0_5 efficientnet_b0"}
TARGETS=${TARGETS:-"qemu-virt host linux"}
DTYPES=${DTYPES:-"float32 int8"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for model in $MODELS; do
  bundle=$CACHE/$model
  if [ ! -f "$bundle/graph.json" ]; then
    echo "capturing $model into $bundle" >&2
    .venv/bin/python -m edgespec capture "torchvision:$model" --input-shape 1x3x224x224 --seed 0 --out "$bundle" >&2
  fi
  for target in $TARGETS; do
    for dtype in $DTYPES; do
      out=$work/$model-$target-$dtype
      node "$CLI" build "$bundle" --target "$target" --dtype "$dtype" --out "$out" > "$work/log" 2>&1 || {
        cat "$work/log" >&2; echo "build failed: $model $target $dtype" >&2; exit 1; }
      image=$(node -e 'console.log(require(process.argv[1]).image)' "$out/build.json")
      echo "$(sha256sum < "$out/$image" | cut -c1-64)  $model $target $dtype"
      rm -rf "$out"
    done
  done
done
