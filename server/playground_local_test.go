package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/propertyhq/property/server"
)

// TestPlaygroundLocalFiles: given node_modules, the page loads every file
// from its own server (offline), with the same integrity hashes, and the
// server serves exactly the bytes that match them; a missing or altered
// copy leaves the page on the CDN, with the reason logged.
func TestPlaygroundLocalFiles(t *testing.T) {
	modules := os.DirFS("../node_modules")
	if _, err := fs.Stat(modules, "graphiql/package.json"); err != nil {
		t.Fatalf("node_modules is not installed (run npm ci): %v", err)
	}
	serve := func(files fs.FS) (http.Handler, string, string) {
		var log bytes.Buffer
		h := server.New(server.Options{GraphQL: http.NotFoundHandler(), Playground: true, PlaygroundFiles: files,
			Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return h, rec.Body.String(), log.String()
	}

	t.Run("served locally", func(t *testing.T) {
		h, page, log := serve(modules)
		as := assets(page)
		if len(as) != 4 {
			t.Fatalf("page loads %d files, want 4", len(as))
		}
		for _, a := range as {
			url := a["src"] + a["href"]
			if !strings.HasPrefix(url, "/playground/npm/") {
				t.Errorf("%s loads from %s, not from this server", a["tag"], url)
				continue
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d", url, rec.Code)
			}
			sum := sha256.Sum256(rec.Body.Bytes())
			if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != a["integrity"] {
				t.Errorf("GET %s hashes to %s, the page expects %s", url, got, a["integrity"])
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/") {
				t.Errorf("GET %s: Content-Type %q", url, ct)
			}
		}
		if log != "" {
			t.Errorf("log: %s", log)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/playground/npm/react@18.2.0/package.json", nil))
		if rec.Code != 404 {
			t.Errorf("a file the page does not load is served: %d", rec.Code)
		}
	})

	// Copies of the real packages with one file changed.
	copyOf := func(t *testing.T, change func(fstest.MapFS)) fstest.MapFS {
		t.Helper()
		m := fstest.MapFS{}
		for _, name := range []string{
			"react/package.json", "react/umd/react.production.min.js",
			"react-dom/package.json", "react-dom/umd/react-dom.production.min.js",
			"graphiql/package.json", "graphiql/graphiql.min.js", "graphiql/graphiql.min.css",
		} {
			b, err := fs.ReadFile(modules, name)
			if err != nil {
				t.Fatal(err)
			}
			m[name] = &fstest.MapFile{Data: b}
		}
		change(m)
		return m
	}
	for _, tc := range []struct {
		name   string
		change func(fstest.MapFS)
		reason string
	}{
		{"unchanged copy", func(fstest.MapFS) {}, ""},
		{"altered file", func(m fstest.MapFS) {
			m["graphiql/graphiql.min.js"].Data = append(m["graphiql/graphiql.min.js"].Data, '\n')
		}, "hashes to"},
		{"missing file", func(m fstest.MapFS) { delete(m, "react/umd/react.production.min.js") }, "react@18.2.0"},
		{"other version", func(m fstest.MapFS) { m["react-dom/package.json"].Data = []byte(`{"version":"18.3.0"}`) }, "react-dom@18.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, page, log := serve(copyOf(t, tc.change))
			local := strings.Contains(page, `src="/playground/npm/`)
			if tc.reason == "" {
				if !local || log != "" {
					t.Errorf("local = %v, log %q; want the local files", local, log)
				}
				return
			}
			if local || strings.Contains(page, "/playground/npm/") {
				t.Errorf("page uses local files despite: %s", tc.reason)
			}
			if !strings.Contains(page, "https://cdn.jsdelivr.net/npm/graphiql@") {
				t.Errorf("page does not fall back to the CDN")
			}
			if !strings.Contains(log, tc.reason) {
				t.Errorf("log %q, want it to say %q", log, tc.reason)
			}
		})
	}
}
