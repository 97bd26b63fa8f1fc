package auth

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// cachedKeys bounds how often the key set is fetched. go-oidc refetches it
// whenever a token fails against the cached keys, so without this every
// forged token would cost a request to the issuer. Within minInterval of a
// successful fetch the last answer is served again; a key rotated in that
// window is picked up at the next fetch after it.
type cachedKeys struct {
	next        http.RoundTripper
	minInterval time.Duration
	now         func() time.Time

	mu      sync.Mutex
	body    []byte
	header  http.Header
	fetched time.Time
}

func (c *cachedKeys) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil && c.now().Sub(c.fetched) < c.minInterval {
		return c.response(req), nil
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.body, c.header, c.fetched = body, resp.Header.Clone(), c.now()
	return c.response(req), nil
}

func (c *cachedKeys) response(req *http.Request) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.header.Clone(), Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: req,
	}
}
