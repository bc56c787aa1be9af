// Package data reads Fashion-MNIST and MNIST (IDX files, gzip or raw) and
// feeds them to training: normalisation, a seeded train/validation split,
// per-epoch shuffling, light augmentation (random flip, random crop with
// padding), bilinear resizing for resolution scaling, and a batch loader that
// prepares the next batch on a goroutine while the training step runs.
//
// Images are float32 NHWC [N, H, W, 1], labels int in [0, 10).
package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// ErrCorrupt is wrapped by every error about a file that exists but cannot be
// decoded: bad magic, bad header, truncated data, gzip errors, bad labels.
var ErrCorrupt = errors.New("corrupt data file")

// IDX is one decoded IDX file of unsigned bytes: its dimensions (e.g.
// [60000 28 28] for images, [60000] for labels) and the data in row-major
// order, len(Data) = product of Dims.
type IDX struct {
	Dims []int
	Data []byte
}

// idxUbyte is the IDX element-type code of unsigned bytes, the only type
// MNIST-style data sets use.
const idxUbyte = 0x08

// maxIDXBytes bounds the data size a header may declare (2 GiB - 1: far above
// any MNIST-scale file, and still an int on 32-bit targets).
const maxIDXBytes = math.MaxInt32

// corrupt returns an error naming the file and what is wrong with it.
func corrupt(name, format string, args ...any) error {
	return fmt.Errorf("data: %s: %w: %s", name, ErrCorrupt, fmt.Sprintf(format, args...))
}

// ReadIDXFile reads an IDX file, gzip-compressed or raw (told apart by their
// magic bytes, not by the file name).
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	hint := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		hint = st.Size()
	}
	return readIDX(f, path, hint)
}

// ReadIDX decodes an IDX stream, gzip-compressed or raw. name is used in
// error messages only.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, -1)
}

// readIDX decodes an IDX stream; size, when not negative, is the number of
// bytes r holds, and bounds the buffer preallocated for the data.
func readIDX(r io.Reader, name string, size int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	switch {
	case err == io.EOF:
		return nil, corrupt(name, "file too short for a header (%d bytes)", len(magic))
	case err != nil:
		return nil, fmt.Errorf("data: reading %s: %w", name, err)
	}
	var src io.Reader = br
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, corrupt(name, "%s", gzipMessage(err))
		}
		defer zr.Close()
		src = zr
		if size >= 0 {
			// Preallocate at most 8 times the compressed size (MNIST files
			// compress about 2:1); more memory comes only with more data.
			size = min(size*8, maxIDXBytes)
		}
	}
	idx, err := decodeIDX(src, size)
	if err == nil {
		return idx, nil
	}
	var he headerError
	switch {
	case errors.As(err, &he):
		return nil, corrupt(name, "%s", string(he))
	case src != io.Reader(br) && isShort(err):
		return nil, corrupt(name, "gzip: compressed stream truncated")
	case src != io.Reader(br):
		return nil, corrupt(name, "%s", gzipMessage(err))
	default:
		return nil, fmt.Errorf("data: reading %s: %w", name, err)
	}
}

// headerError is a description of an inconsistency in an IDX file.
type headerError string

func (e headerError) Error() string { return string(e) }

func headerErrorf(format string, args ...any) error {
	return headerError(fmt.Sprintf(format, args...))
}

// decodeIDX reads the (uncompressed) IDX header and data from r. size, when
// not negative, is an upper bound on the bytes r can still deliver; memory is
// grown with the data actually read, never from the header's claim alone.
func decodeIDX(r io.Reader, size int64) (*IDX, error) {
	var head [4]byte
	if n, err := readFull(r, head[:]); err != nil {
		if err == io.EOF {
			return nil, headerErrorf("file too short for the 4-byte magic (%d bytes)", n)
		}
		return nil, err
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, headerErrorf("bad magic % x: not an IDX file (want 00 00 08 NDIM) nor gzip (1f 8b)", head[:])
	}
	if head[2] != idxUbyte {
		return nil, headerErrorf("unsupported element type 0x%02x (only unsigned bytes, 0x08)", head[2])
	}
	ndim := int(head[3])
	if ndim == 0 {
		return nil, headerErrorf("header declares 0 dimensions")
	}
	dimBytes := make([]byte, 4*ndim)
	if n, err := readFull(r, dimBytes); err != nil {
		if err == io.EOF {
			return nil, headerErrorf("truncated header: %d dimensions declared, %d of their %d bytes present", ndim, n, len(dimBytes))
		}
		return nil, err
	}
	dims := make([]int, ndim)
	total := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		if d > maxIDXBytes || (d != 0 && total > maxIDXBytes/d) {
			return nil, headerErrorf("header declares dimensions %v: more than %d bytes of data", dimsString(dimBytes), int64(maxIDXBytes))
		}
		dims[i] = int(d)
		total *= d
	}
	want := int(total)
	// Preallocate no more than the stream can hold; grow from real data.
	capHint := want
	if size >= 0 {
		capHint = int(min(int64(want), max(size-int64(4+4*ndim), 0)))
	}
	data := make([]byte, 0, min(capHint, 1<<26)+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		limit := min(cap(data), want+1)
		n, err := r.Read(data[len(data):limit])
		data = data[:len(data)+n]
		if len(data) > want {
			return nil, headerErrorf("trailing data: header declares dimensions %v = %d bytes, file has more", dims, want)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(data) != want {
		return nil, headerErrorf("truncated: header declares dimensions %v = %d bytes of data, file has %d", dims, want, len(data))
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// gzipMessage words a decompression error, prefixed "gzip: " once.
func gzipMessage(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "gzip: ") {
		return msg
	}
	return "gzip: " + msg
}

// readFull is io.ReadFull that keeps the reader's own error: io.EOF means
// the stream ended cleanly before buf was full; io.ErrUnexpectedEOF can then
// only come from a truncated compressed stream.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			if err == io.EOF && n == len(buf) {
				break
			}
			return n, err
		}
	}
	return n, nil
}

// isShort reports whether err means the stream ended early (not an I/O or
// gzip failure).
func isShort(err error) bool {
	return err == io.EOF || err == io.ErrUnexpectedEOF
}

// dimsString formats raw big-endian dimensions for an error message.
func dimsString(b []byte) string {
	s := "["
	for i := 0; i+4 <= len(b); i += 4 {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(binary.BigEndian.Uint32(b[i:]))
	}
	return s + "]"
}

// EncodeIDX writes dims and data as a raw IDX file of unsigned bytes (the
// inverse of ReadIDX, used by tests and tools).
func EncodeIDX(w io.Writer, dims []int, data []byte) error {
	if len(dims) == 0 || len(dims) > 255 {
		return fmt.Errorf("data: IDX needs 1 to 255 dimensions, got %d", len(dims))
	}
	n := 1
	for _, d := range dims {
		if d < 0 || int64(d) > math.MaxUint32 {
			return fmt.Errorf("data: IDX dimension %d out of range", d)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("data: IDX dimensions %v need %d bytes, got %d", dims, n, len(data))
	}
	head := make([]byte, 4+4*len(dims))
	head[2], head[3] = idxUbyte, byte(len(dims))
	for i, d := range dims {
		binary.BigEndian.PutUint32(head[4+4*i:], uint32(d))
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
