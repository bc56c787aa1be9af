package alloctest_test

import (
	"testing"

	"github.com/nasrun/nasrun/internal/alloctest"
	"github.com/stretchr/testify/require"
)

var sink []byte

//go:noinline
func allocate() { sink = make([]byte, 64) }

func TestPerRunCountsOnlyTheGivenPackages(t *testing.T) {
	const self = "github.com/nasrun/nasrun/internal/alloctest_test"
	require.EqualValues(t, 1, alloctest.PerRun(t, 10, allocate, self))
	require.Zero(t, alloctest.PerRun(t, 10, allocate, "github.com/nasrun/nasrun/tensor"))
	require.Zero(t, alloctest.PerRun(t, 10, func() {}, self))
}
