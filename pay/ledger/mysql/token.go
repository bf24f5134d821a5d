package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay/ledger/internal/sqlshared"
)

// TokenConfig names the tables and columns a TokenVerifier reads. The zero
// value names Django REST framework's authtoken_token and Django's auth_user.
// A table may be qualified with its database ("accounts.auth_user"); names
// are checked to be plain identifiers (at most 64 bytes) and quoted with
// backticks. ActiveColumn is a TINYINT(1).
type TokenConfig = sqlshared.TokenConfig

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
	n, err := cfg.Quote(64, func(parts []string) string { return "`" + strings.Join(parts, "`.`") + "`" })
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	// Django's MySQL columns compare by a case-insensitive, PAD SPACE
	// collation, under which "KEY " finds "key": the first comparison finds
	// the row through the index, the second keeps only the exact bytes.
	query := fmt.Sprintf(`SELECT u.%s, u.%s FROM %s t JOIN %s u ON u.%s = t.%s
		WHERE t.%[7]s = ? AND CAST(t.%[7]s AS BINARY) = CAST(? AS BINARY)`,
		n.Username, n.Active, n.TokenTable, n.UserTable, n.UserID, n.TokenUser, n.TokenKey)
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
