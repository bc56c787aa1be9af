package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelpAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(nil, &out, &errb))
	require.Contains(t, out.String(), "info")
	out.Reset()
	require.Equal(t, 2, run([]string{"frobnicate"}, &out, &errb))
	require.Contains(t, errb.String(), `unknown command "frobnicate"`)
}

func TestInfo(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"info"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "kernels:")
	require.Equal(t, 0, run([]string{"info", "-h"}, &out, &errb))
}
