package pingxx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// fields decodes one JSON object tolerantly, the way Ping++'s PHP back end
// really serialises it: null for absent ints and strings, [] for empty
// objects, numbers and strings used interchangeably for some scalars. The
// first failure is kept in err, so callers decode every field and check once.
type fields struct {
	what string // "charge", "refund", ... for error messages
	obj  map[string]json.RawMessage
	err  error
}

// decodeFields parses data as a JSON object. null gives an empty object;
// anything else that is not an object is an error.
func decodeFields(what string, data []byte) (*fields, error) {
	data = bytes.TrimSpace(data)
	f := &fields{what: what}
	if isNull(data) {
		return f, nil
	}
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("pingxx: %s: not a JSON object", what)
	}
	if err := json.Unmarshal(data, &f.obj); err != nil {
		return nil, fmt.Errorf("pingxx: %s: %w", what, err)
	}
	return f, nil
}

func isNull(b []byte) bool { return string(b) == "null" }

// fail records the first error, naming the field.
func (f *fields) fail(key string, err error) {
	if f.err == nil {
		f.err = fmt.Errorf("pingxx: %s: field %q: %w", f.what, key, err)
	}
}

// raw returns a field's JSON, trimmed, and whether it is present and not null.
func (f *fields) raw(key string) (json.RawMessage, bool) {
	v, ok := f.obj[key]
	if !ok {
		return nil, false
	}
	v = bytes.TrimSpace(v)
	if len(v) == 0 || isNull(v) {
		return nil, false
	}
	return v, true
}

// str decodes a string field; null and absent give "", numbers and booleans
// give their literal text.
func (f *fields) str(key string) string {
	v, ok := f.raw(key)
	if !ok {
		return ""
	}
	s, err := scalarText(v)
	if err != nil {
		f.fail(key, err)
	}
	return s
}

// int decodes an integer field given as a number or a numeric string; null
// and absent give 0.
func (f *fields) int(key string) int64 {
	v, ok := f.raw(key)
	if !ok {
		return 0
	}
	s, err := scalarText(v)
	if err == nil {
		var n int64
		if n, err = parseInt(s); err == nil {
			return n
		}
	}
	f.fail(key, err)
	return 0
}

// bool decodes a boolean field; null and absent give false; "true"/"false"
// strings and 0/1 are accepted.
func (f *fields) bool(key string) bool {
	v, ok := f.raw(key)
	if !ok {
		return false
	}
	s, err := scalarText(v)
	if err == nil {
		var b bool
		if b, err = strconv.ParseBool(s); err == nil {
			return b
		}
	}
	f.fail(key, err)
	return false
}

// dict decodes an object field into a map whose numbers are json.Number.
// null, absent, {} and [] give an empty, non-nil map.
func (f *fields) dict(key string) map[string]any {
	m := map[string]any{}
	v, ok := f.raw(key)
	if !ok || isEmptyArray(v) {
		return m
	}
	if v[0] != '{' {
		f.fail(key, errors.New("not an object"))
		return m
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		f.fail(key, err)
	}
	return m
}

// rawCopy returns a copy of a field's JSON exactly as sent (nil when absent).
func (f *fields) rawCopy(key string) json.RawMessage {
	v, ok := f.obj[key]
	if !ok {
		return nil
	}
	return append(json.RawMessage(nil), bytes.TrimSpace(v)...)
}

// idOf decodes a field that is an id string or an expanded object with an
// "id" (Ping++'s expand[]=app).
func (f *fields) idOf(key string) string {
	v, ok := f.raw(key)
	if !ok {
		return ""
	}
	if v[0] != '{' {
		return f.str(key)
	}
	sub, err := decodeFields(key, v)
	if err != nil {
		f.fail(key, err)
		return ""
	}
	id := sub.str("id")
	if sub.err != nil {
		f.fail(key, sub.err)
	}
	return id
}

// into decodes a field with a custom decoder (a nested list).
func (f *fields) into(key string, dst json.Unmarshaler) bool {
	v, ok := f.raw(key)
	if !ok {
		return false
	}
	if err := dst.UnmarshalJSON(v); err != nil {
		f.fail(key, err)
		return false
	}
	return true
}

func isEmptyArray(v []byte) bool {
	if len(v) < 2 || v[0] != '[' {
		return false
	}
	return len(bytes.TrimSpace(v[1:len(v)-1])) == 0 && v[len(v)-1] == ']'
}

// scalarText returns the text of a JSON string, number or boolean.
func scalarText(v []byte) (string, error) {
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case '{', '[':
		return "", errors.New("expected a scalar, got a " + kindOf(v[0]))
	}
	if !json.Valid(v) {
		return "", errors.New("invalid JSON value")
	}
	return string(v), nil
}

func kindOf(b byte) string {
	if b == '{' {
		return "object"
	}
	return "array"
}

// parseInt parses an integer that may be written as a float with no
// fractional part (1.0, 1e3).
func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return 0, fmt.Errorf("%.32q is not an integer", s)
	}
	return int64(x), nil
}
