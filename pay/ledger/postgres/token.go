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
)

// TokenConfig names the tables and columns a TokenVerifier reads. The zero
// value names Django REST framework's authtoken_token and Django's auth_user.
// A table may be qualified with its schema ("accounts.auth_user"); names are
// checked to be plain identifiers and quoted, so they are case-sensitive.
type TokenConfig struct {
	// TokenTable holds the tokens; default "authtoken_token".
	TokenTable string
	// TokenKeyColumn is the token itself; default "key".
	TokenKeyColumn string
	// TokenUserColumn refers to the user; default "user_id".
	TokenUserColumn string
	// UserTable holds the users; default "auth_user".
	UserTable string
	// UserIDColumn is what TokenUserColumn refers to; default "id".
	UserIDColumn string
	// UsernameColumn is the buyer a token stands for; default "username".
	UsernameColumn string
	// ActiveColumn is a boolean, false for a deactivated user; default "is_active".
	ActiveColumn string
}

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
	names := []struct {
		field string
		value *string
		def   string
		table bool
	}{
		{"TokenTable", &cfg.TokenTable, "authtoken_token", true},
		{"TokenKeyColumn", &cfg.TokenKeyColumn, "key", false},
		{"TokenUserColumn", &cfg.TokenUserColumn, "user_id", false},
		{"UserTable", &cfg.UserTable, "auth_user", true},
		{"UserIDColumn", &cfg.UserIDColumn, "id", false},
		{"UsernameColumn", &cfg.UsernameColumn, "username", false},
		{"ActiveColumn", &cfg.ActiveColumn, "is_active", false},
	}
	quoted := make(map[string]string, len(names))
	for _, n := range names {
		if *n.value == "" {
			*n.value = n.def
		}
		parts := []string{*n.value}
		if n.table {
			parts = strings.Split(*n.value, ".")
		}
		if len(parts) > 2 || !all(parts, isIdentifier) {
			return nil, fmt.Errorf("postgres: token config: %s %q is not an identifier", n.field, *n.value)
		}
		quoted[n.field] = pgx.Identifier(parts).Sanitize()
	}
	query := fmt.Sprintf(`SELECT u.%s, u.%s FROM %s t JOIN %s u ON u.%s = t.%s WHERE t.%s = $1`,
		quoted["UsernameColumn"], quoted["ActiveColumn"], quoted["TokenTable"], quoted["UserTable"],
		quoted["UserIDColumn"], quoted["TokenUserColumn"], quoted["TokenKeyColumn"])
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

// isIdentifier reports whether s is a plain SQL identifier: a letter or
// underscore, then letters, digits, underscores or dollars, at most 63 bytes.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '$')) {
			return false
		}
	}
	return true
}

func all(ss []string, f func(string) bool) bool {
	for _, s := range ss {
		if !f(s) {
			return false
		}
	}
	return true
}
