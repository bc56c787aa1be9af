package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxBytes builds a raw IDX file of unsigned bytes by hand (independent of
// EncodeIDX): 00 00 08 ndim, big-endian dims, data.
func idxBytes(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestReadIDXRawAndGzip(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 2*3*5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	raw := idxBytes([]uint32{2, 3, 5}, data)
	writeFile(t, filepath.Join(dir, "raw"), raw)
	// A gzip file without .gz in its name: the magic decides.
	writeFile(t, filepath.Join(dir, "packed"), gzipBytes(t, raw))
	for _, name := range []string{"raw", "packed"} {
		idx, err := ReadIDXFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Equal(t, []int{2, 3, 5}, idx.Dims, name)
		require.Equal(t, data, idx.Data, name)
	}
	// EncodeIDX writes the same bytes as the hand-built file.
	var buf bytes.Buffer
	require.NoError(t, EncodeIDX(&buf, []int{2, 3, 5}, data))
	require.Equal(t, raw, buf.Bytes())
	require.Error(t, EncodeIDX(&buf, []int{2, 3}, data))
	require.Error(t, EncodeIDX(&buf, nil, nil))

	// Zero-length dimensions are legal and hold no data.
	idx, err := ReadIDX(bytes.NewReader(idxBytes([]uint32{0, 28, 28}, nil)), "empty")
	require.NoError(t, err)
	require.Equal(t, []int{0, 28, 28}, idx.Dims)
	require.Empty(t, idx.Data)
}

func TestReadIDXCorrupt(t *testing.T) {
	good := idxBytes([]uint32{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	packed := gzipBytes(t, good)
	badCRC := bytes.Clone(packed)
	badCRC[len(badCRC)-8] ^= 0xff // CRC-32 in the gzip trailer
	badDeflate := bytes.Clone(packed)
	badDeflate[10] = 0xff // first deflate block header: reserved block type
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"one byte", []byte{0}, "too short"},
		{"bad magic", []byte("PK\x03\x04 not idx"), "bad magic"},
		{"bad type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 0}, "unsupported element type 0x0d"},
		{"zero dims", []byte{0, 0, 8, 0}, "0 dimensions"},
		{"short header", []byte{0, 0, 8, 3, 0, 0, 0, 2, 0}, "truncated header"},
		{"truncated data", good[:len(good)-1], "truncated: header declares dimensions [2 2 2] = 8 bytes of data, file has 7"},
		{"trailing data", append(bytes.Clone(good), 9), "trailing data"},
		{"huge header", idxBytes([]uint32{0xffffffff, 0xffffffff, 0xffffffff}, []byte{1}), "more than"},
		{"big claim small data", idxBytes([]uint32{60000, 28, 28}, []byte{1, 2, 3}), "47040000 bytes of data, file has 3"},
		{"gzip truncated", packed[:len(packed)-12], "gzip: compressed stream truncated"},
		{"gzip bad checksum", badCRC, "gzip: invalid checksum"},
		{"gzip trailing garbage", append(bytes.Clone(packed), "junk after the gzip member"...), "gzip: invalid header"},
		{"gzip bad header", packed[:5], "gzip:"},
		{"gzip corrupt deflate", badDeflate, "gzip: flate: corrupt input"},
		{"gzip of garbage", gzipBytes(t, []byte("hello world")), "bad magic"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			writeFile(t, path, c.file)
			_, err := ReadIDXFile(path)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), path, "the error names the file")
			require.Contains(t, err.Error(), c.want)
		})
	}
}

func TestReadIDXMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadIDXFile(filepath.Join(dir, "nope"))
	require.Error(t, err)
	require.True(t, errors.Is(err, os.ErrNotExist))
	// A directory is an I/O error, not a corrupt file.
	_, err = ReadIDXFile(dir)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), dir)
}

// FuzzIDX feeds hostile bytes, raw and gzip-wrapped, to the reader: it must
// not panic, must not allocate much more than the input justifies, and what
// it accepts must be consistent.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}), false)
	f.Add(idxBytes([]uint32{3}, []byte{0, 9, 3}), true)
	f.Add(idxBytes([]uint32{60000, 28, 28}, []byte{1}), false)
	f.Add(idxBytes([]uint32{0xffffffff, 2}, nil), true)
	f.Add([]byte{0, 0, 8, 255}, false)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, wrap bool) {
		in := b
		if wrap {
			in = gzipBytes(t, b)
		}
		idx, err := readIDX(bytes.NewReader(in), "fuzz", int64(len(in)))
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		require.Equal(t, n, len(idx.Data))
		require.LessOrEqual(t, cap(idx.Data), 2*len(idx.Data)+8*len(in)+64)
		var buf bytes.Buffer
		require.NoError(t, EncodeIDX(&buf, idx.Dims, idx.Data))
		if !wrap && b[0] == 0 {
			require.Equal(t, b, buf.Bytes())
		}
	})
}
