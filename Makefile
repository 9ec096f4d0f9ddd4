# SPDX-License-Identifier: MIT
# Thin wrapper: dependencies, build, demo, tests, benchmarks. The build is CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
WERROR     := $(if $(CI),ON,OFF)
CMAKE_ARGS ?=

.PHONY: all deps build asan demo test test-release test-asan bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGPLAN_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSEGPLAN_SANITIZE=ON -DSEGPLAN_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/segplan examples/stuttgart

# The whole suite twice: optimised, then under AddressSanitizer + UBSan.
test: build asan
	@$(MAKE) --no-print-directory test-release test-asan

test-release:
	cd $(BUILD) && ctest -V -j$(JOBS) --timeout 1800

test-asan:
	cd $(ASAN_BUILD) && ctest -V -j$(JOBS) --timeout 3600

bench: build
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
