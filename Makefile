# mugai - mail sanitisation gateway.  See README.md.
#
#   make            build build/mugai, build/mugai-milter, build/mugai-web,
#                   build/libmugai.a
#   make check      install dependencies, build, run every test
#   make asan       the unit and CLI tests under ASan + UBSan
#   make bench      throughput and memory benchmarks (not tests)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make fuzz-regress  each fuzz target once over its corpus and regressions
#   make valgrind   the CLI on every fixture under valgrind
#   make demo       mail through a private Postfix with mugai-milter

CC	?= cc
BUILD	?= build
PKG_CONFIG ?= pkg-config
# cairo (and FreeType for its font, libtiff for fax-coded bilevel pages)
# only writes the PDF copies here; libseccomp builds LibreOffice's filter.
PKGS	 = gmime-3.0 libxml-2.0 libmagic libclamav sqlite3 libpng libjpeg zlib \
	   cairo freetype2 libtiff-4 libseccomp libpq libcrypto
# mugai-convert, the sandboxed worker, alone links the parsers of
# hostile formats.
CONVERT_PKGS = poppler-glib cairo fontconfig libtiff-4 libwebp libarchive libzip libytnef \
	   libgsf-1 \
	   libseccomp libxml-2.0 libpng libjpeg zlib
SAN	?=

WARN	 = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	   -Wshadow -Wpointer-arith -Wsign-compare -Wformat=2 \
	   -Wno-unused-parameter
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CONVERT_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(CONVERT_PKGS) 2>/dev/null)
CONVERT_LIBS   := $(shell $(PKG_CONFIG) --libs $(CONVERT_PKGS) 2>/dev/null) -lgif
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -D_GNU_SOURCE \
	   -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS)
LDLIBS	 = $(PKG_LIBS) -lpthread
LDFLAGS	?=

LIB_SRC	 = $(sort $(wildcard src/*/*.c))
LIB_OBJ	 = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC	 = $(sort $(wildcard cli/*.c))
CLI_OBJ	 = $(CLI_SRC:%.c=$(BUILD)/%.o)
MILTER_SRC = $(sort $(wildcard milter/*.c))
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)
WEB_SRC	 = $(sort $(wildcard web/*.c))
WEB_OBJ	 = $(WEB_SRC:%.c=$(BUILD)/%.o)
# The console's parts that need neither libmicrohttpd nor the library's
# state: the unit tests link them, and the CLI the accounts file.
WEB_PURE_OBJ = $(addprefix $(BUILD)/web/,html.o form.o session.o \
	   throttle.o users.o auth.o i18n.o)
WEB_STATIC = $(sort $(wildcard web/static/*))
CONVERT_SRC = $(sort $(wildcard convert/*.c))
CONVERT_OBJ = $(CONVERT_SRC:%.c=$(BUILD)/%.o)
# The converters without main() and the zygote, for unit tests and
# fuzz targets.
CONVERT_LIB_OBJ = $(filter-out $(BUILD)/convert/main.o \
		  $(BUILD)/convert/zygote.o,$(CONVERT_OBJ))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEMPLATES = $(sort $(wildcard templates/*.txt))

PROGS	 = $(BUILD)/mugai $(BUILD)/mugai-convert
ifneq ($(MILTER_SRC),)
PROGS	+= $(BUILD)/mugai-milter
endif
ifneq ($(WEB_SRC),)
PROGS	+= $(BUILD)/mugai-web
endif

.PHONY: all deps check unit e2e asan bench demo clean testdb fuzz \
	fuzz-build fuzz-bins fuzz-regress valgrind
all: $(BUILD)/libmugai.a $(PROGS) $(BUILD)/testdb/stamp

deps:
	@sh scripts/setup

$(BUILD)/gen/templates.h: $(TEMPLATES) scripts/embed-templates
	@mkdir -p $(dir $@)
	sh scripts/embed-templates $(TEMPLATES) > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(BUILD)/gen/templates.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libmugai.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# "mugai web-user" keeps mugai-web's accounts file (web/users.c, auth.c).
$(BUILD)/mugai: $(CLI_OBJ) $(BUILD)/web/users.o $(BUILD)/web/auth.o \
    $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcrypt

# mugai-web's style sheet and script, built in (web/static/).
$(BUILD)/gen/webstatic.h: $(WEB_STATIC) scripts/embed-templates
	@mkdir -p $(dir $@)
	sh scripts/embed-templates $(WEB_STATIC) > $@.tmp && mv $@.tmp $@
$(BUILD)/web/static.o: $(BUILD)/gen/webstatic.h

$(BUILD)/mugai-web: $(WEB_OBJ) $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lmicrohttpd -lcrypt

$(BUILD)/mugai-milter: $(MILTER_OBJ) $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lmilter

$(BUILD)/convert/%.o: ALL_CFLAGS += $(CONVERT_CFLAGS)
$(BUILD)/mugai-convert: $(CONVERT_OBJ) $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(CONVERT_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmugai.a $(BUILD)/gen/templates.h
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmugai.a \
	    $(LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# Tests of the worker's converters link them without the sandbox.
$(BUILD)/tests/test_convert_%: tests/unit/test_convert_%.c $(CONVERT_LIB_OBJ) \
    $(BUILD)/libmugai.a $(BUILD)/gen/templates.h
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(CONVERT_CFLAGS) -Iconvert $(LDFLAGS) -o $@ $< \
	    $(CONVERT_LIB_OBJ) $(BUILD)/libmugai.a $(CONVERT_LIBS) $(LDLIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# mugai-web's pure parts (escaping, sessions, accounts, throttling).
$(BUILD)/tests/test_web_%: tests/unit/test_web_%.c $(WEB_PURE_OBJ) \
    $(BUILD)/libmugai.a $(BUILD)/gen/templates.h
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -Iweb $(LDFLAGS) -o $@ $< $(WEB_PURE_OBJ) \
	    $(BUILD)/libmugai.a $(LDLIBS) -lcrypt \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# The milter's edit module is tested alone, with a fake libmilter seam.
$(BUILD)/tests/test_milter_edit: tests/unit/test_milter_edit.c \
    $(BUILD)/milter/edit.o $(BUILD)/libmugai.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# The milter's callbacks, with a fake libmilter seam and no MTA.
$(BUILD)/tests/test_milter_noreply: tests/unit/test_milter_noreply.c \
    $(BUILD)/milter/callbacks.o $(BUILD)/milter/context.o \
    $(BUILD)/milter/state.o $(BUILD)/milter/edit.o $(BUILD)/libmugai.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# A small ClamAV database made with sigtool: freshclam cannot download here.
$(BUILD)/testdb/stamp: scripts/make-testdb
	sh scripts/make-testdb $(BUILD)/testdb
	@touch $@
testdb: $(BUILD)/testdb/stamp

unit: $(UNIT_BIN) $(BUILD)/testdb/stamp $(BUILD)/mugai-convert
	@sh tests/run-unit $(UNIT_BIN)

e2e: all
	@sh tests/run-e2e $(BUILD)

# The fuzz pass of make check (and so of CI): long enough for a
# regression to show, about 15 minutes for the fourteen targets.
CHECK_FUZZ_SECONDS ?= 60

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) asan
	$(MAKE) fuzz-regress
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

asan:
	$(MAKE) BUILD=build/asan CC=clang \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    CFLAGS="-O1 -g" all unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    sh tests/run-e2e build/asan quick

# libFuzzer targets (fuzz/fuzz_NAME.c), clang only, in their own build
# directory: the library is compiled with coverage and ASan+UBSan.
FUZZ_BUILD	= build/fuzz
FUZZ_SECONDS	?= 60
FUZZ_TARGETS	?=
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_NAMES	= $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	    CFLAGS="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" fuzz-bins

fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%) $(BUILD)/corpus.stamp

$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(BUILD)/libmugai.a $(wildcard include/mugai/*/*.h)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(BUILD)/libmugai.a $(LDLIBS)

# The worker's converters, fuzzed without the sandbox.
$(BUILD)/fuzz_convert_%: fuzz/fuzz_convert_%.c $(CONVERT_LIB_OBJ) \
    $(BUILD)/libmugai.a $(wildcard include/mugai/*/*.h)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) $(CONVERT_CFLAGS) -Iconvert -fsanitize=fuzzer \
	    $(LDFLAGS) -o $@ $< $(CONVERT_LIB_OBJ) $(BUILD)/libmugai.a \
	    $(CONVERT_LIBS) $(LDLIBS)

# mugai-web's input side (web/: forms, Accept-Language, the accounts
# file, escaping), fuzzed with its pure objects.
$(BUILD)/fuzz_web_%: fuzz/fuzz_web_%.c $(WEB_PURE_OBJ) $(BUILD)/libmugai.a \
    $(wildcard include/mugai/*/*.h) $(wildcard web/*.h)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) -Iweb -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(WEB_PURE_OBJ) $(BUILD)/libmugai.a $(LDLIBS) -lcrypt

# Seed corpora from the fixtures: build/fuzz/corpus-NAME/.
$(BUILD)/corpus.stamp: scripts/fuzz-corpus scripts/make-fixtures \
    src/base/config.c $(wildcard fixtures/mail/*.eml)
	python3 scripts/fuzz-corpus fixtures $(BUILD)
	@touch $@

fuzz: fuzz-build
	sh scripts/fuzz-run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	sh scripts/fuzz-run $(FUZZ_BUILD) regress $(FUZZ_TARGETS)

# The CLI on every fixture under valgrind (also part of "make e2e").
valgrind: all
	@sh tests/e2e/slow-valgrind.sh $(BUILD) fixtures

# In-process benchmark drivers (bench/bench_*.c), linked like the tests.
$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libmugai.a $(wildcard include/mugai/*/*.h)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmugai.a $(LDLIBS)

bench: all $(BUILD)/bench_sanitize
	sh bench/run $(BUILD)

demo: deps
	$(MAKE) all
	sh scripts/demo $(BUILD)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(CONVERT_OBJ:.o=.d) \
	 $(WEB_OBJ:.o=.d)
