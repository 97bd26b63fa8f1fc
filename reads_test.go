package property_test

import (
	"context"
	"sync"
	"testing"

	property "github.com/propertyhq/property"
)

func TestReads(t *testing.T) {
	if property.ReadsFrom(context.Background()) != nil {
		t.Fatal("a read count outside a request")
	}
	r := property.ReadsFrom(property.WithReads(context.Background()))
	steps := []struct {
		name              string
		limit, want, take int
		release           int
	}{
		{"within", 10, 4, 4, 0},
		{"up to the limit", 10, 10, 6, 0},
		{"spent", 10, 1, 0, 0},
		{"after giving back", 10, 5, 3, 3},
	}
	for _, s := range steps {
		r.Release(s.release)
		if got := r.Reserve(s.limit, s.want); got != s.take {
			t.Errorf("%s: Reserve(%d, %d) = %d, want %d", s.name, s.limit, s.want, got, s.take)
		}
	}
	if got, want := r.Count(), 10; got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
}

func TestReadsConcurrent(t *testing.T) {
	r := property.ReadsFrom(property.WithReads(context.Background()))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := r.Reserve(100, 7)
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 100 {
		t.Errorf("50 fields reserved %d reads in all, want the limit, 100", total)
	}
}
