package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is a safetensors element type, spelled as in the header.
type DType string

// The element types this package reads and writes. Every one is converted
// to or from float32 in memory.
const (
	F32  DType = "F32"
	F64  DType = "F64"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	BOOL DType = "BOOL"
)

// dtypes lists the supported types in the order of the spec's table.
var dtypes = []DType{BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64}

// Size is the number of bytes of one element, 0 for an unsupported type.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case I64, U64, F64:
		return 8
	}
	return 0
}

// float reports whether d is a floating-point type.
func (d DType) float() bool { return d == F32 || d == F64 || d == F16 || d == BF16 }

// decode converts the little-endian elements in b (len(dst)·Size bytes) to
// float32. Integers beyond 2^24 round to the nearest float32.
func decode(d DType, dst []float32, b []byte) error {
	le := binary.LittleEndian
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case F16:
		for i := range dst {
			dst[i] = HalfToFloat32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case I64:
		for i := range dst {
			dst[i] = float32(int64(le.Uint64(b[8*i:])))
		}
	case I32:
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(b[4*i:])))
		}
	case I16:
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(b[2*i:])))
		}
	case I8:
		for i := range dst {
			dst[i] = float32(int8(b[i]))
		}
	case U64:
		for i := range dst {
			dst[i] = float32(le.Uint64(b[8*i:]))
		}
	case U32:
		for i := range dst {
			dst[i] = float32(le.Uint32(b[4*i:]))
		}
	case U16:
		for i := range dst {
			dst[i] = float32(le.Uint16(b[2*i:]))
		}
	case U8:
		for i := range dst {
			dst[i] = float32(b[i])
		}
	case BOOL:
		for i := range dst {
			if b[i] > 1 {
				return fmt.Errorf("element %d is byte %d, not a BOOL (0 or 1)", i, b[i])
			}
			dst[i] = float32(b[i])
		}
	default:
		return fmt.Errorf("unsupported dtype %q", string(d))
	}
	return nil
}

// intRange is the range of each integer type, as float64 bounds that every
// value converted must lie within.
func intRange(d DType) (lo, hi float64) {
	switch d {
	case I64:
		return math.MinInt64, math.MaxInt64
	case I32:
		return math.MinInt32, math.MaxInt32
	case I16:
		return math.MinInt16, math.MaxInt16
	case I8:
		return math.MinInt8, math.MaxInt8
	case U64:
		return 0, math.MaxUint64
	case U32:
		return 0, math.MaxUint32
	case U16:
		return 0, math.MaxUint16
	case U8:
		return 0, math.MaxUint8
	case BOOL:
		return 0, 1
	}
	return 0, 0
}

// appendEncoded appends src as little-endian elements of type d. Floats
// round to nearest even; integer types need integral values in range.
func appendEncoded(b []byte, d DType, src []float32) ([]byte, error) {
	le := binary.LittleEndian
	if !d.float() {
		lo, hi := intRange(d)
		for i, v := range src {
			// float64(MaxInt64) rounds up to 2^63: the upper bound is
			// exclusive for the 64-bit types.
			f := float64(v)
			if f != math.Trunc(f) || f < lo || f > hi || ((d == I64 || d == U64) && f == hi) {
				return nil, fmt.Errorf("element %d = %v is not a %s value", i, v, d)
			}
		}
	}
	switch d {
	case F32:
		for _, v := range src {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	case F64:
		for _, v := range src {
			b = le.AppendUint64(b, math.Float64bits(float64(v)))
		}
	case F16:
		for _, v := range src {
			b = le.AppendUint16(b, Float32ToHalf(v))
		}
	case BF16:
		for _, v := range src {
			b = le.AppendUint16(b, Float32ToBFloat16(v))
		}
	case I64:
		for _, v := range src {
			b = le.AppendUint64(b, uint64(int64(v)))
		}
	case I32:
		for _, v := range src {
			b = le.AppendUint32(b, uint32(int32(v)))
		}
	case I16:
		for _, v := range src {
			b = le.AppendUint16(b, uint16(int16(v)))
		}
	case I8:
		for _, v := range src {
			b = append(b, byte(int8(v)))
		}
	case U64:
		for _, v := range src {
			b = le.AppendUint64(b, uint64(v))
		}
	case U32:
		for _, v := range src {
			b = le.AppendUint32(b, uint32(v))
		}
	case U16:
		for _, v := range src {
			b = le.AppendUint16(b, uint16(v))
		}
	case U8, BOOL:
		for _, v := range src {
			b = append(b, byte(v))
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %q", string(d))
	}
	return b, nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32 (exactly;
// NaN payloads are kept).
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: rebias 15 → 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	default: // zero or subnormal: mant·2^-24, exact in float32
		return math.Float32frombits(sign | math.Float32bits(float32(mant)*0x1p-24))
	}
}

// Float32ToHalf converts a float32 to IEEE 754 binary16, rounding to nearest
// even; overflow gives infinity, NaN stays NaN (payload truncated).
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		m := uint16(mant >> 13)
		if m == 0 {
			m = 0x200 // the payload lived in the dropped bits: stay NaN
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal (or zero): the value in units of 2^-24 is
		// (mant | 1<<23) >> (14 - e).
		if e < -10 {
			return sign // below half the smallest subnormal
		}
		m := mant | 0x800000
		shift := uint(14 - e)
		return sign | roundShift(m, shift)
	}
	// Normal: a mantissa carry rolls into the exponent (up to infinity).
	return sign | (uint16(e)<<10 + roundShift(mant, 13))
}

// roundShift is m >> s rounded to nearest even (s ≥ 1).
func roundShift(m uint32, s uint) uint16 {
	q := m >> s
	rem := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return uint16(q)
}

// Float32ToBFloat16 converts a float32 to bfloat16 (its upper 16 bits),
// rounding to nearest even; NaN stays NaN.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		h := uint16(b >> 16)
		if h&0x7f == 0 {
			h |= 0x40 // the payload lived in the dropped bits: stay NaN
		}
		return h
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
