package nas

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScale(t *testing.T) {
	g, err := RefNet("mbv3-like")
	require.NoError(t, err)
	same, err := g.Scale(1, 1, 1)
	require.NoError(t, err)
	require.Equal(t, g, same)

	s, err := g.Scale(1.2, 1.1, 1.15)
	require.NoError(t, err)
	require.Equal(t, Input{H: 32, W: 32, C: 1}, s.Input)
	require.Equal(t, 16, s.Stem.C)  // MakeDiv(17.6)
	require.Equal(t, 208, s.Head.C) // MakeDiv(211.2)
	require.Equal(t, []int{2, 3, 3, 3, 2}, []int{s.Stages[0].Layers, s.Stages[1].Layers, s.Stages[2].Layers, s.Stages[3].Layers, s.Stages[4].Layers})
	require.Equal(t, []int{18, 26, 44, 88, 106}, []int{s.Stages[0].C, s.Stages[1].C, s.Stages[2].C, s.Stages[3].C, s.Stages[4].C})
	require.Equal(t, "mbv3-like", s.Name)
	require.Equal(t, 3, g.Stages[1].Layers+1, "Scale changed its receiver")
	require.Greater(t, s.Cost().MACs, g.Cost().MACs)

	deep := g.Clone()
	deep.Stages[1].Layers = 10
	d, err := deep.Scale(1.1, 1, 1)
	require.NoError(t, err)
	require.Equal(t, 11, d.Stages[1].Layers) // an exact product is not rounded up
	require.Equal(t, 3, d.Stages[2].Layers)  // ceil(2.2)

	_, err = g.Scale(10, 1, 1)
	require.ErrorContains(t, err, "stages[1].layers: 20 is not in the search space 1..16")
	_, err = g.Scale(0, 1, 1)
	require.ErrorContains(t, err, "positive and finite")
}
