// Package sqlshared holds what the SQL ledgers (postgres, mysql) share that
// is not SQL of one dialect: the loader of their embedded migrations and the
// names of Django's token tables.
package sqlshared

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string // its file name
	SQL     string
}

// Migrations returns the migrations in dir of fsys, oldest first. Their
// file names are NNN_name.sql; a name that does not start with a positive
// version, or two files of one version, is an error.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and _", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// TokenConfig names the tables and columns a Django token verifier reads.
// The zero value names Django REST framework's authtoken_token and Django's
// auth_user. A table may be qualified ("accounts.auth_user"); names must be
// plain identifiers, and are quoted.
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
	// ActiveColumn is a boolean, false for a deactivated user; default
	// "is_active".
	ActiveColumn string
}

// TokenNames are the names of a TokenConfig, quoted for one dialect.
type TokenNames struct {
	TokenTable, TokenKey, TokenUser, UserTable, UserID, Username, Active string
}

// Quote checks c's names (defaults filled in), each at most maxLen bytes,
// and quotes them with quote, which gets the dot-separated parts of one
// name.
func (c TokenConfig) Quote(maxLen int, quote func(parts []string) string) (TokenNames, error) {
	var n TokenNames
	for _, f := range []struct {
		field string
		value string
		def   string
		table bool
		out   *string
	}{
		{"TokenTable", c.TokenTable, "authtoken_token", true, &n.TokenTable},
		{"TokenKeyColumn", c.TokenKeyColumn, "key", false, &n.TokenKey},
		{"TokenUserColumn", c.TokenUserColumn, "user_id", false, &n.TokenUser},
		{"UserTable", c.UserTable, "auth_user", true, &n.UserTable},
		{"UserIDColumn", c.UserIDColumn, "id", false, &n.UserID},
		{"UsernameColumn", c.UsernameColumn, "username", false, &n.Username},
		{"ActiveColumn", c.ActiveColumn, "is_active", false, &n.Active},
	} {
		value := f.value
		if value == "" {
			value = f.def
		}
		parts := []string{value}
		if f.table {
			parts = strings.Split(value, ".")
		}
		if len(parts) > 2 || slices.ContainsFunc(parts, func(p string) bool { return !isIdentifier(p, maxLen) }) {
			return TokenNames{}, fmt.Errorf("token config: %s %q is not an identifier", f.field, value)
		}
		*f.out = quote(parts)
	}
	return n, nil
}

// isIdentifier reports whether s is a plain SQL identifier: a letter or
// underscore, then letters, digits, underscores or dollars, at most maxLen
// bytes.
func isIdentifier(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
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
