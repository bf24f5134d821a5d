package pay

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Django's limits on request bodies (its settings of the same names).
const (
	// dataUploadMaxMemorySize is DATA_UPLOAD_MAX_MEMORY_SIZE: the most
	// multipart field data Django takes, and the most body payorder reads
	// as JSON or a form (DRF itself reads those whole, whatever their size).
	dataUploadMaxMemorySize = 2621440
	// dataUploadMaxNumberFields is DATA_UPLOAD_MAX_NUMBER_FIELDS.
	dataUploadMaxNumberFields = 1000
	// dataUploadMaxNumberFiles is DATA_UPLOAD_MAX_NUMBER_FILES.
	dataUploadMaxNumberFiles = 100
	// maxMultipartBody bounds a multipart body: its field data, plus a MiB
	// for part headers and the file parts Django accepts and payorder
	// ignores.
	maxMultipartBody = dataUploadMaxMemorySize + 1<<20
)

// requestData is DRF's request.data as the view reads it.
type requestData struct {
	// object is whether the data has .get: a dict or a QueryDict (false for
	// a JSON body that is an array, a string, a number or null).
	object bool
	// values holds what .get returns for each key: the last of a form's
	// repeated fields, a JSON object's member.
	values map[string]any
	// extra holds form fields named extra[key] (the last of each).
	extra map[string]any
}

// uploadedFile stands for a file part, which DRF puts in request.data too.
type uploadedFile struct{}

// bodyError is a body DRF or Django refuses. With page set, Django answers
// it itself as HTML (status 400 or 500); otherwise DRF answers
// {"detail": detail}.
type bodyError struct {
	status int
	detail string
	page   string
}

func (e *bodyError) Error() string { return "pay: request body: " + e.detail + e.page }

// Django's refusals outside DRF.
var (
	errTooBig    = &bodyError{status: http.StatusBadRequest, page: pageBadRequest, detail: "exceeds DATA_UPLOAD_MAX_MEMORY_SIZE"}
	errTooMany   = &bodyError{status: http.StatusBadRequest, page: pageBadRequest, detail: "exceeds DATA_UPLOAD_MAX_NUMBER_FIELDS or _FILES"}
	errUnhandled = &bodyError{status: http.StatusInternalServerError, page: pageServerErr, detail: "Django fails on it"}
)

// contentType is CONTENT_TYPE as Django's WSGI server sets it: the first
// Content-Type header, or text/plain when there is none.
func contentType(r *http.Request) string {
	if v := r.Header.Values("Content-Type"); len(v) > 0 {
		return v[0]
	}
	return "text/plain"
}

// bodyParser is one of DRF's default parsers.
type bodyParser int

const (
	parseJSON bodyParser = iota
	parseForm
	parseMultipart
)

// drfParsers are DRF's default parsers, in order, by media type.
var drfParsers = []struct {
	mediaType string
	parser    bodyParser
}{{"application/json", parseJSON}, {"application/x-www-form-urlencoded", parseForm}, {"multipart/form-data", parseMultipart}}

// readData parses the body as DRF's Request.data does: no body is no data;
// otherwise the first default parser whose media type matches the
// Content-Type (wildcards included) reads it, in the request's charset.
func readData(w http.ResponseWriter, r *http.Request, lang Language) (requestData, error) {
	ct := contentType(r)
	if r.ContentLength == 0 {
		return requestData{object: true}, nil
	}
	mt, err := parseMediaType(ct)
	if err != nil {
		return requestData{}, errUnhandled
	}
	parser, found := parseJSON, false
	for _, p := range drfParsers {
		if pm, _ := parseMediaType(p.mediaType); pm.matches(mt) {
			parser, found = p.parser, true
			break
		}
	}
	if !found {
		return requestData{}, &bodyError{status: http.StatusUnsupportedMediaType, detail: lang.text(msgUnsupportedMedia, latin1([]byte(ct)))}
	}
	limit := int64(dataUploadMaxMemorySize)
	if parser == parseMultipart {
		limit = maxMultipartBody
	}
	if r.ContentLength > limit {
		return requestData{}, errTooBig
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return requestData{}, errTooBig
		}
		return requestData{}, &bodyError{status: http.StatusBadRequest, page: pageBadRequest, detail: "unreadable: " + err.Error()}
	}
	if len(body) == 0 {
		return requestData{object: true}, nil // a chunked body of nothing: no data, as Content-Length: 0
	}
	_, params, _ := parseHeader(ct)
	charset, _ := params.get("charset")
	enc := lookupCodec(charset)
	switch parser {
	case parseJSON:
		return jsonData(body, enc)
	case parseForm:
		values, err := queryDict(body, enc)
		if err != nil {
			return requestData{}, err
		}
		return formData(values), nil
	}
	values, err := djangoMultipart(body, ct, enc)
	if err != nil {
		return requestData{}, err
	}
	return formData(values), nil
}

// jsonData is JSONParser's reading of body.
func jsonData(body []byte, enc codec) (requestData, error) {
	v, err := parsePyJSON(body, enc)
	switch {
	case errors.Is(err, errRecursion):
		return requestData{}, errUnhandled
	case err != nil:
		return requestData{}, &bodyError{status: http.StatusBadRequest, detail: "JSON parse error - " + err.Error()}
	}
	obj, ok := v.(map[string]any)
	return requestData{object: ok, values: obj}, nil
}

// formData is a QueryDict (form or multipart) as .get reads it, with the
// text extra[key] fields gathered.
func formData(values map[string][]any) requestData {
	d := requestData{object: true, values: make(map[string]any, len(values))}
	for k, vs := range values {
		last := vs[len(vs)-1]
		d.values[k] = last
		if key, ok := strings.CutPrefix(k, "extra["); ok && strings.HasSuffix(key, "]") && isText(last) {
			if d.extra == nil {
				d.extra = make(map[string]any)
			}
			d.extra[strings.TrimSuffix(key, "]")] = last
		}
	}
	return d
}

// isText reports whether a form value is text rather than a file.
func isText(v any) bool {
	_, ok := v.(string)
	return ok
}

// queryDict parses a form body as Django's QueryDict: decoded in the
// charset (or as Latin-1 when that fails), split on '&' only, blank values
// kept, '+' a space, %XX escapes decoded where well formed and kept as they
// are otherwise, at most DATA_UPLOAD_MAX_NUMBER_FIELDS fields counting the
// empty ones.
func queryDict(body []byte, enc codec) (map[string][]any, error) {
	runes, err := enc.decodeStrict(body, false)
	if err != nil {
		runes, _ = codecLatin1.decodeStrict(body, false)
	}
	qs := string(runes)
	values := map[string][]any{}
	if qs == "" {
		return values, nil
	}
	if 1+strings.Count(qs, "&") > dataUploadMaxNumberFields {
		return nil, errTooMany
	}
	for _, pair := range strings.Split(qs, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name = pyUnquote(strings.ReplaceAll(name, "+", " "), enc)
		values[name] = append(values[name], pyUnquote(strings.ReplaceAll(value, "+", " "), enc))
	}
	return values, nil
}

// pyUnquote is urllib.parse.unquote(s, encoding, errors='replace'): escapes
// in each run of ASCII characters decoded to bytes and those bytes decoded,
// other characters kept.
func pyUnquote(s string, enc codec) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var out strings.Builder
	for len(s) > 0 {
		n := 0
		for n < len(s) && s[n] < 0x80 {
			n++
		}
		if n == 0 {
			for n < len(s) && s[n] >= 0x80 {
				n++
			}
			out.WriteString(s[:n])
			s = s[n:]
			continue
		}
		out.WriteString(enc.decodeReplace(unquoteBytes(s[:n])))
		s = s[n:]
	}
	return out.String()
}

// unquoteBytes decodes each well-formed %XX and keeps anything else.
func unquoteBytes(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// validBoundary is cgi.valid_boundary.
var validBoundary = regexp.MustCompile(`^[ -~]{0,200}[!-~]$`)

// multipartError is DRF's answer to Django's MultiPartParserError.
func multipartError(msg string) error {
	return &bodyError{status: http.StatusBadRequest, detail: "Multipart form parse error - " + msg}
}

// djangoMultipart parses a multipart body as Django 3.2's MultiPartParser
// does: parts split at every "--boundary" (one CRLF, LF or CR before it
// dropped), a part whose headers (CRLF-separated, ending in a blank line
// within its first 1024 bytes) hold Content-Disposition with a name is a
// field, with a non-empty filename a file; anything else is skipped. Field
// values are decoded in the charset with replacement; base64 transfer
// encoding is honoured. Files come after fields for the same name, as DRF
// merges request.FILES into request.data.
func djangoMultipart(body []byte, ct string, enc codec) (map[string][]any, error) {
	if !strings.HasPrefix(ct, "multipart/") {
		return nil, multipartError("Invalid Content-Type: " + latin1([]byte(ct)))
	}
	if !isASCII(ct) {
		return nil, multipartError("Invalid non-ASCII Content-Type in multipart: " + latin1([]byte(ct)))
	}
	_, params, err := parseHeader(ct)
	if err != nil {
		return nil, errUnhandled
	}
	boundary, ok := params.get("boundary")
	switch {
	case !ok:
		return nil, multipartError("Invalid boundary in multipart: None")
	case !validBoundary.MatchString(boundary):
		return nil, multipartError("Invalid boundary in multipart: " + boundary)
	}
	sep := []byte("--" + boundary)
	fields, files := map[string][]any{}, map[string][]any{}
	var keys, nfiles, fieldBytes int
	for rest := body; len(rest) > 0; {
		var part []byte
		if i := bytes.Index(rest, sep); i < 0 {
			part, rest = rest, nil
		} else {
			end := i
			if end > 0 && rest[end-1] == '\n' {
				end--
			}
			if end > 0 && rest[end-1] == '\r' {
				end--
			}
			part, rest = rest[:i][:end], rest[i+len(sep):]
		}
		kind, headers, data := multipartPart(part)
		if kind == partFile {
			nfiles++
			if nfiles > dataUploadMaxNumberFiles {
				return nil, errTooMany
			}
		} else if keys++; keys > dataUploadMaxNumberFields+2 {
			return nil, errTooMany
		}
		disposition, ok := headers["content-disposition"]
		if kind == partRaw || !ok {
			continue
		}
		rawName, ok := disposition.params.get("name")
		if !ok {
			continue
		}
		name := enc.decodeReplace([]byte(trimFunc(rawName, pyBytesSpace)))
		base64CTE := false
		if te, ok := headers["content-transfer-encoding"]; ok {
			base64CTE = trimFunc(te.value, pyBytesSpace) == "base64"
		}
		if kind == partField {
			fieldBytes += len(data) + len([]rune(name)) + 2
			if fieldBytes > dataUploadMaxMemorySize {
				return nil, errTooBig
			}
			if base64CTE {
				if decoded, ok := pyB64Decode(data); ok {
					data = decoded
				}
			}
			fields[name] = append(fields[name], enc.decodeReplace(data))
			continue
		}
		filename, _ := disposition.params.get("filename")
		if !keptFileName(enc.decodeReplace([]byte(filename))) {
			continue
		}
		if stripped := bytes.Join(bytes.Fields(data), nil); base64CTE && len(stripped)%4 != 0 {
			return nil, multipartError("Could not decode base64 data.")
		} else if _, ok := pyB64Decode(stripped); base64CTE && !ok {
			return nil, multipartError("Could not decode base64 data.")
		}
		files[name] = append(files[name], uploadedFile{})
	}
	for k, fs := range files {
		fields[k] = append(fields[k], fs...)
	}
	return fields, nil
}

// keptFileName is whether Django keeps a file of this name
// (MultiPartParser.sanitize_file_name gives something).
func keptFileName(name string) bool {
	name = htmlUnescape(name)
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndex(name, `\`); i >= 0 {
		name = name[i+1:]
	}
	return name != "" && name != "." && name != ".."
}

// htmlUnescape undoes the entities that could turn a file name into a path
// separator or a dot.
func htmlUnescape(s string) string {
	return strings.NewReplacer("&sol;", "/", "&#47;", "/", "&#x2f;", "/", "&#x2F;", "/", "&bsol;", `\`, "&#92;", `\`,
		"&#x5c;", `\`, "&#x5C;", `\`, "&period;", ".", "&#46;", ".", "&#x2e;", ".", "&#x2E;", ".", "&amp;", "&").Replace(s)
}

// partKind is what Django's parse_boundary_stream makes of a part.
type partKind int

const (
	partRaw partKind = iota
	partField
	partFile
)

// partHeader is a part header's main value (after the colon, lowercased
// with the name) and parameters.
type partHeader struct {
	value  string
	params headerParams
}

// multipartPart is parse_boundary_stream(part, 1024).
func multipartPart(part []byte) (partKind, map[string]partHeader, []byte) {
	head := part[:min(len(part), 1024)]
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		return partRaw, nil, part
	}
	kind := partRaw
	headers := map[string]partHeader{}
	for _, line := range strings.Split(string(head[:end]), "\r\n") {
		key, params, err := parseHeader(line)
		if err != nil {
			continue
		}
		name, value, ok := strings.Cut(key, ":")
		if !ok {
			continue
		}
		if name == "content-disposition" {
			kind = partField
			if f, _ := params.get("filename"); f != "" {
				kind = partFile
			}
		}
		headers[name] = partHeader{value, params}
	}
	return kind, headers, part[end+4:]
}

// pyB64Decode is base64.b64decode without validation: characters outside the
// alphabet are skipped, decoding stops at a complete padding, and it fails
// when the data characters do not end on a group of four.
func pyB64Decode(b []byte) ([]byte, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	var acc uint32
	quad, pads := 0, 0
	for _, c := range b {
		if c == '=' {
			if quad >= 2 {
				if pads++; quad+pads >= 4 {
					return b64Tail(out, acc, quad), true
				}
			}
			continue
		}
		v := strings.IndexByte(alphabet, c)
		if v < 0 {
			continue
		}
		pads = 0
		acc = acc<<6 | uint32(v)
		quad++
		if quad == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, quad = 0, 0
		}
	}
	if quad != 0 {
		return nil, false
	}
	return out, true
}

// b64Tail appends the bytes of a padded final group of quad characters.
func b64Tail(out []byte, acc uint32, quad int) []byte {
	if quad == 2 {
		return append(out, byte(acc>>4))
	}
	return append(out, byte(acc>>10), byte(acc>>2))
}
