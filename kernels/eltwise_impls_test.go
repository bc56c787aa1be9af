package kernels

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEltImplsComplete: every implementation's primitive table sets every
// primitive (only the activation arrays may hold nils, which fall back to
// the Go reference). It runs on every target, so a primitive added for one
// ISA without the others (NEON included) fails here, not only under qemu.
func TestEltImplsComplete(t *testing.T) {
	for i, k := range eltImpls {
		if k == nil {
			continue
		}
		v := reflect.ValueOf(k).Elem()
		for f := range v.NumField() {
			if fv := v.Field(f); fv.Kind() == reflect.Func {
				require.False(t, fv.IsNil(), "%s: %s is nil", Impl(i), v.Type().Field(f).Name)
			}
		}
	}
}
