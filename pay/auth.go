package pay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/yianpay/payorder"
)

// Django REST framework's TokenAuthentication messages, which existing mobile
// clients may show or match.
const (
	msgNoCredentials   = "Authentication credentials were not provided."
	msgNoToken         = "Invalid token header. No credentials provided."
	msgTokenSpaces     = "Invalid token header. Token string should not contain spaces."
	msgTokenCharacters = "Invalid token header. Token string should not contain invalid characters."
)

// authError is a failed authentication: 401 with {"detail": message}.
type authError struct{ message string }

func (e *authError) Error() string { return "pay: " + e.message }

// authenticate returns the buyer of the request's "Authorization: Token <key>"
// header, following TokenAuthentication: the keyword is case-insensitive and
// the header must hold exactly the keyword and one token.
func authenticate(ctx context.Context, r *http.Request, tokens TokenVerifier) (string, error) {
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) == 0 || !strings.EqualFold(parts[0], "token") {
		return "", &authError{msgNoCredentials}
	}
	switch {
	case len(parts) == 1:
		return "", &authError{msgNoToken}
	case len(parts) > 2:
		return "", &authError{msgTokenSpaces}
	case !utf8.ValidString(parts[1]):
		return "", &authError{msgTokenCharacters}
	}
	buyer, err := tokens.VerifyToken(ctx, parts[1])
	switch {
	case errors.Is(err, payorder.ErrInvalidToken):
		return "", &authError{payorder.CodeInvalidToken.Message()}
	case errors.Is(err, payorder.ErrUserInactive):
		return "", &authError{payorder.CodeUserInactive.Message()}
	case err != nil:
		return "", err
	case buyer == "":
		return "", &authError{payorder.CodeInvalidToken.Message()}
	}
	return buyer, nil
}
