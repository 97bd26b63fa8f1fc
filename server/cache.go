package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// cacheHeaders lets a CDN cache anonymous GET queries for maxAge seconds and
// nothing else: not errors (PERSISTED_QUERY_NOT_FOUND among them, or a
// client would keep getting it after registering the query), not
// authenticated reads, not POSTs. GET responses are buffered to look at
// them; they are small.
func cacheHeaders(maxAge int, next http.Handler) http.Handler {
	public := "public, max-age=" + strconv.Itoa(maxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Origin, Authorization")
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || maxAge <= 0 {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
			return
		}
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(buf, r)
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		var body struct {
			Errors json.RawMessage `json:"errors"`
		}
		if buf.status == http.StatusOK && json.Unmarshal(buf.body.Bytes(), &body) == nil && len(body.Errors) == 0 {
			w.Header().Set("Cache-Control", public)
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
}

type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.status = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
