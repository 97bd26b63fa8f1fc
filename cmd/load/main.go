//go:build linux

// Command load measures the API under a realistic load on loopback and says
// whether it held up: `make load` (bench/load.sh) runs it.
//
// It starts its own DynamoDB Local (data in a temporary directory, a free
// port), a token issuer, and the API binary given by -api under
// /usr/bin/time -v; seeds properties through the API; then, with vegeta,
// sends a fixed rate of requests for -duration: 70 % list pages (first
// pages and next pages, several orders and filters), 20 % single reads and
// 10 % updates of a small set of hot properties, some of them against a
// stale version so that they meet CONFLICT as agents editing the same
// listing do. It stops by itself, stops what it started, and reports
// throughput, latency percentiles per kind of request, errors (anything but
// an update's CONFLICT), the most requests in flight, and the API process's
// peak RSS. It exits non-zero when there were errors, when it could not send
// at -rate, or when the peak RSS is above -max-rss-mb.
//
// All traffic goes to 127.0.0.1.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/dynamo"
	"github.com/propertyhq/property/internal/devissuer"
	"github.com/propertyhq/property/internal/dynamolocal"
	"github.com/propertyhq/property/internal/fnruntime"
)

type options struct {
	api        string
	timeBin    string
	rate       int
	duration   time.Duration
	warmup     time.Duration
	properties int
	hot        int
	stale      float64
	seed       uint64
	maxRSSMB   float64
	jsonOut    string
	apiLog     string
	apiEnv     envList

	// -mode cpu (cpu.go)
	mode     string
	requests int
	rounds   int
	conns    int
	rows     string
	sdkProcs int

	functionRuntime string
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.api, "api", "", "the API binary to run (go build ./lambda); required")
	flag.StringVar(&o.timeBin, "time", "/usr/bin/time", "GNU time, to measure the API's peak RSS (\"\" to read it from /proc only)")
	flag.IntVar(&o.rate, "rate", 150, "requests per second")
	flag.DurationVar(&o.duration, "duration", time.Minute, "how long to send requests at -rate (measured)")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "unmeasured load before the measured run")
	flag.IntVar(&o.properties, "properties", 300, "properties to create before the run")
	flag.IntVar(&o.hot, "hot", 20, "how many of them the updates go to")
	flag.Float64Var(&o.stale, "stale", 0.2, "share of updates sent with a stale expectedVersion")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the request mix")
	flag.Float64Var(&o.maxRSSMB, "max-rss-mb", 40, "fail when the API's peak RSS is above this (0: no limit)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	flag.StringVar(&o.apiLog, "api-log", "", "keep the API's output (its JSON log) in this file")
	flag.StringVar(&o.functionRuntime, "function-runtime", "", "a serverless.yml: start the API with the Go runtime settings (GOGC, GOMEMLIMIT, GOMAXPROCS) its api function has; -api-env overrides them")
	flag.Var(&o.apiEnv, "api-env", "KEY=VALUE added to the API's environment (repeatable), e.g. GOGC=200")
	flag.StringVar(&o.mode, "mode", "load", "load: the request mix at -rate; cpu: CPU per request of the API against the bare SDK calls (cpu.go)")
	flag.IntVar(&o.requests, "requests", 3000, "cpu mode: requests per measurement")
	flag.IntVar(&o.rounds, "rounds", 5, "cpu mode: measured rounds (after one discarded warm-up round)")
	flag.IntVar(&o.conns, "conns", 8, "cpu mode: concurrent connections (and SDK callers)")
	flag.IntVar(&o.sdkProcs, "sdk-gomaxprocs", 0, "cpu mode: GOMAXPROCS of this process while it makes the bare SDK calls (0: Go's default), to compare with an API run with -api-env GOMAXPROCS=N")
	flag.StringVar(&o.rows, "rows", "", "cpu mode: measure only these rows, comma-separated (e.g. \"sdk GetItem,property\" or property, to profile one)")
	flag.Parse()
	if o.functionRuntime != "" {
		env, err := fnruntime.Env(o.functionRuntime, "api")
		if err != nil {
			fmt.Fprintln(os.Stderr, "load: -function-runtime:", err)
			os.Exit(2)
		}
		// First, so that an -api-env of the same variable wins.
		o.apiEnv = append(envList(env), o.apiEnv...)
	}
	if o.mode == "cpu" {
		os.Exit(mainCPU(o))
	}
	if o.mode != "load" || o.api == "" || o.rate <= 0 || o.duration <= 0 || o.properties < 1 || o.hot < 1 || o.hot > o.properties {
		flag.Usage()
		os.Exit(2)
	}
	// A hard limit on the whole run, whatever happens.
	limit := o.warmup + o.duration + 4*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	rep, err := run(ctx, o)
	stop()
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
	}
	if !rep.Pass {
		os.Exit(1)
	}
}

// stack is what a run starts: DynamoDB Local with the table, a token
// issuer, and the API binary serving on loopback.
type stack struct {
	engine *dynamolocal.Engine
	db     *dynamodb.Client
	table  string
	issSrv *http.Server
	token  string
	api    *apiProcess
	base   string // the API's /graphql URL
}

func (s *stack) close() {
	if s.api != nil {
		_, _ = s.api.stop()
	}
	if s.issSrv != nil {
		_ = s.issSrv.Close()
	}
	if s.engine != nil {
		_ = s.engine.Stop()
	}
}

// startStack starts the engine, the issuer and the API (with env added to
// its environment) and waits until the API answers. On error it stops what
// it started.
func startStack(ctx context.Context, o options, tmp string, env ...string) (_ *stack, err error) {
	s := &stack{table: "properties-load"}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	say("starting DynamoDB Local (data in a temporary directory)")
	if s.engine, err = dynamolocal.Start(ctx, dynamolocal.Options{DBPath: filepath.Join(tmp, "dynamodb")}); err != nil {
		return nil, err
	}
	if s.db, err = dynamo.NewClient(ctx, dynamo.ClientOptions{Region: "us-east-1", Endpoint: s.engine.Endpoint()}); err != nil {
		return nil, err
	}
	if _, err := dynamo.EnsureTable(ctx, s.db, s.table); err != nil {
		return nil, err
	}

	// The token issuer the API verifies against, as Cognito would be.
	issLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	iss, err := devissuer.New("http://" + issLn.Addr().String())
	if err != nil {
		issLn.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(devissuer.JWKSPath, iss.JWKS())
	s.issSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.issSrv.Serve(issLn)
	if s.token, err = iss.Mint(devissuer.Token{Subject: "load-agent", TTL: time.Hour}); err != nil {
		return nil, err
	}

	port, err := dynamolocal.FreePort()
	if err != nil {
		return nil, err
	}
	if s.api, err = startAPI(o, tmp, append([]string{
		"PORT=" + strconv.Itoa(port),
		"PROPERTY_TABLE_NAME=" + s.table,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"DYNAMODB_ENDPOINT=" + s.engine.Endpoint(),
		"AUTH_ISSUER=" + iss.URL,
		"AUTH_CLIENT_ID=" + devissuer.ClientID,
		"CURSOR_SECRET=load-test-cursor-secret-0123456789",
		"PLAYGROUND=false",
		"LOG_LEVEL=info",
	}, env...)); err != nil {
		return nil, err
	}
	s.base = "http://127.0.0.1:" + strconv.Itoa(port) + "/graphql"
	if err := waitReady(ctx, s.base); err != nil {
		return nil, fmt.Errorf("%w (API log: %s)", err, s.api.logPath)
	}
	return s, nil
}

func run(ctx context.Context, o options) (*report, error) {
	tmp, err := os.MkdirTemp("", "property-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	st, err := startStack(ctx, o, tmp, o.apiEnv...)
	if err != nil {
		return nil, err
	}
	defer st.close()
	base, token, api := st.base, st.token, st.api

	say(fmt.Sprintf("creating %d properties through the API", o.properties))
	ids, err := seed(ctx, base, token, o.properties)
	if err != nil {
		return nil, err
	}
	mix := newMix(base, token, ids, o)

	if o.warmup > 0 {
		say(fmt.Sprintf("warming up for %v at %d/s", o.warmup, o.rate))
		if _, err := mix.attack(ctx, "warmup", o.warmup); err != nil {
			return nil, err
		}
	}
	say(fmt.Sprintf("measuring for %v at %d/s", o.duration, o.rate))
	rep, err := mix.attack(ctx, "load", o.duration)
	if err != nil {
		return nil, err
	}
	rep.Options = o
	rep.Machine = machine()
	rep.VmHWMMB = api.vmHWM()
	rep.PeakRSSMB, err = api.stop()
	if err != nil {
		return nil, err
	}
	rep.judge(o)
	return rep, nil
}

func say(msg string) { fmt.Fprintln(os.Stderr, "load:", msg) }

// apiProcess is the API, run under /usr/bin/time -v when available.
type apiProcess struct {
	cmd      *exec.Cmd // time (or the API itself)
	timed    bool      // cmd is time
	pid      int       // the API's own pid
	timeOut  string
	logPath  string
	done     chan struct{}
	stopOnce sync.Once
	rssMB    float64
	stopErr  error
}

func startAPI(o options, dir string, env []string) (*apiProcess, error) {
	logPath := filepath.Join(dir, "api.log")
	if o.apiLog != "" {
		logPath = o.apiLog
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &apiProcess{logPath: logPath, timeOut: filepath.Join(dir, "time.txt"), done: make(chan struct{}), timed: o.timeBin != ""}
	var cmd *exec.Cmd
	if o.timeBin != "" {
		cmd = exec.Command(o.timeBin, "-v", "-o", p.timeOut, o.api)
	} else {
		cmd = exec.Command(o.api)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should this program die, the kernel ends its child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.cmd = cmd
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	p.pid = cmd.Process.Pid
	if o.timeBin != "" {
		// The API is time's only child.
		deadline := time.Now().Add(5 * time.Second)
		for p.pid = 0; p.pid == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			p.pid = childOf(cmd.Process.Pid)
		}
		if p.pid == 0 {
			_ = cmd.Process.Kill()
			return nil, errors.New("the API did not start under " + o.timeBin)
		}
	}
	return p, nil
}

// childOf finds the pid of a child of parent in /proc.
func childOf(parent int) int {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", parent, parent)); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			return n
		}
	}
	return 0
}

// vmHWM is the API's peak resident set so far, in MB, from /proc.
func (p *apiProcess) vmHWM() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// stop ends the API with SIGTERM (its graceful shutdown), by its pid, and
// returns the peak RSS time reported. It kills after a grace period.
func (p *apiProcess) stop() (float64, error) {
	p.stopOnce.Do(func() {
		_ = syscall.Kill(p.pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if !p.timed {
			return // the report uses VmHWM
		}
		b, err := os.ReadFile(p.timeOut)
		if err != nil {
			p.stopErr = fmt.Errorf("read time's report: %w", err)
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Maximum resident set size (kbytes):"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				p.rssMB = kb / 1024
				return
			}
		}
		p.stopErr = fmt.Errorf("no peak RSS in time's report:\n%s", b)
	})
	return p.rssMB, p.stopErr
}

func waitReady(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base, strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the API did not answer within 30s")
}

var cities = []struct{ city, state string }{
	{"Chicago", "IL"}, {"Springfield", "IL"}, {"Portland", "OR"}, {"Miami", "FL"}, {"Austin", "TX"}, {"Denver", "CO"},
}

const createQuery = `mutation Create($input: CreatePropertyInput!) { createProperty(input: $input) { property { id version } } }`

// seed creates n properties through the API, 8 at a time.
func seed(ctx context.Context, base, token string, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c := cities[i%len(cities)]
				in := map[string]any{
					"title":       fmt.Sprintf("Listing %d: %d-bedroom home in %s", i, 1+i%5, c.city),
					"description": strings.Repeat("Bright rooms, a quiet street and a short walk to shops and transit. ", 3),
					"price":       float64(100_000 + (i*7919)%1_900_000),
					"address":     fmt.Sprintf("%d Main Street", 100+i), "city": c.city, "state": c.state, "zip": fmt.Sprintf("%05d", 10000+i),
				}
				body, _ := json.Marshal(map[string]any{"query": createQuery, "operationName": "Create", "variables": map[string]any{"input": in}})
				var out struct {
					Data struct {
						CreateProperty struct {
							Property struct{ ID string }
						}
					}
					Errors []json.RawMessage
				}
				if err := post(ctx, client, base, token, body, &out); err != nil || len(out.Errors) > 0 {
					errs <- fmt.Errorf("seed property %d: %v %s", i, err, out.Errors)
					continue
				}
				ids[i] = out.Data.CreateProperty.Property.ID
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return ids, nil
}

func post(ctx context.Context, c *http.Client, u, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

const (
	listQuery = `query List($first: Int, $after: String, $filter: PropertyFilter, $orderBy: PropertyOrder) {
  properties(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id title price city state createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`
	getQuery    = `query Get($id: ID!) { property(id: $id) { id title description price address city state zip version createdAt updatedAt } }`
	updateQuery = `mutation Update($input: UpdatePropertyInput!) { updateProperty(input: $input) { property { id price version updatedAt } } }`
)

// mix makes the requests and learns from the answers: next-page cursors
// and the hot properties' versions.
type mix struct {
	base, token string
	ids         []string
	o           options

	mu       sync.Mutex
	rnd      *rand.Rand
	seq      int
	pending  map[int]map[string]any // request number -> list variables
	pages    []map[string]any       // list variables with an after cursor, ready to send
	versions map[string]int         // hot id -> last version seen
}

func newMix(base, token string, ids []string, o options) *mix {
	m := &mix{
		base: base, token: token, ids: ids, o: o,
		rnd:      rand.New(rand.NewPCG(o.seed, 0x9e3779b97f4a7c15)),
		pending:  map[int]map[string]any{},
		versions: map[string]int{},
	}
	for _, id := range ids[:o.hot] {
		m.versions[id] = 1
	}
	return m
}

var orders = []struct {
	name   string
	weight float64
}{{"CREATED_AT_DESC", 0.5}, {"PRICE_ASC", 0.2}, {"PRICE_DESC", 0.15}, {"CREATED_AT_ASC", 0.15}}

// targeter is called by vegeta's workers, concurrently.
func (m *mix) targeter(t *vegeta.Target) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	t.Method = http.MethodPost
	t.Header = http.Header{"Content-Type": {"application/json"}}
	var op, query string
	var vars map[string]any
	switch x := m.rnd.Float64(); {
	case x < 0.70:
		op, query = "list", listQuery
		if len(m.pages) > 0 && m.rnd.Float64() < 0.4 {
			i := m.rnd.IntN(len(m.pages))
			vars = m.pages[i]
			m.pages = slices.Delete(m.pages, i, i+1)
		} else {
			vars = m.firstPage()
		}
		m.pending[m.seq] = vars
	case x < 0.90:
		op, query = "get", getQuery
		vars = map[string]any{"id": m.ids[m.rnd.IntN(len(m.ids))]}
	default:
		op, query = "update", updateQuery
		id := m.ids[m.rnd.IntN(m.o.hot)]
		v := m.versions[id]
		if v > 1 && m.rnd.Float64() < m.o.stale {
			v-- // an agent working from a page read a moment ago
		}
		vars = map[string]any{"input": map[string]any{"id": id, "expectedVersion": v, "price": float64(100_000 + m.rnd.IntN(1_900_000))}}
		t.Header.Set("Authorization", "Bearer "+m.token)
	}
	body, err := json.Marshal(map[string]any{"query": query, "operationName": opName[op], "variables": vars})
	if err != nil {
		return err
	}
	t.Body = body
	// The query string only tags the request for the report; the API
	// ignores it on POST.
	t.URL = m.base + "?op=" + op + "&n=" + strconv.Itoa(m.seq)
	return nil
}

var opName = map[string]string{"list": "List", "get": "Get", "update": "Update"}

func (m *mix) firstPage() map[string]any {
	vars := map[string]any{"first": 20}
	x := m.rnd.Float64()
	for _, o := range orders {
		if x -= o.weight; x < 0 {
			vars["orderBy"] = o.name
			break
		}
	}
	if vars["orderBy"] == nil {
		vars["orderBy"] = orders[0].name
	}
	switch x := m.rnd.Float64(); {
	case x < 0.4:
		vars["filter"] = map[string]any{"city": strings.ToLower(cities[m.rnd.IntN(len(cities))].city)}
	case x < 0.6:
		lo := float64(100_000 * (1 + m.rnd.IntN(10)))
		vars["filter"] = map[string]any{"state": cities[m.rnd.IntN(len(cities))].state, "minPrice": lo, "maxPrice": lo + 500_000}
	}
	return vars
}

type answer struct {
	Data struct {
		Properties *struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		UpdateProperty *struct {
			Property struct {
				ID      string
				Version int
			}
		}
	}
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

// learn classifies one result and feeds what it says back into the mix.
func (m *mix) learn(res *vegeta.Result) (op, outcome string) {
	u, _ := url.Parse(res.URL)
	op = u.Query().Get("op")
	n, _ := strconv.Atoi(u.Query().Get("n"))
	m.mu.Lock()
	defer m.mu.Unlock()
	vars := m.pending[n]
	delete(m.pending, n)
	if res.Error != "" || res.Code != http.StatusOK {
		return op, fmt.Sprintf("status %d %s %.200s", res.Code, res.Error, res.Body)
	}
	var a answer
	if err := json.Unmarshal(res.Body, &a); err != nil {
		return op, "not JSON: " + err.Error()
	}
	if len(a.Errors) > 0 {
		code, _ := a.Errors[0].Extensions["code"].(string)
		if code == apierr.Conflict && op == "update" {
			cur, _ := a.Errors[0].Extensions["current"].(map[string]any)
			id, _ := cur["id"].(string)
			if v, ok := a.Errors[0].Extensions["currentVersion"].(float64); ok && id != "" {
				m.versions[id] = max(m.versions[id], int(v))
			}
			return op, "conflict"
		}
		return op, fmt.Sprintf("%s: %s", code, a.Errors[0].Message)
	}
	switch {
	case op == "list" && a.Data.Properties != nil:
		if pi := a.Data.Properties.PageInfo; pi.HasNextPage && vars != nil && len(m.pages) < 500 {
			next := map[string]any{}
			for k, v := range vars {
				next[k] = v
			}
			next["after"] = pi.EndCursor
			m.pages = append(m.pages, next)
		}
	case op == "update" && a.Data.UpdateProperty != nil:
		p := a.Data.UpdateProperty.Property
		m.versions[p.ID] = max(m.versions[p.ID], p.Version)
	}
	return op, "ok"
}

// attack sends the mix at the configured rate for d and sums it up.
func (m *mix) attack(ctx context.Context, name string, d time.Duration) (*report, error) {
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true), vegeta.Workers(16), vegeta.MaxWorkers(512))
	rate := vegeta.Rate{Freq: m.o.rate, Per: time.Second}
	results := atk.Attack(m.targeter, rate, d, name)
	rep := &report{Ops: map[string]*opStats{}, Errors: map[string]int{}}
	var all vegeta.Metrics
	var spans [][2]time.Time
	for {
		select {
		case <-ctx.Done():
			atk.Stop()
			for range results {
			}
			return nil, ctx.Err()
		case res, ok := <-results:
			if !ok {
				all.Close()
				rep.finish(&all, d)
				rep.MaxInFlight = maxOverlap(spans)
				return rep, nil
			}
			all.Add(res)
			spans = append(spans, [2]time.Time{res.Timestamp, res.End()})
			op, outcome := m.learn(res)
			s := rep.Ops[op]
			if s == nil {
				s = &opStats{}
				rep.Ops[op] = s
			}
			s.latencies = append(s.latencies, res.Latency)
			switch outcome {
			case "ok":
				s.OK++
			case "conflict":
				s.Conflicts++
			default:
				s.Errors++
				rep.Errors[op+": "+outcome]++
			}
		}
	}
}

// maxOverlap is the most requests in flight at once.
func maxOverlap(spans [][2]time.Time) int {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, s := range spans {
		edges = append(edges, edge{s[0], 1}, edge{s[1], -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // ends before starts at the same instant
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most
}

type opStats struct {
	OK, Conflicts, Errors int
	P50, P90, P99, Max    ms
	latencies             []time.Duration
}

// ms marshals a duration as milliseconds.
type ms time.Duration

func (d ms) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(d).Seconds()*1000, 'f', 3, 64)), nil
}

func (d ms) String() string { return fmt.Sprintf("%.2f ms", time.Duration(d).Seconds()*1000) }

type report struct {
	Options  options `json:"-"`
	Machine  string
	Requests int
	Rate     float64 // requests sent per second
	Good     float64 // answered correctly per second (successes and expected conflicts)
	Ops      map[string]*opStats
	All      opStats
	Errors   map[string]int
	// MaxInFlight is the most requests the API held at once: its memory
	// grows with it.
	MaxInFlight int
	PeakRSSMB   float64 // /usr/bin/time -v: maximum resident set size
	VmHWMMB     float64 // /proc/PID/status VmHWM just before stopping
	Pass        bool
	Verdict     []string
}

func (r *report) finish(m *vegeta.Metrics, d time.Duration) {
	r.Requests = int(m.Requests)
	r.Rate = m.Rate
	var all []time.Duration
	good := 0
	for _, s := range r.Ops {
		s.summarise()
		all = append(all, s.latencies...)
		r.All.OK += s.OK
		r.All.Conflicts += s.Conflicts
		r.All.Errors += s.Errors
		good += s.OK + s.Conflicts
	}
	r.All.latencies = all
	r.All.summarise()
	if m.Duration+m.Wait > 0 {
		r.Good = float64(good) / (m.Duration + m.Wait).Seconds()
	}
}

func (s *opStats) summarise() {
	slices.Sort(s.latencies)
	pct := func(p float64) ms {
		if len(s.latencies) == 0 {
			return 0
		}
		i := int(float64(len(s.latencies))*p+0.5) - 1
		return ms(s.latencies[min(max(i, 0), len(s.latencies)-1)])
	}
	s.P50, s.P90, s.P99 = pct(0.50), pct(0.90), pct(0.99)
	if n := len(s.latencies); n > 0 {
		s.Max = ms(s.latencies[n-1])
	}
}

func (r *report) judge(o options) {
	r.Pass = true
	if r.All.Errors > 0 {
		r.Pass = false
		r.Verdict = append(r.Verdict, fmt.Sprintf("FAIL: %d errors other than expected CONFLICTs", r.All.Errors))
	} else {
		r.Verdict = append(r.Verdict, "ok: no errors other than expected CONFLICTs")
	}
	if want := float64(o.rate) * 0.98; r.Rate < want {
		r.Pass = false
		r.Verdict = append(r.Verdict, fmt.Sprintf("FAIL: sent %.1f req/s, below the %d asked for", r.Rate, o.rate))
	}
	rss := r.PeakRSSMB
	if rss == 0 {
		rss = r.VmHWMMB
	}
	switch {
	case o.maxRSSMB <= 0:
	case rss > o.maxRSSMB:
		r.Pass = false
		r.Verdict = append(r.Verdict, fmt.Sprintf("FAIL: peak RSS %.1f MB is above %.0f MB", rss, o.maxRSSMB))
	default:
		r.Verdict = append(r.Verdict, fmt.Sprintf("ok: peak RSS %.1f MB is within %.0f MB", rss, o.maxRSSMB))
	}
}

func (r *report) print(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "\nLoad: %d req/s for %v after %v warm-up; 70%% list pages, 20%% reads, 10%% updates of %d hot properties (%.0f%% stale); %d properties\n",
		o.rate, o.duration, o.warmup, o.hot, o.stale*100, o.properties)
	fmt.Fprintf(w, "Machine: %s\n\n", r.Machine)
	fmt.Fprintf(w, "requests %d, sent %.1f/s, answered correctly %.1f/s, at most %d in flight\n\n", r.Requests, r.Rate, r.Good, r.MaxInFlight)
	fmt.Fprintf(w, "| kind | requests | ok | CONFLICT | errors | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|---|\n")
	kinds := []string{"list", "get", "update"}
	for _, k := range kinds {
		if s := r.Ops[k]; s != nil {
			fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %v | %v | %v | %v |\n", k, len(s.latencies), s.OK, s.Conflicts, s.Errors, s.P50, s.P90, s.P99, s.Max)
		}
	}
	s := r.All
	fmt.Fprintf(w, "| all | %d | %d | %d | %d | %v | %v | %v | %v |\n\n", len(s.latencies), s.OK, s.Conflicts, s.Errors, s.P50, s.P90, s.P99, s.Max)
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
		for e, n := range r.Errors {
			fmt.Fprintf(w, "  %d × %s\n", n, e)
		}
	}
	fmt.Fprintf(w, "API peak RSS: %.1f MB (/usr/bin/time -v), VmHWM %.1f MB\n", r.PeakRSSMB, r.VmHWMMB)
	for _, v := range r.Verdict {
		fmt.Fprintln(w, v)
	}
}

// machine describes where the figures were measured.
func machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf(", %.0f GiB RAM", kb/1024/1024)
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s %s/%s", runtime.NumCPU(), cpu, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
