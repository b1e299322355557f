# Dev-Mentor. The two commands a newcomer needs: `make run` and `make test`.
# Both install and start PostgreSQL, Redis and Docker when missing (Debian 12, as root).

CARGO ?= cargo
DEVMENTOR_BIN := target/release/devmentor

.PHONY: run test services images build release bench lint fmt clean-containers \
	build-prod up-prod down-prod migrate-prod superuser-prod logs-prod images-prod backup-prod restore-prod doctor-prod

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

# ---- production (docker compose; see README "Production") -----------------------------------
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
LANGUAGES := python javascript c cpp java go rust pascal csharp typescript sql php ruby bash
BACKUP ?= backups/devmentor-$(shell date +%Y%m%d-%H%M%S).sql.gz

## Build the application image (containers/app.Dockerfile).
build-prod:
	$(COMPOSE) build

## Build the language images from containers/<lang>/Dockerfile: debian:trixie-slim and the same
## packages.txt as `make images` (the context is containers/, for dm-init's source). Dockerfiles
## cannot label from a command's output, so each built image then gets the label
## devmentor.toolchain from its `# version:` command (packages.txt) through a one-line build.
## IMAGE_PREFIX names the images; PROD_BUILD_ARGS adds build arguments (the tests use
## --build-arg DEBIAN_IMAGE=<an offline stand-in for debian:trixie-slim>).
IMAGE_PREFIX ?= devmentor
PROD_BUILD_ARGS ?=
images-prod:
	@set -e; for l in $(LANGUAGES); do \
	  img=$(IMAGE_PREFIX)/$$l:latest; echo "==> building $$img"; \
	  docker build $(PROD_BUILD_ARGS) -f containers/$$l/Dockerfile -t $$img containers; \
	  cmd=$$(sed -n 's/^[[:space:]]*#[[:space:]]*version:[[:space:]]*//p' containers/$$l/packages.txt | head -n1); \
	  if [ -z "$$cmd" ]; then echo "==> $$img: no # version: line in packages.txt, not labelled"; continue; fi; \
	  v=$$(docker run --rm --network none $$img sh -c "$$cmd" 2>&1 | head -n1 | tr -d '"\\'); \
	  test -n "$$v" || { echo "error: $$l: the version command printed nothing: $$cmd" >&2; exit 1; }; \
	  printf 'FROM %s\nLABEL devmentor.toolchain="%s"\n' "$$img" "$$v" | docker build -q -t $$img - >/dev/null; \
	  echo "==> $$img: $$v"; \
	done

up-prod:
	$(COMPOSE) up -d

down-prod:
	$(COMPOSE) down

## Apply migrations (run after every upgrade; the app refuses a schema it does not know).
migrate-prod:
	$(COMPOSE) run --rm bot migrate

## Create an admin account for the panel (interactive).
superuser-prod:
	$(COMPOSE) run --rm bot createsuperuser

logs-prod:
	$(COMPOSE) logs -f --tail=200

## Check the deployment: configuration, PostgreSQL, Redis, Docker, images, Telegram, AI.
doctor-prod:
	$(COMPOSE) run --rm worker doctor

## pg_dump of the database into backups/ (BACKUP=path to choose the file).
backup-prod:
	mkdir -p $(dir $(BACKUP))
	$(COMPOSE) exec -T postgres sh -c 'pg_dump -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" --clean --if-exists' | gzip > $(BACKUP)
	@echo "backup written to $(BACKUP)"

## Restore a backup: make restore-prod BACKUP=backups/devmentor-….sql.gz (stops bot and workers).
restore-prod:
	@test -f "$(BACKUP)" || { echo "set BACKUP=path/to/backup.sql.gz"; exit 2; }
	$(COMPOSE) stop bot worker
	gunzip -c $(BACKUP) | $(COMPOSE) exec -T postgres sh -c 'psql -q -v ON_ERROR_STOP=1 -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'
	$(COMPOSE) start bot worker
