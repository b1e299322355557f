# Dev-Mentor. The two commands a newcomer needs: `make run` and `make test`.
# Both install and start PostgreSQL, Redis and Docker when missing (Debian 12, as root).

CARGO ?= cargo
DEVMENTOR_BIN := target/release/devmentor

.PHONY: run test services images build release bench lint fmt clean-containers

## Start the services, build the sandbox images, migrate, check that a program runs, then
## start the service (Ctrl-C stops it).
run: services images release
	$(DEVMENTOR_BIN) migrate
	$(DEVMENTOR_BIN) check examples/zero_division.py
	$(DEVMENTOR_BIN) run

## Everything CI runs: services, images, then the whole test suite.
test: services images
	@# A previous run that crashed may have left containers; nothing else runs sandboxes in CI.
	docker ps -aq --filter label=devmentor.sandbox | xargs -r docker rm -f >/dev/null
	$(CARGO) test --workspace --locked
	@leftover=$$(docker ps -aq --filter label=devmentor.sandbox | wc -l); \
	  if [ "$$leftover" -ne 0 ]; then echo "error: $$leftover sandbox container(s) left behind"; \
	  docker ps -a --filter label=devmentor.sandbox; exit 1; fi; \
	  echo "no sandbox container left behind"

services:
	scripts/services.sh

## Build every language image offline (debootstrap + docker import); skips existing ones.
images: services
	containers/build-images.sh

build:
	$(CARGO) build --workspace --locked

release:
	$(CARGO) build --release --locked -p devmentor-actors

## The sandbox benchmark (release build).
bench: services images release
	$(DEVMENTOR_BIN) bench sandbox --runs 40 --json
	$(DEVMENTOR_BIN) bench analyzer --json

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

## Remove every sandbox container on this Docker host (only when no worker runs here).
clean-containers:
	docker ps -aq --filter label=devmentor.sandbox | xargs -r docker rm -f
