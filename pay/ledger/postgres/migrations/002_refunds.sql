-- payorder ledger, version 2: refunds payorder makes. Refund attempts live
-- in the record (payorder_ledger.record); a double payment's anomaly is
-- marked resolved once its charge is refunded.
ALTER TABLE payorder_anomalies ADD COLUMN resolved_at timestamptz; -- NULL while it needs a person
