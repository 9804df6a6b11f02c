# swift-tracefs: the commands a contributor and CI use. `make test` is the whole test run.
SHELL := /bin/bash
TRACING := /sys/kernel/tracing
APT_PACKAGES := libtracefs-dev libtraceevent-dev libelf-dev pkg-config qemu-system-x86 busybox-static cpio \
  systemtap-sdt-dev g++ python3.11-minimal prometheus
SWIFT_FLAGS ?=

.PHONY: deps build test test-quick test-host test-guest test-exporter check demo bench docs docs-samples clean mount-tracefs \
  manual completions

## Installs the Debian packages the package, its tests and the guest harness need, when missing.
## (prometheus: the exporter's tests run promtool and a real server on 127.0.0.1:19090; Debian's
## package starts a service where systemd runs, which is stopped and disabled here.)
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  if [ -d /run/systemd/system ]; then systemctl disable --now prometheus prometheus-node-exporter 2>/dev/null || true; fi; \
	fi

build: deps
	swift build $(SWIFT_FLAGS)

## The tracefs command's man page (tracefs.1 and one per subcommand) into .build/manual/, from
## swift-argument-parser's generate-manual plugin.
manual: deps
	@# The plugin does every executable; exec-open passes --experimental-dump-help on to the command it
	@# runs and fails, after tracefs's pages are written. The pages' presence is the check.
	-swift package $(SWIFT_FLAGS) plugin generate-manual --multi-page
	@mkdir -p .build/manual && find .build/plugins/GenerateManual/outputs/tracefs -name '*.1' -exec cp {} .build/manual/ \;
	@ls .build/manual/tracefs.1 .build/manual

## Shell completions for the tracefs command into .build/completions/ (tracefs.bash, .zsh, .fish).
completions: build
	@mkdir -p .build/completions
	@for shell in bash zsh fish; do \
	  "$$(swift build $(SWIFT_FLAGS) --show-bin-path)/tracefs" --generate-completion-script $$shell > .build/completions/tracefs.$$shell; \
	done
	@ls .build/completions

mount-tracefs:
	@mountpoint -q $(TRACING) || mount -t tracefs nodev $(TRACING)

## Everything: the host suites, the exporter's, the sanitizer runs, the documentation, and the guest
## suites on a stock Debian kernel; prints how many tests ran in each.
## The guest runs its own kernel, so it shares no tracefs state with the host suites: it boots in
## the background as soon as the test bundles are built, and the host phases run meanwhile (its
## output is in .build/guest-test.out, printed when it ends). Run one after the other, the two
## took 38 minutes; side by side, about as long as the longer of them.
test: deps mount-tracefs
	@rm -f .build/test-host.log .build/test-exporter.log .build/check-*.log .build/guest-test-*.log .build/guest-test.*
	@swift build $(SWIFT_FLAGS) && swift build --build-tests $(SWIFT_FLAGS)
	@cd Exporter && swift build --build-tests $(SWIFT_FLAGS)
	@mkdir -p .build; (scripts/guest-test > .build/guest-test.out 2>&1; echo $$? > .build/guest-test.status) & \
	status=0; \
	$(MAKE) --no-print-directory test-host || status=1; \
	$(MAKE) --no-print-directory test-exporter || status=1; \
	$(MAKE) --no-print-directory check || status=1; \
	$(MAKE) --no-print-directory docs > .build/docs.log 2>&1 && echo "make docs: the DocC documentation builds" \
	  || { tail -40 .build/docs.log; echo "make docs: failed"; status=1; }; \
	echo "make test: waiting for the guest suites"; wait; \
	cat .build/guest-test.out; [ "$$(cat .build/guest-test.status)" = 0 ] || status=1; \
	total=0; for log in .build/test-host.log .build/test-exporter.log .build/check-*.log .build/guest-test-*.log; do \
	  count=$$(grep -a -o 'Test run with [0-9]* tests\? in [0-9]* suites\? passed' $$log | tail -1 | awk '{print $$4}'); \
	  total=$$((total + $${count:-0})); \
	done; \
	if [ $$status != 0 ]; then echo "make test: a run failed (see above)"; echo "tests: $$total passed, 1 failed"; exit 1; fi; \
	echo "make test: host, exporter, ASan, TSan, docs and the stock-kernel, lockdown and exporter guest runs all passed"; \
	echo "tests: $$total passed, 0 failed"

## The inner loop, in under 3 minutes with a warm build: the suites that need no guest kernel and
## finish in seconds (everything of `make test-host` but the command line, the memory-growth and
## the kallsyms-checking suites), and the documentation samples.
QUICK_SKIP := TraceFSTests\.KernelSuite/(CommandLineTests|MemoryGrowthTests|KernelSymbolCheckTests)/
test-quick: deps mount-tracefs
	@swift build $(SWIFT_FLAGS) && swift build --build-tests $(SWIFT_FLAGS)
	@set -o pipefail; $$(swift build --show-bin-path $(SWIFT_FLAGS))/swift-tracefsPackageTests.xctest \
	  --testing-library swift-testing --skip '$(QUICK_SKIP)' 2>&1 | tee .build/test-quick.log | grep -a -E '✘|Test run with'
	@SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/docs-samples

## The suites on this machine's kernel; fails when dynamic_events or instances differ afterwards.
test-host: deps mount-tracefs
	@swift build $(SWIFT_FLAGS)
	@before=$$(cat $(TRACING)/dynamic_events; ls $(TRACING)/instances); \
	set -o pipefail; swift test $(SWIFT_FLAGS) 2>&1 | tee .build/test-host.log; status=$$?; \
	after=$$(cat $(TRACING)/dynamic_events; ls $(TRACING)/instances); \
	if [ "$$before" != "$$after" ]; then \
	  echo "make test-host: the tests left dynamic events or instances behind:"; \
	  diff <(echo "$$before") <(echo "$$after"); status=1; \
	fi; \
	echo "make test-host: $$(grep -a -o 'Test run with [0-9]* tests\? in [0-9]* suites\? [a-z]*' .build/test-host.log | tail -1)"; \
	SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/docs-samples || status=1; \
	exit $$status

## Type-checks every ```swift block of README.md, the DocC articles and the doc comments. Part of `make test-host`.
docs-samples:
	@swift build --target TraceFS $(SWIFT_FLAGS)
	@SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/docs-samples

## The host suites under AddressSanitizer (with LeakSanitizer) and ThreadSanitizer, where each
## finds things. Part of `make test`.
## ASan: everything but the suites that only drive the kernel or a subprocess (the command line,
## filters and bad input checked against the kernel's state, orphans, signals; those are TSan's
## or plain Swift), so that every parser, fuzz target, page walk and C-boundary suite, including
## new ones, runs under it. TSan: the suites with more than one thread (streams, readers, catalogs
## shared across threads, sessions ended from the signal thread, the command line's output and
## status threads). The whole bundle under both took about 18 of `make test`'s 38 minutes, the
## command line under ASan alone about 4.
ASAN_SKIP := TraceFSTests\.KernelSuite/(CommandLineTests|EventFilterTests|BadInputTests|HistogramBadInputTests|SyntheticEventBadInputTests|KernelSymbolCheckTests|OrphanTests|TerminationSignalTests|EnvironmentFaultTests|ConcurrencyTests|EventCatalogConcurrencyTests|MemoryGrowthTests)/
TSAN_ONLY := TraceFSTests\.KernelSuite/(ConcurrencyTests|EventCatalogConcurrencyTests|EventCatalogFreshnessTests|ReadLifecycleTests|MarkerRecordTests|RecordOwnershipTests|TraceSessionTests|TerminationSignalTests|OrphanTests|CommandLineTests)/
check: deps mount-tracefs
	@for sanitizer in address thread; do \
	  echo "make check: building the tests with --sanitize=$$sanitizer"; \
	  swift build --build-tests --sanitize=$$sanitizer --scratch-path .build-$$sanitizer $(SWIFT_FLAGS) || exit 1; \
	  if [ $$sanitizer = address ]; then selection=(--skip '$(ASAN_SKIP)'); else selection=(--filter '$(TSAN_ONLY)'); fi; \
	  set -o pipefail; \
	  TRACEFS_SANITIZER=$$sanitizer $$(swift build --scratch-path .build-$$sanitizer --show-bin-path)/swift-tracefsPackageTests.xctest \
	    --testing-library swift-testing "$${selection[@]}" 2>&1 | tee .build/check-$$sanitizer.log || exit 1; \
	  if grep -q -E 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer' .build/check-$$sanitizer.log; then \
	    echo "make check: $$sanitizer sanitizer reported problems"; exit 1; fi; \
	  echo "make check: $$sanitizer: $$(grep -a -o 'Test run with [0-9]* tests\? in [0-9]* suites\? [a-z]*' .build/check-$$sanitizer.log | tail -1)"; \
	done

## The Prometheus exporter (Exporter/, its own package): its build and its suites on this kernel,
## failing when dynamic_events or instances differ afterwards.
test-exporter: deps mount-tracefs
	@mkdir -p .build
	cd Exporter && swift build $(SWIFT_FLAGS)
	@before=$$(cat $(TRACING)/dynamic_events; ls $(TRACING)/instances); \
	set -o pipefail; (cd Exporter && swift test $(SWIFT_FLAGS)) 2>&1 | tee .build/test-exporter.log; status=$$?; \
	after=$$(cat $(TRACING)/dynamic_events; ls $(TRACING)/instances); \
	if [ "$$before" != "$$after" ]; then \
	  echo "make test-exporter: the tests left dynamic events or instances behind:"; \
	  diff <(echo "$$before") <(echo "$$after"); status=1; \
	fi; \
	exit $$status

## The kernel-dependent suites inside a QEMU guest (TCG) running Debian's stock kernel.
test-guest: deps
	swift build $(SWIFT_FLAGS)
	swift build --build-tests $(SWIFT_FLAGS)
	cd Exporter && swift build --build-tests $(SWIFT_FLAGS)
	scripts/guest-test

## The exec-open example: on this kernel when it has kprobe events, otherwise in the guest.
demo: deps mount-tracefs
	swift build --product exec-open
	@if [ -e $(TRACING)/kprobe_events ]; then \
	  $$(swift build --show-bin-path)/exec-open /bin/cat /etc/hostname; \
	else \
	  echo "make demo: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS); running exec-open in a QEMU guest with Debian's stock kernel"; \
	  scripts/guest-run -- $$(swift build --show-bin-path)/exec-open /bin/cat /etc/hostname; \
	fi

## The Swift overlay against the same work through the C API, alternating sides (see Benchmarks/).
## --disable-build-manifest-caching: SwiftPM only notices files added to the root package, and the
## library is a path dependency here.
bench: deps mount-tracefs
	cd Benchmarks && swift build -c release --disable-build-manifest-caching
	cd Benchmarks && LD_PRELOAD=$$(swift build -c release --show-bin-path)/libMallocInterposerSwift.so \
	  $$(swift build -c release --show-bin-path)/tracefs-bench

## The DocC documentation of the TraceFS module, into .build/docs (built in .build-docs, so that
## `make test` can run it while the guest runs the bundle in .build). TRACEFS_DOCS=1 adds the DocC
## plugin to Package.swift's dependencies.
docs:
	TRACEFS_DOCS=1 swift package --scratch-path .build-docs --allow-writing-to-directory .build/docs generate-documentation --target TraceFS \
	  --output-path .build/docs --warnings-as-errors

clean:
	swift package clean
	rm -rf .cache
