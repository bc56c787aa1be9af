package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreate(t *testing.T) {
	z := Zeros(2, 3)
	require.Equal(t, []int{2, 3}, z.Shape)
	require.Len(t, z.Data, 6)

	_, err := New(make([]float32, 5), 2, 3)
	require.EqualError(t, err, "tensor.New: shape [2 3] needs 6 elements, data has 5")

	src := []float32{1, 2, 3, 4}
	a := MustNew(src, 2, 2)
	a.Data[0] = 9
	require.Equal(t, float32(9), src[0], "New shares data")
	b, err := FromSlice(src, 4)
	require.NoError(t, err)
	b.Data[1] = 7
	require.Equal(t, float32(2), src[1], "FromSlice copies")
	require.Equal(t, 2, a.Dim(-1))
}

func TestRandomInit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := RandNormal(r, 1, 2, 100, 100)
	m := float64(Mean(n))
	require.InDelta(t, 1, m, 0.05)
	var v float64
	for _, x := range n.Data {
		v += (float64(x) - m) * (float64(x) - m)
	}
	require.InDelta(t, 4, v/float64(n.Len()), 0.15)

	u := RandUniform(r, -1, 3, 1000)
	for _, x := range u.Data {
		require.True(t, x >= -1 && x < 3)
	}
	h := He(r, 50, 50, 400)
	require.InDelta(t, math.Sqrt(2.0/50), math.Sqrt(SumSquares(h)/float64(h.Len())), 0.01)
	g := Xavier(r, 30, 70, 30, 70)
	lim := float32(math.Sqrt(6.0 / 100))
	for _, x := range g.Data {
		require.True(t, x >= -lim && x <= lim)
	}
	// Seeded: the same seed gives the same tensor.
	a := RandNormal(rand.New(rand.NewPCG(5, 5)), 0, 1, 7)
	b := RandNormal(rand.New(rand.NewPCG(5, 5)), 0, 1, 7)
	require.Equal(t, a.Data, b.Data)
}

func TestReshapeCloneCopy(t *testing.T) {
	a := MustNew([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	v, err := a.Reshape(3, -1)
	require.NoError(t, err)
	require.Equal(t, []int{3, 2}, v.Shape)
	v.Data[5] = 60
	require.Equal(t, float32(60), a.Data[5], "reshape is a view")

	_, err = a.Reshape(4, 2)
	require.EqualError(t, err, "tensor.Reshape: cannot reshape [2 3] (6 elements) to [4 2] (8 elements)")
	_, err = a.Reshape(4, -1)
	require.EqualError(t, err, "tensor.Reshape: cannot reshape [2 3] (6 elements) to [4 -1]")

	c := a.Clone()
	c.Data[0] = -1
	require.Equal(t, float32(1), a.Data[0])
	require.NoError(t, c.CopyFrom(a))
	require.Equal(t, a.Data, c.Data)
	require.EqualError(t, c.CopyFrom(v), "tensor.CopyFrom: shapes [2 3] and [3 2] differ")
	c.Fill(2)
	require.Equal(t, float32(12), Sum(c))
	c.Zero()
	require.Equal(t, float32(0), Sum(c))
}

func TestElementwise(t *testing.T) {
	a := MustNew([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := MustNew([]float32{6, 5, 4, 3, 2, 1}, 2, 3)
	d := Zeros(2, 3)
	require.NoError(t, Add(d, a, b))
	require.Equal(t, []float32{7, 7, 7, 7, 7, 7}, d.Data)
	require.NoError(t, Sub(d, a, b))
	require.Equal(t, []float32{-5, -3, -1, 1, 3, 5}, d.Data)
	require.NoError(t, Mul(d, a, b))
	require.Equal(t, []float32{6, 10, 12, 12, 10, 6}, d.Data)
	require.NoError(t, Scale(d, a, 2))
	require.Equal(t, []float32{2, 4, 6, 8, 10, 12}, d.Data)
	require.NoError(t, AddScalar(d, a, 1))
	require.Equal(t, []float32{2, 3, 4, 5, 6, 7}, d.Data)
	require.NoError(t, Axpy(-1, a, d))
	require.Equal(t, []float32{1, 1, 1, 1, 1, 1}, d.Data)
	require.NoError(t, Apply(d, a, func(x float32) float32 { return x * x }))
	require.Equal(t, []float32{1, 4, 9, 16, 25, 36}, d.Data)
	require.NoError(t, Add(a, a, b), "dst may alias an input")
	require.Equal(t, []float32{7, 7, 7, 7, 7, 7}, a.Data)

	bad := Zeros(3, 2)
	require.EqualError(t, Add(d, a, bad), "tensor.Add: shapes [2 3] and [3 2] differ")
	require.EqualError(t, Mul(bad, a, b), "tensor.Mul: shapes [3 2] and [2 3] differ")
	require.EqualError(t, Scale(bad, a, 1), "tensor.Scale: shapes [3 2] and [2 3] differ")
}

func TestReductions(t *testing.T) {
	a := MustNew([]float32{1, 5, 3, 9, 2, 9}, 2, 3)
	require.Equal(t, float32(29), Sum(a))
	require.InDelta(t, 29.0/6, Mean(a), 1e-6)
	m := Zeros(2)
	require.NoError(t, Max(m, a))
	require.Equal(t, []float32{5, 9}, m.Data)
	idx, err := ArgMax(nil, a)
	require.NoError(t, err)
	require.Equal(t, []int{1, 0}, idx, "first index on ties")
	hits, err := CountCorrect(a, []int{1, 2})
	require.NoError(t, err)
	require.Equal(t, 1, hits)
	require.EqualError(t, Max(Zeros(3), a), "tensor.Max: destination [3] cannot hold the 2 rows of [2 3]")
	_, err = CountCorrect(a, []int{1})
	require.EqualError(t, err, "tensor.CountCorrect: 1 labels for logits [2 3]")
}
