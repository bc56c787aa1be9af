package nas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// FieldError is a parse or validation error at one field of a genome.
type FieldError struct {
	Path string // e.g. "stages[2].k"; "" for the whole document
	Msg  string // e.g. "7 is not in the search space {3, 5}"
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Parse decodes a genome strictly and validates it (see [Genome.Validate]).
// Unknown fields, missing fields (only "name" is optional), values of the
// wrong JSON type, duplicate keys and trailing data are errors, each a
// [*FieldError] naming the field.
func Parse(data []byte) (Genome, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Genome{}, &FieldError{"", "not a JSON document: " + err.Error()}
	}
	var d decoder
	g := d.genome(raw)
	if d.err != nil {
		return Genome{}, d.err
	}
	if err := g.Validate(); err != nil {
		return Genome{}, err
	}
	// Canonical floats: -0 (equal to 0, encoded "-0") becomes 0.
	for i := range g.Stages {
		g.Stages[i].Width += 0
		g.Stages[i].SE += 0
	}
	g.Head.Dropout += 0
	return g, nil
}

// decoder walks a JSON tree with field paths; the first error sticks and
// turns every later call into a no-op.
type decoder struct{ err *FieldError }

// object is one decoded JSON object and its path.
type object struct {
	path   string
	fields map[string]json.RawMessage
}

func (d *decoder) fail(path, format string, args ...any) {
	if d.err == nil {
		d.err = &FieldError{path, fmt.Sprintf(format, args...)}
	}
}

func (d *decoder) genome(raw json.RawMessage) Genome {
	o := d.object("", raw, "version", "name", "input", "classes", "stem", "stages", "head")
	g := Genome{Version: d.int(o, "version")}
	if d.err == nil && g.Version != Version {
		d.fail("version", "%d is not supported (this build reads version %d)", g.Version, Version)
	}
	if _, ok := o.fields["name"]; ok {
		g.Name = d.string(o, "name")
	}
	in := d.object(join(o.path, "input"), d.field(o, "input"), "h", "w", "c")
	g.Input = Input{H: d.int(in, "h"), W: d.int(in, "w"), C: d.int(in, "c")}
	g.Classes = d.int(o, "classes")
	st := d.object(join(o.path, "stem"), d.field(o, "stem"), "c", "k", "stride", "act")
	g.Stem = Stem{C: d.int(st, "c"), K: d.int(st, "k"), Stride: d.int(st, "stride"), Act: Act(d.string(st, "act"))}
	for i, raw := range d.array(o, "stages") {
		s := d.object(fmt.Sprintf("%s[%d]", join(o.path, "stages"), i), raw, "block", "k", "expand", "c", "width", "layers", "stride", "se", "act")
		g.Stages = append(g.Stages, Stage{
			Block: Block(d.string(s, "block")), K: d.int(s, "k"), Expand: d.int(s, "expand"),
			C: d.int(s, "c"), Width: d.float(s, "width"), Layers: d.int(s, "layers"),
			Stride: d.int(s, "stride"), SE: d.float(s, "se"), Act: Act(d.string(s, "act")),
		})
	}
	h := d.object(join(o.path, "head"), d.field(o, "head"), "c", "act", "dropout")
	g.Head = Head{C: d.int(h, "c"), Act: Act(d.string(h, "act")), Dropout: d.float(h, "dropout")}
	return g
}

// object decodes raw as an object with exactly the known keys (any may be
// missing here; the accessors report missing ones in canonical order).
func (d *decoder) object(path string, raw json.RawMessage, known ...string) object {
	o := object{path: path}
	if d.err != nil {
		return o
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		d.fail(path, "want an object, got %s", snippet(raw))
		return o
	}
	if key, dup := duplicateKey(raw); dup {
		d.fail(join(path, key), "duplicate field")
		return o
	}
	if err := json.Unmarshal(raw, &o.fields); err != nil {
		d.fail(path, "%v", err)
		return o
	}
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			d.fail(join(path, k), "unknown field (want one of %s)", strings.Join(known, ", "))
			return o
		}
	}
	return o
}

// duplicateKey reports the first key that occurs twice at the top level of
// the object raw (encoding/json silently keeps the last one).
func duplicateKey(raw json.RawMessage) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := tok.(string)
		if seen[key] {
			return key, true
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

// field returns the raw value of a required field.
func (d *decoder) field(o object, name string) json.RawMessage {
	if d.err != nil {
		return nil
	}
	v, ok := o.fields[name]
	if !ok {
		d.fail(join(o.path, name), "missing")
	}
	return v
}

// scalar decodes a required field into dst, naming the wanted JSON type.
func (d *decoder) scalar(o object, name, want string, dst any) {
	raw := d.field(o, name)
	if d.err != nil {
		return
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, dst) != nil {
		d.fail(join(o.path, name), "want %s, got %s", want, snippet(raw))
	}
}

func (d *decoder) int(o object, name string) int {
	var v int
	d.scalar(o, name, "an integer", &v)
	return v
}

func (d *decoder) float(o object, name string) float64 {
	var v float64
	d.scalar(o, name, "a number", &v)
	return v
}

func (d *decoder) string(o object, name string) string {
	var v string
	d.scalar(o, name, "a string", &v)
	return v
}

func (d *decoder) array(o object, name string) []json.RawMessage {
	var v []json.RawMessage
	d.scalar(o, name, "an array", &v)
	return v
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// snippet quotes a raw JSON value for an error message, shortened.
func snippet(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	if s == "" {
		return "nothing"
	}
	return s
}
