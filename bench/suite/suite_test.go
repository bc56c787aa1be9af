package suite

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSuiteRows(t *testing.T) {
	r, ok := ByID("dw3s2")
	require.True(t, ok)
	require.Equal(t, Row{ID: "dw3s2", Op: "dwconv", N: 1, H: 112, W: 112, C: 96, K: 3, S: 2, P: 1}, r)
	require.Equal(t, 56, r.OutH())
	g, ok := ByID("sgemm-pw")
	require.True(t, ok)
	require.Equal(t, [3]int{3136, 144, 24}, [3]int{g.M, g.KK, g.NN})
	require.Len(t, Op("gap"), 2)
	m, ok := ByID("mbv3-train")
	require.True(t, ok)
	require.Equal(t, Row{ID: "mbv3-train", Op: "model-train", N: 64, Net: "mbv3-like"}, m)
	require.Equal(t, "mbv3-train/net=mbv3-like,n=64", m.Name())
	ids := map[string]bool{}
	for _, r := range All() {
		require.False(t, ids[r.ID], "duplicate id %s", r.ID)
		ids[r.ID] = true
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse("x op=conv k=three")
	require.ErrorContains(t, err, "line 1: k")
	_, err = Parse("x k=3")
	require.ErrorContains(t, err, "no op")
	_, err = Parse("x op=conv bogus=1")
	require.ErrorContains(t, err, `unknown field "bogus"`)
}
