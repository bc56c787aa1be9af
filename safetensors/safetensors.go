// Package safetensors reads and writes the safetensors format, so that
// PyTorch (and anything else that speaks it) can read the weights nasrun
// saves, and the other way round.
//
// A file is: an 8-byte little-endian unsigned header length N; N bytes of
// UTF-8 JSON {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets":
// [BEGIN, END]}, ..., "__metadata__": {"key": "value"}}, padded with spaces;
// then the data buffer, each tensor's elements little-endian, row-major, at
// [BEGIN, END) of the buffer. Tensors tile the buffer exactly: no gaps, no
// overlaps, nothing after the last one.
//
// In memory a tensor is a shape and float32 data, whatever its type on disk;
// the package depends on nothing else of nasrun.
package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nasrun/nasrun/internal/atomicfile"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tensor is one named array: its shape (row-major; empty for a scalar), its
// elements as float32, and the element type used on disk.
type Tensor struct {
	Shape []int
	Data  []float32
	// DType is the type on disk: Load reports the file's, Save converts to
	// it; "" means F32.
	DType DType
}

// Info describes a tensor as the header declares it.
type Info struct {
	DType DType
	Shape []int
	// Begin and End locate the tensor's bytes in the data buffer (after
	// the header).
	Begin, End int64
}

// ErrInvalid is wrapped by every error about malformed safetensors data.
var ErrInvalid = errors.New("invalid safetensors data")

// MetadataKey is the reserved header key of the string-to-string metadata.
const MetadataKey = "__metadata__"

// MaxHeader bounds the JSON header length (the reference implementation's
// limit).
const MaxHeader = 100_000_000

// invalid returns an error naming the source and what is wrong.
func invalid(src, format string, args ...any) error {
	if src != "" {
		src += ": "
	}
	return fmt.Errorf("safetensors: %s%w: %s", src, ErrInvalid, fmt.Sprintf(format, args...))
}

// elements multiplies out a shape, refusing negative dimensions and
// products above limit.
func elements(shape []int, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/int64(d) {
			return 0, fmt.Errorf("shape %v holds more than %d elements", shape, limit)
		}
		n *= int64(d)
	}
	return n, nil
}

// Save writes tensors and metadata (nil for none) to path atomically: a
// temporary file in the same directory is written, synced and renamed over
// path, so a crash leaves either the old file or the new one.
func Save(path string, tensors map[string]Tensor, meta map[string]string) (err error) {
	header, order, err := buildHeader(tensors, meta)
	if err != nil {
		return err
	}
	err = atomicfile.WriteWith(path, func(w *bufio.Writer) error { return writeBody(w, header, order, tensors) })
	if err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	return nil
}

// Write encodes tensors and metadata (nil for none) to w.
func Write(w io.Writer, tensors map[string]Tensor, meta map[string]string) error {
	header, order, err := buildHeader(tensors, meta)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := writeBody(bw, header, order, tensors); err != nil {
		return err
	}
	return bw.Flush()
}

// Marshal encodes tensors and metadata (nil for none).
func Marshal(tensors map[string]Tensor, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, tensors, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// headerTensor is a tensor's header entry, fields in the spec's order.
type headerTensor struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// buildHeader checks the tensors and returns the padded JSON header and the
// order of the data: larger element types first, then by name (as the
// reference writer does, so every tensor is aligned to its element size).
func buildHeader(tensors map[string]Tensor, meta map[string]string) ([]byte, []string, error) {
	order := slices.Collect(maps.Keys(tensors))
	for _, name := range order {
		t := tensors[name]
		if name == MetadataKey {
			return nil, nil, fmt.Errorf("safetensors: %q is reserved for metadata, not a tensor name", name)
		}
		if !utf8.ValidString(name) {
			return nil, nil, fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", name)
		}
		dt := cmp.Or(t.DType, F32)
		if dt.Size() == 0 {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", name, string(dt))
		}
		n, err := elements(t.Shape, math.MaxInt64/8)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		if n != int64(len(t.Data)) {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: shape %v needs %d elements, data has %d", name, t.Shape, n, len(t.Data))
		}
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("safetensors: metadata %q: %q is not valid UTF-8", k, v)
		}
	}
	slices.SortFunc(order, func(a, b string) int {
		sa, sb := cmp.Or(tensors[a].DType, F32).Size(), cmp.Or(tensors[b].DType, F32).Size()
		return cmp.Or(cmp.Compare(sb, sa), strings.Compare(a, b))
	})

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	if len(meta) > 0 {
		if err := enc.Encode(MetadataKey); err != nil {
			return nil, nil, err
		}
		buf.WriteByte(':')
		if err := enc.Encode(meta); err != nil { // keys sorted
			return nil, nil, err
		}
	}
	var offset int64
	for i, name := range order {
		t := tensors[name]
		dt := cmp.Or(t.DType, F32)
		if i > 0 || len(meta) > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(name); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		buf.WriteByte(':')
		size := int64(len(t.Data)) * int64(dt.Size())
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar: [], never null
		}
		if err := enc.Encode(headerTensor{dt, shape, [2]int64{offset, offset + size}}); err != nil {
			return nil, nil, err
		}
		offset += size
	}
	buf.WriteByte('}')
	// Encoder.Encode ends each value with a newline: drop them (names are
	// escaped, so the only raw newlines are those).
	h := bytes.ReplaceAll(buf.Bytes(), []byte{'\n'}, nil)
	// Pad to a multiple of 8 so the buffer starts aligned.
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h, order, nil
}

// writeBody writes the header length, the header and the data.
func writeBody(w *bufio.Writer, header []byte, order []string, tensors map[string]Tensor) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	w.Write(n[:])
	w.Write(header)
	chunk := make([]byte, 0, 1<<16)
	for _, name := range order {
		t := tensors[name]
		dt := cmp.Or(t.DType, F32)
		step := cap(chunk) / dt.Size()
		for lo := 0; lo < len(t.Data); lo += step {
			var err error
			chunk, err = appendEncoded(chunk[:0], dt, t.Data[lo:min(lo+step, len(t.Data))])
			if err != nil {
				return fmt.Errorf("safetensors: tensor %q: %v", name, err)
			}
			if _, err := w.Write(chunk); err != nil {
				return fmt.Errorf("safetensors: %w", err)
			}
		}
	}
	return nil
}

// Load reads and checks a safetensors file, converting every tensor to
// float32.
func Load(path string) (map[string]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return unmarshal(b, path)
}

// Unmarshal decodes and checks safetensors data held in memory.
func Unmarshal(b []byte) (map[string]Tensor, map[string]string, error) {
	return unmarshal(b, "")
}

func unmarshal(b []byte, src string) (map[string]Tensor, map[string]string, error) {
	infos, meta, data, err := parse(b, src)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]Tensor, len(infos))
	for name, in := range infos {
		n := (in.End - in.Begin) / int64(in.DType.Size())
		t := Tensor{Shape: in.Shape, Data: make([]float32, n), DType: in.DType}
		if err := decode(in.DType, t.Data, data[in.Begin:in.End]); err != nil {
			return nil, nil, invalid(src, "tensor %q: %v", name, err)
		}
		out[name] = t
	}
	return out, meta, nil
}

// Inspect reads only the header of a safetensors file: the tensors'
// descriptions and the metadata, all checked as Load checks them.
func Inspect(path string) (map[string]Info, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return nil, nil, invalid(path, "file of %d bytes is too short for the 8-byte header length", st.Size())
	}
	hlen := binary.LittleEndian.Uint64(n[:])
	if err := checkHeaderLen(hlen, st.Size(), path); err != nil {
		return nil, nil, err
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	infos, meta, err := parseHeader(header, st.Size()-8-int64(hlen), path)
	return infos, meta, err
}

// checkHeaderLen checks the declared header length against the file size.
func checkHeaderLen(hlen uint64, fileSize int64, src string) error {
	switch {
	case hlen > MaxHeader:
		return invalid(src, "header length %d exceeds the %d-byte limit", hlen, MaxHeader)
	case hlen > uint64(fileSize-8):
		return invalid(src, "header length %d runs past the end of the file (%d bytes after the length)", hlen, fileSize-8)
	case hlen < 2:
		return invalid(src, "header length %d is too short for a JSON object", hlen)
	}
	return nil
}

// parse splits b into header and data buffer and checks everything.
func parse(b []byte, src string) (map[string]Info, map[string]string, []byte, error) {
	if len(b) < 8 {
		return nil, nil, nil, invalid(src, "file of %d bytes is too short for the 8-byte header length", len(b))
	}
	hlen := binary.LittleEndian.Uint64(b)
	if err := checkHeaderLen(hlen, int64(len(b)), src); err != nil {
		return nil, nil, nil, err
	}
	data := b[8+hlen:]
	infos, meta, err := parseHeader(b[8:8+hlen], int64(len(data)), src)
	return infos, meta, data, err
}

// parseHeader decodes and checks the JSON header against a data buffer of
// dataLen bytes.
func parseHeader(h []byte, dataLen int64, src string) (map[string]Info, map[string]string, error) {
	if h[0] != '{' {
		return nil, nil, invalid(src, "header does not start with '{' (byte %q)", h[0])
	}
	if !utf8.Valid(h) {
		return nil, nil, invalid(src, "header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.DisallowUnknownFields()
	jsonErr := func(what string, err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid(src, "%sJSON syntax error at byte %d of the header: %v", what, se.Offset, err)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return invalid(src, "%sheader JSON ends early", what)
		}
		return invalid(src, "%s%v", what, err)
	}
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return nil, nil, jsonErr("", err)
	}
	infos := map[string]Info{}
	var meta map[string]string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, jsonErr("", err)
		}
		name := tok.(string) // object keys are strings once Token succeeds
		if name == MetadataKey {
			if meta != nil {
				return nil, nil, invalid(src, "%s appears twice", MetadataKey)
			}
			meta = map[string]string{}
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, jsonErr(MetadataKey+" must map strings to strings: ", err)
			}
			if meta == nil { // null
				return nil, nil, invalid(src, "%s is null, not an object", MetadataKey)
			}
			continue
		}
		if _, dup := infos[name]; dup {
			return nil, nil, invalid(src, "tensor %q appears twice", name)
		}
		var raw struct {
			DType       *DType   `json:"dtype"`
			Shape       *[]int   `json:"shape"`
			DataOffsets *[]int64 `json:"data_offsets"`
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, jsonErr(fmt.Sprintf("tensor %q: ", name), err)
		}
		in, err := checkTensor(raw.DType, raw.Shape, raw.DataOffsets, dataLen)
		if err != nil {
			return nil, nil, invalid(src, "tensor %q: %v", name, err)
		}
		infos[name] = in
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, jsonErr("", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, jsonErr("", err)
		}
		return nil, nil, invalid(src, "unexpected %v after the header's JSON object", tok)
	}
	if err := checkLayout(infos, dataLen); err != nil {
		return nil, nil, invalid(src, "%v", err)
	}
	if meta == nil {
		meta = map[string]string{}
	}
	return infos, meta, nil
}

// checkTensor validates one header entry on its own.
func checkTensor(dt *DType, shape *[]int, off *[]int64, dataLen int64) (Info, error) {
	switch {
	case dt == nil:
		return Info{}, errors.New(`missing "dtype"`)
	case shape == nil || *shape == nil:
		return Info{}, errors.New(`missing "shape"`)
	case off == nil || *off == nil:
		return Info{}, errors.New(`missing "data_offsets"`)
	case dt.Size() == 0:
		return Info{}, fmt.Errorf("unsupported dtype %q (supported: %v)", string(*dt), dtypes)
	case len(*off) != 2:
		return Info{}, fmt.Errorf("data_offsets %v must be [begin, end]", *off)
	}
	begin, end := (*off)[0], (*off)[1]
	if begin < 0 || begin > end || end > dataLen {
		return Info{}, fmt.Errorf("data_offsets [%d, %d] outside the %d-byte data buffer", begin, end, dataLen)
	}
	n, err := elements(*shape, dataLen)
	if err != nil {
		return Info{}, err
	}
	if need := n * int64(dt.Size()); need != end-begin {
		return Info{}, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", *shape, *dt, need, begin, end, end-begin)
	}
	return Info{DType: *dt, Shape: *shape, Begin: begin, End: end}, nil
}

// checkLayout checks that the tensors tile the data buffer exactly.
func checkLayout(infos map[string]Info, dataLen int64) error {
	names := slices.Collect(maps.Keys(infos))
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := infos[a], infos[b]
		return cmp.Or(cmp.Compare(ia.Begin, ib.Begin), cmp.Compare(ia.End, ib.End), strings.Compare(a, b))
	})
	var pos int64
	prev := ""
	for _, name := range names {
		in := infos[name]
		switch {
		case in.Begin < pos:
			return fmt.Errorf("tensor %q at [%d, %d] overlaps tensor %q (ending at %d)", name, in.Begin, in.End, prev, pos)
		case in.Begin > pos:
			return fmt.Errorf("%d unused bytes at [%d, %d] before tensor %q", in.Begin-pos, pos, in.Begin, name)
		}
		pos, prev = in.End, name
	}
	if pos != dataLen {
		return fmt.Errorf("%d bytes after the last tensor's data (buffer of %d bytes, tensors end at %d)", dataLen-pos, dataLen, pos)
	}
	return nil
}
