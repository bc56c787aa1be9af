package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestByteLayout checks Marshal's output byte by byte against the spec:
// u64 LE header length, compact JSON header ("__metadata__" first, tensors
// by decreasing element size then name) padded with spaces to a multiple of
// 8, then the data, little-endian.
func TestByteLayout(t *testing.T) {
	got, err := Marshal(map[string]Tensor{
		"b":     {Shape: []int{2}, Data: []float32{1, -2}},
		"a<&>":  {Shape: []int{1, 1}, Data: []float32{0.5}},
		"half":  {Shape: []int{}, Data: []float32{1}, DType: F16},
		"wide":  {Shape: []int{1}, Data: []float32{-1}, DType: F64},
		"count": {Data: []float32{7}, DType: I64},
	}, map[string]string{"z": "last", "format": "pt"})
	require.NoError(t, err)
	header := `{"__metadata__":{"format":"pt","z":"last"},` +
		`"count":{"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
		`"wide":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},` +
		`"a<&>":{"dtype":"F32","shape":[1,1],"data_offsets":[16,20]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[20,28]},` +
		`"half":{"dtype":"F16","shape":[],"data_offsets":[28,30]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	want := []byte{byte(len(header)), byte(len(header) >> 8), 0, 0, 0, 0, 0, 0}
	want = append(want, header...)
	want = append(want,
		7, 0, 0, 0, 0, 0, 0, 0, // I64 7
		0, 0, 0, 0, 0, 0, 0xf0, 0xbf, // F64 -1
		0, 0, 0, 0x3f, // F32 0.5
		0, 0, 0x80, 0x3f, // F32 1
		0, 0, 0, 0xc0, // F32 -2
		0, 0x3c, // F16 1
	)
	require.Equal(t, string(want[:8+len(header)]), string(got[:min(len(got), 8+len(header))]))
	require.Equal(t, want, got)

	// No metadata: no "__metadata__" key at all; no tensors: "{}" padded.
	got, err = Marshal(map[string]Tensor{}, nil)
	require.NoError(t, err)
	require.Equal(t, append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, "{}      "...), got)
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	in := map[string]Tensor{
		"conv.weight":   {Shape: []int{3, 3, 2, 4}, Data: seq(72, 0.37)},
		"bn.bias":       {Shape: []int{4}, Data: []float32{1, -1, float32(math.Inf(1)), float32(math.NaN())}},
		"scalar":        {Shape: nil, Data: []float32{42}},
		"empty":         {Shape: []int{0, 5}, Data: []float32{}},
		"steps":         {Shape: []int{}, Data: []float32{1 << 20}, DType: I64},
		"h":             {Shape: []int{3}, Data: []float32{1, 0.5, -65504}, DType: F16},
		"bh":            {Shape: []int{3}, Data: []float32{1, 0.5, -3}, DType: BF16},
		"d":             {Shape: []int{2}, Data: []float32{1.25, -3}, DType: F64},
		"i":             {Shape: []int{6}, Data: []float32{-3, 0, 3, 100, 1, 0}, DType: I8},
		"u":             {Shape: []int{2}, Data: []float32{255, 0}, DType: U8},
		"m":             {Shape: []int{2}, Data: []float32{1, 0}, DType: BOOL},
		"i32":           {Shape: []int{1}, Data: []float32{-1 << 24}, DType: I32},
		"i16":           {Shape: []int{1}, Data: []float32{-32768}, DType: I16},
		"u16":           {Shape: []int{1}, Data: []float32{65535}, DType: U16},
		"u32":           {Shape: []int{1}, Data: []float32{1 << 24}, DType: U32},
		"u64":           {Shape: []int{1}, Data: []float32{1 << 40}, DType: U64},
		"ünïcode \"名\"": {Shape: []int{1}, Data: []float32{3}},
	}
	meta := map[string]string{"genome": `{"stages":[1,2]}`, "epoch": "3"}
	require.NoError(t, Save(path, in, meta))
	out, gotMeta, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, meta, gotMeta)
	require.Len(t, out, len(in))
	for name, want := range in {
		got := out[name]
		require.Equal(t, cmp.Or(want.DType, F32), got.DType, name)
		require.Equal(t, len(want.Shape), len(got.Shape), name)
		for i := range want.Shape {
			require.Equal(t, want.Shape[i], got.Shape[i], name)
		}
		require.Equal(t, bits(want.Data), bits(got.Data), name)
	}
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	infos, meta2, err := Inspect(path)
	require.NoError(t, err)
	require.Equal(t, meta, meta2)
	require.Equal(t, F16, infos["h"].DType)
	require.Equal(t, int64(6), infos["h"].End-infos["h"].Begin)

	// Overwriting is atomic and leaves no temporary files behind.
	require.NoError(t, Save(path, map[string]Tensor{"x": {Shape: []int{1}, Data: []float32{1}}}, nil))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	out, gotMeta, err = Load(path)
	require.NoError(t, err)
	require.Empty(t, gotMeta)
	require.Equal(t, []float32{1}, out["x"].Data)

	// A failing save leaves the old file intact and no temporary file.
	err = Save(path, map[string]Tensor{"bad": {Shape: []int{2}, Data: []float32{1}}}, nil)
	require.ErrorContains(t, err, `tensor "bad": shape [2] needs 2 elements, data has 1`)
	err = Save(path, map[string]Tensor{"bad": {Shape: []int{1}, Data: []float32{1.5}, DType: I32}}, nil)
	require.ErrorContains(t, err, `tensor "bad": element 0 = 1.5 is not a I32 value`)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	out, _, err = Load(path)
	require.NoError(t, err)
	require.Equal(t, []float32{1}, out["x"].Data)
	// Saving into a missing directory fails cleanly.
	require.Error(t, Save(filepath.Join(dir, "no", "such.safetensors"), in, nil))
}

func TestSaveRejects(t *testing.T) {
	for _, c := range []struct {
		name    string
		tensors map[string]Tensor
		meta    map[string]string
		want    string
	}{
		{"reserved", map[string]Tensor{MetadataKey: {Data: []float32{1}}}, nil, "reserved"},
		{"dtype", map[string]Tensor{"x": {Data: []float32{1}, DType: "F8_E4M3"}}, nil, `unsupported dtype "F8_E4M3"`},
		{"negative", map[string]Tensor{"x": {Shape: []int{-1}}}, nil, "negative dimension"},
		{"utf8 name", map[string]Tensor{"\xff": {Data: []float32{1}}}, nil, "not valid UTF-8"},
		{"utf8 meta", nil, map[string]string{"k": "\xff"}, "not valid UTF-8"},
		{"u8 range", map[string]Tensor{"x": {Shape: []int{1}, Data: []float32{256}, DType: U8}}, nil, "not a U8 value"},
		{"bool", map[string]Tensor{"x": {Shape: []int{1}, Data: []float32{2}, DType: BOOL}}, nil, "not a BOOL value"},
		{"i64 range", map[string]Tensor{"x": {Shape: []int{1}, Data: []float32{0x1p63}, DType: I64}}, nil, "not a I64 value"},
		{"nan int", map[string]Tensor{"x": {Shape: []int{1}, Data: []float32{float32(math.NaN())}, DType: I32}}, nil, "not a I32 value"},
	} {
		_, err := Marshal(c.tensors, c.meta)
		require.ErrorContains(t, err, c.want, c.name)
	}
}

// TestTorchFixture reads a file that PyTorch 1.13 wrote (see
// testdata/make_fixture.py): every dtype decodes to PyTorch's values, this
// package's F16/BF16 rounding matches PyTorch's on awkward cases, and
// writing the loaded tensors back reproduces the file byte for byte.
func TestTorchFixture(t *testing.T) {
	path := filepath.Join("testdata", "torch.safetensors")
	ts, meta, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, "pt", meta["format"])
	src := ts["src"].Data
	require.Len(t, src, 104)
	require.Equal(t, []float32{0, 1, -2.5, 65504}, []float32{src[0], src[2], src[3], src[4]})
	for i, v := range src {
		if v != v {
			// PyTorch's vectorised conversions give NaNs of their own bits
			// (BF16 0xffff); any NaN will do.
			require.True(t, ts["src.f16"].Data[i] != ts["src.f16"].Data[i])
			require.True(t, ts["src.bf16"].Data[i] != ts["src.bf16"].Data[i])
			continue
		}
		require.Equal(t, math.Float32bits(HalfToFloat32(Float32ToHalf(v))), math.Float32bits(ts["src.f16"].Data[i]), "f16 of src[%d] = %v", i, v)
		require.Equal(t, math.Float32bits(math.Float32frombits(uint32(Float32ToBFloat16(v))<<16)), math.Float32bits(ts["src.bf16"].Data[i]), "bf16 of src[%d] = %v", i, v)
		require.Equal(t, v, ts["src.f64"].Data[i])
	}
	require.Equal(t, F16, ts["src.f16"].DType)
	require.Equal(t, []int{4, 3, 3, 3}, ts["conv.weight"].Shape)
	require.Equal(t, Tensor{Shape: []int{}, Data: []float32{12345}, DType: I64}, ts["bn.num_batches_tracked"])
	require.Equal(t, []float32{-7, 0, 2147483647, -2147483648}, ts["ints.i32"].Data)
	require.Equal(t, []float32{-32768, 32767, 5}, ts["ints.i16"].Data)
	require.Equal(t, []float32{-128, 127}, ts["ints.i8"].Data)
	require.Equal(t, []float32{0, 255, 17}, ts["ints.u8"].Data)
	require.Equal(t, []float32{1, 0, 1}, ts["mask"].Data)
	require.Equal(t, []int{0, 3}, ts["empty"].Shape)

	// I32 2^31-1 does not survive float32: write that one back exactly.
	ts["ints.i32"].Data[2] = 2147483520 // nearest float32 below 2^31
	b, err := Marshal(ts, meta)
	require.NoError(t, err)
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	hlen := 8 + int(binary.LittleEndian.Uint64(file))
	require.Equal(t, string(file[:hlen]), string(b[:hlen]), "header")
	off, _, err := Inspect(path)
	require.NoError(t, err)
	data, dataGot := file[hlen:], b[hlen:]
	for name, in := range off {
		if name == "ints.i32" {
			continue
		}
		require.Equal(t, data[in.Begin:in.End], dataGot[in.Begin:in.End], name)
	}
}

// TestHalfConversions checks F16 conversion against the binary16 table on
// every one of the 65536 values, and rounding against float64 arithmetic.
func TestHalfConversions(t *testing.T) {
	for h := range 1 << 16 {
		f := HalfToFloat32(uint16(h))
		exp, mant := h>>10&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0:
			want = float64(mant) * math.Pow(2, -24)
		case exp == 31 && mant == 0:
			want = math.Inf(1)
		case exp == 31:
			want = math.NaN()
		default:
			want = (1 + float64(mant)/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if math.IsNaN(want) {
			require.True(t, f != f, "%#04x", h)
		} else {
			require.Equal(t, float32(want), f, "%#04x", h)
			require.Equal(t, math.Signbit(want), math.Signbit(float64(f)), "%#04x", h)
		}
		// Every binary16 value, NaN payloads included, survives the round
		// trip.
		require.Equal(t, uint16(h), Float32ToHalf(f), "%#04x", h)
	}
	// Rounding: the nearest binary16 value, ties to even mantissa.
	near := func(f float32) uint16 {
		best, bestD := uint16(0), math.Inf(1)
		for h := range 0x7c01 { // finite non-negative values and +Inf
			d := math.Abs(float64(HalfToFloat32(uint16(h))) - math.Abs(float64(f)))
			if d < bestD || (d == bestD && h&1 == 0) {
				best, bestD = uint16(h), d
			}
		}
		if f < 0 {
			best |= 0x8000
		}
		return best
	}
	for _, f := range []float32{1 + 0x1p-11, 1 + 3*0x1p-11, 0x1p-25, 3 * 0x1p-26, 0x1p-26, 65519, 65519.996, 1e-7, -1e-7, 0.1, -33.3, 0x1p-14 - 0x1p-25} {
		require.Equal(t, near(f), Float32ToHalf(f), "%v", f)
	}
	require.Equal(t, uint16(0x7c00), Float32ToHalf(65520), "rounds to +Inf")
	require.Equal(t, uint16(0xfc00), Float32ToHalf(-1e9))
	require.Equal(t, uint16(0x8000), Float32ToHalf(-1e-30))
	require.True(t, Float32ToHalf(float32(math.NaN()))&0x3ff != 0)
	require.Equal(t, uint16(0x7e00), Float32ToHalf(math.Float32frombits(0x7f800001)), "NaN payload below binary16's")

	// BF16: the upper half, rounded to nearest even.
	require.Equal(t, uint16(0x3f80), Float32ToBFloat16(1))
	require.Equal(t, uint16(0x3f80), Float32ToBFloat16(math.Float32frombits(0x3f808000)), "tie to even")
	require.Equal(t, uint16(0x3f82), Float32ToBFloat16(math.Float32frombits(0x3f818000)), "tie to even")
	require.Equal(t, uint16(0x3f81), Float32ToBFloat16(math.Float32frombits(0x3f808001)))
	require.Equal(t, uint16(0x7f80), Float32ToBFloat16(math.MaxFloat32), "overflow to +Inf")
	require.Equal(t, uint16(0x7fc0), Float32ToBFloat16(math.Float32frombits(0x7f800001)))
	require.Equal(t, uint16(0xffc1), Float32ToBFloat16(math.Float32frombits(0xffc10000)))
}

// header builds a file from a raw header string and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestLoadCorrupt(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}}`
	data := make([]byte, 10)
	require.NoError(t, func() error { _, _, err := Unmarshal(file(ok, data)); return err }())
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short for the 8-byte header length"},
		{"short length", []byte{1, 0, 0}, "too short for the 8-byte header length"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 runs past the end of the file (2 bytes"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds the 100000000-byte limit"},
		{"header too short", file("{", nil), "too short for a JSON object"},
		{"not an object", file(`["a"]`, nil), "does not start with '{'"},
		{"not utf8", file("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"syntax", file(`{"a":{"dtype":"F32",,}}`, nil), "JSON syntax error at byte"},
		{"unterminated", file(`{"a":{"dtype":"F32"`, nil), `tensor "a": header JSON ends early`},
		{"trailing garbage", file(`{}{}`, nil), "after the header's JSON object"},
		{"trailing junk", file(`{} x`, nil), "JSON syntax error"},
		{"missing dtype", file(`{"a":{"shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": missing "dtype"`},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": missing "shape"`},
		{"missing offsets", file(`{"a":{"dtype":"F32","shape":[]}}`, make([]byte, 4)), `tensor "a": missing "data_offsets"`},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), `tensor "a": json: unknown field "x"`},
		{"not an entry", file(`{"a":3}`, nil), `tensor "a": json: cannot unmarshal number`},
		{"bad dtype", file(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `tensor "a": unsupported dtype "F8_E4M3"`},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": negative dimension`},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": json: cannot unmarshal number 1.5`},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[65536,65536,65536],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape [65536 65536 65536] holds more than 4 elements`},
		{"offsets count", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, make([]byte, 4)), `tensor "a": data_offsets [0] must be [begin, end]`},
		{"offsets reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), `tensor "a": data_offsets [4, 0] outside`},
		{"offsets past end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)), `tensor "a": data_offsets [0, 8] outside the 4-byte data buffer`},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": shape [2] of F32 needs 8 bytes, data_offsets [0, 4] hold 4`},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "b" at [4, 8] overlaps tensor "a" (ending at 8)`},
		{"same range", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "b" at [0, 4] overlaps tensor "a"`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `4 unused bytes at [0, 4] before tensor "a"`},
		{"trailing data", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 6)), "2 bytes after the last tensor's data"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "a" appears twice`},
		{"meta twice", file(`{"__metadata__":{},"__metadata__":{}}`, nil), "__metadata__ appears twice"},
		{"meta not strings", file(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
		{"meta null", file(`{"__metadata__":null}`, nil), "__metadata__ is null"},
		{"bad bool", file(`{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}), `tensor "a": element 1 is byte 2, not a BOOL`},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Unmarshal(c.file)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, c.want)
			// From a file, the error also names the file.
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			require.NoError(t, os.WriteFile(path, c.file, 0o644))
			_, _, err = Load(path)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, path+": ")
			require.ErrorContains(t, err, c.want)
			if !strings.Contains(c.name, "bool") {
				_, _, err = Inspect(path)
				require.ErrorContains(t, err, path+": ")
				require.ErrorContains(t, err, c.want)
			}
		})
	}
	_, _, err := Load(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// FuzzLoad feeds arbitrary bytes to the loader: it must not panic, and
// whatever it accepts must survive a write and a read unchanged (float
// types bit for bit).
func FuzzLoad(f *testing.F) {
	good, err := Marshal(map[string]Tensor{
		"a": {Shape: []int{2}, Data: []float32{1, 2}},
		"b": {Shape: []int{1}, Data: []float32{3}, DType: F16},
		"c": {Shape: []int{}, Data: []float32{4}, DType: BF16},
	}, map[string]string{"k": "v"})
	require.NoError(f, err)
	f.Add(good)
	if fixture, err := os.ReadFile(filepath.Join("testdata", "torch.safetensors")); err == nil {
		f.Add(fixture)
	}
	f.Add(file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil))
	f.Add(file(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := Unmarshal(b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		for name, tensor := range ts {
			if !tensor.DType.float() {
				delete(ts, name) // ints may not survive float32 exactly
			}
		}
		again, err := Marshal(ts, meta)
		require.NoError(t, err)
		ts2, meta2, err := Unmarshal(again)
		require.NoError(t, err)
		require.Equal(t, meta, meta2)
		require.Len(t, ts2, len(ts))
		for name, tensor := range ts {
			require.Equal(t, tensor.Shape, ts2[name].Shape)
			require.Equal(t, tensor.DType, ts2[name].DType)
			require.Equal(t, bits(tensor.Data), bits(ts2[name].Data))
		}
	})
}

func seq(n int, step float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i)*step - 3
	}
	return s
}

func bits(s []float32) []uint32 {
	b := make([]uint32, len(s))
	for i, v := range s {
		b[i] = math.Float32bits(v)
	}
	return b
}

func TestWriteMatchesMarshal(t *testing.T) {
	ts := map[string]Tensor{"x": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, ts, nil))
	b, err := Marshal(ts, nil)
	require.NoError(t, err)
	require.Equal(t, b, buf.Bytes())
}
