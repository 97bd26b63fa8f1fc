package apierr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
)

// The README's error table and the schema's comment list the same codes as
// apierr.Codes: a code added in one place and not the others fails here.
func TestCodesMatchTheDocs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "### Errors\n")
	if !ok {
		t.Fatal(`README.md has no "### Errors" section`)
	}
	table, _, _ = strings.Cut(table, "\n#") // up to the next heading
	var inTable []string
	row := regexp.MustCompile("(?m)^\\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \\|")
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		for _, c := range strings.Split(m[1], ", ") {
			inTable = append(inTable, strings.Trim(c, "`"))
		}
	}
	if !slices.Equal(inTable, apierr.Codes) {
		t.Errorf("README error table lists\n%v\napierr.Codes is\n%v", inTable, apierr.Codes)
	}

	schema, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	_, comment, ok := strings.Cut(string(schema), "# Errors: every error in a response carries extensions.code")
	if !ok {
		t.Fatal("schema.graphqls has no comment listing the error codes")
	}
	comment, _, _ = strings.Cut(comment, "\n\n")
	// Upper-case words of six letters or more, but the setting it names.
	word := regexp.MustCompile(`\b[A-Z][A-Z_]{4,}[A-Z]\b`)
	var inSchema []string
	for _, w := range word.FindAllString(comment, -1) {
		if !slices.Contains(inSchema, w) && w != "MAX_RESPONSE_BYTES" {
			inSchema = append(inSchema, w)
		}
	}
	slices.Sort(inSchema)
	want := slices.Sorted(slices.Values(apierr.Codes))
	if !slices.Equal(inSchema, want) {
		t.Errorf("schema.graphqls comment lists\n%v\napierr.Codes is\n%v", inSchema, want)
	}
}

func TestGQLGenCodes(t *testing.T) {
	for _, tc := range []struct{ ours, gqlgens string }{
		{apierr.GraphQLParseFailed, errcode.ParseFailed},
		{apierr.GraphQLValidationFailed, errcode.ValidationFailed},
	} {
		if tc.ours != tc.gqlgens {
			t.Errorf("apierr has %q, gqlgen %q", tc.ours, tc.gqlgens)
		}
	}
}

func TestFromDomain(t *testing.T) {
	for _, tc := range []struct{ domain, want string }{
		{property.EINVALID, apierr.BadUserInput},
		{property.ENOTFOUND, apierr.NotFound},
		{property.ECONFLICT, apierr.Conflict},
		{property.EUNAUTHENTICATED, apierr.Unauthenticated},
		{property.EFORBIDDEN, apierr.Forbidden},
		{property.EUNAVAILABLE, apierr.ServiceUnavailable},
		{property.EINTERNAL, apierr.Internal},
		{"no such code", apierr.Internal},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			if got := apierr.FromDomain(tc.domain); got != tc.want {
				t.Errorf("FromDomain(%q) = %q, want %q", tc.domain, got, tc.want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	apierr.Write(w, http.StatusTeapot, apierr.BadRequest, `say "<hi>"`)
	if got, want := w.Code, http.StatusTeapot; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	want := `{"errors":[{"extensions":{"code":"BAD_REQUEST"},"message":"say \"\u003chi\u003e\""}]}` + "\n"
	if got := w.Body.String(); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	var body struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 ||
		body.Errors[0].Message != `say "<hi>"` || body.Errors[0].Extensions.Code != apierr.BadRequest {
		t.Errorf("body decodes to %+v, %v", body, err)
	}
}
