// Package pgtest gives tests a PostgreSQL schema of their own: created
// fresh, migrated, selected by search_path, and dropped when the test ends,
// so that tests never collide. The server comes from
// PAYORDER_TEST_DATABASE_URL; without it the test is skipped with a message
// naming the variable.
package pgtest
