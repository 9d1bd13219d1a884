# Helios — the two first-run commands are `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift

# Debian packages Helios builds and tests with (DESIGN.md §9).
DEBIAN_PACKAGES := libzookeeper-mt-dev libgit2-dev libcurl4-openssl-dev libyaml-dev zookeeper \
	docker.io busybox-static curl git python3 default-jre-headless \
	docker-registry apache2-utils python3-yaml python3-jsonschema openssh-client gpgv gnupg \
	chromium chromium-driver python3-selenium

.PHONY: all deps cli build release test chaos bench bench-clean bench-report bench-build bench-swarm bench-scale bench-plan bench-store bench-agent bench-deploy bench-master demo demo-down services-up services-down test-images clean

all: build

# The revision a release binary names in `helios version`.
REVISION_FLAG = -Xcc -DHELIOS_REVISION='"$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -modified)"'

# What the CLI alone links: no ZooKeeper server, Docker or JRE (`make cli`).
CLI_PACKAGES := libzookeeper-mt-dev libgit2-dev libcurl4-openssl-dev

# Installs the Debian packages of $(1) that are missing (idempotent).
install-missing = @missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## deps: install the Debian packages that are missing (idempotent).
deps:
	$(call install-missing,$(DEBIAN_PACKAGES))

## cli: just the helios binary, self-contained, with only the libraries it links.
cli:
	$(call install-missing,$(CLI_PACKAGES))
	$(SWIFT) build -c release --product helios --static-swift-stdlib $(REVISION_FLAG)
	@echo "built $$($(SWIFT) build -c release --show-bin-path)/helios"

## build: a debug build of the helios binary.
build: deps
	$(SWIFT) build

## release: self-contained binaries: helios (CLI and master) and helios-agent, the one to ship to hosts.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib $(REVISION_FLAG)

## test: every test against a real ZooKeeper, dockerd and git, then a smoke of `make chaos`
## (one fault of each kind; it restarts dockerd, so it runs after the tests, never beside them).
test: deps
	$(SWIFT) build --build-tests
	scripts/with-services.sh bash -c '$(SWIFT) test --skip-build --disable-xctest && .build/debug/helios-chaos --smoke'

## chaos: a 3-member ZooKeeper ensemble, two masters and three agents under random faults
## (SEED=N replays a run; FAULTS=N, default 35), invariants checked after each one.
chaos: deps
	$(SWIFT) build --product helios-chaos
	$(SWIFT) build --product helios
	scripts/with-services.sh .build/debug/helios-chaos $(if $(SEED),--seed $(SEED)) $(if $(FAULTS),--faults $(FAULTS))

## bench: the benchmarks, in release mode, with their baselines measured in the same run;
## each benchmark writes bench/results/BENCHMARK-PART.json, and the report joins them into
## bench/results.md and bench/results.json (bench/README.md says how to run each part alone).
bench: bench-clean bench-plan bench-store bench-agent bench-deploy bench-swarm bench-scale bench-master bench-report

bench-clean:
	rm -rf bench/results

bench-report:
	.build/release/helios-bench report

## bench-build: helios-bench and the helios and helios-agent binaries the benchmarks start, built
## as `make release` ships them (the same flags for all: a flag that differs rebuilds every module).
bench-build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product helios-bench
	$(SWIFT) build -c release --static-swift-stdlib --product helios
	$(SWIFT) build -c release --static-swift-stdlib --product helios-agent

bench-plan: bench-build
	.build/release/helios-bench plan

bench-store bench-agent bench-deploy bench-scale bench-master: bench-build
	scripts/with-services.sh .build/release/helios-bench $(@:bench-%=%)

bench-swarm: bench-build
	scripts/with-services.sh .build/release/helios-bench swarm; status=$$?; scripts/bench-swarm-leave.sh; exit $$status

## demo: a working deployer on this machine, from the manifests in deployments/.
demo: build
	scripts/with-services.sh scripts/demo.sh

## demo-down: stop a demo kept running with `make demo KEEP=1`.
demo-down:
	scripts/demo.sh down

services-up: deps
	scripts/services.sh up

services-down:
	scripts/services.sh down

test-images: services-up
	eval "$$(scripts/services.sh env)" && scripts/test-images.sh

clean:
	rm -rf .build .demo
