package api_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"
)

// TestContentionLosesNoUpdate has 50 writers each add 1 to the price of one
// property 20 times, the way a client is told to: read, update with
// expectedVersion, and on CONFLICT re-apply the change on top of
// extensions.current (no second read). Optimistic concurrency must neither
// lose an increment nor apply one twice: the price ends exactly 1,000 higher,
// the version at exactly 1,001, and every version from 2 to 1,001 was
// produced by exactly one acknowledged update.
func TestContentionLosesNoUpdate(t *testing.T) {
	const (
		writers    = 50
		increments = 20
		start      = 100000.0
		// maxTries bounds one writer's attempts (successes and conflicts);
		// budget bounds the whole test, so a livelock fails instead of hanging.
		maxTries = 4000
		budget   = 90 * time.Second
	)
	h := newAPI(t, nil)
	id := mustCreate(t, h, createInput("Contested listing", start))
	deadline := time.Now().Add(budget)

	type outcome struct {
		versions  []int // the version each acknowledged update produced
		conflicts int
		err       error
	}
	results := make([]outcome, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := &results[w]
			d := mustData(t, h, propertyQuery, map[string]any{"id": id})
			version, price := int(num(d, "property", "version")), num(d, "property", "price")
			for tries := 0; len(out.versions) < increments; tries++ {
				if tries >= maxTries || time.Now().After(deadline) {
					out.err = fmt.Errorf("writer %d gave up after %d tries (%d of %d increments)", w, tries, len(out.versions), increments)
					return
				}
				r := gql(t, h, updateMutation, map[string]any{"input": map[string]any{
					"id": id, "expectedVersion": version, "price": price + 1,
				}})
				switch r.code() {
				case "":
					p := get(r.Data, "updateProperty", "property")
					got := int(num(p, "version"))
					if got != version+1 || num(p, "price") != price+1 {
						out.err = fmt.Errorf("writer %d: update at version %d gave version %v price %v, want %d and %v",
							w, version, got, num(p, "price"), version+1, price+1)
						return
					}
					out.versions = append(out.versions, got)
					version, price = got, price+1
				case "CONFLICT":
					out.conflicts++
					ext := r.Errors[0].Extensions
					cur, _ := ext["currentVersion"].(float64)
					if int(cur) <= version || num(ext, "current", "version") != cur {
						out.err = fmt.Errorf("writer %d: CONFLICT at version %d reports currentVersion %v, current.version %v",
							w, version, ext["currentVersion"], num(ext, "current", "version"))
						return
					}
					version, price = int(cur), num(ext, "current", "price")
					// A little jitter spreads the herd, as a real client would.
					time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				default:
					out.err = fmt.Errorf("writer %d: unexpected error: %s", w, r.Raw)
					return
				}
			}
		}()
	}
	wg.Wait()

	var all []int
	conflicts := 0
	for _, o := range results {
		if o.err != nil {
			t.Error(o.err)
		}
		all = append(all, o.versions...)
		conflicts += o.conflicts
	}
	if t.Failed() {
		t.FailNow()
	}
	sort.Ints(all)
	if got, want := len(all), writers*increments; got != want {
		t.Fatalf("%d acknowledged updates, want %d", got, want)
	}
	for i, v := range all {
		if v != i+2 {
			t.Fatalf("acknowledged versions are not exactly 2..%d once each: position %d holds %d", writers*increments+1, i, v)
		}
	}
	d := mustData(t, h, propertyQuery, map[string]any{"id": id})
	if got, want := num(d, "property", "price"), start+writers*increments; got != want {
		t.Errorf("final price = %v, want %v", got, want)
	}
	if got, want := num(d, "property", "version"), float64(writers*increments+1); got != want {
		t.Errorf("final version = %v, want %v", got, want)
	}
	t.Logf("%d updates acknowledged after %d conflicts", len(all), conflicts)
}
