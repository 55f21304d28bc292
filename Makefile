# simscope: the two commands a newcomer needs, plus a few for development.
#   make serve   set up, build the site, serve it on http://127.0.0.1:8080
#   make test    set up, then run every test layer (see scripts/test.sh)
.PHONY: serve test setup dist bench screenshots

serve: ## set up, build and serve the explorer on http://127.0.0.1:8080
	scripts/setup.sh build
	scripts/build.sh
	@echo "simscope: open http://127.0.0.1:8080/"
	node scripts/serve.mjs --port 8080 --dir dist

test: ## set up, then run every test layer
	scripts/setup.sh test
	scripts/test.sh

setup: ## install the tools only
	scripts/setup.sh test

dist: ## build the static site into dist/
	scripts/setup.sh build
	scripts/build.sh

bench: ## native per-step benchmarks
	cargo bench

screenshots: ## copy the screenshots taken by the e2e tests into docs/img/
	for f in explorer decode perturb joint calibration layout-projector compare-two-models \
	  lesson-cka-top-pcs lesson-procrustes-low-pcs lesson-decoding lesson-perturb lesson-joint; do \
	  cp test-results/$$f.png docs/img/$$f.png; done
	cp test-results/prune.png docs/img/prune-panel.png
