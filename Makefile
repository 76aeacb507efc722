# mugai - mail sanitisation gateway.  See README.md.
#
#   make            build build/mugai, build/mugai-milter, build/libmugai.a
#   make check      install dependencies, build, run every test
#   make asan       the unit and CLI tests under ASan + UBSan
#   make bench      throughput and memory benchmarks (not tests)
#   make demo       mail through a private Postfix with mugai-milter

CC	?= cc
BUILD	?= build
PKG_CONFIG ?= pkg-config
PKGS	 = gmime-3.0 libxml-2.0 libmagic libclamav sqlite3
SAN	?=

WARN	 = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	   -Wshadow -Wpointer-arith -Wsign-compare -Wformat=2 \
	   -Wno-unused-parameter
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -D_GNU_SOURCE \
	   -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS)
LDLIBS	 = $(PKG_LIBS) -lpthread
LDFLAGS	?=

LIB_SRC	 = $(sort $(wildcard src/*.c))
LIB_OBJ	 = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC	 = $(sort $(wildcard cli/*.c))
CLI_OBJ	 = $(CLI_SRC:%.c=$(BUILD)/%.o)
MILTER_SRC = $(sort $(wildcard milter/*.c))
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEMPLATES = $(sort $(wildcard templates/*.txt))

PROGS	 = $(BUILD)/mugai
ifneq ($(MILTER_SRC),)
PROGS	+= $(BUILD)/mugai-milter
endif

.PHONY: all deps check unit e2e asan bench demo clean testdb fuzz
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

$(BUILD)/mugai: $(CLI_OBJ) $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mugai-milter: $(MILTER_OBJ) $(BUILD)/libmugai.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lmilter

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmugai.a $(BUILD)/gen/templates.h
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmugai.a \
	    $(LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# The milter's edit module is tested alone, with a fake libmilter seam.
$(BUILD)/tests/test_milter_edit: tests/unit/test_milter_edit.c \
    $(BUILD)/milter/edit.o $(BUILD)/libmugai.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# A small ClamAV database made with sigtool: freshclam cannot download here.
$(BUILD)/testdb/stamp: scripts/make-testdb
	sh scripts/make-testdb $(BUILD)/testdb
	@touch $@
testdb: $(BUILD)/testdb/stamp

unit: $(UNIT_BIN) $(BUILD)/testdb/stamp
	@sh tests/run-unit $(UNIT_BIN)

e2e: all
	@sh tests/run-e2e $(BUILD)

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) asan

asan:
	$(MAKE) BUILD=build/asan CC=clang \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    CFLAGS="-O1 -g" all unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    sh tests/run-e2e build/asan quick

bench: all
	sh bench/run $(BUILD)

demo: deps
	$(MAKE) all
	sh scripts/demo $(BUILD)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MILTER_OBJ:.o=.d)
