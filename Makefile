# Thin wrapper: the two commands of the README, and the builds they need.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build demo check install clean

all: build

deps:
	@.ci/deps.sh

# A plain build installs nothing: missing packages stop CMake with its message.
build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The main job: a throwaway PostgreSQL, a shop schema broken by bulk loads,
# then fkscan's audit and scan of it.
demo: deps
	@$(MAKE) --no-print-directory build
	@tests/harness/pgcluster.sh run -- tests/demo/demo.sh $(BUILD)/fkscan

# The whole test suite (what .ci/run calls): unit and integration tests on a
# plain build, again under ASan+UBSan, and the threaded tests under TSan.
check: deps
	@tests/check.sh

# The binary, its manual fkscan(1) and the JSON Schema, under PREFIX
# (default: CMake's, /usr/local).
install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf build build-asan build-tsan build-fuzz
