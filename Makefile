# Thin entry points; the real work lives in scripts/.
.PHONY: deps build test demo bench arginfo clean

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

# Regenerates runtime/php/*_arginfo.h from the *.stub.php next to them (commit the result).
arginfo:
	bash scripts/gen-arginfo.sh

clean:
	rm -rf build build-asan build-tsan
