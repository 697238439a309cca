# The two quick-start commands (README): `make demo` and `make test`. Both install what is missing,
# build in release mode, then run.
PREFIX ?= /usr/local
SWIFT_FLAGS := -c release
BIN = $(shell swift build $(SWIFT_FLAGS) --show-bin-path)/pcdiag
# The PCL bridge, which pcdiag opens when a command first needs PCL: beside the binary when built, in
# $(PREFIX)/lib/pcdiag when installed.
BRIDGE = $(dir $(BIN))libPCDiagPCL.so

.PHONY: setup build demo test bench install clean fuzz sanitize

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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pcdiag $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/pcdiag/Models
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pcdiag
	install -m 644 $(BRIDGE) $(DESTDIR)$(PREFIX)/lib/pcdiag/libPCDiagPCL.so
	install -m 644 man/pcdiag.1 $(DESTDIR)$(PREFIX)/share/man/man1/pcdiag.1
	cp -R Models/. $(DESTDIR)$(PREFIX)/share/pcdiag/Models/

clean:
	rm -rf .build

# Fuzzing and sanitizers (Fuzz/README.md). Each has its own scratch folder, so the normal build above
# is never rebuilt with their flags. `make fuzz FUZZ_SECONDS=60` for a short sitting; findings go to
# Fuzz/findings/<target>/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= pcd ply model manifest rows text npy bin off obj stl las
FUZZ_BUILD = swift build -c release --package-path Fuzz --scratch-path $(CURDIR)/.build-fuzz \
	-Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address

fuzz: setup
	$(FUZZ_BUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh "$$($(FUZZ_BUILD) --show-bin-path)" $(FUZZ_TARGETS)

# AddressSanitizer on everything, UndefinedBehaviorSanitizer on the C and C++ (CPCL, CEigen): Swift has
# no UBSan of its own (its arithmetic and bounds are checked anyway), and the ASan runtime carries
# UBSan's handlers, so one build does both. The whole suite runs (about 5 minutes of tests under ASan,
# after an 11-minute build); SANITIZE_TESTS narrows it, e.g. to the readers, bridge and engine:
# make sanitize SANITIZE_TESTS='PointCloudsTests|EngineTests|NetworksTests|PipelinesTests'
SANITIZE_TESTS ?=
SANITIZE_FLAGS = -c release --scratch-path $(CURDIR)/.build-asan \
	-Xswiftc -sanitize=address -Xcc -fsanitize=address,undefined -Xcc -fno-sanitize=vptr -Xcc -fno-omit-frame-pointer

# swift test builds too: it is what compiles the modules for @testable import in release mode.
sanitize: setup
	Fuzz/sanitize.sh swift test $(SANITIZE_FLAGS) $(if $(SANITIZE_TESTS),--filter '$(SANITIZE_TESTS)')
