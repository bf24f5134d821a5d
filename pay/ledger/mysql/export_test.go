package mysql

// Exported for the tests of package mysql_test.
var (
	DueSQL     = dueSQL
	Statements = statements
)
