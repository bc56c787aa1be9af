package cost

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/bench/suite"
)

func row(t *testing.T, id string) suite.Row {
	r, ok := suite.ByID(id)
	require.True(t, ok, id)
	return r
}

func TestCost(t *testing.T) {
	g := row(t, "sgemm")
	require.Equal(t, 2.0*512*512*512, Flops(g))
	require.Equal(t, 4.0*3*512*512, Bytes(g))
	dw := row(t, "dw3s2") // 112² → 56², 96 channels, 3×3
	require.Equal(t, 2.0*56*56*96*9, Flops(dw))
	require.Equal(t, 4.0*(112*112*96+9*96+56*56*96), Bytes(dw))
	require.Equal(t, 3*Flops(row(t, "dw3s1")), Flops(suite.Row{Op: "train-dw", N: 1, H: 56, W: 56, C: 144, K: 3, S: 1, P: 1}))
	require.Equal(t, 8.0*4194304, Bytes(row(t, "hswish-4m")))
	require.Zero(t, Flops(row(t, "maxpool")))
	for _, r := range suite.All() {
		if r.Net == "" { // model rows have no cost here
			require.Positive(t, Bytes(r), r.ID)
		}
	}
}
