package pingxx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// paidCharge creates a charge at srv and pays it.
func paidCharge(t *testing.T, c *pingxx.Client, srv *pingpptest.Server) *pingxx.Charge {
	t.Helper()
	ch, err := c.CreateCharge(context.Background(), params(channel.Alipay))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Pay(ch.ID); err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestCreateRefundAndListRefunds(t *testing.T) {
	c, srv := emulator(t)
	ctx := context.Background()
	ch := paidCharge(t, c, srv)
	rf, err := c.CreateRefund(ctx, ch.ID, &pingxx.RefundParams{Amount: 100, Description: "退一节课", Metadata: map[string]any{"request": "r1"}})
	if err != nil {
		t.Fatalf("CreateRefund: %v", err)
	}
	if rf.ChargeID != ch.ID || rf.Amount != 100 || rf.Status != "succeeded" || rf.Metadata["request"] != "r1" {
		t.Errorf("refund %+v", rf)
	}
	list, err := c.ListRefunds(ctx, ch.ID)
	if err != nil || len(list) != 1 || list[0].ID != rf.ID {
		t.Fatalf("ListRefunds = %v, %v; want [%s]", list, err, rf.ID)
	}
	t.Run("Refused", func(t *testing.T) {
		_, err := c.CreateRefund(ctx, ch.ID, &pingxx.RefundParams{Amount: 100000, Description: "too much"})
		var pe *pingxx.Error
		if !errors.As(err, &pe) || pe.HTTPStatus != 400 || errors.Is(err, pingxx.ErrOutcomeUnknown) {
			t.Errorf("err = %v; want a 400 *Error, not an unknown outcome", err)
		}
	})
	t.Run("ChannelFailure", func(t *testing.T) {
		srv.SetRefundPolicy(pingpptest.RefundPolicy{Outcome: pingpptest.RefundFails})
		rf, err := c.CreateRefund(ctx, ch.ID, &pingxx.RefundParams{Amount: 1, Description: "refused"})
		if err != nil || rf.Status != "failed" || rf.FailureCode == "" {
			t.Errorf("CreateRefund = %+v, %v; want a failed refund, no error", rf, err)
		}
		srv.SetRefundPolicy(pingpptest.RefundPolicy{})
	})
	t.Run("LostAnswerIsNotResent", func(t *testing.T) {
		before := srv.Stats().RefundRequests
		srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateRefund, Kind: pingpptest.FaultReset, After: true, Times: 1})
		_, err := c.CreateRefund(ctx, ch.ID, &pingxx.RefundParams{Amount: 1, Description: "lost"})
		if !errors.Is(err, pingxx.ErrOutcomeUnknown) {
			t.Errorf("err = %v; want ErrOutcomeUnknown", err)
		}
		if got := srv.Stats().RefundRequests - before; got != 1 {
			t.Errorf("%d refund requests reached the emulator; want 1 (no resend)", got)
		}
	})
}
