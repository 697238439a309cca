# The two quick-start commands (README): `make demo` and `make test`. Both install what is missing,
# build in release mode, then run.
PREFIX ?= /usr/local
SWIFT_FLAGS := -c release
BIN = $(shell swift build $(SWIFT_FLAGS) --show-bin-path)/pcdiag

.PHONY: setup build demo test bench install clean

setup:
	@scripts/setup

build: setup
	swift build $(SWIFT_FLAGS)

demo: build
	$(BIN) classify Samples/chair_scan.pcd Samples/chair_cad.pcd Samples/lamp_cad.ply

test: setup
	swift test $(SWIFT_FLAGS)

bench: build
	$(BIN) bench $(if $(wildcard ../shared/data/modelnet40/test),--data ../shared/data/modelnet40/test)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/pcdiag/Models
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pcdiag
	install -m 644 man/pcdiag.1 $(DESTDIR)$(PREFIX)/share/man/man1/pcdiag.1
	cp -R Models/. $(DESTDIR)$(PREFIX)/share/pcdiag/Models/

clean:
	rm -rf .build
