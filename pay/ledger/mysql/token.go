package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/yianpay/payorder"
)

// TokenConfig names the tables and columns a TokenVerifier reads. The zero
// value names Django REST framework's authtoken_token and Django's auth_user.
// A table may be qualified with its database ("accounts.auth_user"); names
// are checked to be plain identifiers and quoted with backticks.
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
	// ActiveColumn is a boolean (TINYINT(1)), false for a deactivated user;
	// default "is_active".
	ActiveColumn string
}

// TokenVerifier implements pay.TokenVerifier over the login tokens of a
// Django REST framework application (rest_framework.authtoken) on MySQL or
// MariaDB: the buyer of a token is its user's username.
type TokenVerifier struct {
	db    *sql.DB
	query string
}

// NewTokenVerifier returns a verifier reading the tables cfg names through
// db. It returns an error when a name is not an identifier; it does not
// check that the tables exist.
func NewTokenVerifier(db *sql.DB, cfg TokenConfig) (*TokenVerifier, error) {
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
		if len(parts) > 2 || !allIdentifiers(parts) {
			return nil, fmt.Errorf("mysql: token config: %s %q is not an identifier", n.field, *n.value)
		}
		quoted[n.field] = "`" + strings.Join(parts, "`.`") + "`"
	}
	// Django's MySQL columns compare by a case-insensitive, PAD SPACE
	// collation, under which "KEY " finds "key": the first comparison finds
	// the row through the index, the second keeps only the exact bytes.
	query := fmt.Sprintf(`SELECT u.%s, u.%s FROM %s t JOIN %s u ON u.%s = t.%s
		WHERE t.%[7]s = ? AND CAST(t.%[7]s AS BINARY) = CAST(? AS BINARY)`,
		quoted["UsernameColumn"], quoted["ActiveColumn"], quoted["TokenTable"], quoted["UserTable"],
		quoted["UserIDColumn"], quoted["TokenUserColumn"], quoted["TokenKeyColumn"])
	return &TokenVerifier{db: db, query: query}, nil
}

// VerifyToken returns the username of token's user. An unknown token
// returns payorder.ErrInvalidToken, and a token of an inactive user
// payorder.ErrUserInactive; any other error is a failure to ask the
// database.
func (v *TokenVerifier) VerifyToken(ctx context.Context, token string) (string, error) {
	// Such a token cannot be stored in a utf8mb4 column.
	if token == "" || !utf8.ValidString(token) || strings.ContainsRune(token, 0) {
		return "", payorder.ErrInvalidToken
	}
	var (
		buyer  string
		active bool
	)
	err := v.db.QueryRowContext(ctx, v.query, token, token).Scan(&buyer, &active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", payorder.ErrInvalidToken
	case err != nil:
		return "", fmt.Errorf("mysql: verifying token: %w", err)
	case !active:
		return "", payorder.ErrUserInactive
	}
	return buyer, nil
}

// isIdentifier reports whether s is a plain identifier: a letter or
// underscore, then letters, digits, underscores or dollars, at most 64
// bytes (MySQL's limit).
func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
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

func allIdentifiers(ss []string) bool {
	for _, s := range ss {
		if !isIdentifier(s) {
			return false
		}
	}
	return true
}
