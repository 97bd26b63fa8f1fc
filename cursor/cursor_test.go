package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/propertyhq/property/cursor"
)

const (
	secretA = "cursor-test-secret-A-0123456789"
	secretB = "cursor-test-secret-B-0123456789"
	ttl     = time.Hour
)

// t0 is a whole second, so that expiry (kept in whole seconds) is exact.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// mustCodec returns a codec for secrets whose clock stands at t0.
func mustCodec(tb testing.TB, secrets ...string) *cursor.Codec {
	tb.Helper()
	c, err := cursor.New(secrets, ttl)
	if err != nil {
		tb.Fatalf("cursor.New: %v", err)
	}
	return c.WithClock(func() time.Time { return t0 })
}

// at returns c reading the time t0+d.
func at(c *cursor.Codec, d time.Duration) *cursor.Codec {
	return c.WithClock(func() time.Time { return t0.Add(d) })
}

// checkInvalid fails unless err is cursor.ErrInvalid and nothing was opened.
func checkInvalid(tb testing.TB, pos []byte, err error) {
	tb.Helper()
	if !errors.Is(err, cursor.ErrInvalid) {
		tb.Errorf("err = %v, want %v", err, cursor.ErrInvalid)
	}
	if pos != nil {
		tb.Errorf("position = %q, want nil", pos)
	}
}

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, secretA)
	tests := []struct {
		name     string
		binding  string
		position []byte
	}{
		{"created key", "v1|CREATED_AT_DESC", []byte("2025-03-14T15:09:26.535Z#0b9f6c2e-6f0e-4c8a-9a53-3b1e0f2a7c11")},
		{"price key", "v1|PRICE_ASC|city=\"springfield\"|min=100", []byte("0000000012345#0b9f6c2e-6f0e-4c8a-9a53-3b1e0f2a7c11")},
		{"empty position", "v1|CREATED_AT_ASC", []byte{}},
		{"empty binding", "", []byte("x")},
		{"binary position", "b", []byte{0, 1, 2, 0xff, 0, '#'}},
		{"long position", "b", bytes.Repeat([]byte("0123456789"), 100)},
		{"unicode binding", "v1|CREATED_AT_DESC|city=\"são paulo\"", []byte("p")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := c.Seal(tt.binding, tt.position)
			if _, err := base64.RawURLEncoding.DecodeString(s); err != nil || strings.ContainsAny(s, "+/=") {
				t.Errorf("cursor %q is not unpadded URL-safe base64 (%v)", s, err)
			}
			got, err := c.Open(tt.binding, s)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.position) {
				t.Errorf("position = %q, want %q", got, tt.position)
			}
		})
	}
}

func TestSealIsOpaque(t *testing.T) {
	c := mustCodec(t, secretA)
	binding, pos := "v1|PRICE_DESC", []byte("0000000099999#5a0d1f0e-3a55-4a4e-bf64-8e5f7c9a1d20")
	a, b := c.Seal(binding, pos), c.Seal(binding, pos)
	if a == b {
		t.Errorf("two seals of the same position are equal (%q); the nonce must differ", a)
	}
	for _, s := range []string{a, b} {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, clear := range [][]byte{pos, pos[:13], pos[14:], []byte(binding)} {
			if bytes.Contains(raw, clear) || strings.Contains(s, string(clear)) {
				t.Errorf("cursor %q shows %q in the clear", s, clear)
			}
		}
	}
}

func TestOpenRejectsOtherBinding(t *testing.T) {
	c := mustCodec(t, secretA)
	const binding = "v1|CREATED_AT_DESC|city=\"springfield\""
	s := c.Seal(binding, []byte("pos"))
	for _, other := range []string{
		"",
		"v1|CREATED_AT_ASC|city=\"springfield\"",
		"v1|CREATED_AT_DESC",
		"v1|CREATED_AT_DESC|city=\"springfield\"|state=\"il\"",
		"v1|CREATED_AT_DESC|city=\"Springfield\"",
		binding + " ",
		binding[:len(binding)-1],
	} {
		t.Run(other, func(t *testing.T) {
			got, err := c.Open(other, s)
			checkInvalid(t, got, err)
		})
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	c := mustCodec(t, secretA)
	const binding = "v1|CREATED_AT_DESC"
	pos := []byte("2025-03-14T15:09:26.535Z#0b9f6c2e-6f0e-4c8a-9a53-3b1e0f2a7c11")
	s := c.Seal(binding, pos)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("every bit of every byte", func(t *testing.T) {
		for i := range raw {
			for bit := range 8 {
				b := bytes.Clone(raw)
				b[i] ^= 1 << bit
				got, err := c.Open(binding, base64.RawURLEncoding.EncodeToString(b))
				if !errors.Is(err, cursor.ErrInvalid) || got != nil {
					t.Errorf("byte %d bit %d flipped: opened %q, %v", i, bit, got, err)
				}
			}
		}
	})

	t.Run("every character", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range len(s) {
			for _, r := range alphabet {
				if byte(r) == s[i] {
					continue
				}
				tampered := s[:i] + string(r) + s[i+1:]
				got, err := c.Open(binding, tampered)
				if err == nil {
					// Only a non-canonical spelling of the very same bytes
					// (the unused low bits of the last character) may open;
					// it must give back the very same position.
					decoded, derr := base64.RawURLEncoding.DecodeString(tampered)
					if derr != nil || !bytes.Equal(decoded, raw) || !bytes.Equal(got, pos) {
						t.Errorf("character %d replaced by %q: opened %q", i, r, got)
					}
					continue
				}
				checkInvalid(t, got, err)
			}
		}
	})

	t.Run("cut short", func(t *testing.T) {
		for n := range len(raw) {
			got, err := c.Open(binding, base64.RawURLEncoding.EncodeToString(raw[:n]))
			if !errors.Is(err, cursor.ErrInvalid) || got != nil {
				t.Errorf("first %d of %d bytes: opened %q, %v", n, len(raw), got, err)
			}
		}
	})

	t.Run("extended", func(t *testing.T) {
		for _, tail := range [][]byte{{0}, {1}, []byte("more")} {
			got, err := c.Open(binding, base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), tail...)))
			checkInvalid(t, got, err)
		}
	})

	t.Run("spliced", func(t *testing.T) {
		// The body of one cursor under the nonce of another.
		other, err := base64.RawURLEncoding.DecodeString(c.Seal(binding, pos))
		if err != nil {
			t.Fatal(err)
		}
		spliced := append(bytes.Clone(raw[:13]), other[13:]...)
		got, err := c.Open(binding, base64.RawURLEncoding.EncodeToString(spliced))
		checkInvalid(t, got, err)
	})
}

func TestOpenRejectsGarbage(t *testing.T) {
	c := mustCodec(t, secretA)
	valid, err := base64.RawURLEncoding.DecodeString(c.Seal("b", []byte("p")))
	if err != nil {
		t.Fatal(err)
	}
	otherVersion := bytes.Clone(valid)
	otherVersion[0]++
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name   string
		cursor string
	}{
		{"empty", ""},
		{"one character", "A"},
		{"not base64", "not a cursor!"},
		{"padded base64", base64.URLEncoding.EncodeToString(valid)},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(enc(valid)) + "+/"},
		{"version only", enc([]byte{1})},
		{"zeros", enc(make([]byte, len(valid)))},
		{"version and zeros", enc(append([]byte{1}, make([]byte, len(valid)-1)...))},
		{"shorter than nonce and tag", enc(valid[:1+12+8+15])},
		{"other version", enc(otherVersion)},
		{"long garbage", strings.Repeat("A", 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Open("b", tt.cursor)
			checkInvalid(t, got, err)
		})
	}
}

func TestExpiry(t *testing.T) {
	c := mustCodec(t, secretA)
	s := c.Seal("b", []byte("p"))
	tests := []struct {
		name  string
		after time.Duration
		valid bool
	}{
		{"at once", 0, true},
		{"before it was sealed", -time.Hour, true},
		{"a second before expiry", ttl - time.Second, true},
		{"at expiry", ttl, true},
		{"a second after expiry", ttl + time.Second, false},
		{"a day later", 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := at(c, tt.after).Open("b", s)
			if !tt.valid {
				checkInvalid(t, got, err)
				return
			}
			if err != nil || string(got) != "p" {
				t.Errorf("Open = %q, %v; want %q", got, err, "p")
			}
		})
	}
	t.Run("lifetime counts from sealing", func(t *testing.T) {
		late := at(c, 24*time.Hour)
		s := late.Seal("b", []byte("p"))
		if got, err := at(c, 24*time.Hour+ttl-time.Second).Open("b", s); err != nil || string(got) != "p" {
			t.Errorf("Open = %q, %v; want %q", got, err, "p")
		}
	})
	t.Run("WithClock leaves the original alone", func(t *testing.T) {
		base, err := cursor.New([]string{secretA}, ttl)
		if err != nil {
			t.Fatal(err)
		}
		_ = base.WithClock(func() time.Time { return time.Now().Add(10 * ttl) })
		if _, err := base.Open("b", base.Seal("b", []byte("p"))); err != nil {
			t.Errorf("Open on the original codec: %v", err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	oldOnly := mustCodec(t, secretA)
	rotated := mustCodec(t, secretB, secretA)
	newOnly := mustCodec(t, secretB)
	sameOld := mustCodec(t, secretA)

	fromOld := oldOnly.Seal("b", []byte("old"))
	fromRotated := rotated.Seal("b", []byte("new"))
	tests := []struct {
		name   string
		codec  *cursor.Codec
		cursor string
		want   string // "" for invalid
	}{
		{"old key, same secret in another codec", sameOld, fromOld, "old"},
		{"old key opens with [new, old]", rotated, fromOld, "old"},
		{"old key refused once dropped", newOnly, fromOld, ""},
		{"[new, old] seals with new", newOnly, fromRotated, "new"},
		{"new key refused by [old]", oldOnly, fromRotated, ""},
		{"own cursor", rotated, fromRotated, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.Open("b", tt.cursor)
			if tt.want == "" {
				checkInvalid(t, got, err)
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("Open = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("expiry still applies to an old key", func(t *testing.T) {
		got, err := at(rotated, ttl+time.Second).Open("b", fromOld)
		checkInvalid(t, got, err)
	})
	t.Run("binding still applies to an old key", func(t *testing.T) {
		got, err := rotated.Open("other", fromOld)
		checkInvalid(t, got, err)
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		ttl     time.Duration
		ok      bool
	}{
		{"one secret", []string{secretA}, ttl, true},
		{"two secrets", []string{secretB, secretA}, ttl, true},
		{"16 bytes", []string{"0123456789abcdef"}, ttl, true},
		{"no secret", nil, ttl, false},
		{"empty secret", []string{""}, ttl, false},
		{"15 bytes", []string{"0123456789abcde"}, ttl, false},
		{"second secret too short", []string{secretA, "short"}, ttl, false},
		{"zero lifetime", []string{secretA}, 0, false},
		{"negative lifetime", []string{secretA}, -time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cursor.New(tt.secrets, tt.ttl)
			if got := err == nil; got != tt.ok {
				t.Fatalf("New(%q, %v) error = %v, want ok = %v", tt.secrets, tt.ttl, err, tt.ok)
			}
			if !tt.ok {
				if c != nil {
					t.Errorf("New returned a codec with error %v", err)
				}
				return
			}
			if got, err := c.Open("b", c.Seal("b", []byte("p"))); err != nil || string(got) != "p" {
				t.Errorf("round trip = %q, %v", got, err)
			}
		})
	}
}

func TestNewRandom(t *testing.T) {
	a, b := cursor.NewRandom(ttl), cursor.NewRandom(ttl)
	s := a.Seal("b", []byte("p"))
	if got, err := a.Open("b", s); err != nil || string(got) != "p" {
		t.Errorf("own cursor: Open = %q, %v", got, err)
	}
	got, err := b.Open("b", s)
	checkInvalid(t, got, err)
}
