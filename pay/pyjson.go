package pay

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file reads request bodies the way Django REST framework's JSONParser
// does on CPython: the bytes decoded with the request's charset by a codecs
// stream reader, then json.load with NaN and Infinity refused. Its errors
// carry CPython's own messages, which DRF sends to the client as
// "JSON parse error - <message>".

// pyIntMaxDigits is CPython's default limit on the digits of an integer read
// from text (sys.get_int_max_str_digits()).
const pyIntMaxDigits = 4300

// codec is one of the character sets Django may decode a body with.
type codec int

const (
	codecUTF8 codec = iota
	codecLatin1
	codecASCII
)

// codecAliases are the names CPython's codecs.lookup resolves to the three
// codecs payorder implements, after normalisation (see normalizeCodec).
var codecAliases = map[string]codec{
	"utf_8": codecUTF8, "u8": codecUTF8, "utf": codecUTF8, "utf8": codecUTF8, "utf8_ucs2": codecUTF8,
	"utf8_ucs4": codecUTF8, "cp65001": codecUTF8,
	"latin_1": codecLatin1, "8859": codecLatin1, "cp819": codecLatin1, "csisolatin1": codecLatin1,
	"ibm819": codecLatin1, "iso8859": codecLatin1, "iso8859_1": codecLatin1, "iso_8859_1": codecLatin1,
	"iso_8859_1_1987": codecLatin1, "iso_ir_100": codecLatin1, "l1": codecLatin1, "latin": codecLatin1,
	"latin1": codecLatin1,
	"ascii":  codecASCII, "646": codecASCII, "ansi_x3.4_1968": codecASCII, "ansi_x3_4_1968": codecASCII,
	"ansi_x3.4_1986": codecASCII, "cp367": codecASCII, "csascii": codecASCII, "ibm367": codecASCII,
	"iso646_us": codecASCII, "iso_646.irv_1991": codecASCII, "iso_ir_6": codecASCII, "us": codecASCII,
	"us_ascii": codecASCII,
}

// lookupCodec returns the codec of a charset parameter. Django ignores a
// charset CPython does not know, keeping UTF-8; payorder does the same for
// every charset other than UTF-8, Latin-1 and ASCII (README lists this).
func lookupCodec(charset string) codec {
	if c, ok := codecAliases[normalizeCodec(charset)]; ok {
		return c
	}
	if c, ok := codecAliases[strings.ReplaceAll(normalizeCodec(charset), ".", "_")]; ok {
		return c
	}
	return codecUTF8
}

// normalizeCodec is CPython's encodings.normalize_encoding of a lowercased
// name: runs of characters other than ASCII letters, digits and '.' become
// one '_', leading and trailing ones are dropped.
func normalizeCodec(name string) string {
	var b strings.Builder
	punct := false
	for _, r := range strings.ToLower(name) {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.') {
			if punct && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			punct = false
		} else {
			punct = true
		}
	}
	return b.String()
}

// name is the codec's name in CPython's error messages.
func (c codec) name() string {
	switch c {
	case codecLatin1:
		return "latin-1"
	case codecASCII:
		return "ascii"
	}
	return "utf-8"
}

// decodeStrict decodes b as bytes.decode does, or, when stream is true, as
// CPython's codecs stream reader does in one read(), which silently leaves an
// incomplete UTF-8 sequence at the very end undecoded.
func (c codec) decodeStrict(b []byte, stream bool) ([]rune, error) {
	out := make([]rune, 0, len(b))
	switch c {
	case codecLatin1:
		for _, x := range b {
			out = append(out, rune(x))
		}
		return out, nil
	case codecASCII:
		for i, x := range b {
			if x >= 0x80 {
				return nil, fmt.Errorf("'ascii' codec can't decode byte 0x%02x in position %d: ordinal not in range(128)", x, i)
			}
			out = append(out, rune(x))
		}
		return out, nil
	}
	for i := 0; i < len(b); {
		r, n, problem := pyDecodeUTF8(b[i:])
		switch problem {
		case "":
			out = append(out, r)
			i += n
			continue
		case "unexpected end of data":
			if stream {
				return out, nil // the stream reader keeps it for a read that never comes
			}
		}
		if n == 1 {
			return nil, fmt.Errorf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[i], i, problem)
		}
		return nil, fmt.Errorf("'utf-8' codec can't decode bytes in position %d-%d: %s", i, i+n-1, problem)
	}
	return out, nil
}

// decodeReplace decodes b, each invalid sequence becoming U+FFFD, as
// bytes.decode(errors='replace').
func (c codec) decodeReplace(b []byte) string {
	switch c {
	case codecLatin1:
		return latin1(b)
	case codecASCII:
		var s strings.Builder
		for _, x := range b {
			if x >= 0x80 {
				s.WriteRune(utf8.RuneError)
			} else {
				s.WriteByte(x)
			}
		}
		return s.String()
	}
	var s strings.Builder
	for i := 0; i < len(b); {
		r, n, problem := pyDecodeUTF8(b[i:])
		if problem != "" {
			r = utf8.RuneError
		}
		s.WriteRune(r)
		i += n
	}
	return s.String()
}

// latin1 reads bytes as Latin-1 text, as WSGI hands header values to Django.
func latin1(b []byte) string {
	var s strings.Builder
	for _, x := range b {
		s.WriteRune(rune(x))
	}
	return s.String()
}

// pyDecodeUTF8 decodes the first character of b like CPython's UTF-8
// decoder: on error it returns the length of the maximal invalid subpart and
// CPython's reason.
func pyDecodeUTF8(b []byte) (r rune, n int, problem string) {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c < 0x80:
		return rune(c), 1, ""
	case c < 0xC2 || c > 0xF4:
		return 0, 1, "invalid start byte"
	case c < 0xE0:
		need = 1
	case c < 0xF0:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	default:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	}
	for k := 1; k <= need; k++ {
		if k >= len(b) {
			return 0, len(b), "unexpected end of data"
		}
		x := b[k]
		if k == 1 && (x < lo || x > hi) || k > 1 && (x < 0x80 || x > 0xBF) {
			return 0, k, "invalid continuation byte"
		}
	}
	r, n = utf8.DecodeRune(b)
	return r, n, ""
}

// pyInt is a JSON integer (CPython's int): its canonical digits.
type pyInt string

// pyFloat is a JSON number with a fraction or an exponent (CPython's float).
type pyFloat string

// jsonError is a ValueError of CPython's json module.
type jsonError struct{ msg string }

func (e *jsonError) Error() string { return e.msg }

// pyJSON parses text as CPython's json.loads, with DRF's parse_constant that
// refuses NaN and Infinity. Objects are map[string]any (the last of duplicate
// keys wins), arrays []any, strings string, numbers pyInt or pyFloat.
type pyJSON struct {
	s     []rune
	depth int
}

// pyMaxDepth approximates where CPython's json gives up on nesting with a
// RecursionError (its recursion limit, 1000, less the frames of Django and
// DRF below the parser), which Django answers 500.
const pyMaxDepth = 900

// errRecursion is CPython's RecursionError while parsing: not a ValueError,
// so DRF does not turn it into a 400.
var errRecursion = errors.New("pay: JSON nested too deeply")

// parsePyJSON decodes body in the given codec and parses it.
func parsePyJSON(body []byte, c codec) (any, error) {
	s, err := c.decodeStrict(body, true)
	if err != nil {
		return nil, err
	}
	p := &pyJSON{s: s}
	if len(s) > 0 && s[0] == '\ufeff' {
		return nil, p.errAt("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
	}
	v, end, err := p.value(p.ws(0))
	if err != nil {
		return nil, err
	}
	if end = p.ws(end); end != len(s) {
		return nil, p.errAt("Extra data", end)
	}
	return v, nil
}

// errAt is json.JSONDecodeError's message: msg, line, column and character.
func (p *pyJSON) errAt(msg string, pos int) error {
	line, col := 1, pos+1
	for i := 0; i < pos && i < len(p.s); i++ {
		if p.s[i] == '\n' {
			line++
			col = pos - i
		}
	}
	return &jsonError{fmt.Sprintf("%s: line %d column %d (char %d)", msg, line, col, pos)}
}

// ws skips JSON whitespace (space, tab, newline, carriage return only).
func (p *pyJSON) ws(i int) int {
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t' || p.s[i] == '\n' || p.s[i] == '\r') {
		i++
	}
	return i
}

func (p *pyJSON) hasPrefix(i int, word string) bool {
	for k, r := range []rune(word) {
		if i+k >= len(p.s) || p.s[i+k] != r {
			return false
		}
	}
	return true
}

// value parses the value at i (CPython's scan_once), returning the index
// after it.
func (p *pyJSON) value(i int) (any, int, error) {
	if i >= len(p.s) {
		return nil, i, p.errAt("Expecting value", i)
	}
	switch c := p.s[i]; {
	case c == '"':
		return p.str(i + 1)
	case c == '{' || c == '[':
		if p.depth++; p.depth > pyMaxDepth {
			return nil, i, errRecursion
		}
		defer func() { p.depth-- }()
		if c == '{' {
			return p.object(i + 1)
		}
		return p.array(i + 1)
	case c == 'n' && p.hasPrefix(i, "null"):
		return nil, i + 4, nil
	case c == 't' && p.hasPrefix(i, "true"):
		return true, i + 4, nil
	case c == 'f' && p.hasPrefix(i, "false"):
		return false, i + 5, nil
	case c == 'N' && p.hasPrefix(i, "NaN"):
		return nil, i, &jsonError{"Out of range float values are not JSON compliant: 'NaN'"}
	case c == 'I' && p.hasPrefix(i, "Infinity"):
		return nil, i, &jsonError{"Out of range float values are not JSON compliant: 'Infinity'"}
	case c == '-' && p.hasPrefix(i, "-Infinity"):
		return nil, i, &jsonError{"Out of range float values are not JSON compliant: '-Infinity'"}
	}
	return p.number(i)
}

// number matches -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? at i.
func (p *pyJSON) number(i int) (any, int, error) {
	start, j := i, i
	digit := func(k int) bool { return k < len(p.s) && p.s[k] >= '0' && p.s[k] <= '9' }
	if j < len(p.s) && p.s[j] == '-' {
		j++
	}
	switch {
	case digit(j) && p.s[j] != '0':
		for digit(j) {
			j++
		}
	case digit(j):
		j++
	default:
		return nil, start, p.errAt("Expecting value", start)
	}
	isFloat := false
	if j < len(p.s) && p.s[j] == '.' && digit(j+1) {
		isFloat = true
		j++
		for digit(j) {
			j++
		}
	}
	if j < len(p.s) && (p.s[j] == 'e' || p.s[j] == 'E') {
		k := j + 1
		if k < len(p.s) && (p.s[k] == '+' || p.s[k] == '-') {
			k++
		}
		if digit(k) {
			for digit(k) {
				k++
			}
			isFloat, j = true, k
		}
	}
	text := string(p.s[start:j])
	if isFloat {
		return pyFloat(text), j, nil
	}
	digits := strings.TrimPrefix(text, "-")
	if len(digits) > pyIntMaxDigits {
		return nil, j, &jsonError{fmt.Sprintf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit", pyIntMaxDigits, len(digits))}
	}
	if text == "-0" {
		text = "0"
	}
	return pyInt(text), j, nil
}

// str parses a string whose opening quote is just before i (CPython's
// scanstring, strict: no raw control characters).
func (p *pyJSON) str(i int) (any, int, error) {
	begin := i - 1
	var b strings.Builder
	for {
		if i >= len(p.s) {
			return nil, i, p.errAt("Unterminated string starting at", begin)
		}
		c := p.s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c < 0x20:
			return nil, i, p.errAt("Invalid control character at", i)
		case c != '\\':
			b.WriteRune(c)
			i++
			continue
		}
		i++ // past the backslash
		if i >= len(p.s) {
			return nil, i, p.errAt("Unterminated string starting at", begin)
		}
		esc := p.s[i]
		if esc != 'u' {
			r, ok := jsonEscape(esc)
			if !ok {
				return nil, i, p.errAt("Invalid \\escape", i-1)
			}
			b.WriteRune(r)
			i++
			continue
		}
		u, ok := p.hex4(i + 1)
		if !ok {
			return nil, i, p.errAt("Invalid \\uXXXX escape", i)
		}
		i += 5
		if u >= 0xD800 && u <= 0xDBFF && p.hasPrefix(i, "\\u") {
			if lo, ok := p.hex4(i + 2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				u = 0x10000 + (u-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
		}
		b.WriteRune(u) // a lone surrogate becomes U+FFFD: Go strings cannot hold it
	}
}

// jsonEscape is the character of a one-letter escape.
func jsonEscape(c rune) (rune, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func (p *pyJSON) hex4(i int) (rune, bool) {
	if i+4 > len(p.s) {
		return 0, false
	}
	var v rune
	for _, c := range p.s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// object parses the members of an object whose '{' is just before i.
func (p *pyJSON) object(i int) (any, int, error) {
	obj := map[string]any{}
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == '}' {
		return obj, i + 1, nil
	}
	for {
		if i >= len(p.s) || p.s[i] != '"' {
			return nil, i, p.errAt("Expecting property name enclosed in double quotes", i)
		}
		key, next, err := p.str(i + 1)
		if err != nil {
			return nil, next, err
		}
		i = p.ws(next)
		if i >= len(p.s) || p.s[i] != ':' {
			return nil, i, p.errAt("Expecting ':' delimiter", i)
		}
		v, next, err := p.value(p.ws(i + 1))
		if err != nil {
			return nil, next, err
		}
		obj[key.(string)] = v
		end, next, err := p.delimiter(next, '}')
		if end || err != nil {
			return obj, next, err
		}
		i = next
	}
}

// delimiter reads what follows a member or an element at i: the closing
// bracket (end), or a comma and the whitespace after it.
func (p *pyJSON) delimiter(i int, closing rune) (end bool, next int, err error) {
	i = p.ws(i)
	switch {
	case i < len(p.s) && p.s[i] == closing:
		return true, i + 1, nil
	case i >= len(p.s) || p.s[i] != ',':
		return false, i, p.errAt("Expecting ',' delimiter", i)
	}
	return false, p.ws(i + 1), nil
}

// array parses the elements of an array whose '[' is just before i.
func (p *pyJSON) array(i int) (any, int, error) {
	arr := []any{}
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == ']' {
		return arr, i + 1, nil
	}
	for {
		v, next, err := p.value(i)
		if err != nil {
			return nil, next, err
		}
		arr = append(arr, v)
		end, next, err := p.delimiter(next, ']')
		if end || err != nil {
			return arr, next, err
		}
		i = next
	}
}
