-- payorder ledger schema, version 1, in the connection's database.
--
-- MySQL commits each DDL statement on its own, so a migration is not one
-- transaction: every statement here must be safe to run again (IF NOT
-- EXISTS), for a run that stopped half way is repeated whole. Statements
-- end with a semicolon at the end of a line; lines starting with -- are
-- comments.
--
-- Keys are VARBINARY: compared byte for byte, never by a collation (utf8mb4_bin
-- is PAD SPACE: it finds order 'A1' under 'A1 '). Payorder's own encodings
-- (record) and Ping++'s bytes (raw, event) are LONGBLOB, never JSON, which
-- would normalise them. DATETIME(6) columns hold UTC; NULL is the zero time.

CREATE TABLE IF NOT EXISTS payorder_ledger (
	order_no   VARBINARY(64) NOT NULL,
	record     LONGBLOB NOT NULL,            -- the record but for charges' JSON (see record.go)
	due_until  DATETIME(6) NULL,             -- Record.DueUntil; NULL when zero
	updated_at DATETIME(6) NOT NULL,
	PRIMARY KEY (order_no),
	KEY payorder_ledger_due (due_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payorder_numbers (
	pingpp_order_no VARBINARY(64) NOT NULL,  -- the order_no sent to Ping++
	order_no        VARBINARY(64) NOT NULL,  -- the order holding it
	PRIMARY KEY (pingpp_order_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payorder_charges (
	id       VARBINARY(64) NOT NULL,         -- ch_…
	order_no VARBINARY(64) NOT NULL,
	raw      LONGBLOB NOT NULL,              -- the charge exactly as Ping++ sent it
	PRIMARY KEY (id),
	KEY payorder_charges_order (order_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payorder_anomalies (
	seq        BIGINT NOT NULL AUTO_INCREMENT, -- recording order
	id         VARBINARY(255) NOT NULL,
	kind       VARCHAR(64) NOT NULL,
	order_no   VARBINARY(255) NOT NULL,       -- empty when nothing names an order
	charge_id  VARBINARY(255) NOT NULL,
	amount     BIGINT NOT NULL,               -- fen
	currency   VARCHAR(16) NOT NULL,
	detail     LONGTEXT NOT NULL,
	event      LONGBLOB NULL,                 -- the reporting event or charge, byte for byte
	created_at DATETIME(6) NULL,
	PRIMARY KEY (seq),
	UNIQUE KEY payorder_anomalies_id (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
