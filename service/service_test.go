package service_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	property "github.com/propertyhq/property"
	"github.com/propertyhq/property/service"
)

// fakeStore records the calls the service makes; the embedded nil Store
// panics on any other.
type fakeStore struct {
	service.Store
	calls  []string
	fail   string // the call that fails
	marked bool
}

func (s *fakeStore) call(name string) error {
	s.calls = append(s.calls, name)
	if s.fail == name {
		return property.Errorf(property.EFORBIDDEN, "no")
	}
	return nil
}

func (s *fakeStore) Delete(context.Context, property.Caller, property.DeleteInput) (int, error) {
	return 0, s.call("Delete")
}

func (s *fakeStore) MarkDeleting(context.Context, property.Caller, property.DeleteInput) error {
	err := s.call("MarkDeleting")
	s.marked = s.marked || err == nil
	return err
}

func (s *fakeStore) DeleteMarked(context.Context, property.Caller, property.DeleteInput) error {
	return s.call("DeleteMarked")
}

func (s *fakeStore) RemoveImage(_ context.Context, _ property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	return &property.Property{ID: in.ID}, s.call("RemoveImage")
}

type fakeObjects struct {
	calls *[]string
	fail  bool
}

func (o fakeObjects) DeleteAll(_ context.Context, prefix string) (int, error) {
	*o.calls = append(*o.calls, "DeleteAll "+prefix)
	if o.fail {
		return 0, errors.New("bucket down")
	}
	return 2, nil
}

func (o fakeObjects) SignUpload(_ context.Context, img property.Image) (property.Upload, error) {
	*o.calls = append(*o.calls, "SignUpload "+img.Key)
	return property.Upload{Key: img.Key, URL: "mem:///" + img.Key}, nil
}

func (o fakeObjects) URL(_ context.Context, key string) (string, error) {
	*o.calls = append(*o.calls, "URL "+key)
	return "mem:///" + key, nil
}

func (o fakeObjects) Delete(_ context.Context, key string) error {
	*o.calls = append(*o.calls, "Delete "+key)
	if o.fail {
		return errors.New("bucket down")
	}
	return nil
}

const id = "00000000-0000-4000-8000-000000000001"

func TestDelete(t *testing.T) {
	ctx := context.Background()
	in := property.DeleteInput{ID: id}
	prefix := "DeleteAll " + property.ImagePrefix(id)
	tests := []struct {
		name       string
		objects    bool
		failStore  string
		failBucket bool
		wantN      int
		wantErr    bool
		want       []string
	}{
		{"without a bucket: one write", false, "", false, 0, false, []string{"Delete"}},
		{"with a bucket: mark, objects, item", true, "", false, 2, false, []string{"MarkDeleting", prefix, "DeleteMarked"}},
		{"refused mark touches no object", true, "MarkDeleting", false, 0, true, []string{"MarkDeleting"}},
		{"bucket failure leaves the mark", true, "", true, 0, true, []string{"MarkDeleting", prefix}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{fail: tt.failStore}
			var objects service.Images
			if tt.objects {
				objects = fakeObjects{calls: &st.calls, fail: tt.failBucket}
			}
			n, err := service.New(st, objects).Delete(ctx, property.Anonymous, in)
			if n != tt.wantN || (err != nil) != tt.wantErr {
				t.Errorf("Delete = %d, %v; want %d, error %v", n, err, tt.wantN, tt.wantErr)
			}
			if !slices.Equal(st.calls, tt.want) {
				t.Errorf("calls = %q, want %q", st.calls, tt.want)
			}
		})
	}
	t.Run("repeating a delete that failed half-way finishes it", func(t *testing.T) {
		st := &fakeStore{}
		svc := service.New(st, fakeObjects{calls: &st.calls, fail: true})
		if _, err := svc.Delete(ctx, property.Anonymous, in); err == nil {
			t.Fatal("first delete succeeded with the bucket down")
		}
		st.calls = nil
		svc = service.New(st, fakeObjects{calls: &st.calls})
		if n, err := svc.Delete(ctx, property.Anonymous, in); err != nil || n != 2 || !st.marked {
			t.Errorf("repeat = %d, %v", n, err)
		}
		if want := []string{"MarkDeleting", prefix, "DeleteMarked"}; !slices.Equal(st.calls, want) {
			t.Errorf("calls = %q, want %q", st.calls, want)
		}
	})
}

func TestRemoveImage(t *testing.T) {
	ctx := context.Background()
	key := property.ImagePrefix(id) + "00000000-0000-4000-8000-0000000000aa"
	in := property.RemoveImageInput{ID: id, Key: key}
	tests := []struct {
		name       string
		failStore  bool
		failBucket bool
		wantErr    bool
		want       []string
	}{
		{"write, then object", false, false, false, []string{"RemoveImage", "Delete " + key}},
		{"refused write keeps the object", true, false, true, []string{"RemoveImage"}},
		{"object failure is an error", false, true, true, []string{"RemoveImage", "Delete " + key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{}
			if tt.failStore {
				st.fail = "RemoveImage"
			}
			_, err := service.New(st, fakeObjects{calls: &st.calls, fail: tt.failBucket}).RemoveImage(ctx, property.Anonymous, in)
			if (err != nil) != tt.wantErr {
				t.Errorf("RemoveImage error = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(st.calls, tt.want) {
				t.Errorf("calls = %q, want %q", st.calls, tt.want)
			}
		})
	}
}

// TestSigning passes signing through to the bucket: one room for images.
func TestSigning(t *testing.T) {
	ctx := context.Background()
	var calls []string
	svc := service.New(&fakeStore{}, fakeObjects{calls: &calls})
	key := property.ImagePrefix(id) + "00000000-0000-4000-8000-0000000000bb"
	if u, err := svc.URL(ctx, key); err != nil || u != "mem:///"+key {
		t.Errorf("URL = %q, %v", u, err)
	}
	if up, err := svc.SignUpload(ctx, property.Image{Key: key}); err != nil || up.Key != key {
		t.Errorf("SignUpload = %+v, %v", up, err)
	}
	if want := []string{"URL " + key, "SignUpload " + key}; !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}
