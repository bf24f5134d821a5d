package postgres

// DueSQL is the query of Due, for the test of its plan.
const DueSQL = dueSQL
