// Package service is the one room for images above the store: it signs
// their URLs and orchestrates the work that spans the table and the image
// bucket (a delete that removes a property's images, the removal of one
// image's object). The store talks to DynamoDB only and the bucket to S3
// only; both sit behind the interfaces declared here. Everything else
// passes through to the store.
package service

import (
	"context"
	"fmt"

	property "github.com/propertyhq/property"
)

// Store is what the service needs from the table.
type Store interface {
	Get(ctx context.Context, id string) (*property.Property, error)
	List(ctx context.Context, q property.ListQuery) (*property.Page, error)
	ListReads(q property.ListQuery) int
	Create(ctx context.Context, caller property.Caller, in property.CreateInput) (*property.Property, error)
	Update(ctx context.Context, caller property.Caller, in property.UpdateInput) (*property.Property, error)
	AddImages(ctx context.Context, caller property.Caller, in property.AddImagesInput) (*property.Property, []property.Image, error)
	// RemoveImage forgets one image; the service then deletes its object.
	RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error)
	// Delete deletes a property in one write (no images to remove); it
	// reports 0 objects.
	Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (int, error)
	// MarkDeleting hides the property (it reads as absent and leaves the
	// listings) under the delete's condition; a marked property may be
	// marked again.
	MarkDeleting(ctx context.Context, caller property.Caller, in property.DeleteInput) error
	// DeleteMarked deletes a marked property.
	DeleteMarked(ctx context.Context, caller property.Caller, in property.DeleteInput) error
}

// Images is what the service needs from the image bucket: signing, which
// it offers the resolvers, and deletion, which it orchestrates.
type Images interface {
	SignUpload(ctx context.Context, img property.Image) (property.Upload, error)
	URL(ctx context.Context, key string) (string, error)
	// DeleteAll removes every object under prefix and says how many.
	DeleteAll(ctx context.Context, prefix string) (int, error)
	// Delete removes one object.
	Delete(ctx context.Context, key string) error
}

// Service is the store with the image objects kept in step.
type Service struct {
	Store
	objects Images
}

// New returns a Service on store; objects is nil when images are not
// configured, and then a delete is the store's single write.
func New(store Store, objects Images) *Service {
	return &Service{Store: store, objects: objects}
}

// SignUpload signs the upload of a new image; images must be configured.
func (s *Service) SignUpload(ctx context.Context, img property.Image) (property.Upload, error) {
	return s.objects.SignUpload(ctx, img)
}

// URL signs the download of an image; images must be configured.
func (s *Service) URL(ctx context.Context, key string) (string, error) {
	return s.objects.URL(ctx, key)
}

// Delete removes a property, at in.ExpectedVersion when given, with all of
// its image objects, and says how many objects it removed.
//
// With images the order is: mark the item as deleting (it reads as absent
// and leaves the listings), delete every object under its prefix, then
// delete the item. A failure in the middle leaves a marked item and some
// objects, never an item pointing at deleted images; repeating the delete
// finishes the job.
func (s *Service) Delete(ctx context.Context, caller property.Caller, in property.DeleteInput) (int, error) {
	if s.objects == nil {
		return s.Store.Delete(ctx, caller, in)
	}
	if err := s.Store.MarkDeleting(ctx, caller, in); err != nil {
		return 0, err
	}
	n, err := s.objects.DeleteAll(ctx, property.ImagePrefix(in.ID))
	if err != nil {
		return 0, fmt.Errorf("delete images of %s: %w", in.ID, err)
	}
	if err := s.Store.DeleteMarked(ctx, caller, in); err != nil {
		return n, err
	}
	return n, nil
}

// RemoveImage forgets one image, then deletes its object. The write comes
// first, so the item never points at a deleted object; an object left behind
// by a failed delete is removed with the property (or by make sweep).
func (s *Service) RemoveImage(ctx context.Context, caller property.Caller, in property.RemoveImageInput) (*property.Property, error) {
	p, err := s.Store.RemoveImage(ctx, caller, in)
	if err != nil {
		return nil, err
	}
	if s.objects != nil {
		if err := s.objects.Delete(ctx, in.Key); err != nil {
			return nil, fmt.Errorf("remove image %s: %w", in.Key, err)
		}
	}
	return p, nil
}
