// Package cursor seals listing positions into opaque, authenticated,
// expiring strings bound to the query they were issued for. Clients can
// neither read nor forge them, and a cursor from one filter or ordering is
// refused by another.
package cursor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is returned for a cursor that is malformed, tampered with,
// sealed by an unknown key, issued for another query, or expired.
var ErrInvalid = errors.New("invalid cursor")

const version byte = 1

// DefaultTTL is how long a cursor stays valid unless configured
// (CURSOR_TTL).
const DefaultTTL = 24 * time.Hour

// Codec seals and opens cursors. The first key seals; every key opens, so a
// key can be rotated without breaking walks already under way.
type Codec struct {
	aeads []cipher.AEAD
	ttl   time.Duration
	now   func() time.Time
}

// New returns a Codec for the given secrets (current first, then previous
// ones) and lifetime. Each secret must be at least 16 bytes.
func New(secrets []string, ttl time.Duration) (*Codec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("cursor: no secret")
	}
	if ttl <= 0 {
		return nil, errors.New("cursor: lifetime must be positive")
	}
	c := &Codec{ttl: ttl, now: time.Now}
	for i, s := range secrets {
		if len(s) < 16 {
			return nil, fmt.Errorf("cursor: secret %d is shorter than 16 bytes", i+1)
		}
		// Hashing lets any string serve as a secret while keeping AES-256.
		key := sha256.Sum256([]byte("property-cursor-v1\x00" + s))
		block, err := aes.NewCipher(key[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// NewRandom returns a Codec with a fresh random key: cursors die with the
// process, which is fine for local development only.
func NewRandom(ttl time.Duration) *Codec {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	c, err := New([]string{string(b)}, ttl)
	if err != nil {
		panic(err)
	}
	return c
}

// WithClock returns a copy of c that reads time from now; for tests.
func (c *Codec) WithClock(now func() time.Time) *Codec {
	cp := *c
	cp.now = now
	return &cp
}

// Seal returns the cursor for position, bound to binding (a canonical form
// of the query it belongs to).
func (c *Codec) Seal(binding string, position []byte) string {
	aead := c.aeads[0]
	plain := make([]byte, 8, 8+len(position))
	binary.BigEndian.PutUint64(plain, uint64(c.now().Add(c.ttl).Unix()))
	plain = append(plain, position...)

	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = version
	_, _ = rand.Read(out[1:])
	out = aead.Seal(out, out[1:1+aead.NonceSize()], plain, []byte(binding))
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open returns the position sealed in cursor, or ErrInvalid.
func (c *Codec) Open(binding, cursor string) ([]byte, error) {
	// Strict: otherwise the unused low bits of the last character are
	// ignored and some edits of a cursor would still open.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(raw) < 1 || raw[0] != version {
		return nil, ErrInvalid
	}
	raw = raw[1:]
	for _, aead := range c.aeads {
		ns := aead.NonceSize()
		if len(raw) < ns+8+aead.Overhead() {
			return nil, ErrInvalid
		}
		plain, err := aead.Open(nil, raw[:ns], raw[ns:], []byte(binding))
		if err != nil {
			continue
		}
		exp := time.Unix(int64(binary.BigEndian.Uint64(plain[:8])), 0)
		if c.now().After(exp) {
			return nil, ErrInvalid
		}
		return plain[8:], nil
	}
	return nil, ErrInvalid
}
