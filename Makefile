# kho — build, run and test.
#
#   make run    install what is missing, build, initialise ./var with demo data, serve :8080
#   make test   install what is missing, build (normal and ASan+UBSan), run every test
#
# Other targets: build, bench, fuzz, format, clean. Variables: DATA (data directory),
# LISTEN (address), V (build variant: release, asan, fuzz), B (build directory, default build/$(V)).
SHELL := /bin/bash
DATA ?= var
LISTEN ?= 127.0.0.1:8080
V ?= release

PKGS := libh2o-evloop sqlite3 jansson libsodium libutf8proc libcurl libqrencode libpng
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lssl -lcrypto -lz -lpthread -lm

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef
BASE = -std=c17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP

ifeq ($(V),release)
  CC := gcc
  VFLAGS := -O2 -g
  VLDFLAGS :=
else ifeq ($(V),asan)
  CC := clang
  VFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  VLDFLAGS := -fsanitize=address,undefined
else ifeq ($(V),fuzz)
  CC := clang
  VFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link
  VLDFLAGS := -fsanitize=address,undefined,fuzzer
else
  $(error unknown build variant V=$(V): use release, asan or fuzz)
endif

B ?= build/$(V)
SRC := $(shell find src -name '*.c' ! -name main.c | sort)
OBJ := $(SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
# The portal's pages and assets (web/, and the chart library from npm), embedded in the kho binary
# only (api/h_static.h); npm packages come from package-lock.json, installed when missing or stale.
WEB_SRC := $(sort $(wildcard web/*))
WEB_VENDOR := uplot.min.js=node_modules/uplot/dist/uPlot.iife.min.js \
              uplot.min.css=node_modules/uplot/dist/uPlot.min.css
NPM_STAMP := node_modules/.kho-npm-ci

.PHONY: all run test build bin unit fuzz-bin bench-bin deps deps-test npm check-banned bench fuzz format clean

all: build

## The two commands ----------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory V=release bin
	./build/release/kho init --demo --data $(DATA)
	./build/release/kho trace esg --data $(DATA)
	exec ./build/release/kho serve --data $(DATA) --listen $(LISTEN)

test: deps-test
	@$(MAKE) --no-print-directory npm
	@$(MAKE) --no-print-directory V=release bin unit
	@$(MAKE) --no-print-directory V=asan bin unit
	@$(MAKE) --no-print-directory V=fuzz fuzz-bin
	@bash tests/run.sh

## Pieces -------------------------------------------------------------------------------
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps
	@$(MAKE) --no-print-directory V=release bin

bin: $(B)/kho

unit: $(UNIT_BIN)

fuzz-bin: $(FUZZ_BIN)

bench-bin: $(BENCH_BIN)

$(B)/kho: $(OBJ) $(B)/src/main.o $(B)/gen/web_assets.o
	@echo "  LINK  $@"
	@$(CC) $(VFLAGS) $(VLDFLAGS) -o $@ $^ $(LIBS)

npm: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@echo "  NPM   npm ci (node_modules missing or older than package-lock.json)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(B)/gen/web_assets.c: $(WEB_SRC) web scripts/embed.mjs $(NPM_STAMP)
	@mkdir -p $(dir $@)
	@node scripts/embed.mjs $@ web $(WEB_VENDOR)

$(B)/gen/web_assets.o: $(B)/gen/web_assets.c src/api/h_static.h
	@echo "  CC    $< ($(V))"
	@$(CC) $(BASE) $(VFLAGS) -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $< ($(V))"
	@$(CC) $(BASE) $(VFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(OBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	@$(CC) $(BASE) $(VFLAGS) $(VLDFLAGS) -Itests/unit -o $@ $< $(OBJ) $(LIBS) -lcmocka

$(B)/fuzz/%: fuzz/%.c $(OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	@$(CC) $(BASE) $(VFLAGS) $(VLDFLAGS) -o $@ $< $(OBJ) $(LIBS)

$(B)/bench/%: bench/%.c $(OBJ)
	@mkdir -p $(dir $@)
	@echo "  BENCH $@"
	@$(CC) $(BASE) $(VFLAGS) $(VLDFLAGS) -o $@ $< $(OBJ) $(LIBS)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory V=release bin bench-bin
	bash bench/run.sh

fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory V=fuzz fuzz-bin
	bash fuzz/run.sh 60

check-banned:
	@bash scripts/check-banned.sh

format:
	clang-format -i $$(find src tests/unit fuzz -name '*.[ch]')

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(B)/src/main.d
