-- payorder ledger, version 1. Tables are created unqualified, in the first
-- schema of the connection's search_path.

-- One row per order: the record (its attempts, the charges' metadata, the
-- payment, refunds and fulfilment) as JSON text written by the Ledger, and
-- until when reconciliation must look at the order (NULL: nothing due).
CREATE TABLE payorder_ledger (
	order_no  text PRIMARY KEY,
	record    text NOT NULL,
	due_until timestamptz
);
-- Due reads this index only: settled orders (due_until NULL) are not in it,
-- so their number does not slow Due down.
CREATE INDEX payorder_ledger_due_until ON payorder_ledger (due_until) WHERE due_until IS NOT NULL;

-- Every Ping++ order number used by an attempt or a charge, and the order
-- that holds it: unique across the ledger.
CREATE TABLE payorder_numbers (
	pingpp_order_no text PRIMARY KEY,
	order_no        text NOT NULL
);

-- Every charge recorded, with the charge exactly as Ping++ sent it.
CREATE TABLE payorder_charges (
	id       text PRIMARY KEY,   -- ch_…
	order_no text NOT NULL,
	raw      bytea NOT NULL      -- byte for byte: never jsonb, which would rewrite it
);
CREATE INDEX payorder_charges_order_no ON payorder_charges (order_no);

-- Payments that need a person, listed in the order recorded (seq).
CREATE TABLE payorder_anomalies (
	id         text PRIMARY KEY,
	seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	kind       text NOT NULL,
	order_no   text NOT NULL,
	charge_id  text NOT NULL,
	amount     bigint NOT NULL,
	currency   text NOT NULL,
	detail     text NOT NULL,
	event      bytea NOT NULL,   -- the Ping++ event or charge that reported it
	created_at timestamptz       -- NULL for the zero time
);
