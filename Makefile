# Shortcuts for the scripts under scripts/ (they work without make, too).
.PHONY: run test build fuzz bench clean
run:
	bash scripts/run-example.sh
test:
	bash scripts/test.sh
build:
	bash scripts/build.sh
fuzz:
	bash scripts/fuzz.sh $(or $(SECONDS),60)
bench:
	bash bench/run.sh
clean:
	rm -rf build build-fuzz out
