package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	property "github.com/propertyhq/property"
)

// DefaultCacheSize is how many verified tokens a Verifier remembers unless
// Options.CacheSize says otherwise.
const DefaultCacheSize = 1024

// tokenCache remembers the callers of tokens that verified, until the token
// expires, so that a signed-in user's next requests skip the RS256
// signature check (about a tenth of a read's CPU). Only successes are kept;
// a token that failed is checked again each time it comes.
//
// Entries are keyed by the token's SHA-256, so the cache holds no
// credential a heap dump could replay, and a key is the same size whatever
// a client sends. It holds at most max entries: when full, expired entries
// go first, then arbitrary ones (map order), which bounds its memory
// whoever sends tokens.
type tokenCache struct {
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedCaller
}

type cachedCaller struct {
	caller property.Caller
	until  time.Time // the token verifies until then (exp plus the skew)
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	if max <= 0 {
		return nil
	}
	return &tokenCache{max: max, now: now, m: make(map[[sha256.Size]byte]cachedCaller)}
}

func (c *tokenCache) get(token string) (property.Caller, bool) {
	if c == nil {
		return property.Anonymous, false
	}
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return property.Anonymous, false
	}
	if !c.now().Before(e.until) {
		delete(c.m, k)
		return property.Anonymous, false
	}
	return copyCaller(e.caller), true
}

func (c *tokenCache) put(token string, caller property.Caller, until time.Time) {
	if c == nil || !c.now().Before(until) {
		return
	}
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		now := c.now()
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[k] = cachedCaller{caller: copyCaller(caller), until: until}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// copyCaller keeps callers of the cache and of requests from sharing a
// groups slice one of them could change.
func copyCaller(c property.Caller) property.Caller {
	c.Groups = slices.Clone(c.Groups)
	return c
}
