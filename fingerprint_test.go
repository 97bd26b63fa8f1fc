package property_test

import (
	"reflect"
	"testing"
)

// TestFingerprintCoversEveryField changes each field of CreateInput in turn
// (by reflection, so a field added later is covered without a new line
// here) and expects a different fingerprint, except for the client key.
func TestFingerprintCoversEveryField(t *testing.T) {
	base := mustValidCreate(t, validCreate())
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		t.Run(name, func(t *testing.T) {
			in := base
			v := reflect.ValueOf(&in).Elem().Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "!")
			case reflect.Float64:
				v.SetFloat(v.Float() + 1)
			case reflect.Pointer:
				v.Set(reflect.New(v.Type().Elem()))
			case reflect.Slice:
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			default:
				t.Fatalf("no change for a %s field: teach this test one", v.Kind())
			}
			changed := in.Fingerprint() != base.Fingerprint()
			if want := name != "ClientMutationID"; changed != want {
				t.Errorf("fingerprint changed = %v with %s changed, want %v", changed, name, want)
			}
		})
	}
}
