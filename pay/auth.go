package pay

import (
	"context"
	"errors"
	"net/http"

	"github.com/yianpay/payorder"
)

// authError is a failed authentication: 401 with {"detail": message} and
// WWW-Authenticate: Token.
type authError struct{ message drfMessage }

func (e *authError) Error() string { return "pay: " + English.text(e.message) }

// authenticate returns the buyer of the request's Authorization header as
// DRF's TokenAuthentication and IsAuthenticated decide it: the header as
// Django's WSGI server hands it over (stripped, repeats joined by commas), a
// case-insensitive "Token" keyword and exactly one key, split on ASCII
// whitespace only (a no-break or ideographic space is part of the key).
func authenticate(ctx context.Context, r *http.Request, tokens TokenVerifier) (string, error) {
	header, _ := wsgiHeader(r.Header.Values("Authorization"))
	ta := parseTokenAuth(header)
	switch {
	case ta.none:
		return "", &authError{msgNotAuthenticated}
	case ta.refused:
		return "", &authError{ta.refusal}
	}
	buyer, err := tokens.VerifyToken(ctx, ta.key)
	switch {
	case errors.Is(err, payorder.ErrInvalidToken):
		return "", &authError{msgInvalidToken}
	case errors.Is(err, payorder.ErrUserInactive):
		return "", &authError{msgUserInactive}
	case err != nil:
		return "", err
	case buyer == "":
		return "", &authError{msgInvalidToken}
	}
	return buyer, nil
}
