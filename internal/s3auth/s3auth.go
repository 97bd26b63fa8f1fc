// Package s3auth checks pre-signed S3 URLs the way S3 does, in front of a
// local S3 stand-in (gofakes3 accepts anything): the SigV4 query signature
// over the method, path, query and signed headers (so a Content-Type or
// Content-Length other than the signed one is refused), the expiry, and
// the access key. Refusals carry S3's error codes and XML body, so a
// frontend that uploads fine locally also uploads fine to S3.
//
// Requests signed in the Authorization header (the SDK's own calls) and
// reads without a signature pass through; an unsigned write is refused, as
// by a private bucket.
package s3auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options say which key signs and where.
type Options struct {
	AccessKeyID, SecretAccessKey string
	Region                       string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

const (
	algorithm  = "AWS4-HMAC-SHA256"
	amzDate    = "20060102T150405Z"
	maxExpires = 7 * 24 * 60 * 60 // S3's limit, in seconds
)

// Verify refuses requests to next whose pre-signed URL S3 would refuse.
func Verify(opt Options, next http.Handler) http.Handler {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodOptions: // CORS preflight
		case q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential"):
			if e := check(opt, r); e != nil {
				e.write(w, r)
				return
			}
		case r.Header.Get("Authorization") != "":
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			(&s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Access Denied"}).write(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// s3Error is S3's error document.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Status     int      `xml:"-"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Expires    string   `xml:"Expires,omitempty"`
	ServerTime string   `xml:"ServerTime,omitempty"`
	// What S3 adds to SignatureDoesNotMatch, for finding the difference.
	AWSAccessKeyID    string `xml:"AWSAccessKeyId,omitempty"`
	StringToSign      string `xml:"StringToSign,omitempty"`
	SignatureProvided string `xml:"SignatureProvided,omitempty"`
	CanonicalRequest  string `xml:"CanonicalRequest,omitempty"`
}

func (e *s3Error) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if r.Header.Get("Origin") != "" {
		// Let a browser read why (the local bucket allows any origin).
		h.Set("Access-Control-Allow-Origin", "*")
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(e)
}

func queryError(msg string) *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "AuthorizationQueryParametersError", Message: msg}
}

// check verifies r's query signature.
func check(opt Options, r *http.Request) *s3Error {
	q := r.URL.Query()
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if q.Get(p) == "" {
			return queryError(fmt.Sprintf("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; %s is missing.", p))
		}
	}
	if q.Get("X-Amz-Algorithm") != algorithm {
		return queryError("X-Amz-Algorithm only supports \"" + algorithm + "\"")
	}
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(cred) != 5 || cred[3] != "s3" || cred[4] != "aws4_request" {
		return queryError("Error parsing the X-Amz-Credential parameter; the credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	if cred[0] != opt.AccessKeyID {
		return &s3Error{Status: http.StatusForbidden, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyID: cred[0]}
	}
	if cred[2] != opt.Region {
		return queryError(fmt.Sprintf("Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; expecting '%s'", cred[2], opt.Region))
	}
	signed, err := time.Parse(amzDate, q.Get("X-Amz-Date"))
	if err != nil || signed.Format("20060102") != cred[1] {
		return queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and match the credential's date")
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 0 {
		return queryError("X-Amz-Expires should be a number")
	}
	if expires > maxExpires {
		return queryError("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	now := opt.Now().UTC()
	if end := signed.Add(time.Duration(expires) * time.Second); now.After(end) {
		return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Request has expired",
			Expires: end.Format(time.RFC3339), ServerTime: now.Format(time.RFC3339)}
	}
	if signed.After(now.Add(15 * time.Minute)) {
		return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Request is not valid yet"}
	}

	canonical := canonicalRequest(r, q.Get("X-Amz-SignedHeaders"))
	scope := strings.Join(cred[1:], "/")
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + q.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + opt.SecretAccessKey)
	for _, part := range cred[1:] {
		key = mac(key, part)
	}
	want := hex.EncodeToString(mac(key, toSign))
	if !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		return &s3Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch",
			Message:        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			AWSAccessKeyID: cred[0], StringToSign: toSign, SignatureProvided: q.Get("X-Amz-Signature"), CanonicalRequest: canonical}
	}
	return nil
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// canonicalRequest is SigV4's canonical form of r for a query signature:
// S3 does not sign the payload of a pre-signed request.
func canonicalRequest(r *http.Request, signedHeaders string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(escape(r.URL.Path, false) + "\n")

	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "X-Amz-Signature" {
			keys = append(keys, k)
		}
	}
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range q[k] {
			pairs = append(pairs, escape(k, true)+"="+escape(v, true))
		}
	}
	sort.Strings(pairs)
	b.WriteString(strings.Join(pairs, "&") + "\n")

	for _, name := range strings.Split(signedHeaders, ";") {
		var value string
		switch name {
		case "host":
			value = r.Host
		case "content-length":
			value = r.Header.Get("Content-Length")
			if value == "" && r.ContentLength >= 0 {
				value = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			value = strings.Join(r.Header.Values(name), ",")
		}
		b.WriteString(name + ":" + strings.Join(strings.Fields(value), " ") + "\n")
	}
	b.WriteString("\n" + signedHeaders + "\n")
	b.WriteString("UNSIGNED-PAYLOAD")
	return b.String()
}

// escape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ is
// percent-encoded; slashes too unless the path is being encoded.
func escape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !slash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
