# cccd build. `make` builds the warnings-as-errors release variant into build/release;
# `make VARIANT=asan` builds the AddressSanitizer + UBSan variant into build/asan;
# `make VARIANT=tsan` builds the ThreadSanitizer variant into build/tsan;
# `make fuzz` builds the libFuzzer harnesses with clang into build/fuzz.
# `make install` (PREFIX=/usr/local, SYSCONFDIR=/etc, DESTDIR honoured) installs the release
# build, its data, docs, the systemd unit and sysusers file; `make uninstall` removes them
# but the config file and the state (docs/install.md).
# libpq (PostgreSQL, src/store/db_pg.c) comes through pkg-config like the others.
# Sources are found by wildcard: a module is a folder under src/ (C, or C++ *.cc where a
# C++ library sits behind a C header: src/numbering), a unit test is
# tests/unit/test_<name>.c, a fuzz harness is fuzz/fuzz_<name>.c. Nothing to register.

VARIANT ?= release
BUILD   := build/$(VARIANT)

PKGS    := libre libmicrohttpd jansson sqlite3 libpq libcurl openssl spandsp sndfile speexdsp opus libmpg123 \
	   libargon2 pocketsphinx
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# libre 1.1.0's headers need these defined by the includer (see DESIGN.md §6).
DEFS    := -D_GNU_SOURCE -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS_COMMON := -std=c17 $(DEFS) $(WARN) -Isrc $(PKG_CFLAGS) -pthread -MMD -MP
# libphonenumber (src/numbering) has no pkg-config file; its .so names its own
# dependencies (protobuf, ICU, absl), but our objects use protobuf's inline code directly.
LIBS    := $(PKG_LIBS) -lphonenumber -lprotobuf -lflite_cmu_us_kal -lflite_usenglish \
	   -lflite_cmulex -lflite -lm -pthread

ifeq ($(VARIANT),asan)
CC      ?= gcc
CXX     ?= g++
CFLAGS  := $(CFLAGS_COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS := -fsanitize=address,undefined
else ifeq ($(VARIANT),tsan)
# libre is linked statically here so that its mem_ref/mem_deref calls, ours and its own,
# go through the wrappers of src/base/tsan_mem.c, which show its reference counts to TSan.
CC      ?= gcc
CXX     ?= g++
CFLAGS  := $(CFLAGS_COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=thread -DCCCD_TSAN
# A static libre also defines tmr_start, so wheel/libre_tmr.c's takes libre's timers by
# wrapping tmr_start and tmr_cancel here (the other variants interpose libre.so's PLT).
LDFLAGS := -fsanitize=thread -Wl,--wrap=mem_ref,--wrap=mem_deref \
	   -Wl,--undefined=__wrap_mem_ref,--undefined=__wrap_mem_deref \
	   -Wl,--wrap=tmr_start,--wrap=tmr_cancel \
	   -Wl,--undefined=__wrap_tmr_start,--undefined=__wrap_tmr_cancel
LIBS    := $(filter-out -lre,$(LIBS)) -Wl,-Bstatic -lre -Wl,-Bdynamic \
	   $(filter-out -lre,$(shell pkg-config --static --libs libre 2>/dev/null))
else ifeq ($(VARIANT),fuzz)
CC      := clang
CXX     := clang++
CFLAGS  := $(CFLAGS_COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -DCCCD_FUZZ
LDFLAGS := -fsanitize=fuzzer,address,undefined
else
CFLAGS  := $(CFLAGS_COMMON) -O2 -g
LDFLAGS :=
endif

# C++ takes the C flags but the language standard and the C-only warnings.
CXXFLAGS  := $(filter-out -std=c17,$(CFLAGS)) -std=c++17
LIB_SRCS  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
LIB_CXX_SRCS := $(wildcard src/*/*.cc)
CLI_SRCS  := $(wildcard src/cli/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
# C programs the integration tests drive (tests/integration/*.c → build/<variant>/itests/);
# fault_*.c are LD_PRELOAD shims (→ build/<variant>/itests/fault_*.so).
ITEST_SRCS := $(filter-out tests/integration/fault_%.c,$(wildcard tests/integration/*.c))
SHIM_SRCS := $(wildcard tests/integration/fault_*.c)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
# Quality-bar programs run over data by scripts/test.sh and bench/ (tests/amd/amd_eval.c).
TOOL_SRCS := $(wildcard tests/amd/*.c)

# The console's pages (console/*) are compiled in: a generated table (src/console/assets.c).
CONSOLE_FILES := $(wildcard console/*.html console/*.js console/*.css)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_CXX_SRCS:%.cc=$(BUILD)/obj/%.o) \
	     $(BUILD)/obj/gen/console_assets.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libcccd.a
TESTS     := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ITESTS    := $(ITEST_SRCS:tests/integration/%.c=$(BUILD)/itests/%)
SHIMS     := $(SHIM_SRCS:tests/integration/%.c=$(BUILD)/itests/%.so)
FUZZERS   := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
TOOLS     := $(TOOL_SRCS:tests/amd/%.c=$(BUILD)/amd/%)

.PHONY: all tests fuzz clean install uninstall man FORCE
.SECONDARY:
ifeq ($(VARIANT),fuzz)
all: $(FUZZERS)
else
all: $(BUILD)/cccd $(BUILD)/ccc tests
endif

tests: $(TESTS) $(ITESTS) $(SHIMS) $(TOOLS)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CXX     $<")
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/gen/console_assets.c: $(CONSOLE_FILES) scripts/console-embed.sh
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GEN     $@")
	$(Q)scripts/console-embed.sh > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/cccd: $(BUILD)/obj/src/main.o $(LIB)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/ccc: $(CLI_OBJS) $(LIB)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

# docs/ccc.1, the man page, is written by ccc itself from the API's parameter tables
# (src/api/help.c); run after changing an action's table (cli.test.mjs checks it).
man: $(BUILD)/ccc
	$(BUILD)/ccc --man > docs/ccc.1

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/itests/%: $(BUILD)/obj/tests/integration/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

# Without sanitizers: a preloaded object must not bring a second runtime (under ASan the
# test puts the ASan runtime first in LD_PRELOAD, then the shim).
$(BUILD)/itests/%.so: tests/integration/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

$(BUILD)/amd/%: $(BUILD)/obj/tests/amd/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

fuzz:
	$(MAKE) VARIANT=fuzz

# ---- installing ----------------------------------------------------------------------
PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share/cccd
DOCDIR      ?= $(PREFIX)/share/doc/cccd
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

# cccd names its default config file and its docs (--help), and the speech recogniser its
# adapted model (docs/speech.md): main.o and engine.o are rebuilt when the installed paths
# change (the stamp is rewritten only then).
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo "$(SYSCONFDIR) $(DOCDIR) $(DATADIR)" | cmp -s - $@ || \
		echo "$(SYSCONFDIR) $(DOCDIR) $(DATADIR)" > $@
$(BUILD)/obj/src/main.o: CFLAGS += -DCCCD_DEFAULT_CONFIG='"$(SYSCONFDIR)/cccd/cccd.conf"' \
	-DCCCD_DOC_DIR='"$(DOCDIR)"'
$(BUILD)/obj/src/asr/engine.o: CFLAGS += -DCCCD_DATA_DIR='"$(DATADIR)"'
$(BUILD)/obj/src/main.o $(BUILD)/obj/src/asr/engine.o: $(BUILD)/paths.stamp

# deploy/ names the default places; the installed copies name the chosen ones.
INSTALL_SED := -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/usr/local/share/cccd|$(DATADIR)|g' \
	-e 's|/usr/local/share/doc/cccd|$(DOCDIR)|g' -e 's|/etc/cccd|$(SYSCONFDIR)/cccd|g'

install: $(BUILD)/cccd $(BUILD)/ccc
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/blind-areas \
		$(DESTDIR)$(DATADIR)/flows $(DESTDIR)$(DATADIR)/asr/en-us-telephone \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/cccd
	install -m 755 $(BUILD)/cccd $(DESTDIR)$(SBINDIR)/cccd
	install -m 755 $(BUILD)/ccc $(DESTDIR)$(BINDIR)/ccc
	install -m 644 data/blind-areas/*.txt $(DESTDIR)$(DATADIR)/blind-areas/
	install -m 644 demo/flows/*.json $(DESTDIR)$(DATADIR)/flows/
	install -m 644 src/asr/adapt/en-us-telephone/* $(DESTDIR)$(DATADIR)/asr/en-us-telephone/
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	sed $(INSTALL_SED) deploy/cccd.conf > $(DESTDIR)$(DOCDIR)/examples/cccd.conf
	sed $(INSTALL_SED) deploy/systemd/cccd.service > $(DESTDIR)$(UNITDIR)/cccd.service
	chmod 644 $(DESTDIR)$(DOCDIR)/examples/cccd.conf $(DESTDIR)$(UNITDIR)/cccd.service
	install -m 644 deploy/kamailio/kamailio.cfg $(DESTDIR)$(DOCDIR)/examples/kamailio.cfg
	install -m 644 deploy/nginx/cccd-api.conf $(DESTDIR)$(DOCDIR)/examples/nginx-cccd-api.conf
	install -m 644 deploy/systemd/cccd.sysusers $(DESTDIR)$(SYSUSERSDIR)/cccd.conf
	@# An existing config is the admin's: never overwritten.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/cccd/cccd.conf ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/cccd/cccd.conf (the new example is in $(DOCDIR)/examples)"; \
	else \
		install -m 640 $(DESTDIR)$(DOCDIR)/examples/cccd.conf $(DESTDIR)$(SYSCONFDIR)/cccd/cccd.conf; \
		if [ -z "$(DESTDIR)" ] && getent group cccd >/dev/null; then \
			chgrp cccd $(SYSCONFDIR)/cccd/cccd.conf; fi; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/cccd $(DESTDIR)$(BINDIR)/ccc $(DESTDIR)$(UNITDIR)/cccd.service \
		$(DESTDIR)$(SYSUSERSDIR)/cccd.conf
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@echo "left $(DESTDIR)$(SYSCONFDIR)/cccd and /var/lib/cccd (config and state)"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
