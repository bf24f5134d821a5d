package pay

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// This file holds what Django and Django REST framework decide before the
// view runs, as DRF 3.14 on Django 3.2 does it: header parameters, media
// types, content negotiation, the Authorization header, DRF's messages in
// English and Chinese, and Django's own error pages. pay/testdata/drf holds
// the oracle app these are checked against.

// Language selects the language of Django REST framework's messages
// ({"detail": …}), as the DRF app's LANGUAGE_CODE did. The envelope's own
// messages (订单不存在, …) are Chinese in every language.
type Language string

// The languages of DRF's messages payorder carries.
const (
	// English is DRF's default (LANGUAGE_CODE 'en-us').
	English Language = "en"
	// SimplifiedChinese is DRF's zh-hans translation (LANGUAGE_CODE 'zh-hans').
	SimplifiedChinese Language = "zh-hans"
)

// drfMessage identifies one of DRF's messages.
type drfMessage int

const (
	msgNotAuthenticated drfMessage = iota
	msgNoCredentials
	msgTokenSpaces
	msgTokenCharacters
	msgInvalidToken
	msgUserInactive
	msgMethodNotAllowed // %s: the method
	msgNotAcceptable
	msgUnsupportedMedia // %s: the Content-Type
	msgNotFound
)

// drfMessages are DRF 3.14's texts and their zh-hans translations, as the
// oracle answered them.
var drfMessages = map[Language][]string{
	English: {
		msgNotAuthenticated: "Authentication credentials were not provided.",
		msgNoCredentials:    "Invalid token header. No credentials provided.",
		msgTokenSpaces:      "Invalid token header. Token string should not contain spaces.",
		msgTokenCharacters:  "Invalid token header. Token string should not contain invalid characters.",
		msgInvalidToken:     "Invalid token.",
		msgUserInactive:     "User inactive or deleted.",
		msgMethodNotAllowed: "Method \"%s\" not allowed.",
		msgNotAcceptable:    "Could not satisfy the request Accept header.",
		msgUnsupportedMedia: "Unsupported media type \"%s\" in request.",
		msgNotFound:         "Not found.",
	},
	SimplifiedChinese: {
		msgNotAuthenticated: "身份认证信息未提供。",
		msgNoCredentials:    "没有提供认证信息（认证令牌HTTP头无效）。",
		msgTokenSpaces:      "认证令牌字符串不应该包含空格（无效的认证令牌HTTP头）。",
		msgTokenCharacters:  "无效的Token。Token字符串不能包含非法的字符。",
		msgInvalidToken:     "认证令牌无效。",
		msgUserInactive:     "用户未激活或者已删除。",
		msgMethodNotAllowed: "方法 “%s” 不被允许。",
		msgNotAcceptable:    "无法满足Accept HTTP头的请求。",
		msgUnsupportedMedia: "不支持请求中的媒体类型 “%s”。",
		msgNotFound:         "未找到。",
	},
}

// text returns message m in language l, with its one argument filled in.
func (l Language) text(m drfMessage, arg ...string) string {
	msgs, ok := drfMessages[l]
	if !ok {
		msgs = drfMessages[English]
	}
	s := msgs[m]
	if len(arg) > 0 {
		s = strings.Replace(s, "%s", arg[0], 1)
	}
	return s
}

// djangoPage is one of the HTML pages Django answers itself, outside DRF,
// with DEBUG off and no templates of the app's own.
func djangoPage(title, details string) string {
	return "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>" + title + "</title>\n</head>\n<body>\n  <h1>" +
		title + "</h1><p>" + details + "</p>\n</body>\n</html>\n"
}

// Django's pages: a URL it does not route, a SuspiciousOperation (too many
// fields, too much data), and an uncaught exception.
var (
	pageNotFound   = djangoPage("Not Found", "The requested resource was not found on this server.")
	pageBadRequest = djangoPage("Bad Request (400)", "")
	pageServerErr  = djangoPage("Server Error (500)", "")
)

// pyBytesSpace reports the ASCII whitespace of CPython's bytes.split().
func pyBytesSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// pyLatin1Space reports the characters CPython's str.strip() removes from a
// header value, which a WSGI server reads as Latin-1: ASCII whitespace, the
// separators U+001C–U+001F, NEL and NO-BREAK SPACE.
func pyLatin1Space(c byte) bool {
	return pyBytesSpace(c) || c >= 0x1c && c <= 0x1f || c == 0x85 || c == 0xa0
}

// wsgiHeader is a header as Django's WSGI server hands it to the app: each
// value stripped, repeated headers joined by commas. ok is false when the
// header is absent.
func wsgiHeader(values []string) (v string, ok bool) {
	if len(values) == 0 {
		return "", false
	}
	parts := make([]string, len(values))
	for i, s := range values {
		parts[i] = trimFunc(s, pyLatin1Space)
	}
	return strings.Join(parts, ","), true
}

func trimFunc(s string, space func(byte) bool) string {
	for len(s) > 0 && space(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && space(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// splitBytes is CPython's bytes.split(): fields between runs of ASCII
// whitespace, and only ASCII whitespace.
func splitBytes(s string) []string {
	var out []string
	for {
		s = trimFunc(s, pyBytesSpace)
		if s == "" {
			return out
		}
		i := strings.IndexFunc(s, func(r rune) bool { return r < 0x80 && pyBytesSpace(byte(r)) })
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
}

// errBadHeader is the exception Django's parse_header raises on a header
// whose main value or parameter names are not ASCII (UnicodeDecodeError), or
// whose RFC 2231 value is not charset'lang'value (ValueError): Django
// answers 500 when it parses the Content-Type or Accept header, and skips a
// multipart part's header line.
var errBadHeader = errors.New("pay: header Django cannot parse")

// headerParam is one parameter of a header value.
type headerParam struct{ name, value string }

// headerParams is a header's parameters in order; get returns the last one
// of a name, as Django's dict of them does.
type headerParams []headerParam

func (ps headerParams) get(name string) (string, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].name == name {
			return ps[i].value, true
		}
	}
	return "", false
}

// parseHeader is Django 3.2's multipartparser.parse_header (which DRF also
// uses for media types): the main value lowercased, and parameters split on
// semicolons outside quotes, names lowercased, quotes and their escapes
// removed, RFC 2231 values (name*=charset'lang'value) decoded.
func parseHeader(line string) (string, headerParams, error) {
	pieces := headerPieces(line)
	key := strings.ToLower(pieces[0])
	if !isASCII(key) {
		return "", nil, errBadHeader
	}
	var params headerParams
	for _, p := range pieces[1:] {
		i := strings.IndexByte(p, '=')
		if i < 0 {
			continue
		}
		name := strings.ToLower(trimFunc(p[:i], pyBytesSpace))
		if !isASCII(name) {
			return "", nil, errBadHeader
		}
		encoded := false
		if strings.HasSuffix(name, "*") {
			name = strings.TrimSuffix(name, "*")
			encoded = strings.Count(p, "'") == 2
		}
		value := trimFunc(p[i+1:], pyBytesSpace)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = strings.ReplaceAll(strings.ReplaceAll(value[1:len(value)-1], `\\`, `\`), `\"`, `"`)
		}
		if encoded {
			parts := strings.Split(value, "'")
			if len(parts) != 3 {
				return "", nil, errBadHeader
			}
			raw, err := url.PathUnescape(strings.ReplaceAll(parts[2], "+", "%2B"))
			if err != nil {
				raw = parts[2]
			}
			value = lookupCodec(parts[0]).decodeReplace([]byte(raw))
		}
		params = append(params, headerParam{name, value})
	}
	return key, params, nil
}

// headerPieces splits ";"+line as Django's _parse_header_params: at each
// semicolon not inside double quotes, each piece stripped. (Django counts the
// quotes before each semicolon again; counting as it goes keeps a header of
// many quotes and semicolons linear.)
func headerPieces(line string) []string {
	s := ";" + line
	var out []string
	for len(s) > 0 && s[0] == ';' {
		s = s[1:]
		end, quotes := len(s), 0
		for i := 0; i < len(s); i++ {
			if s[i] == '"' {
				quotes++
			} else if s[i] == ';' && (i == 0 || quotes%2 == 0) {
				end = i
				break
			}
		}
		out = append(out, trimFunc(s[:end], pyBytesSpace))
		s = s[end:]
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// mediaType is DRF's _MediaType.
type mediaType struct {
	main, sub string
	params    headerParams
}

func parseMediaType(s string) (mediaType, error) {
	full, params, err := parseHeader(s)
	if err != nil {
		return mediaType{}, err
	}
	main, sub, _ := strings.Cut(full, "/")
	return mediaType{main: main, sub: sub, params: params}, nil
}

// matches is DRF's _MediaType.match: whether m satisfies other.
func (m mediaType) matches(other mediaType) bool {
	for _, p := range m.params {
		if p.name == "q" {
			continue
		}
		v, _ := m.params.get(p.name)
		if ov, ok := other.params.get(p.name); !ok || ov != v {
			return false
		}
	}
	if m.sub != "*" && other.sub != "*" && other.sub != m.sub {
		return false
	}
	return m.main == "*" || other.main == "*" || other.main == m.main
}

// precedence is DRF's: 3 type/subtype;param, 2 type/subtype, 1 type/*, 0 */*.
func (m mediaType) precedence() int {
	switch {
	case m.main == "*":
		return 0
	case m.sub == "*":
		return 1
	case len(m.params) == 0 || len(m.params) == 1 && m.params[0].name == "q":
		return 2
	}
	return 3
}

// renderer is one of the DRF app's renderers: JSON, and the browsable API,
// which payorder answers with JSON too (README says so).
type renderer struct {
	mediaType, format string
}

// drfRenderers are DRF's defaults, in order.
var drfRenderers = []renderer{{"application/json", "json"}, {"text/html", "api"}}

// negotiation is the outcome of DRF's content negotiation: the accepted media
// type, whose indent parameter pretty-prints the JSON.
type negotiation struct {
	accepted string
}

// indent is JSONRenderer.get_indent: the accepted media type's indent
// parameter, clamped to 0–8, 0 meaning none.
func (n negotiation) indent() int {
	_, params, err := parseHeader(n.accepted)
	if err != nil {
		return 0
	}
	v, ok := params.get("indent")
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(trimFunc(v, pyLatin1Space))
	if err != nil {
		return 0
	}
	return min(max(i, 0), 8)
}

// errFormatNotFound is DRF's Http404 for a ?format= no renderer has.
var errFormatNotFound = errors.New("pay: no renderer for the format")

// errNotAcceptable is DRF's NotAcceptable.
var errNotAcceptable = errors.New("pay: no renderer for the Accept header")

// negotiate is DefaultContentNegotiation.select_renderer over DRF's default
// renderers: the format query parameter first, then the Accept header, most
// specific media types first.
func negotiate(format string, accept string, hasAccept bool) (negotiation, error) {
	renderers := drfRenderers
	if format != "" {
		var kept []renderer
		for _, r := range renderers {
			if r.format == format {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			return negotiation{}, errFormatNotFound
		}
		renderers = kept
	}
	if !hasAccept {
		accept = "*/*"
	}
	type accepted struct {
		text string
		mt   mediaType
	}
	var levels [4][]accepted
	for _, tok := range strings.Split(accept, ",") {
		tok = strings.TrimSpace(tok)
		mt, err := parseMediaType(tok)
		if err != nil {
			return negotiation{}, err
		}
		p := mt.precedence()
		levels[3-p] = append(levels[3-p], accepted{tok, mt})
	}
	for _, level := range levels {
		for _, r := range renderers {
			rm, _ := parseMediaType(r.mediaType)
			for _, a := range level {
				if !rm.matches(a.mt) {
					continue
				}
				if rm.precedence() > a.mt.precedence() {
					text := r.mediaType
					for _, p := range a.mt.params {
						text += ";" + p.name + "=" + p.value
					}
					return negotiation{accepted: text}, nil
				}
				return negotiation{accepted: a.text}, nil
			}
		}
	}
	return negotiation{}, errNotAcceptable
}

// tokenAuth is what DRF's TokenAuthentication reads from the Authorization
// header before asking for the token: the key, or the message it refuses
// with. none is true when the header does not offer a token at all (DRF then
// tries no other authenticator and IsAuthenticated refuses).
type tokenAuth struct {
	key     string
	refusal drfMessage
	refused bool
	none    bool
}

// parseTokenAuth follows TokenAuthentication.authenticate: the header as
// bytes split on ASCII whitespace only, the keyword compared in ASCII case,
// exactly one key that must be UTF-8.
func parseTokenAuth(header string) tokenAuth {
	parts := splitBytes(header)
	if len(parts) == 0 || !asciiEqualFold(parts[0], "token") {
		return tokenAuth{none: true}
	}
	switch {
	case len(parts) == 1:
		return tokenAuth{refused: true, refusal: msgNoCredentials}
	case len(parts) > 2:
		return tokenAuth{refused: true, refusal: msgTokenSpaces}
	case !validUTF8Strict(parts[1]):
		return tokenAuth{refused: true, refusal: msgTokenCharacters}
	}
	return tokenAuth{key: parts[1]}
}

// asciiEqualFold compares like bytes.lower(): only ASCII letters fold, so
// that a Kelvin sign is not a k.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validUTF8Strict is bytes.decode('utf-8') succeeding.
func validUTF8Strict(s string) bool {
	b := []byte(s)
	for i := 0; i < len(b); {
		_, n, problem := pyDecodeUTF8(b[i:])
		if problem != "" {
			return false
		}
		i += n
	}
	return true
}

// pyJSONText renders v as DRF's JSONRenderer does: compact, non-ASCII
// characters as they are, U+2028 and U+2029 escaped, no trailing newline;
// indented by indent spaces when the accepted media type asks.
func pyJSONText(compact []byte, indent int) []byte {
	compact = bytes.TrimSuffix(compact, []byte("\n"))
	if indent == 0 {
		return compact
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", strings.Repeat(" ", indent)); err != nil {
		return compact
	}
	return b.Bytes()
}
