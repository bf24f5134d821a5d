package pay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// ledgerKind opens n ledgers over one empty store of its kind: n instances
// of a service sharing a database. Memory, which cannot share its store,
// returns the same *Memory n times, on the clock now.
type ledgerKind struct {
	name string
	open func(t testing.TB, n int, now func() time.Time) []ledger.Ledger
}

// ledgerKinds are the ledgers the refund tests run on; PostgreSQL and MySQL
// skip without PAYORDER_TEST_DATABASE_URL and PAYORDER_TEST_MYSQL_URL.
func ledgerKinds() []ledgerKind {
	return []ledgerKind{
		{"memory", func(_ testing.TB, n int, now func() time.Time) []ledger.Ledger {
			m := &ledger.Memory{Now: now}
			return instances(n, func() ledger.Ledger { return m })
		}},
		{"postgres", func(t testing.TB, n int, _ func() time.Time) []ledger.Ledger {
			db := pgtest.New(t)
			return instances(n, func() ledger.Ledger { return postgres.New(db.Pool(t), postgres.Config{}) })
		}},
		{"mysql", func(t testing.TB, n int, _ func() time.Time) []ledger.Ledger {
			db := mysqltest.New(t)
			return instances(n, func() ledger.Ledger { return mysql.New(db.Open(t), mysql.Config{}) })
		}},
	}
}

// instances returns n ledgers made by open.
func instances(n int, open func() ledger.Ledger) []ledger.Ledger {
	ls := make([]ledger.Ledger, n)
	for i := range ls {
		ls[i] = open()
	}
	return ls
}

// eachLedger runs test on every ledger kind, in parallel.
func eachLedger(t *testing.T, test func(t *testing.T, k ledgerKind)) {
	for _, k := range ledgerKinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			test(t, k)
		})
	}
}

// refundEnv is an emulator with manual webhooks and n Services over one
// ledger, each with a webhook handler, and orders paid through them.
type refundEnv struct {
	emu      *pingpptest.Server
	client   *pingxx.Client
	store    *order.MemStore
	clock    *clock
	ledgers  []ledger.Ledger
	svcs     []*pay.Service
	webhooks []*pay.WebhookHandler
	notices  *notices
}

// notices records the OnRefunded calls.
type notices struct {
	mu   sync.Mutex
	runs map[string]int // by RefundNotice.ID
	fail atomic.Bool    // fail every call
}

func (n *notices) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runs[id]
}

func setupRefunds(t *testing.T, k ledgerKind, n int) *refundEnv {
	t.Helper()
	clk := newClock(time.Now().Truncate(time.Second))
	emu := pingpptest.NewServer(pingpptest.Config{Now: clk.Now, ManualWebhooks: true})
	t.Cleanup(emu.Close)
	client, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(), Now: clk.Now, RetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &refundEnv{emu: emu, client: client, store: &order.MemStore{}, clock: clk, notices: &notices{runs: map[string]int{}}}
	e.ledgers = k.open(t, n, clk.Now)
	for _, l := range e.ledgers {
		svc, err := pay.New(pay.Config{
			AppID: pingpptest.DefaultAppID, Now: clk.Now, Channels: []channel.Channel{channel.Alipay, channel.Wx},
			OnRefunded: func(ctx context.Context, rn pay.RefundNotice) error {
				if e.notices.fail.Load() {
					return errors.New("host down")
				}
				e.notices.mu.Lock()
				e.notices.runs[rn.ID]++
				e.notices.mu.Unlock()
				return nil
			},
		}, e.store, l, client)
		if err != nil {
			t.Fatal(err)
		}
		wh, err := pay.NewWebhookHandler(svc, emu.WebhookPublicKey())
		if err != nil {
			t.Fatal(err)
		}
		e.svcs, e.webhooks = append(e.svcs, svc), append(e.webhooks, wh)
	}
	return e
}

// order puts order no of amount fen in the host's store.
func (e *refundEnv) order(t testing.TB, no string, amount int64) {
	t.Helper()
	if err := e.store.Put(order.Order{No: no, Buyer: seedBuyer, Amount: amount, Currency: "cny", Subject: "课程"}); err != nil {
		t.Fatal(err)
	}
}

// pay makes a charge of order no on ch, pays it at the emulator and
// delivers its charge.succeeded event to the first service.
func (e *refundEnv) pay(t testing.TB, no string, ch channel.Channel) *pingxx.Charge {
	t.Helper()
	c, err := e.svcs[0].PayForOrder(t.Context(), no, ch, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.emu.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	e.deliverLast(t, pay.EventChargeSucceeded)
	return whole(t, c)
}

// deliverLast posts the emulator's newest event of typ, signed, to the
// first service's webhook handler, and fails unless it is acknowledged.
func (e *refundEnv) deliverLast(t testing.TB, typ string) {
	t.Helper()
	if code := e.postLast(t, typ); code != http.StatusOK {
		t.Fatalf("webhook %s answered %d", typ, code)
	}
}

// postLast posts the emulator's newest event of typ, signed, to the first
// service's webhook handler and returns the answer's status.
func (e *refundEnv) postLast(t testing.TB, typ string) int {
	t.Helper()
	events := e.emu.Events()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type != typ {
			continue
		}
		payload, _ := e.emu.EventJSON(events[i].ID)
		sig, err := e.emu.SignWebhook(payload)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/pay/webhook/", bytes.NewReader(payload))
		r.Header.Set("X-Pingplusplus-Signature", sig)
		return serve(e.webhooks[0], r)
	}
	t.Fatalf("no %s event", typ)
	return 0
}

func (e *refundEnv) record(t testing.TB, no string) *ledger.Record {
	t.Helper()
	rec, err := e.svcs[0].Record(t.Context(), no)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// anomaly returns the anomaly with id, failing t when there is none.
func (e *refundEnv) anomaly(t testing.TB, id string) ledger.Anomaly {
	t.Helper()
	all, err := e.svcs[0].Anomalies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no anomaly %s among %d", id, len(all))
	return ledger.Anomaly{}
}

// refundedAtPingpp is the total of the charge's succeeded refunds as the
// emulator holds them.
func (e *refundEnv) refundedAtPingpp(t testing.TB, chargeID string) (total int64, refunds int) {
	t.Helper()
	list, err := e.client.ListRefunds(t.Context(), chargeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range list {
		if rf.Status == "succeeded" {
			total += rf.Amount
		}
	}
	return total, len(list)
}

func refundReq(id string) pay.RefundRequest {
	return pay.RefundRequest{ID: id, Description: "退一节课"}
}

// TestRefundLostAnswerThenRetryMakesOneRefund: Ping++ makes the refund but
// its answer is lost, and listing the charge's refunds fails too, so the
// call cannot know. A retry with the same request id finds the refund by
// listing and never asks for a second one; a third call is answered from
// the ledger.
func TestRefundLostAnswerThenRetryMakesOneRefund(t *testing.T) {
	eachLedger(t, func(t *testing.T, k ledgerKind) {
		e := setupRefunds(t, k, 1)
		e.order(t, "LOST1", 9900)
		c := e.pay(t, "LOST1", channel.Alipay)
		svc := e.svcs[0]
		e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateRefund, Kind: pingpptest.FaultReset, After: true, Times: 1})
		e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListRefunds, Kind: pingpptest.FaultHTTP503JSON})
		att, err := svc.Refund(t.Context(), "LOST1", 3000, refundReq("req-lost"))
		if !errors.Is(err, payorder.ErrRefundUnknown) || att.State != ledger.RefundUnknown {
			t.Fatalf("Refund with the answer lost = %+v, %v; want RefundUnknown and ErrRefundUnknown", att, err)
		}
		// The unknown refund holds its amount.
		if left, _ := e.record(t, "LOST1").Refundable(c.ID); left != 6900 {
			t.Errorf("refundable while the outcome is unknown = %d; want 6900", left)
		}
		if _, err := svc.Refund(t.Context(), "LOST1", 6901, refundReq("req-other")); !errors.Is(err, payorder.ErrRefundTooLarge) {
			t.Errorf("refund of more than the rest = %v; want ErrRefundTooLarge", err)
		}
		e.emu.ClearFaults()
		for i := range 2 {
			att, err = svc.Refund(t.Context(), "LOST1", 3000, refundReq("req-lost"))
			if err != nil || att.State != ledger.RefundSucceeded || att.RefundID == "" {
				t.Fatalf("retry #%d = %+v, %v; want the refund found, succeeded", i+1, att, err)
			}
		}
		if got := e.emu.Stats().RefundRequests; got != 1 {
			t.Errorf("the emulator got %d refund requests; want 1", got)
		}
		if total, n := e.refundedAtPingpp(t, c.ID); total != 3000 || n != 1 {
			t.Errorf("Ping++ holds %d refunds of %d fen in all; want one of 3000", n, total)
		}
		rec := e.record(t, "LOST1")
		if rec.Status() != ledger.StatusPartiallyRefunded || len(rec.Refunds) != 1 || rec.Refunds[0].RequestID != "req-lost" {
			t.Errorf("status %s, refunds %+v; want partially_refunded with the one refund", rec.Status(), rec.Refunds)
		}
		if n := e.notices.count(rec.Refunds[0].Notice.ID); n != 1 {
			t.Errorf("OnRefunded ran %d times; want 1", n)
		}
	})
}

// TestConcurrentRefundsAcrossInstancesNeverExceedPaid: 20 refunds of 700
// fen of a 9900 fen order at once, through three services sharing one
// ledger. Exactly 14 fit; the others are refused before Ping++ is asked.
func TestConcurrentRefundsAcrossInstancesNeverExceedPaid(t *testing.T) {
	eachLedger(t, func(t *testing.T, k ledgerKind) {
		const n, amount, paid = 20, 700, 9900
		e := setupRefunds(t, k, 3)
		e.order(t, "CONC1", paid)
		c := e.pay(t, "CONC1", channel.Alipay)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = e.svcs[i%3].Refund(context.Background(), "CONC1", amount, refundReq(fmt.Sprint("conc-", i)))
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, payorder.ErrRefundTooLarge):
				t.Errorf("Refund: %v; want nil or ErrRefundTooLarge", err)
			}
		}
		total, refunds := e.refundedAtPingpp(t, c.ID)
		if ok != paid/amount || total != int64(ok)*amount || refunds != ok {
			t.Errorf("%d refunds succeeded, Ping++ holds %d refunds of %d fen; want %d refunds of %d fen", ok, refunds, total, paid/amount, paid/amount*amount)
		}
		if got := e.emu.Stats().RefundRequests; got != int64(ok) {
			t.Errorf("the emulator got %d refund requests; want %d (the refused ones never reach it)", got, ok)
		}
		if left, err := e.record(t, "CONC1").Refundable(c.ID); left != paid%amount || err != nil {
			t.Errorf("refundable after the race = %d, %v; want %d", left, err, paid%amount)
		}
	})
}

// TestFailedRefundFreesItsAmount: a refund the channel refuses at once
// (HTTP 200, status failed) and one that fails later, found by Reconcile,
// give their amount back; a full refund then succeeds.
func TestFailedRefundFreesItsAmount(t *testing.T) {
	eachLedger(t, func(t *testing.T, k ledgerKind) {
		e := setupRefunds(t, k, 1)
		svc := e.svcs[0]
		e.order(t, "FAIL1", 9900)
		c := e.pay(t, "FAIL1", channel.Alipay)

		e.emu.SetRefundPolicy(pingpptest.RefundPolicy{Outcome: pingpptest.RefundFails})
		att, err := svc.Refund(t.Context(), "FAIL1", 0, refundReq("refused"))
		if !errors.Is(err, payorder.ErrRefundRefused) || att.State != ledger.RefundFailed {
			t.Fatalf("refused refund = %+v, %v; want RefundFailed and ErrRefundRefused", att, err)
		}
		if _, err := svc.Refund(t.Context(), "FAIL1", 0, refundReq("refused")); !errors.Is(err, payorder.ErrRefundRefused) {
			t.Errorf("the same request again = %v; want its outcome, ErrRefundRefused", err)
		}

		e.emu.SetRefundPolicy(pingpptest.RefundPolicy{Outcome: pingpptest.RefundStaysPending})
		att, err = svc.Refund(t.Context(), "FAIL1", 0, refundReq("held"))
		if err != nil || att.State != ledger.RefundPending || att.Amount != 9900 {
			t.Fatalf("held refund = %+v, %v; want pending for 9900", att, err)
		}
		if _, err := svc.Refund(t.Context(), "FAIL1", 1, refundReq("meanwhile")); !errors.Is(err, payorder.ErrNothingToRefund) {
			t.Errorf("refund while the whole amount is pending = %v; want ErrNothingToRefund", err)
		}
		if err := e.emu.FailRefund(att.RefundID, ""); err != nil {
			t.Fatal(err)
		}
		if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if a := e.record(t, "FAIL1").RefundAttempt("held"); a.State != ledger.RefundFailed {
			t.Fatalf("after Reconcile the held refund is %s; want failed", a.State)
		}

		e.emu.SetRefundPolicy(pingpptest.RefundPolicy{})
		att, err = svc.Refund(t.Context(), "FAIL1", 0, refundReq("full"))
		if err != nil || att.State != ledger.RefundSucceeded || att.Amount != 9900 {
			t.Fatalf("full refund after the failures = %+v, %v; want 9900 succeeded", att, err)
		}
		if rec := e.record(t, "FAIL1"); rec.Status() != ledger.StatusRefunded {
			t.Errorf("status %s; want refunded", rec.Status())
		}
		if total, _ := e.refundedAtPingpp(t, c.ID); total != 9900 {
			t.Errorf("Ping++ refunded %d; want 9900", total)
		}
		if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
			t.Errorf("Reconcile after all: %v", err)
		}
	})
}

// TestDoublePaymentRefundedAndAnomalyResolved: a second charge pays a paid
// order; refunding its anomaly refunds that charge in full, marks the
// anomaly resolved, and leaves the order paid.
func TestDoublePaymentRefundedAndAnomalyResolved(t *testing.T) {
	eachLedger(t, func(t *testing.T, k ledgerKind) {
		e := setupRefunds(t, k, 1)
		svc := e.svcs[0]
		e.order(t, "DOUBLE1", 9900)
		// Two charges handed out, then both paid.
		var charges []*pingxx.Charge
		for _, ch := range []channel.Channel{channel.Alipay, channel.Wx} {
			c, err := svc.PayForOrder(t.Context(), "DOUBLE1", ch, pay.AsServer())
			if err != nil {
				t.Fatal(err)
			}
			charges = append(charges, whole(t, c))
		}
		for _, c := range charges {
			if err := e.emu.Pay(c.ID); err != nil {
				t.Fatal(err)
			}
			e.deliverLast(t, pay.EventChargeSucceeded)
		}
		first, second := charges[0], charges[1]
		anomalyID := ledger.AnomalyID(ledger.AnomalyDoublePayment, second.ID)
		att, err := svc.Refund(t.Context(), "DOUBLE1", 0, pay.RefundRequest{ID: "dbl", Description: "重复支付退款", Anomaly: anomalyID})
		if err != nil || att.State != ledger.RefundSucceeded || att.ChargeID != second.ID || att.Amount != 9900 {
			t.Fatalf("refund of the double payment = %+v, %v; want %s refunded in full", att, err, second.ID)
		}
		all, err := svc.Anomalies(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		resolved := false
		for _, a := range all {
			if a.ID == anomalyID {
				resolved = !a.Resolved.IsZero()
			}
		}
		if !resolved {
			t.Errorf("anomaly %s not resolved: %+v", anomalyID, all)
		}
		rec := e.record(t, "DOUBLE1")
		if rec.Status() != ledger.StatusPaid || rec.Payment.ChargeID != first.ID {
			t.Errorf("order %s paid by %s; want paid by %s, untouched", rec.Status(), rec.Payment.ChargeID, first.ID)
		}
		if total, _ := e.refundedAtPingpp(t, first.ID); total != 0 {
			t.Errorf("the paying charge was refunded %d", total)
		}
		if _, err := svc.Refund(t.Context(), "DOUBLE1", 0, pay.RefundRequest{ID: "dbl2", Description: "again", Anomaly: anomalyID}); !errors.Is(err, payorder.ErrNothingToRefund) {
			t.Errorf("refunding the anomaly again = %v; want ErrNothingToRefund", err)
		}
	})
}

// TestRefundSucceededEventMovesPendingRefund: a pending refund becomes
// succeeded by its webhook; a failing hook makes the delivery fail, so that
// Ping++ delivers it again; the hook runs once across redeliveries.
func TestRefundSucceededEventMovesPendingRefund(t *testing.T) {
	e := setupRefunds(t, ledgerKinds()[0], 1)
	svc := e.svcs[0]
	e.order(t, "EVT1", 9900)
	e.pay(t, "EVT1", channel.Alipay)
	e.emu.SetRefundPolicy(pingpptest.RefundPolicy{Outcome: pingpptest.RefundStaysPending})
	att, err := svc.Refund(t.Context(), "EVT1", 100, refundReq("evt"))
	if err != nil || att.State != ledger.RefundPending {
		t.Fatalf("Refund = %+v, %v; want pending", att, err)
	}
	if err := e.emu.SucceedRefund(att.RefundID); err != nil {
		t.Fatal(err)
	}
	e.notices.fail.Store(true)
	if code := e.postLast(t, pay.EventRefundSucceeded); code != http.StatusInternalServerError {
		t.Errorf("delivery while the hook fails answered %d; want 500, for Ping++ to deliver it again", code)
	}
	rec := e.record(t, "EVT1")
	if a := rec.RefundAttempt("evt"); a.State != ledger.RefundSucceeded || rec.Status() != ledger.StatusPartiallyRefunded {
		t.Fatalf("after refund.succeeded: attempt %s, order %s; want succeeded, partially_refunded", a.State, rec.Status())
	}
	e.notices.fail.Store(false)
	e.deliverLast(t, pay.EventRefundSucceeded)
	e.deliverLast(t, pay.EventRefundSucceeded)
	if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := e.notices.count("rfn_" + att.RefundID); n != 1 {
		t.Errorf("OnRefunded ran %d times; want 1", n)
	}
}

// TestUnconfirmedRefundHoldsItsAmount: a refund request sent without an
// answer and not found RefundSettle later becomes a refund_unconfirmed
// anomaly and keeps holding its amount, so that no other refund can use it
// while the request may still land. When it lands after all, it is
// recorded and the anomaly resolved, also when it is found by the abandon's
// last look; when a person abandons it, its amount is free and the anomaly
// resolved.
func TestUnconfirmedRefundHoldsItsAmount(t *testing.T) {
	e := setupRefunds(t, ledgerKinds()[0], 1)
	svc := e.svcs[0]
	unconfirmed := func(t *testing.T, no string) *pingxx.Charge {
		t.Helper()
		e.order(t, no, 500)
		c := e.pay(t, no, channel.Alipay)
		e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateRefund, Kind: pingpptest.FaultReset, Times: 1})
		if _, err := svc.Refund(t.Context(), no, 0, refundReq("lost")); !errors.Is(err, payorder.ErrRefundUnknown) {
			t.Fatalf("Refund = %v; want ErrRefundUnknown", err)
		}
		if _, err := svc.AbandonRefund(t.Context(), no, "lost", "not in the dashboard"); !errors.Is(err, payorder.ErrInvalidRequest) {
			t.Errorf("AbandonRefund before RefundSettle = %v; want ErrInvalidRequest", err)
		}
		e.clock.Advance(pay.RefundSettle)
		if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
			t.Fatal(err)
		}
		rec := e.record(t, no)
		if a := rec.RefundAttempt("lost"); a.State != ledger.RefundUnknown || a.UnconfirmedAt.IsZero() {
			t.Fatalf("attempt after RefundSettle: %+v; want unknown, unconfirmed", a)
		}
		if left, _ := rec.Refundable(c.ID); left != 0 {
			t.Errorf("refundable while unconfirmed = %d; want 0 (held)", left)
		}
		if _, err := svc.Refund(t.Context(), no, 0, refundReq("another")); !errors.Is(err, payorder.ErrNothingToRefund) {
			t.Errorf("another refund while unconfirmed = %v; want ErrNothingToRefund", err)
		}
		if a := e.anomaly(t, ledger.RefundUnconfirmedAnomalyID(no, "lost")); a.Kind != ledger.AnomalyRefundUnconfirmed || !a.Resolved.IsZero() || a.Amount != 500 {
			t.Errorf("anomaly %+v; want an unresolved refund_unconfirmed of 500", a)
		}
		return c
	}

	t.Run("LandsLate", func(t *testing.T) {
		c := unconfirmed(t, "LATE2")
		// The lost request reaches Ping++ at last.
		if _, err := e.client.CreateRefund(t.Context(), c.ID, &pingxx.RefundParams{Amount: 500, Description: "退款",
			Metadata: map[string]any{pay.MetadataRefundRequestID: "lost", "order_no": "LATE2"}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
			t.Fatal(err)
		}
		rec := e.record(t, "LATE2")
		if a := rec.RefundAttempt("lost"); a.State != ledger.RefundSucceeded || len(rec.Refunds) != 1 {
			t.Errorf("after the late refund: attempt %+v, refunds %+v; want succeeded, one refund", a, rec.Refunds)
		}
		if a := e.anomaly(t, ledger.RefundUnconfirmedAnomalyID("LATE2", "lost")); a.Resolved.IsZero() {
			t.Errorf("anomaly %+v; want resolved", a)
		}
	})
	t.Run("Abandoned", func(t *testing.T) {
		c := unconfirmed(t, "ABANDON1")
		a, err := svc.AbandonRefund(t.Context(), "ABANDON1", "lost", "not in the dashboard after an hour")
		if err != nil || a.State != ledger.RefundFailed {
			t.Fatalf("AbandonRefund = %+v, %v; want failed", a, err)
		}
		if left, _ := e.record(t, "ABANDON1").Refundable(c.ID); left != 500 {
			t.Errorf("refundable after abandon = %d; want 500", left)
		}
		if a := e.anomaly(t, ledger.RefundUnconfirmedAnomalyID("ABANDON1", "lost")); a.Resolved.IsZero() {
			t.Errorf("anomaly %+v; want resolved", a)
		}
		if _, err := svc.Refund(t.Context(), "ABANDON1", 0, refundReq("lost")); !errors.Is(err, payorder.ErrRefundRefused) {
			t.Errorf("the abandoned request id again = %v; want ErrRefundRefused", err)
		}
		if att, err := svc.Refund(t.Context(), "ABANDON1", 0, refundReq("again")); err != nil || att.State != ledger.RefundSucceeded {
			t.Errorf("a new refund after abandon = %+v, %v; want succeeded", att, err)
		}
	})
	t.Run("FoundWhenAbandoned", func(t *testing.T) {
		c := unconfirmed(t, "ABANDON2")
		// The lost request lands before the person's abandon, which looks once more.
		if _, err := e.client.CreateRefund(t.Context(), c.ID, &pingxx.RefundParams{Amount: 500, Description: "退款",
			Metadata: map[string]any{pay.MetadataRefundRequestID: "lost", "order_no": "ABANDON2"}}); err != nil {
			t.Fatal(err)
		}
		a, err := svc.AbandonRefund(t.Context(), "ABANDON2", "lost", "not in the dashboard")
		if err != nil || a.State != ledger.RefundSucceeded {
			t.Fatalf("AbandonRefund of a refund that landed = %+v, %v; want it recorded, succeeded", a, err)
		}
		if a := e.anomaly(t, ledger.RefundUnconfirmedAnomalyID("ABANDON2", "lost")); a.Resolved.IsZero() {
			t.Errorf("anomaly %+v; want resolved", a)
		}
	})
	if got := e.emu.Stats().RefundsCreated; got != 3 {
		t.Errorf("%d refunds created; want 3 (two late ones and the one after the abandon)", got)
	}
}

func TestRefundErrors(t *testing.T) {
	e := setupRefunds(t, ledgerKinds()[0], 1)
	svc := e.svcs[0]
	e.order(t, "UNPAID1", 100)
	e.order(t, "PAID1", 100)
	e.pay(t, "PAID1", channel.Alipay)
	if _, err := svc.Refund(t.Context(), "PAID1", 100, refundReq("r1")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		no     string
		amount int64
		req    pay.RefundRequest
		want   error
	}{
		{"ErrInvalidRequest/NoID", "PAID1", 1, pay.RefundRequest{Description: "x"}, payorder.ErrInvalidRequest},
		{"ErrInvalidRequest/NoDescription", "PAID1", 1, pay.RefundRequest{ID: "r2"}, payorder.ErrInvalidRequest},
		{"ErrInvalidRequest/NegativeAmount", "PAID1", -1, refundReq("r2"), payorder.ErrInvalidRequest},
		{"ErrInvalidRequest/FundingSource", "PAID1", 1, pay.RefundRequest{ID: "r2", Description: "x", FundingSource: "gold"}, payorder.ErrInvalidRequest},
		{"ErrInvalidRequest/SameIDOtherAmount", "PAID1", 50, refundReq("r1"), payorder.ErrInvalidRequest},
		{"ErrInvalidRequest/NotAnAnomaly", "PAID1", 0, pay.RefundRequest{ID: "r2", Description: "x", Anomaly: "double_payment:ch_x"}, payorder.ErrInvalidRequest},
		{"ErrOrderNotFound", "NOSUCH1", 1, refundReq("r2"), payorder.ErrOrderNotFound},
		{"ErrOrderNotPaid", "UNPAID1", 1, refundReq("r2"), payorder.ErrOrderNotPaid},
		{"ErrNothingToRefund", "PAID1", 0, refundReq("r2"), payorder.ErrNothingToRefund},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := svc.Refund(t.Context(), tt.no, tt.amount, tt.req); !errors.Is(err, tt.want) {
				t.Errorf("Refund = %v; want %v", err, tt.want)
			}
		})
	}
	if got := e.emu.Stats().RefundRequests; got != 1 {
		t.Errorf("the emulator got %d refund requests; want only the first", got)
	}
}

// pausingRefunds parks one CreateRefund, before or after Ping++ made the
// refund, until resume is closed: an instance paused while it holds the
// refund attempt.
type pausingRefunds struct{ *pausingGateway }

func (g pausingRefunds) CreateRefund(ctx context.Context, id string, p *pingxx.RefundParams) (rf *pingxx.Refund, err error) {
	g.park(func() { rf, err = g.Gateway.CreateRefund(ctx, id, p) })
	return rf, err
}

// TestPausedRefundHolderIsTakenOver: an instance paused past its lease while
// it holds a refund attempt is taken over by another with the same request
// id. Whether the paused one had sent its request or not, Ping++ gets one
// refund request, and both callers end with the same refund.
func TestPausedRefundHolderIsTakenOver(t *testing.T) {
	for _, tt := range []struct {
		name      string
		afterSend bool
	}{{"PausedAfterSend", true}, {"PausedBeforeSend", false}} {
		t.Run(tt.name, func(t *testing.T) {
			e := setupRefunds(t, ledgerKinds()[0], 1)
			e.order(t, "PAUSE1", 9900)
			e.pay(t, "PAUSE1", channel.Alipay)
			other := e.svcs[0]
			gw := pausingRefunds{&pausingGateway{Gateway: e.client, afterSend: tt.afterSend, paused: make(chan struct{}), resume: make(chan struct{})}}
			paused, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now}, e.store, e.ledgers[0], gw)
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				att ledger.RefundAttempt
				err error
			}
			done := make(chan result, 1)
			go func() {
				att, err := paused.Refund(context.Background(), "PAUSE1", 1000, refundReq("paused"))
				done <- result{att, err}
			}()
			<-gw.paused
			e.clock.Advance(pay.DefaultLockTTL + time.Second)
			att, err := other.Refund(t.Context(), "PAUSE1", 1000, refundReq("paused"))
			if tt.afterSend && (err != nil || att.State != ledger.RefundSucceeded) {
				t.Fatalf("takeover after the send = %+v, %v; want the paused one's refund found", att, err)
			}
			if !tt.afterSend && !errors.Is(err, payorder.ErrRefundUnknown) {
				t.Fatalf("takeover before the send = %+v, %v; want ErrRefundUnknown (nothing at Ping++ yet)", att, err)
			}
			close(gw.resume)
			r := <-done
			if r.err != nil || r.att.State != ledger.RefundSucceeded {
				t.Fatalf("the paused caller got %+v, %v; want the refund, succeeded", r.att, r.err)
			}
			att, err = other.Refund(t.Context(), "PAUSE1", 1000, refundReq("paused"))
			if err != nil || att.RefundID != r.att.RefundID {
				t.Errorf("after both: %+v, %v; want refund %s", att, err, r.att.RefundID)
			}
			if got := e.emu.Stats().RefundRequests; got != 1 {
				t.Errorf("the emulator got %d refund requests; want 1", got)
			}
			if rec := e.record(t, "PAUSE1"); len(rec.Refunds) != 1 || rec.Refunds[0].Amount != 1000 {
				t.Errorf("ledger refunds %+v; want one of 1000", rec.Refunds)
			}
		})
	}
}

// pausingUpdates is a ledger whose nth Update waits, before it runs, until
// resume is closed: a caller paused between two steps in the ledger.
type pausingUpdates struct {
	ledger.Ledger
	n      int
	calls  *atomic.Int64
	paused chan struct{}
	resume chan struct{}
}

func (l pausingUpdates) Update(ctx context.Context, no string, fn func(*ledger.Record, any) error) (*ledger.Record, error) {
	if l.calls.Add(1) == int64(l.n) {
		close(l.paused)
		<-l.resume
	}
	return l.Ledger.Update(ctx, no, fn)
}

// TestRefundHolderPausedBeforeItsSendSendsNothing: a refund holder paused
// between writing its attempt and its send permit, past its lease, finds on
// resuming that the attempt was closed as never sent by the caller who
// took it over, and sends nothing: the amount is free for a new refund, and
// Ping++ gets only that one.
func TestRefundHolderPausedBeforeItsSendSendsNothing(t *testing.T) {
	e := setupRefunds(t, ledgerKinds()[0], 1)
	e.order(t, "LATE1", 9900)
	e.pay(t, "LATE1", channel.Alipay)
	l := pausingUpdates{Ledger: e.ledgers[0], n: 2, calls: new(atomic.Int64), paused: make(chan struct{}), resume: make(chan struct{})}
	paused, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now}, e.store, l, e.client)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := paused.Refund(context.Background(), "LATE1", 1000, refundReq("late"))
		done <- err
	}()
	<-l.paused // the attempt is written; its send permit is not
	e.clock.Advance(pay.DefaultLockTTL + time.Second)
	if _, err := e.svcs[0].Refund(t.Context(), "LATE1", 1000, refundReq("late")); !errors.Is(err, payorder.ErrRefundRefused) {
		t.Fatalf("the same request after the holder's lease = %v, want ErrRefundRefused (never sent)", err)
	}
	close(l.resume)
	if err := <-done; !errors.Is(err, payorder.ErrRefundRefused) {
		t.Fatalf("the resumed holder = %v, want ErrRefundRefused (never sent)", err)
	}
	if got := e.emu.Stats().RefundRequests; got != 0 {
		t.Fatalf("the resumed holder sent %d refund requests, want none", got)
	}
	if att, err := e.svcs[0].Refund(t.Context(), "LATE1", 9900, refundReq("again")); err != nil || att.State != ledger.RefundSucceeded {
		t.Fatalf("a full refund afterwards = %+v, %v", att, err)
	}
	if got := e.emu.Stats().RefundRequests; got != 1 {
		t.Errorf("the emulator got %d refund requests, want 1", got)
	}
}
