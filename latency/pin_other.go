//go:build !linux

package latency

// pinThread reports that this OS has no thread pinning here (macOS has
// only affinity hints, Windows would need its own call); measurements run
// unpinned.
func pinThread() (cpu int, unpin func(), err error) { return -1, nil, errPinUnsupported }
