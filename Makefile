# Thin entry points; the real work lives in scripts/.
.PHONY: deps build test demo bench clean

JOBS ?= $(shell nproc)

deps:
	bash scripts/deps.sh

build:
	bash scripts/build.sh release

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench:
	bash bench/run.sh

clean:
	rm -rf build build-asan build-tsan
