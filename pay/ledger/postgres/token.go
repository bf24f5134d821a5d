package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay/ledger/internal/sqlshared"
)

// TokenConfig names the tables and columns a TokenVerifier reads. The zero
// value names Django REST framework's authtoken_token and Django's auth_user.
// A table may be qualified with its schema ("accounts.auth_user"); names are
// checked to be plain identifiers (at most 63 bytes) and quoted, so they are
// case-sensitive.
type TokenConfig = sqlshared.TokenConfig

// TokenVerifier implements pay.TokenVerifier over the login tokens of a
// Django REST framework application (rest_framework.authtoken): the buyer
// of a token is its user's username.
type TokenVerifier struct {
	pool  *pgxpool.Pool
	query string
}

// NewTokenVerifier returns a verifier reading the tables cfg names through
// pool. It returns an error when a name is not an identifier; it does not
// check that the tables exist.
func NewTokenVerifier(pool *pgxpool.Pool, cfg TokenConfig) (*TokenVerifier, error) {
	n, err := cfg.Quote(63, func(parts []string) string { return pgx.Identifier(parts).Sanitize() })
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	query := fmt.Sprintf(`SELECT u.%s, u.%s FROM %s t JOIN %s u ON u.%s = t.%s WHERE t.%s = $1`,
		n.Username, n.Active, n.TokenTable, n.UserTable, n.UserID, n.TokenUser, n.TokenKey)
	return &TokenVerifier{pool: pool, query: query}, nil
}

// VerifyToken returns the username of token's user. An unknown token
// returns payorder.ErrInvalidToken, and a token of an inactive user
// payorder.ErrUserInactive; any other error is a failure to ask the
// database.
func (v *TokenVerifier) VerifyToken(ctx context.Context, token string) (string, error) {
	// Such a token cannot be stored, and PostgreSQL would reject it as text.
	if token == "" || !utf8.ValidString(token) || strings.ContainsRune(token, 0) {
		return "", payorder.ErrInvalidToken
	}
	var (
		buyer  string
		active bool
	)
	err := v.pool.QueryRow(ctx, v.query, token).Scan(&buyer, &active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", payorder.ErrInvalidToken
	case err != nil:
		return "", fmt.Errorf("postgres: verifying token: %w", err)
	case !active:
		return "", payorder.ErrUserInactive
	}
	return buyer, nil
}
