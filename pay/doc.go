// Package pay takes payment for orders through Ping++.
//
// A Service reads the host's orders through an OrderStore (one method), keeps
// what it records about paying them in its own ledger (package pay/ledger:
// in memory, PostgreSQL or MySQL), asks a Gateway (normally a
// *pingxx.Client) for charges and hands them out:
//
//	svc, err := pay.New(pay.Config{AppID: "app_…"}, orders, &ledger.Memory{}, client)
//	ch, err := svc.PayForOrder(ctx, "12134676899915430002", channel.Alipay,
//		pay.ForBuyer("15201052252"), pay.ClientIP("203.0.113.7"))
//
// Handler serves the documented endpoint PUT /pay/pay_for_order/ for mobile
// clients as a drop-in for the Django REST framework view they were built
// against: authentication through a TokenVerifier as TokenAuthentication
// does, and content negotiation, methods, body parsing and its limits, and
// the headers of every answer as DRF 3.14 on Django 3.2 decide them, checked
// against answers recorded from a real DRF app (testdata/drf). Its DRF
// messages are English, or DRF's Chinese with WithLanguage(SimplifiedChinese).
//
// While an order has a live charge for a channel and extra, that charge is
// handed out again. A new one is asked of Ping++ only under a payment
// attempt written to the ledger first and finished under its fencing token,
// so that the Services sharing a ledger hand out at most one charge per
// order, channel and extra, whatever pauses, crashes or lost answers
// happen on the way. WebhookHandler, SyncOrder and Reconcile record payments
// and run the host's fulfilment hook (OnPaid, or OnPaidTx inside the ledger
// transaction).
//
// Given an OpenTelemetry MeterProvider and TracerProvider in Config, a
// Service counts its charges, unknown outcomes, webhook events, anomalies,
// hook runs and reconciliation passes, times PayForOrder and the hooks,
// reports the ledger's open work as gauges, and traces PayForOrder, webhook
// events and hook runs (README, "Watching it"). Without them it records
// nothing and touches no global provider.
//
// Service.Refund refunds a paid order for an operator, once per refund
// request id, never beyond what was paid, across instances sharing the
// ledger; OnRefunded tells the host when a refund has succeeded.
package pay
