//go:build linux

package latency

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestPinThreadRestoresAffinity(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, pinned, after unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &before))
	cpu, unpin, err := pinThread()
	if err != nil {
		t.Skipf("sched_setaffinity refused here: %v", err)
	}
	require.NoError(t, unix.SchedGetaffinity(0, &pinned))
	require.Equal(t, 1, pinned.Count())
	require.True(t, pinned.IsSet(cpu))
	require.True(t, before.IsSet(cpu), "pinned to a CPU the thread may use")
	unpin()
	require.NoError(t, unix.SchedGetaffinity(0, &after))
	require.Equal(t, before, after)
}
