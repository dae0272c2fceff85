# The two commands a new user needs:
#   make up     install what is missing, build templates, start the server
#   make test   install what is missing, run every test (as root)
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
DATA_DIR ?= /var/lib/runtools
TEMPLATE_DIR ?= /var/cache/runtools/templates
LISTEN ?= 127.0.0.1:7070
# FRESH_TEMPLATES=1 builds every template again from today's Debian
# archive, even where the cache is up to date: a suite that passes only on
# an old cached build proves nothing about a new installation.
BUILD_TEMPLATES = bin/runtools server build-templates --template-dir $(TEMPLATE_DIR) $(if $(filter 1 yes true,$(FRESH_TEMPLATES)),--fresh)

.PHONY: up setup build test unit fuzz bench reliability clean-test dashboard cluster-demo

setup:
	@scripts/setup.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/runtools ./cmd/runtools

up: setup
	$(BUILD_TEMPLATES) base
	bin/runtools server --data-dir $(DATA_DIR) --template-dir $(TEMPLATE_DIR) --listen $(LISTEN)

# build-templates ends by printing each template's key versions (Firefox,
# Chromium, Node.js, Python): what this run tests against.
test: setup
	$(BUILD_TEMPLATES)
	go vet ./...
	RUNTOOLS_INTEGRATION=1 RUNTOOLS_TEMPLATE_DIR=$(TEMPLATE_DIR) go test -count=1 -timeout 45m ./...

# The reliability suite's long form: 50 daemon kills at random moments of
# random operations, and 50 concurrent sandboxes (make test runs it short).
reliability: setup
	$(BUILD_TEMPLATES) base
	RUNTOOLS_INTEGRATION=1 RUNTOOLS_TEMPLATE_DIR=$(TEMPLATE_DIR) RUNTOOLS_RELIABILITY_KILLS=50 RUNTOOLS_RELIABILITY_LOAD=50 \
		go test -count=1 -timeout 60m -run 'TestKillAtRandom|TestLoad' -v ./integration

unit:
	go test -short ./...

# Every fuzz target in the repository, one after the other (go test -fuzz
# takes one target at a time), for FUZZTIME each. A new input that finds
# new code is minimized for at most 5s, not the default minute, which
# would eat a short run. FUZZFLAGS adds flags, e.g. -parallel=1. The seed
# corpora (testdata/fuzz) run as ordinary tests under make test already.
FUZZTIME ?= 30s
FUZZFLAGS ?=
fuzz:
	@set -e; grep -rl --include='*_test.go' --exclude-dir=node_modules '^func Fuzz' . | sort | while read -r f; do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "== $$t in $$(dirname "$$f")"; \
			go test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $(FUZZFLAGS) "$$(dirname "$$f")"; \
		done; \
	done

# A three-node cluster on this machine, with its own PostgreSQL and S3
# server, in the foreground (Ctrl-C stops it): see scripts/cluster-demo.sh.
cluster-demo: setup
	$(BUILD_TEMPLATES) base
	TEMPLATE_DIR=$(TEMPLATE_DIR) scripts/cluster-demo.sh

bench: setup
	$(BUILD_TEMPLATES)
	RUNTOOLS_TEMPLATE_DIR=$(TEMPLATE_DIR) go run ./bench -runs 20 -out BENCHMARKS.md

# Rebuild the web dashboard (web/) into internal/dashboard/dist, which is
# committed: the binary embeds it, so building runtools needs no npm.
dashboard:
	cd web && npm ci && npm run build
	rm -rf internal/dashboard/dist && cp -r web/dist internal/dashboard/dist
