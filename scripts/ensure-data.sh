#!/usr/bin/env bash
# Makes sure the default data set (Fashion-MNIST, Debian's dataset-fashion-mnist)
# is there, installing it with apt-get where that is possible.
set -euo pipefail
dir="${NASRUN_DATA:-/usr/share/datasets/fashion-mnist}"
if [ -e "$dir/train-images-idx3-ubyte.gz" ] || [ -e "$dir/train-images-idx3-ubyte" ]; then
  exit 0
fi
if [ -n "${NASRUN_DATA:-}" ]; then
  echo "NASRUN_DATA=$dir holds no Fashion-MNIST/MNIST IDX files (train-images-idx3-ubyte[.gz] ...)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
The data set is missing and this system has no apt-get.
Download Fashion-MNIST's four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into a folder and run
  NASRUN_DATA=/that/folder make evolve
MSG
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing the data set: $sudo apt-get install dataset-fashion-mnist" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
