// Package atomicfile replaces files atomically: the new content goes to a
// temporary file in the same directory, which is synced and renamed over
// the target, so a crash or kill leaves either the old file or the new one,
// never a torn one. Run logs, settings, weights and lookup tables all use
// it.
package atomicfile

import (
	"bufio"
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically with permissions 0644.
func WriteFile(path string, data []byte) error {
	return WriteWith(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith calls write with a buffered writer to a temporary file beside
// path and, when it succeeds, makes that file path (permissions 0644).
// On any error the temporary file is removed and path is unchanged.
func WriteWith(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable; not every system can sync a
	// directory, and the data is safe either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
