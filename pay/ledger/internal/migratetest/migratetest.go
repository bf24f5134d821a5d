// Package migratetest holds the migration cases that the PostgreSQL and
// MySQL ledgers share: the same tables, and Migrate run again or by several
// processes at once applying each migration once.
package migratetest

import (
	"context"
	"sync"
	"testing"
)

// WantTables are the tables every ledger's migrations create, sorted.
var WantTables = []string{
	"payorder_anomalies", "payorder_charges", "payorder_ledger", "payorder_numbers", "payorder_schema_migrations",
}

// Migrate is one database connection pool's Migrate.
type Migrate func(context.Context) error

// Twice runs migrate twice in a row, failing t on an error.
func Twice(t *testing.T, migrate Migrate) {
	t.Helper()
	for i := range 2 {
		if err := migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
}

// AtOnce runs each of migrates, each a pool standing for a process starting,
// in two goroutines sharing it, all released at the same moment, and fails
// t on any error.
func AtOnce(t *testing.T, migrates ...Migrate) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(migrates))
	start := make(chan struct{})
	for _, migrate := range migrates {
		for range 2 {
			wg.Go(func() {
				<-start
				errs <- migrate(context.Background())
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
}
