# Peer Groups: the two commands a newcomer needs are `make dev` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

DYNAMODB_LOCAL_VERSION := 2.9.30
DYNAMODB_JAR := .local/dynamodb/DynamoDBLocal.jar
FUNCTIONS := $(notdir $(wildcard functions/*))
GO_BUILD_FLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'

.PHONY: help dev test deps build bench mail feedback backfill-inbox fuzz assets dev-reset clean
.PHONY: backfill-authors

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: node_modules/.package-lock.json $(DYNAMODB_JAR) ## install the local stand-ins and browser-test tools

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# DynamoDB Local is AWS's own; only the emulator folder of the npm package is needed.
$(DYNAMODB_JAR):
	mkdir -p .local/dynamodb
	npm pack --silent --pack-destination .local amplify-dynamodb-simulator@$(DYNAMODB_LOCAL_VERSION) >/dev/null
	tar -xzf .local/amplify-dynamodb-simulator-$(DYNAMODB_LOCAL_VERSION).tgz -C .local/dynamodb --strip-components=2 package/emulator
	rm -f .local/amplify-dynamodb-simulator-$(DYNAMODB_LOCAL_VERSION).tgz
	@test -f $@

dev: deps ## run the whole service on http://127.0.0.1:8080 with the stand-ins
	go run ./internal/cmd/dev

test: deps lint ## check the code, start the stand-ins on free ports, run every test, stop them
	go run ./internal/cmd/withstack -- go test -race -count=1 -timeout 45m -parallel 4 ./...

.PHONY: lint
lint: ## vet, staticcheck (a tool in go.mod) and gofmt: fails on any finding or unformatted file
	go vet ./...
	go tool staticcheck ./...
	@unformatted="$$(gofmt -l functions internal)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files are not formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; fi

build: ## build every function as bootstrap for linux/arm64 in .aws-sam-free build/
	@for f in $(FUNCTIONS); do \
		echo "build functions/$$f"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o build/$$f/bootstrap ./functions/$$f; \
	done

# sam build calls these, one per function (BuildMethod: makefile).
build-WebFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/web

bench: deps ## measure start-up, binary sizes and requests per sign-up
	go run ./internal/cmd/withstack -- go run ./internal/cmd/bench

mail: ## send FILE (an .eml, e.g. events/mail/join-request.eml) to make dev's SMTP listener
	go run ./internal/cmd/sendmail $(FILE)

feedback: ## inject an SES event into make dev: ID=<SES message ID> TYPE=Send|Delivery|DeliveryDelay|Bounce|TransientBounce|Complaint|Reject (or FILE=<an event>)
	go run ./internal/cmd/feedback $(if $(ID),-id '$(ID)') $(if $(TYPE),-type '$(TYPE)') $(if $(FILE),-file '$(FILE)')

backfill-inbox: ## once, after upgrading: list older conversations in their group's inbox and by sender (TABLE_NAME=<table>; safe to run again)
	go run ./internal/cmd/backfill-inbox

.PHONY: pseudonymise-audit
pseudonymise-audit: ## once, after upgrading, with operator credentials: write the addresses in older audit entries as keyed hashes and list entries by person (TABLE_NAME, LINK_KEY, PSEUDONYM_KEY; safe to run again)
	go run ./internal/cmd/pseudonymise-audit

backfill-authors: ## once, after upgrading: list older kit revisions, suggestions, replies, sessions under their author, forget authors erased before (TABLE_NAME, LINK_KEY, PSEUDONYM_KEY; Scans once; safe to run again)
	go run ./internal/cmd/backfill-authors

fuzz: ## fuzz the form decoding, the link tokens, template text and web addresses in names for a while each
	go test ./internal/web -run '^$$' -fuzz FuzzDecodeSignup -fuzztime 30s
	go test ./internal/links -run '^$$' -fuzz FuzzOpen -fuzztime 30s
	go test ./internal/web -run '^$$' -fuzz FuzzDecodeConsoleForms -fuzztime 30s
	go test ./internal/peergroups -run '^$$' -fuzz FuzzTemplateText -fuzztime 30s
	go test ./internal/peergroups -run '^$$' -fuzz FuzzHasWebAddress -fuzztime 30s
	go test ./internal/peergroups/kitmarkdown -run '^$$' -fuzz FuzzRenderMarkdownNeverLetsScriptThrough -fuzztime 30s
	go test ./internal/mailin -run '^$$' -fuzz FuzzParse -fuzztime 30s
	go test ./internal/feedback -run '^$$' -fuzz FuzzDecode -fuzztime 30s
	go test ./internal/peergroups -run '^$$' -fuzz FuzzMergeAgenda -fuzztime 30s
	go test ./internal/peergroups -run '^$$' -fuzz FuzzMergeSections -fuzztime 30s
	go test ./internal/peergroups -run '^$$' -fuzz FuzzWordDiff -fuzztime 30s

assets: deps ## rebuild the stylesheet from GOV.UK Frontend, and copy GOV.UK's accessible autocomplete
	npx sass --load-path=node_modules --no-source-map --style=compressed --quiet-deps internal/web/assets/app.scss internal/web/static/app.css
	{ printf '/*! accessible-autocomplete %s\n' "$$(node -p 'require("accessible-autocomplete/package.json").version')"; cat node_modules/accessible-autocomplete/LICENSE.txt; printf '*/\n'; sed '/^\/\/# sourceMappingURL=/d' node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.js; } > internal/web/static/accessible-autocomplete.min.js

dev-reset: ## delete the local data (.local/ minus the installed stand-ins)
	rm -rf .local/dynamodb-data .local/s3.db .local/link.key .local/stand-ins.log

clean: ## delete build output
	rm -rf build .aws-sam

build-AnnounceFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/announce

build-RemindersFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/reminders

build-InboundFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/inbound

build-RenderFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/render

build-OutboxFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/outbox

build-FeedbackFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(GO_BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/feedback
