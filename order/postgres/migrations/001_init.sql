-- payorder schema, version 1. Tables are created unqualified, in the first
-- schema of the connection's search_path.

CREATE TABLE payorder_orders (
	no                     text PRIMARY KEY,
	buyer                  text NOT NULL,
	amount                 bigint NOT NULL,          -- fen
	currency               text NOT NULL,
	subject                text NOT NULL,
	body                   text NOT NULL,
	metadata               jsonb,                    -- NULL for no metadata
	status                 text NOT NULL,
	created_at             timestamptz,              -- NULL for the zero time
	expires_at             timestamptz,              -- NULL: never expires
	paid                   jsonb,                    -- the paying order.Payment; NULL while unpaid
	refunds                jsonb NOT NULL DEFAULT '[]', -- succeeded order.Refunds, in order recorded
	fulfilled_at           timestamptz,
	fulfilment_lease_until timestamptz,
	fulfilment_claim       text NOT NULL DEFAULT '',  -- id of the claim in force
	updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payorder_charges (
	seq             bigint GENERATED ALWAYS AS IDENTITY,        -- recording order
	id              text PRIMARY KEY,                           -- ch_…
	order_no        text NOT NULL REFERENCES payorder_orders (no) ON UPDATE CASCADE,
	pingpp_order_no text NOT NULL,
	channel         text NOT NULL,
	amount          bigint NOT NULL,
	currency        text NOT NULL,
	extra_key       text NOT NULL,
	app_id          text NOT NULL,
	livemode        boolean NOT NULL,
	created_at      timestamptz,
	expires_at      timestamptz,
	raw             bytea NOT NULL                              -- the charge exactly as Ping++ returned it
);
CREATE INDEX payorder_charges_order_no ON payorder_charges (order_no, seq);
CREATE INDEX payorder_charges_expires_at ON payorder_charges (expires_at);

CREATE TABLE payorder_anomalies (
	seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id         text PRIMARY KEY,
	kind       text NOT NULL,
	order_no   text NOT NULL,
	charge_id  text NOT NULL,
	amount     bigint NOT NULL,
	currency   text NOT NULL,
	detail     text NOT NULL,
	event      bytea NOT NULL,  -- the Ping++ event or charge that reported it
	created_at timestamptz,
	recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Leases of Store.Lock. Unlogged, so that taking and releasing one writes no
-- WAL and waits for no fsync: a lease matters only while its holder waits on
-- Ping++. A database crash empties the table; a holder still waiting then
-- shares the order with the next caller, and both send Ping++ the same
-- request, which Ping++'s idempotency window answers with one charge.
CREATE UNLOGGED TABLE payorder_locks (
	key        text PRIMARY KEY,
	holder     text NOT NULL,
	expires_at timestamptz NOT NULL
);
