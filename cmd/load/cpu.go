//go:build linux

package main

// -mode cpu (`make bench-cpu`, bench/cpu.sh): what one request costs the
// API process in CPU, next to the bare SDK call that reads the same items,
// against one DynamoDB Local in one run.
//
// After seeding, each round measures, one after the other and each over
// -requests requests sent by -conns concurrent callers:
//
//	sdk GetItem        the GetItem the store makes for property(id), made
//	                   by this process with the SDK (the same client options
//	                   as the API's), over the 20 ids of the first page;
//	property           property(id) of the same ids over HTTP, anonymous;
//	property+token     the same, signed in (a bearer token on every request);
//	sdk Query          the Query the store makes for the first page
//	                   newest-first (21 items: one more than the page tells
//	                   whether another follows), made bare;
//	properties         properties(first: 20) over HTTP (the load mix's list
//	                   query), anonymous: the same 20 items;
//	properties+token   the same, signed in.
//
// CPU per request is the process's user+system CPU time over the
// measurement divided by the requests: for the SDK rows this process's
// (getrusage), for the HTTP rows the API process's (/proc/PID/stat), which
// leaves out the client sending them and the engine (a JVM) answering.
// Round 0 warms the engine's JIT and the connections and is discarded.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The rows of the CPU report, in the order a round measures them.
var cpuRows = []string{"sdk GetItem", "property", "property+token", "sdk Query", "properties", "properties+token"}

// cpuGoals are the ratios issue 12 asks for: numerator, denominator, most.
var cpuGoals = []struct {
	num, den string
	max      float64
}{
	{"property", "sdk GetItem", 1.5},
	{"properties", "sdk Query", 2.0},
	{"property+token", "property", 1.10},
	{"properties+token", "properties", 1.10},
}

func mainCPU(o options) int {
	if o.api == "" || o.requests < 1 || o.rounds < 1 || o.conns < 1 {
		fmt.Fprintln(os.Stderr, "load -mode cpu needs -api, and -requests, -rounds and -conns of at least 1")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rep, err := runCPU(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	rep.print(os.Stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			return 1
		}
	}
	return 0
}

// cpuReport holds, per row, the CPU µs per request of each measured round.
type cpuReport struct {
	Machine  string
	Requests int
	Rounds   int
	Conns    int
	APIEnv   []string
	SDKProcs int                  // GOMAXPROCS of the bare SDK rows (0: Go's default)
	CPU      map[string][]float64 // µs per request, one per round
	Rate     map[string][]float64 // requests per second, one per round
	PeakRSS  float64              // MB, VmHWM of the API at the end
}

func runCPU(ctx context.Context, o options) (*cpuReport, error) {
	tmp, err := os.MkdirTemp("", "property-cpu-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	st, err := startStack(ctx, o, tmp, o.apiEnv...)
	if err != nil {
		return nil, err
	}
	defer st.close()

	say("creating 40 properties through the API")
	if _, err := seed(ctx, st.base, st.token, 40); err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns, DisableCompression: true,
	}}
	listBody, _ := json.Marshal(map[string]any{"query": listQuery, "operationName": "List", "variables": map[string]any{"first": 20}})
	var page struct {
		Data struct {
			Properties struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	if err := post(ctx, client, st.base, st.token, listBody, &page); err != nil {
		return nil, fmt.Errorf("first page: %w", err)
	}
	var ids []string
	for _, e := range page.Data.Properties.Edges {
		ids = append(ids, e.Node.ID)
	}
	if len(ids) != 20 {
		return nil, fmt.Errorf("first page has %d items, want 20", len(ids))
	}
	getBodies := make([][]byte, len(ids))
	for i, id := range ids {
		getBodies[i], _ = json.Marshal(map[string]any{"query": getQuery, "operationName": "Get", "variables": map[string]any{"id": id}})
	}

	// The store's requests, made bare. Key formats and index names are the
	// store's own (unexported in dynamo); sdkQuery checks below that the
	// bare Query reads the very items of the page, so a change there fails
	// the run instead of measuring something else.
	table := aws.String(st.table)
	sdkGet := func(i int) error {
		out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "PROPERTY#" + ids[i%len(ids)]},
				"SK": &types.AttributeValueMemberS{Value: "METADATA"},
			},
		})
		if err == nil && len(out.Item) == 0 {
			err = errors.New("GetItem found nothing: has the key format changed?")
		}
		return err
	}
	keyCond, err := expression.NewBuilder().WithKeyCondition(expression.Key("lpk").Equal(expression.Value("ALL"))).Build()
	if err != nil {
		return nil, err
	}
	sdkQuery := func() (*dynamodb.QueryOutput, error) {
		return st.db.Query(ctx, &dynamodb.QueryInput{
			TableName: table, IndexName: aws.String("byCreated"),
			KeyConditionExpression:    keyCond.KeyCondition(),
			ExpressionAttributeNames:  keyCond.Names(),
			ExpressionAttributeValues: keyCond.Values(),
			ScanIndexForward:          aws.Bool(false),
			Limit:                     aws.Int32(21),
		})
	}
	out, err := sdkQuery()
	if err != nil {
		return nil, err
	}
	for i, it := range out.Items[:min(20, len(out.Items))] {
		if v, _ := it["id"].(*types.AttributeValueMemberS); v == nil || v.Value != ids[i] {
			return nil, fmt.Errorf("the bare Query's item %d is not the page's %s: has the listing index changed?", i, ids[i])
		}
	}
	if len(out.Items) != 21 {
		return nil, fmt.Errorf("the bare Query read %d items, want 21", len(out.Items))
	}

	api := func(body func(i int) []byte, token string) func(int) error {
		return func(i int) error { return apiRequest(ctx, client, st.base, token, body(i)) }
	}
	getBody := func(i int) []byte { return getBodies[i%len(getBodies)] }
	list := func(int) []byte { return listBody }
	ops := map[string]func(int) error{
		"sdk GetItem":      sdkGet,
		"property":         api(getBody, ""),
		"property+token":   api(getBody, st.token),
		"sdk Query":        func(int) error { _, err := sdkQuery(); return err },
		"properties":       api(list, ""),
		"properties+token": api(list, st.token),
	}

	rep := &cpuReport{
		Machine: machine(), Requests: o.requests, Rounds: o.rounds, SDKProcs: o.sdkProcs, Conns: o.conns, APIEnv: o.apiEnv,
		CPU: map[string][]float64{}, Rate: map[string][]float64{},
	}
	rows := cpuRows
	if o.rows != "" {
		rows = nil
		for _, r := range strings.Split(o.rows, ",") {
			if !slices.Contains(cpuRows, r) {
				return nil, fmt.Errorf("-rows: no row %q (rows: %s)", r, strings.Join(cpuRows, ", "))
			}
			rows = append(rows, r)
		}
	}
	for round := 0; round <= o.rounds; round++ {
		say(fmt.Sprintf("round %d of %d (round 0 is a warm-up)", round, o.rounds))
		for _, row := range rows {
			var cpu func() (time.Duration, error)
			procs := runtime.GOMAXPROCS(0)
			if strings.HasPrefix(row, "sdk ") {
				if o.sdkProcs > 0 {
					runtime.GOMAXPROCS(o.sdkProcs)
				}
				runtime.GC() // this process's garbage from earlier rows is not this row's
				cpu = selfCPU
			} else {
				cpu = func() (time.Duration, error) { return procCPU(st.api.pid) }
			}
			c0, err := cpu()
			if err != nil {
				return nil, err
			}
			t0 := time.Now()
			if err := runConcurrently(o.conns, o.requests, ops[row]); err != nil {
				return nil, fmt.Errorf("%s: %w", row, err)
			}
			wall := time.Since(t0)
			c1, err := cpu()
			runtime.GOMAXPROCS(procs)
			if err != nil {
				return nil, err
			}
			if round > 0 {
				rep.CPU[row] = append(rep.CPU[row], float64(c1-c0)/float64(time.Microsecond)/float64(o.requests))
				rep.Rate[row] = append(rep.Rate[row], float64(o.requests)/wall.Seconds())
			}
		}
	}
	rep.PeakRSS = st.api.vmHWM()
	return rep, nil
}

// apiRequest POSTs one GraphQL request and fails unless the answer is a 200
// without errors.
func apiRequest(ctx context.Context, c *http.Client, u, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	return nil
}

// runConcurrently calls op(0..n-1) from conns goroutines and returns the
// first error.
func runConcurrently(conns, n int, op func(int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// selfCPU is this process's user+system CPU time.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// procCPU is the user+system CPU time of process pid (/proc/PID/stat,
// fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("cannot parse /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func stats(v []float64) (med, lo, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

func (r *cpuReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nCPU per request: %d requests per row and round, %d concurrent connections/callers, %d rounds\n",
		r.Requests, r.Conns, r.Rounds)
	if len(r.APIEnv) > 0 {
		fmt.Fprintf(w, "API environment: %s\n", strings.Join(r.APIEnv, " "))
	}
	if r.SDKProcs > 0 {
		fmt.Fprintf(w, "Bare SDK rows: GOMAXPROCS=%d\n", r.SDKProcs)
	}
	fmt.Fprintf(w, "Machine: %s\n\n", r.Machine)
	fmt.Fprintf(w, "| row | CPU µs/request, median | min | max | requests/s, median | rounds |\n|---|---|---|---|---|---|\n")
	for _, row := range cpuRows {
		if r.CPU[row] == nil {
			continue // not among -rows
		}
		med, lo, hi := stats(r.CPU[row])
		rate, _, _ := stats(r.Rate[row])
		var rounds []string
		for _, v := range r.CPU[row] {
			rounds = append(rounds, strconv.FormatFloat(v, 'f', 0, 64))
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %s |\n", row, med, lo, hi, rate, strings.Join(rounds, ", "))
	}
	fmt.Fprintf(w, "\n| ratio (per round) | median | min | max | goal |\n|---|---|---|---|---|\n")
	for _, g := range cpuGoals {
		if r.CPU[g.num] == nil || r.CPU[g.den] == nil {
			continue
		}
		var ratios []float64
		for i := range r.CPU[g.num] {
			ratios = append(ratios, r.CPU[g.num][i]/r.CPU[g.den][i])
		}
		med, lo, hi := stats(ratios)
		verdict := "met"
		if med > g.max {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "| %s / %s | %.2f | %.2f | %.2f | ≤ %.2f: %s |\n", g.num, g.den, med, lo, hi, g.max, verdict)
	}
	fmt.Fprintf(w, "\nAPI VmHWM at the end: %.1f MB\n", r.PeakRSS)
}
