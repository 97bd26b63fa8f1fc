package graph_test

import (
	"encoding/json"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/apierr"
	"github.com/propertyhq/property/graph"
)

// A listing's page becomes edges, nodes and pageInfo: one cursor per edge,
// startCursor the first edge's, endCursor where the store says to resume
// (beyond the last edge when the read cap stopped the page early), and
// hasPreviousPage whenever the client came with a cursor.
func TestPageBuilding(t *testing.T) {
	a, b := &property.Property{ID: "a"}, &property.Property{ID: "b"}
	const q = `query($after: String) { properties(first: 2, after: $after) {
		edges { cursor node { id } } nodes { id }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	tests := []struct {
		name  string
		page  property.Page
		after any
		want  string
	}{
		{"empty", property.Page{}, nil,
			`{"edges":[],"nodes":[],"pageInfo":{"endCursor":null,"hasNextPage":false,"hasPreviousPage":false,"startCursor":null}}`},
		{"first page with more", property.Page{Items: []*property.Property{a, b}, Cursors: []string{"ca", "cb"}, HasNextPage: true, EndCursor: "cb"}, nil,
			`{"edges":[{"cursor":"ca","node":{"id":"a"}},{"cursor":"cb","node":{"id":"b"}}],"nodes":[{"id":"a"},{"id":"b"}],` +
				`"pageInfo":{"endCursor":"cb","hasNextPage":true,"hasPreviousPage":false,"startCursor":"ca"}}`},
		{"last page after a cursor", property.Page{Items: []*property.Property{b}, Cursors: []string{"cb"}, EndCursor: "cb"}, "ca",
			`{"edges":[{"cursor":"cb","node":{"id":"b"}}],"nodes":[{"id":"b"}],` +
				`"pageInfo":{"endCursor":"cb","hasNextPage":false,"hasPreviousPage":true,"startCursor":"cb"}}`},
		{"read cap stopped an empty page", property.Page{HasNextPage: true, EndCursor: "far"}, "ca",
			`{"edges":[],"nodes":[],"pageInfo":{"endCursor":"far","hasNextPage":true,"hasPreviousPage":true,"startCursor":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newServer(graph.Options{}, fakeStore{page: &tt.page})
			r := post(t, h, q, map[string]any{"after": tt.after})
			if len(r.Errors) != 0 {
				t.Fatalf("errors: %s", r.raw)
			}
			got, _ := json.Marshal(r.Data["properties"])
			if string(got) != tt.want {
				t.Errorf("properties =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// The @auth directive lets a signed-in caller through to the store, with
// the caller, and answers an anonymous one UNAUTHENTICATED without data;
// fields without it stay public.
func TestAuthDirective(t *testing.T) {
	const (
		create = `mutation { createProperty(input: { title: "Flat", description: "d", price: 1, address: "a", city: "c", state: "s", zip: "z" }) { property { title ownerId } } }`
		update = `mutation { updateProperty(input: { id: "6f1c1d7e-1a52-4c39-9d0e-4b7c4b1f3a10", expectedVersion: 1, title: "Flat" }) { property { ownerId } } }`
		remove = `mutation { deleteProperty(input: { id: "6f1c1d7e-1a52-4c39-9d0e-4b7c4b1f3a10" }) { deletedId } }`
		read   = `{ properties { nodes { id } } }`
	)
	alice := property.Caller{Subject: "alice"}
	tests := []struct {
		name   string
		caller property.Caller
		query  string
		code   string
		// owner is the ownerId the answer must carry, when it has one.
		owner string
	}{
		{"anonymous create", property.Anonymous, create, apierr.Unauthenticated, ""},
		{"anonymous update", property.Anonymous, update, apierr.Unauthenticated, ""},
		{"anonymous delete", property.Anonymous, remove, apierr.Unauthenticated, ""},
		{"signed-in create", alice, create, "", "alice"},
		{"signed-in update", alice, update, "", "alice"},
		{"signed-in delete", alice, remove, "", ""},
		{"anonymous read", property.Anonymous, read, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, withRequest(newServer(graph.Options{}, fakeStore{}), tt.caller), tt.query, nil)
			if got := r.code(); got != tt.code {
				t.Fatalf("code = %q, want %q (%s)", got, tt.code, r.raw)
			}
			if tt.code != "" {
				if r.Data != nil {
					t.Errorf("data = %v, want null", r.Data)
				}
				return
			}
			if tt.owner == "" {
				return
			}
			var payload map[string]any
			for _, v := range r.Data {
				payload, _ = v.(map[string]any)
			}
			p, _ := payload["property"].(map[string]any)
			if got := p["ownerId"]; got != tt.owner {
				t.Errorf("ownerId = %v, want %q (%s)", got, tt.owner, r.raw)
			}
		})
	}
}
