package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/lambdart"
)

// benchSetup starts the function once to create a property, and returns
// the environment and a `property` query event for it.
func benchSetup(b *testing.B) (env []string, query []byte) {
	b.Helper()
	iss := issuer(b)
	envMap := functionEnv(b, iss)
	envMap["LOG_LEVEL"] = "warn" // one log line per request is not what we measure
	f := start(b, envMap)
	token, err := iss.Mint(devissuer.Token{Subject: "agent-1"})
	if err != nil {
		b.Fatal(err)
	}
	ev := fixture(b, "mutation.json")
	ev.Headers["authorization"] = "Bearer " + token
	r := invoke(b, f, ev)
	id, _ := r.data("createProperty", "property", "id").(string)
	if id == "" {
		b.Fatalf("create: %s", r)
	}
	f.Stop()
	q := fixture(b, "query.json")
	setVariable(b, &q, "id", id)
	if query, err = json.Marshal(q); err != nil {
		b.Fatal(err)
	}
	for k, v := range envMap {
		env = append(env, k+"="+v)
	}
	return env, query
}

// checkFound fails unless res is a 200 answer naming the property.
func checkFound(b *testing.B, res lambdart.Result) {
	b.Helper()
	r := decode(b, res)
	if r.StatusCode != http.StatusOK || r.data("property", "id") == nil {
		b.Fatalf("query: %s", r)
	}
}

// BenchmarkColdStart starts the binary b.N times; each start is timed from
// just before exec until the answer to its first event (a property query
// that reads DynamoDB Local) reaches the Runtime API.
//
//	go test -run '^$' -bench '^BenchmarkColdStart$' -benchtime 20x ./lambda/
func BenchmarkColdStart(b *testing.B) {
	env, query := benchSetup(b)
	bin := binary(b)
	firsts := make([]time.Duration, 0, b.N)
	inits := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		f, err := lambdart.Start(bin, env, lambdart.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := f.Invoke(ctx, query)
		cancel()
		if err != nil {
			f.Stop()
			b.Fatal(err)
		}
		firsts = append(firsts, res.Done.Sub(f.Started))
		// The function asked for its first event once its init was over.
		inits = append(inits, res.Received.Sub(f.Started))
		f.Stop()
		checkFound(b, res)
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(firsts, 50)), "ms-first-response-p50")
	b.ReportMetric(ms(slices.Min(firsts)), "ms-first-response-min")
	b.ReportMetric(ms(slices.Max(firsts)), "ms-first-response-max")
	b.ReportMetric(ms(percentile(inits, 50)), "ms-init-p50")
}

// BenchmarkWarmInvoke sends b.N property queries to one running function,
// one at a time as Lambda does, each timed from queueing the event to
// receiving the answer.
//
//	go test -run '^$' -bench '^BenchmarkWarmInvoke$' -benchtime 1000x ./lambda/
func BenchmarkWarmInvoke(b *testing.B) {
	env, query := benchSetup(b)
	f, err := lambdart.Start(binary(b), env, lambdart.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Stop()
	ctx := context.Background()
	for range 20 { // warm up: connections, JIT of the local engine
		res, err := f.Invoke(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		checkFound(b, res)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		res, err := f.Invoke(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, res.Done.Sub(res.Queued))
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(lat, 50)), "ms-p50")
	b.ReportMetric(ms(percentile(lat, 99)), "ms-p99")
	b.ReportMetric(ms(slices.Max(lat)), "ms-max")
}

// percentile returns the p-th percentile (nearest rank) of d.
func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
