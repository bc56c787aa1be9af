package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A fake engine speaking the --serve protocol: an info line, then one JSON
// line per "ID THREADS" request; it exits at row "quit".
const fakeEngine = `echo '{"info": {"v": 1}}'
while read id t; do
	[ "$id" = quit ] && exit 0
	echo "{\"row\": \"$id\", \"impl\": \"fake\", \"threads\": $t, \"ms\": 1.5, \"kernels\": \"avx2\"}"
done`

func TestEngineProtocol(t *testing.T) {
	e, err := startEngine("fake", nil, "sh", "-c", fakeEngine)
	require.NoError(t, err)
	defer e.close()
	r, err := e.query("dw3s1", 2)
	require.NoError(t, err)
	require.Equal(t, result{Row: "dw3s1", Impl: "fake", Threads: 2, Ms: 1.5, Kernels: "avx2"}, r)
	require.JSONEq(t, `{"v": 1}`, string(e.info))
	require.Equal(t, "avx2", e.kernels)
	e.waitIdle(50 * time.Millisecond)
	_, err = e.query("quit", 1)
	require.ErrorContains(t, err, "fake exited")
}
