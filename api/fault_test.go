package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/testenv"
)

// DynamoDB Local never throttles, never drops a connection and never loses
// a response, so these tests inject those faults: an SDK middleware answers
// attempts with DynamoDB's throttling errors, and a proxy on loopback drops
// connections before or after the engine has committed a write. The outage
// test stops a real engine (with its data on disk) in the middle of a stream
// of writes and restarts it on the same port.

// faultTimeout is the DYNAMODB_TIMEOUT of the fault tests' handlers.
const faultTimeout = 500 * time.Millisecond

// faultBound is the longest one request may take while DynamoDB fails: every
// attempt timing out, plus the longest backoff between attempts, plus slack
// for a loaded machine. Anything slower is a hang.
const faultBound = dynamo.DefaultMaxAttempts*faultTimeout + (dynamo.DefaultMaxAttempts-1)*dynamo.DefaultMaxBackoff + time.Second

// faultAPI is newAPI on the given DynamoDB endpoint with a short timeout.
func faultAPI(tb testing.TB, endpoint, table string, dbOpts ...func(*dynamodb.Options)) http.Handler {
	tb.Helper()
	env := map[string]string{"DYNAMODB_TIMEOUT": faultTimeout.String()}
	if endpoint != "" {
		env["DYNAMODB_ENDPOINT"] = endpoint
	}
	if table != "" {
		env["PROPERTY_TABLE_NAME"] = table
	}
	return newAPI(tb, env, dbOpts...)
}

// createOnceUp creates in (which has a clientMutationId, so that a retry
// makes no second property) on a freshly started engine: its first writes
// come before its JIT has warmed up, and on a busy machine they can take
// longer than faultTimeout. The setup waits that out for up to 30 s, asking
// again after each SERVICE_UNAVAILABLE; any other error fails the test.
func createOnceUp(tb testing.TB, h http.Handler, in map[string]any) string {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := gql(tb, h, createMutation, map[string]any{"input": in})
		if r.code() == "" {
			if id := str(r.Data, "createProperty", "property", "id"); id != "" {
				return id
			}
			tb.Fatalf("create returned no id: %s", r.Raw)
		}
		if r.code() != "SERVICE_UNAVAILABLE" || time.Now().After(deadline) {
			tb.Fatalf("create: %s", r.Raw)
		}
	}
}

// timedGQL is gql that also says how long the request took.
func timedGQL(tb testing.TB, h http.Handler, query string, vars map[string]any) (*response, time.Duration) {
	tb.Helper()
	start := time.Now()
	r := gql(tb, h, query, vars)
	return r, time.Since(start)
}

// checkUnavailable asserts that r is the coded, retryable answer to a
// DynamoDB outage, and that it leaks nothing about the cause.
func checkUnavailable(tb testing.TB, r *response, took time.Duration) {
	tb.Helper()
	if got, want := r.code(), "SERVICE_UNAVAILABLE"; got != want {
		tb.Errorf("code = %q, want %q: %s", got, want, r.Raw)
		return
	}
	if got := r.Errors[0].Extensions["retryable"]; got != true {
		tb.Errorf("extensions.retryable = %v, want true", got)
	}
	if r.Status >= 500 {
		tb.Errorf("status %d, want < 500", r.Status)
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "127.0.0.1", "dial tcp", "Exception", "EOF", "api error"} {
		if strings.Contains(r.Raw, leak) {
			tb.Errorf("response leaks %q: %s", leak, r.Raw)
		}
	}
	if took > faultBound {
		tb.Errorf("failing request took %v, want at most %v", took, faultBound)
	}
}

// TestFaultEngineOutage stops DynamoDB (data on disk) while writers create
// and update properties, then restarts it on the same port.
//
// It proves: every request, before, during and after the outage, ends
// within faultBound, and every failure is SERVICE_UNAVAILABLE (retryable)
// with no 5xx or internals in the body; while the engine is down every
// request fails so; the same handler serves again after the restart
// without being rebuilt (a JVM just started may still time out a few
// requests, which fail the same way); every create reported successful
// exists exactly as sent; a create reported failed (its outcome is unknown:
// a timed-out attempt may commit after the answer was given up on) either
// does not exist or exists whole, and sending it again with the same
// clientMutationId yields that one property; every update is
// all-or-nothing, and a stored version is never behind the last one
// acknowledged. Nothing else is stored, and every item is visible through
// the listing indexes.
func TestFaultEngineOutage(t *testing.T) {
	dynamolocal.Endpoint(t) // skip (or fail in CI) without DynamoDB Local
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	engine, err := dynamolocal.Start(ctx, dynamolocal.Options{DBPath: dataDir})
	if err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(func() { _ = engine.Stop() })
	table := "fault-outage"
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Region: testenv.Region, Endpoint: engine.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamo.EnsureTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	h := faultAPI(t, engine.Endpoint(), table)

	const updaters = 3
	owned := make([]string, updaters)
	for i := range owned {
		in := createInput("v1", 1)
		in["clientMutationId"] = fmt.Sprintf("setup-%d", i)
		owned[i] = createOnceUp(t, h, in)
	}

	// Phases of the stream: the engine is up, then down, then up again.
	type op struct {
		kind       string // "create" or "update"
		start, end time.Time
		r          *response
	}
	var (
		mu    sync.Mutex
		ops   []op
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		okAll atomic.Int64
	)
	record := func(o op) {
		mu.Lock()
		ops = append(ops, o)
		mu.Unlock()
		if o.r.code() == "" {
			okAll.Add(1)
		}
	}
	pause := func(r *response) {
		// A real client backs off after a failure; this also bounds the
		// number of requests during the outage.
		if r.code() != "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	const maxOps = 3000 // per worker: the stream is bounded even if stop never came

	// Each creator creates one property after another, with a
	// clientMutationId; after a failure it sends the same create again, as
	// a client should, until it succeeds.
	type createAttempt struct {
		key   string
		in    map[string]any
		start time.Time
		r     *response
	}
	var creates []createAttempt
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := 0
			for range maxOps {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("outage-%d-%d", w, i)
				in := createInput("Outage "+key, float64(1000+i))
				in["clientMutationId"] = key
				start := time.Now()
				r := gql(t, h, createMutation, map[string]any{"input": in})
				record(op{"create", start, time.Now(), r})
				mu.Lock()
				creates = append(creates, createAttempt{key, in, start, r})
				mu.Unlock()
				if r.code() == "" {
					i++
				}
				pause(r)
			}
		}()
	}

	// Each updater owns one property and writes price = title = the version
	// its update creates, so a half-applied update would show.
	type updaterState struct {
		acked     int // last version an update was acknowledged at
		known     int // version the next update expects
		committed int // updates reported failed whose effect showed later
	}
	states := make([]updaterState, updaters)
	for u := range updaters {
		states[u] = updaterState{acked: 1, known: 1}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &states[u]
			for i := 0; i < maxOps; i++ {
				select {
				case <-stop:
					return
				default:
				}
				next := s.known + 1
				start := time.Now()
				r := gql(t, h, updateMutation, map[string]any{"input": map[string]any{
					"id": owned[u], "expectedVersion": s.known, "price": next, "title": "v" + strconv.Itoa(next),
				}})
				record(op{"update", start, time.Now(), r})
				switch r.code() {
				case "":
					p := get(r.Data, "updateProperty", "property")
					if int(num(p, "version")) != next || num(p, "price") != float64(next) {
						t.Errorf("update to %d acknowledged as %v", next, p)
						return
					}
					s.known, s.acked = next, next
				case "CONFLICT":
					// Only this writer changes the property: a conflict means
					// an update reported failed had in fact committed.
					ext := r.Errors[0].Extensions
					cur := int(num(ext, "currentVersion"))
					if cur != next || num(ext, "current", "price") != float64(cur) || str(ext, "current", "title") != "v"+strconv.Itoa(cur) {
						t.Errorf("conflict at version %d: current is %v", s.known, ext["current"])
						return
					}
					s.known = cur
					s.committed++
				}
				pause(r)
			}
		}()
	}

	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out after %v waiting for %s", limit, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	t0 := time.Now()
	waitFor("writes before the outage", 15*time.Second, func() bool { return okAll.Load() >= 30 })
	stopping := time.Now()
	t.Logf("30 writes succeeded in %v", stopping.Sub(t0))
	if err := engine.Stop(); err != nil {
		t.Fatalf("stop engine: %v", err)
	}
	down := time.Now()
	t.Logf("engine stopped in %v", down.Sub(stopping))

	// While the engine is down, reads fail the same way.
	for _, q := range []struct {
		query string
		vars  map[string]any
	}{
		{propertyQuery, map[string]any{"id": owned[0]}},
		{listQuery, map[string]any{"first": 5}},
	} {
		r, took := timedGQL(t, h, q.query, q.vars)
		checkUnavailable(t, r, took)
	}
	time.Sleep(time.Second)

	restarting := time.Now()
	if err := engine.Restart(ctx); err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("restart engine: %v", err)
	}
	up := time.Now()
	t.Logf("engine restarted in %v", up.Sub(restarting))
	okAtRestart := okAll.Load()
	waitFor("writes after the restart", 15*time.Second, func() bool { return okAll.Load() >= okAtRestart+30 })
	t.Logf("30 writes succeeded %v after the restart", time.Since(up))
	close(stop)
	wg.Wait()

	// Every request: bounded, coded; the ones wholly inside the outage failed
	// as unavailable; the ones after the restart succeeded.
	var during, after, afterFailed, failed int
	var slowest time.Duration
	for _, o := range ops {
		took := o.end.Sub(o.start)
		slowest = max(slowest, took)
		if took > faultBound {
			t.Errorf("%s took %v, want at most %v", o.kind, took, faultBound)
		}
		code := o.r.code()
		switch {
		case code == "":
		case code == "SERVICE_UNAVAILABLE":
			failed++
			checkUnavailable(t, o.r, took)
		case code == "CONFLICT" && o.kind == "update":
			// Explained above: an earlier update that was reported failed.
		default:
			t.Errorf("%s failed with %s", o.kind, o.r.Raw)
		}
		switch {
		case o.start.After(down) && o.end.Before(restarting):
			during++
			if code != "SERVICE_UNAVAILABLE" {
				t.Errorf("%s during the outage: %s", o.kind, o.r.Raw)
			}
		case o.start.After(up):
			// A JVM just started can be slower than faultTimeout for a
			// while: such requests fail as unavailable, like any other.
			after++
			if code != "" {
				afterFailed++
			}
		}
	}
	if during == 0 || after == 0 {
		t.Errorf("%d requests inside the outage and %d after it; want some of each", during, after)
	}
	t.Logf("%d requests: %d failed as unavailable (%d inside the outage); %d after the restart, %d of them failed; slowest %v",
		len(ops), failed, during, after, afterFailed, slowest)

	// The data: creates.
	caller := property.Caller{Subject: defaultUser}
	want := map[string]map[string]any{} // id -> input of every property that must exist
	for _, u := range owned {
		want[u] = nil
	}
	failedButCommitted := 0
	byKey := map[string][]createAttempt{}
	var keys []string
	for _, c := range creates {
		if byKey[c.key] == nil {
			keys = append(keys, c.key)
		}
		byKey[c.key] = append(byKey[c.key], c)
	}
	for _, key := range keys {
		attempts := byKey[key]
		id := property.IdempotentID(caller, key)
		in := attempts[0].in
		want[id] = in
		last := attempts[len(attempts)-1]
		if last.r.code() == "" {
			// Reported created: it exists, whole, under the id every
			// attempt with this key leads to.
			if got := str(last.r.Data, "createProperty", "property", "id"); got != id {
				t.Errorf("create %s: id %q, want %q", key, got, id)
			}
			checkWhole(t, h, id, in)
			// Created before the attempt that reported it: by an attempt
			// that had been reported failed.
			at, err := time.Parse(time.RFC3339Nano, str(last.r.Data, "createProperty", "property", "createdAt"))
			if err == nil && len(attempts) > 1 && at.Before(last.start.Add(-time.Millisecond)) {
				failedButCommitted++
			}
			continue
		}
		// Reported failed, every time (the stream stopped first): it may
		// exist, but only whole; sending it again yields that one.
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		if get(d, "property") != nil {
			failedButCommitted++
			checkWhole(t, h, id, in)
		}
		d = mustData(t, h, createMutation, map[string]any{"input": in})
		if got := str(d, "createProperty", "property", "id"); got != id {
			t.Errorf("repeated create %s: id %q, want %q", key, got, id)
		}
		checkWhole(t, h, id, in)
	}
	// Nothing else exists, and every item is visible through each index.
	for _, order := range []string{"CREATED_AT_DESC", "PRICE_ASC"} {
		seen := listAllIDs(t, h, order)
		if len(seen) != len(want) {
			t.Errorf("%s listing has %d properties, want %d", order, len(seen), len(want))
		}
		for id := range seen {
			if _, ok := want[id]; !ok {
				t.Errorf("%s listing holds %s, which no request created", order, id)
			}
		}
	}
	count, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, Select: "COUNT"})
	if err != nil {
		t.Fatal(err)
	}
	if got := int(count.Count); got != len(want) || count.LastEvaluatedKey != nil {
		t.Errorf("table holds %d items, want %d", got, len(want))
	}

	// The data: updates.
	for u, id := range owned {
		s := states[u]
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		p := get(d, "property")
		v := int(num(p, "version"))
		if num(p, "price") != float64(v) || str(p, "title") != "v"+strconv.Itoa(v) {
			t.Errorf("property %d is half-updated: version %d, price %v, title %q", u, v, num(p, "price"), str(p, "title"))
		}
		// At most the one update in flight when the stream stopped can have
		// committed unseen; and nothing acknowledged is ever lost.
		if v < s.acked || v > s.known+1 {
			t.Errorf("property %d at version %d; acknowledged %d, known %d", u, v, s.acked, s.known)
		}
		failedButCommitted += s.committed
	}
	t.Logf("%d writes reported failed had committed (and were recognised as such afterwards)", failedButCommitted)
}

// checkWhole asserts that the property id exists with exactly the fields of
// the create input in, at version 1.
func checkWhole(tb testing.TB, h http.Handler, id string, in map[string]any) {
	tb.Helper()
	d := mustData(tb, h, propertyQuery, map[string]any{"id": id})
	p, _ := get(d, "property").(map[string]any)
	if p == nil {
		tb.Errorf("property %s does not exist", id)
		return
	}
	for _, k := range []string{"title", "description", "address", "city", "state", "zip"} {
		if got, want := str(p, k), in[k].(string); got != want {
			tb.Errorf("property %s: %s = %q, want %q", id, k, got, want)
		}
	}
	if got, want := num(p, "price"), in["price"].(float64); got != want {
		tb.Errorf("property %s: price = %v, want %v", id, got, want)
	}
	if got := num(p, "version"); got != 1 {
		tb.Errorf("property %s: version = %v, want 1", id, got)
	}
	if str(p, "createdAt") == "" || str(p, "createdAt") != str(p, "updatedAt") {
		tb.Errorf("property %s: createdAt %q, updatedAt %q", id, str(p, "createdAt"), str(p, "updatedAt"))
	}
}

// listAllIDs walks every page of the listing in the given order.
func listAllIDs(tb testing.TB, h http.Handler, order string) map[string]bool {
	tb.Helper()
	seen := map[string]bool{}
	var after any
	for page := 0; page < 1000; page++ {
		d := mustData(tb, h, listQuery, map[string]any{"first": 100, "after": after, "orderBy": order})
		for _, e := range get(d, "properties", "edges").([]any) {
			id := str(e, "node", "id")
			if seen[id] {
				tb.Errorf("%s listed twice", id)
			}
			seen[id] = true
		}
		if get(d, "properties", "pageInfo", "hasNextPage") != true {
			return seen
		}
		after = get(d, "properties", "pageInfo", "endCursor")
	}
	tb.Fatal("listing did not end after 1000 pages")
	return nil
}

// throttler answers DynamoDB attempts with a throttling error, as DynamoDB
// does on the wire (HTTP 400 and the error type in the body), so the SDK's
// own deserializer and retryer see exactly what AWS would send. It sits
// inside the retry loop, so it sees every attempt.
type throttler struct {
	code string // ProvisionedThroughputExceededException or ThrottlingException
	// first is how many attempts of each call it throttles; -1 means all.
	first int

	mu       sync.Mutex
	attempts []time.Time // every attempt of every call, in order
}

func (th *throttler) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("injectThrottling",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return next.HandleDeserialize(ctx, in)
				}
				attempt := sdkAttempt(req.Header.Get("Amz-Sdk-Request"))
				th.mu.Lock()
				th.attempts = append(th.attempts, time.Now())
				first := th.first
				th.mu.Unlock()
				if first >= 0 && attempt > first {
					return next.HandleDeserialize(ctx, in)
				}
				body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"Rate of requests exceeds the allowed throughput."}`, th.code)
				resp := &http.Response{
					StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"throttled"}},
					Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
				}
				return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
			}), middleware.After)
	})
}

// throttleFirst makes it throttle the first n attempts of each call (-1:
// all of them).
func (th *throttler) throttleFirst(n int) {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.first = n
}

// take returns the attempts recorded since the last take.
func (th *throttler) take() []time.Time {
	th.mu.Lock()
	defer th.mu.Unlock()
	a := th.attempts
	th.attempts = nil
	return a
}

// sdkAttempt reads the attempt number from the SDK's amz-sdk-request
// header ("attempt=2; max=3").
func sdkAttempt(header string) int {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// TestFaultThrottling proves that DynamoDB's throttling errors are retried
// by the SDK with backoff (more than one attempt, spaced out) and succeed
// when the throttling stops within the retry budget, with a write applied
// exactly once; and that a call throttled on every attempt surfaces,
// promptly, as SERVICE_UNAVAILABLE with retryable true.
func TestFaultThrottling(t *testing.T) {
	for _, code := range []string{"ProvisionedThroughputExceededException", "ThrottlingException"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel() // mostly waiting out backoffs
			th := &throttler{code: code, first: 0}
			h := faultAPI(t, "", "", th.option)
			id := mustCreate(t, h, createInput("Throttled", 100))

			t.Run("retried until it passes", func(t *testing.T) {
				th.throttleFirst(dynamo.DefaultMaxAttempts - 1)
				defer th.throttleFirst(0)
				th.take()
				d := mustData(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 101}})
				if got := num(d, "updateProperty", "property", "version"); got != 2 {
					t.Errorf("version = %v, want 2 (applied once)", got)
				}
				attempts := th.take()
				if got, want := len(attempts), dynamo.DefaultMaxAttempts; got != want {
					t.Fatalf("%d attempts, want %d", got, want)
				}
				// Full jitter makes each wait random in [0, 1s) for a throttle;
				// two that add up to under 10 ms happen once in 20,000 runs.
				if gap := attempts[len(attempts)-1].Sub(attempts[0]); gap < 10*time.Millisecond {
					t.Errorf("retries %v apart in all: no backoff", gap)
				}
				d = mustData(t, h, propertyQuery, map[string]any{"id": id})
				if got := num(d, "property", "version"); got != 2 {
					t.Errorf("stored version = %v, want 2", got)
				}
			})

			t.Run("retries run out", func(t *testing.T) {
				th.throttleFirst(-1)
				defer th.throttleFirst(0)
				for _, q := range []struct {
					name  string
					query string
					vars  map[string]any
				}{
					{"read", propertyQuery, map[string]any{"id": id}},
					{"write", updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2, "price": 102}}},
				} {
					th.take()
					r, took := timedGQL(t, h, q.query, q.vars)
					checkUnavailable(t, r, took)
					if got, want := len(th.take()), dynamo.DefaultMaxAttempts; got != want {
						t.Errorf("%s: %d attempts, want %d", q.name, got, want)
					}
				}
			})
		})
	}
}

// faultProxy stands between the API and DynamoDB Local on loopback and
// drops connections: before forwarding a request (the engine never sees
// it) or after the engine answered (the write committed; its answer is
// lost). The SDK sees what a broken network gives it: an EOF.
type faultProxy struct {
	srv    *httptest.Server
	engine string
	client *http.Client
	// drop decides for a request (DynamoDB operation, SDK attempt number).
	drop func(op string, attempt int) dropKind

	mu      sync.Mutex
	seen    map[string]int // requests per operation
	reached map[string]int // requests per operation the engine answered
	late    sync.WaitGroup // forwardLate requests still to be forwarded
}

type dropKind int

const (
	dropNone   dropKind = iota
	dropBefore          // close the connection without forwarding
	dropAfter           // forward, then close the connection without answering
	// forwardLate holds the request past the client's timeout, then
	// forwards it anyway: an engine that commits after the caller gave up.
	forwardLate
)

// lateBy is how long forwardLate holds a request: past faultTimeout.
const lateBy = faultTimeout + 300*time.Millisecond

func newFaultProxy(tb testing.TB) *faultProxy {
	tb.Helper()
	p := &faultProxy{
		engine: dynamolocal.Endpoint(tb),
		client: &http.Client{Timeout: 10 * time.Second},
		drop:   func(string, int) dropKind { return dropNone },
		seen:   map[string]int{}, reached: map[string]int{},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	p.mu.Lock()
	p.seen[op]++
	kind := p.drop(op, sdkAttempt(r.Header.Get("Amz-Sdk-Request")))
	p.mu.Unlock()
	ctx := r.Context()
	switch kind {
	case dropBefore:
		panic(http.ErrAbortHandler) // net/http closes the connection, unanswered
	case forwardLate:
		p.late.Add(1)
		defer p.late.Done()
		time.Sleep(lateBy)
		ctx = context.Background() // the client is gone; the engine still gets it
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, p.engine+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	out.Header = r.Header.Clone()
	resp, err := p.client.Do(out)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	p.mu.Lock()
	p.reached[op]++
	p.mu.Unlock()
	if kind == dropAfter {
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// counts returns and resets the per-operation counts.
func (p *faultProxy) counts() (seen, reached map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen, reached = p.seen, p.reached
	p.seen, p.reached = map[string]int{}, map[string]int{}
	return seen, reached
}

func (p *faultProxy) setDrop(f func(op string, attempt int) dropKind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = f
}

var writeOps = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true}

// TestFaultDroppedConnection proves that a connection dropped before
// DynamoDB saw the request is retried by the SDK and the operation succeeds,
// applied once; and that when every attempt is dropped the request fails
// promptly as SERVICE_UNAVAILABLE (retryable).
func TestFaultDroppedConnection(t *testing.T) {
	p := newFaultProxy(t)
	h := faultAPI(t, p.srv.URL, "")
	id := mustCreate(t, h, createInput("Flaky network", 500))

	t.Run("first attempt dropped", func(t *testing.T) {
		p.setDrop(func(_ string, attempt int) dropKind {
			if attempt == 1 {
				return dropBefore
			}
			return dropNone
		})
		defer p.setDrop(func(string, int) dropKind { return dropNone })
		p.counts()
		created := mustCreate(t, h, createInput("Created through a drop", 1))
		checkWhole(t, h, created, createInput("Created through a drop", 1))
		d := mustData(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 501}})
		if got := num(d, "updateProperty", "property", "version"); got != 2 {
			t.Errorf("version = %v, want 2", got)
		}
		mustData(t, h, listQuery, map[string]any{"first": 5})
		seen, reached := p.counts()
		for _, op := range []string{"PutItem", "UpdateItem", "GetItem", "Query"} {
			if seen[op] < 2 || reached[op] < 1 || seen[op] != 2*reached[op] {
				t.Errorf("%s: %d requests, %d reached the engine; want every first attempt dropped and retried", op, seen[op], reached[op])
			}
		}
	})

	t.Run("every attempt dropped", func(t *testing.T) {
		p.setDrop(func(string, int) dropKind { return dropBefore })
		defer p.setDrop(func(string, int) dropKind { return dropNone })
		for _, q := range []struct {
			query string
			vars  map[string]any
		}{
			{propertyQuery, map[string]any{"id": id}},
			{updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 2, "price": 502}}},
			{createMutation, map[string]any{"input": createInput("Never", 1)}},
		} {
			p.counts()
			r, took := timedGQL(t, h, q.query, q.vars)
			checkUnavailable(t, r, took)
			if seen, _ := p.counts(); sum(seen) != dynamo.DefaultMaxAttempts {
				t.Errorf("%v attempts, want %d", seen, dynamo.DefaultMaxAttempts)
			}
		}
		p.setDrop(func(string, int) dropKind { return dropNone })
		d := mustData(t, h, propertyQuery, map[string]any{"id": id})
		if got := num(d, "property", "version"); got != 2 {
			t.Errorf("version after failed update = %v, want 2", got)
		}
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestFaultFailAfterCommit loses the answer to each write's first attempt
// after DynamoDB committed it. The SDK retries; the retry's condition fails
// against the item our own first attempt wrote, and the write token stored
// with it lets the store recognise its own success: the client is told the
// truth (success, applied once), not CONFLICT or a failed create.
func TestFaultFailAfterCommit(t *testing.T) {
	p := newFaultProxy(t)
	h := faultAPI(t, p.srv.URL, "")
	id := mustCreate(t, h, createInput("Committed", 700))
	gone := mustCreate(t, h, createInput("To delete", 1))
	p.setDrop(func(op string, attempt int) dropKind {
		if writeOps[op] && attempt == 1 {
			return dropAfter
		}
		return dropNone
	})
	p.counts()

	in := createInput("Created, answer lost", 42)
	d := mustData(t, h, createMutation, map[string]any{"input": in})
	created := str(d, "createProperty", "property", "id")
	checkWhole(t, h, created, in)

	in2 := createInput("Idempotent, answer lost", 43)
	in2["clientMutationId"] = "lost-answer-1"
	d = mustData(t, h, createMutation, map[string]any{"input": in2})
	checkWhole(t, h, str(d, "createProperty", "property", "id"), in2)

	d = mustData(t, h, updateMutation, map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 701}})
	if got := num(d, "updateProperty", "property", "version"); got != 2 {
		t.Errorf("update: version = %v, want 2", got)
	}
	if got := num(d, "updateProperty", "property", "price"); got != 701 {
		t.Errorf("update: price = %v, want 701", got)
	}

	d = mustData(t, h, deleteMutation, map[string]any{"input": map[string]any{"id": gone, "expectedVersion": 1}})
	if got := str(d, "deleteProperty", "deletedId"); got != gone {
		t.Errorf("deletedId = %q, want %q", got, gone)
	}

	// Every write call took two attempts and both reached the engine: the
	// first committed, the retry found the condition failed on our own
	// write. (A delete may take more than one call.)
	seen, reached := p.counts()
	for op := range writeOps {
		if seen[op] < 2 || seen[op]%2 != 0 || reached[op] != seen[op] {
			t.Errorf("%s: %d requests, %d reached the engine; want two per call, all reaching it", op, seen[op], reached[op])
		}
	}
	if got, want := seen["PutItem"], 4; got != want {
		t.Errorf("PutItem: %d requests, want %d (two creates, two attempts each)", got, want)
	}
	p.setDrop(func(string, int) dropKind { return dropNone })
	d = mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got := num(d, "property", "version"); got != 2 {
		t.Errorf("stored version = %v, want 2 (applied once)", got)
	}
	d = mustData(t, h, propertyQuery, map[string]any{"id": gone})
	if get(d, "property") != nil {
		t.Errorf("deleted property still reads as %v", get(d, "property"))
	}
	if got := len(listAllIDs(t, h, "CREATED_AT_DESC")); got != 3 {
		t.Errorf("%d properties listed, want 3 (two creates each stored once, one kept)", got)
	}
}

// TestFaultTimeoutCommitsLater makes DynamoDB slower than the timeout: every
// attempt of a write times out, so the request is reported failed
// (SERVICE_UNAVAILABLE, retryable) within faultBound, yet the engine
// receives and commits it afterwards. A failure reported for a timeout
// therefore means "outcome unknown", and this is what stays true: the
// late create is whole, and repeating it with the same clientMutationId
// returns it rather than a second property; the late update is applied
// once although all its attempts arrived, and repeating it gets CONFLICT
// whose current shows the change already in place.
func TestFaultTimeoutCommitsLater(t *testing.T) {
	p := newFaultProxy(t)
	h := faultAPI(t, p.srv.URL, "")
	id := mustCreate(t, h, createInput("Slow engine", 800))
	p.counts()
	p.setDrop(func(op string, _ int) dropKind {
		if writeOps[op] {
			return forwardLate
		}
		return dropNone
	})

	in := createInput("Committed after the timeout", 801)
	in["clientMutationId"] = "slow-create-1"
	r, took := timedGQL(t, h, createMutation, map[string]any{"input": in})
	checkUnavailable(t, r, took)
	upd := map[string]any{"input": map[string]any{"id": id, "expectedVersion": 1, "price": 802}}
	r, took = timedGQL(t, h, updateMutation, upd)
	checkUnavailable(t, r, took)

	p.setDrop(func(string, int) dropKind { return dropNone })
	done := make(chan struct{})
	go func() { p.late.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("late requests were not forwarded within 10s")
	}
	seen, reached := p.counts()
	if seen["PutItem"] != dynamo.DefaultMaxAttempts || reached["PutItem"] != dynamo.DefaultMaxAttempts {
		t.Errorf("PutItem: %d attempts, %d reached the engine; want %d each", seen["PutItem"], reached["PutItem"], dynamo.DefaultMaxAttempts)
	}

	created := property.IdempotentID(property.Caller{Subject: defaultUser}, "slow-create-1")
	checkWhole(t, h, created, in)
	d := mustData(t, h, createMutation, map[string]any{"input": in})
	if got := str(d, "createProperty", "property", "id"); got != created {
		t.Errorf("repeated create: id %q, want %q", got, created)
	}
	if got := len(listAllIDs(t, h, "CREATED_AT_DESC")); got != 2 {
		t.Errorf("%d properties, want 2", got)
	}

	d = mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got := num(d, "property", "version"); got != 2 {
		t.Errorf("version = %v, want 2: the late update applied exactly once", got)
	}
	if got := num(d, "property", "price"); got != 802 {
		t.Errorf("price = %v, want 802", got)
	}
	r = gql(t, h, updateMutation, upd)
	if got := r.code(); got != "CONFLICT" {
		t.Fatalf("repeated update: code %q, want CONFLICT: %s", got, r.Raw)
	}
	if got := num(r.Errors[0].Extensions, "current", "price"); got != 802 {
		t.Errorf("CONFLICT current.price = %v, want 802", got)
	}
}
