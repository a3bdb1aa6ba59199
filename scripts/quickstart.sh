#!/usr/bin/env bash
# The main job on the built-in default: capture torchvision MobileNetV2 (seeded weights),
# show what it needs, build the qemu-virt unikernel, boot it in QEMU and check its answer.
# Installs whatever is missing first. MODEL=resnet18 (any torchvision classifier) to change.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=${MODEL:-mobilenet_v2}
OUT=out/$MODEL
es() { node bin/edgespec "$@"; }

printf '\n== capture: torchvision %s, seed 0\n' "$MODEL"
rm -rf "$OUT"
es capture "torchvision:$MODEL" --input-shape 1x3x224x224 --seed 0 --out "$OUT"
printf '\n== inspect\n'
es inspect "$OUT"
printf '\n== build for qemu-virt\n'
es build "$OUT" --target qemu-virt
printf '\n== boot in QEMU and compare with PyTorch\n'
es run "$OUT/build/qemu-virt"
