package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/fnruntime"
	"github.com/propertyhq/property/internal/lambdart"
)

// benchList is the first page a cold start answers: properties(first: 20),
// the query a site's home page makes.
const benchList = `query List { properties(first: 20) { edges { cursor node { id title price city state createdAt } } pageInfo { hasNextPage endCursor } } }`

// benchSetup starts the function once to create a property, and returns
// the environment and a `property` query event for it.
func benchSetup(b *testing.B) (env []string, query []byte) {
	env, query, _ = benchSetupList(b)
	return env, query
}

// benchSetupList is benchSetup that also returns a `properties` query event
// (benchList).
func benchSetupList(b *testing.B) (env []string, query, list []byte) {
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
	l := fixture(b, "query.json")
	body, _ := json.Marshal(map[string]any{"query": benchList, "operationName": "List"})
	l.Body = string(body)
	if list, err = json.Marshal(l); err != nil {
		b.Fatal(err)
	}
	for k, v := range envMap {
		env = append(env, k+"="+v)
	}
	return env, query, list
}

// functionRuntime is the Go runtime settings serverless.yml gives the
// function, as KEY=VALUE, so that the Runtime API benchmarks start the
// binary as Lambda does.
func functionRuntime(b *testing.B) []string {
	b.Helper()
	env, err := fnruntime.Env("../serverless.yml", "api")
	if err != nil {
		b.Fatal(err)
	}
	return env
}

// engine is DynamoDB Local, read directly: the list Query the first
// request makes (byCreated, newest first, one more than the page).
type engine struct {
	db    *dynamodb.Client
	table string
}

func newEngine(b *testing.B, env []string) engine {
	b.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	db, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{Region: m["AWS_REGION"], Endpoint: m["DYNAMODB_ENDPOINT"]})
	if err != nil {
		b.Fatal(err)
	}
	return engine{db: db, table: m["PROPERTY_TABLE_NAME"]}
}

func (e engine) list(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(e.table), IndexName: aws.String("byCreated"),
		KeyConditionExpression:    aws.String("lpk = :all"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":all": &types.AttributeValueMemberS{Value: "ALL"}},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(21),
	})
	return err
}

// warm sends the engine n list Queries before anything is timed. A fresh
// DynamoDB Local (a JVM) answers its first few hundred requests in 7 to
// 17 ms, and 1 to 3 ms once its JIT has compiled the path: unwarmed, a
// cold start measured the engine's warm-up more than the function's.
func (e engine) warm(b *testing.B, n int) {
	b.Helper()
	for range n {
		if err := e.list(context.Background(), e.db); err != nil {
			b.Fatal(err)
		}
	}
}

// firstQuery times one list Query on a new client, as a starting function
// makes it (a new connection): the engine's share of a first answer.
func (e engine) firstQuery(b *testing.B, env []string) time.Duration {
	b.Helper()
	fresh := newEngine(b, env)
	t0 := time.Now()
	if err := e.list(context.Background(), fresh.db); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// checkListed fails unless res is a 200 answer with a page of properties.
func checkListed(b *testing.B, res lambdart.Result) {
	b.Helper()
	r := decode(b, res)
	edges, _ := r.data("properties", "edges").([]any)
	if r.StatusCode != http.StatusOK || len(edges) == 0 {
		b.Fatalf("list: %s", r)
	}
}

// readyMS is the handler construction time the function logs once
// ("ready", handler_ms), or -1.
func readyMS(out string) float64 {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Msg       string  `json:"msg"`
			HandlerMS float64 `json:"handler_ms"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "ready" {
			return line.HandlerMS
		}
	}
	return -1
}

// packageInitMS sums the package initialisation times GODEBUG=inittrace=1
// prints ("init PKG @T ms, D ms clock, ...").
func packageInitMS(out string) (total float64, n int) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 7 && f[0] == "init" && f[6] == "clock," {
			d, err := strconv.ParseFloat(f[4], 64)
			if err == nil {
				total += d
				n++
			}
		}
	}
	return total, n
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
// just before exec until the answer to its first event, a properties(first:
// 20) query that reads DynamoDB Local, reaches the Runtime API. The
// function runs with LOG_LEVEL=info, as deployed.
//
// Besides the first answer it reports the breakdown: init (start until the
// function asks for its first event: runtime and package initialisation,
// then main building the handler), handler (main building the handler, as
// the function logs it in its "ready" line), and pkg-init (the sum of
// package initialisations, from GODEBUG=inittrace=1 on three extra starts
// that are not timed otherwise).
//
//	go test -run '^$' -bench '^BenchmarkColdStart$' -benchtime 10x ./lambda/
func BenchmarkColdStart(b *testing.B) {
	env, _, list := benchSetupList(b)
	eng := newEngine(b, env)
	eng.warm(b, engineWarmup)
	env = append(append(env, "LOG_LEVEL=info"), functionRuntime(b)...)
	bin := binary(b)
	var firsts, inits, handlers, cpus, engs []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		engs = append(engs, eng.firstQuery(b, env))
		b.StartTimer()
		f, err := lambdart.Start(bin, env, lambdart.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := f.Invoke(ctx, list)
		cancel()
		if err != nil {
			f.Stop()
			b.Fatal(err)
		}
		firsts = append(firsts, res.Done.Sub(f.Started))
		// The function asked for its first event once its init was over.
		inits = append(inits, res.Received.Sub(f.Started))
		f.Stop()
		cpus = append(cpus, f.CPU())
		handlers = append(handlers, time.Duration(readyMS(f.Output())*float64(time.Millisecond)))
		checkListed(b, res)
	}
	b.StopTimer()
	var pkg []time.Duration
	for range 3 {
		f, err := lambdart.Start(bin, append(slices.Clone(env), "GODEBUG=inittrace=1"), lambdart.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := f.Invoke(ctx, list)
		cancel()
		f.Stop()
		if err != nil {
			b.Fatal(err)
		}
		checkListed(b, res)
		ms, n := packageInitMS(f.Output())
		if n == 0 {
			b.Fatalf("no inittrace lines in the output:\n%s", f.Output())
		}
		pkg = append(pkg, time.Duration(ms*float64(time.Millisecond)))
	}
	b.ReportMetric(ms(percentile(firsts, 50)), "ms-first-response-p50")
	b.ReportMetric(ms(slices.Min(firsts)), "ms-first-response-min")
	b.ReportMetric(ms(slices.Max(firsts)), "ms-first-response-max")
	b.ReportMetric(ms(percentile(inits, 50)), "ms-init-p50")
	b.ReportMetric(ms(percentile(cpus, 50)), "ms-cpu-p50")
	b.ReportMetric(ms(percentile(handlers, 50)), "ms-handler-p50")
	b.ReportMetric(ms(percentile(pkg, 50)), "ms-pkg-init-p50")
	b.ReportMetric(ms(percentile(engs, 50)), "ms-engine-query-p50")
}

// engineWarmup is how many list Queries warm the engine before a cold
// start benchmark times anything.
const engineWarmup = 1000

// BenchmarkColdStartLocal is BenchmarkColdStart in local mode: the binary
// serving HTTP on a loopback port (no AWS_LAMBDA_RUNTIME_API), timed from
// just before exec until the answer to a properties(first: 20) query, which
// the benchmark sends as soon as the port accepts connections (it retries
// every 100 µs until then).
//
//	go test -run '^$' -bench '^BenchmarkColdStartLocal$' -benchtime 10x ./lambda/
func BenchmarkColdStartLocal(b *testing.B) {
	env, _, _ := benchSetupList(b)
	eng := newEngine(b, env)
	eng.warm(b, engineWarmup)
	env = append(env, "LOG_LEVEL=info")
	bin := binary(b)
	body, _ := json.Marshal(map[string]any{"query": benchList, "operationName": "List"})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var firsts, cpus, engs []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		engs = append(engs, eng.firstQuery(b, env))
		b.StartTimer()
		port, err := dynamolocal.FreePort()
		if err != nil {
			b.Fatal(err)
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/graphql"
		cmd := exec.Command(bin)
		cmd.Env = append(slices.Clone(env), "PORT="+strconv.Itoa(port))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		started := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var answer []byte
		for deadline := started.Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err == nil {
				answer, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte(`"edges":[{`)) {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				b.Fatalf("no answer within 10s: %v %s\n%s", err, answer, out.String())
			}
		}
		firsts = append(firsts, time.Since(started))
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(firsts, 50)), "ms-first-response-p50")
	b.ReportMetric(ms(slices.Min(firsts)), "ms-first-response-min")
	b.ReportMetric(ms(slices.Max(firsts)), "ms-first-response-max")
	b.ReportMetric(ms(percentile(cpus, 50)), "ms-cpu-p50")
	b.ReportMetric(ms(percentile(engs, 50)), "ms-engine-query-p50")
}

// BenchmarkEngineQuery times the cold start's list Query made bare against
// this test binary's DynamoDB Local: the first 20 as the engine starts, then
// 20 more after engineWarmup, what the cold start benchmarks measure on.
// Run it alone, so that the engine is as fresh as it gets:
//
//	go test -count=1 -run '^$' -bench '^BenchmarkEngineQuery$' -benchtime 1x ./lambda/
func BenchmarkEngineQuery(b *testing.B) {
	env, _, _ := benchSetupList(b)
	eng := newEngine(b, env)
	ctx := context.Background()
	times := func(n int) []time.Duration {
		var d []time.Duration
		for range n {
			t0 := time.Now()
			if err := eng.list(ctx, eng.db); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		return d
	}
	var cold, warm []time.Duration
	for range b.N {
		cold = times(20)
		eng.warm(b, engineWarmup)
		warm = times(20)
	}
	b.ReportMetric(ms(percentile(cold, 50)), "ms-cold-p50")
	b.ReportMetric(ms(slices.Max(cold)), "ms-cold-max")
	b.ReportMetric(ms(percentile(warm, 50)), "ms-warm-p50")
	b.ReportMetric(ms(slices.Max(warm)), "ms-warm-max")
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
