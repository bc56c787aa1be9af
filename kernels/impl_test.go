package kernels

import (
	"testing"

	"github.com/nasrun/nasrun/kernels/asm"
	"github.com/stretchr/testify/require"
)

func TestParseImpl(t *testing.T) {
	for i := Ref; i < numImpls; i++ {
		got, err := ParseImpl(i.String())
		require.NoError(t, err)
		require.Equal(t, i, got)
	}
	got, err := ParseImpl(" AVX512 ")
	require.NoError(t, err)
	require.Equal(t, AVX512, got)
	_, err = ParseImpl("sse9")
	require.ErrorContains(t, err, `unknown implementation "sse9"`)
}

func TestAvailable(t *testing.T) {
	a := Available()
	require.Equal(t, Ref, a[0], "the pure-Go reference is always available")
	require.Equal(t, a[len(a)-1], Best())
	if !asm.Compiled {
		require.Equal(t, []Impl{Ref}, a, "a build without assembly offers only the reference")
	}
	for _, i := range a {
		require.True(t, Supported(i))
	}
}

func TestSetImpl(t *testing.T) {
	prev := SetImpl(Ref)
	require.Equal(t, Ref, Active())
	require.Equal(t, Ref, SetImpl(prev))
	require.Equal(t, prev, Active())
	for i := Ref; i < numImpls; i++ {
		if !Supported(i) {
			require.PanicsWithValue(t, "kernels: implementation "+i.String()+" not supported here (available: "+implList()+")",
				func() { SetImpl(i) })
		}
	}
}

func implList() string {
	s := "["
	for k, i := range Available() {
		if k > 0 {
			s += " "
		}
		s += i.String()
	}
	return s + "]"
}
