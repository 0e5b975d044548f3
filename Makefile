# Holdfast: `make run` starts the bot (local mode without Slack tokens),
# `make test` runs every test against real Postgres and Redis.
GO ?= go
BIN := bin/holdfast
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test bench chaos build services migrate vet fmt clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/holdfast

services:
	@./scripts/services.sh

run: services build
	./$(BIN) run

migrate: services build
	./$(BIN) migrate

test: services
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Benchmarks need the same services. System benchmarks (the whole bot
# against Postgres, Redis and the fake Slack; store queries at 100k
# accounts) run their fixed workload once; the pure packages' run as usual
# (internal/churn's report queries at 100k accounts run with its rules'
# benchmarks, a few loops per query).
# internal/offers holds both kinds: its store benchmarks run once with the
# system ones, its rules' as usual.
# BENCH narrows them, e.g. make bench BENCH=Health.
BENCH ?= .
SYSTEM_BENCH_PKGS := ./cmd/holdfast/ ./store/ ./internal/rooms/ ./internal/offers/ ./internal/connectors/ ./internal/healthmodel/ ./internal/playbook/
PURE_BENCH_PKGS := ./scoring/... ./internal/offers/ ./internal/churn/ ./internal/notes/ ./api/
OFFERS_STORE_BENCH := ^Benchmark(OfferLifecycle|OfferRefusedClick|OpenOffers15)$$
OFFERS_PURE_BENCH := ^Benchmark(Evaluate|CheckAndImpact|ComputeStats10k)$$
bench: services
	$(GO) test -run '^$$' -bench '$(BENCH)' -skip '$(OFFERS_PURE_BENCH)' -benchtime 1x -count 1 -timeout 60m $(SYSTEM_BENCH_PKGS)
	$(GO) test -run '^$$' -bench '$(BENCH)' -skip '$(OFFERS_STORE_BENCH)' -benchmem -timeout 30m $(PURE_BENCH_PKGS)

# The chaos suite starts its own Postgres, Redis, fake Slack, hostile
# model and 3 replicas on private ports (never 5432/6379); not part of
# make test. Exits non-zero on any lost or duplicated signal or alert.
chaos:
	$(GO) run ./cmd/chaos

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# The offline text models (scoring/text/model): trained from TweetEval's
# test split and the team's customer texts, TweetEval val held out.
# Deterministic: the same data gives the same bytes and recipe.json.
TWEETEVAL ?= $(firstword $(wildcard ../shared/data/tweeteval-sentiment ../../shared/data/tweeteval-sentiment /work/shared/data/tweeteval-sentiment))
.PHONY: train-text
train-text:
	$(GO) run ./scoring/text/traintext -tweeteval $(TWEETEVAL) -pkg scoring/text
